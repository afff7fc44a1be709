"""A simplified stand-in for AS3's per-tenant tmsh work: desired/current maps, diff and script.

The emulator does not translate AS3 into real tmsh properties. It maps each class-bearing object
to a tmsh command name and keeps its scalar AS3 properties, which is enough to give `lineCount`
a deterministic meaning (lines of the generated script) and `traces` the shape AS3 returns with
`controls.traceResponse` (`<T>Desired`, `<T>Current`, `<T>Diff`, `<T>Script`).
"""

from __future__ import annotations

import json
from typing import Any

_COMMANDS = {
    "Tenant": "auth partition", "Application": "sys folder", "Pool": "ltm pool",
    "Monitor": "ltm monitor", "iRule": "ltm rule", "Certificate": "sys file ssl-cert",
    "TLS_Server": "ltm profile client-ssl", "TLS_Client": "ltm profile server-ssl",
    "Endpoint_Policy": "ltm policy", "Data_Group": "ltm data-group internal",
    "Persist": "ltm persistence", "HTTP_Profile": "ltm profile http", "Service_Address": "ltm virtual-address",
}
TENANT_PROPERTIES = frozenset({"class", "label", "remark", "verifiers", "enable", "defaultRouteDomain",
                               "useCommonRouteDomainTenant", "constants", "controls", "optimisticLockKey"})
APPLICATION_PROPERTIES = frozenset({"class", "label", "remark", "template", "enable", "constants",
                                    "schemaOverlay", "controls"})


def command_for(cls: str) -> str:
    if cls.startswith("Service_"):
        return "ltm virtual"
    return _COMMANDS.get(cls, f"ltm {cls.lower()}")


def _properties(obj: dict[str, Any], skip: frozenset[str] = frozenset({"class"})) -> dict[str, Any]:
    return {k: v for k, v in sorted(obj.items()) if k not in skip}


def _is_object(value: Any) -> bool:
    return isinstance(value, dict) and "class" in value


def config_map(tenant: str, decl: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """`/<T>/`, `/<T>/<App>/` and `/<T>/<App>/<obj>` -> {command, properties, ignore}."""
    if not decl or not has_children(decl):
        return {}
    tenant_props = {k: v for k, v in sorted(decl.items())
                    if k not in ("class", "controls", "optimisticLockKey") and not _is_object(v)}
    tenant_props.setdefault("defaultRouteDomain", 0)
    out = {f"/{tenant}/": {"command": "auth partition", "properties": tenant_props, "ignore": []}}
    for app_name, app in sorted(decl.items()):
        if app_name in TENANT_PROPERTIES or not _is_object(app):
            continue
        app_props = {k: v for k, v in sorted(app.items()) if k != "class" and not _is_object(v)}
        out[f"/{tenant}/{app_name}/"] = {"command": "sys folder", "properties": app_props, "ignore": []}
        for name, obj in sorted(app.items()):
            if name in APPLICATION_PROPERTIES or not _is_object(obj):
                continue
            out[f"/{tenant}/{app_name}/{name}"] = {
                "command": command_for(str(obj["class"])), "properties": _properties(obj), "ignore": []}
    return out


def has_children(tenant: dict[str, Any]) -> bool:
    """A tenant without class-bearing children is a deletion request."""
    return any(isinstance(v, dict) and "class" in v for k, v in tenant.items() if k not in TENANT_PROPERTIES)


def diff_maps(current: dict[str, Any], desired: dict[str, Any]) -> list[dict[str, Any]]:
    """deep-diff style records: kind N (new), D (deleted), E (edited)."""
    changes = []
    for path in sorted(set(current) | set(desired)):
        old, new = current.get(path), desired.get(path)
        if old == new:
            continue
        kind = "N" if old is None else "D" if new is None else "E"
        item: dict[str, Any] = {"kind": kind, "path": [path], "tags": ["tmsh"]}
        if old is not None:
            item["lhs"] = old
        if new is not None:
            item["rhs"] = new
        item["command"] = (new or old)["command"]
        item["lhsCommand"] = old["command"] if old else ""
        item["rhsCommand"] = new["command"] if new else ""
        changes.append(item)
    return changes


def script(tenant: str, changes: list[dict[str, Any]]) -> str:
    """The cli-script text whose line count AS3 reports as `lineCount`."""
    verbs = {"N": "create", "D": "delete", "E": "modify"}
    body = []
    for change in changes:
        path = change["path"][0]
        props = " ".join(f"{k} {json.dumps(v, sort_keys=True)}"
                         for k, v in ((change.get("rhs") or {}).get("properties") or {}).items())
        body.append(f"tmsh::{verbs[change['kind']]} {change['command']} {path} {props}".rstrip())
    return "\n".join([
        "cli script __appsvcs_update {", "proc script::run {} {", "if { [catch {",
        "tmsh::begin_transaction", *body, "tmsh::commit_transaction", "} err] } {",
        "catch { tmsh::cancel_transaction } e",
        "tmsh::modify ltm data-group internal __appsvcs_update records add "
        f'\\{{ error \\{{ data \\"$err\\" \\}} \\}} ;# {tenant}',
        "}}", "}",
    ])


def tenant_work(tenant: str, current: dict[str, Any] | None, desired: dict[str, Any] | None
                ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(changes, traces) for one tenant; no changes means AS3 reports `no change`."""
    cur, want = config_map(tenant, current), config_map(tenant, desired)
    changes = diff_maps(cur, want)
    traces = {f"{tenant}Desired": want, f"{tenant}Current": cur, f"{tenant}Diff": changes,
              f"{tenant}Script": script(tenant, changes)}
    return changes, traces
