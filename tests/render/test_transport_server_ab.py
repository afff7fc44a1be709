"""TransportServer A/B (`pool.alternateBackends`, `weight`), as CIS 2.20 renders it: one pool per
backend, no default pool, the data group `<vs>_ab_deployment_dg` with the one key `/`, and the iRule
`<vs>_ab_deployment_path_irule` that picks a pool per connection; cluster mode, so the alternate
backends' pods get their ARP entries too."""

from __future__ import annotations

from pathlib import Path

from net_repo import node, write_repo

from renderer.render import render
from renderer.validate import As3Validator

CONFIG = """bigip:
  partition: k8s
vxlan:
  localAddress: 192.168.1.254
  selfIP: 10.244.30.15/16
"""


def _service(name: str, ns: str) -> str:
    return f"""---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}}}
spec:
  ports: [{{name: db, port: 5432, targetPort: 5432}}]
"""


def _endpoints(name: str, ns: str, ip: str, node: str) -> str:
    return f"""---
apiVersion: v1
kind: Endpoints
metadata: {{name: {name}, namespace: {ns}}}
subsets:
  - addresses: [{{ip: {ip}, nodeName: {node}}}]
    ports: [{{name: db, port: 5432}}]
"""


def _ts(pool: str) -> str:
    return f"""---
apiVersion: cis.f5.com/v1
kind: TransportServer
metadata: {{name: db, namespace: default, labels: {{f5cr: "true"}}}}
spec:
  virtualServerAddress: 10.8.0.72
  virtualServerPort: 5432
  mode: standard
  type: tcp
  iRules: [/Common/log_rule]
  pool:
{pool}"""


SNAPSHOT = (_endpoints("blue", "default", "10.244.1.5", "n1") + _endpoints("green", "canary", "10.244.2.7", "n2")
            + node("n1", "aa:bb:cc:00:00:01", "192.168.1.11", "10.244.1.0/24")
            + node("n2", "aa:bb:cc:00:00:02", "192.168.1.12", "10.244.2.0/24"))
AB_POOL = """    service: blue
    servicePort: 5432
    name: ignored_with_alternates
    weight: 70
    monitor: {type: tcp, interval: 10, timeout: 31}
    alternateBackends:
      - {service: green, serviceNamespace: canary, weight: 30}
"""


def _render(tmp_path: Path, pool: str = AB_POOL, services: str | None = None):
    manifests = (_service("blue", "default") + _service("green", "canary")) if services is None else services
    return render(write_repo(tmp_path, CONFIG, manifests + _ts(pool), SNAPSHOT, "snapshot.yaml"))


def test_ab_transport_server_gets_a_pool_per_backend_a_data_group_and_the_irule(tmp_path: Path,
                                                                                 as3_schema_path: Path) -> None:
    result = _render(tmp_path)
    assert result.ok, [f.message for f in result.findings if f.is_error]
    app = result.as3["declaration"]["k8s"]["Shared"]
    vs = app["crd_10_8_0_72_5432"]
    assert "pool" not in vs  # the iRule forwards: CIS sets no default pool for A/B
    assert vs["iRules"] == [{"bigip": "/Common/log_rule"}, "crd_10_8_0_72_5432_ab_deployment_path_irule"]
    assert app["crd_10_8_0_72_5432_ab_deployment_dg"]["records"] == [
        {"key": "/", "value": "blue_5432_default,0.700;green_5432_canary,1.000"}]
    rule = app["crd_10_8_0_72_5432_ab_deployment_path_irule"]["iRule"]
    assert "when CLIENT_ACCEPTED" in rule and "/k8s/Shared/crd_10_8_0_72_5432_ab_deployment_dg" in rule
    # `pool.name` is ignored with alternateBackends (CIS's framePoolNameForTS); each pool has its monitor
    assert "ignored_with_alternates" not in app
    for pool, address in (("blue_5432_default", "10.244.1.5"), ("green_5432_canary", "10.244.2.7")):
        assert app[pool]["members"][0]["serverAddresses"] == [address]
        assert app[pool]["monitors"]
    assert sorted(a["ipAddress"] for a in result.net["arps"]) == ["10.244.1.5", "10.244.2.7"]
    assert As3Validator.from_path(as3_schema_path).validate_adc(result.adc) == []


def test_zero_weights_are_left_out_and_all_zero_leaves_an_empty_value(tmp_path: Path) -> None:
    one_zero = AB_POOL.replace("weight: 70", "weight: 0")
    app = _render(tmp_path / "a", one_zero).as3["declaration"]["k8s"]["Shared"]
    assert app["crd_10_8_0_72_5432_ab_deployment_dg"]["records"] == [{"key": "/", "value": "green_5432_canary,1.000"}]
    all_zero = one_zero.replace("weight: 30", "weight: 0")
    app = _render(tmp_path / "b", all_zero).as3["declaration"]["k8s"]["Shared"]
    assert app["crd_10_8_0_72_5432_ab_deployment_dg"]["records"] == [{"key": "/", "value": ""}]
    assert "blue_5432_default" in app and "green_5432_canary" in app  # the pools stay declared


def test_default_weight_is_100(tmp_path: Path) -> None:
    pool = AB_POOL.replace("    weight: 70\n", "").replace(", weight: 30", "")
    app = _render(tmp_path, pool).as3["declaration"]["k8s"]["Shared"]
    assert app["crd_10_8_0_72_5432_ab_deployment_dg"]["records"] == [
        {"key": "/", "value": "blue_5432_default,0.500;green_5432_canary,1.000"}]


def test_a_missing_alternate_service_is_crd020_naming_it(tmp_path: Path) -> None:
    result = _render(tmp_path, services=_service("blue", "default"))
    errors = [(f.code, f.location.path) for f in result.findings if f.is_error]
    assert errors == [("CRD020", "manifests/app.yaml")]
    assert "canary/green" in next(f.message for f in result.findings if f.code == "CRD020")


def test_weight_without_alternates_is_a_warning_and_the_plain_pool(tmp_path: Path) -> None:
    pool = "    service: blue\n    servicePort: 5432\n    weight: 40\n"
    result = _render(tmp_path, pool)
    assert result.ok
    assert [f.code for f in result.findings if f.severity.value == "warning" and f.code.startswith("CRD")] == ["CRD121"]
    vs = result.as3["declaration"]["k8s"]["Shared"]["crd_10_8_0_72_5432"]
    assert vs["pool"] == "/k8s/Shared/blue_5432_default"
    assert vs["iRules"] == [{"bigip": "/Common/log_rule"}]


def test_an_alternate_without_service_namespace_is_in_the_resources_namespace(tmp_path: Path) -> None:
    """CIS (GetPoolBackendsForTS/ForVS): an alternate backend without serviceNamespace is looked up in
    the resource's namespace, not in the primary backend's serviceNamespace."""
    pool = ("    service: green\n    serviceNamespace: canary\n    servicePort: 5432\n"
            "    alternateBackends: [{service: blue}]\n")
    result = _render(tmp_path, pool)
    assert result.ok, [f.message for f in result.findings if f.is_error]
    app = result.as3["declaration"]["k8s"]["Shared"]
    assert app["crd_10_8_0_72_5432_ab_deployment_dg"]["records"] == [
        {"key": "/", "value": "green_5432_canary,0.500;blue_5432_default,1.000"}]
