"""Input kinds and rules, one behaviour per test (small repos written in the test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from renderer.errors import TemplateError
from renderer.render import render

CONFIG = "bigip:\n  partition: k8s\n  poolMemberType: nodeport\n"
SVC = """apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
"""
NODE = """apiVersion: v1
kind: Node
metadata: {name: n1}
status:
  addresses: [{type: InternalIP, address: 192.168.1.11}]
"""


def ingress(name: str = "web", *, klass: str = "    kubernetes.io/ingress.class: f5\n", extra: str = "",
            spec_extra: str = "", api: str = "networking.k8s.io/v1") -> str:
    return f"""apiVersion: {api}
kind: Ingress
metadata:
  name: {name}
  namespace: default
  annotations:
{klass}    virtual-server.f5.com/ip: 10.1.1.{len(name)}
{extra}spec:
{spec_extra}  defaultBackend: {{service: {{name: web, port: {{number: 80}}}}}}
"""


def build(tmp_path: Path, files: dict[str, str], config: str = CONFIG):
    repo = tmp_path / "repo"
    for rel, text in {"as3-gitops.yaml": config, "manifests/svc.yaml": SVC, "snapshot/node.yaml": NODE,
                      **files}.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    return render(repo)


def shared(result) -> dict:
    return result.adc["k8s"]["Shared"]


def findings(result, code: str) -> list[str]:
    return [f"{f.location}: {f.message}" for f in result.findings if f.code == code]


def test_kind_list_and_json_files_are_read(tmp_path):
    ing = json.dumps({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                      "metadata": {"name": "j", "namespace": "default",
                                   "annotations": {"kubernetes.io/ingress.class": "f5",
                                                   "virtual-server.f5.com/ip": "10.2.2.2"}},
                      "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}})
    lst = "apiVersion: v1\nkind: List\nitems:\n" + "".join(
        "  - " + line + "\n" if i == 0 else "    " + line + "\n"
        for i, line in enumerate(ingress("l").splitlines()))
    result = build(tmp_path, {"manifests/j.json": ing, "manifests/list.yaml": lst})
    assert result.ok
    assert {"ingress_10_2_2_2_80", "ingress_10_1_1_1_80"} <= set(shared(result))


def test_ingress_class_rules(tmp_path):
    files = {
        "manifests/a.yaml": ingress("a"),
        "manifests/b.yaml": ingress("bb", klass="    kubernetes.io/ingress.class: nginx\n"),
        "manifests/c.yaml": ingress("ccc", klass="", spec_extra="  ingressClassName: f5\n"),
        "manifests/d.yaml": ingress("dddd", klass=""),
        "manifests/ic.yaml": "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: f5}\n"
                             "spec: {controller: example.com/other}\n",
    }
    result = build(tmp_path, files)
    vss = sorted(k for k, v in shared(result).items() if isinstance(v, dict) and v.get("class") == "Service_HTTP")
    assert vss == ["ingress_10_1_1_1_80"]
    skipped = findings(result, "ING001")
    assert len(skipped) == 3
    assert "kubernetes.io/ingress.class is 'nginx'" in skipped[0]
    assert "IngressClass f5 has controller 'example.com/other'" in skipped[1]
    assert "not the default class" in skipped[2]


def test_default_ingress_class_takes_ingresses_without_class(tmp_path):
    ic = ("apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: f5\n  annotations:\n"
          "    ingressclass.kubernetes.io/is-default-class: \"true\"\nspec: {controller: f5.com/cntr-ingress-svcs}\n")
    result = build(tmp_path, {"manifests/d.yaml": ingress("dddd", klass=""), "manifests/ic.yaml": ic})
    assert "ingress_10_1_1_4_80" in shared(result)


def test_v1beta1_ingress_is_read(tmp_path):
    text = """apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata:
  name: old
  namespace: default
  annotations: {kubernetes.io/ingress.class: f5, virtual-server.f5.com/ip: 10.3.3.3}
spec:
  rules:
  - host: a.example.com
    http:
      paths:
      - path: /x
        backend: {serviceName: web, servicePort: http}
