"""One AS3 declare job: the AS3 wrapper, action/body coherence, validation, the lock, the action.

Runs in a worker thread (see as3.py), so `?async=true` records and the auto-async 202 carry
exactly what a synchronous request would have answered.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from renderer.emulator.apply import (
    ADC_KEYS,
    HOST,
    Applier,
    DeployOptions,
    bad_property_name,
    tenants_of,
)
from renderer.emulator.jsonpatch import InvalidPatchOperation, PatchFailed, apply_patch, check_operation
from renderer.emulator.tasks import CANCEL, cancelled
from renderer.emulator.wire import Response, error

if TYPE_CHECKING:
    from renderer.emulator.device import Device

ACTIONS = ("deploy", "dry-run", "patch", "redeploy", "retrieve", "remove")
BUSY = "Error: Configuration operation in progress on device localhost, please try again in 2 minutes"
_FIRST_SEGMENT = re.compile(r"^/([^/:]+)")


@dataclass
class DeclareJob:
    """A declare request after path, query and JSON checks."""

    method: str
    path: str
    path_tenants: list[str] | None
    query: dict[str, str]
    body: dict[str, Any]  # always the AS3-wrapper form
    declaration_id: str | None


def as_wrapper(method: str, data: Any) -> dict[str, Any]:
    """GET/DELETE/PATCH and bare-ADC POSTs become AS3-class requests, as AS3 rewrites them."""
    if method == "DELETE":
        return {"class": "AS3", "action": "remove"}
    if isinstance(data, dict) and data.get("class") == "AS3":
        return data
    if method == "PATCH":
        return {"class": "AS3", "action": "patch", "patchBody": data}
    return {"class": "AS3", "action": "deploy", "declaration": data}


def assign_id(body: dict[str, Any]) -> str | None:
    """`id` "", "generate", null or missing becomes autogen_<uuid4> (written into the declaration)."""
    decl = body.get("declaration")
    if not isinstance(decl, dict):
        return None
    if decl.get("id") in (None, "", "generate"):
        decl["id"] = f"autogen_{uuid.uuid4()}"
    return str(decl["id"])


def _wrapper_error(body: dict[str, Any]) -> str | None:
    """The runtime request schema's checks, as `<path>: <Ajv 6 message>`."""
    action = body.get("action", "deploy")
    if action not in ACTIONS:
        return f"/action: should be equal to one of the allowed values: {', '.join(ACTIONS)}"
    for name, low, high in (("historyLimit", 2, 15), ("redeployAge", 0, 15), ("retrieveAge", 0, 15)):
        value = body.get(name)
        if value is None or (name == "retrieveAge" and value == "list"):
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            return f"/{name}: should be integer"
        if value < low:
            return f"/{name}: should be >= {low}"
        if value > high:
            return f"/{name}: should be <= {high}"
    if body.get("redeployUpdateMode", "original") not in ("original", "complete", "selective"):
        return "/redeployUpdateMode: should be equal to one of the allowed values: original, complete, selective"
    if "persist" in body and not isinstance(body["persist"], bool):
        return "/persist: should be boolean"
    if "declaration" in body and "patchBody" in body:
        return ": should NOT have property patchBody when property declaration is present"
    decl = body.get("declaration")
    if "declaration" in body and not isinstance(decl, dict):  # e.g. a POSTed `null`
        return "/declaration: should be object"
    if decl is not None and not (isinstance(decl, dict) and decl.get("class") == "ADC"):
        return "/declaration/class: should be equal to constant"
    return None


