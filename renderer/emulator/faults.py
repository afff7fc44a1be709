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

Every kind takes `path` (prefix of the URL path) and `method`, which narrow it to some requests
(for `tenant-fail` the declare request that applies the tenant, for `transaction-fail` the commit
request). `at` (the request's 1-based number in the request log) narrows a `hold`.

`nth` (default 1) queues a fault for the n-th matching occasion, counted from when it was posted:
the first n-1 pass untouched; `times` (default 1) then says how many matching occasions it hits.
An occasion is one request at the fault's hook, one tenant apply for `tenant-fail`, one commit for
`transaction-fail`. Every pending fault counts the occasions it matches, also those another fault
answered.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

KINDS = ("busy", "tenant-fail", "http-500", "drop-connection", "transaction-fail", "slow", "token-expire", "hold")
_COMMON = {"path", "method", "times", "nth"}
_ALLOWED = {
    "busy": _COMMON,
    "tenant-fail": _COMMON | {"tenant", "code", "response"},
    "http-500": _COMMON | {"html", "message", "after"},
    "drop-connection": _COMMON | {"after"},
    "transaction-fail": _COMMON | {"response"},
    "slow": _COMMON | {"seconds"},
    "token-expire": _COMMON,
    "hold": _COMMON | {"at", "after", "seconds"},
}


class FaultError(ValueError):
    """A fault list posted to /_emulator/faults is malformed."""


@dataclass
class Fault:
    kind: str
    spec: dict[str, Any]
    remaining: int
    skip: int = 0  # matching occasions still to let pass before the fault fires (`nth` - 1)

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
        waiting = {"nth": self.skip + 1} if self.skip else {}  # shown while it still waits
        return {**copy.deepcopy(self.spec), "kind": self.kind, "times": self.remaining, **waiting}


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
        times, nth = spec.pop("times", 1), spec.pop("nth", 1)
        for name, value in (("times", times), ("nth", nth)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise FaultError(f"faults[{index}]: {name} must be a positive integer")
        for name in ("path", "method"):
            if name in spec and not isinstance(spec[name], str):
                raise FaultError(f"faults[{index}]: {name} must be a string")
        if kind == "slow" and not isinstance(spec.get("seconds"), int | float):
            raise FaultError(f"faults[{index}]: slow needs seconds")
        if kind == "hold" and not (isinstance(spec.get("at", 1), int) and spec.get("at", 1) >= 1):
            raise FaultError(f"faults[{index}]: at must be a positive integer")
        if kind == "hold" and not isinstance(spec.get("seconds", 30), int | float):
            raise FaultError(f"faults[{index}]: seconds must be a number")
        if kind == "tenant-fail" and not isinstance(spec.get("code", 422), int):
            raise FaultError(f"faults[{index}]: code must be an integer")
        faults.append(Fault(kind, spec, times, nth - 1))
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
        """Consume one firing of the first ready fault of one of `kinds` that matches; None when none
        does. Faults that match but still wait for a later occasion (`nth`) count this one.

        `explicit_path`: only faults that name a `path` (a `slow` fault without one is meant for
        the next AS3 declare, not for the login or GET /info that precede it).
        """
        fired: Fault | None = None
        with self._lock:
            for fault in list(self._faults):
                if fault.kind not in kinds or not fault.matches(method, path, tenant, index):
                    continue
                if explicit_path and not fault.spec.get("path"):
                    continue
                if after is not None and bool(fault.spec.get("after", fault.kind == "hold")) != after:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if fired is not None:
                    continue
                fired = fault
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
        return fired
