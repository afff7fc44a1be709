"""`as3-gitops plan`: the diff device -> rendered, read-only, against the emulator."""

from __future__ import annotations

import pytest

from bigip.deploy_harness import basic_post, change_member_by_hand, deploy_args, run_cli, two_tenant_repo, writes

pytestmark = pytest.mark.usefixtures("emulator_credentials")


@pytest.fixture
def repo(bigip_emulator, make_repo):
    repo = two_tenant_repo(make_repo)
    assert run_cli(deploy_args(repo, bigip_emulator, "--ref", "HEAD")).code == 0
    bigip_emulator.control.clear_log()
    return repo


def plan(repo, emulator, *extra: str):
    return run_cli(["plan", str(repo.path), "--host", emulator.url, "--ref", "HEAD", "--exit-code", *extra])


def test_plan_without_drift_exits_0_and_writes_nothing(repo, bigip_emulator) -> None:
    run = plan(repo, bigip_emulator)
    assert run.code == 0, run.err
    assert "No changes" in run.out
    assert writes(bigip_emulator.control.state()["requestLog"]) == []


def test_plan_shows_a_pool_member_changed_on_the_device(repo, bigip_emulator) -> None:
    change_member_by_hand(bigip_emulator, repo)
    bigip_emulator.control.clear_log()
    run = plan(repo, bigip_emulator)
    assert run.code == 1, run.err
    assert run.out.startswith("as3-gitops diff (default): device -> ")
    assert "Plan: 0 to add, 1 to change, 0 to destroy.\n  tenant kubernetes: 0 to add, 1 to change" in run.out
    assert "  ~ Pool /kubernetes/Shared/ingress_default_vs_01_hello_world_svc_80\n" in run.out
    assert '      + members[10.10.1.5:9000]: {"addressDiscovery": "static", "servicePort": 9000}\n' in run.out
    assert '      - members[10.10.1.99:9000]: {"addressDiscovery": "static", "servicePort": 9000}\n' in run.out
    assert writes(bigip_emulator.control.state()["requestLog"]) == []


def test_plan_shows_an_fdb_record_changed_on_the_device(repo, bigip_emulator) -> None:
    records = [
        {"name": "6e:2b:17:0a:9c:d3", "endpoint": "192.168.1.99"},
        {"name": "ea:f9:46:be:69:41", "endpoint": "192.168.1.10"},
    ]
    reply = basic_post(bigip_emulator, "/mgmt/tm/net/fdb/tunnel/~Common~flannel_vxlan", {"records": records}, "PATCH")
    assert reply.status_code == 200, reply.text
    run = plan(repo, bigip_emulator, "--format", "json")
    assert run.code == 1, run.err
    assert "6e:2b:17:0a:9c:d3" in run.out and "192.168.1.99" in run.out
    assert "ea:f9:46:be:69:41" not in run.out  # unchanged record: `x` and `x%0` are the same endpoint


def test_plan_against_an_empty_device_shows_everything_added(bigip_emulator, make_repo) -> None:
    repo = two_tenant_repo(make_repo)
    run = run_cli(["plan", str(repo.path), "--host", bigip_emulator.url])
    assert run.code == 0, run.err
    assert "kubernetes" in run.out and "second" in run.out
    assert writes(bigip_emulator.control.state()["requestLog"]) == []
