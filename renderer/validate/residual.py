"""A schema's yes/no on objects whose keys and value types are known, reduced to what is left to check.

Why: the defaults walk asks, for every pool member of a large declaration (ten per pool, 12,000
at 1k), which `oneOf` branch of Address_Discovery_Common it takes: jsonschema-rs on the whole
member, about 2 us a call. A recorded fill program (fill.py) replays only objects of one shape,
and at the place of that question the object's keys and its values' types are always the same
(the shape, plus the program's own defaults). Given those, most of the branch is decided:
`required`, `type` and `minProperties` of the object, absent properties, `type` of its values,
the `if` whose answer follows. What is left is, for pool members, one check of
`serverAddresses` (strings, unique, each an f5ip), done here in Python with the same format
callable (a dotted quad by the regex that callable would answer it with).

`Residuals.choice` gives a chooser that answers the recorded branch when that check passes and
asks the full chooser otherwise, so a no (or anything unexpected) costs time, never a wrong
answer. It is built only when the recorded answer is certain to be the chooser's: the branches
tried before it are tiny schemas (plain Python predicates, no format callbacks) that the known
keys and types reject, and at most one check is left, under conjunctions only (nothing under
anyOf/oneOf/not/if, where jsonschema-rs might stop before the part we would skip). So a yes
runs the format callable on exactly the strings jsonschema-rs would (the DoubtfulAddresses log
sees the same values), and a no runs it on a prefix of those before the full chooser runs.
Any keyword not listed here makes the whole thing decline (None): the chooser stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from renderer.validate.formatmemo import DOTTED_QUAD, quads_in_rust
from renderer.validate.jsonvalues import compile_simple

_ANNOTATIONS = frozenset({"title", "description", "$comment", "default", "examples"})
_JSON_TYPES = {type(None): "null", bool: "boolean", int: "integer", str: "string", list: "array", dict: "object"}
# keywords that constrain only values of one JSON type (true for any other type)
_ONLY_FOR = {
    "string": frozenset({"pattern", "minLength", "maxLength", "format"}),
    "number": frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}),
    "array": frozenset({"items", "additionalItems", "minItems", "maxItems", "uniqueItems", "contains"}),
    "object": frozenset({"properties", "patternProperties", "additionalProperties", "required", "minProperties",
                         "maxProperties", "dependencies", "propertyNames"}),
}
_TYPED = frozenset().union(*_ONLY_FOR.values())
_MAX_DEPTH = 16  # $ref chains followed

# A residual: True or False (decided by the keys and types), or the one check left (a _Property),
# or None (not reducible: keep the full judge)


class _Property:
    """The check left for one property's value, as a check of the object."""

    __slots__ = ("check", "name")

    def __init__(self, name: str, check: Callable[[Any], bool]):
        self.name = name
        self.check = check

    def __call__(self, obj: dict) -> bool:
        return self.check(obj[self.name])


class _Decline(Exception):
    """The schema has something this module does not reduce."""


