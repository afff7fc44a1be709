"""AS3's format checks, remembered per value: one declaration asks about the same strings twice.

The default-filling walk checks e.g. every pool member address (`f5ip`) to pick the member's
schema branch, and the jsonschema-rs verdict checks the same addresses again through the same
Python callbacks. The checks are pure functions of the string, so their answers are kept (up to
MAX_REMEMBERED per format, then forgotten all at once). Plain dotted-quad IPv4 addresses, the
bulk of a declaration, are accepted by a regular expression, which gives is_f5ip's own answer
for exactly those strings (no leading zeros, each part 0-255).
"""

from __future__ import annotations

import re
from typing import Any

from renderer.validate.ajv import AjvError
from renderer.validate.formats import FORMATS, IPV6_DOUBT, FormatCheck, ipv6_doubt, is_f5ip

MAX_REMEMBERED = 1_000_000
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
DOTTED_QUAD = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


def fast_f5ip(value: str) -> bool:
    """is_f5ip, without the ipaddress module for plain IPv4 addresses."""
    return DOTTED_QUAD.fullmatch(value) is not None or is_f5ip(value)


def remembered(check: FormatCheck) -> FormatCheck:
    answers: dict[str, bool] = {}

    def cached(value: str) -> bool:
        answer = answers.get(value)
        if answer is None:
            if len(answers) >= MAX_REMEMBERED:
                answers.clear()
            answer = answers[value] = bool(check(value))
        return answer

    cached.__wrapped__ = check  # type: ignore[attr-defined]  # what it answers for (quads_in_rust)
    return cached


class DoubtfulAddresses:
    """f5ip values AS3 accepts that are no IPv6 address (seen by the format check), and where they are."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        self.log: set[str] | None = None  # while set: every doubtful value checked (memo or not)
        self._answers = remembered(fast_f5ip)
        self._doubt = remembered(ipv6_doubt)

    def check(self, value: str) -> bool:
        """The f5ip format check (remembered per value); every call reaches the doubt check, so the
        `log` of one tenant's checks is complete even for values another tenant had checked."""
        answer = self._answers(value)
        if answer and ":" in value and (value in self.values or (
                self._doubt(value) and len(self.values) < MAX_REMEMBERED)):
            self.values.add(value)
            if self.log is not None:
                self.log.add(value)
        return answer

    def findings(self, data: Any) -> list[AjvError]:
        """A warning at each string of `data` that is one of those values (nothing to do when none)."""
        if not self.values:
            return []
        found: list[AjvError] = []
        todo: list[tuple[Any, str]] = [(data, "")]
        while todo:
            node, pointer = todo.pop()
            if isinstance(node, dict):
                todo += [(v, f"{pointer}/{k.replace('~', '~0').replace('/', '~1')}") for k, v in node.items()]
            elif isinstance(node, list):
                todo += [(v, f"{pointer}/{i}") for i, v in enumerate(node)]
            elif isinstance(node, str) and node in self.values:
                found.append(AjvError(pointer, "f5ip(IPv6)", IPV6_DOUBT, warning=True))
        return sorted(found, key=lambda e: e.pointer)


def memo_formats(doubtful: DoubtfulAddresses | None = None) -> dict[str, FormatCheck]:
    """FORMATS with remembered answers (one set of memories per caller)."""
    checks = {name: remembered(check) for name, check in {**FORMATS, "f5ip": fast_f5ip}.items()}
    if doubtful is not None:
        checks["f5ip"] = doubtful.check  # remembered inside, so that the log sees every call
    return checks


# -- dotted quads answered inside jsonschema-rs ------------------------------------------------------
QUAD_PATTERN = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"  # what DOTTED_QUAD fullmatches (ECMA: `$` is the end)
_ONE = ("additionalItems", "additionalProperties", "contains", "propertyNames", "if", "then", "else", "not")
_MANY = ("allOf", "anyOf", "oneOf")
_NAMED = ("properties", "patternProperties", "definitions", "dependencies")


def quads_in_rust(formats: dict[str, FormatCheck]) -> bool:
    """True when `formats["f5ip"]` accepts every dotted quad (ours: is_f5ip, fast_f5ip, either
    remembered, or a DoubtfulAddresses' check, which logs only values with a colon); QuadFirst
    relies on it."""
    check = formats.get("f5ip")
    check = getattr(check, "__wrapped__", check)  # remembered(...)
    return check is is_f5ip or check is fast_f5ip or getattr(check, "__func__", None) is DoubtfulAddresses.check


class QuadFirst:
    """Schemas for jsonschema-rs yes/no verdicts in which `format: f5ip` is tried as a pattern first.

    Why: jsonschema-rs calls back into Python for every string with a custom format, and a 1k
    declaration has tens of thousands of pool member addresses, nearly all plain dotted quads.
    `{"format": "f5ip"}` becomes `{"allOf": [{"anyOf": [{"pattern": QUAD_PATTERN}, {"format":
    "f5ip"}]}]}`: a string the pattern matches is one the format accepts (quads_in_rust), any other
    is still asked of the format, and a non-string passes both ways; so every verdict is the same.
    Nodes with `$ref` are left as they are (Draft 7 ignores a `$ref`'s siblings), and only
    subschema keywords are followed (`const`, `enum`, `default` and unknown keywords are data).
    New allOf entries go last, so JSON pointers into the schema keep their targets. Each node is
    rewritten once per instance; subtrees without f5ip stay the same objects."""

    def __init__(self) -> None:
        self._memo: dict[int, tuple[Any, Any]] = {}  # id(node) -> (node, its rewrite): node stays alive

    def schema(self, node: Any) -> Any:
        if type(node) is not dict:
            return node
        hit = self._memo.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        self._memo[id(node)] = (node, node)  # a cycle (never in JSON) ends here
        out = node if "$ref" in node else self._rewrite(node)
        self._memo[id(node)] = (node, out)
        return out

    def definitions(self, definitions: dict[str, Any]) -> dict[str, Any]:
        return {name: self.schema(sub) for name, sub in definitions.items()}

    def _rewrite(self, node: dict) -> dict:
        changed: dict[str, Any] = {}
        for key in _ONE:
            if key in node:
                new = self.schema(node[key])
                if new is not node[key]:
                    changed[key] = new
        items = node.get("items")
        if type(items) is list:
            new_items = [self.schema(sub) for sub in items]
            if any(a is not b for a, b in zip(new_items, items, strict=True)):
                changed["items"] = new_items
        elif items is not None:
            new = self.schema(items)
            if new is not items:
                changed["items"] = new
        for key in _MANY:
            subs = node.get(key)
            if type(subs) is list:
                new_subs = [self.schema(sub) for sub in subs]
                if any(a is not b for a, b in zip(new_subs, subs, strict=True)):
                    changed[key] = new_subs
        for key in _NAMED:
            subs = node.get(key)
            if type(subs) is dict:
                new_named = {name: self.schema(sub) for name, sub in subs.items()}
                if any(new_named[name] is not sub for name, sub in subs.items()):
                    changed[key] = new_named
        quad = node.get("format") == "f5ip" and type(node.get("allOf", [])) is list
        if not changed and not quad:
            return node
        out = {**node, **changed}
        if quad:
            del out["format"]
            check = {"anyOf": [{"pattern": QUAD_PATTERN}, {"format": "f5ip"}]}
            out["allOf"] = [*out.get("allOf", []), check]
        return out
