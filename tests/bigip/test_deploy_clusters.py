"""Two clusters feeding one pool, deployed end to end against the emulator, and diffed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bigip.deploy_harness import deploy_args, run_cli, writes

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "two-clusters"
POOL = "ingress_default_vs_01_hello_world_svc_80"


pytestmark = pytest.mark.usefixtures("emulator_credentials")


def _members(emulator) -> list[tuple[str, str]]:
    pool = emulator.control.state()["as3"]["tenants"]["kubernetes"]["Shared"][POOL]
    return sorted((m["serverAddresses"][0], m["remark"]) for m in pool["members"])


def test_two_clusters_feed_one_pool_with_each_clusters_network(bigip_emulator, make_repo) -> None:
    repo = make_repo(FIXTURE)
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", "HEAD"))
    assert run.code == 0, run.err
    assert _members(bigip_emulator) == [("10.10.1.5", "cluster east"), ("10.10.1.6", "cluster east"),
                                        ("10.20.1.5", "cluster west"), ("10.20.2.9", "cluster west")]
    net = bigip_emulator.control.state()["net"]
    assert sorted(a["ipAddress"] for a in net["arps"].values()) == ["10.10.1.5", "10.10.1.6"]  # east: VXLAN
    assert [r["name"] for r in net["fdb"]["/Common/flannel_vxlan"]] == ["ea:f9:46:be:69:41"]
    assert {p: (r["network"], r["description"]) for p, r in net["routes"].items()} == {  # west: routes
        "/Common/k8s-worker-1-172.16.0.10": ("10.20.1.0/24", "as3-gitops_west"),
        "/Common/k8s-worker-2-172.16.0.11": ("10.20.2.0/24", "as3-gitops_west"),
    }

    # a pod is added in west only: one member, no ARP (west has no tunnel), no route change
    eps = repo.path / "snapshot" / "west" / "endpoints.yaml"
    eps.write_text(eps.read_text().replace("      - {ip: 10.20.2.9, nodeName: worker-2}\n",
                                           "      - {ip: 10.20.2.9, nodeName: worker-2}\n"
                                           "      - {ip: 10.20.2.10, nodeName: worker-2}\n"))
    sha = repo.commit(message="west scales up")
    diff = run_cli(["diff", str(repo.path), "--base", "HEAD~1", "--head", sha])
    assert diff.code == 0, diff.err
    assert ('+ members[10.20.2.10:9000]: {"addressDiscovery": "static", "remark": "cluster west", '
            '"servicePort": 9000}') in diff.out
    assert "snapshot-only change" in diff.out and "ARP" not in diff.out
    bigip_emulator.control.clear_log()
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert (run.code, run.out) == (0, f"deployed {sha}: tenants kubernetes, network unchanged\n")
    assert ("10.20.2.10", "cluster west") in _members(bigip_emulator)
    assert not any("/mgmt/tm/net/" in w for w in writes(bigip_emulator.control.log()))
