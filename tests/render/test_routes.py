"""OpenShift Routes: the refusals and CIS rules that the golden case (cases/routes-tls) does not show."""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path

import pytest

from renderer.render import render
from renderer.validate import As3Validator

CASE = Path(__file__).parent / "cases" / "routes-tls"


def _repo(tmp_path: Path, routes: str, config_edit: tuple[str, str] | None = None) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(CASE, repo, ignore=shutil.ignore_patterns("expected"))
    (repo / "manifests" / "routes.yaml").write_text(routes)
    if config_edit:
        config = repo / "as3-gitops.yaml"
        config.write_text(config.read_text().replace(*config_edit))
    return repo


ROUTE = """apiVersion: route.openshift.io/v1
kind: Route
metadata:
  name: {name}
  namespace: shop
spec:
  host: {host}
  to: {{kind: Service, name: {service}}}
{tls}"""


def _route(name: str, host: str = "www.example.com", service: str = "web", tls: str = "") -> str:
    return ROUTE.format(name=name, host=host, service=service, tls=tls)


def _codes(repo: Path) -> list[tuple[str, str]]:
    return [(f.code, f.severity.value) for f in render(repo).findings]


def test_routes_need_the_route_virtual_address(tmp_path: Path) -> None:
    repo = _repo(tmp_path, _route("a"), ("  routeVirtualAddress: 10.1.10.50\n", ""))
    result = render(repo)
    [error] = [f for f in result.findings if f.is_error]
    assert error.code == "RTE001" and error.location.path == "manifests/routes.yaml"


def test_the_older_route_keeps_a_host_and_path(tmp_path: Path) -> None:
    older = _route("b").replace("  namespace: shop\n", "  namespace: shop\n  creationTimestamp: '2025-01-01T00:00:00Z'\n")
    newer = _route("a").replace("  namespace: shop\n", "  namespace: shop\n  creationTimestamp: '2026-01-01T00:00:00Z'\n")
    repo = _repo(tmp_path, newer + "---\n" + older)
    [error] = [f for f in render(repo).findings if f.is_error]
    assert error.code == "RTE003" and "Route shop/a" in error.message and "claimed by Route shop/b" in error.message


def test_missing_service_is_an_error_at_the_backend(tmp_path: Path) -> None:
    repo = _repo(tmp_path, _route("a", service="nope"))
    [error] = [f for f in render(repo).findings if f.is_error]
    assert (error.code, error.location.line) == ("RTE002", 8)


def test_destination_ca_without_a_serverssl_profile_is_refused(tmp_path: Path) -> None:
    tls = "  tls:\n    termination: reencrypt\n    destinationCACertificate: |\n      -----BEGIN CERTIFICATE-----\n"
    repo = _repo(tmp_path, _route("a", tls=tls + "      x\n      -----END CERTIFICATE-----\n"))
    assert ("RTE004", "error") in _codes(repo)


def test_insecure_policy_on_passthrough_is_ignored_with_a_warning(tmp_path: Path) -> None:
    tls = "  tls:\n    termination: passthrough\n    insecureEdgeTerminationPolicy: Redirect\n"
    repo = _repo(tmp_path, _route("a", service="vault", tls=tls))
    result = render(repo)
    assert [f.code for f in result.findings if f.severity.value == "warning"] == ["RTE006"]
    assert "ose_vserver" not in result.as3["declaration"]["openshift"]["Shared"]


def test_profile_and_certificate_routes_cannot_share_the_https_virtual(tmp_path: Path) -> None:
    cert = ("  tls:\n    termination: edge\n    certificate: |\n      -----BEGIN CERTIFICATE-----\n      x\n"
            "      -----END CERTIFICATE-----\n    key: |\n      -----BEGIN PRIVATE KEY-----\n      x\n"
            "      -----END PRIVATE KEY-----\n")
    profile = _route("b", host="b.example.com", tls="  tls:\n    termination: edge\n").replace(
        "  namespace: shop\n", "  namespace: shop\n  annotations: {virtual-server.f5.com/clientssl: my-clientssl}\n")
    repo = _repo(tmp_path, _route("a", tls=cert) + "---\n" + profile)
    assert ("RTE007", "error") in _codes(repo)


def test_ingress_only_annotations_on_a_route_are_warned_about(tmp_path: Path) -> None:
    route = _route("a").replace("  namespace: shop\n", "  namespace: shop\n  annotations: {virtual-server.f5.com/ip: 1.2.3.4}\n")
    repo = _repo(tmp_path, route)
    result = render(repo)
    [warning] = [f for f in result.findings if f.code == "ANN001"]
    assert "Ingresses only" in warning.message
    assert result.ok


def test_passthrough_only_keeps_a_client_ssl_profile_for_the_irule_to_turn_off(tmp_path: Path) -> None:
    repo = _repo(tmp_path, _route("a", host="vault.example.com", service="vault",
                                  tls="  tls:\n    termination: passthrough\n"))
    result = render(repo)
    assert result.ok
    shared = result.as3["declaration"]["openshift"]["Shared"]
    assert shared["https_ose_vserver"]["serverTLS"] == [{"bigip": "/Common/clientssl"}]
    assert shared["https_ose_vserver"]["iRules"] == ["openshift_passthrough_irule"]
    assert "SSL::disable serverside" not in shared["openshift_passthrough_irule"]["iRule"]
    assert shared["ssl_passthrough_servername_dg"]["records"] == [
        {"key": "vault.example.com", "value": "/openshift/Shared/openshift_shop_vault"}]


