"""A small Draft-7 evaluator that walks a schema the way Ajv 6 does, to fill defaults and explain errors.

Why not only jsonschema-rs: AS3 runs Ajv 6 with `useDefaults`, which writes `default` values into
the data at the start of each object's keyword group, before `required` is checked. Inside
`anyOf`/`oneOf` we fill only the branch the data matches once that branch's defaults are in (AS3
accepts F5's examples only that way), never inside `not`/`if`. No off-the-shelf Python validator
does that, and Ajv reports only its first error, in its own keyword order and wording. This
module reproduces those three things; the fast verdict stays with jsonschema-rs (see as3.py).
The same walk's yes/no (`is_valid`) runs compiled (compiled.py), and As3Validator fills large
declarations with fill.py, which replays this walk per object shape; both give its exact results.

Keyword order per schema node, as Ajv 6 generates it: `$ref` alone when present (siblings are
ignored in draft-07), then the group for the data's type (number: maximum, minimum, multipleOf,
format; string: maxLength, minLength, pattern, format; array: maxItems, minItems, items,
contains, uniqueItems; object: defaults, maxProperties, minProperties, required, dependencies,
propertyNames, properties/patternProperties/additionalProperties), then const, enum, not,
anyOf, oneOf, allOf, if.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from renderer.validate.compiled import Compiler
from renderer.validate.formats import FormatCheck
from renderer.validate.jsonvalues import class_dispatch, compile_simple, has_type, json_equal, type_of
from renderer.validate.jsregex import js_pattern
from renderer.validate.rust import RustJudges


@dataclass(frozen=True)
class AjvError:
    """One schema violation: Ajv's dataPath (a JSON pointer), keyword and message."""

    pointer: str
    keyword: str
    message: str
    text: str = ""  # AS3's whole message when it is not "<pointer>: <message>" (checks outside the schema)
    warning: bool = False  # ours, not AS3's: AS3 accepts the value

    def __str__(self) -> str:
        return self.text or f"{self.pointer or '/'}: {self.message}"


@dataclass
class PointerSite:
    """A string the schema tags with f5PostProcess `pointer`: AS3 resolves it after validation."""

    pointer: str
    value: Any
    target_schema: Any


@dataclass
class _Ctx:
    fill: bool
    all_errors: bool
    pointers: list[PointerSite] | None = None
    depth: int = 0
    budget: list[int] = field(default_factory=lambda: [BUDGET])
    checking: bool | None = None  # None: check exactly when not filling; True with fill: both, in order

    def __post_init__(self) -> None:
        if self.checking is None:
            self.checking = not self.fill


MAX_DEPTH = 200
BUDGET = 2_000_000  # schema nodes one is_valid/errors walk may visit
# The defaults walk is linear in the declaration (about 530 schema nodes per Ingress): its limit is
# far higher, so a large declaration is filled (and its pointers collected) to the end.
FILL_BUDGET = 200_000_000


def escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _num(value: Any) -> str:
    return json.dumps(value)


