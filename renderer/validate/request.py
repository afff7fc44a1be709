"""The /declare request around a declaration, judged as AS3 3.56.0 judges it before its parser.

AS3 first wraps a bare ADC (or one without `class`) into `{"class": "AS3", "action": "deploy",
"declaration": ...}`; an ADC that carries a `declaration` of its own is not wrapped, and only that
inner `declaration` is deployed (so only it is validated). It then checks the request against
its request schema ("Invalid request: ..."), looks for the same tenant in two declarations of
one request array, checks property names, and checks that the action fits the rest of the
request (`for action "retrieve", a declaration is not allowed.` ...). The AS3 defaults of the
request (action deploy, redeployAge 0, ...) apply to those rules; `action: dry-run` is a deploy
by then, so AS3 names it "deploy" in its messages.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from renderer.validate.ajv import AjvError

DUPLICATE_TEXT = ("Error(s): 'Invalid/Duplicate': another request exists with the same targetHost-declaration "
                  "tenant, declaration target, and/or declaration tenant-app")


@dataclass
class Task:
    """One request AS3 processes: the (defaults-filled) AS3 object and where it sits in the body."""

    request: dict[str, Any]
    prefix: str  # JSON pointer of the request in the body ("" or "/0")
    declaration_key: str = "/declaration"
    duplicate: bool = False
    errors: list[AjvError] = field(default_factory=list)

    @property
    def declaration(self) -> Any:
        return self.request.get("declaration")


def js_truthy(value: Any) -> bool:
    if isinstance(value, dict | list):
        return True
    return value is not None and value is not False and value != 0 and value != ""


def wrap(body: Any) -> tuple[Any, bool]:
    """AS3's wrapWithAS3Class: (request, whether `declaration` is the body itself)."""
    if not isinstance(body, dict):
        return body, False
    if ("class" not in body or body["class"] == "ADC") and not js_truthy(body.get("declaration")):
        return {"class": "AS3", "action": "deploy", "declaration": body}, True
    return body, False


def controls_action(declaration: Any) -> tuple[Any, str | None]:
    """A declaration's `controls.internalUse.action` (AS3 takes the action from there and drops it)."""
    if not isinstance(declaration, dict):
        return declaration, None
    name = next((k for k, v in declaration.items() if isinstance(v, dict) and v.get("class") == "Controls"),
                "controls")
    controls = declaration.get(name)
    if not isinstance(controls, dict) or "internalUse" not in controls:
        return declaration, None
    internal = controls["internalUse"]
    action = internal.get("action") if isinstance(internal, dict) else None
    trimmed = dict(declaration)
    trimmed[name] = {k: v for k, v in controls.items() if k != "internalUse"}
    return trimmed, action if js_truthy(action) else None


def action_errors(request: dict[str, Any], pointer: str) -> list[AjvError]:
    """AS3's rules on the action and the rest of the request (its parseAS3ClassProperties)."""
    action = request.get("action")
    if action == "dry-run":
        action = "deploy"
    shown = "undefined" if action is None else str(action)
    declaration = js_truthy(request.get("declaration"))
    patch = js_truthy(request.get("patchBody"))
    redeploy_age = request.get("redeployAge")
    mode = request.get("redeployUpdateMode")
    text = None
    where = pointer
    if js_truthy(request.get("retrieveAge")) and action != "retrieve":
        text, where = f'retrieveAge value is not allowed for action "{shown}". use only with "retrieve"', "/retrieveAge"
    elif action != "redeploy" and js_truthy(redeploy_age) and _gt_zero(redeploy_age):
        text, where = 'redeployAge is valid only with action "redeploy"', "/redeployAge"
    elif action != "redeploy" and js_truthy(mode) and mode != "original":
        text, where = 'redeployUpdateMode is valid only with action "redeploy"', "/redeployUpdateMode"
    elif action == "patch" and not patch:
        text = "for action 'patch', a patchBody must be included - refer to AS3 docs for details"
    elif action != "patch" and patch:
        text, where = "patchBody is valid only with action 'patch'", "/patchBody"
    elif declaration and action in ("retrieve", "remove", "redeploy", "patch"):
        text, where = f'for action "{shown}", a declaration is not allowed.', "/declaration"
    elif not declaration and action == "deploy":
        text = f'for action "{shown}", a declaration is required.'
    if text is None:
        return []
    full = pointer + where if where != pointer else pointer
    return [AjvError(full, "as3:request", text, text=text)]


def _gt_zero(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool) and value > 0) or \
        (isinstance(value, str) and _number(value) > 0)


def _number(text: str) -> float:
    try:
        return float(text.strip() or 0)
    except ValueError:
        return 0.0


def _target_host(request: dict[str, Any]) -> str:
    host = request.get("targetHost")
    if not isinstance(host, str) or host in ("", "::1", "127.0.0.1", "0:0:0:0:0:0:0:1"):
        return "localhost"
    return host.lower()


def _tenants(declaration: Any) -> list[tuple[str, list[str]]]:
    if not isinstance(declaration, dict):
        return []
    out = []
    for name, value in declaration.items():
        if isinstance(value, dict) and value.get("class") == "Tenant":
            apps = [k for k, v in value.items() if isinstance(v, dict) and v.get("class") == "Application"]
            out.append((name, apps))
    return out


def mark_duplicates(tasks: list[Task]) -> None:
    """AS3's check that no two declarations of one request share a tenant (per target) or a target."""
    by_host: dict[str, list[tuple[int, str, list[str]]]] = {}
    targets: list[tuple[int, Any]] = []
    for index, task in enumerate(tasks):
        declaration = task.declaration
        if not js_truthy(declaration):
            continue
        known = by_host.setdefault(_target_host(task.request), [])
        target = declaration.get("target") if isinstance(declaration, dict) else None
        for tenant, apps in _tenants(declaration):
            earlier = next((k for k in known if k[1] == tenant), None)
            if earlier is None:
                known.append((index, tenant, apps))
            elif not js_truthy(target) or any(a in earlier[2] for a in apps):
                task.duplicate = True
                tasks[earlier[0]].duplicate = True
        if js_truthy(target):
            name = (target.get("hostname") or target.get("address")) if isinstance(target, dict) else None
            twin = next((t for t in targets if t[1] == name), None)
            if twin is not None:
                task.duplicate = True
                tasks[twin[0]].duplicate = True
            else:
                targets.append((index, name))


def tasks_of(body: Any) -> tuple[list[Task], Any]:
    """The requests AS3 makes of a body, and the wrapped body its request schema sees."""
    if isinstance(body, list):
        pairs = [wrap(item) for item in body]
        tasks = [Task(copy.copy(r) if isinstance(r, dict) else r, f"/{i}", "" if bare else "/declaration")
                 for i, (r, bare) in enumerate(pairs)]
        return tasks, [r for r, _ in pairs]
    request, bare = wrap(body)
    task = Task(copy.copy(request) if isinstance(request, dict) else request, "")
    if bare:
        task.declaration_key = ""
    return [task], request
