"""AS3's property-name check, made before the schema: "Invalid data property: X".

AS3 3.56.0 (its `validator.isValid`) collects every word its ADC schema mentions (property names,
`enum` and `const` values, minus the names of classes and the JSON-schema keywords) and rejects a
declaration that uses any property name outside that set, even where the schema itself would
allow additional properties (F5's own example-mcp-irule.json fails it with the typo `proflieSSE`).
The words of the declaration are gathered with a few rules of AS3's own: names of objects that
have a `class` are skipped (they are tenants, applications, objects), as are numeric keys,
`constants` and `$value`; `constants` and `verifiers` are not looked into, nor are the objects
that hold free-form data (`metadata`, `localZones`, `forwardZones`, `environmentVariables`); the
values of `class`, `template` and `logLevel` count as words.

The words form an ordered list with removals, and AS3 reports the first word left that is not
allowed. Removals only ever take words out, so when every word a declaration *could* contribute
is allowed (one pass over the data, the common case) the answer is "valid" without the ordered
replay; only otherwise is AS3's list replayed exactly (`_Replay`) to find the word it reports.
"""

from __future__ import annotations

import math
import re
from typing import Any

from renderer.validate.jsregex import js_pattern

# JSON-schema keywords AS3 does not count as words (as in AS3 3.56.0).
_KEYWORDS = frozenset({
    "multipleOf", "exclusiveMinimum", "exclusiveMaximum", "minimum", "minLength", "maxLength", "pattern",
    "maxProperties", "minProperties", "additionalItems", "patternProperties", "additionalProperties",
    "propertyNames", "dependencies", "required", "minItems", "maxItems", "uniqueItems", "items",
    "minimumProperties", "maximumProperties", "enum", "default", "not", "oneOf", "anyOf", "allOf", "if",
    "else", "then", "$comment", "readOnly",
})
# Objects whose insides are free-form: their name counts, their contents are not looked at.
_FREE_FORM = frozenset({"metadata", "localZones", "forwardZones", "environmentVariables"})
_NOT_LOOKED_INTO = _FREE_FORM | {"constants", "verifiers"}
_VALUE_WORDS = ("class", "template", "logLevel")
_VALUE_SET = frozenset(_VALUE_WORDS)
# Definitions that come from AS3's request schema, not from its ADC schema (the file AS3 reads).
REQUEST_DEFINITIONS = frozenset({"ADC", "ADC_Array", "AS3", "AS3_Array", "AS3_Patch_Body", "AS3_Patch_Item"})
_JS_SPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_NUMBER = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|0[xX][0-9a-fA-F]+"
                        r"|0[oO][0-7]+|0[bB][01]+")


def js_numeric(key: str) -> bool:
    """JavaScript's `!Number.isNaN(Number(key))` ("" and "0x1f" and " 12 " are numbers there)."""
    text = key.strip(_JS_SPACE)
    return text == "" or _JS_NUMBER.fullmatch(text) is not None


def js_string(value: Any) -> str:
    """JavaScript's String(value) for JSON values (how AS3 prints a word in its message)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value) if not (isinstance(value, float) and math.isinf(value)) else "Infinity"
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    return "[object Object]"


def _js_items(node: Any) -> list[tuple[str, Any]]:
    """(key, value) pairs in JavaScript's Object.keys order: array-index keys first, ascending."""
    if isinstance(node, list):
        return [(str(i), v) for i, v in enumerate(node)]
    keys = list(node)
    if any(k[:1].isdigit() for k in keys):
        index = [k for k in keys if k.isdigit() and str(int(k)) == k and int(k) < 2**32 - 1]
        if index:
            chosen = set(index)
            keys = sorted(index, key=int) + [k for k in keys if k not in chosen]
    return [(k, node[k]) for k in keys]


