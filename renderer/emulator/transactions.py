"""iControl REST transactions (`/mgmt/tm/transaction`): enlist now, apply all or none at commit.

A request carrying `X-F5-REST-Coordination-Id` is queued, not run. `PATCH {"state":"VALIDATING"}`
runs every command in evalOrder on a copy of the L2/L3 state; the copy replaces the state only
if all succeed, else 400 `transaction failed:<mcpd message>` and the state FAILED. A transaction
that has not been committed for `timeoutSeconds` (120 s on the emulator clock) is deleted silently.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from renderer.emulator import net
from renderer.emulator.net import TMOS_VERSION
from renderer.emulator.wire import Request, Response, tm_error

if TYPE_CHECKING:
    from renderer.emulator.device import Device

TIMEOUT = 120
LINK = "https://localhost/mgmt/tm/transaction"
DEFAULT_FAILURE = "01070734:3: Configuration error: injected transaction failure"


@dataclass
class Command:
    command_id: int
    eval_order: int
    method: str
    path: str  # below /mgmt/tm/net/
    query: dict[str, str]
    body: Any

    def describe(self, trans_id: int) -> dict[str, Any]:
        out = {"method": self.method, "uri": f"https://localhost/mgmt/tm/net/{self.path}"}
        if self.body is not None:
            out["body"] = self.body
        return {**out, "evalOrder": self.eval_order, "commandId": self.command_id,
                "kind": "tm:transaction:commandsstate",
                "selfLink": f"{LINK}/{trans_id}/commands/{self.command_id}?ver={TMOS_VERSION}"}


@dataclass
class Transaction:
    trans_id: int
    touched: float
    state: str = "STARTED"
    failure_reason: str = ""
    validate_only: bool = False
    async_execution: bool = False
    commands: list[Command] = field(default_factory=list)
    next_id: int = 1

    def describe(self) -> dict[str, Any]:
        return {"transId": self.trans_id, "state": self.state, "timeoutSeconds": TIMEOUT,
                "asyncExecution": self.async_execution, "validateOnly": self.validate_only, "executionTimeout": 300,
                "executionTime": 0, "failureReason": self.failure_reason, "kind": "tm:transactionstate",
                "selfLink": f"{LINK}/{self.trans_id}?ver={TMOS_VERSION}"}


def _missing(trans_id: Any) -> Response:
    return tm_error(404, f"Transaction {trans_id} does not exist.", 1)


class Transactions:
    def __init__(self, device: Device) -> None:
        self.device = device
        self._lock = threading.Lock()
        self._items: dict[int, Transaction] = {}
        self._last_id = 0

    def _expire(self) -> None:
        now = self.device.clock.now()
        for tid, txn in list(self._items.items()):
            if txn.state == "STARTED" and now - txn.touched >= TIMEOUT:
                del self._items[tid]

    def _get(self, raw: str) -> Transaction | None:
        self._expire()
        return self._items.get(int(raw)) if raw.isdigit() else None

    def enlist(self, coordination_id: str, req: Request, body: Any) -> Response:
        """Queue a /mgmt/tm/net request instead of running it."""
        prefix = "/mgmt/tm/net/"
        if not req.path.startswith(prefix):
            return tm_error(400, f"the emulator only enlists /mgmt/tm/net requests, not {req.path}", 1)
        with self._lock:
            txn = self._get(coordination_id)
            if txn is None:
                return _missing(coordination_id)
            if txn.state != "STARTED":
                return tm_error(400, f"Transaction {txn.trans_id} is {txn.state}; it takes no more commands.", 1)
            cmd = Command(txn.next_id, len(txn.commands) + 1, req.method, req.path[len(prefix):], req.query,
                          copy.deepcopy(body))
            txn.next_id += 1
            txn.commands.append(cmd)
            txn.touched = self.device.clock.now()
            return Response(200, cmd.describe(txn.trans_id))

    def handle(self, req: Request, parts: list[str], body: Any) -> Response:
        """Everything below /mgmt/tm/transaction (parts are the path segments after it)."""
        with self._lock:
            self._expire()
            if not parts:
                if req.method == "POST":
                    self._last_id = max(self._last_id + 1, int(self.device.clock.now() * 1_000_000))
                    txn = Transaction(self._last_id, self.device.clock.now())
                    self._items[txn.trans_id] = txn
                    return Response(200, txn.describe())
                if req.method == "GET":
                    return Response(200, {"kind": "tm:transactioncollectionstate", "selfLink": LINK,
                                          "items": [t.describe() for t in self._items.values()]})
                return tm_error(405, f"{req.method} is not allowed on {req.path}", 1)
            txn = self._get(parts[0])
            if txn is None:
                return _missing(parts[0])
            if len(parts) == 1:
                return self._one(req, txn, body)
            if parts[1] != "commands" or len(parts) > 3:
                return tm_error(404, f"URI path {req.path} is not supported by the emulator", 1)
            if len(parts) == 2 and req.method == "GET":
                return Response(200, {"kind": "tm:transaction:commandscollectionstate",
                                      "items": [c.describe(txn.trans_id) for c in txn.commands]})
            cmd = next((c for c in txn.commands if str(c.command_id) == (parts[2] if len(parts) > 2 else "")),
                       None)
            if cmd is None:
                return tm_error(404, f"Command {'/'.join(parts[2:])} of transaction {txn.trans_id} does not exist.", 1)
            if req.method == "GET":
                return Response(200, cmd.describe(txn.trans_id))
            if req.method == "DELETE":
                txn.commands.remove(cmd)
                return Response(200, None)
            if req.method == "PATCH" and isinstance(body, dict) and isinstance(body.get("evalOrder"), int):
                cmd.eval_order = body["evalOrder"]
                return Response(200, cmd.describe(txn.trans_id))
            return tm_error(400, f"{req.method} is not supported on a transaction command", 1)

    def _one(self, req: Request, txn: Transaction, body: Any) -> Response:
        if req.method == "GET":
            return Response(200, txn.describe())
        if req.method == "DELETE":
            del self._items[txn.trans_id]
            return Response(200, None)
        if req.method != "PATCH" or not isinstance(body, dict) or body.get("state") != "VALIDATING":
            return tm_error(400, 'commit a transaction with PATCH {"state":"VALIDATING"}', 1)
        if txn.state != "STARTED":
            return tm_error(400, f"Transaction {txn.trans_id} is already {txn.state}.", 1)
        txn.validate_only = body.get("validateOnly") is True
        txn.async_execution = body.get("asyncExecution") is True
        return self._commit(txn, req)

    def _commit(self, txn: Transaction, req: Request) -> Response:
        dev = self.device
        with dev.state_lock:
            work = copy.deepcopy(dev.state.net)
            failure = None
            existing = set(dev.state.net.fdb)
            for cmd in sorted(txn.commands, key=lambda c: (c.eval_order, c.command_id)):
                if cmd.path.startswith("fdb/tunnel/"):
                    full = net.parse_name(cmd.path.split("/")[2])
                    if full not in existing:  # a tunnel made in this transaction has no FDB yet [mem]
                        failure = f"01020036:3: The requested FDB tunnel ({full}) was not found."
                        break
                result = net.handle(work, cmd.method, cmd.path, cmd.query, cmd.body)
                if result.status >= 400:
                    failure = str(result.body.get("message", result.body))
                    break
            if failure is None:
                fault = dev.faults.take(("transaction-fail",), req.method, req.path)
                if fault is not None:
                    dev.note_fault(fault.kind)
                    failure = str(fault.spec.get("response", DEFAULT_FAILURE))
            if failure is not None:
                txn.state, txn.failure_reason = "FAILED", failure
                return tm_error(400, f"transaction failed:{failure}", 2)
            txn.state = "COMPLETED"
            if not txn.validate_only:
                dev.state.net = work
        if not txn.validate_only:
            dev.persist()
        return Response(200, txn.describe())