def _coherence_error(job: DeclareJob) -> str | None:
    body, action = job.body, job.body.get("action", "deploy")
    if action in ("deploy", "dry-run") and "declaration" not in body:
        return f'for action "{action}", a declaration is required.'
    if "patchBody" in body and action != "patch":
        return "patchBody is valid only with action 'patch'"
    if action == "patch" and not isinstance(body.get("patchBody"), list):
        return 'for action "patch", a patchBody array is required.'
    if "retrieveAge" in body and action != "retrieve":
        return f'retrieveAge value is not allowed for action "{action}". use only with "retrieve"'
    if "redeployAge" in body and action != "redeploy":
        return 'redeployAge is valid only with action "redeploy"'
    if action == "redeploy" and job.path_tenants:
        return f'action "redeploy" is not allowed for URI {job.path}'
    if action == "remove" and "declaration" in body:
        return 'for action "remove", a declaration is not allowed.'
    return None


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() == "true"


class Declarer:
    def __init__(self, device: Device) -> None:
        self.device = device
        self.applier = Applier(device)

    def run(self, job: DeclareJob) -> Response:
        problem = _wrapper_error(job.body)
        if problem:
            return error(422, f"Invalid request: {problem}")
        problem = _coherence_error(job)
        if problem:
            return error(400, problem)
        action = job.body.get("action", "deploy")
        if action == "retrieve":
            age = job.body.get("retrieveAge")
            query = {"age": str(age)} if age is not None else {}
            return self.applier.retrieve(job.path_tenants, query)
        return self._locked(job, action)

    def _options(self, job: DeclareJob, adc: dict[str, Any]) -> DeployOptions:
        body, query = job.body, job.query
        opts = DeployOptions(persist=body.get("persist", True),
                             history_limit=body.get("historyLimit", 4), path_tenants=job.path_tenants,
                             method=job.method, path=job.path)
        controls = adc.get("controls") if isinstance(adc.get("controls"), dict) else {}
        dry = body.get("action") == "dry-run" or controls.get("dryRun") is True
        trace = controls.get("traceResponse") is True
        for tenant in tenants_of(adc):
            tcontrols = adc[tenant].get("controls") if isinstance(adc[tenant], dict) else None
            if isinstance(tcontrols, dict) and tcontrols.get("dryRun") is True and not dry:
                dry = True
                opts.warnings.append(f"dryRun true found in Tenant controls of {tenant}")
        if "controls.dryRun" in query:
            dry = _truthy(query["controls.dryRun"])
        if "controls.traceResponse" in query:
            trace = _truthy(query["controls.traceResponse"])
        opts.dry_run, opts.trace = dry, trace
        opts.show = query.get("show", "base")
        return opts

    def _busy(self, job: DeclareJob, tenants: list[str]) -> Response:
        body = {"code": 503, "message": BUSY, "host": HOST, "tenant": tenants}
        if job.declaration_id:
            body["declarationId"] = job.declaration_id
        return Response(503, body)

    def _locked(self, job: DeclareJob, action: str) -> Response:
        dev = self.device
        decl = job.body.get("declaration")
        tenants = job.path_tenants or (tenants_of(decl) if isinstance(decl, dict) else [])
        fault = dev.faults.take(("busy",), job.method, job.path)
        if fault is not None:
            dev.note_fault(fault.kind)
            return self._busy(job, tenants)
        if not dev.config_lock.acquire(blocking=False):
            return self._busy(job, tenants)
        try:
            extra_ms = 0
            slow = dev.faults.take(("slow",), job.method, job.path)
            if slow is not None:
                dev.note_fault(slow.kind)
                dev.clock.sleep(float(slow.spec["seconds"]), CANCEL.get())
                extra_ms = int(float(slow.spec["seconds"]) * 1000)
            if cancelled():
                return error(503, "the task was cancelled by a factory reset of the emulator")
            return self._act(job, action, extra_ms)
        finally:
            dev.config_lock.release()

    def _act(self, job: DeclareJob, action: str, extra_ms: int) -> Response:
        body = job.body
        if action in ("deploy", "dry-run"):
            return self._deploy(job, copy.deepcopy(body["declaration"]), extra_ms)
        if action == "remove":
            stub: dict[str, Any] = {"class": "ADC", "schemaVersion": "3.0.0",
                                    "id": str(int(self.device.clock.now() * 1000))}
            if job.path_tenants:
                stub["updateMode"] = "selective"
                stub.update({t: {"class": "Tenant"} for t in job.path_tenants})
            else:
                stub["updateMode"] = "complete"
            return self._deploy(job, stub, extra_ms)
        if action == "redeploy":
            return self._redeploy(job, extra_ms)
        return self._patch(job, extra_ms)

    def _deploy(self, job: DeclareJob, adc: dict[str, Any], extra_ms: int,
                patch_tenants: list[str] | None = None) -> Response:
        decl_id = str(adc.get("id") or job.declaration_id or f"autogen_{uuid.uuid4()}")
        name = bad_property_name(adc)
        if name is not None:
            return error(422, f"Invalid data property: {name}")
        problem = self._validate(adc)
        if problem:
            match = _FIRST_SEGMENT.match(problem)
            names = tenants_of(adc)
            tenants = [match.group(1)] if match and match.group(1) in names else names
            return Response(422, {"code": 422, "errors": [problem], "message": "declaration is invalid",
                                  "host": HOST, "tenant": tenants, "declarationId": decl_id})
        opts = self._options(job, adc)
        if patch_tenants is not None:
            opts.path_tenants, opts.update_mode = patch_tenants, "selective"
        opts.add_update_mode = body_action(job) in ("deploy", "dry-run")
        response = self.applier.deploy(adc, decl_id, opts, extra_ms)
        if self.device.group is not None:  # an HA pair: sync state, syncToGroup (renderer.emulator.ha)
            self.device.group.after_declare(self.device, job.body, opts.dry_run, response)
        return response

    def _validate(self, adc: dict[str, Any]) -> str | None:
        validator = self.device.validator
        if validator is not None:
            return validator.first_error(adc)
        for tenant in tenants_of(adc):
            value = adc[tenant]
            if not isinstance(value, dict):
                return f"/{tenant}: should be object"
            if value.get("class") != "Tenant":
                return f"/{tenant}/class: should be equal to constant"
        if "schemaVersion" not in adc:
            return ": should have required property 'schemaVersion'"
        return None

    def _redeploy(self, job: DeclareJob, extra_ms: int) -> Response:
        age = job.body.get("redeployAge", 0)
        with self.device.state_lock:
            history = copy.deepcopy(self.device.state.as3.history)
        if age >= len(history):
            return error(404, f"declaration with age {age} not found")
        adc = history[age]["declaration"]
        mode = job.body.get("redeployUpdateMode", "original")
        if mode != "original":
            adc["updateMode"] = mode
        job.body.setdefault("historyLimit", 15)
        return self._deploy(job, adc, extra_ms)

    def _patch(self, job: DeclareJob, extra_ms: int) -> Response:
        ops = job.body["patchBody"]
        for op in ops:
            if isinstance(op, dict) and op.get("op") == "test":
                return error(422, "invalid patch - op 'test' is not supported")
            try:
                check_operation(op)
            except InvalidPatchOperation as err:
                return error(422, f"InvalidPatchOperationError: {err}")
            if op["path"] == "/updateMode" and op.get("value") != "selective":
                return error(422, "invalid patch - updateMode must be selective")
        tenants = []
        for op in ops:
            first = op["path"].split("/")[1] if op["path"].count("/") >= 1 else ""
            if first and first not in ADC_KEYS and first not in tenants:
                tenants.append(first)
        with self.device.state_lock:
            base = self.device.state.as3.declaration() or {}
        try:
            patched = apply_patch(base, ops)
        except PatchFailed as err:
            return error(400, f"patch operation failed - see logs for details. {err}")
        if not isinstance(patched, dict):
            return error(400, "patch operation failed - see logs for details. result is not an object")
        return self._deploy(job, patched, extra_ms, patch_tenants=tenants)


def body_action(job: DeclareJob) -> str:
    return str(job.body.get("action", "deploy"))
