"""What `snapshot watch` exposes: state for the probes, counters and timings for Prometheus.

One object, updated by the watch loop under a lock, read by the health server's threads. The
text format is Prometheus' plain exposition format (no client library needed to scrape it).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

LAGS_KEPT = 256  # recent lags, for the p50/p95 the health endpoint reports


@dataclass
class Metrics:
    started: float = field(default_factory=time.time)
    heartbeat: float = field(default_factory=time.monotonic)  # the loop's last tick
    busy_until: float = 0.0  # monotonic deadline of a cycle in progress (a deploy may take minutes)
    listed: bool = False  # every watch listed once and none is failing
    git_ok: bool = False  # the last fetch/push reached the remote
    last_sync: float | None = None  # wall time of the last completed cycle
    last_sync_result: str = "none"
    last_commit: str | None = None
    last_deploy: float | None = None
    last_deploy_result: str = "none"
    last_deploy_commit: str | None = None
    device_commit: str | None = None
    last_lag: float | None = None
    lags: list[float] = field(default_factory=list)
    last_error: str | None = None
    counters: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, **values: Any) -> None:
        with self._lock:
            for key, value in values.items():
                setattr(self, key, value)

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + n

    def set_count(self, **values: int) -> None:
        with self._lock:
            self.counters.update(values)

    def lag(self, seconds: float) -> None:
        with self._lock:
            self.last_lag = seconds
            self.lags = [*self.lags[-(LAGS_KEPT - 1):], seconds]

    def live(self, window: float = 60.0) -> bool:
        now = time.monotonic()
        with self._lock:
            return now - self.heartbeat < window or now < self.busy_until

    def ready(self) -> bool:
        with self._lock:
            return self.listed and self.git_ok

    def status(self) -> dict[str, Any]:
        with self._lock:
            lags = sorted(self.lags)
            return {
                "listed": self.listed, "git": self.git_ok, "lastSync": self.last_sync,
                "lastSyncResult": self.last_sync_result, "lastCommit": self.last_commit,
                "lastDeploy": self.last_deploy, "lastDeployResult": self.last_deploy_result,
                "lastDeployCommit": self.last_deploy_commit, "deviceCommit": self.device_commit,
                "lagSeconds": self.last_lag, "lagP50": percentile(lags, 50), "lagP95": percentile(lags, 95),
                "lastError": self.last_error, "counters": dict(sorted(self.counters.items())),
            }

    def prometheus(self) -> str:
        s = self.status()
        lines = []

        def gauge(name: str, value: float | None, help_: str, labels: str = "") -> None:
            lines.append(f"# HELP as3gitops_watch_{name} {help_}")
            lines.append(f"# TYPE as3gitops_watch_{name} gauge")
            lines.append(f"as3gitops_watch_{name}{labels} {'NaN' if value is None else repr(float(value))}")

        gauge("ready", 1 if s["listed"] and s["git"] else 0, "1 when every watch is listed and git is reachable")
        gauge("last_sync_timestamp_seconds", s["lastSync"], "wall time of the last completed sync")
        gauge("last_deploy_timestamp_seconds", s["lastDeploy"], "wall time of the last deploy attempt")
        gauge("last_deploy_result", 1, "the last deploy's outcome (label)", f'{{result="{s["lastDeployResult"]}"}}')
        gauge("lag_seconds", s["lagSeconds"], "first API event to verified device state (or push), last sync")
        gauge("lag_p95_seconds", s["lagP95"], f"95th percentile of the last {LAGS_KEPT} lags")
        for name, value in s["counters"].items():
            lines.append(f"# TYPE as3gitops_watch_{name}_total counter")
            lines.append(f"as3gitops_watch_{name}_total {value}")
        return "\n".join(lines) + "\n"


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of sorted `values` (None when empty)."""
    if not values:
        return None
    rank = max(1, -(-len(values) * pct // 100))
    return values[int(rank) - 1]
