"""HTTP layer of AS3 (`/mgmt/shared/appsvcs/...`): routing, query checks, sync/async/auto-async.

Every non-GET declare runs in a worker thread with a task record. `?async=true` answers 202 at
once; otherwise the handler waits up to the auto-async threshold (45 s by default, on the
emulator clock) and answers 202 with the record if the work is still running.
"""

from __future__ import annotations

import contextvars
import threading
from typing import TYPE_CHECKING, Any

from renderer.emulator.declare import DeclareJob, Declarer, as_wrapper, assign_id
from renderer.emulator.tasks import CANCEL
from renderer.emulator.wire import BodyError, Request, Response, error

if TYPE_CHECKING:
    from renderer.emulator.device import Device

PREFIX = "/mgmt/shared/appsvcs"
INFO = {"version": "3.56.0", "release": "10", "schemaCurrent": "3.56.0", "schemaMinimum": "3.0.0"}
_QUERY = {"show", "age", "filterClass", "showHash", "async", "unchecked", "unsafe"}
_CONTROLS = {"controls.dryRun", "controls.trace", "controls.traceResponse", "controls.logLevel",
             "controls.userAgent"}
_BOOLEAN = {"showHash", "async", "unchecked", "unsafe", "controls.dryRun", "controls.trace",
            "controls.traceResponse"}


def split_tenants(segment: str) -> list[str]:
    """`T1,,T2,` -> [T1, T2]; `%2C` was already decoded to a comma."""
    return [name for name in segment.split(",") if name]


def query_error(method: str, query: list[tuple[str, str]]) -> str | None:
    for key, value in query:
        if key not in _QUERY and key not in _CONTROLS:
            return f'unrecognized URL query parameter "{key}"'
        if key in _BOOLEAN and value.lower() not in ("true", "false"):
            return f'query parameter "{key}" must be true or false'
        if key == "age":
            if method != "GET":
                return f'query parameter "age" is not allowed for method={method}'
            if value != "list" and not (value.isdigit() and 0 <= int(value) <= 15):
                return 'query parameter "age" must be an integer from 0 to 15, or "list"'
        if key in ("filterClass", "showHash") and method == "DELETE":
            return f'query parameter "{key}" is not allowed for method=DELETE'
        if key == "show" and value not in ("base", "full", "expanded"):
            return 'query parameter "show" must be base, full or expanded'
        if key == "async" and method == "GET":
            return 'query param "async" is not allowed for method=GET or action=retrieve.'
    return None


