"""JSON value helpers for the Ajv walk: JSON types and equality, and fast paths for the tiny
schemas the AS3 schema evaluates thousands of times per declaration (`if class == X`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if math.isfinite(value) and value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "unknown"


def has_type(value: Any, wanted: str) -> bool:
    actual = type_of(value)
    return actual == wanted or (wanted == "number" and actual == "integer")


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


_ANNOTATIONS = frozenset({"title", "description", "$comment"})
_SIMPLE = frozenset({"type", "const", "enum", "properties", "required", "not"}) | _ANNOTATIONS


def compile_simple(schema: Any) -> Callable[[Any], bool] | None:
    """A plain predicate for tiny schemas (`if` conditions such as `{"properties": {"class": {"const":
    "Pool"}}}`), which the walk evaluates thousands of times; None when the schema is not that simple."""
    if schema is True or schema == {}:
        return lambda _data: True
    if not isinstance(schema, dict) or not set(schema) <= _SIMPLE:
        return None
    checks: list[Callable[[Any], bool]] = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        checks.append(lambda d: any(has_type(d, t) for t in types))
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda d: json_equal(d, const))
    if "enum" in schema:
        if not isinstance(schema["enum"], list):
            return None
        values = schema["enum"]
        checks.append(lambda d: any(json_equal(d, v) for v in values))
    if "not" in schema:
        inner = compile_simple(schema["not"])
        if inner is None:
            return None
        checks.append(lambda d: not inner(d))
    props = schema.get("properties", {})
    if not isinstance(props, dict):
        return None
    compiled = {}
    for key, sub in props.items():
        fn = compile_simple(sub)
        if fn is None:
            return None
        compiled[key] = fn
    required = schema.get("required", [])
    if not isinstance(required, list):
        return None

    def check(data: Any) -> bool:
        if not all(c(data) for c in checks):
            return False
        if isinstance(data, dict):
            if any(r not in data for r in required):
                return False
            return all(fn(data[k]) for k, fn in compiled.items() if k in data)
        return True

    return check


def class_dispatch(all_of: list) -> dict[Any, list] | None:
    """{class: [then-schemas]} when every entry is `{"if": {"properties": {"class": {"const": C}}}, "then": T}`."""
    table: dict[Any, list] = {}
    for sub in all_of:
        if not isinstance(sub, dict) or set(sub) != {"if", "then"}:
            return None
        cond = sub["if"]
        if not isinstance(cond, dict) or set(cond) != {"properties"} or not isinstance(cond["properties"], dict):
            return None
        props = cond["properties"]
        cls = props.get("class")
        if set(props) != {"class"} or not isinstance(cls, dict) or set(cls) != {"const"}:
            return None
        if not isinstance(cls["const"], str):
            return None
        table.setdefault(cls["const"], []).append(sub["then"])
    return table
