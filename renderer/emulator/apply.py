"""AS3's deployment core: serial per-tenant apply, results, history, and GET /declare views.

Tenants run one after another in declaration key order (`Common` first). Each tenant commits on
its own, so a failed tenant leaves the earlier ones applied (no cross-tenant rollback) and keeps
its own previous version. Overall status: all ok 200, some failed 207, all failed 422.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from renderer.emulator.clock import iso_millis
from renderer.emulator.tasks import cancelled
from renderer.emulator.traces import TENANT_PROPERTIES, has_children, tenant_work
from renderer.emulator.wire import Response, error

if TYPE_CHECKING:
    from renderer.emulator.device import Device

ADC_KEYS = frozenset({"class", "$schema", "updateMode", "schemaVersion", "id", "target", "label", "remark",
                      "constants", "controls", "scratch"})
HOST = "localhost"
DEFAULT_HISTORY_LIMIT = 4
NAME_RE = re.compile(r"^[A-Za-z][0-9A-Za-z_.-]*$")
HASH_MISMATCH = "The hash you submitted does not match the hash on the current Tenant"
DEFAULT_FAILURE = "01070734:3: Configuration error: injected tenant failure"


def tenants_of(adc: dict[str, Any]) -> list[str]:
    return [key for key in adc if key not in ADC_KEYS]


def tenant_hash(tenant: dict[str, Any] | None) -> str:
    """The optimisticLockKey of a stored tenant: a digest of its canonical JSON."""
    text = json.dumps({k: v for k, v in (tenant or {}).items() if k != "optimisticLockKey"}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def bad_property_name(adc: dict[str, Any]) -> str | None:
    """AS3's property-name pre-check on ADC, tenant and application keys."""
    def walk(node: dict[str, Any], depth: int) -> str | None:
        for key, value in node.items():
            if key != "$schema" and (not NAME_RE.match(key) or len(key) > 190):
                return key
            if depth < 2 and isinstance(value, dict) and "class" in value:
                found = walk(value, depth + 1)
                if found:
                    return found
        return None
    return walk(adc, 0)


@dataclass
class DeployOptions:
    path_tenants: list[str] | None = None
    method: str = ""  # the declare request (a tenant-fail fault may name its path and method)
    path: str = ""
    update_mode: str | None = None  # None: the declaration's own (default selective)
    dry_run: bool = False
    persist: bool = True
    history_limit: int = DEFAULT_HISTORY_LIMIT
    trace: bool = False
    add_update_mode: bool = True  # POST bodies get updateMode filled in, as AS3 does
    show: str = "base"
    warnings: list[str] = field(default_factory=list)


