"""validate_result: AS3 and net errors of a real render, mapped back to the manifests that made them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from renderer.errors import SourceLocation
from renderer.render import render
from renderer.validate import As3Validator, validate_rendered, validate_result

from .conftest import HELLO_WORLD, schema_path

POOL = "/kubernetes/Shared/ingress_default_vs_01_hello_world_svc_80"
VS = "/kubernetes/Shared/ingress_192_168_1_250_80"


@pytest.fixture(scope="module")
def result():
    return render(HELLO_WORLD)


def test_hello_world_is_valid(result, validator: As3Validator) -> None:
    assert result.ok
    assert validate_result(result, validator) == []


def test_schema_error_points_at_the_manifest_that_made_the_object(result, validator: As3Validator) -> None:
    result.as3["declaration"]["kubernetes"]["Shared"][POOL.rsplit("/", 1)[1]]["members"][0]["servicePort"] = 70000
    try:
        findings = validate_result(result, validator)
    finally:
        result.as3["declaration"]["kubernetes"]["Shared"][POOL.rsplit("/", 1)[1]]["members"][0]["servicePort"] = 9000
    assert [(f.code, f.message, f.location) for f in findings] == [(
        "AS3003", f"AS3 rejects {POOL}/members/0/servicePort: should be <= 65535 (got 70000)",
        SourceLocation("manifests/vs-01.yaml", 1, 1),
    )]
    assert findings[0].hint == ("produced by Ingress default/vs-01 (manifests/vs-01.yaml); Service "
                                "default/hello-world-svc (manifests/service.yaml); Endpoints "
                                "default/hello-world-svc (snapshot/endpoints.yaml)")


def test_locator_points_a_member_port_error_at_the_service_ports(result, validator: As3Validator) -> None:
    from renderer.source import WorkTree
    from renderer.validate.locate import tree_locator

    member = result.as3["declaration"]["kubernetes"]["Shared"][POOL.rsplit("/", 1)[1]]["members"][0]
    member["servicePort"] = 70000
    try:
        findings = validate_result(result, validator, locator=tree_locator(WorkTree(HELLO_WORLD)))
    finally:
        member["servicePort"] = 9000
    service_yaml = (HELLO_WORLD / "manifests" / "service.yaml").read_text().splitlines()
    ports_line = next(i for i, line in enumerate(service_yaml, 1) if line.strip() == "ports:") + 1
    assert [(f.code, f.location.path, f.location.line) for f in findings if f.location] == [
        ("AS3003", "manifests/service.yaml", ports_line),
    ]


def test_dangling_pool_pointer_is_reported_at_the_virtual_server(result, validator: As3Validator) -> None:
    shared = result.as3["declaration"]["kubernetes"]["Shared"]
    vs = shared[VS.rsplit("/", 1)[1]]
    original = vs["pool"]
    vs["pool"] = "/kubernetes/Shared/gone"
    try:
        findings = validate_result(result, validator)
    finally:
        vs["pool"] = original
    assert [(f.code, f.message, f.location) for f in findings] == [
        ("AS3008", f"AS3 rejects {VS}/pool: contains path to non-existent object gone",
         SourceLocation("manifests/vs-01.yaml", 1, 1)),
    ]


def test_net_error_points_at_the_node_behind_the_fdb_record(result, validator: As3Validator) -> None:
    record = result.net["fdb"]["records"][0]
    original = record["endpoint"]
    record["endpoint"] = "not-an-ip"
    try:
        findings = validate_result(result, validator)
    finally:
        record["endpoint"] = original
    assert len(findings) == 1
    finding = findings[0]
    assert finding.code == "NET100"
    assert finding.message.startswith("net declaration invalid at /fdb/records/0/endpoint: ")
    assert 'data "not-an-ip" should match pattern' in finding.message
    assert finding.location is not None and finding.location.path == "snapshot/nodes.yaml"


def test_secret_like_values_are_never_echoed(result, validator: As3Validator) -> None:
    shared = result.as3["declaration"]["kubernetes"]["Shared"]
    shared["tls_secret_probe"] = {"class": "Certificate", "certificate": "-----BEGIN", "privateKey": 12345}
    try:
        findings = validate_result(result, validator)
    finally:
        del shared["tls_secret_probe"]
    assert findings and all("12345" not in f.message for f in findings)


def test_validate_rendered_finds_the_schema_from_the_environment(tmp_path: Path) -> None:
    if not schema_path().is_file():
        pytest.skip(f"official AS3 schema not found at {schema_path()}")
    repo = tmp_path / "repo"
    shutil.copytree(HELLO_WORLD, repo)
    result = render(repo)
    assert validate_rendered(result, repo=repo, environ={"AS3_SCHEMA": str(schema_path())}) == []
