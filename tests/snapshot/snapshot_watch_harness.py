"""Helpers for the `snapshot watch` tests: a cluster in the stand-in API, a bare remote, a watcher thread.

The cluster is the hello-world example's (three nodes, Service default/hello-world-svc with three
pods) served as real Endpoints and EndpointSlice objects; a rollout replaces one pod at a time,
changing both objects the way the endpoint controllers do (two watch events per step).
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
HELLO = REPO_ROOT / "examples" / "hello-world"
SERVICE = ("default", "hello-world-svc")
PORT = {"name": "http", "port": 9000, "protocol": "TCP"}
FAST_DEPLOY = {"busy_backoff": 0.05, "poll_interval": 0.02}


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll `predicate` every 20 ms until it is truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def pod(ip: str, name: str, node: str) -> dict[str, Any]:
    return {"ip": ip, "nodeName": node, "targetRef": {"kind": "Pod", "name": name, "namespace": SERVICE[0]}}


@dataclass
class Cluster:
    """The pods of hello-world-svc, published to the API as one Endpoints and one EndpointSlice."""

    api: Any
    pods: list[dict[str, Any]] = field(default_factory=lambda: [
        pod("10.10.1.5", "hello-world-7d9c5b-abcde", "worker-1"),
        pod("10.10.1.6", "hello-world-7d9c5b-fghij", "worker-1"),
        pod("10.10.2.7", "hello-world-7d9c5b-klmno", "worker-2"),
    ])

    def load(self) -> None:
        nodes = [d for d in yaml.safe_load_all((HELLO / "snapshot" / "nodes.yaml").read_text()) if d]
        self.api.objects = {"Node": [], "Endpoints": [], "EndpointSlice": []}
        for node in nodes:
            self.api.objects["Node"].append({k: v for k, v in node.items() if k not in ("kind", "apiVersion")})
        self.api.objects["Endpoints"].append(self.endpoints())
        self.api.objects["EndpointSlice"].append(self.endpoint_slice())

    def endpoints(self) -> dict[str, Any]:
        return {"metadata": {"name": SERVICE[1], "namespace": SERVICE[0]},
                "subsets": [{"addresses": list(self.pods), "ports": [PORT]}] if self.pods else []}

    def endpoint_slice(self) -> dict[str, Any]:
        return {"addressType": "IPv4",
                "metadata": {"name": f"{SERVICE[1]}-x7k2p", "namespace": SERVICE[0],
                             "labels": {"kubernetes.io/service-name": SERVICE[1]}},
                "endpoints": [{"addresses": [p["ip"]], "conditions": {"ready": True}, "nodeName": p["nodeName"],
                               "targetRef": p["targetRef"]} for p in self.pods],
                "ports": [PORT]}

    def publish(self) -> int:
        """Both objects to the API (two events); returns the first event's resourceVersion."""
        first = self.api.put("EndpointSlice", self.endpoint_slice())
        self.api.put("Endpoints", self.endpoints())
        return first

    def replace(self, old_ip: str, new_ip: str, name: str) -> int:
        node = next(p["nodeName"] for p in self.pods if p["ip"] == old_ip)
        self.pods = [pod(new_ip, name, node) if p["ip"] == old_ip else p for p in self.pods]
        return self.publish()

    def ips(self) -> list[str]:
        return sorted(p["ip"] for p in self.pods)


def bare_remote(repo_path: Path, target: Path) -> Path:
    git(repo_path.parent, "clone", "-q", "--bare", str(repo_path), str(target))
    return target


def device_members(emulator: Any) -> list[str]:
    """Addresses of the hello-world Ingress pool on the emulated device (empty before any deploy)."""
    tenants = emulator.control.state()["as3"]["tenants"]
    pool = (((tenants.get("kubernetes") or {}).get("Shared") or {})
            .get("ingress_default_vs_01_hello_world_svc_80") or {})
    return sorted(a for m in pool.get("members", []) for a in m.get("serverAddresses", []))


def device_commit(emulator: Any) -> str | None:
    remark = (emulator.control.state()["as3"].get("meta") or {}).get("remark") or ""
    return remark.removeprefix("as3-gitops ") or None


class WatcherThread:
    """A Watcher running in a thread; `stop()` ends it (bounded) and re-raises what it raised."""

    def __init__(self, watcher: Any):
        self.watcher = watcher
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True, name="watcher")
        self.lines: list[str] = []

    def _run(self) -> None:
        try:
            self.watcher.run(self.stopping)
        except BaseException as err:  # re-raised in stop()
            self.error = err

    def start(self) -> WatcherThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the watcher did not stop"
        if self.error is not None:
            raise self.error
