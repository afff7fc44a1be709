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
     "/T1/app/web_pool/loadBalancingMode: should be equal to one of the allowed values: "),
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
    ("unknown-class", _set("T1/app/svc/class", "Service_Nope"),
     "/T1/app/svc/class: should be equal to one of the allowed values: Service_HTTP, "),
    ("schemaVersion-from-the-future", _set("schemaVersion", "4.0.0"),
     '/schemaVersion: should match pattern "^3[.]([0-9]|[1234][0-9]|5[0-6])($|[.][0-9]+$)"'),
    ("tenant-not-an-object", _set("T1", "nope"), "/T1: should be object"),
    ("missing-class", _set("class", _DELETE), ": should have required property 'class'"),
]


@pytest.mark.parametrize(("body", "expected"), [(b, e) for _, b, e in BROKEN], ids=[n for n, _, _ in BROKEN])
def test_as3_rejects_broken_declaration_with_its_first_error(
    validator: As3Validator, body: dict[str, Any], expected: str
) -> None:
    message = validator.first_error(body)
    assert message is not None
    assert message.startswith(expected) if expected.endswith(" ") else message == expected


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
        "/action: should be equal to one of the allowed values: deploy, dry-run, patch, redeploy, retrieve, remove"
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
    assert validator.first_error("nope") == ": should be object"
    assert validator.first_error([]) == ": should NOT have fewer than 1 items"
    assert validator.first_error([{"op": 1}]) == "/0: should have required property 'path'"
    assert validator.first_error([{"op": 1, "path": "/x"}]) == "/0/op: should be string"
