"""The Ajv-6 emulation on small schemas: defaults before required, no leaks, order and wording, formats."""

from __future__ import annotations

from typing import Any

import pytest

from renderer.validate.ajv import Ajv
from renderer.validate.declaration import value_offsets
from renderer.validate.formats import FORMATS, is_f5ip
from renderer.validate.pointers import PointerProblem, resolve


def ajv(definitions: dict[str, Any]) -> Ajv:
    return Ajv({"definitions": definitions}, FORMATS)


def test_defaults_are_filled_before_required_is_checked() -> None:
    schema = {"type": "object", "properties": {"class": {"type": "string", "default": "Controls"}},
              "required": ["class"]}
    judge = ajv({})
    data: dict[str, Any] = {"logLevel": "debug"}
    assert [str(e) for e in judge.errors(schema, data)] == ["/: should have required property 'class'"]
    judge.fill_defaults(schema, data)
    assert data == {"logLevel": "debug", "class": "Controls"}
    assert judge.errors(schema, data) == []


def test_a_default_next_to_a_ref_is_used_like_ajv_does() -> None:
    judge = ajv({"Port": {"type": "integer"}})
    schema = {"type": "object", "properties": {"port": {"$ref": "#/definitions/Port", "default": 80}}}
    data: dict[str, Any] = {}
    judge.fill_defaults(schema, data)
    assert data == {"port": 80}


def test_defaults_of_a_oneof_branch_that_does_not_match_never_leak() -> None:
    schema = {"type": "object", "properties": {"x": {"oneOf": [
        {"type": "object", "properties": {"a": {"type": "integer"}, "mode": {"const": "A", "default": "A"}},
         "required": ["a"], "additionalProperties": False},
        {"type": "object", "properties": {"b": {"type": "integer"}, "protected": {"default": "p"}},
         "required": ["b", "protected"], "additionalProperties": False},
    ]}}}
    judge = ajv({})
    data: dict[str, Any] = {"x": {"b": 1}}
    judge.fill_defaults(schema, data)
    assert data == {"x": {"b": 1, "protected": "p"}}
    assert judge.errors(schema, data) == []


def test_if_then_uses_the_branch_the_condition_selects() -> None:
    schema = {"type": "object", "properties": {"kind": {"type": "string"}},
              "if": {"properties": {"kind": {"const": "http"}}},
              "then": {"properties": {"port": {"default": 80}}},
              "else": {"properties": {"port": {"default": 443}}}}
    judge = ajv({})
    http, tls = {"kind": "http"}, {"kind": "tls"}
    judge.fill_defaults(schema, http)
    judge.fill_defaults(schema, tls)
    assert (http["port"], tls["port"]) == (80, 443)


def test_first_error_follows_ajv_keyword_order_required_before_properties() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]}
    errors = ajv({}).errors({**schema}, {"a": 1})
    assert [str(e) for e in errors] == ["/: should have required property 'b'", "/a: should be string"]


@pytest.mark.parametrize(("schema", "data", "message"), [
    ({"maximum": 10}, 11, "should be <= 10"),
    ({"exclusiveMinimum": 0}, 0, "should be > 0"),
    ({"maxLength": 2}, "abc", "should NOT be longer than 2 characters"),
    ({"pattern": "^a"}, "b", 'data "b" should match pattern "^a"'),
    ({"pattern": "^a$"}, "a\n", 'data "a\\n" should match pattern "^a$"'),  # JavaScript's $: not before "\n"
    ({"enum": ["x", 1]}, "y", 'should be equal to one of the allowed values ["x",1]'),
    ({"const": True}, 1, "should be equal to constant true"),
    ({"type": ["string", "null"]}, 3, "should be string,null"),
    ({"type": "integer"}, 1.5, "should be integer"),
    ({"minItems": 1}, [], "should NOT have fewer than 1 items"),
    ({"uniqueItems": True}, [1, 1.0], "should NOT have duplicate items (items ## 1 and 0 are identical)"),
    ({"additionalProperties": False}, {"x": 1}, "should NOT have additional properties"),
    ({"maxProperties": 1}, {"a": 1, "b": 2}, "should NOT have more than 1 properties"),
    ({"dependencies": {"a": ["b"]}}, {"a": 1}, "should have property b when property a is present"),
    ({"not": {"type": "string"}}, "s", "should NOT be valid"),
    ({"format": "f5ip"}, "10.0.0.999", 'should match format "f5ip"'),
])
def test_messages_use_ajv_6_wording(schema: dict[str, Any], data: Any, message: str) -> None:
    assert [e.message for e in ajv({}).errors(schema, data)] == [message]