class Applier:
    """Runs deployments against the device state; the caller holds the AS3 lock."""

    def __init__(self, device: Device) -> None:
        self.device = device

    def _result(self, tenant: str, decl_id: str, code: int, message: str, run_time: int,
                **extra: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"code": code, "message": message}
        if "lineCount" in extra:
            out["lineCount"] = extra.pop("lineCount")
        out.update({"host": HOST, "tenant": tenant, "runTime": run_time, "declarationId": decl_id})
        out.update(extra)
        return out

    def apply_tenant(self, tenant: str, desired: dict[str, Any], decl_id: str, opts: DeployOptions,
                     extra_ms: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """(result, traces) for one tenant; writes the state unless dry-run or failed."""
        dev = self.device
        with dev.state_lock:
            current = copy.deepcopy(dev.state.as3.tenants.get(tenant))
        clean = {k: v for k, v in desired.items() if k != "optimisticLockKey"}
        target = clean if has_children(clean) else None
        changes, traces = tenant_work(tenant, current, target)
        line_count = len(traces[f"{tenant}Script"].splitlines())
        run_time = extra_ms + (300 + 10 * line_count if changes else 150)
        dry = {"dryRun": True} if opts.dry_run else {}
        lock_key = desired.get("optimisticLockKey")
        if lock_key is not None and lock_key != tenant_hash(current):
            return self._result(tenant, decl_id, 422, "declaration failed", run_time,
                                response=HASH_MISMATCH, **dry), traces
        fault = dev.faults.take(("tenant-fail",), opts.method, opts.path, tenant=tenant)
        if fault is not None:
            dev.note_fault(fault.kind)
            return self._result(tenant, decl_id, int(fault.spec.get("code", 422)), "declaration failed",
                                run_time, response=str(fault.spec.get("response", DEFAULT_FAILURE)),
                                **dry), traces
        if not opts.dry_run:
            with dev.state_lock:
                if cancelled():  # a factory reset happened while this task ran: write nothing
                    return self._result(tenant, decl_id, 503, "declaration failed", run_time,
                                        response="the task was cancelled by a factory reset"), traces
                if target is None:
                    dev.state.as3.tenants.pop(tenant, None)
                else:
                    dev.state.as3.tenants[tenant] = copy.deepcopy(clean)
        if not changes:
            return self._result(tenant, decl_id, 200, "no change", run_time, **dry), traces
        return self._result(tenant, decl_id, 200, "success", run_time, lineCount=line_count, **dry), traces

    def deploy(self, adc: dict[str, Any], decl_id: str, opts: DeployOptions, extra_ms: int = 0) -> Response:
        dev = self.device
        posted = tenants_of(adc)
        order = [t for t in posted if opts.path_tenants is None or t in opts.path_tenants]
        desired = {t: adc[t] for t in order}
        mode = opts.update_mode or adc.get("updateMode", "selective")
        if mode == "complete" and opts.path_tenants is None:
            with dev.state_lock:
                known = sorted(dev.state.as3.tenants)
            for t in known:
                if t not in desired:
                    desired[t] = {"class": "Tenant"}
                    order.append(t)
        if "Common" in order:
            order.remove("Common")
            order.insert(0, "Common")
        now = dev.clock.now()
        response_decl = {k: copy.deepcopy(v) for k, v in adc.items() if k in ADC_KEYS}
        if opts.add_update_mode:
            response_decl.setdefault("updateMode", "selective")
        controls = response_decl.get("controls")
        response_decl["controls"] = {**(controls if isinstance(controls, dict) else {}),
                                     "archiveTimestamp": iso_millis(now)}
        results: list[dict[str, Any]] = []
        traces: dict[str, Any] = {}
        for index, tenant in enumerate(order):
            result, tenant_traces = self.apply_tenant(tenant, desired[tenant], decl_id, opts,
                                                      extra_ms if index == 0 else 0)
            results.append(result)
            response_decl[tenant] = copy.deepcopy(desired[tenant])
            if opts.trace or _tenant_flag(desired[tenant], "traceResponse"):
                traces.update(tenant_traces)
        if "Common" in order and results[0]["code"] == 200:
            # AS3 runs Common twice (creations first, deletions last); the emulator did all in pass one.
            results.append(self._result("Common", decl_id, 200, "no change", 100,
                                        **({"dryRun": True} if opts.dry_run else {})))
        if not results:
            results.append(self._result("", decl_id, 200, "no change", 0))
        ok = [r for r in results if r["code"] == 200]
        if not opts.dry_run and order and ok:
            self._record(response_decl, opts, now)
        body: dict[str, Any] = {"results": results, "declaration": self.view(response_decl, opts.show)}
        if opts.dry_run:
            body["dryRun"] = True
        if traces:
            body["traces"] = traces
        if opts.warnings:
            body["results"][0].setdefault("warnings", list(opts.warnings))
        status = 200 if len(ok) == len(results) else 422 if not ok else 207
        if status != 200:
            body["code"] = status
        return Response(status, body)

    def _record(self, response_decl: dict[str, Any], opts: DeployOptions, now: float) -> None:
        """Store the new meta, push the declaration into history, count the config save."""
        dev = self.device
        with dev.state_lock:
            if cancelled():
                return
            a = dev.state.as3
            a.meta = {k: copy.deepcopy(v) for k, v in response_decl.items() if k in ADC_KEYS}
            stamp = int(now * 1000)
            if a.history and stamp <= a.history[0]["timestamp"]:
                stamp = a.history[0]["timestamp"] + 1
            a.history.insert(0, {"timestamp": stamp, "declaration": a.declaration() or copy.deepcopy(a.meta)})
            del a.history[opts.history_limit:]
            if opts.persist:
                dev.state.save_count += 1
        dev.persist()

    def retrieve(self, path_tenants: list[str] | None, query: dict[str, str]) -> Response:
        """GET /declare[/T1,T2] with show, age, filterClass and showHash."""
        dev = self.device
        age = query.get("age")
        with dev.state_lock:
            history = copy.deepcopy(dev.state.as3.history)
            current = dev.state.as3.declaration()
        if age == "list":
            return Response(200, [{"name": f"____appsvcs_declaration-{h['timestamp']}",
                                   "timestamp": h["timestamp"], "date": iso_millis(h["timestamp"] / 1000),
                                   "age": i} for i, h in enumerate(history)])
        decl = current
        if age is not None:
            index = int(age)
            if index >= len(history):
                return error(404, f"declaration with age {index} not found")
            decl = history[index]["declaration"]
        if not decl or not tenants_of(decl):
            return Response(204)
        if path_tenants:
            missing = [t for t in path_tenants if t not in decl]
            if missing:
                return error(404, f"specified Tenant(s) '{','.join(missing)}' not found in declaration")
            clash = [t for t in path_tenants if t in ADC_KEYS]
            if clash:
                return error(409, f"specified Tenant name '{clash[0]}' matches non-Tenant property")
            keep = set(path_tenants) | {"Common"}
            decl = {k: v for k, v in decl.items() if k in ADC_KEYS or k in keep}
        if query.get("showHash", "").lower() == "true":
            for tenant in tenants_of(decl):
                decl[tenant] = {**decl[tenant], "optimisticLockKey": tenant_hash(decl[tenant])}
        if query.get("filterClass"):
            decl = _filter_class(decl, query["filterClass"])
        return Response(200, self.view(decl, query.get("show", "base")))

    def view(self, decl: dict[str, Any], show: str) -> dict[str, Any]:
        """`show=full|expanded`: schema defaults filled in (needs the AS3 schema; else as stored)."""
        check = getattr(self.device.validator, "check_adc", None)
        if show == "base" or check is None:
            return decl
        filled = check(decl).filled
        return filled if isinstance(filled, dict) else decl


def _tenant_flag(tenant: dict[str, Any], flag: str) -> bool:
    controls = tenant.get("controls")
    return isinstance(controls, dict) and controls.get(flag) is True


def _filter_class(decl: dict[str, Any], cls: str) -> dict[str, Any]:
    """Keep tenant and application shells, and only objects of class `cls` inside applications."""
    out = {}
    for key, value in decl.items():
        if key in ADC_KEYS or not isinstance(value, dict):
            out[key] = value
            continue
        tenant = {}
        for name, app in value.items():
            if name in TENANT_PROPERTIES or not (isinstance(app, dict) and "class" in app):
                tenant[name] = app
                continue
            tenant[name] = {k: v for k, v in app.items()
                            if not (isinstance(v, dict) and "class" in v) or v.get("class") == cls}
        out[key] = tenant
    return out
