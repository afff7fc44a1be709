"""AS3 conformance: F5's own example bodies are accepted, deliberately broken ones are rejected."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from reference_data import reference

from renderer.validate import As3Validator

from .conftest import EXAMPLES

# Kinds (PROVENANCE.txt) whose bodies go to POST /declare and that AS3 accepts.
DECLARE_KINDS = ("ADC declaration", "AS3 request", "AS3 array", "JSON-patch body")


def _examples() -> list[tuple[str, str]]:
    provenance = EXAMPLES / "PROVENANCE.txt"
    if not provenance.is_file():
        return []
    rows = []
    for line in provenance.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].endswith(".json"):
            kind = " ".join(parts[2:])
            if kind in DECLARE_KINDS:
                rows.append((parts[0], kind))
    return rows


def test_the_example_corpus_is_present_and_complete() -> None:
    reference("as3-examples", "PROVENANCE.txt")
    kinds = [kind for _, kind in _examples()]
    assert (kinds.count("ADC declaration"), kinds.count("AS3 request")) == (49, 16)
    assert (kinds.count("AS3 array"), kinds.count("JSON-patch body")) == (1, 2)


@pytest.mark.parametrize(("name", "kind"), _examples() or [pytest.param(None, None, marks=pytest.mark.skip(
    reason=f"reference data not found: {EXAMPLES}"), id="reference-missing")],
                         ids=[n for n, _ in _examples()] or None)
def test_as3_accepts_its_own_example(validator: As3Validator, name: str, kind: str) -> None:
    body = json.loads((EXAMPLES / name).read_text())
    assert validator.first_error(body) is None
    assert validator.body_errors(body) == []


def test_validation_never_changes_the_callers_data(validator: As3Validator) -> None:
    body = json.loads(reference("as3-examples", "declarations", "example-dry-run-controls.json").read_text())
    before = copy.deepcopy(body)
    validator.first_error(body)
    assert body == before


BASE: dict[str, Any] = {
    "class": "ADC",
    "schemaVersion": "3.56.0",
    "id": "broken",
    "T1": {
        "class": "Tenant",
        "app": {
            "class": "Application",
            "svc": {"class": "Service_HTTP", "virtualAddresses": ["10.0.0.1"], "virtualPort": 80,
                    "pool": "web_pool"},
            "web_pool": {"class": "Pool", "loadBalancingMode": "round-robin", "monitors": ["http"],
                         "members": [{"servicePort": 80, "serverAddresses": ["10.1.0.1"]}]},
        },
    },
}


def _set(path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(BASE)
    *parents, leaf = path.split("/")
    node: Any = body
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is _DELETE:
        del node[leaf]
    elif isinstance(node, list):
        node[int(leaf)] = value
    else:
        node[leaf] = value
    return body


_DELETE = object()

BROKEN = [
    ("missing-virtualAddresses", _set("T1/app/svc/virtualAddresses", _DELETE),
     "/T1/app/svc: should have required property 'virtualAddresses'"),
    ("bad-loadBalancingMode", _set("T1/app/web_pool/loadBalancingMode", "least-connections"),
     '/T1/app/web_pool/loadBalancingMode: should be equal to one of the allowed values ["dynamic-ratio-member",'),
    ("servicePort-70000", _set("T1/app/web_pool/members/0/servicePort", 70000),
     "/T1/app/web_pool/members/0/servicePort: should be <= 65535"),
    ("pool-pointer-to-missing-pool", _set("T1/app/svc/pool", "no_such_pool"),
     "/T1/app/svc/pool: contains path to non-existent object no_such_pool"),
    ("pool-use-pointer-to-missing-pool", _set("T1/app/svc/pool", {"use": "/T1/app/no_such_pool"}),
     "/T1/app/svc/pool/use: contains path to non-existent object no_such_pool"),
    ("pool-pointer-to-a-service", _set("T1/app/svc/pool", "svc"),
     "/T1/app/svc/pool: AS3 pointer svc does not point to required object type"),
    ("bad-f5ip", _set("T1/app/svc/virtualAddresses", ["10.0.0.999"]),
     '/T1/app/svc/virtualAddresses/0: should match format "f5ip"'),
    ("virtualPort-string", _set("T1/app/svc/virtualPort", "80"), "/T1/app/svc/virtualPort: should be integer"),
    # a class AS3 does not know is a word its schema does not have: the property-name check says so
    ("unknown-class", _set("T1/app/svc/class", "Service_Nope"), "Invalid data property: Service_Nope"),
    ("schemaVersion-from-the-future", _set("schemaVersion", "4.0.0"),
     '/schemaVersion: data "4.0.0" should match pattern "^3[.]([0-9]|[1234][0-9]|5[0-6])($|[.][0-9]+$)"'),
    ("tenant-not-an-object", _set("T1", "nope"), "Invalid data property: T1"),
    # no class: AS3 wraps the body as the declaration of a deploy request, whose schema wants class ADC
    ("missing-class", _set("class", _DELETE), "Invalid request: /declaration: should have required property 'class'"),
]


@pytest.mark.parametrize(("body", "expected"), [(b, e) for _, b, e in BROKEN], ids=[n for n, _, _ in BROKEN])
def test_as3_rejects_broken_declaration_with_its_first_error(
    validator: As3Validator, body: dict[str, Any], expected: str
) -> None:
    message = validator.first_error(body)
    assert message is not None
    assert message.startswith(expected) if expected.endswith((" ", ",")) else message == expected


VALID_VARIANTS = [
    ("missing-virtualPort-defaults-to-80", _set("T1/app/svc/virtualPort", _DELETE)),
    ("pool-use-pointer", _set("T1/app/svc/pool", {"use": "web_pool"})),
    ("pool-absolute-pointer", _set("T1/app/svc/pool", "/T1/app/web_pool")),
    ("pool-bigip-reference", _set("T1/app/svc/pool", {"bigip": "/Common/existing_pool"})),
    ("f5ip-with-route-domain-and-mask", _set("T1/app/svc/virtualAddresses", ["10.0.0.1%2/32"])),
    ("ipv6-address", _set("T1/app/svc/virtualAddresses", ["2001:db8::1"])),
]


@pytest.mark.parametrize("body", [b for _, b in VALID_VARIANTS], ids=[n for n, _ in VALID_VARIANTS])
def test_as3_accepts_valid_variants(validator: As3Validator, body: dict[str, Any]) -> None:
    assert validator.first_error(body) is None


def test_wrapper_errors_are_reported_before_the_declaration(validator: As3Validator) -> None:
    body = {"class": "AS3", "action": "explode", "declaration": _set("T1/app/svc/virtualAddresses", _DELETE)}
    assert validator.first_error(body) == (
        'Invalid request: /action: should be equal to one of the allowed values '
        '["deploy","dry-run","patch","redeploy","retrieve","remove"]'
    )


def test_wrapped_declaration_errors_use_adc_relative_pointers(validator: As3Validator) -> None:
    body = {"class": "AS3", "action": "deploy", "declaration": _set("T1/app/svc/virtualAddresses", _DELETE)}
    assert validator.first_error(body) == "/T1/app/svc: should have required property 'virtualAddresses'"
    assert str(validator.body_errors(body, absolute=True)[0]) == (
        "/declaration/T1/app/svc: should have required property 'virtualAddresses'"
    )


def test_validate_adc_lists_every_problem_in_one_run(validator: As3Validator) -> None:
    body = _set("T1/app/web_pool/members/0/servicePort", 70000)
    body["T1"]["app"]["svc"]["virtualAddresses"] = ["10.0.0.999"]
    assert [str(e) for e in validator.validate_adc(body)] == [
        '/T1/app/svc/virtualAddresses/0: should match format "f5ip"',
        "/T1/app/web_pool/members/0/servicePort: should be <= 65535",
    ]


def test_non_object_bodies_are_rejected_without_crashing(validator: As3Validator) -> None:
    assert validator.first_error("nope") == "Invalid request: /declaration: should be object"
    assert validator.first_error(None) == "Invalid request: /: should be object"
    assert validator.first_error([{"class": "AS3", "action": "nope"}]) == "Invalid request: /: should be object"
    assert validator.first_error([]) == "Invalid request: /patchBody: should NOT have fewer than 1 items"
    assert validator.first_error([{"op": 1}]) == "Invalid request: /patchBody/0: should have required property 'path'"
    assert validator.first_error([{"op": 1, "path": "/x"}]) == "Invalid request: /patchBody/0/op: should be string"


# -- issue 14: AS3's checks outside its schema, and where we were stricter than AS3 -------------------
# One case per class of the issue: a minimal declaration, AS3 3.56.0's verdict and its message.


def _app(body: dict[str, Any]) -> dict[str, Any]:
    return body["T1"]["app"]


def _with(edit: Any) -> dict[str, Any]:
    body = copy.deepcopy(BASE)
    edit(body)
    return body


def _secret(protected: str) -> dict[str, Any]:
    return {"ciphertext": "YWJj", "protected": protected}


_CERT = {"class": "Certificate", "certificate": {"bigip": "/Common/default.crt"},
         "privateKey": {"bigip": "/Common/default.key"}}
_LONG = "p" * 188  # /T1/app/ + 188 characters = 196 > 195
AS3_REJECTS = [
    ("1-unknown-property", _with(lambda b: _app(b)["svc"].update(proflieSSE={"bigip": "/Common/x"})),
     "Invalid data property: proflieSSE"),
    ("1-unknown-property-where-the-schema-allows-any", _with(lambda b: _app(b).update(remarks="x")),
     "Invalid data property: remarks"),
    ("2-duplicate-monitors", _set("T1/app/web_pool/monitors", ["http", "http"]),
     "declaration has duplicate values in monitors"),
    ("2-duplicate-members-after-defaults", _set("T1/app/web_pool/members", [
        {"servicePort": 80, "serverAddresses": ["10.1.0.1"]},
        {"servicePort": 80, "serverAddresses": ["10.1.0.1"], "enable": True}]),
     "declaration has duplicate values in members"),
    ("2-duplicate-inside-constants", _with(lambda b: b["T1"].update(
        constants={"class": "Constants", "lists": {"monitors": ["a", "a"]}})),
     "declaration has duplicate values in monitors"),
    ("3-one-node-name-two-addresses", _set("T1/app/web_pool/members", [
        {"servicePort": 80, "servers": [{"name": "n1", "address": "10.0.0.1"}]},
        {"servicePort": 81, "servers": [{"name": "n1", "address": "10.0.0.2"}]}]),
     "The node name must be unique throughout the declaration. Duplicate node name 'n1' found."),
    ("4-path-over-195", _with(lambda b: _app(b).update({_LONG: {"class": "Pool"}})),
     f"Path /T1/app/{_LONG} is longer than 195 characters"),
    ("5-route-domain-over-65535", _set("T1/app/svc/virtualAddresses", ["10.0.0.1%65536"]),
     '/T1/app/svc/virtualAddresses/0: should match format "f5ip"'),
    ("5-route-domain-leading-zero", _set("T1/app/svc/virtualAddresses", ["10.0.0.1%01"]),
     '/T1/app/svc/virtualAddresses/0: should match format "f5ip"'),
    ("5-mask-leading-zero", _set("T1/app/svc/virtualAddresses", ["10.0.0.0/08"]),
     '/T1/app/svc/virtualAddresses/0: should match format "f5ip"'),
    ("6-retrieve-with-a-declaration", {"class": "AS3", "action": "retrieve", "declaration": BASE},
     'for action "retrieve", a declaration is not allowed.'),
    ("6-redeployAge-without-redeploy", {"class": "AS3", "redeployAge": 2, "declaration": BASE},
     'redeployAge is valid only with action "redeploy"'),
    ("6-deploy-without-a-declaration", {"class": "AS3", "action": "deploy"},
     'for action "deploy", a declaration is required.'),
    ("6-dry-run-is-a-deploy-by-then", {"class": "AS3", "action": "dry-run", "retrieveAge": 1, "declaration": BASE},
     'retrieveAge value is not allowed for action "deploy". use only with "retrieve"'),
    ("6-patchBody-without-patch", {"class": "AS3", "action": "remove", "patchBody": [{"op": "add", "path": "/x"}]},
     "patchBody is valid only with action 'patch'"),
    ("7-one-tenant-in-two-declarations", [{"class": "AS3", "declaration": BASE},
                                          {"class": "AS3", "declaration": {**BASE, "id": "other"}}],
     "Error(s): 'Invalid/Duplicate': another request exists with the same targetHost-declaration tenant, "
     "declaration target, and/or declaration tenant-app"),
    ("8-pointer-to-a-one-character-name", _with(lambda b: (_app(b).update(p=_app(b).pop("web_pool")),
                                                           _app(b)["svc"].update(pool="p"))),
     "/T1/app/svc/pool: contains an invalid path (invalid character)"),
    ("9-protected-is-not-json", _with(lambda b: _app(b).update(cert={**_CERT, "passphrase": _secret("bm90IGpzb24")})),
     "/T1/app/cert/passphrase: Error parsing 'protected' property: Unexpected token o in JSON at position 1"),
    ("10-autoDelete-false-outside-Common", _with(lambda b: _app(b).update(
        va={"class": "Service_Address", "virtualAddress": "10.9.9.9", "autoDelete": False})),
     "Disabling auto-delete for service addresses in non-common tenants is not supported."),
    ("also-trailing-newline-f5bigip", _set("T1/app/svc/pool", {"bigip": "/Common/clientssl\n"}),
     '/T1/app/svc/pool/bigip: should match format "f5bigip"'),
    ("also-trailing-newline-pattern", _set("schemaVersion", "3.56.0\n"),
     '/schemaVersion: data "3.56.0\\n" should match pattern "^3[.]([0-9]|[1234][0-9]|5[0-6])($|[.][0-9]+$)"'),
    ("also-declaration-id", _set("id", "has space"), "declaration lacks valid 'id' property"),
    # a failed `not`: AS3's formatAjvErr names the schema-path segment before it
    ("also-not-names-the-dependency", _with(lambda b: _app(b)["svc"].update(serverTLS={"bigip": "/Common/x"})),
     "/T1/app/svc: serverTLS is NOT valid"),
    ("also-not-in-the-request", {"class": "AS3", "action": "patch", "declaration": BASE,
                                 "patchBody": [{"op": "add", "path": "/x", "value": 1}]},
     "Invalid request: /: declaration is NOT valid"),
    # JavaScript's \d is ASCII, and its \s is not Python's (no \x1c-\x1f or \x85; \ufeff is in)
    ("also-pattern-ascii-digits", _set("T1/app/hp", {"class": "HTTP_Profile", "multiplexStatusReuse": "2\u0660\u0660"}),
     '/T1/app/hp/multiplexStatusReuse: data "2\u0660\u0660" should match pattern "^([24]\\d\\d\\s?)+$"'),
    ("also-pattern-js-whitespace", _set("T1/app/hp", {"class": "HTTP_Profile", "multiplexStatusReuse": "200\x1c204"}),
     '/T1/app/hp/multiplexStatusReuse: data "200\\u001c204" should match pattern "^([24]\\d\\d\\s?)+$"'),
    ("also-pattern-js-whitespace-nel", _set("T1/app/hp", {"class": "HTTP_Profile", "multiplexStatusReuse": "200\x85204"}),
     '/T1/app/hp/multiplexStatusReuse: data "200\x85204" should match pattern "^([24]\\d\\d\\s?)+$"'),
]


@pytest.mark.parametrize(("body", "expected"), [(b, e) for _, b, e in AS3_REJECTS], ids=[n for n, _, _ in AS3_REJECTS])
def test_as3_rejects_outside_its_schema_with_its_message(validator: As3Validator, body: Any, expected: str) -> None:
    assert validator.first_error(body) == expected


def test_a_duplicate_in_a_later_member_is_not_found_as_in_as3(validator: As3Validator) -> None:
    """AS3 looks into only the first object of an array once it found any of the arrays it checks."""
    members = [{"servicePort": 80, "serverAddresses": ["10.1.0.1"], "monitors": ["http"]},
               {"servicePort": 81, "serverAddresses": ["10.1.0.2"], "monitors": ["http", "http"]}]
    assert validator.first_error(_set("T1/app/web_pool/members", members)) is None
    members[0]["monitors"] = ["http", "http"]
    assert validator.first_error(_set("T1/app/web_pool/members", members)) == (
        "declaration has duplicate values in monitors")


def test_the_full_path_limit_is_checked_before_the_node_names(validator: As3Validator) -> None:
    body = {"class": "ADC", "schemaVersion": "3.56.0", "id": "x",
            "t" * 100: {"class": "Tenant", "a" * 100: {"class": "Application", "o" * 60: {"class": "Pool"}}}}
    assert validator.first_error(body) == (
        f"The path /{'t' * 100}/{'a' * 100}/{'o' * 60} exceeds the 255 full path character limit")


AS3_ACCEPTS = [
    ("11-loose-ipv6-pattern", _set("T1/app/svc/virtualAddresses", ["2001:db8::1::2"])),
    ("11-loose-ipv6-with-bad-ipv4-tail", _set("T1/app/svc/virtualAddresses", ["::ffff:999.1.1.1"])),
    ("12-pointer-through-an-array", _set("T1/app/svc/pool", {"use": "/T1/app/svc/virtualAddresses/0"})),
    ("12-pointer-to-an-array", _set("T1/app/svc/pool", {"use": "/T1/app/svc/virtualAddresses"})),
    ("13-adc-carrying-its-own-declaration", {"class": "ADC", "schemaVersion": "3.56.0", "id": "outer",
                                             "declaration": BASE, "nonsense": {"x": 1}}),
    ("14-default-added-by-a-later-allOf-entry", _with(lambda b: _app(b).update(
        tls={"class": "TLS_Client", "cipherGroup": {"bigip": "/Common/f5-aes"}, "tls1_3Enabled": False}))),
    ("8-two-character-pointer", _with(lambda b: (_app(b).update(pp=_app(b).pop("web_pool")),
                                                 _app(b)["svc"].update(pool="pp")))),
    ("9-protected-is-json", _with(lambda b: _app(b).update(
        cert={**_CERT, "passphrase": _secret("eyJhbGciOiJkaXIiLCJlbmMiOiJub25lIn0")}))),
    ("also-pattern-bom-is-js-whitespace", _set("T1/app/hp", {"class": "HTTP_Profile",
                                                            "multiplexStatusReuse": "200\ufeff204"})),
    ("10-autoDelete-false-in-Common", {"class": "ADC", "schemaVersion": "3.56.0", "id": "c", "Common": {
        "class": "Tenant", "Shared": {"class": "Application", "template": "shared", "va": {
            "class": "Service_Address", "virtualAddress": "10.9.9.9", "autoDelete": False}}}}),
]


@pytest.mark.parametrize("body", [b for _, b in AS3_ACCEPTS], ids=[n for n, _ in AS3_ACCEPTS])
def test_as3_accepts_what_we_used_to_refuse(validator: As3Validator, body: Any) -> None:
    assert validator.first_error(body) is None


def test_a_loose_ipv6_address_passes_with_a_warning_of_ours(validator: As3Validator) -> None:
    judgement = validator.judge(_set("T1/app/svc/virtualAddresses", ["2001:db8::1::2"]))
    assert judgement.errors == []
    assert [(w.pointer, w.warning) for w in judgement.warnings] == [("/T1/app/svc/virtualAddresses/0", True)]
    assert validator.judge(BASE).warnings == []


def test_as3s_first_error_comes_first_then_ours(validator: As3Validator) -> None:
    body = _set("T1/app/web_pool/monitors", ["http", "http"])
    _app(body)["svc"]["proflieSSE"] = 1
    _app(body)["svc"]["virtualPort"] = "80"
    assert [str(e) for e in validator.body_errors(body)] == [
        "Invalid data property: proflieSSE",
        "/T1/app/svc/virtualPort: should be integer",
        "declaration has duplicate values in monitors",
    ]


def test_as3s_search_is_replayed_when_its_first_hit_is_off_the_narrowed_path(validator: As3Validator) -> None:
    """`rules` is the first array AS3 looks for: found only in the second item of a list, it still counts."""
    body = _with(lambda b: b["T1"].update(constants={"class": "Constants", "x": [{"a": 1}, {"rules": ["r", "r"]}]}))
    assert validator.first_error(body) == "declaration has duplicate values in rules"


def test_every_failing_request_of_an_array_is_reported_in_order(validator: As3Validator) -> None:
    """AS3 answers each request of an array on its own (declareHandler processRequest): a failing one
    does not stop the next, so every failing request is reported, the first failing one first."""
    def tenant(name: str, edit: Any = None) -> dict[str, Any]:
        declaration = copy.deepcopy(BASE)
        declaration["id"] = name
        declaration[name] = declaration.pop("T1")
        if edit:
            edit(declaration[name]["app"])
        return {"class": "AS3", "declaration": declaration}

    body = [tenant("T0"), tenant("T1", lambda app: app["svc"].update(proflieSSE={"bigip": "/Common/x"})),
            tenant("T2", lambda app: app["svc"].update(virtualAddresses=["10.0.0.1%65536"]))]
    errors = validator.body_errors(body, absolute=True)
    assert [e.pointer for e in errors] == ["/1/declaration/T1/app/svc/proflieSSE",
                                           "/2/declaration/T2/app/svc/virtualAddresses/0"]
    assert validator.first_error(body) == "Invalid data property: proflieSSE"
    assert validator.body_errors(body[:1] + body[2:])[0].message == 'should match format "f5ip"'
