"""The shortcuts of issue 19 answer as the paths they stand in for.

residual.py: the pool-member branch choice cut to the member's keys and value types gives the full
chooser's answer (a shortcut that skipped the address check would pick the address branch for a
bad address, which the full chooser does not), and it declines where it cannot be sure.
formatmemo.QuadFirst: jsonschema-rs verdicts with dotted quads tried as a pattern first are the
verdicts of the plain schema. fill.py/replaycode.py: the cheaper item-types observation and the
one-update defaults keep the walk's results. Every declaration here is judged three ways: the
shortcuts on, the chooser recorded whole (`Filler(residual=False)`), and the plain walk.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs
import orjson
import pytest

from renderer.validate import As3Validator
from renderer.validate import fill as fill_module
from renderer.validate.fill import Filler, _item_types
from renderer.validate.formatmemo import QUAD_PATTERN, QuadFirst, memo_formats, quads_in_rust
from renderer.validate.formats import FORMATS
from renderer.validate.replaycode import INSERT, compile_ops, interpret
from renderer.validate.residual import Residuals

MEMBER = {"addressDiscovery": "static", "servicePort": 80, "serverAddresses": ["10.0.0.1"]}


@pytest.fixture(scope="module")
def shortcut(as3_schema: dict[str, Any]) -> As3Validator:
    return As3Validator(as3_schema)


@pytest.fixture(scope="module")
def whole(as3_schema: dict[str, Any]) -> As3Validator:
    validator = As3Validator(as3_schema)
    validator.filler = Filler(validator.ajv, residual=False)
    return validator


@pytest.fixture(scope="module")
def walking(as3_schema: dict[str, Any]) -> As3Validator:
    return As3Validator(as3_schema, replay=False)


def _member_branches(validator: As3Validator) -> list:
    """The `oneOf` of Address_Discovery_Common that static members choose from (bigip or addresses)."""
    for entry in validator.definitions["Address_Discovery_Common"]["allOf"]:
        branches = entry.get("then", {}).get("oneOf")
        if branches and {"required": ["bigip"]} in branches:
            return branches
    pytest.skip("this AS3 schema has no static-member oneOf")


def _counting(chooser: Any) -> tuple[Any, list[int]]:
    calls: list[int] = []

    def counted(data: Any) -> Any:
        calls.append(1)
        return chooser(data)

    return counted, calls


def test_the_member_choice_is_cut_to_the_address_check(shortcut: As3Validator) -> None:
    branches = _member_branches(shortcut)
    ajv = shortcut.ajv
    full = fill_module._chooser(ajv, branches)
    assert full(MEMBER) == 1
    chooser, calls = _counting(full)
    reduced = Residuals(ajv).choice(branches, MEMBER, 1, [0, 1], chooser)
    assert reduced is not None and reduced is not chooser
    # same keys and value types as MEMBER: the reduced chooser must answer as the full one
    valid = [["10.0.0.1"], ["10.0.0.1", "10.0.0.2"], [], ["1.2.3.4%2"], ["2001:db8::1"], ["1.2.3.4/24"]]
    invalid = [["10.0.0.256"], ["10.0.0.1", "10.0.0.1"], [1], ["01.2.3.4"], ["1.2.3.4\n"], ["x"], [None]]
    for addresses in valid + invalid:
        member = {**MEMBER, "serverAddresses": addresses}
        assert reduced(member) == full(member), addresses
    assert len(calls) == len(invalid)  # valid members never needed the full chooser; invalid ones always
    assert reduced({**MEMBER, "serverAddresses": ["10.0.0.256"]}) != 1  # a check skipped would say 1


def test_the_reduced_choice_declines_where_it_cannot_be_sure(shortcut: As3Validator) -> None:
    ajv = shortcut.ajv
    residuals = Residuals(ajv)
    branches = _member_branches(shortcut)
    full = fill_module._chooser(ajv, branches)
    both = {**MEMBER, "servers": [{"address": "10.0.0.2"}]}  # two checks would be left: declined
    assert residuals.choice(branches, both, full(both), [0, 1], full) is None
    bigip = {"bigip": "/Common/n1", "servicePort": 80}  # the first branch decides by keys: nothing left
    assert residuals.choice(branches, bigip, 0, [0, 1], full)(bigip) == 0
    assert residuals.choice(branches, MEMBER, 1, [1, 0], full) is not None
    # the branch tried first is no tiny schema (jsonschema-rs could call formats): declined
    strings = {"properties": {"serverAddresses": {"type": "array", "items": {"type": "string", "format": "f5ip"}}}}
    big_first = [{"allOf": [{"required": ["bigip"]}], "minProperties": 0}, strings]
    assert residuals.choice(big_first, MEMBER, 1, [0, 1], full) is None
    known = {"serverAddresses": list, "servicePort": int}
    assert residuals.of_object(strings, known) not in (None, True, False)
    assert residuals.of_object({"anyOf": [strings, {"required": ["x"]}]}, known) is None  # a check under anyOf
    assert residuals.of_object({"not": strings}, known) is None
    assert residuals.of_object({"additionalProperties": False}, known) is None  # not reduced
    assert residuals.of_object({"f5PostProcess": {"tag": "x"}}, known) is None  # unknown keyword
    assert residuals.of_object({"properties": {"servicePort": {"enum": [80]}}}, known) is None
    assert residuals.of_object({"properties": {"servicePort": {"type": "string"}}}, known) is False
    assert residuals.of_object({"properties": {"servicePort": {"type": "number", "title": "t"}}}, known) is True
    assert residuals.of_object({"properties": {"servicePort": {"minimum": 1}}}, {"servicePort": float}) is None
    assert residuals.of_object({"required": ["x"]}, known) is False
    assert residuals.of_object({"if": {"required": ["servicePort"]}, "then": False}, known) is False
    assert residuals.of_object({"if": {"required": ["x"]}, "then": False}, known) is True
    assert residuals.of_object({"$ref": "#/definitions/nowhere"}, known) is None
    assert residuals.of_object({"$ref": "#/definitions/Pool_Member", "type": "object"}, known) is None


def _declaration(members: list[Any]) -> dict[str, Any]:
    return {"class": "ADC", "schemaVersion": "3.56.0", "id": "t",
            "T": {"class": "Tenant", "A": {"class": "Application", "template": "generic",
                                           "web": {"class": "Pool", "members": members}}}}


def _outcome(validator: As3Validator, adc: dict[str, Any]) -> tuple:
    check = validator.check_adc(copy.deepcopy(adc))
    judged = validator.judge(copy.deepcopy(adc))
    return (orjson.dumps(check.filled), [(e.pointer, e.keyword, e.message, e.text) for e in check.errors],
            [(e.pointer, e.message) for e in check.warnings],
            [(e.pointer, e.message, e.text) for e in judged.errors + judged.warnings])


def _members(count: int, odd: dict[int, Any]) -> list[Any]:
    members = [{**MEMBER, "serverAddresses": [f"10.0.{i // 250}.{i % 250 + 1}"]} for i in range(count)]
    for i, addresses in odd.items():
        members[i] = {**MEMBER, "serverAddresses": addresses}
    return members


@pytest.mark.parametrize("odd", [
    {},
    {25: ["10.0.0.256"]},  # after the member program is compiled: the reduced chooser falls back
    {25: ["10.0.0.7", "10.0.0.7"]},
    {3: ["2001:db8::1::2"], 26: ["2001:db8::1::3"]},  # AS3 accepts these; we warn
    {27: [7]},
    {2: ["1.2.3.4%2"], 28: ["::ffff:999.1.1.1", "bad"]},
])
def test_members_are_judged_alike_with_and_without_the_shortcuts(shortcut: As3Validator, whole: As3Validator,
                                                               walking: As3Validator, odd: dict[int, Any]) -> None:
    adc = _declaration(_members(30, odd))
    fast, slow, walked = _outcome(shortcut, adc), _outcome(whole, adc), _outcome(walking, adc)
    assert fast == slow == walked
    if odd:
        assert fast[1] or fast[2]  # each odd case is an error or a warning


def test_the_reduced_chooser_is_what_the_member_program_records(shortcut: As3Validator) -> None:
    shortcut.check_adc(_declaration(_members(12, {})))
    assert any(getattr(fn, "__qualname__", "").startswith("Residuals.choice") for fn in shortcut.filler._choices.values())


# -- QuadFirst ------------------------------------------------------------------------------------

ADDRESSES = ["1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.4\n",
             "\n1.2.3.4", "1.2.3.4/24", "1.2.3.4%2", "::1", "fe80::1%3/64", "", " 1.2.3.4", "1.2.3.04",
             "\u0661.\u0662.\u0663.\u0664", "10.128.0.2", "x1.2.3.4", 7, None, ["1.2.3.4"]]


def test_quads_first_gives_the_plain_schemas_verdicts() -> None:
    formats = memo_formats()
    assert quads_in_rust(formats) and quads_in_rust(FORMATS)
    assert not quads_in_rust({"f5ip": lambda value: True})  # a format we do not know: left alone
    schema = {"definitions": {"ip": {"type": ["string", "integer", "null", "array"], "format": "f5ip"}},
              "properties": {"a": {"$ref": "#/definitions/ip"}}}
    quads = QuadFirst()
    rewritten = {**quads.schema(schema), "definitions": quads.definitions(schema["definitions"])}
    assert rewritten["definitions"]["ip"]["allOf"][-1]["anyOf"][0] == {"pattern": QUAD_PATTERN}
    plain = jsonschema_rs.Draft7Validator(schema, formats=formats, validate_formats=True)
    quick = jsonschema_rs.Draft7Validator(rewritten, formats=formats, validate_formats=True)
    for value in ADDRESSES:
        assert quick.is_valid({"a": value}) == plain.is_valid({"a": value}), value


def test_quads_first_rewrites_only_format_keywords() -> None:
    data = {"format": "f5ip"}
    schema = {"properties": {"format": {"const": data}, "ref": {"$ref": "#/definitions/x", "format": "f5ip"},
                             "ip": {"format": "f5ip", "allOf": [{"minLength": 1}]}, "host": {"format": "hostname"}},
              "enum": [data], "default": data, "f5PostProcess": {"format": "f5ip"}}
    out = QuadFirst().schema(schema)
    assert out["properties"]["format"] is schema["properties"]["format"]  # a property named format: data
    assert out["properties"]["ref"] is schema["properties"]["ref"]  # Draft 7 ignores a $ref's siblings
    assert out["properties"]["host"] is schema["properties"]["host"]
    assert out["enum"] == [data] and out["default"] is data and out["f5PostProcess"] == {"format": "f5ip"}
    assert out["properties"]["ip"] == {"allOf": [{"minLength": 1}, {"anyOf": [{"pattern": QUAD_PATTERN},
                                                                               {"format": "f5ip"}]}]}
    assert schema["properties"]["ip"] == {"format": "f5ip", "allOf": [{"minLength": 1}]}  # not modified


def test_the_clean_verdict_still_rejects_a_bad_address(shortcut: As3Validator) -> None:
    adc = _declaration(_members(3, {1: ["1.2.3.4\n"]}))
    assert shortcut.check_adc(adc).errors  # "1.2.3.4\n" is no f5ip: the pattern must not take it


# -- the cheaper item types and defaults -----------------------------------------------------------

def test_item_types_are_python_types_only_where_they_fix_the_json_type() -> None:
    assert _item_types(["a", 1, True, None, [], {}]) == (str, int, bool, type(None), list, dict)
    assert _item_types([1.0, "a"]) == ("integer", "string")
    assert _item_types([1.5]) == ("number",)
    assert _item_types([1]) != _item_types([1.0])  # the two forms never meet: a replay falls back
    assert _item_types([]) == ()


def test_compiled_defaults_are_written_as_the_interpreter_writes_them() -> None:
    listed = ["x"]
    defaults = (("a", 1, True), ("b", "s", True), ("c", listed, False), ("d", None, True), ("a", 2, True))
    ops = ((INSERT, (), defaults, tuple(k for k, _, _ in defaults)),)
    run = compile_ops(ops, fill_module._values, None, fill_module._MISSING)
    assert run is not None
    results = []
    for fn in (run, lambda root, path, depth, ctx: interpret(ops, root, path, depth, ctx, fill_module._values, None)):
        ctx = fill_module._Ctx()
        root = {"z": 0}
        assert fn(root, "", 0, ctx)
        assert root["c"] == listed and root["c"] is not listed
        results.append((list(root.items()), [(id(c) == id(root), k) for c, k in ctx.undo]))
    assert results[0] == results[1]
