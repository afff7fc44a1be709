"""The emulated BIG-IP: configuration, state, and one `handle(request) -> response` entry point.

Dispatch order for every request: control API (not logged) -> request-level faults -> login ->
authentication -> AS3 / tokens / transactions / net -> after-the-fact faults. Every /mgmt request
is appended to the request log (method, path with query, status, faults that fired, and the
transaction id of an enlisted command).
"""

from __future__ import annotations

import contextvars
import copy
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from renderer.emulator import ltm, net
from renderer.emulator.as3 import PREFIX as AS3_PREFIX
from renderer.emulator.as3 import As3Api
from renderer.emulator.auth import Auth
from renderer.emulator.clock import Clock, SystemClock
from renderer.emulator.faults import FaultQueue
from renderer.emulator.state import DeviceState, read_state_file, write_state_file
from renderer.emulator.tasks import TaskStore
from renderer.emulator.transactions import Transactions
from renderer.emulator.wire import BodyError, Request, Response, error, tm_error

JETTY_500 = (
    '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>\n'
    "<title>Error 500 AsyncContext timeout</title>\n</head>\n<body><h2>HTTP ERROR 500</h2>\n"
    "<p>Problem accessing {path}. Reason:\n<pre>    AsyncContext timeout</pre></p>"
    "<hr><i><small>Powered by Jetty://</small></i><hr/>\n</body>\n</html>\n"
)
LTM_DG = "/mgmt/tm/ltm/data-group/internal"
_entry: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("emulator_log_entry",
                                                                               default=None)


class Validator(Protocol):
    def first_error(self, body: Any) -> str | None: ...


@dataclass(frozen=True)
class EmulatorConfig:
    username: str = "admin"
    password: str = "admin"
    control_token: str | None = None
    state_file: Path | None = None
    as3_schema: Path | None = None
    async_threshold: float = 45.0
    # HTTP limits (server.py): hostile or unlucky clients get 400/413/503, never a hung thread
    max_body_bytes: int = 64 * 1024 * 1024
    max_json_depth: int = 64
    max_connections: int = 64
    request_seconds: float = 30.0  # to read one request (headers and body), and idle keep-alive time