def test_integer_accepts_whole_floats_and_booleans_are_not_numbers() -> None:
    judge = ajv({})
    assert judge.errors({"type": "integer"}, 80.0) == []
    assert [e.message for e in judge.errors({"type": "number"}, True)] == ["should be number"]


@pytest.mark.parametrize(("value", "ok"), [
    ("", True), ("10.0.0.1", True), ("10.0.0.1%2", True), ("10.0.0.0/8", True), ("10.0.0.1%2/32", True),
    ("2001:db8::1", True), ("2001:db8::/64", True), ("0.0.0.0/0", True),
    ("10.0.0.999", False), ("10.0.0.1/33", False), ("host.example", False),
    ("10.0.0.1%rd", False), (" 10.0.0.1", False), ("10.0.0.1\n", False), ("10.0.0.1%65535", True),
    ("10.0.0.1%65536", False), ("10.0.0.1%01", False), ("10.0.0.0/08", False), ("010.0.0.1", False),
    ("FE80::1%3/64", True), ("1:2:3:4:5:6:7:8", True), ("1:2:3:4:5:6:7:8/129", False),
    # AS3's IPv6 pattern is anchored only at its ends: these pass there (and get our warning)
    ("2001:db8::1/129", True), ("2001:db8::1::2", True), ("::ffff:999.1.1.1", True),
])
def test_f5ip_format(value: str, ok: bool) -> None:
    assert is_f5ip(value) is ok


@pytest.mark.parametrize(("value", "ok"), [("/Common/http", True), ("Common/http", False),
                                           ("/Common/a b", True), ("/Common/a*b", False), ("/", False),
                                           ("/Common/clientssl\n", False)])
def test_f5bigip_format(value: str, ok: bool) -> None:
    assert FORMATS["f5bigip"](value) is ok


DECL = {"class": "ADC", "T": {"class": "Tenant", "A": {"class": "Application", "svc": {"pool": "pp"},
                                                         "pp": {"class": "Pool"}},
                              "Shared": {"class": "Application", "sp": {"class": "Pool"}}}}


@pytest.mark.parametrize(("value", "pointer", "target"), [
    ("pp", "/T/A/svc/pool", "/T/A/pp"),
    ("/T/A/pp", "/T/A/svc/pool", "/T/A/pp"),
    ("/T/Shared/sp", "/T/A/svc/pool", "/T/Shared/sp"),
    ("/@/@/pp", "/T/A/svc/pool", "/T/A/pp"),
    ("pp", "/T/A/svc/pool/use", "/T/A/pp"),
    ("/T/A/svc/pool", "/T/A/svc/x", "/T/A/svc/pool"),  # a string value: AS3 takes it as it is
])
def test_pointers_resolve_like_as3(value: str, pointer: str, target: str) -> None:
    node: Any = DECL
    for key in target.split("/")[1:]:
        node = node[key]
    assert resolve(value, pointer, DECL) is node


@pytest.mark.parametrize(("value", "message"), [
    ("nope", "contains path to non-existent object nope"),
    ("/T/B/pp", "contains path to non-existent object B"),
    ("/Other/A/pp", "contains path to non-existent object Other"),
    ("bad name!", "contains an invalid path (invalid character)"),
    ("p", "contains an invalid path (invalid character)"),  # at application level: two characters at least
    ("/T/A/p", "contains an invalid path (invalid character)"),
])
def test_bad_pointers_fail_with_as3_wording(value: str, message: str) -> None:
    with pytest.raises(PointerProblem) as info:
        resolve(value, "/T/A/svc/pool", DECL)
    assert str(info.value) == message


def test_value_offsets_find_every_value_in_json_text() -> None:
    text = '{\n  "a": [1, {"b": "x"}, []],\n  "c/d": {}, "e": null\n}'
    offsets = value_offsets(text)
    assert {k: text[v:v + 4] for k, v in offsets.items()} == {
        "": '{\n  ', "/a": "[1, ", "/a/0": "1, {", "/a/1": '{"b"', "/a/1/b": '"x"}',
        "/a/2": "[]],", "/c~1d": "{}, ", "/e": "null",
    }