def _js_json(value: Any) -> str:
    """JSON.stringify(value), as AS3 appends it to enum, const and pattern messages."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_SECRET_WORDS = ("key", "secret", "passphrase", "cipher", "certificate", "password", "token", "protected")


def _has_ref(node: Any) -> bool:
    todo = [node]
    while todo:
        current = todo.pop()
        if isinstance(current, dict):
            if "$ref" in current:
                return True
            todo += current.values()
        elif isinstance(current, list):
            todo += current
    return False


def _not_labels(root: Any) -> dict[int, str]:
    """For every schema node under `root` that has `not`: the schemaPath segment Ajv 6 puts before it."""
    labels: dict[int, str] = {}
    definitions = root.get("definitions") if isinstance(root, dict) else None
    todo: list[tuple[Any, str]] = [(root, "#")]
    while todo:
        node, key = todo.pop()
        if isinstance(node, dict):
            if "not" in node:
                labels[id(node)] = key
            for child_key, child in node.items():
                if node is definitions and isinstance(child, dict) and _has_ref(child):
                    todo.append((child, "#"))  # compiled on its own: its schemaPath starts at `#`
                else:
                    todo.append((child, child_key))
        elif isinstance(node, list):
            todo += [(child, str(i)) for i, child in enumerate(node)]
    return labels


def _secret_path(path: str) -> bool:
    """A value that may be a secret: AS3 would print it in a pattern error, we do not."""
    lower = path.lower()
    return any(word in lower for word in _SECRET_WORDS)


class Ajv:
    """Evaluate data against subschemas of one root schema, Ajv-6 style."""

    def __init__(self, root: dict[str, Any], formats: dict[str, FormatCheck]):
        self.root = root
        self.formats = formats
        self._refs: dict[str, Any] = {}
        self._regex: dict[str, re.Pattern[str] | None] = {}
        self._quick: dict[int, tuple[Any, Callable[[Any], bool]]] = {}
        self._compiler = Compiler(self, MAX_DEPTH)
        self._dispatch: dict[int, dict[Any, list] | None] = {}
        self._picks: dict[tuple[int, str], int] = {}
        self._rust = RustJudges(self)
        self._keep_picks: list[Any] = []  # branch lists keyed by id stay alive
        self._not_labels: dict[int, str] | None = None  # id of a schema with `not` -> AS3's label for it

    # -- public ------------------------------------------------------------------------------------
    def resolve(self, ref: str) -> Any:
        """A local `#/...` reference; anything else resolves to the empty (accept-all) schema."""
        hit = self._refs.get(ref)
        if hit is None:
            node: Any = self.root
            if ref.startswith("#"):
                for token in ref[1:].split("/")[1:]:
                    token = token.replace("~1", "/").replace("~0", "~")
                    node = node.get(token, {}) if isinstance(node, dict) else {}
            else:
                node = {}
            self._refs[ref] = hit = node
        return hit

    def errors(self, schema: Any, data: Any, path: str = "", *, all_errors: bool = True) -> list[AjvError]:
        """Errors in Ajv's order (the first one is what AS3 reports); data is not changed."""
        return list(self._validate(schema, data, path, True, _Ctx(fill=False, all_errors=all_errors)))

    def is_valid(self, schema: Any, data: Any) -> bool:
        return self.judge(schema)(data)

    def judge(self, schema: Any) -> Callable[[Any], bool]:
        """`is_valid` for one schema node as a function of the data (made once per node)."""
        hit = self._quick.get(id(schema))
        if hit is None or hit[0] is not schema:
            hit = (schema, self._judge(schema))
            self._quick[id(schema)] = hit
        return hit[1]

    def _judge(self, schema: Any) -> Callable[[Any], bool]:
        """The fastest exact yes/no for this node: the tiny-schema predicate, the compiled walk, or the walk."""
        quick = compile_simple(schema)
        if quick is not None:
            return quick
        compiled = self._compiler.compile_node(schema)
        if compiled is not None:
            return lambda data: compiled(data, 0, [BUDGET])
        return lambda data: next(iter(self._validate(schema, data, "", True, _Ctx(False, False))), None) is None

    def rust_judge(self, schema: Any) -> Callable[[Any], bool]:
        """`judge`, answered by jsonschema-rs for schemas of some size (rust.py): the same yes/no."""
        return self._rust.judge(schema)

    def fill_defaults(self, schema: Any, data: Any) -> list[PointerSite]:
        """Write defaults into `data` (in place) as Ajv's useDefaults would; collect pointer sites.

        This walk only follows structure (and decides `if`/branches); it checks nothing else,
        so it stays cheap. The verdict is made afterwards on the filled data.
        """
        ctx = _Ctx(fill=True, all_errors=True, pointers=[], budget=[FILL_BUDGET])
        for _ in self._validate(schema, data, "", False, ctx):
            pass
        return ctx.pointers or []

    def ordered_errors(self, schema: Any, data: Any, *, all_errors: bool = True) -> list[AjvError]:
        """Fill defaults and check in one walk, in Ajv's order (AS3's useDefaults), changing `data`.

        A check sees the data as it is at that point of the walk: a default that a later `allOf`
        entry adds is not there yet for an earlier entry (F5's example-modifying-tls-options.json
        passes AS3 only so). The first error is the one AS3 reports.
        """
        ctx = _Ctx(fill=True, all_errors=all_errors, pointers=None, budget=[FILL_BUDGET], checking=True)
        return list(dict.fromkeys(self._validate(schema, data, "", False, ctx)))  # one problem, said once

    # -- the walk ----------------------------------------------------------------------------------
    def _regex_for(self, pattern: str) -> re.Pattern[str] | None:
        """The pattern as JavaScript reads it (`$` only at the very end, ASCII `\\d`), compiled once."""
        if pattern not in self._regex:
            self._regex[pattern] = js_pattern(pattern)
        return self._regex[pattern]

    def _validate(self, schema: Any, data: Any, path: str, composite: bool, ctx: _Ctx) -> Iterator[AjvError]:
        if schema is True or schema == {}:
            return
        if schema is False:
            yield AjvError(path, "false schema", "boolean schema is false")
            return
        if not isinstance(schema, dict):
            return
        ctx.budget[0] -= 1
        if ctx.depth > MAX_DEPTH or ctx.budget[0] < 0:
            yield AjvError(path, "depth", "is nested too deeply to validate")
            return
        ctx.depth += 1
        try:
            if "$ref" in schema:
                yield from self._validate(self.resolve(schema["$ref"]), data, path, composite, ctx)
                return
            for err in self._keywords(schema, data, path, composite, ctx):
                yield err
                if not ctx.all_errors:
                    return
        finally:
            ctx.depth -= 1

    def _keywords(self, schema: dict, data: Any, path: str, composite: bool, ctx: _Ctx) -> Iterator[AjvError]:
        post = schema.get("f5PostProcess")
        if ctx.pointers is not None and isinstance(post, dict) and post.get("tag") == "pointer":
            ctx.pointers.append(PointerSite(path, data, post.get("data")))
        wanted = schema.get("type")
        if wanted is not None:
            types = wanted if isinstance(wanted, list) else [wanted]
            if not any(has_type(data, t) for t in types):
                if not ctx.checking:
                    return
                yield AjvError(path, "type", f"should be {','.join(map(str, types))}")
                return
        kind = type_of(data)
        if not ctx.checking and kind in ("integer", "number", "string"):
            pass
        elif kind in ("integer", "number"):
            yield from self._number(schema, data, path)
        elif kind == "string":
            yield from self._string(schema, data, path)
        elif kind == "array":
            yield from self._array(schema, data, path, composite, ctx)
        elif kind == "object":
            yield from self._object(schema, data, path, composite, ctx)
        yield from self._generic(schema, data, path, composite, ctx)

    def _number(self, schema: dict, data: Any, path: str) -> Iterator[AjvError]:
        checks: list[tuple[str, Callable[[Any, Any], bool], str]] = [
            ("maximum", lambda d, v: d <= v, "<="),
            ("exclusiveMaximum", lambda d, v: d < v, "<"),
            ("minimum", lambda d, v: d >= v, ">="),
            ("exclusiveMinimum", lambda d, v: d > v, ">"),
        ]
        for key, ok, sign in checks:
            limit = schema.get(key)
            if isinstance(limit, int | float) and not isinstance(limit, bool) and not ok(data, limit):
                yield AjvError(path, key, f"should be {sign} {_num(limit)}")
        step = schema.get("multipleOf")
        if isinstance(step, int | float) and step and not isinstance(step, bool):
            quotient = data / step
            if not math.isfinite(quotient) or abs(quotient - round(quotient)) > 1e-9:
                yield AjvError(path, "multipleOf", f"should be multiple of {_num(step)}")

    def _string(self, schema: dict, data: str, path: str) -> Iterator[AjvError]:
        if isinstance(schema.get("maxLength"), int) and len(data) > schema["maxLength"]:
            yield AjvError(path, "maxLength", f"should NOT be longer than {schema['maxLength']} characters")
        if isinstance(schema.get("minLength"), int) and len(data) < schema["minLength"]:
            yield AjvError(path, "minLength", f"should NOT be shorter than {schema['minLength']} characters")
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            rx = self._regex_for(pattern)
            if rx is not None and not rx.search(data):
                shown = '"<redacted>"' if _secret_path(path) else _js_json(data)
                yield AjvError(path, "pattern", f'data {shown} should match pattern "{pattern}"')
        fmt = schema.get("format")
        check = self.formats.get(fmt) if isinstance(fmt, str) else None
        if check is not None and not check(data):
            yield AjvError(path, "format", f'should match format "{fmt}"')

    def _array(self, schema: dict, data: list, path: str, composite: bool, ctx: _Ctx) -> Iterator[AjvError]:
        check = ctx.checking
        if check and isinstance(schema.get("maxItems"), int) and len(data) > schema["maxItems"]:
            yield AjvError(path, "maxItems", f"should NOT have more than {schema['maxItems']} items")
        if check and isinstance(schema.get("minItems"), int) and len(data) < schema["minItems"]:
            yield AjvError(path, "minItems", f"should NOT have fewer than {schema['minItems']} items")
        items = schema.get("items")
        if isinstance(items, list):
            for i, sub in enumerate(items):
                if i >= len(data):
                    if ctx.fill and not composite and isinstance(sub, dict) and "default" in sub:
                        data.append(copy.deepcopy(sub["default"]))
                    else:
                        break
                yield from self._validate(sub, data[i], f"{path}/{i}", composite, ctx)
            extra = schema.get("additionalItems")
            if check and extra is False and len(data) > len(items):
                yield AjvError(path, "additionalItems", f"should NOT have more than {len(items)} items")
            elif isinstance(extra, dict):
                for i in range(len(items), len(data)):
                    yield from self._validate(extra, data[i], f"{path}/{i}", composite, ctx)
        elif items is not None:
            for i, item in enumerate(data):
                yield from self._validate(items, item, f"{path}/{i}", composite, ctx)
        contains = schema.get("contains")
        if check and contains is not None and not any(self.is_valid(contains, item) for item in data):
            yield AjvError(path, "contains", "should contain a valid item")
        if check and schema.get("uniqueItems") is True:
            for j in range(len(data)):
                for i in range(j):
                    if json_equal(data[i], data[j]):
                        text = f"should NOT have duplicate items (items ## {j} and {i} are identical)"
                        yield AjvError(path, "uniqueItems", text)
                        return

    def _object(self, schema: dict, data: dict, path: str, composite: bool, ctx: _Ctx) -> Iterator[AjvError]:
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        check = ctx.checking
        if ctx.fill and not composite:
            for key, sub in props.items():
                if key not in data and isinstance(sub, dict) and "default" in sub:
                    data[key] = copy.deepcopy(sub["default"])
        if check:
            yield from self._object_checks(schema, data, path)
        deps = schema.get("dependencies")
        if isinstance(deps, dict):
            for key, dep in deps.items():
                if key in data and isinstance(dep, dict | bool):
                    yield from self._validate(dep, data, path, composite, ctx)
        patterns = schema.get("patternProperties")
        patterns = patterns if isinstance(patterns, dict) else {}
        additional = schema.get("additionalProperties", True)
        for key, sub in props.items():
            if key in data:
                yield from self._validate(sub, data[key], f"{path}/{escape(key)}", composite, ctx)
        if patterns or additional is not True:
            for key in list(data):
                matched = False
                for pattern, sub in patterns.items():
                    rx = self._regex_for(pattern)
                    if rx is not None and rx.search(key):
                        matched = True
                        yield from self._validate(sub, data[key], f"{path}/{escape(key)}", composite, ctx)
                if matched or key in props:
                    continue
                if additional is False:
                    if check:
                        yield AjvError(path, "additionalProperties", "should NOT have additional properties")
                elif isinstance(additional, dict):
                    yield from self._validate(additional, data[key], f"{path}/{escape(key)}", composite, ctx)

    def _object_checks(self, schema: dict, data: dict, path: str) -> Iterator[AjvError]:
        if isinstance(schema.get("maxProperties"), int) and len(data) > schema["maxProperties"]:
            yield AjvError(path, "maxProperties",
                           f"should NOT have more than {schema['maxProperties']} properties")
        if isinstance(schema.get("minProperties"), int) and len(data) < schema["minProperties"]:
            yield AjvError(path, "minProperties",
                           f"should NOT have fewer than {schema['minProperties']} properties")
        for key in schema.get("required") or ():
            if isinstance(key, str) and key not in data:
                yield AjvError(path, "required", f"should have required property '{key}'")
        deps = schema.get("dependencies")
        for key, dep in (deps.items() if isinstance(deps, dict) else ()):
            if key in data and isinstance(dep, list):
                missing = [d for d in dep if d not in data]
                if missing:
                    what = f"property {missing[0]}" if len(dep) == 1 else f"properties {', '.join(dep)}"
                    yield AjvError(path, "dependencies", f"should have {what} when property {key} is present")
        names = schema.get("propertyNames")
        if names is not None:
            for key in data:
                if not self.is_valid(names, key):
                    inner = self.errors(names, key, all_errors=False)
                    if inner and inner[0].keyword == "pattern":  # 'data "k" should match...': AS3's propertyName
                        yield AjvError(path, "propertyNames", "propertyName" + inner[0].message[len("data"):])
                    elif inner:
                        yield AjvError(path, "propertyNames", inner[0].message)
                    else:
                        yield AjvError(path, "propertyNames", f"property name '{key}' is invalid")

    def _generic(self, schema: dict, data: Any, path: str, composite: bool, ctx: _Ctx) -> Iterator[AjvError]:
        if ctx.checking:
            yield from self._value_checks(schema, data, path)
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list):
                yield from self._branches(key, branches, data, path, ctx)
        all_of = schema.get("allOf")
        if isinstance(all_of, list):
            for sub in self._all_of_for(all_of, data):
                yield from self._validate(sub, data, path, composite, ctx)
        if "if" in schema and ("then" in schema or "else" in schema):
            branch = "then" if self.is_valid(schema["if"], data) else "else"
            if branch in schema:
                yield from self._validate(schema[branch], data, path, composite, ctx)

    def _value_checks(self, schema: dict, data: Any, path: str) -> Iterator[AjvError]:
        if "const" in schema and not json_equal(data, schema["const"]):
            yield AjvError(path, "const", f"should be equal to constant {_js_json(schema['const'])}")
        enum = schema.get("enum")
        if isinstance(enum, list) and not any(json_equal(data, v) for v in enum):
            yield AjvError(path, "enum", f"should be equal to one of the allowed values {_js_json(enum)}")
        if "not" in schema and self.is_valid(schema["not"], data):
            yield AjvError(path, "not", self._not_message(schema))

    def _not_message(self, schema: dict) -> str:
        """AS3's words for a failed `not` (util.formatAjvErr): `<segment> is NOT valid`, the segment of
        Ajv's schemaPath before `not`, i.e. the key holding this schema (`serverTLS` for
        `dependencies/serverTLS/not`). A definition Ajv 6 does not inline (it has a `$ref`) is compiled
        on its own, with the path starting at `#`. Schemas outside the root keep Ajv's own words."""
        if self._not_labels is None:
            self._not_labels = _not_labels(self.root)
        label = self._not_labels.get(id(schema))
        return f"{label} is NOT valid" if label is not None else "should NOT be valid"

    def _branches(self, key: str, branches: list, data: Any, path: str, ctx: _Ctx) -> Iterator[AjvError]:
        """anyOf/oneOf; on failure explain the branch picked by `class` (else the first, as Ajv)."""
        if ctx.fill:
            pick = self._branch_to_fill(branches, data)
            if pick is not None:
                for err in self._validate(branches[pick], data, path, False, ctx):
                    if ctx.checking:
                        yield err
                if ctx.checking and key == "oneOf" and any(
                        self.is_valid(sub, data) for i, sub in enumerate(branches) if i != pick):
                    yield AjvError(path, key, "should match exactly one schema in oneOf")
                return
            if not ctx.checking:
                return
        passing = [i for i, sub in enumerate(branches) if self.is_valid(sub, data)]
        if key == "oneOf" and len(passing) > 1:
            yield AjvError(path, key, "should match exactly one schema in oneOf")
        if passing:
            return
        inner = self.errors(branches[self._pick_branch(branches, data)], data, path, all_errors=ctx.all_errors)
        if inner:
            yield from inner
        elif key == "anyOf":
            yield AjvError(path, key, "should match some schema in anyOf")
        else:
            yield AjvError(path, key, "should match exactly one schema in oneOf")

    def _branch_to_fill(self, branches: list, data: Any) -> int | None:
        """The first branch the data matches once that branch's defaults are in (its defaults fill it).

        AS3 accepts e.g. a secret `{ciphertext}` whose `protected` comes from a default inside a
        oneOf branch; filling every branch would leak one branch's defaults into another.
        """
        pick = self._pick_branch(branches, data)
        order = [pick, *(j for j in range(len(branches)) if j != pick)]
        passing = next((i for i in order if self.rust_judge(branches[i])(data)), None)
        if passing is not None:  # the common case: no trial copies needed
            return passing
        for i in order:
            if isinstance(data, dict | list):
                trial = copy.deepcopy(data)
                self.fill_defaults(branches[i], trial)
                if not self.is_valid(branches[i], trial):
                    continue
            elif not self.is_valid(branches[i], data):
                continue
            return i
        return None

    def _all_of_for(self, all_of: list, data: Any) -> list:
        """The allOf entries that apply; AS3's long `if class == X then $ref X` lists are looked up by class."""
        key = id(all_of)
        if key not in self._dispatch:
            self._dispatch[key] = class_dispatch(all_of)
        table = self._dispatch[key]
        if table is None or not isinstance(data, dict) or "class" not in data:
            return all_of
        cls = data["class"]
        return table.get(cls, []) if isinstance(cls, str) else [t for c, ts in table.items() for t in ts
                                                                 if json_equal(cls, c)]

    def _pick_branch(self, branches: list, data: Any) -> int:
        """The branch whose `class` matches the data's; else the first (what Ajv reports first)."""
        cls = data.get("class") if isinstance(data, dict) else None
        if cls is None:
            return 0
        if type(cls) is str:  # a pure function of the branches and the class name: remembered
            key = (id(branches), cls)
            hit = self._picks.get(key)
            if hit is None:
                if len(self._picks) >= 100_000:  # class names come from the data: stay bounded
                    self._picks.clear()
                    self._keep_picks.clear()
                hit = self._picks[key] = self._pick_class(branches, cls)
                self._keep_picks.append(branches)
            return hit
        return self._pick_class(branches, cls)

    def _pick_class(self, branches: list, cls: Any) -> int:
        for i, sub in enumerate(branches):
            target = self.resolve(sub["$ref"]) if isinstance(sub, dict) and "$ref" in sub else sub
            props = target.get("properties") if isinstance(target, dict) else None
            cls_schema = props.get("class") if isinstance(props, dict) else None
            if isinstance(cls_schema, dict) and self.is_valid(cls_schema, cls):
                return i
        return 0
