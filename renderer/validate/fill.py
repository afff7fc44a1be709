"""Ajv-style default filling, recorded once per object shape and replayed for every repeat.

Why: a large declaration holds thousands of objects of one shape (pool members, monitors,
services), and the default-filling walk (`Ajv.fill_defaults`) used to walk the 1.2 MB AS3
schema over each of them again. This module makes the same walk (fill mode of ajv.py: same
keywords, same order, same budget and depth limits) but records, per JSON object ("frame"),
everything the walk did to it as a flat program:

- observations: each fact about the data that the walk decided on (the type of a value below
  the object, the object's keys, an array's length, the answer of an `if`, the branch of an
  anyOf/oneOf, the allOf entries its `class` selects), with the answer seen;
- effects: defaults written (key, value), pointer sites (relative path), and nested objects,
  which are frames of their own.

The next object with the same schema node and the same shape (its keys, its values' types,
its `class`) replays a recorded program: every observation is re-evaluated on the live data
and must give the recorded answer, otherwise everything the replay wrote is undone and the
next program (or a fresh recording) is used. Since the walk's every decision is one of the
observations, a replay that passes them all does exactly what the walk would have done. A
program replayed often is compiled to a Python function (replaycode.py); the others are interpreted.
Requires data without shared sub-objects (a fresh copy, as As3Validator.check_adc makes).
"""

from __future__ import annotations

import copy
import functools
from typing import Any, NamedTuple

from renderer.validate.ajv import FILL_BUDGET, MAX_DEPTH, Ajv, PointerSite, escape
from renderer.validate.jsonvalues import compile_simple, has_type, type_of
from renderer.validate.replaycode import compile_ops, interpret
from renderer.validate.residual import Residuals

_OBSERVE, _INSERT, _APPEND, _SITE, _FRAME, _VALUES = range(6)
_ATOMIC = (str, int, float, bool, type(None))  # copy.deepcopy returns these unchanged
_SCALARS = frozenset(_ATOMIC)
_PLAIN = frozenset({str, int, bool, type(None), list, dict})  # JSON type fixed by the Python type (not float)
_SHAPED = frozenset({str, int, bool, type(None)})  # a direct child of these types: its JSON type is in the shape
_MISSING = object()
MAX_PROGRAMS = 16  # recorded programs per (schema node, shape); beyond that, walk live
MAX_SHAPES = 50_000  # shapes remembered (seen once, or with programs); then all are forgotten at once
COMPILE_AFTER = 4  # replays of a program interpreted before it is compiled (replaycode.py)
MAX_COMPILED = 5_000  # compiled programs kept (a long-lived process stays bounded); beyond, interpret
MAX_CHOICES = 10_000  # shape-reduced choosers kept (residual.py); then all are forgotten at once


def _item_types(data: list) -> tuple:
    """The items' JSON types (and so the length): as their Python types when each is one of the
    exact types whose JSON type is fixed (`_PLAIN`: the same facts, about 4x cheaper), else as names.
    The two forms never compare equal, so a replay only ever matches a recording of the same form."""
    kinds = tuple(map(type, data))
    if _PLAIN.issuperset(kinds):
        return kinds
    return tuple(map(type_of, data))


def _values(data: dict, keys: tuple) -> tuple:
    values = [data.get(k, _MISSING) for k in keys]
    return tuple(zip(map(type, values), values, strict=True))


def _root_keys(schema: Any) -> frozenset[str] | None:
    """For a tiny schema: the keys whose values its answer on an object depends on (beyond which
    keys the object has); None when the answer depends on more (const/enum on the object itself)."""
    if schema is True or schema == {}:
        return frozenset()
    if compile_simple(schema) is None or "const" in schema or "enum" in schema:
        return None
    keys = frozenset(schema.get("properties", {}))
    if "not" in schema:
        inner = _root_keys(schema["not"])
        return None if inner is None else keys | inner
    return keys


def _type_only(schema: Any) -> bool:
    """A tiny schema with no const/enum anywhere: on a scalar only `type` can decide (properties and
    required hold for anything that is not an object)."""
    if schema is True or schema == {}:
        return True
    if compile_simple(schema) is None or "const" in schema or "enum" in schema:
        return False
    return "not" not in schema or _type_only(schema["not"])


