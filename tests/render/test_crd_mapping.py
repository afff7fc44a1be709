"""CIS custom resources, one behaviour per test: CIS 2.20's names (cis-crd-behaviour.md), grouping on
one address, precedence, validation findings at file:line:col, references that do not resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from renderer.render import render

CONFIG = "bigip:\n  partition: kubernetes\n  poolMemberType: nodeport\n"
NODES = """apiVersion: v1
kind: Node
metadata: {name: worker-1}
status:
  addresses: [{type: InternalIP, address: 192.168.1.10}]
  conditions: [{type: Ready, status: "True"}]
"""


def _svc(name: str, ns: str = "default", port: int = 80, node_port: int = 30080) -> str:
    return f"""---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}}}
spec:
  type: NodePort
  ports: [{{name: http, port: {port}, targetPort: 8080, nodePort: {node_port}}}]
"""


def _repo(tmp_path: Path, *manifests: str, config: str = CONFIG) -> Path:
    repo = tmp_path / "repo"
    (repo / "manifests").mkdir(parents=True)
    (repo / "as3-gitops.yaml").write_text(config)
    for i, text in enumerate(manifests):
        (repo / "manifests" / f"m{i}.yaml").write_text(text)
    (repo / "manifests" / "nodes.yaml").write_text(NODES)
    return repo


def _vs(name: str, spec: str, ns: str = "default") -> str:
    return f"""---
