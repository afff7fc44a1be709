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
        options = WatchOptions(**{**OPTIONS, **overrides},
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
        wait_for(lambda: w.watcher.metrics.status()["lastDeployCommit"] == sha, what="deploy recorded")
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