class _Ctx:
    __slots__ = ("budget", "pointers", "replaying", "undo", "watch", "watched")

    def __init__(self) -> None:
        self.pointers: list[PointerSite] = []
        self.budget = FILL_BUDGET
        self.undo: list[tuple[Any, Any]] = []  # (container, key or None for an append), while replaying
        self.replaying = 0
        self.watch: frozenset[str] | None = None  # paths of the frames to note (members.py)
        self.watched: list[Watched] = []  # the noted frames of the walk so far (a rollback drops its own)


class Watched(NamedTuple):
    """One object frame of a watched path, as the walk made it: its parameters, the budget it spent
    (nested frames included) and its pointer sites (indexes into the walk's list)."""

    path: str
    schema: Any
    composite: bool
    depth: int
    visits: int
    first_site: int
    end_site: int


class _Frame:
    """The recording of one object's walk."""

    __slots__ = ("clean", "deepest", "depth", "initial", "listed", "ops", "path", "seen", "values", "visits")

    def __init__(self, path: str, depth: int):
        self.path = path
        self.depth = depth
        self.ops: list[tuple] = []
        self.visits = 0
        self.deepest = 0
        self.clean = True
        self.seen: set[tuple] = set()
        self.initial: frozenset[str] | None = None  # the object's keys when its walk began
        self.values: dict[str, None] = {}  # keys whose (unchanging) values answers relied on
        self.listed: set[tuple] = set()  # arrays whose item types were observed


