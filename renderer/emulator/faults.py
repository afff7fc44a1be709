"""Injected faults: a FIFO list the tests post to `/_emulator/faults`, consumed by matching requests.

Each kind is consumed at one hook point of the request's life:

| kind | hook | effect |
|---|---|---|
| `http-500` | request start (or end with `"after": true`) | 500, JSON or Jetty-style HTML (`"html": true`) |
| `drop-connection` | request start (or end with `"after": true`) | socket closed, no response |
| `token-expire` | token check | the presented token is expired now (401) |
| `busy` | AS3 lock | 503 "Configuration operation in progress ..." |
| `slow` | AS3 declare work (any request when `path` names it) | takes `seconds` longer on the emulator clock |
| `tenant-fail` | per-tenant apply | that tenant fails with `code` (422) and `response` |
| `transaction-fail` | transaction commit | 400 `transaction failed:<response>`, nothing applied |
| `hold` | request end (start with `"after": false`) | answer held until `DELETE /_emulator/holds`, reset, `seconds` |

`hold` exists for crash tests: a test kills the client while the device holds the answer to
request number `at` (counted in the request log), so the kill lands exactly there.

`path` (prefix of the URL path), `method` and `at` (the request's 1-based number in the request log)
narrow a fault; `times` (default 1) says how often it fires.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

KINDS = ("busy", "tenant-fail", "http-500", "drop-connection", "transaction-fail", "slow", "token-expire", "hold")
_ALLOWED = {
    "busy": {"path", "method", "times"},
    "tenant-fail": {"tenant", "times", "code", "response"},
    "http-500": {"path", "method", "times", "html", "message", "after"},
    "drop-connection": {"path", "method", "times", "after"},
    "transaction-fail": {"times", "response"},
    "slow": {"path", "method", "times", "seconds"},
    "token-expire": {"times"},
    "hold": {"path", "method", "times", "at", "after", "seconds"},
}


class FaultError(ValueError):
    """A fault list posted to /_emulator/faults is malformed."""


@dataclass
class Fault:
    kind: str
    spec: dict[str, Any]
    remaining: int

    def matches(self, method: str, path: str, tenant: str | None = None, index: int | None = None) -> bool:
        if "at" in self.spec and self.spec["at"] != index:
            return False
        want_path = self.spec.get("path")
        if want_path and not path.startswith(want_path):
            return False
        want_method = self.spec.get("method")
        if want_method and want_method.upper() != method.upper():
            return False
        return not (self.kind == "tenant-fail" and self.spec.get("tenant") not in (None, tenant))

    def to_json(self) -> dict[str, Any]:
        return {**copy.deepcopy(self.spec), "kind": self.kind, "times": self.remaining}


def parse_faults(data: Any) -> list[Fault]:
    """Check a posted fault list; every problem is a FaultError naming the item."""
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise FaultError("faults must be a JSON list of objects")
    faults = []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or item.get("kind") not in KINDS:
            raise FaultError(f"faults[{index}]: kind must be one of {', '.join(KINDS)}")
        kind = item["kind"]
        spec = {k: v for k, v in item.items() if k != "kind"}
        extra = set(spec) - _ALLOWED[kind]
        if extra:
            raise FaultError(f"faults[{index}]: unknown field(s) for {kind}: {', '.join(sorted(extra))}")
        times = spec.pop("times", 1)
        if not isinstance(times, int) or times < 1:
            raise FaultError(f"faults[{index}]: times must be a positive integer")
        if kind == "slow" and not isinstance(spec.get("seconds"), int | float):
            raise FaultError(f"faults[{index}]: slow needs seconds")
        if kind == "hold" and not (isinstance(spec.get("at", 1), int) and spec.get("at", 1) >= 1):
            raise FaultError(f"faults[{index}]: at must be a positive integer")
        if kind == "hold" and not isinstance(spec.get("seconds", 30), int | float):
            raise FaultError(f"faults[{index}]: seconds must be a number")
        if kind == "tenant-fail" and not isinstance(spec.get("code", 422), int):
            raise FaultError(f"faults[{index}]: code must be an integer")
        faults.append(Fault(kind, spec, times))
    return faults


class FaultQueue:
    """Thread-safe FIFO of faults; `take` consumes one firing of the first matching fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, faults: list[Fault]) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    def take(self, kinds: tuple[str, ...], method: str = "", path: str = "",
             tenant: str | None = None, after: bool | None = None, explicit_path: bool = False,
             index: int | None = None) -> Fault | None:
        """Consume the first fault of one of `kinds` that matches; None when none does.

        `explicit_path`: only faults that name a `path` (a `slow` fault without one is meant for
        the next AS3 declare, not for the login or GET /info that precede it).
        """
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds or not fault.matches(method, path, tenant, index):
                    continue
                if explicit_path and not fault.spec.get("path"):
                    continue
                if after is not None and bool(fault.spec.get("after", fault.kind == "hold")) != after:
                    continue
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None