def _word_key(value: Any) -> Any:
    """A hashable stand-in for JavaScript's `===` on scalars (True is not 1; objects never equal)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return ("const", value)
    if isinstance(value, int | float):
        return ("number", float(value))
    return ("object", id(value))


def adc_schema_of(schema: dict[str, Any]) -> dict[str, Any]:
    """AS3's adc-schema.json rebuilt from the published as3-schema.json (which embeds it)."""
    definitions = schema.get("definitions") or {}
    adc = dict(definitions.get("ADC") or {})
    rebuilt: dict[str, Any] = {k: schema[k] for k in ("$id", "$schema") if k in schema}
    rebuilt.update(adc)
    rebuilt["definitions"] = {k: v for k, v in definitions.items() if k not in REQUEST_DEFINITIONS}
    return rebuilt


class PropertyNames:
    """The words AS3's schema allows, and the check of one declaration against them."""

    def __init__(self, schema: dict[str, Any] | None, tables: tuple[frozenset, list[str]] | None = None):
        """`tables`: what `tables()` returned for the same schema (kept on disk: the walk over the
        1.2 MB schema is a tenth of a second per process); else they are collected from `schema`."""
        if tables is None:
            words: dict[Any, None] = {}
            patterns: dict[str, None] = {}
            self._collect(adc_schema_of(schema or {}), words, patterns)
            tables = (frozenset(words), list(patterns))
        self.words, self._pattern_texts = tables
        self.patterns = [rx for rx in (js_pattern(p) for p in self._pattern_texts) if rx is not None]
        self._verdicts: dict[Any, bool] = {}

    def tables(self) -> tuple[frozenset, list[str]]:
        """The schema-derived part, as plain data (marshal keeps frozensets and tuples). Words that
        stand for an object of the schema (keyed by its id) are left out: no data is that object,
        and another process could reuse the id."""
        words = frozenset(w for w in self.words if not (type(w) is tuple and w[0] == "object"))
        return words, list(self._pattern_texts)

    @staticmethod
    def _collect(root: Any, words: dict, patterns: dict) -> None:
        """AS3's walk over its schema, depth first in key order (a word can go and come back)."""
        stack = [iter(_js_items(root))]
        pattern_level = [False]
        while stack:
            try:
                key, value = next(stack[-1])
            except StopIteration:
                stack.pop()
                pattern_level.pop()
                continue
            if key in _FREE_FORM:
                words[key] = None
                continue
            if pattern_level[-1]:
                patterns[key] = None
            elif key not in _KEYWORDS:
                words[key] = None
            if key == "enum" and isinstance(value, list):
                for item in value:
                    words[_word_key(item)] = None
            if key == "const":
                words[_word_key(value)] = None
            if (isinstance(value, dict) and truthy(value.get("class"))) or key == "class" or js_numeric(key):
                words.pop(key, None)
            if isinstance(value, dict | list):
                stack.append(iter(_js_items(value)))
                pattern_level.append(key == "patternProperties")

    def allowed(self, word: Any) -> bool:
        key = _word_key(word)
        hit = self._verdicts.get(key)
        if hit is None:
            text = js_string(word)
            hit = key in self.words or any(rx.search(text) for rx in self.patterns)
            if len(self._verdicts) < 100_000:
                self._verdicts[key] = hit
        return hit

    def first_invalid(self, declaration: Any, words: list[Any] | None = None) -> tuple[str, str] | None:
        """(word, JSON pointer of its first use) of the word AS3 reports, or None when AS3 accepts.

        `words`: the candidates scan.py collected in its pass (else they are collected here)."""
        if all(self.allowed(w) for w in (_candidates(declaration) if words is None else words)):
            return None
        return _Replay(self).run(declaration)


def truthy(value: Any) -> bool:
    """JavaScript truthiness of a JSON value."""
    if isinstance(value, dict | list):
        return True
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


