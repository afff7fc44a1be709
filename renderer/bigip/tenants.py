"""Pure helpers on AS3 declarations for the deploy plan: ownership, lease commit, tenant comparison.

Kept apart from the plan so each rule is a small function unit-tested on plain dicts:
which tenants are ours, which commit a device runs, which tenants differ, and what body
to POST for a set of tenants.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson

MARKER = "as3-gitops"
WORKING_TREE = "working tree"
_REMARK = re.compile(r"^as3-gitops (?P<sha>[0-9a-f]{40}|working tree)$")
_ID = re.compile(r"^as3-gitops-(?P<sha>[0-9a-f]{7,40}|working-tree)$")
# Keys AS3 adds or that only identify a post; they are not configuration.
_VOLATILE_TENANT_KEYS = ("optimisticLockKey",)


def adc_of(as3: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ADC of a bare ADC or of an AS3 wrapper."""
    if not as3:
        return None
    if as3.get("class") == "AS3":
        decl = as3.get("declaration")
        return decl if isinstance(decl, dict) else None
    return as3


def is_tenant(value: Any) -> bool:
    return isinstance(value, dict) and value.get("class") == "Tenant"


def tenants_of(adc: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in (adc or {}).items() if is_tenant(v)}


def header_of(adc: dict[str, Any] | None) -> dict[str, Any]:
    """The non-tenant keys of an ADC (class, schemaVersion, id, remark, ...)."""
    head = {k: v for k, v in (adc or {}).items() if not is_tenant(v)}
    if isinstance(head.get("controls"), dict):
        head["controls"] = {k: v for k, v in head["controls"].items() if k != "archiveTimestamp"}
        if not head["controls"]:
            del head["controls"]
    return head


def carries_marker(tenant: dict[str, Any]) -> bool:
    return tenant.get("label") == MARKER or str(tenant.get("remark", "")).startswith(MARKER)


def device_commit(adc: dict[str, Any] | None) -> str | None:
    """The commit an as3-gitops deploy left on the device (`remark`, else `id`), or None."""
    if not adc:
        return None
    match = _REMARK.match(str(adc.get("remark", "")))
    if match:
        return match["sha"]
    match = _ID.match(str(adc.get("id", "")))
    if match:
        return WORKING_TREE if match["sha"] == "working-tree" else match["sha"]
    return None


def owned_tenants(rendered: dict[str, Any] | None, device: dict[str, Any] | None) -> list[str]:
    """Tenants we may touch: the rendered ones plus device tenants carrying our marker."""
    names = set(tenants_of(rendered))
    names |= {n for n, t in tenants_of(device).items() if carries_marker(t)}
    return sorted(names)


def normalise(tenant: dict[str, Any] | None) -> dict[str, Any] | None:
    """A tenant as configuration: lock keys and archive stamps dropped; an empty tenant is None."""
    if tenant is None:
        return None
    out = {k: v for k, v in tenant.items() if k not in _VOLATILE_TENANT_KEYS}
    if isinstance(out.get("controls"), dict):
        out["controls"] = {k: v for k, v in out["controls"].items() if k != "archiveTimestamp"}
    if not any(isinstance(v, dict) and "class" in v for v in out.values()):
        return None  # AS3 deletes a tenant without class-bearing children
    return out


def canonical(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def same(a: Any, b: Any) -> bool:
    return canonical(a) == canonical(b)


def changed_tenants(owned: list[str], device: dict[str, Any] | None, rendered: dict[str, Any] | None) -> list[str]:
    dev, new = tenants_of(device), tenants_of(rendered)
    return [t for t in owned if not same(normalise(dev.get(t)), normalise(new.get(t)))]


def tenant_body(tenant: dict[str, Any] | None) -> dict[str, Any]:
    """What to POST so the device ends with `tenant` (None: the tenant is deleted)."""
    clean = normalise(tenant)
    if clean is None:
        return {"class": "Tenant"}
    return clean


def declaration(
    header: dict[str, Any],
    tenants: dict[str, dict[str, Any] | None],
    *,
    action: str = "deploy",
    persist: bool = False,
    lock_keys: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An AS3 request carrying `header` and exactly `tenants` (selective update)."""
    adc = {k: v for k, v in header.items() if k != "updateMode"}
    adc["class"] = "ADC"
    adc["updateMode"] = "selective"
    for name, body in tenants.items():
        item = dict(tenant_body(body))
        key = (lock_keys or {}).get(name)
        if key:
            item["optimisticLockKey"] = key
        adc[name] = item
    return {"class": "AS3", "action": action, "persist": persist, "declaration": adc}


def lock_keys_of(adc: dict[str, Any] | None) -> dict[str, str]:
    return {n: str(t["optimisticLockKey"]) for n, t in tenants_of(adc).items() if t.get("optimisticLockKey")}


def objects_of(tenant: dict[str, Any] | None) -> dict[str, Any]:
    """`app/object` -> object, plus `app` -> application settings, for a per-object comparison."""
    out: dict[str, Any] = {}
    for app, body in (normalise(tenant) or {}).items():
        if not isinstance(body, dict):
            out[app] = body
            continue
        out[app] = {k: v for k, v in body.items() if not (isinstance(v, dict) and "class" in v)}
        for name, obj in body.items():
            if isinstance(obj, dict) and "class" in obj:
                out[f"{app}/{name}"] = obj
    return out


def compare_objects(
    tenants: list[str], now: dict[str, Any] | None, old: dict[str, Any] | None, new: dict[str, Any] | None
) -> tuple[list[str], list[str]]:
    """(`/tenant/app/object` paths equal to neither old nor new, paths not equal to old)."""
    cur_t, old_t, new_t = tenants_of(now), tenants_of(old), tenants_of(new)
    neither, not_old = [], []
    for tenant in tenants:
        cur, before, after = (
            objects_of(cur_t.get(tenant)),
            objects_of(old_t.get(tenant)),
            objects_of(new_t.get(tenant)),
        )
        for key in sorted(set(cur) | set(before) | set(after)):
            value = cur.get(key)
            if not same(value, before.get(key)):
                not_old.append(f"/{tenant}/{key}")
                if not same(value, after.get(key)):
                    neither.append(f"/{tenant}/{key}")
    return neither, not_old


def state_hash(tenants: dict[str, Any], net: dict[str, Any]) -> str:
    """sha256 of the owned configuration (tenants normalised + net state), for the report."""
    data = {"tenants": {k: normalise(v) for k, v in sorted(tenants.items())}, "net": net}
    return "sha256:" + hashlib.sha256(canonical(data)).hexdigest()