class Filler:
    """`fill(schema, data)` == `Ajv.fill_defaults(schema, data)`, fast on repeated shapes."""

    def __init__(self, ajv: Ajv, *, residual: bool = True):
        """`residual=False`: record the full chooser at every anyOf/oneOf (residual.py: same answers)."""
        self.ajv = ajv
        self._residuals = Residuals(ajv) if residual else None
        self._choices: dict[tuple, Any] = {}  # (branches, class, keys, types, pick) -> chooser to record
        # per (schema node, composite, shape): programs [ops, visits, deepest, run, replays]; run is the
        # compiled program (replaycode.py), None until it has been replayed COMPILE_AFTER times, False
        # when it cannot be compiled
        self._programs: dict[tuple, list[list]] = {}
        self._seen_once: set[tuple] = set()  # a program is kept from a shape's second object on
        self._keep: list[Any] = []  # schema nodes keyed by id stay alive
        self._kept: set[int] = set()
        self._root_keys: dict[int, Any] = {}
        self._choosers: dict[int, Any] = {}
        self._type_only_memo: dict[int, bool] = {}
        self._compiled = 0

    @staticmethod
    def context() -> _Ctx:
        """One walk's state (budget, pointer sites), to share between `fill` and `fill_tenant`."""
        return _Ctx()

    @staticmethod
    def budget_left(ctx: _Ctx) -> int:
        return ctx.budget

    @staticmethod
    def spend(ctx: _Ctx, visits: int) -> None:
        """Count a tenant whose walk is known (a cached summary) against the shared budget."""
        ctx.budget -= visits

    def fill(self, schema: Any, data: Any, ctx: _Ctx | None = None) -> list[PointerSite]:
        """Write defaults into `data` in place; the pointer sites in the walk's order."""
        ctx = ctx or _Ctx()
        if isinstance(data, dict):
            self._object_frame(schema, data, "", False, 0, ctx)
        else:
            self._walk(schema, data, (), "", False, 0, _Frame("", 0), ctx)
        return ctx.pointers

    def fill_tenant(self, schema: Any, data: dict, path: str, ctx: _Ctx) -> list[PointerSite]:
        """Fill one tenant (`schema`: the ADC's additionalProperties) exactly as the ADC walk does at
        its place (depth 1, not composite); its pointer sites, which are not kept in `ctx`. With
        `ctx.watch`, `ctx.watched` notes the frames of those paths, their sites counted from 0."""
        mark = len(ctx.pointers)
        ctx.watched = []
        self._object_frame(schema, data, path, False, 1, ctx)
        sites = ctx.pointers[mark:]
        del ctx.pointers[mark:]
        if mark:
            ctx.watched = [w._replace(first_site=w.first_site - mark, end_site=w.end_site - mark) for w in ctx.watched]
        return sites

    def fill_frame(self, schema: Any, data: dict, path: str, composite: bool, depth: int) -> None:
        """Fill one object as a walk did in a frame it noted (`Watched`), in a context of its own
        (its budget and sites are not counted anywhere): a member the walk did not fill this time,
        for a pointer to look into (members.py)."""
        self._object_frame(schema, data, path, composite, depth, _Ctx())

    # -- frames ------------------------------------------------------------------------------------
    def _object_frame(self, schema: dict, data: dict, path: str, composite: bool, depth: int, ctx: _Ctx) -> None:
        watch = ctx.watch
        if watch is None or path not in watch:
            self._frame(schema, data, path, composite, depth, ctx)
            return
        budget, first = ctx.budget, len(ctx.pointers)
        self._frame(schema, data, path, composite, depth, ctx)
        ctx.watched.append(Watched(path, schema, composite, depth, budget - ctx.budget, first, len(ctx.pointers)))

    def _frame(self, schema: dict, data: dict, path: str, composite: bool, depth: int, ctx: _Ctx) -> None:
        # the shape, which the program cache is keyed by and every program relies on: keys, their
        # values' types, class (inline: this runs for every object of a declaration)
        cls = data.get("class")
        key = (id(schema), composite, (tuple(data), tuple(map(type, data.values())), cls if type(cls) is str else None))
        programs = self._programs.get(key)
        if programs and ctx.budget >= 0:
            for program in programs:
                if depth + program[2] <= MAX_DEPTH and self._replay(program, data, path, depth, ctx):
                    return
        frame = _Frame(path, depth)
        self._walk(schema, data, (), path, composite, depth, frame, ctx)
        if frame.clean and ctx.budget >= 0:
            ops = [(_INSERT, (), tuple(op[2]), tuple(k for k, _, _ in op[2])) if op[0] == _INSERT else op
                   for op in frame.ops]
            if frame.values:
                keys = tuple(frame.values)
                ops.insert(0, (_VALUES, (), keys, _values(data, keys)))
            if programs is None:
                if key not in self._seen_once:  # most shapes of a kind repeat; unique ones are not kept
                    self._remember(key)
                    return
                programs = self._programs[key] = []
                if id(schema) not in self._kept:
                    self._kept.add(id(schema))
                    self._keep.append(schema)
            if len(programs) < MAX_PROGRAMS:
                programs.append([tuple(ops), frame.visits, frame.deepest, None, 0])

    def _remember(self, key: tuple) -> None:
        if len(self._seen_once) + len(self._programs) >= MAX_SHAPES:  # a long-lived process stays bounded
            self._seen_once.clear()
            self._programs.clear()
            self._compiled = 0
        self._seen_once.add(key)

    def _replay(self, program: list, root: dict, path: str, depth: int, ctx: _Ctx) -> bool:
        run = program[3]
        if run is None:
            program[4] += 1
            if program[4] > COMPILE_AFTER and self._compiled < MAX_COMPILED:  # replayed this often: compile
                self._compiled += 1
                run = program[3] = compile_ops(program[0], _values, self._object_frame, _MISSING) or False
        undo_mark, site_mark, budget_mark, watch_mark = len(ctx.undo), len(ctx.pointers), ctx.budget, len(ctx.watched)
        ctx.replaying += 1
        try:
            ok = run(root, path, depth, ctx) if run else interpret(program[0], root, path, depth, ctx, _values,
                                                                   self._object_frame)
            ctx.budget -= program[1]
            ok = ok and ctx.budget >= 0
        finally:
            ctx.replaying -= 1
        if not ok:
            self._rollback(ctx, undo_mark, site_mark, budget_mark)
            del ctx.watched[watch_mark:]
        elif not ctx.replaying:
            del ctx.undo[:]
        return ok

    @staticmethod
    def _rollback(ctx: _Ctx, undo_mark: int, site_mark: int, budget_mark: int) -> None:
        while len(ctx.undo) > undo_mark:
            container, key = ctx.undo.pop()
            if key is None:
                container.pop()
            elif type(key) is tuple:  # a replayed run of defaults
                for one in reversed(key):
                    del container[one]
            else:
                del container[key]
        del ctx.pointers[site_mark:]
        ctx.budget = budget_mark

    # -- the walk (fill mode of Ajv._validate) -----------------------------------------------------
    def _observe(self, frame: _Frame, rel: tuple, fn: Any, answer: Any, value: Any, *, once: bool = False) -> None:
        """Record that `fn(value at rel)` gave `answer`, unless the shape decides it already."""
        if fn is type_of:
            if len(rel) == 1 and type(value) is not float:  # a direct child's type is part of the shape
                return
            if len(rel) > 1 and rel[:-1] in frame.listed:  # the array's item types were observed
                return
        if once:
            tag = (rel, fn)
            if tag in frame.seen:
                return
            frame.seen.add(tag)
        frame.ops.append((_OBSERVE, rel, fn, answer))

    def _walk(self, schema: Any, data: Any, rel: tuple, path: str, composite: bool, depth: int,
              frame: _Frame, ctx: _Ctx) -> None:
        if schema is True or schema == {} or schema is False or not isinstance(schema, dict):
            return
        if rel and isinstance(data, dict):  # a nested object: a frame of its own
            self._observe(frame, rel, type_of, "object", data, once=True)
            frame.ops.append((_FRAME, rel, path[len(frame.path):], schema, composite, depth - frame.depth))
            self._object_frame(schema, data, path, composite, depth, ctx)
            return
        frame.visits += 1
        ctx.budget -= 1
        if depth > MAX_DEPTH or ctx.budget < 0:
            frame.clean = False
            return
        frame.deepest = max(frame.deepest, depth - frame.depth)
        if "$ref" in schema:
            self._walk(self.ajv.resolve(schema["$ref"]), data, rel, path, composite, depth + 1, frame, ctx)
            return
        post = schema.get("f5PostProcess")
        if isinstance(post, dict) and post.get("tag") == "pointer":
            ctx.pointers.append(PointerSite(path, data, post.get("data")))
            frame.ops.append((_SITE, rel, path[len(frame.path):], post.get("data")))
        kind = type_of(data)
        if rel:
            self._observe(frame, rel, type_of, kind, data, once=True)
        wanted = schema.get("type")
        if wanted is not None:
            types = wanted if isinstance(wanted, list) else [wanted]
            if not any(has_type(data, t) for t in types):
                return
        if kind == "array":
            self._array(schema, data, rel, path, composite, depth + 1, frame, ctx)
        elif kind == "object":
            self._object(schema, data, path, composite, depth + 1, frame, ctx)
        self._generic(schema, data, rel, path, composite, depth + 1, frame, ctx)

    def _array(self, schema: dict, data: list, rel: tuple, path: str, composite: bool, depth: int,
               frame: _Frame, ctx: _Ctx) -> None:
        items = schema.get("items")
        if items is None:
            return
        self._observe(frame, rel, _item_types, _item_types(data), data, once=True)  # also the length
        frame.listed.add(rel)
        if not isinstance(items, list):
            for i, item in enumerate(data):
                self._walk(items, item, (*rel, i), f"{path}/{i}", composite, depth, frame, ctx)
            return
        for i, sub in enumerate(items):
            if i >= len(data):
                if not composite and isinstance(sub, dict) and "default" in sub:
                    default = sub["default"]
                    data.append(copy.deepcopy(default))
                    frame.ops.append((_APPEND, rel, default, isinstance(default, _ATOMIC)))
                    if ctx.replaying:
                        ctx.undo.append((data, None))
                else:
                    break
            self._walk(sub, data[i], (*rel, i), f"{path}/{i}", composite, depth, frame, ctx)
        extra = schema.get("additionalItems")
        if isinstance(extra, dict):
            for i in range(len(items), len(data)):
                self._walk(extra, data[i], (*rel, i), f"{path}/{i}", composite, depth, frame, ctx)

    def _object(self, schema: dict, data: dict, path: str, composite: bool, depth: int,
                frame: _Frame, ctx: _Ctx) -> None:
        """Only ever the frame's own object (nested objects are frames of their own)."""
        if frame.initial is None:  # the keys are part of the shape; later ones are our own defaults
            frame.initial = frozenset(data)
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        if not composite:
            for key, sub in props.items():
                if key not in data and isinstance(sub, dict) and "default" in sub:
                    default = sub["default"]
                    data[key] = copy.deepcopy(default)
                    last = frame.ops[-1] if frame.ops else None
                    if last is None or last[0] != _INSERT:  # consecutive defaults: one op
                        last = (_INSERT, (), [])
                        frame.ops.append(last)
                    last[2].append((key, default, isinstance(default, _ATOMIC)))
                    if ctx.replaying:
                        ctx.undo.append((data, key))
        deps = schema.get("dependencies")
        if isinstance(deps, dict):
            for key, dep in deps.items():
                if key in data and isinstance(dep, dict | bool):
                    self._walk(dep, data, (), path, composite, depth, frame, ctx)
        patterns = schema.get("patternProperties")
        patterns = patterns if isinstance(patterns, dict) else {}
        additional = schema.get("additionalProperties", True)
        for key, sub in props.items():
            if key in data:
                self._walk(sub, data[key], (key,), f"{path}/{escape(key)}", composite, depth, frame, ctx)
        if patterns or additional is not True:
            for key in list(data):
                matched = False
                for pattern, sub in patterns.items():
                    rx = self.ajv._regex_for(pattern)
                    if rx is not None and rx.search(key):
                        matched = True
                        self._walk(sub, data[key], (key,), f"{path}/{escape(key)}", composite, depth, frame, ctx)
                if matched or key in props:
                    continue
                if isinstance(additional, dict):
                    self._walk(additional, data[key], (key,), f"{path}/{escape(key)}", composite, depth, frame, ctx)

    def _generic(self, schema: dict, data: Any, rel: tuple, path: str, composite: bool, depth: int,
                 frame: _Frame, ctx: _Ctx) -> None:
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list):
                chooser = self._chooser(branches)
                pick = chooser(data)
                if not (not rel and self._fold_choice(branches, data, pick, frame)):
                    self._observe(frame, rel, self._reduced(branches, data, pick, chooser) if not rel else chooser,
                                  pick, data)
                if pick is not None:
                    self._walk(branches[pick], data, rel, path, False, depth, frame, ctx)
        all_of = schema.get("allOf")
        if isinstance(all_of, list):
            entries = self.ajv._all_of_for(all_of, data)
            if entries is not all_of and not (not rel and type(data.get("class")) is str):  # class: in the shape
                selector = functools.partial(_selected, self.ajv, all_of)
                self._observe(frame, rel, selector, tuple(map(id, entries)), data)
            for sub in entries:
                self._walk(sub, data, rel, path, composite, depth, frame, ctx)
        if "if" in schema and ("then" in schema or "else" in schema):
            test = self.ajv.judge(schema["if"])
            branch = "then" if test(data) else "else"
            if not (self._fold(schema["if"], data, frame) if not rel else
                    len(rel) == 1 and type(data) in _SHAPED and self._type_only(schema["if"])):
                self._observe(frame, rel, test, branch == "then", data)
            if branch in schema:
                self._walk(schema[branch], data, rel, path, composite, depth, frame, ctx)

    # -- observations that are functions of the data -----------------------------------------------
    def _fold(self, schema: Any, data: dict, frame: _Frame) -> bool:
        """True when a tiny schema's answer on the frame's object follows from the shape plus the values
        of some of its keys that hold scalars (never changed: filling only adds keys); those keys are
        then checked once, up front, instead of the answer."""
        return self._fold_keys(self._tiny_keys(schema), data, frame)

    def _fold_choice(self, branches: list, data: dict, pick: int | None, frame: _Frame) -> bool:
        """`_fold` for an anyOf/oneOf of tiny branches whose pick a branch's own answer made (not a
        trial fill): `_pick_branch` reads `class`, each branch's answer the keys `_fold` reads, and the
        chooser's loop over those answers is the same on an object that agrees on them all."""
        if pick is None:
            return False
        keys: set[str] = {"class"} if "class" in data else set()
        for sub in branches:
            found = self._tiny_keys(sub)
            if found is None:
                return False
            keys |= found
        return self.ajv.rust_judge(branches[pick])(data) and self._fold_keys(frozenset(keys), data, frame)

    def _type_only(self, schema: Any) -> bool:
        """True when a tiny schema's answer on a scalar is a function of its JSON type alone; on a
        direct child that is not a float (whose type is in the frame's shape, and which filling never
        changes) the answer then needs no observation."""
        hit = self._type_only_memo.get(id(schema))
        if hit is None:
            hit = self._type_only_memo[id(schema)] = _type_only(schema)
            self._keep.append(schema)
        return hit

    def _tiny_keys(self, schema: Any) -> frozenset[str] | None:
        keys = self._root_keys.get(id(schema), _MISSING)
        if keys is _MISSING:
            keys = self._root_keys[id(schema)] = _root_keys(schema)
            self._keep.append(schema)
        return keys

    @staticmethod
    def _fold_keys(keys: frozenset[str] | None, data: dict, frame: _Frame) -> bool:
        if keys is None or frame.initial is None:
            return False
        if any(k in data and type(data[k]) not in _SCALARS for k in keys):
            return False
        for k in keys:
            if k in frame.initial:
                frame.values[k] = None
        return True

    def _reduced(self, branches: list, data: Any, pick: int | None, chooser: Any) -> Any:
        """The chooser to record for the frame's own object: residual.py's, cut to what the object's
        keys and value types (fixed at this point of any replay of the program) leave open, else
        `chooser` itself."""
        cls = data.get("class", None) if type(data) is dict else None
        if self._residuals is None or pick is None or type(data) is not dict or not (cls is None or type(cls) is str):
            return chooser
        key = (id(branches), cls, tuple(data), tuple(map(type, data.values())), pick)
        found = self._choices.get(key)
        if found is None:
            if len(self._choices) >= MAX_CHOICES:
                self._choices.clear()
            order = _order(len(branches), self.ajv._pick_branch(branches, data))
            found = self._residuals.choice(branches, data, pick, order, chooser) or chooser
            self._choices[key] = found  # `branches` (keyed by id) stays alive: _chooser keeps it
        return found

    def _chooser(self, branches: list) -> Any:
        fn = self._choosers.get(id(branches))
        if fn is None:
            fn = self._choosers[id(branches)] = _chooser(self.ajv, branches)
            self._keep.append(branches)
        return fn


