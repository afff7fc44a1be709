"""Observations that fill.py folds into the shape or into an up-front check of values (instead of
asking again on every replay) must still tell objects apart whose answers differ.

Small hand-made schemas, so each case says which answer depends on what: a choice among tiny
anyOf/oneOf branches reads the values of the keys the branches name (and `class`); an `if` on a
direct child that is not a float reads its type only (which is in the shape), on a float its value.
"""

from __future__ import annotations

from typing import Any

import orjson

from renderer.validate import fill as fill_module
from renderer.validate.ajv import Ajv
from renderer.validate.fill import Filler
from renderer.validate.formats import FORMATS

POINTER = {"f5PostProcess": {"tag": "pointer", "data": {}}}


def _fill_both(root: dict[str, Any], data: Any) -> tuple[Any, list, Filler]:
    """Fill a copy with a replaying Filler and one with the walk; both must agree."""
    ajv = Ajv(root, FORMATS)
    filler = Filler(ajv)
    fast = orjson.loads(orjson.dumps(data))
    slow = orjson.loads(orjson.dumps(data))
    fast_sites = filler.fill(root, fast)
    slow_sites = Ajv(root, FORMATS).fill_defaults(root, slow)
    assert orjson.dumps(fast) == orjson.dumps(slow)
    assert [(s.pointer, s.value) for s in fast_sites] == [(s.pointer, s.value) for s in slow_sites]
    return fast, fast_sites, filler


def test_a_choice_among_tiny_branches_is_asked_again_when_the_value_it_reads_differs() -> None:
    branches = [{"properties": {"kind": {"const": "a"}}, "required": ["kind"]},
                {"properties": {"kind": {"const": "b"}}, "required": ["kind"]}]
    item = {"type": "object", "oneOf": branches}
    root = {"type": "object", "properties": {"items": {"type": "array", "items": item}}}
    items = [{"kind": "a"}, {"kind": "a"}, {"kind": "a"}, {"kind": "b"}, {"kind": "a"}]
    _fill_both(root, {"items": items})
    filler = Filler(Ajv(root, FORMATS))
    filler.fill(root, {"items": [{"kind": "a"}, {"kind": "a"}]})  # a program for the shape ("kind",)
    (programs,) = [p for key, p in filler._programs.items() if key[2][0] == ("kind",)]
    (program,) = programs
    ops = program[0]
    assert not any(op[0] == fill_module._OBSERVE and op[1] == () for op in ops)  # the choice was folded...
    assert ops[0][:3] == (fill_module._VALUES, (), ("kind",))  # ...into a check of the value it read
    ctx = filler.context()
    assert filler._replay(program, {"kind": "a"}, "/x", 2, ctx) is True
    other = {"kind": "b"}
    assert filler._replay(program, other, "/x", 2, ctx) is False and other == {"kind": "b"}


def test_a_choice_that_class_decides_reads_the_class_value() -> None:
    # a class that is not a string is not in the shape: its value is checked up front
    branches = [{"properties": {"class": {"const": 1}}}, {"properties": {"class": {"const": 2}}}]
    root = {"type": "array", "items": {"type": "object", "anyOf": branches}}
    data = [{"class": 1}, {"class": 1}, {"class": 1}, {"class": 2}, {"class": 1.0}, {"class": 3}, {"class": 1}]
    _fill_both(root, data)
    filler = Filler(Ajv(root, FORMATS))
    filler.fill(root, [{"class": 1}, {"class": 1}])
    (programs,) = filler._programs.values()
    assert programs[0][0][0][:3] == (fill_module._VALUES, (), ("class",))


def test_a_choice_made_by_a_trial_fill_is_not_folded() -> None:
    # neither branch matches as is: the chooser fills each on a copy; that answer is observed as before
    branches = [{"required": ["x"]}, {"required": ["y"]}]
    root = {"type": "array", "items": {"type": "object", "anyOf": branches}}
    _fill_both(root, [{"z": 1}, {"z": 2}, {"z": 3}])
    filler = Filler(Ajv(root, FORMATS))
    filler.fill(root, [{"z": 1}, {"z": 2}])
    (programs,) = filler._programs.values()
    assert any(op[0] == fill_module._OBSERVE and op[1] == () for op in programs[0][0])


def test_an_if_on_a_float_child_is_asked_on_every_object() -> None:
    # 1.0 is an integer to Ajv, 1.5 is not: same shape (a float), different answers
    child = {"if": {"type": "integer"}, "then": POINTER}
    root = {"type": "array", "items": {"type": "object", "properties": {"v": child}}}
    data = [{"v": 1.0}, {"v": 2.0}, {"v": 3.0}, {"v": 1.5}, {"v": 4.0}, {"v": 2.5}]
    _filled, sites, _ = _fill_both(root, data)
    assert [s.pointer for s in sites] == ["/0/v", "/1/v", "/2/v", "/4/v"]


def test_an_if_on_a_scalar_child_that_reads_its_value_is_asked_on_every_object() -> None:
    child = {"if": {"enum": ["a"]}, "then": POINTER}
    root = {"type": "array", "items": {"type": "object", "properties": {"v": child}}}
    _filled, sites, _ = _fill_both(root, [{"v": "a"}, {"v": "a"}, {"v": "a"}, {"v": "b"}, {"v": "a"}])
    assert [s.pointer for s in sites] == ["/0/v", "/1/v", "/2/v", "/4/v"]


def test_an_if_on_a_child_of_another_type_takes_another_program() -> None:
    child = {"if": {"type": "string"}, "then": POINTER, "else": {"properties": {}}}
    root = {"type": "array", "items": {"type": "object", "properties": {"v": child}}}
    data = [{"v": "s"}, {"v": "t"}, {"v": "u"}, {"v": 7}, {"v": True}, {"v": None}, {"v": "w"}]
    _filled, sites, _ = _fill_both(root, data)
    assert [s.pointer for s in sites] == ["/0/v", "/1/v", "/2/v", "/6/v"]
