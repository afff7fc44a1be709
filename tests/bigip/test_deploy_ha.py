"""Deploy to an HA pair end to end: two emulated devices in a device group (or not syncing).

The promises: AS3 goes once to the active device (syncToGroup) or to each device (as3: each), the
network to every device, make-before-break on every device, a failure on one device rolls both
back, the group is left In Sync (never "Changes Pending"), a group out of sync is refused (exit 3)
unless --force, and a failover between two deploys moves the AS3 target to the new active device.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bigip.deploy_harness import FAST, config_view, move_pod, run_cli, writes

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "ha-pair"
APPLY = "POST /mgmt/shared/appsvcs/declare/kubernetes?async=true"


@pytest.fixture
def pair(bigip_pair, monkeypatch: pytest.MonkeyPatch):
    devices = bigip_pair()
    first = next(iter(devices.values()))
    monkeypatch.setenv("BIGIP_USERNAME", first.username)
    monkeypatch.setenv("BIGIP_PASSWORD", first.password)
    return devices


def _repo(make_repo, pair, sync: str = "configSync: {deviceGroup: failover-group, as3: sync}"):
    repo = make_repo(FIXTURE)
    cfg = repo.path / "as3-gitops.yaml"
    text = cfg.read_text().replace("https://10.0.0.1", pair["bigip-a"].url).replace("https://10.0.0.2",
                                                                                    pair["bigip-b"].url)
    cfg.write_text(text.replace("configSync: {deviceGroup: failover-group, as3: sync}", sync))
    repo.sha = repo.commit(message="point at the emulated pair")
    return repo


def _deploy(repo, *extra: str, hooks=None):
    return run_cli(["--debug", "deploy", str(repo.path), *FAST, *extra], hooks)


def _log(handle) -> list[str]:
    return writes(handle.control.log())


def _arps(handle) -> list[str]:
    return sorted(a["ipAddress"] for a in handle.control.state()["net"]["arps"].values())


def _views(pair) -> dict[str, bytes]:
    return {name: config_view(h.control.state()) for name, h in pair.items()}


def test_pair_with_config_sync_gets_as3_once_and_the_network_on_both(pair, make_repo) -> None:
    repo = _repo(make_repo, pair)
    run = _deploy(repo, "--ref", "HEAD", "--report", str(repo.path.parent / "r.json"))
    assert run.code == 0, run.err
    sha = repo.sha
    assert run.out == f"deployed {sha} to bigip-a active, bigip-b standby: tenants kubernetes, network changed\n"
    a, b = pair["bigip-a"], pair["bigip-b"]
    # AS3 once, on the active device (apply, then the persisting post); the standby only gets the
    # persisting post, which finds the synced configuration unchanged ("no change")
    assert (sum(w == APPLY for w in _log(a)), sum(w == APPLY for w in _log(b))) == (2, 1)
    assert "dry-run (bigip-b)" not in run.err and "apply (bigip-b)" not in run.err
    assert b.control.state()["as3"]["tenants"] == a.control.state()["as3"]["tenants"]  # synced
    assert (a.control.state()["saveCount"], b.control.state()["saveCount"]) == (1, 1)
    for name, local, self_ip in (("bigip-a", "192.168.1.254", "10.10.30.15/16"),
                                 ("bigip-b", "192.168.1.253", "10.10.31.15/16")):
        net = pair[name].control.state()["net"]
        assert net["tunnels"]["/Common/flannel_vxlan"]["localAddress"] == local
        assert net["selfs"]["/Common/flannel_vxlan_self"]["address"] == self_ip
        assert net["selfs"]["/Common/flannel_vxlan_floating"]["trafficGroup"] == "/Common/traffic-group-1"
        assert _arps(pair[name]) == ["10.10.1.5", "10.10.1.6", "10.10.2.7"]
    ha = a.control.ha()
    assert (ha["status"], ha["syncs"][-1]) == ("In Sync", "bigip-a")  # never left Changes Pending
    report = json.loads((repo.path.parent / "r.json").read_text())
    assert report["outcome"] == "deployed" and [s["name"] for s in report["steps"]][-1] == "sync"
    again = _deploy(repo, "--ref", "HEAD")
    assert (again.code, again.out) == (0, f"no change: the devices already run {sha} (bigip-a active, "
                                          "bigip-b standby)\n")


def test_a_device_failing_in_the_middle_rolls_both_back(pair, make_repo) -> None:
    repo = _repo(make_repo, pair)
    assert _deploy(repo, "--ref", "HEAD").code == 0
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    before = _views(pair)
    a, b = pair["bigip-a"], pair["bigip-b"]
    fault = [{"kind": "transaction-fail", "response": "01070734:3: Configuration error: injected"}]
    report = repo.path.parent / "failed.json"
    run = _deploy(repo, "--ref", sha, "--report", str(report),
                  hooks={"network prune (bigip-b)": lambda: b.control.faults(fault)})
    assert run.code == 3, run.err
    assert "rolled back" not in run.out and "restored" in run.err
    data = json.loads(report.read_text())
    assert data["outcome"] == "rolled back" and "injected" in data["failures"][0]
    assert data["restored"] == ["bigip-a: tenants kubernetes", "bigip-a: network", "bigip-b: network"]
    assert _views(pair) == before  # both devices exactly as before, AS3 and network
    assert APPLY in _log(a) and "10.10.2.8" not in json.dumps(b.control.state()["as3"]["tenants"])
    assert a.control.ha()["status"] == "In Sync"


def test_a_group_out_of_sync_is_refused_unless_forced(pair, make_repo) -> None:
    repo = _repo(make_repo, pair)
    pair["bigip-b"].control.mark_pending()  # someone changed the standby by hand
    run = _deploy(repo, "--ref", "HEAD")
    assert run.code == 3 and "is 'Changes Pending', not In Sync" in run.err
    assert all(not [w for w in _log(h) if "appsvcs" in w or "/net/" in w] for h in pair.values())
    forced = _deploy(repo, "--ref", "HEAD", "--force")
    assert forced.code == 0, forced.err
    assert pair["bigip-a"].control.ha()["status"] == "In Sync"


def test_failover_between_two_deploys_moves_as3_to_the_new_active_device(pair, make_repo) -> None:
    repo = _repo(make_repo, pair)
    assert _deploy(repo, "--ref", "HEAD").code == 0
    a, b = pair["bigip-a"], pair["bigip-b"]
    a.control.failover("bigip-b")
    a.control.clear_log()
    b.control.clear_log()
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    run = _deploy(repo, "--ref", sha)
    assert run.code == 0, run.err
    assert run.out.startswith(f"deployed {sha} to bigip-a standby, bigip-b active")
    dry = "POST /mgmt/shared/appsvcs/declare/kubernetes"  # the dry-run (synchronous)
    assert (_log(b).count(dry), _log(a).count(dry)) == (1, 0)
    assert (_log(b).count(APPLY), _log(a).count(APPLY)) == (2, 1)  # a: only the persisting post
    assert _arps(a) == _arps(b) == ["10.10.1.5", "10.10.1.6", "10.10.2.8"]
    assert a.control.state()["as3"]["tenants"] == b.control.state()["as3"]["tenants"]
    assert b.control.ha()["syncs"][-1] == "bigip-b"


def test_pair_without_sync_gets_as3_on_each_device(bigip_pair, make_repo, monkeypatch) -> None:
    pair = bigip_pair(group=None)
    first = pair["bigip-a"]
    monkeypatch.setenv("BIGIP_USERNAME", first.username)
    monkeypatch.setenv("BIGIP_PASSWORD", first.password)
    repo = _repo(make_repo, pair, "configSync: {as3: each}")
    run = _deploy(repo, "--ref", "HEAD")
    assert run.code == 0, run.err
    for handle in pair.values():
        assert APPLY in _log(handle)
        assert not any("/mgmt/tm/cm" in w for w in _log(handle))
        assert _arps(handle) == ["10.10.1.5", "10.10.1.6", "10.10.2.7"]
    assert pair["bigip-a"].control.state()["as3"]["tenants"] == pair["bigip-b"].control.state()["as3"]["tenants"]
    # a failure on the second device rolls the first back too
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    before = _views(pair)
    fault = [{"kind": "tenant-fail", "tenant": "kubernetes", "response": "01070734:3: bad pool"}]
    run = _deploy(repo, "--ref", sha, hooks={"apply (bigip-b)": lambda: pair["bigip-b"].control.faults(fault)})
    assert run.code == 3, run.err
    assert _views(pair) == before


def test_plan_shows_each_devices_network(pair, make_repo) -> None:
    repo = _repo(make_repo, pair)
    assert _deploy(repo, "--ref", "HEAD").code == 0
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    run = run_cli(["plan", str(repo.path), "--ref", sha, "--exit-code"])
    assert run.code == 1, run.err
    assert "ARPs (bigip-a)" in run.out and "ARPs (bigip-b)" in run.out
    assert "+ members[10.10.2.8:9000]" in run.out
    assert run_cli(["plan", str(repo.path), "--ref", sha, "--host", "http://127.0.0.1:1"]).code == 2


def test_a_restore_that_fails_too_exits_4_and_names_the_device(pair, make_repo) -> None:
    repo = _repo(make_repo, pair)
    assert _deploy(repo, "--ref", "HEAD").code == 0
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    b = pair["bigip-b"]
    faults = [{"kind": "transaction-fail", "response": "01070734:3: Configuration error: injected"},
              {"kind": "http-500", "path": "/mgmt/tm/transaction", "times": 50}]
    run = _deploy(repo, "--ref", sha, "--rollback-timeout", "5",
                  hooks={"network prune (bigip-b)": lambda: b.control.faults(faults)})
    assert run.code == 4, run.err
    assert "bigip-b: /net/arps/10.10.2.8" in run.err  # b still has the union: the new pod's ARP
    b.control.clear_faults()


def test_dry_run_writes_nothing_and_leaves_the_group_in_sync(pair, make_repo) -> None:
    repo = _repo(make_repo, pair)
    before = _views(pair)
    run = _deploy(repo, "--ref", "HEAD", "--dry-run")
    assert run.code == 0, run.err
    assert run.out.startswith(f"dry-run passed for {repo.sha} on bigip-a active, bigip-b standby: tenants kubernetes")
    assert _views(pair) == before
    ha = pair["bigip-a"].control.ha()
    assert (ha["status"], ha["syncs"]) == ("In Sync", ["bigip-a"])  # the dry-run's Changes Pending was cleared


DG = "/mgmt/tm/ltm/data-group/internal"


def _raw(handle) -> list[str]:
    """Every request, bookkeeping (lock, journal) included."""
    return [f"{e['method']} {e['path']}" for e in handle.control.log()]


def test_a_synced_pair_is_locked_and_journaled_on_the_active_device_and_left_clean(pair, make_repo) -> None:
    repo = _repo(make_repo, pair)
    run = _deploy(repo, "--ref", "HEAD")
    assert run.code == 0, run.err
    a, b = pair["bigip-a"], pair["bigip-b"]
    assert f"POST {DG}" in _raw(a) and not any(DG in w for w in _raw(b))  # lock + journal on the active only
    assert a.control.state()["ltm"]["dataGroups"] == b.control.state()["ltm"]["dataGroups"] == {}
    assert a.control.ha()["status"] == "In Sync"  # released before the last sync: nothing pending


def test_a_deploy_holding_the_pair_makes_the_next_one_wait_and_give_up_naming_it(pair, make_repo) -> None:
    import time

    from renderer.bigip.devlock import LOCK, Holder, iso

    repo = _repo(make_repo, pair)
    a = pair["bigip-a"]
    now = time.time()
    holder = Holder("ci@runner-7 pid 4242", "deploy abc123", iso(now), "feedface00000000", now + 600)
    a.control.seed({"ltm": {"dataGroups": {LOCK: {k: v for k, v in holder.body().items()
                                                  if k not in ("name", "partition")}}}})
    a.control.mark_pending()  # what that deploy's lock does to the group
    run = _deploy(repo, "--ref", "HEAD", "--lock-timeout", "0.2")
    assert run.code == 3, run.err
    assert "locked by another deploy: ci@runner-7 pid 4242" in run.err
    assert not any("appsvcs/declare" in w or "/net/" in w for h in pair.values() for w in _log(h))


def test_without_sync_every_device_is_locked(bigip_pair, make_repo, monkeypatch) -> None:
    pair = bigip_pair(group=None)
    monkeypatch.setenv("BIGIP_USERNAME", pair["bigip-a"].username)
    monkeypatch.setenv("BIGIP_PASSWORD", pair["bigip-a"].password)
    repo = _repo(make_repo, pair, "configSync: {as3: each}")
    assert _deploy(repo, "--ref", "HEAD").code == 0
    for handle in pair.values():
        assert f"POST {DG}" in _raw(handle) and handle.control.state()["ltm"]["dataGroups"] == {}