def _candidates(declaration: Any) -> list[Any]:
    """Every word that could be left in AS3's list (a superset: only the sure removals are left out).

    A key whose value is an object with a `class` is removed where it occurs, so only its other
    occurrences can leave it in the list; `class`, `constants`, `$value` and numeric keys never stay.
    The order of the words is the walk's, which callers do not rely on (they ask `all(allowed)`).
    """
    known: set[str] = {"class", "constants", "$value"}  # decided: already a candidate, or never one
    words: list[Any] = []
    todo = [declaration]
    pop, push = todo.pop, todo.append
    while todo:  # every container once (the hot loop of a large declaration: no temporary lists)
        node = pop()
        kind = type(node)
        if kind is dict:
            keys = node.keys()
            if not keys <= known:
                for key in keys - known:
                    value = node[key]
                    if type(value) is dict and truthy(value.get("class")):
                        continue  # removed here; another occurrence may still keep it
                    known.add(key)
                    if not js_numeric(key):
                        words.append(key)
            if not _VALUE_SET.isdisjoint(keys):
                for key in _VALUE_WORDS:
                    if key in node:
                        words.append(node[key])
            if _NOT_LOOKED_INTO.isdisjoint(keys):
                for value in node.values():
                    if type(value) is dict:
                        push(value)
                    elif type(value) is list:  # looked into at once (what popping it would do), not queued
                        for item in value:
                            if type(item) is dict or type(item) is list:
                                push(item)
            else:
                todo += [v for k, v in node.items() if k not in _NOT_LOOKED_INTO and isinstance(v, dict | list)]
        elif kind is list:
            for value in node:
                if type(value) is dict or type(value) is list:
                    push(value)
        elif isinstance(node, dict | list):  # subclasses: the same words
            push(dict(node) if isinstance(node, dict) else list(node))
    return words


class _Replay:
    """AS3's ordered word list, replayed exactly (only for declarations that have a bad word)."""

    def __init__(self, names: PropertyNames):
        self.names = names
        self.words: list[Any] = []
        self.count: dict[Any, int] = {}
        self.first_at: dict[Any, str] = {}

    def _has(self, word: Any) -> bool:
        return self.count.get(_word_key(word), 0) > 0

    def _push(self, word: Any, pointer: str) -> None:
        key = _word_key(word)
        self.words.append(word)
        self.count[key] = self.count.get(key, 0) + 1
        self.first_at.setdefault(key, pointer)

    def _remove(self, word: Any) -> None:
        """`arr.splice(arr.indexOf(word), 1)`: the first copy, or the last word when there is none."""
        key = _word_key(word)
        if self.count.get(key, 0) > 0:
            for i, present in enumerate(self.words):
                if _word_key(present) == key:
                    del self.words[i]
                    break
            self.count[key] -= 1
        elif self.words:
            last = self.words.pop()
            self.count[_word_key(last)] -= 1

    def run(self, declaration: Any) -> tuple[str, str] | None:
        self._walk(declaration, "")
        for word in self.words:
            if not self.names.allowed(word):
                return js_string(word), self.first_at.get(_word_key(word), "")
        return None

    def _walk(self, root: Any, root_pointer: str) -> None:
        """AS3's recursive walk over the declaration, in its order, without recursion."""
        if not isinstance(root, dict | list):
            return
        stack = [iter(_js_items(root))]
        pointers = [root_pointer]
        while stack:
            try:
                key, value = next(stack[-1])
            except StopIteration:
                stack.pop()
                pointers.pop()
                continue
            here = f"{pointers[-1]}/{key.replace('~', '~0').replace('/', '~1')}"
            if key in _FREE_FORM:
                self._push(key, here)
                continue
            if not self._has(key):
                self._push(key, here)
            if key in _VALUE_WORDS and not self._has(value):
                self._push(value, here)
            if (isinstance(value, dict) and truthy(value.get("class"))) or key == "class" \
                    or js_numeric(key) or key in ("constants", "$value"):
                self._remove(key)
            if isinstance(value, str) and value in ("ADC", "AS3"):
                self._remove(value)
            if key not in ("constants", "verifiers") and isinstance(value, dict | list):
                stack.append(iter(_js_items(value)))
                pointers.append(here)
