"""The Ajv walk's yes/no answer (`Ajv.is_valid`) compiled into closures, once per schema node.

Why: the default-filling walk asks "does the data match this branch / this `if`?" hundreds of
thousands of times per large declaration, and each answer used to be a generator walk that
looks every keyword up again. The closures here make exactly the same checks in exactly the
same order (first failure wins), count the same budget and depth, and raise the same
exceptions, so every answer is the one the walk gives. Schema nodes with anything unusual
(a keyword value of an unexpected type) are not compiled: `compile_node` returns None and the
caller keeps using the walk for them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from renderer.validate.jsonvalues import json_equal, type_of

if TYPE_CHECKING:
    from renderer.validate.ajv import Ajv

# check(data, depth, budget) -> valid; budget is a one-item list shared by one is_valid call.
Check = Callable[[Any, int, list[int]], bool]
Step = Callable[[Any, int, list[int]], bool]

_NUMBER_KEYS = ("maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum")
# Keywords whose values this compiler understands; any other keyword is ignored by the walk too.
_EXPECTED: dict[str, tuple[type, ...]] = {
    "type": (str, list), "properties": (dict,), "patternProperties": (dict,), "required": (list,),
    "dependencies": (dict,), "anyOf": (list,), "oneOf": (list,), "allOf": (list,), "enum": (list,),
    "items": (dict, list, bool), "additionalItems": (dict, bool), "additionalProperties": (dict, bool),
}


class _Unsupported(Exception):
    """A schema node this compiler does not take on; the walk handles it."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Compiler:
    """Compiles schema nodes of one Ajv instance (shares its $ref resolution, regexes and formats)."""

    def __init__(self, ajv: Ajv, max_depth: int):
        self.ajv = ajv
        self.max_depth = max_depth
        self._nodes: dict[int, list[Check | None]] = {}
        self._keep: list[Any] = []  # schema nodes keyed by id must stay alive

    def compile_node(self, schema: Any) -> Check | None:
        """A check equal to the walk's `next(errors) is None` for this node, or None."""
        try:
            cell = self._cell(schema)
        except _Unsupported:
            return None
        return cell[0]

    # -- nodes -------------------------------------------------------------------------------------
    def _cell(self, schema: Any) -> list[Check | None]:
        key = id(schema)
        cell = self._nodes.get(key)
        if cell is not None:
            if cell[0] is None and len(cell) > 1:
                raise _Unsupported
            return cell
        cell = [None]
        self._nodes[key] = cell
        self._keep.append(schema)
        try:
            cell[0] = self._build(schema, cell)
        except _Unsupported:
            cell.append(None)  # remembered as unsupported
            raise
        return cell

    def _child(self, schema: Any) -> Check:
        """A call through the cell, so recursive references work before they are built."""
        if schema is True or (isinstance(schema, dict) and not schema) or not isinstance(schema, dict | bool):
            return _accept
        if schema is False:
            return _reject
        cell = self._cell(schema)
        built = cell[0]
        if built is not None:
            return built
        return lambda data, depth, budget: cell[0](data, depth, budget)  # type: ignore[misc]

    def _build(self, schema: Any, cell: list) -> Check:
        if schema is True or schema == {} or not isinstance(schema, dict | bool):
            return _accept
        if schema is False:
            return _reject
        max_depth = self.max_depth
        if "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str):
                raise _Unsupported
            target = self._child(self.ajv.resolve(ref))

            def ref_check(data: Any, depth: int, budget: list[int]) -> bool:
                budget[0] -= 1
                if depth > max_depth or budget[0] < 0:
                    return False
                return target(data, depth + 1, budget)

            return ref_check
        for key, kinds in _EXPECTED.items():
            if key in schema and not isinstance(schema[key], kinds):
                raise _Unsupported
        accepted = self._types(schema)
        groups: dict[str, tuple[Step, ...]] = {}
        numbers = self._number_steps(schema)
        if numbers:
            groups["integer"] = groups["number"] = numbers
        strings = self._string_steps(schema)
        if strings:
            groups["string"] = strings
        arrays = self._array_steps(schema)
        if arrays:
            groups["array"] = arrays
        objects = self._object_steps(schema)
        if objects:
            groups["object"] = objects
        generic = self._generic_steps(schema)

        def check(data: Any, depth: int, budget: list[int]) -> bool:
            budget[0] -= 1
            if depth > max_depth or budget[0] < 0:
                return False
            kind = type_of(data)
            if accepted is not None and kind not in accepted:
                return False
            inner = depth + 1
            for step in groups.get(kind, ()):
                if not step(data, inner, budget):
                    return False
            for step in generic:  # noqa: SIM110 (a loop: no generator on the hot path)
                if not step(data, inner, budget):
                    return False
            return True

        return check

    @staticmethod
    def _types(schema: dict) -> frozenset[str] | None:
        wanted = schema.get("type")
        if wanted is None:
            return None
        types = wanted if isinstance(wanted, list) else [wanted]
        names = {t for t in types if isinstance(t, str)}
        if "number" in names:
            names.add("integer")
        return frozenset(names)

    # -- type groups -------------------------------------------------------------------------------
    def _number_steps(self, schema: dict) -> tuple[Step, ...]:
        steps: list[Step] = []
        for key in _NUMBER_KEYS:
            limit = schema.get(key)
            if _is_number(limit):
                steps.append(_LIMITS[key](limit))
        step = schema.get("multipleOf")
        if _is_number(step) and step:
            def multiple(data: Any, _depth: int, _budget: list[int], step: Any = step) -> bool:
                quotient = data / step
                return math.isfinite(quotient) and abs(quotient - round(quotient)) <= 1e-9

            steps.append(multiple)
        return tuple(steps)

    def _string_steps(self, schema: dict) -> tuple[Step, ...]:
        steps: list[Step] = []
        longest, shortest = schema.get("maxLength"), schema.get("minLength")
        if isinstance(longest, int):
            steps.append(lambda data, _d, _b: not len(data) > longest)
        if isinstance(shortest, int):
            steps.append(lambda data, _d, _b: not len(data) < shortest)
        pattern = schema.get("pattern")
        rx = self.ajv._regex_for(pattern) if isinstance(pattern, str) else None
        if rx is not None:
            steps.append(lambda data, _d, _b: rx.search(data) is not None)
        fmt = schema.get("format")
        fmt_check = self.ajv.formats.get(fmt) if isinstance(fmt, str) else None
        if fmt_check is not None:
            steps.append(lambda data, _d, _b: bool(fmt_check(data)))
        return tuple(steps)

    def _array_steps(self, schema: dict) -> tuple[Step, ...]:
        steps: list[Step] = []
        most, least = schema.get("maxItems"), schema.get("minItems")
        if isinstance(most, int):
            steps.append(lambda data, _d, _b: not len(data) > most)
        if isinstance(least, int):
            steps.append(lambda data, _d, _b: not len(data) < least)
        items = schema.get("items")
        if isinstance(items, list):
            subs = [self._child(sub) for sub in items]
            extra = schema.get("additionalItems")
            extra_check = self._child(extra) if isinstance(extra, dict) else None
            count = len(items)

            def tuple_items(data: list, depth: int, budget: list[int]) -> bool:
                for i, sub in enumerate(subs):
                    if i >= len(data):
                        break
                    if not sub(data[i], depth, budget):
                        return False
                if extra is False and len(data) > count:
                    return False
                if extra_check is not None:
                    for i in range(count, len(data)):
                        if not extra_check(data[i], depth, budget):
                            return False
                return True

            steps.append(tuple_items)
        elif items is not None:
            each = self._child(items)

            def every_item(data: list, depth: int, budget: list[int]) -> bool:
                for item in data:  # noqa: SIM110 (a loop: no generator on the hot path)
                    if not each(item, depth, budget):
                        return False
                return True

            steps.append(every_item)
        ajv = self.ajv
        if "contains" in schema and schema["contains"] is not None:
            contains = _judge_of(ajv, schema["contains"])
            steps.append(lambda data, _d, _b: any(contains(item) for item in data))
        if schema.get("uniqueItems") is True:
            steps.append(_unique)
        return tuple(steps)

    def _object_steps(self, schema: dict) -> tuple[Step, ...]:
        steps: list[Step] = []
        props = schema.get("properties") or {}
        most, least = schema.get("maxProperties"), schema.get("minProperties")
        if isinstance(most, int):
            steps.append(lambda data, _d, _b: not len(data) > most)
        if isinstance(least, int):
            steps.append(lambda data, _d, _b: not len(data) < least)
        required = tuple(k for k in (schema.get("required") or ()) if isinstance(k, str))
        if required:
            steps.append(lambda data, _d, _b: all(k in data for k in required))
        deps = schema.get("dependencies") or {}
        listed = [(k, tuple(v)) for k, v in deps.items() if isinstance(v, list)]
        if listed:
            steps.append(lambda data, _d, _b: not any([d for d in dep if d not in data] for k, dep in listed
                                                      if k in data))
        if "propertyNames" in schema and schema["propertyNames"] is not None:
            names = _judge_of(self.ajv, schema["propertyNames"])
            steps.append(lambda data, _d, _b: all(names(key) for key in data))
        nested = [(k, self._child(v)) for k, v in deps.items() if isinstance(v, dict | bool)]
        if nested:
            steps.append(lambda data, depth, budget: all(sub(data, depth, budget) for k, sub in nested if k in data))
        subs = [(k, self._child(v)) for k, v in props.items()]
        if subs:
            def properties(data: dict, depth: int, budget: list[int]) -> bool:
                for k, sub in subs:  # noqa: SIM110 (a loop: no generator on the hot path)
                    if k in data and not sub(data[k], depth, budget):
                        return False
                return True

            steps.append(properties)
        patterns = schema.get("patternProperties") or {}
        additional = schema.get("additionalProperties", True)
        if patterns or additional is not True:
            steps.append(self._rest_step(props, patterns, additional))
        return tuple(steps)

    def _rest_step(self, props: dict, patterns: dict, additional: Any) -> Step:
        compiled = [(self.ajv._regex_for(p), self._child(sub)) for p, sub in patterns.items()]
        compiled = [(rx, sub) for rx, sub in compiled if rx is not None]
        extra = self._child(additional) if isinstance(additional, dict) else None
        forbid = additional is False

        def rest(data: dict, depth: int, budget: list[int]) -> bool:
            for key in list(data):
                matched = False
                for rx, sub in compiled:
                    if rx.search(key):
                        matched = True
                        if not sub(data[key], depth, budget):
                            return False
                if matched or key in props:
                    continue
                if forbid:
                    return False
                if extra is not None and not extra(data[key], depth, budget):
                    return False
            return True

        return rest

    # -- any type ----------------------------------------------------------------------------------
    def _generic_steps(self, schema: dict) -> tuple[Step, ...]:
        steps: list[Step] = []
        ajv = self.ajv
        if "const" in schema:
            const = schema["const"]
            steps.append(lambda data, _d, _b: json_equal(data, const))
        enum = schema.get("enum")
        if isinstance(enum, list):
            steps.append(lambda data, _d, _b: any(json_equal(data, v) for v in enum))
        if "not" in schema:
            negated = _judge_of(ajv, schema["not"])
            steps.append(lambda data, _d, _b: not negated(data))
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list):
                steps.append(_branch_step(ajv, branches, exactly_one=key == "oneOf"))
        all_of = schema.get("allOf")
        if isinstance(all_of, list):
            checks = {id(sub): self._child(sub) for sub in all_of}  # the dispatch picks entries at run time
            for sub in all_of:
                if isinstance(sub, dict) and "then" in sub:
                    checks[id(sub["then"])] = self._child(sub["then"])

            def all_of_step(data: Any, depth: int, budget: list[int]) -> bool:
                for sub in ajv._all_of_for(all_of, data):  # noqa: SIM110 (a loop: no generator on the hot path)
                    if not checks[id(sub)](data, depth, budget):
                        return False
                return True

            steps.append(all_of_step)
        if "if" in schema and ("then" in schema or "else" in schema):
            condition = _judge_of(ajv, schema["if"])
            then = self._child(schema["then"]) if "then" in schema else None
            other = self._child(schema["else"]) if "else" in schema else None

            def if_step(data: Any, depth: int, budget: list[int]) -> bool:
                branch = then if condition(data) else other
                return branch is None or branch(data, depth, budget)

            steps.append(if_step)
        return tuple(steps)


