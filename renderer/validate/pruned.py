"""The clean verdict's schema cut to the object classes a declaration uses (memory, not speed).

jsonschema-rs compiles the whole AS3 schema (525 definitions) into about 17 MB; a rendered
declaration uses a handful of classes (Service_HTTP, Pool, Monitor...), and most definitions are
reached only through the Application's per-class branches (`if class is X then X's schema`). The
clean verdict (`As3Validator._clean`) is a fast "nothing to look at" and may say no too often, never
yes too often: a no sends the caller the exact way. So its schema may be stricter than AS3's, and
here it is, by exactly this: an Application member must be an object whose `class` is one of the
classes found in the data judged, and the branches of the other classes are dropped. For data
that passes that, a dropped branch's `if` is false (its member has another class), so the cut
schema and the whole one agree; anything else (a member without a class, a class not seen) is a
no, as the whole schema would say or the exact path decides. Only the definitions the cut schema
reaches are compiled (about 6 MB at 1,000 Ingresses).
"""

from __future__ import annotations

from typing import Any

from renderer.validate.rust import reached_definitions


def member_classes(data: Any, definitions: dict[str, Any]) -> frozenset[str]:
    """The `class` values of the Application members in `data` (an ADC, or one Tenant): in each
    tenant's Applications and Shared, and in /Common/Shared, where AS3's schema puts Applications.
    A member this misses makes the verdict a no (the exact path then judges), never a wrong yes."""
    adc_props = _properties(definitions.get("ADC"))
    tenant_props = _properties(definitions.get("Tenant"))
    app_props = _properties(definitions.get("Application"))
    tenants = [data] if isinstance(data, dict) and data.get("class") == "Tenant" else [
        value for key, value in data.items() if key not in adc_props or key == "Common"] if isinstance(
        data, dict) else []
    found: set[str] = set()
    for tenant in tenants:
        if not isinstance(tenant, dict):
            continue
        for key, app in tenant.items():  # its Applications, and Shared (Application_Shared is one too)
            if (key in tenant_props and key != "Shared") or not isinstance(app, dict):
                continue
            for name, member in app.items():
                if name not in app_props and isinstance(member, dict) and isinstance(member.get("class"), str):
                    found.add(member["class"])
    return frozenset(found)


def cut_definitions(definitions: dict[str, Any], root: Any, classes: frozenset[str]) -> dict[str, Any] | None:
    """The definitions `root` reaches once the Application's per-class branches are cut to
    `classes` (see the module docstring); None when the Application is not shaped as expected."""
    application = definitions.get("Application")
    extra = application.get("additionalProperties") if isinstance(application, dict) else None
    branches = extra.get("allOf") if isinstance(extra, dict) else None
    if not isinstance(branches, list) or not all(_branch_class(b) is not None for b in branches):
        return None
    kept = [b for b in branches if _branch_class(b) in classes]
    # AS3's own `properties` stay (its enum of all classes too); the cut only adds requirements
    only = {"type": "object", "required": ["class"], "properties": {"class": {"enum": sorted(classes)}}}
    cut_extra: Any = {**extra, "allOf": [only, *kept]} if classes else False  # no classes: no member at all
    cut = {**definitions, "Application": {**application, "additionalProperties": cut_extra}}
    return reached_definitions(cut, root)  # a reference the cut does not follow: None, the whole schema


def _properties(schema: Any) -> dict[str, Any]:
    props = schema.get("properties") if isinstance(schema, dict) else None
    return props if isinstance(props, dict) else {}


def _branch_class(branch: Any) -> str | None:
    """X of `{"if": {"properties": {"class": {"const": X}}}, "then": ...}`, else None."""
    if not isinstance(branch, dict) or set(branch) != {"if", "then"}:
        return None
    condition = branch["if"]
    if not isinstance(condition, dict) or set(condition) != {"properties"}:
        return None
    props = condition["properties"]
    if not isinstance(props, dict) or set(props) != {"class"} or not isinstance(props["class"], dict) \
            or set(props["class"]) != {"const"} or not isinstance(props["class"]["const"], str):
        return None
    return props["class"]["const"]