@functools.cache
def _validator(path: Path) -> As3Validator:
    return As3Validator.from_path(path)


@pytest.fixture
def route_validator(as3_schema_path: Path) -> As3Validator:
    return _validator(as3_schema_path)


def _irule_data_groups(shared: dict) -> set[str]:
    """The data groups the iRules of the Route virtuals name (`class match ... /openshift/Shared/<dg>`)."""
    text = "".join(v["iRule"] for v in shared.values() if isinstance(v, dict) and v.get("class") == "iRule")
    return set(re.findall(r"/openshift/Shared/(\w+)", text))


@pytest.mark.parametrize(("terminations", "irule"), [
    (("edge",), False),  # nothing for an iRule to do: the secure policy routes edge Routes
    (("reencrypt",), True),  # the server-SSL profile per host and path
    (("passthrough",), True),  # routed by the SNI
    (("edge", "reencrypt"), True),
    (("edge", "passthrough"), True),
    (("edge", "reencrypt", "passthrough"), True),
])
def test_the_route_irule_names_only_data_groups_the_declaration_has(
        tmp_path: Path, terminations: tuple[str, ...], irule: bool, route_validator: As3Validator) -> None:
    """The iRule used to read ssl_passthrough_servername_dg whenever it was attached, and that data group is
    declared only with a passthrough Route: BIG-IP refuses an iRule naming a data group that does not exist."""
    routes = "---\n".join(_route(t, host=f"{t}.example.com", service="vault" if t == "passthrough" else "web",
                                 tls=f"  tls:\n    termination: {t}\n") for t in terminations)
    result = render(_repo(tmp_path, routes))
    assert result.ok, [f.message for f in result.findings if f.is_error]
    shared = result.as3["declaration"]["openshift"]["Shared"]
    named = _irule_data_groups(shared)
    assert named <= {k for k, v in shared.items() if isinstance(v, dict) and v.get("class") == "Data_Group"}
    assert ("openshift_passthrough_irule" in shared) is irule
    assert shared["https_ose_vserver"].get("iRules", []) == (["openshift_passthrough_irule"] if irule else [])
    assert ("ssl_passthrough_servername_dg" in named) is ("passthrough" in terminations)
    assert ("ssl_reencrypt_serverssl_dg" in named) is ("reencrypt" in terminations)
    assert [str(e) for e in route_validator.validate_adc(result.adc)] == []


def _ab_route(name: str, host: str, termination: str) -> str:
    return _route(name, host=host, service="vault", tls=f"  tls:\n    termination: {termination}\n").replace(
        "  to: {kind: Service, name: vault}\n",
        "  to: {kind: Service, name: vault, weight: 80}\n  alternateBackends:\n  - {kind: Service, name: web, weight: 20}\n")


def test_an_ab_passthrough_route_is_passed_through_by_weight(tmp_path: Path, route_validator: As3Validator) -> None:
    """It used to get the A/B iRule only: the connection was terminated with the default client-SSL profile
    and its HTTP sent to pods that expect TLS, and ssl_passthrough_servername_dg was read by nothing."""
    result = render(_repo(tmp_path, _ab_route("a", "vault.example.com", "passthrough")))
    assert result.ok, [f.message for f in result.findings if f.is_error]
    shared = result.as3["declaration"]["openshift"]["Shared"]
    assert "openshift_passthrough_irule" in shared["https_ose_vserver"]["iRules"]
    text = shared["openshift_passthrough_irule"]["iRule"]
    assert "equals /openshift/Shared/ab_deployment_dg]" in text and "rand()" in text
    assert shared["ab_deployment_dg"]["records"] == [{"key": "vault.example.com/", "value":
                                                      "/openshift/Shared/openshift_shop_vault,80;"
                                                      "/openshift/Shared/openshift_shop_web,20"}]
    assert _irule_data_groups(shared) == {"ssl_passthrough_servername_dg", "ab_deployment_dg"}
    assert [str(e) for e in route_validator.validate_adc(result.adc)] == []


def test_ab_reencrypt_and_ab_edge_routes_get_the_server_ssl_choice(tmp_path: Path) -> None:
    """A/B Routes used to skip the passthrough iRule: with a reencrypt Route the virtual's server-SSL
    profile then also spoke TLS to the edge Route's pods."""
    routes = _ab_route("a", "api.example.com", "reencrypt") + "---\n" + _ab_route("b", "www.example.com", "edge")
    result = render(_repo(tmp_path, routes))
    assert result.ok, [f.message for f in result.findings if f.is_error]
    shared = result.as3["declaration"]["openshift"]["Shared"]
    assert shared["https_ose_vserver"]["iRules"] == ["ab_deployment_path_irule", "openshift_passthrough_irule"]
    assert "SSL::disable serverside" in shared["openshift_passthrough_irule"]["iRule"]
    assert _irule_data_groups(shared) == {"ssl_reencrypt_serverssl_dg", "ab_deployment_dg"}
