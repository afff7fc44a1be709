"""A recorded fill program (fill.py) turned into one straight-line Python function.

Why: a large declaration replays the same few programs tens of thousands of times (every pool
member, monitor, service), and interpreting a program op by op (unpack the op, dispatch on its
code, walk its relative path token by token) cost more than the work the ops do. The function
made here does the same ops in the same order with the same calls: each observation calls the
recorded function on the same value and compares with `!=` against the recorded answer (so
every comparison, NaN and 1 == 1.0 == True included, is the interpreter's), each default is
written as the interpreter writes it (the same object for atomic values, a deep copy otherwise;
a run of atomic ones by one `dict.update`, which inserts in the same order),
each undo entry, pointer site and nested frame is the interpreter's. It returns False at the
first observation that differs; the caller undoes what was written, as it did for the
interpreter's `break`. Programs with anything the generator does not expect (a path token that
is neither str nor int) are not compiled: `compile_ops` returns None and the interpreter runs
them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from renderer.validate.ajv import PointerSite

OBSERVE, INSERT, APPEND, SITE, FRAME, VALUES = range(6)
_ATOMIC = (str, int, float, bool, type(None))

# run(root, path, depth, ctx) -> every observation held (False: stopped at the first that did not)
Run = Callable[[dict, str, int, Any], bool]


def _node(rel: tuple) -> str | None:
    """The expression for the value at `rel` below `root` (tokens as literals), or None."""
    text = "root"
    for token in rel:
        if type(token) is int or type(token) is str:
            text += f"[{token!r}]"
        else:
            return None
    return text


def _values_check(node: str, keys: tuple, expected: tuple, const: Callable[[Any], str]) -> list[str]:
    """`values_of(node, keys) != expected` key by key: the tuple comparison compares (type, value)
    pairs item by item, each with `is` first and then `==`, live value on the left; so does this."""
    if len(keys) != len(expected) or not all(type(pair) is tuple and len(pair) == 2 for pair in expected):
        return [f"if values_of({node}, {const(keys)}) != {const(expected)}: return False"]
    lines = [f"n = {node}"]
    for key, (kind, value) in zip(keys, expected, strict=True):
        expect = const(value)
        lines.append(f"x = n.get({const(key)}, MISSING)")
        lines.append(f"if not (type(x) is {const(kind)} or type(x) == {const(kind)}) or not (x is {expect} or "
                     f"x == {expect}): return False")
    return lines


def compile_ops(ops: tuple, values_of: Callable[[dict, tuple], tuple], object_frame: Callable,
                missing: object) -> Run | None:
    """The function that does what interpreting `ops` does (see the module docstring); `values_of`
    and `missing`: fill.py's `_values` and the default it gives for an absent key."""
    names: dict[str, Any] = {"PointerSite": PointerSite, "deepcopy": copy.deepcopy, "values_of": values_of,
                             "object_frame": object_frame, "MISSING": missing}
    body: list[str] = []

    def const(value: Any) -> str:
        name = f"c{len(names)}"
        names[name] = value
        return name

    for op in ops:
        code = op[0]
        node = _node(op[1])
        if node is None:
            return None
        if code == OBSERVE:
            body.append(f"if {const(op[2])}({node}) != {const(op[3])}: return False")
        elif code == VALUES:
            body.extend(_values_check(node, op[2], op[3], const))
        elif code == INSERT:
            body.append(f"n = {node}")
            pending: dict[str, Any] = {}  # consecutive atomic defaults: one dict.update, in the same order
            for key, default, atomic in op[2]:
                if atomic and type(key) is str and key not in pending:
                    pending[key] = default
                    continue
                if pending:
                    body.append(f"n.update({const(pending)})")
                    pending = {}
                value = const(default)
                body.append(f"n[{const(key)}] = {value}" if atomic else f"n[{const(key)}] = deepcopy({value})")
            if pending:
                body.append(f"n.update({const(pending)})")
            body.append(f"undo.append((n, {const(op[3])}))")
        elif code == APPEND:
            value = const(op[2])
            body.append(f"n = {node}")
            body.append(f"n.append({value})" if op[3] else f"n.append(deepcopy({value}))")
            body.append("undo.append((n, None))")
        elif code == SITE:
            body.append(f"pointers.append(PointerSite(path + {const(op[2])}, {node}, {const(op[3])}))")
        elif code == FRAME:
            body.append(f"object_frame({const(op[3])}, {node}, path + {const(op[2])}, {const(op[4])}, "
                        f"depth + {const(op[5])}, ctx)")
        else:
            return None
    source = "def run(root, path, depth, ctx):\n    undo = ctx.undo\n    pointers = ctx.pointers\n"
    source += "".join(f"    {line}\n" for line in body) + "    return True\n"
    exec(compile(source, "<fill program>", "exec"), names)  # our own source: constants are passed by name
    return names["run"]


def interpret(ops: tuple, root: dict, path: str, depth: int, ctx: Any, values_of: Callable[[dict, tuple], tuple],
              object_frame: Callable) -> bool:
    """Do a program's ops in order (what `compile_ops` makes a function of); False at the first
    observation that differs."""
    for op in ops:
        code = op[0]
        node = root
        if op[1]:
            for token in op[1]:
                node = node[token]
        if code == OBSERVE:
            if op[2](node) != op[3]:
                return False
        elif code == VALUES:
            if values_of(node, op[2]) != op[3]:
                return False
        elif code == INSERT:
            for key, default, atomic in op[2]:
                node[key] = default if atomic else copy.deepcopy(default)
            ctx.undo.append((node, op[3]))
        elif code == APPEND:
            node.append(op[2] if op[3] else copy.deepcopy(op[2]))
            ctx.undo.append((node, None))
        elif code == SITE:
            ctx.pointers.append(PointerSite(path + op[2], node, op[3]))
        else:
            object_frame(op[3], node, path + op[2], op[4], depth + op[5], ctx)
    return True
