"""`snapshot watch` end to end: the stand-in Kubernetes API (list + watch streams), a bare git remote,
and the BIG-IP emulator. Every test bounds its waits and stops the watcher itself."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from snapshot_watch_harness import (
    FAST_DEPLOY,
    HELLO,
    Cluster,
    WatcherThread,
    bare_remote,
    device_commit,
    device_members,
    git,
    wait_for,
)

from renderer.bigip.lease import DeployOptions
from renderer.cli import main
from renderer.snapshot.capture import ClusterAccess
from renderer.snapshot.gitsync import GitSync, GitTarget
from renderer.snapshot.stream import ClusterStream, StreamTiming
from renderer.snapshot.watch import Watcher, WatchOptions

POLICY = "snapshot:\n  autoDeploy:\n    enabled: true\n    maxRemovedPercent: 50\n"
TIMING = StreamTiming(watch_seconds=5, connect_timeout=2, backoff_first=0.1, backoff_most=0.5)
OPTIONS = dict(debounce=0.3, max_delay=2.0, resync=1.0, retry_first=0.2, retry_most=1.0, takeover_after=0.5)


class Env:
    """Repository (deployed), remote, cluster, device; `watcher()` starts one more watcher."""

    def __init__(self, tmp_path: Path, api: Any, emulator: Any | None, repo: Any):
        self.tmp, self.api, self.emulator, self.repo = tmp_path, api, emulator, repo
        self.cluster = Cluster(api)
        self.remote: Path | None = None
        self.kubeconfig = api.write_kubeconfig()
        self.running: list[WatcherThread] = []
        self.logs: list[list[str]] = []

    def connect(self):
        from renderer.cli.deploy import Connection, _client

        emu = self.emulator
        conn = Connection(emu.url, emu.username, emu.password, "tmos", True, FAST_DEPLOY["busy_backoff"],
                          FAST_DEPLOY["poll_interval"])
        return _client(conn, 600)

    def watcher(self, name: str = "w1", device: bool = True, **overrides: Any) -> WatcherThread:
        log: list[str] = []
        self.logs.append(log)
        stream = ClusterStream(ClusterAccess(kubeconfig=str(self.kubeconfig)), None, TIMING, log.append)
        target = GitTarget(str(self.remote), "main", "snapshot/refresh", self.tmp / f"checkout-{name}")
        options = WatchOptions(**{**OPTIONS, **overrides}, source=f"the Kubernetes API (watch, {name})",
                               deploy=DeployOptions(timeout=30, rollback_timeout=30))
        watcher = Watcher(stream, GitSync(target), options, self.connect if device else None, log.append)
        thread = WatcherThread(watcher).start()
        thread.lines = log
        self.running.append(thread)
        return thread

    def remote_log(self, branch: str = "main") -> list[str]:
        return git(self.remote, "log", "--format=%H %s", branch).splitlines()

    def remote_tip(self, branch: str = "main") -> str:
        return git(self.remote, "rev-parse", branch)

    def stop(self) -> None:
        for thread in self.running:
            if thread.thread.is_alive():
                thread.stop()


def _cli(*args: str) -> None:
    code = main(list(args))
    assert code == 0, args


@pytest.fixture
def env(tmp_path, kube_api, bigip_emulator, make_repo, monkeypatch):
    """hello-world with autoDeploy on: its normalized snapshot committed, deployed, pushed to a bare remote."""
    monkeypatch.setenv("BIGIP_USERNAME", bigip_emulator.username)
    monkeypatch.setenv("BIGIP_PASSWORD", bigip_emulator.password)
    repo = make_repo(HELLO)
    config = (repo.path / "as3-gitops.yaml").read_text()
    repo.commit({"as3-gitops.yaml": config + POLICY}, message="autoDeploy on")
    e = Env(tmp_path, kube_api, bigip_emulator, repo)
    e.cluster.load()
    _cli("snapshot", "capture", str(repo.path), "--kubeconfig", str(e.kubeconfig), "--commit")
    _cli("deploy", str(repo.path), "--ref", "HEAD", "--host", bigip_emulator.url, "--busy-backoff", "0.05",
         "--poll-interval", "0.02")
    e.remote = bare_remote(repo.path, tmp_path / "remote.git")
    yield e
    e.stop()


def test_a_rollout_reaches_the_device_step_by_step_and_each_device_state_is_a_pushed_commit(env) -> None:
    start_tip = env.remote_tip()
    w = env.watcher()
    wait_for(lambda: w.watcher.metrics.status()["lastSyncResult"] == "device up to date", what="first sync")
    assert env.remote_tip() == start_tip  # an unchanged cluster leaves no commit
    seen: list[tuple[str, list[str]]] = []
    steps = [("10.10.1.5", "10.10.1.15", "hello-world-5f6d7c-aaaaa"),
             ("10.10.1.6", "10.10.1.16", "hello-world-5f6d7c-bbbbb"),
             ("10.10.2.7", "10.10.2.17", "hello-world-5f6d7c-ccccc")]
    for old, new, name in steps:
        env.cluster.replace(old, new, name)
        want = env.cluster.ips()
        wait_for(lambda want=want: device_members(env.emulator) == want, what=f"device members {want}")
        sha = device_commit(env.emulator)
        seen.append((sha, want))
        wait_for(lambda sha=sha: w.watcher.metrics.status()["lastDeployCommit"] == sha, what="deploy recorded")
    w.stop()
    log = env.remote_log()
    assert [line.split(" ", 1)[1] for line in log[:3]] == [
        "snapshot: default/hello-world-svc 3 -> 3 members (1 replaced)"] * 3
    pushed = [line.split(" ", 1)[0] for line in log[:3]][::-1]
    assert [sha for sha, _ips in seen] == pushed  # every device state is a pushed commit, in order
    for sha, ips in seen:
        files = git(env.remote, "show", f"{sha}:snapshot/endpointslices.yaml")
        assert all(f"- {ip}\n" in files for ip in ips)
    assert w.watcher.metrics.status()["counters"]["deploys"] == 3
    assert env.remote_log("main")[3].split(" ", 1)[0] == start_tip


def _synced(w: WatcherThread) -> Any:
    return wait_for(lambda: w.watcher.metrics.status()["lastSyncResult"] == "device up to date", what="first sync")


@pytest.mark.parametrize("change", ["two of three pods at once", "every pod gone"])
def test_a_change_outside_the_policy_becomes_a_review_branch_not_a_deploy(env, change) -> None:
    w = env.watcher()
    _synced(w)
    before_device, before_tip = device_commit(env.emulator), env.remote_tip()
    if change == "every pod gone":
        env.cluster.pods = []
        env.cluster.publish()
        reason = "would lose all 3 members"
    else:
        env.cluster.pods[0] = {**env.cluster.pods[0], "ip": "10.10.1.25"}
        env.cluster.replace("10.10.1.6", "10.10.1.26", "hello-world-5f6d7c-ddddd")
        reason = "would lose 2 of 3 members at once (66% > maxRemovedPercent 50%)"
    wait_for(lambda: "snapshot/refresh" in git(env.remote, "branch", "--list", "snapshot/refresh"), what="branch")
    w.stop()
    assert device_commit(env.emulator) == before_device
    assert env.remote_tip() == before_tip  # main untouched
    review = env.remote_log("snapshot/refresh")
    assert review[1].split(" ", 1)[0] == before_tip  # one commit on top of main
    assert any(reason in line and "pushed" in line for line in w.lines), w.lines
    assert w.watcher.metrics.status()["counters"].get("deploys", 0) == 0


def test_without_a_device_every_settled_change_is_pushed_to_the_branch(env) -> None:
    w = env.watcher(device=False)
    wait_for(lambda: w.watcher.metrics.status()["lastSyncResult"] == "unchanged", what="first sync")
    tip = env.remote_tip()
    env.cluster.replace("10.10.2.7", "10.10.2.30", "hello-world-5f6d7c-eeeee")
    wait_for(lambda: env.remote_tip() != tip, what="a push")
    w.stop()
    assert env.remote_log()[0].split(" ", 1)[1] == "snapshot: default/hello-world-svc 3 -> 3 members (1 replaced)"
    body = git(env.remote, "log", "-1", "--format=%b")
    assert "default/hello-world-svc 3 -> 3 members (1 replaced)\n" in body
    assert "~ EndpointSlice default/hello-world-svc-x7k2p" in body
    assert device_commit(env.emulator) != env.remote_tip()


def test_api_server_unreachable_keeps_the_last_state_then_resumes_from_a_fresh_list(env) -> None:
    w = env.watcher()
    _synced(w)
    relists = w.watcher.stream.store.relists
    env.api.stop()
    wait_for(lambda: not w.watcher.metrics.ready(), what="not ready while the API is down")
    time.sleep(0.5)
    assert device_members(env.emulator) == env.cluster.ips()  # the last good state stays deployed
    env.cluster.replace("10.10.1.5", "10.10.1.40", "hello-world-5f6d7c-fffff")  # missed while down
    env.api.start()
    wait_for(lambda: device_members(env.emulator) == env.cluster.ips(), what="the missed change deployed")
    w.stop()
    assert w.watcher.stream.store.relists >= relists + 3
    assert any("cannot reach the Kubernetes API" in line for line in w.lines)


def test_an_expired_resource_version_410_lists_again(env) -> None:
    w = env.watcher()
    _synced(w)
    env.api.compact()  # open watches end; resuming from their version gets ERROR 410
    env.cluster.replace("10.10.1.6", "10.10.1.41", "hello-world-5f6d7c-ggggg")
    wait_for(lambda: device_members(env.emulator) == env.cluster.ips(), what="deployed after 410")
    w.stop()
    assert any("410 Gone" in line for line in w.lines), w.lines


def test_a_watch_answered_with_http_410_lists_again_without_an_error(env) -> None:
    from snapshot_kubeapi import status_body

    w = env.watcher()
    _synced(w)
    lists = sum(1 for p, q, _a in env.api.requests if p == "/api/v1/endpoints" and "watch" not in q)
    env.api.watch_failures["/api/v1/endpoints"] = [(410, status_body(410, "Expired", "too old resource version"))]
    env.api.drop_watches()  # the reconnect meets the 410
    env.cluster.replace("10.10.2.7", "10.10.2.42", "hello-world-5f6d7c-rrrrr")
    wait_for(lambda: device_members(env.emulator) == env.cluster.ips(), what="deployed")
    w.stop()
    assert any("HTTP 410 Gone" in line for line in w.lines), w.lines
    assert sum(1 for p, q, _a in env.api.requests if p == "/api/v1/endpoints" and "watch" not in q) > lists


def test_a_watch_refused_403_says_which_permission_and_recovers(env) -> None:
    from snapshot_kubeapi import status_body

    w = env.watcher()
    _synced(w)
    env.api.watch_failures["/api/v1/nodes"] = [(403, status_body(403, "Forbidden", "nodes is forbidden"))]
    env.api.drop_watches()
    wait_for(lambda: any("403" in line for line in w.lines), what="the 403 logged")
    env.cluster.replace("10.10.1.5", "10.10.1.43", "hello-world-5f6d7c-sssss")
    wait_for(lambda: device_members(env.emulator) == env.cluster.ips(), what="deployed after the 403")
    w.stop()
    line = next(line for line in w.lines if "403" in line)
    assert "/api/v1/nodes: 403 Forbidden (the account needs get, list and watch on nodes" in line


def test_git_remote_unreachable_nothing_is_deployed_and_unpushed_steps_squash_into_one_commit(env) -> None:
    w = env.watcher()
    _synced(w)
    tip, device = env.remote_tip(), device_commit(env.emulator)
    hidden = env.remote.with_name("remote-away.git")
    env.remote.rename(hidden)
    env.cluster.replace("10.10.1.5", "10.10.1.50", "hello-world-5f6d7c-hhhhh")
    wait_for(lambda: w.watcher.metrics.status()["counters"].get("sync_errors", 0) >= 1, what="a failed push")
    env.cluster.replace("10.10.1.50", "10.10.1.51", "hello-world-5f6d7c-iiiii")  # the new pod moved again
    wait_for(lambda: w.watcher.metrics.status()["counters"].get("sync_errors", 0) >= 2, what="another failure")
    assert device_commit(env.emulator) == device  # never deploys a commit the remote does not have
    assert not w.watcher.metrics.ready()
    hidden.rename(env.remote)
    wait_for(lambda: device_members(env.emulator) == env.cluster.ips(), timeout=30, what="deployed after git")
    w.stop()
    log = env.remote_log()
    assert log[1].split(" ", 1)[0] == tip  # one commit for both steps
    assert log[0].split(" ", 1)[1] == "snapshot: default/hello-world-svc 3 -> 3 members (1 replaced)"
    assert device_commit(env.emulator) == env.remote_tip()


def test_a_failing_big_ip_is_rolled_back_and_the_deploy_retried_later(env) -> None:
    w = env.watcher()
    _synced(w)
    before = device_commit(env.emulator)
    env.emulator.control.faults([{"kind": "transaction-fail", "times": 1}])
    env.cluster.replace("10.10.2.7", "10.10.2.60", "hello-world-5f6d7c-jjjjj")
    wait_for(lambda: device_members(env.emulator) == env.cluster.ips(), timeout=30, what="deployed on retry")
    w.stop()
    status = w.watcher.metrics.status()
    assert status["counters"]["deploy_failures"] == 1
    assert status["lastDeployResult"] == "deployed"
    assert any("rolled back" in line for line in w.lines), w.lines
    assert device_commit(env.emulator) == env.remote_tip() != before


def test_two_watchers_resolve_to_one_commit_per_change(env) -> None:
    w1, w2 = env.watcher("w1", takeover_after=30), env.watcher("w2", takeover_after=30)
    _synced(w1)
    _synced(w2)
    tip = env.remote_tip()
    env.cluster.replace("10.10.1.6", "10.10.1.70", "hello-world-5f6d7c-kkkkk")
    wait_for(lambda: device_members(env.emulator) == env.cluster.ips(), what="deployed")
    time.sleep(1.5)  # let the other watcher finish its cycle too
    w1.stop()
    w2.stop()
    log = env.remote_log()
    assert log[1].split(" ", 1)[0] == tip  # exactly one new commit
    assert device_commit(env.emulator) == env.remote_tip()
    counters = [t.watcher.metrics.status()["counters"] for t in (w1, w2)]
    assert sum(c.get("pushes", 0) for c in counters) == 1
    assert sum(c.get("deploys", 0) for c in counters) == 1  # only the push winner deploys
    loser = counters[0] if counters[0].get("pushes", 0) == 0 else counters[1]
    assert loser.get("commits", 0) <= 1  # it found the snapshot already pushed, or lost the race and recomputed


def test_a_tip_another_watcher_pushed_but_never_deployed_is_taken_over(env) -> None:
    pusher = env.watcher("pusher", device=False)  # pushes, then "dies" before any deploy
    wait_for(lambda: pusher.watcher.metrics.status()["lastSyncResult"] == "unchanged", what="first sync")
    env.cluster.replace("10.10.1.6", "10.10.1.77", "hello-world-5f6d7c-ooooo")
    wait_for(lambda: pusher.watcher.metrics.status()["counters"].get("pushes") == 1, what="the push")
    pusher.stop()
    tip = env.remote_tip()
    w = env.watcher("w", takeover_after=1.0)
    wait_for(lambda: device_commit(env.emulator) == tip, what="the takeover deploy")
    w.stop()
    assert any("pushed by another watcher" in line for line in w.lines), w.lines
    assert w.watcher.metrics.status()["counters"].get("commits", 0) == 0  # it deployed the tip as it was


def test_node_heartbeats_and_unrelated_fields_do_not_start_a_sync(env) -> None:
    w = env.watcher(resync=60)
    _synced(w)
    syncs = w.watcher.metrics.status()["counters"]["syncs"]
    events = w.watcher.stream.store.events
    for i in range(3):
        node = env.api.find("Node", None, "worker-1")
        node.setdefault("status", {})["conditions"] = [{"type": "Ready", "status": "True",
                                                         "lastHeartbeatTime": f"2026-12-01T10:00:0{i}Z"}]
        node["metadata"]["uid"] = f"uid-{i}"
        env.api.put("Node", node)
    wait_for(lambda: len(env.api.events) >= 3, what="events")
    time.sleep(1.0)
    assert w.watcher.metrics.status()["counters"]["syncs"] == syncs
    assert w.watcher.stream.store.events == events  # the normalized objects did not change
    node = env.api.find("Node", None, "worker-2")  # a real change: a new node (one more FDB record)
    node["metadata"]["name"] = "worker-3"
    node["metadata"]["annotations"]["flannel.alpha.coreos.com/public-ip"] = "192.168.1.12"
    node["metadata"]["annotations"]["flannel.alpha.coreos.com/backend-data"] = '{"VtepMAC":"6e:2b:17:0a:9c:d4"}'
    node["spec"] = {"podCIDR": "10.10.3.0/24", "podCIDRs": ["10.10.3.0/24"]}
    node["status"]["addresses"] = [{"type": "InternalIP", "address": "192.168.1.12"}]
    env.api.put("Node", node)
    wait_for(lambda: w.watcher.metrics.status()["lastSyncResult"].startswith("deployed"), what="node deployed")
    w.stop()
    assert env.remote_log()[0].split(" ", 1)[1] == "snapshot: +1 node"
    fdb = env.emulator.control.state()["net"]["fdb"]["/Common/flannel_vxlan"]
    assert "6e:2b:17:0a:9c:d4" in {r["name"] for r in fdb}


def test_a_restarted_watcher_resumes_from_a_fresh_list(env) -> None:
    w1 = env.watcher("w1")
    _synced(w1)
    w1.stop()
    env.cluster.replace("10.10.2.7", "10.10.2.80", "hello-world-5f6d7c-lllll")  # while no watcher runs
    w2 = env.watcher("w1")  # the same workdir: a pod restart with a persistent volume
    wait_for(lambda: device_members(env.emulator) == env.cluster.ips(), what="deployed after restart")
    w2.stop()
    assert device_commit(env.emulator) == env.remote_tip()


def test_health_endpoint_reports_readiness_liveness_and_metrics(env) -> None:
    import requests

    from renderer.snapshot.health import HealthServer

    w = env.watcher()
    server = HealthServer(w.watcher.metrics, ("127.0.0.1", 0)).start()
    try:
        _synced(w)
        env.cluster.replace("10.10.1.5", "10.10.1.90", "hello-world-5f6d7c-mmmmm")
        wait_for(lambda: w.watcher.metrics.status()["lastDeployResult"] == "deployed", what="deployed")
        ready = requests.get(f"{server.url}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["ok"] is True
        assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
        metrics = requests.get(f"{server.url}/metrics", timeout=5).text
        assert 'as3gitops_watch_last_deploy_result{result="deployed"} 1.0' in metrics
        for name in ("last_sync_timestamp_seconds", "lag_seconds", "lag_p95_seconds", "deploys_total",
                     "events_total"):
            assert f"as3gitops_watch_{name} " in metrics, name
        lag = float(next(ln.split()[1] for ln in metrics.splitlines() if ln.startswith("as3gitops_watch_lag_seconds")))
        assert 0 < lag < 10
        env.api.stop()
        down = wait_for(lambda: (r := requests.get(f"{server.url}/readyz", timeout=5)).status_code == 503
                        and r.json(), what="readyz 503 while the API is down")
        assert down["ok"] is False and down["listed"] is False
        assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200  # alive, just not ready
        env.api.start()
        wait_for(lambda: requests.get(f"{server.url}/readyz", timeout=5).status_code == 200, what="ready again")
        assert requests.get(f"{server.url}/nope", timeout=5).status_code == 404
    finally:
        server.stop()
        w.stop()


def test_a_deploy_never_goes_backwards_over_a_newer_commit_on_the_device(env) -> None:
    from renderer.snapshot import watch as watch_module

    w = env.watcher()
    _synced(w)
    env.cluster.replace("10.10.1.5", "10.10.1.91", "hello-world-5f6d7c-ppppp")
    wait_for(lambda: device_members(env.emulator) == env.cluster.ips(), what="first step")
    older = device_commit(env.emulator)
    env.cluster.replace("10.10.1.6", "10.10.1.92", "hello-world-5f6d7c-qqqqq")
    wait_for(lambda: device_members(env.emulator) == env.cluster.ips(), what="second step")
    newer = device_commit(env.emulator)
    w.stop()
    assert older != newer
    with pytest.raises(watch_module._Pending):  # e.g. it waited for the device lock while another deployed
        w.watcher._deploy(older)
    assert device_commit(env.emulator) == newer
    assert any(f"not deploying {older[:12]}: the device moved on to {newer[:12]}" in line for line in w.lines)