apiVersion: cis.f5.com/v1
kind: VirtualServer
metadata: {{name: {name}, namespace: {ns}}}
spec:
{spec}"""


def _app(repo: Path, tenant: str = "kubernetes") -> dict:
    result = render(repo)
    assert result.ok, [str(f.location) + " " + f.message for f in result.findings if f.is_error]
    return result.as3["declaration"][tenant]["Shared"]


def _errors(repo: Path) -> list[tuple[str, str, int, int | None]]:
    return [(f.code, f.location.path, f.location.line, f.location.column) for f in render(repo).findings
            if f.is_error]


def test_names_follow_cis_2_20(tmp_path: Path) -> None:
    """crd_<ip>_<port>, <svc>_<port>_<ns>_<host>_<path>, <ns>_<ip>_<host><path>_<type>_<port> (the
    reference's own example), <vs>_<host>_policy and vs_<host>_<path>_<pool>."""
    repo = _repo(tmp_path, _svc("web"), _vs("a", """  virtualServerAddress: 10.1.1.1
  host: a.com
  pools:
  - path: /app
    service: web
    servicePort: 80
    monitor: {type: http, send: "GET /", interval: 5, timeout: 16}
"""))
    app = _app(repo)
    assert set(app) >= {"crd_10_1_1_1_80", "web_80_default_a_com_app", "default_10_1_1_1_a_com_app_http_80",
                        "crd_10_1_1_1_80_a_com_policy"}
    rule = app["crd_10_1_1_1_80_a_com_policy"]["rules"][0]
    assert rule["name"] == "vs_a_com_app_web_80_default_a_com_app"
    assert rule["conditions"][0]["all"] == {"values": ["a.com:80", "a.com"], "operand": "equals"}
    assert app["crd_10_1_1_1_80"]["policyEndpoint"] == "/kubernetes/Shared/crd_10_1_1_1_80_a_com_policy"
    pool = app["web_80_default_a_com_app"]
    assert pool["minimumMonitors"] == 1 and pool["remark"] == "crd_10_1_1_1_80 loadbalances this pool"
    assert pool["members"] == [{"addressDiscovery": "static", "serverAddresses": ["192.168.1.10"],
                                "servicePort": 30080}]


def test_different_hosts_on_one_address_share_one_virtual_and_one_policy(tmp_path: Path) -> None:
    """CIS 2.20 lets the last VirtualServer overwrite the other (surprise 1); here both hosts route."""
    repo = _repo(tmp_path, _svc("a"), _svc("b", node_port=30081),
                 _vs("va", "  virtualServerAddress: 10.1.1.1\n  host: a.com\n  pools: [{service: a, servicePort: 80}]\n"),
                 _vs("vb", "  virtualServerAddress: 10.1.1.1\n  host: b.com\n  pools: [{service: b, servicePort: 80}]\n"))
    app = _app(repo)
    virtuals = [k for k, v in app.items() if isinstance(v, dict) and v.get("class") == "Service_HTTP"]
    assert virtuals == ["crd_10_1_1_1_80"]
    policies = [v for v in app.values() if isinstance(v, dict) and v.get("class") == "Endpoint_Policy"]
    assert len(policies) == 1
    assert sorted(r["name"] for r in policies[0]["rules"]) == ["vs_a_com_a_80_default_a_com",
                                                             "vs_b_com_b_80_default_b_com"]


def test_hostgroup_merges_hosts_into_one_rule_and_virtual_name(tmp_path: Path) -> None:
    spec = "  virtualServerAddress: 10.1.1.2\n  hostGroup: shop\n  hostGroupVirtualServerName: shopvs\n"
    repo = _repo(tmp_path, _svc("web"),
                 _vs("x", spec + "  host: x.com\n  pools: [{path: /p, service: web, servicePort: 80}]\n"),
                 _vs("y", spec + "  host: y.com\n  pools: [{path: /p, service: web, servicePort: 80}]\n"))
    app = _app(repo)
    assert "shopvs_80" in app
    policy = app[app["shopvs_80"]["policyEndpoint"].rsplit("/", 1)[1]]
    assert [r["name"] for r in policy["rules"]] == ["vs_shop_p_web_80_default_x_com_p", "vs_shop_p_web_80_default_y_com_p"]


def test_conflicting_virtual_settings_on_one_address_name_both_files(tmp_path: Path) -> None:
    repo = _repo(tmp_path, _svc("web"),
                 _vs("a", "  virtualServerAddress: 10.1.1.3\n  host: a.com\n  snat: none\n"
                          "  pools: [{service: web, servicePort: 80}]\n"),
                 _vs("b", "  virtualServerAddress: 10.1.1.3\n  host: b.com\n  snat: self\n"
                          "  pools: [{service: web, servicePort: 80}]\n"))
    findings = [f for f in render(repo).findings if f.code == "CRD014"]
    assert len(findings) == 1
    assert "manifests/m1.yaml" in findings[0].message and findings[0].location.path == "manifests/m2.yaml"


def test_same_host_and_path_in_two_virtualservers_is_an_error(tmp_path: Path) -> None:
    spec = "  virtualServerAddress: 10.1.1.4\n  host: a.com\n  pools: [{path: /x, service: web, servicePort: 80}]\n"
    repo = _repo(tmp_path, _svc("web"), _vs("a", spec), _vs("b", spec))
    assert [c for c, *_ in _errors(repo)] == ["CRD015"]


def test_unknown_field_is_an_error_at_its_line_with_did_you_mean(tmp_path: Path) -> None:
    repo = _repo(tmp_path, _svc("web"), _vs("a", "  virtualServerAdress: 10.1.1.1\n"
                                                 "  pools: [{service: web, servicePort: 80}]\n"))
    result = render(repo)
    [finding] = [f for f in result.findings if f.code == "CRD002"]
    assert (finding.location.path, finding.location.line, finding.location.column) == ("manifests/m1.yaml", 6, 3)
    assert finding.hint == "did you mean 'virtualServerAddress'?"


def test_wrong_type_and_enum_point_at_the_value(tmp_path: Path) -> None:
    repo = _repo(tmp_path, _svc("web"), _vs("a", "  virtualServerAddress: 10.1.1.1\n  httpTraffic: alow\n"
                                                 "  virtualServerHTTPPort: eighty\n"
                                                 "  pools: [{service: web, servicePort: 80}]\n"))
    findings = {f.code + ":" + str(f.location.line): f for f in render(repo).findings if f.code == "CRD001"}
    assert sorted(findings) == ["CRD001:7", "CRD001:8"]
    assert findings["CRD001:7"].hint == "did you mean 'allow'?"


def test_missing_references_are_errors_at_the_referring_line(tmp_path: Path) -> None:
    repo = _repo(tmp_path, _vs("a", "  virtualServerAddress: 10.1.1.1\n  tlsProfileName: nope\n"
                                    "  policyName: nopolicy\n  pools: [{service: missing, servicePort: 80}]\n"))
    assert sorted(_errors(repo)) == [("CRD020", "manifests/m0.yaml", 9, 21), ("CRD030", "manifests/m0.yaml", 8, 15),
                                     ("CRD040", "manifests/m0.yaml", 7, 19)]


def test_service_namespace_reaches_across_namespaces(tmp_path: Path) -> None:
    repo = _repo(tmp_path, _svc("api", ns="backend"),
                 _vs("a", "  virtualServerAddress: 10.1.1.5\n  host: a.com\n"
                          "  pools: [{path: /api, service: api, servicePort: 80, serviceNamespace: backend}]\n",
                     ns="web"))
    app = _app(repo)
    assert app["api_80_backend_a_com_api"]["members"][0]["servicePort"] == 30080


EDGE = """---
apiVersion: cis.f5.com/v1
kind: TLSProfile
metadata: {name: edge}
spec:
  tls: {termination: edge, reference: bigip, clientSSL: /Common/clientssl}
"""


def test_edge_tls_without_http_traffic_also_serves_port_80(tmp_path: Path) -> None:
    """CIS 2.20 gives no port-80 virtual although its docs say the default is allow (surprise 2)."""
    repo = _repo(tmp_path, _svc("web"), EDGE,
                 _vs("a", "  virtualServerAddress: 10.1.1.6\n  host: a.com\n  tlsProfileName: edge\n"
                          "  pools: [{service: web, servicePort: 80}]\n"))
    app = _app(repo)
    assert app["crd_10_1_1_6_443"]["class"] == "Service_HTTPS"
    assert app["crd_10_1_1_6_443"]["serverTLS"] == [{"bigip": "/Common/clientssl"}]
    assert app["crd_10_1_1_6_80"]["class"] == "Service_HTTP"
    assert app["web_80_default_a_com"]["remark"] == "crd_10_1_1_6 loadbalances this pool"


def test_redirect_gives_the_http_virtual_an_irule_and_no_policy(tmp_path: Path) -> None:
    repo = _repo(tmp_path, _svc("web"), EDGE,
                 _vs("a", "  virtualServerAddress: 10.1.1.7\n  host: a.com\n  tlsProfileName: edge\n"
                          "  httpTraffic: redirect\n  pools: [{path: /shop, service: web, servicePort: 80}]\n"))
    app = _app(repo)
    http = app["crd_10_1_1_7_80"]
    assert "policyEndpoint" not in http
    assert http["iRules"] == ["crd_10_1_1_7_80_http_redirect_irule_443"]
    assert app["crd_10_1_1_7_80_https_redirect_dg"]["records"] == [{"key": "a.com/shop", "value": "/shop"}]


def test_policy_applies_first_and_the_virtualserver_wins(tmp_path: Path) -> None:
    policy = """---
apiVersion: cis.f5.com/v1
kind: Policy
metadata: {name: pol}
spec:
  snat: none
  iRuleList: [/Common/from_policy]
  l7Policies: {waf: /Common/policy_waf}
  profiles: {persistenceProfile: source-address}
"""
    repo = _repo(tmp_path, _svc("web"), policy,
                 _vs("a", "  virtualServerAddress: 10.1.1.8\n  policyName: pol\n  waf: /Common/vs_waf\n"
                          "  iRules: [/Common/from_vs]\n  pools: [{service: web, servicePort: 80}]\n"))
    vs = _app(repo)["crd_10_1_1_8_80"]
    assert vs["snat"] == "none" and vs["persistenceMethods"] == ["source-address"]
    assert vs["policyWAF"] == {"bigip": "/Common/vs_waf"}
    assert vs["iRules"] == [{"bigip": "/Common/from_policy"}, {"bigip": "/Common/from_vs"}]


def test_transport_server_modes_and_duplicate_address(tmp_path: Path) -> None:
    ts = """---
apiVersion: cis.f5.com/v1
kind: TransportServer
metadata: {{name: {name}}}
spec:
  virtualServerAddress: 10.2.2.2
  virtualServerPort: 5000
  mode: {mode}
  type: {type}
  pool: {{service: web, servicePort: 80}}
"""
    repo = _repo(tmp_path, _svc("web"), ts.format(name="t1", mode="performance", type="udp"))
    vs = _app(repo)["crd_10_2_2_2_5000"]
    assert (vs["class"], vs["layer4"], vs["profileL4"], vs["pool"]) == (
        "Service_L4", "udp", "basic", "/kubernetes/Shared/web_80_default")
    repo2 = _repo(tmp_path / "two", _svc("web"), ts.format(name="t1", mode="standard", type="tcp"),
                  ts.format(name="t2", mode="standard", type="tcp"))
    assert [c for c, *_ in _errors(repo2)] == ["CRD070"]


def test_lb_service_with_cis_annotations_renders_and_others_are_left_alone(tmp_path: Path) -> None:
    lb = """---
apiVersion: v1
kind: Service
metadata:
  name: dns
  annotations: {cis.f5.com/ip: 10.3.3.3, cis.f5.com/health: '{"interval": 5, "timeout": 10}'}
spec:
  type: LoadBalancer
  ports: [{name: dns, port: 53, targetPort: 5353, protocol: UDP, nodePort: 30053}]
---
apiVersion: v1
kind: Service
metadata: {name: metallb-owned}
spec:
  type: LoadBalancer
  ports: [{port: 80, nodePort: 30099}]
"""
    app = _app(_repo(tmp_path, lb))
    vs = app["vs_lb_svc_default_dns_10_3_3_3_53"]
    assert (vs["class"], vs["pool"]) == ("Service_UDP", "/kubernetes/Shared/dns_5353_default")
    assert app["dns_5353_default"]["monitors"] == [{"use": "/kubernetes/Shared/default_10_3_3_3_udp_5353"}]
    assert not any("metallb" in k for k in app)


@pytest.mark.parametrize("partition", ["Common"])
def test_partition_common_is_refused(tmp_path: Path, partition: str) -> None:
    repo = _repo(tmp_path, _svc("web"), _vs("a", f"  virtualServerAddress: 10.1.1.1\n  partition: {partition}\n"
                                                 "  pools: [{service: web, servicePort: 80}]\n"))
    assert [c for c, *_ in _errors(repo)] == ["CRD005"]


def test_externaldns_pools_get_one_name_each_and_point_at_rendered_virtuals(tmp_path: Path) -> None:
    edns = """---
apiVersion: cis.f5.com/v1
kind: ExternalDNS
metadata: {name: dns}
spec:
  domainName: a.com
  pools:
  - {dataServerName: /Common/DC1, monitor: {type: http, send: "GET /", recv: "", interval: 10, timeout: 10}}
  - {dataServerName: /Common/DC2}
"""
    repo = _repo(tmp_path, _svc("web"), edns,
                 _vs("a", "  virtualServerAddress: 10.1.1.9\n  host: a.com\n  pools: [{service: web, servicePort: 80}]\n"))
    gtm = _app(repo, "kubernetes_gtm")
    assert gtm["a_com"]["pools"] == [{"use": "a_com_DC1_gtm"}, {"use": "a_com_DC2_gtm"}]
    assert gtm["a_com_DC1_gtm"]["members"] == [{"enabled": True, "server": {"bigip": "/Common/DC1"},
                                                "virtualServer": "/kubernetes/Shared/crd_10_1_1_9_80"}]
    assert gtm["a_com_DC1_gtm"]["monitors"] == [{"use": "a_com_DC1_gtm_monitor"}]


def test_ab_pools_get_a_weighted_data_group_and_the_ab_irule(tmp_path: Path) -> None:
    repo = _repo(tmp_path, _svc("blue"), _svc("green", ns="canary", node_port=30081),
                 _vs("a", "  virtualServerAddress: 10.1.1.10\n  host: a.com\n  pools:\n"
                          "  - {path: /shop, service: blue, servicePort: 80, weight: 70,\n"
                          "     alternateBackends: [{service: green, serviceNamespace: canary, weight: 30}]}\n"))
    app = _app(repo)
    assert app["crd_10_1_1_10_80_ab_deployment_dg"]["records"] == [
        {"key": "a.com/shop", "value": "blue_80_default_a_com_shop,0.700;green_80_canary_a_com_shop,1.000"}]
    assert app["crd_10_1_1_10_80"]["iRules"] == ["crd_10_1_1_10_80_ab_deployment_path_irule"]
    [rule] = app["crd_10_1_1_10_80_a_com_policy"]["rules"]
    assert rule["actions"] == [{"type": "log", "event": "request", "write": {"message": "a/b pool"}}]
    assert app["green_80_canary_a_com_shop"]["members"][0]["servicePort"] == 30081


def test_ab_backends_share_their_entry_monitor(tmp_path: Path, as3_schema_path: Path) -> None:
    """CIS declares one monitor per pool entry and gives it to every A/B backend's pool (before, the
    second backend's pool was refused with CRD120 for the monitor name)."""
    repo = _repo(tmp_path, _svc("blue"), _svc("green", ns="canary", node_port=30081),
                 _vs("a", "  virtualServerAddress: 10.1.1.13\n  host: a.com\n  pools:\n"
                          "  - {path: /shop, service: blue, servicePort: 80, weight: 70,\n"
                          "     monitor: {type: http, send: 'GET / HTTP/1.1\\r\\n', interval: 10, timeout: 31},\n"
                          "     alternateBackends: [{service: green, serviceNamespace: canary, weight: 30}]}\n"))
    app = _app(repo)
    blue, green = app["blue_80_default_a_com_shop"]["monitors"], app["green_80_canary_a_com_shop"]["monitors"]
    assert blue == green and len(blue) == 1
    from renderer.validate import As3Validator

    assert As3Validator.from_path(as3_schema_path).validate_adc(render(repo).adc) == []


def test_ab_weights_leave_out_zero_and_all_zero_is_empty() -> None:
    from renderer.mapping.abdeploy import weights_value

    assert weights_value([("a", 1), ("b", 0), ("c", 2)]) == "a,0.333;c,1.000"
    assert weights_value([("a", 0), ("b", 0)]) == ""


def test_host_persistence_and_app_root(tmp_path: Path, as3_schema_path: Path) -> None:
    repo = _repo(tmp_path, _svc("web"),
                 _vs("a", "  virtualServerAddress: 10.1.1.11\n  host: a.com\n  rewriteAppRoot: /home\n"
                          "  hostPersistence: {method: sourceAddress, metaData: {netmask: 255.255.255.0, timeout: 60}}\n"
                          "  pools: [{path: /, service: web, servicePort: 80}]\n"))
    from renderer.validate import As3Validator

    assert As3Validator.from_path(as3_schema_path).validate_adc(render(repo).adc) == []
    rules = _app(repo)["crd_10_1_1_11_80_a_com_policy"]["rules"]
    assert [r["name"] for r in rules] == ["vs_a_com_redirectto__home", "vs_a_com_web_80_default_a_com"]
    assert rules[0]["actions"] == [{"type": "httpRedirect", "event": "request", "location": "/home"}]
    assert rules[1]["actions"][1] == {"type": "persist", "event": "request",
                                      "sourceAddress": {"netmask": "255.255.255.0", "timeout": 60}}
    bad = _repo(tmp_path / "bad", _svc("web"),
                _vs("a", "  virtualServerAddress: 10.1.1.12\n  host: a.com\n  hostPersistence: {method: hash}\n"
                         "  pools: [{path: /, service: web, servicePort: 80}]\n"))
    assert [c for c, *_ in _errors(bad)] == ["CRD054"]


def test_two_things_never_share_one_name(tmp_path: Path) -> None:
    """A pools[].name equal to another VirtualServer's generated pool name, for another Service, is
    CRD120 naming the first file; the same Service reached twice shares its pool, as in CIS."""
    repo = _repo(tmp_path, _svc("a-b"), _svc("other", node_port=30081),
                 _vs("one", "  virtualServerAddress: 10.1.1.13\n  host: x.com\n"
                            "  pools: [{service: a-b, servicePort: 80}]\n"),
                 _vs("two", "  virtualServerAddress: 10.1.1.14\n  host: y.com\n"
                            "  pools: [{name: a_b_80_default_x_com, service: other, servicePort: 80}]\n"),
                 _vs("three", "  virtualServerAddress: 10.1.1.15\n  host: x.com\n"
                              "  pools: [{service: a-b, servicePort: 80}]\n"))
    findings = [f for f in render(repo).findings if f.is_error]
    assert [(f.code, f.location.path) for f in findings] == [("CRD120", "manifests/m3.yaml")]
    assert "VirtualServer default/one (manifests/m2.yaml" in findings[0].message