class Device:
    def __init__(self, config: EmulatorConfig, clock: Clock | None = None,
                 validator: Validator | None = None) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.state: DeviceState = read_state_file(config.state_file) if config.state_file else DeviceState()
        self.state_lock = threading.RLock()
        self.config_lock = threading.Lock()  # AS3's global "configuration operation" lock
        self.cancelled = threading.Event()  # set by a factory reset: tasks of the old state stop
        self.faults = FaultQueue()
        self.tasks = TaskStore()
        self.auth = Auth(self.clock, config.username, config.password)
        self.validator = validator if validator is not None else _load_validator(config.as3_schema)
        self.as3 = As3Api(self)
        self.transactions = Transactions(self)
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self.group: Any = None  # renderer.emulator.ha.DeviceGroup when part of an HA pair
        self.device_name = "bigip"
        self._holds: list[threading.Event] = []
        self._holding = threading.Event()  # set while a request is held

    # -- bookkeeping ------------------------------------------------------------------------------
    def persist(self) -> None:
        """Write the state file (atomically) after a change, when --state was given."""
        if self.config.state_file is None:
            return
        with self.state_lock:
            write_state_file(self.config.state_file, self.state)

    def note_fault(self, kind: str) -> None:
        """Record that an injected fault fired, on the log entry of the request it hit."""
        entry = _entry.get()
        if entry is None:
            return
        with self._log_lock:
            entry.setdefault("faults", []).append(kind)

    def request_log(self) -> list[dict[str, Any]]:
        with self._log_lock:
            return copy.deepcopy(self._log)

    def clear_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def reset(self) -> None:
        """Factory state: no configuration, tokens, tasks, faults or log; running tasks are cancelled
        (they write nothing more) and held requests answer."""
        with self.state_lock:
            old, self.cancelled = self.cancelled, threading.Event()
            old.set()
            self.state = DeviceState()
        self.release_holds()
        self.faults.clear()
        self.clear_log()
        self.tasks = TaskStore()
        self.auth = Auth(self.clock, self.config.username, self.config.password)
        self.transactions = Transactions(self)
        self.persist()

    # -- requests ---------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.path.startswith("/_emulator"):
            from renderer.emulator.control import handle_control

            return handle_control(self, req)
        entry: dict[str, Any] = {"method": req.method, "path": _redacted(req.target), "status": None}
        coordination = req.header("X-F5-REST-Coordination-Id")
        if coordination is not None and req.method != "GET":
            entry["transaction"] = coordination  # enlisted, not run
        with self._log_lock:
            self._log.append(entry)
            index = len(self._log)
        token = _entry.set(entry)
        try:
            response = self._handle(req, index)
        except Exception as err:  # a bug in the emulator: answer as AS3/restjavad do, keep serving
            response = error(500, f"An unexpected error occurred. See logs for details. ({type(err).__name__})")
        finally:
            _entry.reset(token)
        with self._log_lock:
            entry["status"] = None if response.drop else response.status
        return response

    def _fault_response(self, req: Request, after: bool) -> Response | None:
        fault = self.faults.take(("drop-connection", "http-500"), req.method, req.path, after=after)
        if fault is None:
            return None
        self.note_fault(fault.kind)
        if fault.kind == "drop-connection":
            return Response(0, drop=True, fault=fault.kind)
        if fault.spec.get("html"):
            page = JETTY_500.format(path=req.path).encode()
            return Response(500, page, content_type="text/html;charset=iso-8859-1", fault=fault.kind)
        message = fault.spec.get("message", "An unexpected error occurred. See logs for details.")
        return Response(500, {"code": 500, "message": message}, fault=fault.kind)

    def _hold(self, req: Request, index: int, after: bool) -> None:
        """A `hold` fault: keep this request's answer back until released (crash tests kill the client now)."""
        fault = self.faults.take(("hold",), req.method, req.path, after=after, index=index)
        if fault is None:
            return
        event = threading.Event()
        self.note_fault(fault.kind)
        with self._log_lock:
            self._holds.append(event)
        self._holding.set()
        event.wait(float(fault.spec.get("seconds", 30)))
        with self._log_lock:
            self._holds.remove(event)

    def wait_held(self, timeout: float) -> bool:
        """In-process tests: True as soon as a request is being held (within `timeout` seconds)."""
        return self._holding.wait(timeout)

    def release_holds(self) -> int:
        self._holding.clear()
        with self._log_lock:
            held = list(self._holds)
        for event in held:
            event.set()
        return len(held)

    def _handle(self, req: Request, index: int = 0) -> Response:
        self._hold(req, index, after=False)
        early = self._fault_response(req, after=False)
        if early is not None:
            return early
        declare_write = req.path.startswith(AS3_PREFIX + "/declare") and req.method != "GET"
        if not declare_write:  # declare writes are slowed inside the AS3 lock (declare.py)
            slow = self.faults.take(("slow",), req.method, req.path, explicit_path=True)
            if slow is not None:
                self.note_fault(slow.kind)
                self.clock.sleep(float(slow.spec["seconds"]))
        response = self._route(req)
        self._hold(req, index, after=True)
        late = self._fault_response(req, after=True)
        return late if late is not None else response

    def _route(self, req: Request) -> Response:
        path = req.path.rstrip("/")
        body: Any = None
        # AS3 parses its own bodies (with its own 400 wording); everything else is parsed here.
        if req.method in ("POST", "PUT", "PATCH") and not path.startswith(AS3_PREFIX):
            try:
                body = req.json()
            except BodyError as err:
                return error(400, f"Found invalid JSON body in the request: {err}")
        if path == "/mgmt/shared/authn/login" and req.method == "POST":
            return self.auth.login(req, body)
        token = req.header("X-F5-Auth-Token")
        if token is not None and self.faults.take(("token-expire",), req.method, req.path) is not None:
            self.note_fault("token-expire")
            self.auth.expire(token)
        denied = self.auth.check(req)
        if denied is not None:
            return denied
        if path.startswith("/mgmt/shared/authz/tokens/"):
            return self.auth.token_resource(req, path.rsplit("/", 1)[1], body)
        if path.startswith(AS3_PREFIX):
            return self.as3.handle(req)
        if path == "/mgmt/tm/transaction" or path.startswith("/mgmt/tm/transaction/"):
            parts = [p for p in path[len("/mgmt/tm/transaction"):].split("/") if p]
            return self.transactions.handle(req, parts, body)
        coordination = req.header("X-F5-REST-Coordination-Id")
        if coordination is not None and req.method != "GET":
            return self.transactions.enlist(coordination, req, body)
        if path == LTM_DG or path.startswith(LTM_DG + "/"):
            rest = path[len(LTM_DG):].strip("/")
            if "/" in rest:
                return tm_error(404, f"URI path {req.path} is not supported by the emulator", 1)
            with self.state_lock:
                ltm_state = self.state.ltm
                response = ltm.handle(ltm_state.data_groups, ltm_state.generation, req.method, rest or None, body)
            if req.method != "GET" and response.status < 300:
                self.persist()
                if self.group is not None:  # /Common objects are synced configuration
                    self.group.changed(self)
            return response
        if path.startswith("/mgmt/tm/net/"):
            with self.state_lock:
                response = net.handle(self.state.net, req.method, path[len("/mgmt/tm/net/"):], req.query, body)
            if req.method != "GET" and response.status < 300:
                self.persist()
            return response
        if path == "/mgmt/tm/cm" or path.startswith("/mgmt/tm/cm/"):
            from renderer.emulator.ha import handle_cm

            return handle_cm(self, req.method, path, body)
        return tm_error(404, f"URI path {req.path} is not supported by the emulator", 1)


def _redacted(target: str) -> str:
    """Token values are credentials: the log shows `/mgmt/shared/authz/tokens/***`."""
    prefix = "/mgmt/shared/authz/tokens/"
    if target.startswith(prefix):
        rest = target[len(prefix):]
        query = rest[rest.index("?"):] if "?" in rest else ""
        return f"{prefix}***{query}"
    return target


def _load_validator(schema: Path | None) -> Validator | None:
    if schema is None:
        return None
    from renderer.validate import As3Validator

    return As3Validator.from_path(schema)
