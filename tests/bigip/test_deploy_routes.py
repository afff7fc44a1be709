"""Static-route mode deployed end to end against the emulator: routes made before pools move to
them, pruned after; a node added, a node removed, pods moved; a failed apply restores the routes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bigip.deploy_harness import config_view, deploy_args, run_cli, writes
from renderer.render import render

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "static-routes"
ROUTE = "/mgmt/tm/net/route"
APPLY = "POST /mgmt/shared/appsvcs/declare/kubernetes"
NODE3 = """---
apiVersion: v1
kind: Node
metadata: {name: worker-3}
spec: {podCIDR: 10.10.3.0/24}
status:
  addresses: [{type: InternalIP, address: 192.168.1.12}]
  conditions: [{type: Ready, status: "True"}]
"""


pytestmark = pytest.mark.usefixtures("emulator_credentials")


def device_routes(emulator) -> dict[str, tuple[str, str, str]]:
    return {path: (r["network"], r["gw"], r["description"])
            for path, r in emulator.control.state()["net"]["routes"].items()}


def rendered_routes(repo, ref: str) -> dict[str, tuple[str, str, str]]:
    net = render(repo.path, ref).net
    part = net["routes"]["partition"]
    return {f"/{part}/{r['name']}": (r["network"], r["gw"], r["description"]) for r in net["routes"]["records"]}


def deployed(emulator, make_repo):
    repo = make_repo(FIXTURE)
    run = run_cli(deploy_args(repo, emulator, "--ref", "HEAD"))
    assert run.code == 0, run.err
    emulator.control.clear_log()
    return repo


def _apply_index(log: list[str]) -> int:
    """The apply post (the first asynchronous one; a later one only saves the configuration)."""
    applies = [i for i, w in enumerate(log) if w.startswith(APPLY) and "async" in w]
    assert applies, log
    return applies[0]


def test_first_deploy_creates_routes_and_no_tunnel(bigip_emulator, make_repo) -> None:
    repo = make_repo(FIXTURE)
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", "HEAD"))
    assert run.code == 0, run.err
    assert device_routes(bigip_emulator) == {
        "/Common/k8s-worker-1-192.168.1.10": ("10.10.1.0/24", "192.168.1.10", "as3-gitops"),
        "/Common/k8s-worker-2-192.168.1.11": ("10.10.2.0/24", "192.168.1.11", "as3-gitops"),
    }
    net = bigip_emulator.control.state()["net"]
    assert net["selfs"] == {} and net["arps"] == {} and "/Common/flannel_vxlan" not in net["tunnels"]
    log = [f"{e['method']} {e['path']}" for e in bigip_emulator.control.log()]
    route_posts = [i for i, w in enumerate(log) if w == f"POST {ROUTE}"]
    assert len(route_posts) == 2 and max(route_posts) < _apply_index(log)  # routes before pools exist


def test_node_added_gets_its_route_before_pools_move_to_it(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    nodes = repo.path / "snapshot" / "nodes.yaml"
    nodes.write_text(nodes.read_text() + NODE3)
    eps = repo.path / "snapshot" / "endpoints.yaml"
    eps.write_text(eps.read_text().replace("{ip: 10.10.2.7, nodeName: worker-2}", "{ip: 10.10.3.9, nodeName: worker-3}"))
    sha = repo.commit(message="worker-3 joins, a pod moves to it")
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert run.code == 0, run.err
    assert device_routes(bigip_emulator) == rendered_routes(repo, sha)
    log = writes(bigip_emulator.control.log())
    added = log.index(f"POST {ROUTE}")
    assert added < _apply_index(log)
    assert not any(w.startswith(f"DELETE {ROUTE}") for w in log)
    members = bigip_emulator.control.state()["as3"]["tenants"]["kubernetes"]["Shared"][
        "ingress_default_vs_01_hello_world_svc_80"]["members"]
    assert sorted(m["serverAddresses"][0] for m in members) == ["10.10.1.5", "10.10.1.6", "10.10.3.9"]


def test_node_removed_loses_its_route_only_after_the_pools_left_it(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    nodes = repo.path / "snapshot" / "nodes.yaml"
    nodes.write_text(nodes.read_text().split("---\n")[0])
    eps = repo.path / "snapshot" / "endpoints.yaml"
    eps.write_text(eps.read_text().replace("{ip: 10.10.2.7, nodeName: worker-2}", "{ip: 10.10.1.7, nodeName: worker-1}"))
    sha = repo.commit(message="worker-2 drained and removed")
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert run.code == 0, run.err
    assert device_routes(bigip_emulator) == {
        "/Common/k8s-worker-1-192.168.1.10": ("10.10.1.0/24", "192.168.1.10", "as3-gitops")}
    log = writes(bigip_emulator.control.log())
    deleted = log.index(f"DELETE {ROUTE}/~Common~k8s-worker-2-192.168.1.11")
    assert deleted > _apply_index(log)


def test_pods_moving_between_nodes_touch_no_route(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    eps = repo.path / "snapshot" / "endpoints.yaml"
    eps.write_text(eps.read_text().replace("{ip: 10.10.1.6, nodeName: worker-1}", "{ip: 10.10.2.8, nodeName: worker-2}"))
    sha = repo.commit(message="a pod moves")
    before = device_routes(bigip_emulator)
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert (run.code, run.out) == (0, f"deployed {sha}: tenants kubernetes, network unchanged\n")
    assert device_routes(bigip_emulator) == before
    assert not any(ROUTE in w for w in writes(bigip_emulator.control.log()))


def test_failed_apply_removes_the_new_route_again(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    nodes = repo.path / "snapshot" / "nodes.yaml"
    nodes.write_text(nodes.read_text() + NODE3)
    sha = repo.commit(message="worker-3 joins")
    before = config_view(bigip_emulator.control.state())
    fault = [{"kind": "tenant-fail", "tenant": "kubernetes", "response": "01070734:3: bad"}]
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha), {"apply": lambda: bigip_emulator.control.faults(fault)})
    assert run.code == 3, run.err
    assert config_view(bigip_emulator.control.state()) == before
    log = writes(bigip_emulator.control.log())
    assert f"POST {ROUTE}" in log and f"DELETE {ROUTE}/~Common~k8s-worker-3-192.168.1.12" in log


def test_plan_shows_a_route_drift(bigip_emulator, make_repo) -> None:
    repo = deployed(bigip_emulator, make_repo)
    import requests

    reply = requests.delete(bigip_emulator.url + f"{ROUTE}/~Common~k8s-worker-2-192.168.1.11",
                            auth=(bigip_emulator.username, bigip_emulator.password), timeout=30)
    assert reply.status_code == 200
    run = run_cli(["plan", str(repo.path), "--host", bigip_emulator.url, "--ref", "HEAD", "--exit-code"])
    assert run.code == 1, run.err
    assert "+ Route k8s-worker-2-192.168.1.11" in run.out