class As3Api:
    def __init__(self, device: Device) -> None:
        self.device = device
        self.declarer = Declarer(device)

    def handle(self, req: Request) -> Response:
        rest = req.path[len(PREFIX):].strip("/")
        parts = rest.split("/") if rest else []
        if not parts:
            return error(400, "Bad Request: Invalid path")
        endpoint, extra = parts[0], parts[1:]
        if endpoint == "info" and not extra:
            return Response(200, dict(INFO)) if req.method == "GET" else self._not_allowed(req)
        if endpoint == "settings" and not extra:
            return self._settings(req)
        if endpoint == "task" and len(extra) <= 1:
            return self._task(req, extra[0] if extra else None)
        if endpoint == "declare" and len(extra) <= 1:
            return self._declare(req, split_tenants(extra[0]) if extra else None)
        if endpoint == "declare" and len(extra) in (2, 3) and extra[1] == "applications":
            return error(400, "per-application deployments are not emulated")
        return error(400, "Bad Request: Invalid path")

    def _not_allowed(self, req: Request) -> Response:
        return error(405, f"{req.method} method is not allowed on {req.path}")

    def _settings(self, req: Request) -> Response:
        dev = self.device
        if req.method == "GET":
            with dev.state_lock:
                return Response(200, dict(dev.state.as3.settings))
        if req.method != "POST":
            return self._not_allowed(req)
        try:
            body = req.json()
        except BodyError as err:
            return error(400, f"cannot parse JSON POST payload ({err})")
        if not isinstance(body, dict):
            return Response(422, {"code": 422, "message": "declaration is invalid",
                                  "errors": [": should be object"]})
        with dev.state_lock:
            current = dev.state.as3.settings
            for key, value in body.items():
                if key in current and not isinstance(value, type(current[key])):
                    kind = "boolean" if isinstance(current[key], bool) else "string"
                    return Response(422, {"code": 422, "message": "declaration is invalid",
                                          "errors": [f"/{key}: should be {kind}"]})
            current.update(body)
            result = dict(current)
        dev.persist()
        return Response(200, result)

    def _task(self, req: Request, task_id: str | None) -> Response:
        if req.method != "GET":
            return error(400, "Bad Request: Invalid path")
        if task_id is None:
            return Response(200, {"items": self.device.tasks.records()})
        task = self.device.tasks.get(task_id)
        if task is None:
            return Response(404, {"code": 404, "message": f"No record found with ID of {task_id}"})
        return Response(200, task.record())

    def _declare(self, req: Request, path_tenants: list[str] | None) -> Response:
        dev = self.device
        problem = query_error(req.method, req.query_pairs)
        if problem:
            return error(400, problem)
        query = req.query
        if req.method == "GET":
            return self.declarer.applier.retrieve(path_tenants, query)
        if req.method not in ("POST", "DELETE", "PATCH"):
            return self._not_allowed(req)
        data: Any = None
        if req.method != "DELETE" or req.body.strip():
            try:
                data = req.json()
            except BodyError as err:
                if req.method != "DELETE":
                    return error(400, f"cannot parse JSON POST payload ({err})")
        if isinstance(data, list) and req.method == "POST":
            return self._multi(req, data)
        body = as_wrapper(req.method, data)
        if body.get("action") == "retrieve" and _async(query):
            return error(400, 'query param "async" is not allowed for method=GET or action=retrieve.')
        job = DeclareJob(req.method, req.path, path_tenants, query, body, assign_id(body))
        dev.tasks.prune()
        return self._submit(job, _async(query))

    def _submit(self, job: DeclareJob, is_async: bool) -> Response:
        dev = self.device
        deadline = dev.clock.now() + dev.config.async_threshold  # counted from the request's arrival
        task = dev.tasks.create(job.declaration_id)

        cancel = dev.cancelled

        def work() -> None:
            CANCEL.set(cancel)
            try:
                response = self.declarer.run(job)
            except Exception as err:  # a bug in the emulator: answer like AS3 does, keep serving
                response = error(500, f"An unexpected error occurred. See logs for details. Error: {err!r}")
            dev.tasks.finish(task, response.status, response.body)

        context = contextvars.copy_context()  # faults that fire in the worker land on this request's log entry
        threading.Thread(target=context.run, args=(work,), name=f"as3-task-{task.id}", daemon=True).start()
        if is_async or not dev.clock.wait_until(task.done, deadline):
            return Response(202, task.submitted())
        return Response(task.status, task.body)

    def _multi(self, req: Request, items: list[Any]) -> Response:
        """An array of declarations: one result per item, in order, each with its own lock turn."""
        seen: set[str] = set()
        bodies, statuses = [], []
        for data in items:
            body = as_wrapper("POST", data)
            decl = body.get("declaration")
            names = [k for k in decl if isinstance(decl.get(k), dict)] if isinstance(decl, dict) else []
            dup = [n for n in names if n in seen and isinstance(decl[n], dict) and decl[n].get("class") == "Tenant"]
            seen.update(names)
            if dup:
                response = error(422, "Error(s): 'Invalid/Duplicate': another request exists with the same "
                                      f"targetHost-declaration tenant, tenant(s): {', '.join(dup)}")
            else:
                job = DeclareJob("POST", req.path, None, req.query, body, assign_id(body))
                response = self.declarer.run(job)
            status = 200 if response.status == 204 else response.status
            statuses.append(status)
            bodies.append(response.body if response.body is not None else {})
        status = statuses[0] if statuses and len(set(statuses)) == 1 else 207
        return Response(status, {"code": status, "items": bodies})


def _async(query: dict[str, str]) -> bool:
    return query.get("async", "").lower() == "true"