class Residuals:
    """Reductions for one Ajv instance (its root for `$ref`, its format callables)."""

    def __init__(self, ajv: Any):
        self.ajv = ajv
        root = ajv.root
        definitions = root.get("definitions") if isinstance(root, dict) else None
        self._definitions = definitions if isinstance(definitions, dict) else {}

    def choice(self, branches: list, data: dict, pick: int, order: list[int],
               chooser: Callable[[Any], int | None]) -> Callable[[Any], int | None] | None:
        """A chooser equal to `chooser` on every object with `data`'s keys and value types (at the
        same point of the walk), or None. `order`: the branches in the order `chooser` tries them
        on such an object; `pick`: its answer on `data`."""
        known = {key: type(value) for key, value in data.items()}
        for i in order:
            if i == pick:
                break
            if compile_simple(branches[i]) is None or self.of_object(branches[i], known) is not False:
                return None
        else:
            return None
        rest = self.of_object(branches[pick], known)
        if rest is True:
            return lambda _data: pick
        if rest is None or rest is False or not rest(data):
            return None
        name, check = rest.name, rest.check  # one call less per object than rest(obj)

        def choose(obj: Any) -> int | None:
            return pick if check(obj[name]) else chooser(obj)

        return choose

    def of_object(self, schema: Any, known: dict[str, type]) -> bool | _Property | None:
        """The residual of `schema` on objects with exactly the keys of `known`, of those types."""
        try:
            parts = self._object(schema, known, 0)
        except _Decline:
            return None
        if parts is False:
            return False
        if not parts:
            return True
        if len(parts) > 1:
            return None
        return parts[0]

    # -- reductions: a list of checks (all must hold), or False ------------------------------------
    def _object(self, schema: Any, known: dict[str, type], depth: int) -> list[_Property] | bool:
        if depth > _MAX_DEPTH:
            raise _Decline
        if schema is True:
            return []
        if schema is False:
            return False
        if type(schema) is not dict:
            raise _Decline
        schema = self._target(schema, depth)
        if schema is True or schema is False:
            return self._object(schema, known, depth + 1)
        checks: list[_Property] = []
        for key, value in schema.items():
            if key in _ANNOTATIONS:
                continue
            if key == "type":
                if not _type_allows(value, "object"):
                    return False
            elif key == "required":
                if type(value) is not list or not all(type(k) is str for k in value):
                    raise _Decline
                if not all(k in known for k in value):
                    return False
            elif key in ("minProperties", "maxProperties"):
                if type(value) is not int:
                    raise _Decline
                if (len(known) < value) if key == "minProperties" else (len(known) > value):
                    return False
            elif key == "properties":
                if type(value) is not dict:
                    raise _Decline
                for name, sub in value.items():
                    if name in known:
                        found = self._value(sub, name, known[name], depth + 1)
                        if found is False:
                            return False
                        checks += found
            elif key == "allOf":
                if type(value) is not list:
                    raise _Decline
                for sub in value:
                    found = self._object(sub, known, depth + 1)
                    if found is False:
                        return False
                    checks += found
            elif key in ("anyOf", "oneOf"):
                if type(value) is not list:
                    raise _Decline
                answers = [self._decided(self._object(sub, known, depth + 1)) for sub in value]
                count = sum(answers)
                if (count == 0) if key == "anyOf" else (count != 1):
                    return False
            elif key == "not":
                if self._decided(self._object(value, known, depth + 1)):
                    return False
            elif key == "if":
                branch = "then" if self._decided(self._object(value, known, depth + 1)) else "else"
                if branch in schema:
                    found = self._object(schema[branch], known, depth + 1)
                    if found is False:
                        return False
                    checks += found
            elif key in ("then", "else"):
                continue  # with `if` (alone they mean nothing)
            elif key in _TYPED and key not in _ONLY_FOR["object"]:
                continue  # a keyword for another type: true of an object
            else:
                raise _Decline  # additionalProperties, dependencies, enum, const, unknown keywords...
        return checks

    def _value(self, schema: Any, name: str, kind: type, depth: int) -> list[_Property] | bool:
        """The residual of a property's schema on its value (of Python type `kind`)."""
        if schema is True:
            return []
        if schema is False:
            return False
        if type(schema) is not dict:
            raise _Decline
        json_type = _JSON_TYPES.get(kind)
        if json_type is None or depth > _MAX_DEPTH:
            raise _Decline
        schema = self._target(schema, depth)
        if schema is True or schema is False:
            return self._value(schema, name, kind, depth + 1)
        live = False
        for key, value in schema.items():
            if key in _ANNOTATIONS:
                continue
            if key == "type":
                if not _type_allows(value, json_type):
                    return False
            elif key in _TYPED:
                if key in _ONLY_FOR["number" if json_type == "integer" else json_type]:
                    live = True
            else:
                raise _Decline  # enum, const, combinators, unknown keywords: not reduced
        if not live:
            return []
        check = _string_items(schema, self.ajv.formats) if json_type == "array" else None
        if check is None:
            raise _Decline
        return [_Property(name, check)]

    def _decided(self, found: list[_Property] | bool) -> bool:
        """A reduction that must be True or False (a check under anyOf/oneOf/not/if declines)."""
        if found is False:
            return False
        if found:
            raise _Decline
        return True

    def _target(self, schema: dict, depth: int) -> Any:
        """The schema a `{"$ref": "#/definitions/X"}` names (followed), else the schema itself."""
        while "$ref" in schema:
            ref = schema["$ref"]
            if set(schema) - _ANNOTATIONS != {"$ref"} or type(ref) is not str or depth > _MAX_DEPTH:
                raise _Decline
            name = ref[len("#/definitions/"):]
            if not ref.startswith("#/definitions/") or "/" in name or "~" in name or name not in self._definitions:
                raise _Decline
            schema = self._definitions[name]
            depth += 1
            if type(schema) is not dict:
                if schema is True or schema is False:
                    return schema
                raise _Decline
        return schema


def _type_allows(wanted: Any, json_type: str) -> bool:
    types = wanted if type(wanted) is list else [wanted]
    if not all(type(t) is str for t in types):
        raise _Decline
    return json_type in types or (json_type == "integer" and "number" in types)


_ARRAY_KEYS = frozenset({"type", "items", "uniqueItems", "minItems", "maxItems"})
_ITEM_KEYS = frozenset({"type", "format"})


def _string_items(schema: dict, formats: dict[str, Any]) -> Callable[[list], bool] | None:
    """`{"items": {"type": "string", "format": F}, "uniqueItems": ..., "minItems"/"maxItems": ...}` on a
    list, in Python: the callback-free parts first, then F on each string in order; False also for
    anything unexpected (a str subclass...), which sends the caller to the full judge."""
    if not set(schema) - _ANNOTATIONS <= _ARRAY_KEYS:
        return None
    items = schema.get("items", True)
    unique = schema.get("uniqueItems", False)
    low, high = schema.get("minItems", 0), schema.get("maxItems")
    if type(items) is not dict or not set(items) - _ANNOTATIONS <= _ITEM_KEYS or items.get("type") != "string" \
            or type(unique) is not bool or type(low) is not int or not (high is None or type(high) is int):
        return None
    fmt = formats.get(items["format"]) if "format" in items else None
    if "format" in items and fmt is None:
        return None
    # a dotted quad is an f5ip (quads_in_rust), and asking the format callable about it leaves no
    # trace (it logs values with a colon only): such values are answered by the regex alone
    quad = DOTTED_QUAD.fullmatch if items.get("format") == "f5ip" and quads_in_rust(formats) else None

    def check(values: list) -> bool:
        if len(values) < low or (high is not None and len(values) > high):
            return False
        for value in values:
            if type(value) is not str:
                return False
        if unique and len(set(values)) != len(values):
            return False
        if quad is not None:
            for value in values:
                if quad(value) is None and not fmt(value):
                    return False
        elif fmt is not None:
            for value in values:
                if not fmt(value):
                    return False
        return True

    return check