def _judge_of(ajv: Ajv, schema: Any) -> Callable[[Any], bool]:
    """`ajv.is_valid(schema, .)`, looked up on first use (compiling it now could recurse into us)."""
    cell: list[Callable[[Any], bool]] = []

    def judge(data: Any) -> bool:
        if not cell:
            cell.append(ajv.judge(schema))
        return cell[0](data)

    return judge


def _accept(_data: Any, _depth: int, _budget: list[int]) -> bool:
    return True


def _reject(_data: Any, _depth: int, _budget: list[int]) -> bool:
    return False


_LIMITS: dict[str, Callable[[Any], Step]] = {
    "maximum": lambda v: lambda d, _x, _y: d <= v,
    "exclusiveMaximum": lambda v: lambda d, _x, _y: d < v,
    "minimum": lambda v: lambda d, _x, _y: d >= v,
    "exclusiveMinimum": lambda v: lambda d, _x, _y: d > v,
}


def _unique(data: list, _depth: int, _budget: list[int]) -> bool:
    for j in range(len(data)):
        for i in range(j):
            if json_equal(data[i], data[j]):
                return False
    return True


def _branch_step(ajv: Ajv, branches: list, *, exactly_one: bool) -> Step:
    """anyOf/oneOf: every branch is evaluated (as the walk does), each in a fresh is_valid."""
    judges = [_judge_of(ajv, sub) for sub in branches]

    def step(data: Any, _depth: int, _budget: list[int]) -> bool:
        passing = 0
        for judge in judges:
            if judge(data):
                passing += 1
        return passing == 1 if exactly_one else passing > 0

    return step