def _selected(ajv: Ajv, all_of: list, data: Any) -> tuple[int, ...]:
    return tuple(map(id, ajv._all_of_for(all_of, data)))


def _order(count: int, pick: int) -> list[int]:
    """The order the chooser tries `count` branches in when `_pick_branch` says `pick`."""
    return [pick, *(j for j in range(count) if j != pick)]


def _chooser(ajv: Ajv, branches: list) -> Any:
    """The anyOf/oneOf branch whose defaults fill the data (Ajv._fill_branch's choice), or None."""
    judges = [ajv.rust_judge(sub) for sub in branches]  # a member, a monitor...: the big objects
    orders = [_order(len(branches), pick) for pick in range(len(branches))]

    def choose(data: Any) -> int | None:
        pick = ajv._pick_branch(branches, data)
        for i in orders[pick] if branches else ():
            if judges[i](data):
                return i
        return _trials(ajv, branches, orders[pick] if branches else [pick], data)

    return choose


def _trials(ajv: Ajv, branches: list, order: list[int], data: Any) -> int | None:
    """No branch matches as is: the first that matches once its own defaults are in (on a copy)."""
    for i in order:
        if isinstance(data, dict | list):
            trial = copy.deepcopy(data)
            ajv.fill_defaults(branches[i], trial)
            if not ajv.is_valid(branches[i], trial):
                continue
        elif not ajv.is_valid(branches[i], data):
            continue
        return i
    return None
