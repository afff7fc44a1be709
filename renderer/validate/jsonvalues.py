"""JSON value helpers for the Ajv walk: JSON types and equality, and fast paths for the tiny
schemas the AS3 schema evaluates thousands of times per declaration (`if class == X`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

_EXACT_TYPES = {type(None): "null", bool: "boolean", int: "integer", str: "string", list: "array", dict: "object"}


def type_of(value: Any) -> str:
    """The JSON type name (1.0 is an integer, as in Ajv)."""
    name = _EXACT_TYPES.get(type(value))  # the common exact types first; subclasses and floats below
    if name is not None:
        return name
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
    "Pool"}}}`), which the walk evaluates thousands of times; None when the schema is not that simple.

    The most common forms get a closure of their own (one call, no loops); the answer is always
    the conjunction of type, const, enum, not, required and properties, as the walk's."""
    if schema is True or schema == {}:
        return _always
    if not isinstance(schema, dict) or not set(schema) <= _SIMPLE:
        return None
    checks: list[Callable[[Any], bool]] = []
    if "type" in schema:
        checks.append(_type_check(schema["type"]))
    if "const" in schema:
        checks.append(_const_check(schema["const"]))
    if "enum" in schema:
        if not isinstance(schema["enum"], list):
            return None
        checks.append(_enum_check(schema["enum"]))
    if "not" in schema:
        inner = compile_simple(schema["not"])
        if inner is None:
            return None
        checks.append(lambda d: not inner(d))
    props = schema.get("properties", {})
    if not isinstance(props, dict):
        return None
    compiled = []
    for key, sub in props.items():
        fn = compile_simple(sub)
        if fn is None:
            return None
        compiled.append((key, fn))
    required = schema.get("required", [])
    if not isinstance(required, list):
        return None
    return _combine(checks, tuple(required), tuple(compiled))


def _always(_data: Any) -> bool:
    return True


def _type_check(wanted: Any) -> Callable[[Any], bool]:
    types = wanted if isinstance(wanted, list) else [wanted]
    names = {t for t in types if isinstance(t, str)}
    if "number" in names:
        names.add("integer")
    accepted = frozenset(names)
    return lambda d: type_of(d) in accepted


def _const_check(const: Any) -> Callable[[Any], bool]:
    if type(const) is str:  # json_equal(d, "x") is exactly this
        return lambda d: type(d) is str and d == const
    return lambda d: json_equal(d, const)


def _enum_check(values: list) -> Callable[[Any], bool]:
    if values and all(type(v) is str for v in values):
        allowed = frozenset(values)
        return lambda d: type(d) is str and d in allowed
    return lambda d: any(json_equal(d, v) for v in values)


def _combine(checks: list[Callable[[Any], bool]], required: tuple, props: tuple) -> Callable[[Any], bool]:
    """One closure for the conjunction; the shapes AS3's `if` conditions use most are unrolled."""
    if not checks and len(required) == 1 and not props:
        (need,) = required
        return lambda d: not isinstance(d, dict) or need in d
    if not checks and len(props) == 1 and required in ((), (props[0][0],)):
        (key, fn), must = props[0], bool(required)
        if must:
            return lambda d: not isinstance(d, dict) or (key in d and fn(d[key]))
        return lambda d: not isinstance(d, dict) or key not in d or fn(d[key])
    if len(checks) == 1 and not required and not props:
        return checks[0]

    def check(data: Any) -> bool:
        for c in checks:
            if not c(data):
                return False
        if isinstance(data, dict):
            for r in required:
                if r not in data:
                    return False
            for key, fn in props:
                if key in data and not fn(data[key]):
                    return False
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
