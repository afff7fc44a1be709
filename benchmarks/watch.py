"""Watch-and-sync lag: from a Kubernetes API event to the verified device state, per rollout step.

The hello-world repository (autoDeploy on) is deployed to the BIG-IP emulator; the stand-in
Kubernetes API of the test suite (tests/snapshot/snapshot_kubeapi.py, HTTPS on 127.0.0.1) serves
its Endpoints and EndpointSlice; a bare repository is the git remote. A rollout then replaces the
three pods one at a time, `steps` times. For each step the lag runs from the moment the API made
the change (its first watch event) until the watcher reports the deploy of a commit holding that
step finished (dry-run, make-before-break, apply, verify, prune, save) and the emulator's pool
holds exactly the new pods. `python -m benchmarks.watch` prints the figures; `python -m benchmarks`
includes them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STAND_INS = HERE.parent / "tests" / "snapshot"  # the stand-in API and the cluster helper live with the tests
TARGET_P95_S = 5.0
POLICY = "snapshot:\n  autoDeploy:\n    enabled: true\n    maxRemovedPercent: 50\n"
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid", "GIT_COMMITTER_NAME": "bench",
           "GIT_COMMITTER_EMAIL": "bench@example.invalid", "GIT_CONFIG_NOSYSTEM": "1"}


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


def _cli(*args: str) -> None:
    from benchmarks.measure import captured
    from renderer.cli import main

    with captured() as (_out, err):
        code = main(list(args))
    if code != 0:
        raise RuntimeError(f"as3-gitops {args[0]} exited {code}: {err.getvalue()[-2000:]}")


def _percentile(values: list[float], pct: float) -> float:
    from renderer.snapshot.metrics import percentile

    return float(percentile(sorted(values), pct) or 0.0)


def measure_watch(work: Path, steps: int = 12, debounce: float = 0.2) -> dict[str, Any]:
    """Run the rollout; lags in seconds per step, their p50/p95/max, and the watcher's own lag metric."""
    sys.path.insert(0, str(STAND_INS))
    from snapshot_kubeapi import KubeAPI
    from snapshot_watch_harness import HELLO, Cluster

    from renderer.bigip.lease import DeployOptions
    from renderer.cli.deploy import Connection, _client
    from renderer.emulator.device import Device, EmulatorConfig
    from renderer.emulator.server import EmulatorServer
    from renderer.snapshot.capture import ClusterAccess
    from renderer.snapshot.gitsync import GitSync, GitTarget
    from renderer.snapshot.stream import ClusterStream, StreamTiming
    from renderer.snapshot.watch import Watcher, WatchOptions

    repo = work / "watch-repo"
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(HELLO, repo)
    (repo / "as3-gitops.yaml").write_text((repo / "as3-gitops.yaml").read_text() + POLICY)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "hello-world, autoDeploy on")
    api = KubeAPI(work / "kube")
    api.start()
    cluster = Cluster(api)
    cluster.load()
    password = secrets.token_hex(12)  # a fresh one per run, as benchmarks/deploy.py does
    server = EmulatorServer(Device(EmulatorConfig(username="admin", password=password)), "127.0.0.1", 0, None).start()
    saved = {k: os.environ.get(k) for k in (*GIT_ENV, "BIGIP_USERNAME", "BIGIP_PASSWORD")}
    os.environ.update({**GIT_ENV, "BIGIP_USERNAME": "admin", "BIGIP_PASSWORD": password})
    stop = threading.Event()
    thread: threading.Thread | None = None
    try:
        kubeconfig = str(api.write_kubeconfig())
        _cli("snapshot", "capture", str(repo), "--kubeconfig", kubeconfig, "--commit")
        _cli("deploy", str(repo), "--ref", "HEAD", "--host", server.url, "--busy-backoff", "0.05",
             "--poll-interval", "0.02")
        remote = work / "watch-remote.git"
        shutil.rmtree(remote, ignore_errors=True)
        _git(work, "clone", "-q", "--bare", str(repo), str(remote))
        conn = Connection(server.url, "admin", password, "tmos", True, 0.05, 0.02)
        stream = ClusterStream(ClusterAccess(kubeconfig=kubeconfig), None, StreamTiming(watch_seconds=60))
        shutil.rmtree(work / "watch-checkout", ignore_errors=True)
        git = GitSync(GitTarget(str(remote), "main", "snapshot/refresh", work / "watch-checkout"))
        options = WatchOptions(debounce=debounce, max_delay=max(2.0, debounce), resync=30.0, retry_first=0.2,
                               deploy=DeployOptions(timeout=60, rollback_timeout=60))
        watcher = Watcher(stream, git, options, lambda: _client(conn, 600))
        thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
        thread.start()
        _until(lambda: watcher.metrics.status()["lastSyncResult"] == "device up to date", 60, "the first sync")
        lags = []
        for step in range(steps):
            old = cluster.pods[step % len(cluster.pods)]["ip"]
            new = f"10.10.{old.split('.')[2]}.{100 + step}"
            rv = cluster.replace(old, new, f"hello-world-bench-{step:04d}")
            event_at = api.event_times[rv]
            want = cluster.ips()
            done = _until(lambda want=want: _deployed(watcher, server, want), 60, f"step {step}")
            lags.append(done - event_at)
        status = watcher.metrics.status()
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=15)
        server.stop()
        api.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return {
        "scenario": f"hello-world (3 pods), {steps} pods replaced one at a time; debounce {debounce}s",
        "steps": steps, "debounce_s": debounce,
        "lags_s": [round(x, 3) for x in lags],
        "p50_s": round(_percentile(lags, 50), 3), "p95_s": round(_percentile(lags, 95), 3),
        "max_s": round(max(lags), 3), "target_p95_s": TARGET_P95_S,
        "watcher_lag_p95_s": status["lagP95"], "deploys": status["counters"].get("deploys", 0),
        "commits": status["counters"].get("commits", 0),
    }


def _deployed(watcher: Any, server: Any, want: list[str]) -> bool:
    """The device's pool holds `want` and the watcher's deploy of that commit returned (verified)."""
    tenants = server.device.state.as3.tenants
    pool = (((tenants.get("kubernetes") or {}).get("Shared") or {})
            .get("ingress_default_vs_01_hello_world_svc_80") or {})
    members = sorted(a for m in pool.get("members", []) for a in m.get("serverAddresses", []))
    if members != want:
        return False
    status = watcher.metrics.status()
    return status["lastDeployResult"] == "deployed" and status["lastDeployCommit"] == status["deviceCommit"] \
        and status["lastSyncResult"].startswith("deployed")


def _until(predicate: Any, timeout: float, what: str) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.01)
    raise RuntimeError(f"watch benchmark: timed out waiting for {what}")


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m benchmarks.watch", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--debounce", type=float, default=0.2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="as3-gitops-watch-bench-") as tmp:
        result = measure_watch(Path(tmp), args.steps, args.debounce)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