"""
    result = build(tmp_path, {"manifests/old.yaml": text})
    assert result.ok
    assert shared(result)["ingress_default_old_web_http"]["members"] == [
        {"addressDiscovery": "static", "serverAddresses": ["192.168.1.11"], "servicePort": 30080}]


def test_unknown_annotation_gets_a_warning_with_the_nearest_name(tmp_path):
    result = build(tmp_path, {"manifests/a.yaml": ingress("a", extra="    virtual-server.f5.com/balanse: x\n")})
    assert result.ok
    [warning] = [f for f in result.findings if f.code == "ANN001"]
    assert str(warning.location) == "manifests/a.yaml:9:36"
    assert warning.hint == "did you mean 'virtual-server.f5.com/balance'?"


def test_health_path_that_matches_no_rule_is_a_warning(tmp_path):
    health = '    virtual-server.f5.com/health: \'[{"path": "other.com/x", "interval": 5, "timeout": 16}]\'\n'
    result = build(tmp_path, {"manifests/a.yaml": ingress("a", extra=health)})
    assert result.ok
    assert findings(result, "ING040") == [
        "manifests/a.yaml:9:35: Ingress default/a: health monitor path 'other.com/x' matches no rule; skipped"]


def test_health_with_wrong_types_is_an_error(tmp_path):
    health = '    virtual-server.f5.com/health: \'[{"path": "a/", "interval": "5", "type": "icmp"}]\'\n'
    result = build(tmp_path, {"manifests/a.yaml": ingress("a", extra=health)})
    assert findings(result, "ANN005") == [
        "manifests/a.yaml:9:35: virtual-server.f5.com/health: monitor 0: interval must be an integer from 0 to 86400; "
        "type 'icmp' is not one of http, https, tcp, udp"]


def test_service_without_endpoints_keeps_its_vs_and_warns(tmp_path):
    config = "bigip:\n  partition: k8s\nvxlan:\n  localAddress: 192.168.1.254\n  selfIP: 10.244.30.15/16\n"
    result = build(tmp_path, {"manifests/a.yaml": ingress("a")}, config=config)
    assert result.ok
    assert "members" not in shared(result)["ingress_default_a_web_80"]
    assert shared(result)["ingress_10_1_1_1_80"]["pool"] == "/k8s/Shared/ingress_default_a_web_80"
    assert findings(result, "ING030") == [
        "manifests/a.yaml:1:1: Ingress default/a: Service default/web port 80 has no ready endpoint; its pool has no members"]


def test_snapshot_endpoints_for_an_undefined_service_warn(tmp_path):
    eps = "apiVersion: v1\nkind: Endpoints\nmetadata: {name: ghost, namespace: default}\nsubsets: []\n"
    result = build(tmp_path, {"snapshot/eps.yaml": eps})
    assert findings(result, "SNAP002") == [
        "snapshot/eps.yaml:1:1: snapshot has Endpoints default/ghost but no manifest defines that Service"]


def test_headless_service_keeps_endpoints_on_not_ready_nodes(tmp_path):
    config = "bigip:\n  partition: k8s\nvxlan:\n  localAddress: 192.168.1.254\n  selfIP: 10.244.30.15/16\n"
    svc = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec:\n  clusterIP: None\n" \
          "  ports: [{name: http, port: 80}]\n"
    eps = ("apiVersion: v1\nkind: Endpoints\nmetadata: {name: web, namespace: default}\nsubsets:\n"
           "  - addresses: [{ip: 10.244.1.5, nodeName: n1}]\n    ports: [{name: http, port: 8080}]\n")
    node = NODE + "  conditions: [{type: Ready, status: \"False\"}]\n"
    result = build(tmp_path, {"manifests/svc.yaml": svc, "manifests/a.yaml": ingress("a"), "snapshot/eps.yaml": eps,
                              "snapshot/node.yaml": node}, config=config)
    assert shared(result)["ingress_default_a_web_80"]["members"][0]["serverAddresses"] == ["10.244.1.5"]


def test_nodeport_service_without_nodeport_is_an_error(tmp_path):
    svc = SVC.replace(", nodePort: 30080", "").replace("  type: NodePort\n", "")
    result = build(tmp_path, {"manifests/svc.yaml": svc, "manifests/a.yaml": ingress("a")})
    assert [f.code for f in result.findings if f.is_error] == ["ING022"]


def test_long_names_are_shortened_with_a_stable_hash(tmp_path):
    name = "a" * 120
    svc = SVC.replace("name: web", "name: " + "w" * 60)
    text = ingress(name).replace("name: web,", "name: " + "w" * 60 + ",").replace("10.1.1.120", "10.1.1.9")
    result = build(tmp_path, {"manifests/svc.yaml": svc, "manifests/a.yaml": text})
    assert result.ok
    pools = [k for k in shared(result) if k.startswith("ingress_default_")]
    # AS3 refuses a path /<tenant>/Shared/<name> over 195 characters: the name gets what tenant k8s leaves
    assert len(pools) == 1 and len(pools[0]) == 195 - len("/k8s/Shared/")
    assert render(tmp_path / "repo").adc == result.adc  # stable


def test_user_template_overrides_a_builtin_by_name(tmp_path):
    pool_tpl = ('{%- macro render(pool, tenant) -%}{"class": "Pool", "loadBalancingMode": {{ pool.balance|tojson }},'
                ' "remark": "custom"}{%- endmacro %}')
    result = build(tmp_path, {"manifests/a.yaml": ingress("a"), "tpl/pool.json.j2": pool_tpl},
                   config=CONFIG + "templates: tpl\n")
    assert shared(result)["ingress_default_a_web_80"] == {"class": "Pool", "loadBalancingMode": "round-robin",
                                                          "remark": "custom"}


def test_broken_user_template_names_file_and_line(tmp_path):
    bad = '{%- macro render(pool, tenant) -%}\n{"class": "Pool",\n "x": {{ pool.no_such_field|tojson }}}\n{%- endmacro %}'
    with pytest.raises(TemplateError) as err:
        build(tmp_path, {"manifests/a.yaml": ingress("a"), "tpl/pool.json.j2": bad}, config=CONFIG + "templates: tpl\n")
    assert "no_such_field" in err.value.message
    assert err.value.hint == "in tpl/pool.json.j2 line 3"


def test_endpoint_addresses_of_the_wrong_type_are_findings(tmp_path):
    """Well-formed addresses take the short path in kube/service.py; the others still get their findings."""
    eps = """apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: default}
subsets:
- addresses:
  - {ip: 10.244.1.5, nodeName: n1}
  - {ip: 10.244.1.6}
  - {ip: 10.244.1.7, nodeName: 7}
  - {nodeName: n1}
  - 10.244.1.8
  - {ip: [10.244.1.9]}
  ports: [{name: http, port: 8080}]
"""
    result = build(tmp_path, {"snapshot/eps.yaml": eps})
    assert findings(result, "K8S002") == [  # each at its field (a nested field used to point at 1:1)
        "snapshot/eps.yaml:8:32: Endpoints default/web: subsets[0].addresses[2].nodeName must be a string",
        "snapshot/eps.yaml:9:5: Endpoints default/web: address needs an ip",
        "snapshot/eps.yaml:10:5: Endpoints default/web: address needs an ip",
        "snapshot/eps.yaml:11:10: Endpoints default/web: subsets[0].addresses[5].ip must be a string",
    ]
