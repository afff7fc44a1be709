"""AS3 ConfigMaps and the override ConfigMap: CIS's member rules, merging, collisions, locations."""

from __future__ import annotations

import json
from pathlib import Path

from renderer.render import render

CONFIG = """bigip:
  partition: kubernetes
  poolMemberType: {mode}
{extra}vxlan:
  localAddress: 192.168.1.254
  selfIP: 10.244.30.15/16
"""
NODES = """apiVersion: v1
kind: Node
metadata:
  name: worker-1
  annotations:
    flannel.alpha.coreos.com/backend-data: '{"VtepMAC": "aa:bb:cc:00:00:01"}'
spec: {podCIDR: 10.244.1.0/24}
status:
  addresses: [{type: InternalIP, address: 192.168.1.11}]
  conditions: [{type: Ready, status: "True"}]
"""


def _template(members: list[dict], tenant: str = "apps", pool: str = "p") -> str:
    return json.dumps({"class": "AS3", "declaration": {"class": "ADC", "schemaVersion": "3.50.0", tenant: {
        "class": "Tenant", "app": {"class": "Application", "template": "generic",
                                   pool: {"class": "Pool", "members": members}}}}}, indent=2)


def _configmap(name: str, template: str, labels: str = 'as3: "true"') -> str:
    body = "\n".join("    " + line for line in template.splitlines())
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: shop\n  labels:\n"
            f"    f5type: virtual-server\n    {labels}\ndata:\n  template: |\n{body}\n")


SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: shop
  labels: {{cis.f5.com/as3-tenant: apps, cis.f5.com/as3-app: app, cis.f5.com/as3-pool: p{extra}}}
spec:
  type: NodePort
  ports:
  - {{name: http, port: 80, targetPort: 8080, nodePort: 30080}}
---
apiVersion: v1
kind: Endpoints
metadata: {{name: {name}, namespace: shop}}
subsets:
- addresses: [{{ip: 10.244.1.6, nodeName: worker-1}}, {{ip: 10.244.1.5, nodeName: worker-1}}]
  ports: [{{name: http, port: 8080}}]
"""


def _repo(tmp_path: Path, manifests: dict[str, str], mode: str = "cluster", extra: str = "") -> Path:
    repo = tmp_path / "repo"
    (repo / "manifests").mkdir(parents=True)
    (repo / "snapshot").mkdir()
    (repo / "as3-gitops.yaml").write_text(CONFIG.format(mode=mode, extra=extra))
    (repo / "snapshot" / "nodes.yaml").write_text(NODES)
    for name, text in manifests.items():
        folder = "snapshot" if name.startswith("snap-") else "manifests"
        (repo / folder / name).write_text(text)
    return repo


def _pool(result, tenant: str = "apps", pool: str = "p") -> dict:
    return result.as3["declaration"][tenant]["app"][pool]


def test_matching_template_member_is_copied_per_endpoint_with_the_target_port(tmp_path: Path) -> None:
    members = [{"servicePort": 80, "serverAddresses": [], "ratio": 3}]
    repo = _repo(tmp_path, {"cm.yaml": _configmap("cm", _template(members)),
                            "svc.yaml": SERVICE.format(name="web", extra="")})
    result = render(repo)
    assert result.ok, result.findings
    assert _pool(result)["members"] == [
        {"adminState": "enable", "ratio": 3, "serverAddresses": ["10.244.1.5"], "servicePort": 8080},
        {"adminState": "enable", "ratio": 3, "serverAddresses": ["10.244.1.6"], "servicePort": 8080}]
    # the pod IPs get ARPs like any other pool member
    assert [a["ipAddress"] for a in result.net["arps"]] == ["10.244.1.5", "10.244.1.6"]


def test_no_matching_template_member_falls_back_to_the_first_with_the_first_endpoint_port(tmp_path: Path) -> None:
    members = [{"servicePort": 9999, "serverAddresses": [], "adminState": "disable"}]
    repo = _repo(tmp_path, {"cm.yaml": _configmap("cm", _template(members)),
                            "svc.yaml": SERVICE.format(name="web", extra="")})
    result = render(repo)
    assert [(m["serverAddresses"], m["servicePort"], m["adminState"]) for m in _pool(result)["members"]] == [
        (["10.244.1.5"], 8080, "disable"), (["10.244.1.6"], 8080, "disable")]


def test_nodeport_mode_uses_node_addresses_and_the_node_port(tmp_path: Path) -> None:
    members = [{"servicePort": 80, "serverAddresses": []}]
    repo = _repo(tmp_path, {"cm.yaml": _configmap("cm", _template(members)),
                            "svc.yaml": SERVICE.format(name="web", extra="")}, mode="nodeport")
    result = render(repo)
    assert [(m["serverAddresses"], m["servicePort"]) for m in _pool(result)["members"]] == [(["192.168.1.11"], 30080)]


def test_the_oldest_labelled_service_is_used(tmp_path: Path) -> None:
    members = [{"servicePort": 80, "serverAddresses": []}]
    young = SERVICE.format(name="young", extra="").replace("  namespace: shop\n  labels",
                                                          "  namespace: shop\n  creationTimestamp: '2026-02-01T00:00:00Z'\n  labels", 1)
    old = SERVICE.format(name="old", extra="").replace("  namespace: shop\n  labels",
                                                      "  namespace: shop\n  creationTimestamp: '2025-02-01T00:00:00Z'\n  labels", 1)
    old = old.replace("10.244.1.6", "10.244.1.9").replace("10.244.1.5", "10.244.1.8")
    repo = _repo(tmp_path, {"cm.yaml": _configmap("cm", _template(members)), "a.yaml": young, "b.yaml": old})
    result = render(repo)
    assert [m["serverAddresses"][0] for m in _pool(result)["members"]] == ["10.244.1.8", "10.244.1.9"]


def test_invalid_template_json_is_reported_at_its_line_in_the_configmap(tmp_path: Path) -> None:
    template = _template([{"servicePort": 80, "serverAddresses": []}]).replace('"class": "Pool",', '"class": "Pool"', 1)
    repo = _repo(tmp_path, {"cm.yaml": _configmap("cm", template)})
    result = render(repo)
    [error] = [f for f in result.findings if f.is_error]
    assert error.code == "ACM001"
    text = (repo / "manifests" / "cm.yaml").read_text().splitlines()
    # the parser stops at the token after the missing comma: the next line of the template
    line = text[error.location.line - 1]
    assert '"members"' in line and error.location.column == line.index('"members"') + 1


def test_a_tenant_that_is_also_rendered_from_an_ingress_is_an_error_naming_both(tmp_path: Path) -> None:
    ingress = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations: {kubernetes.io/ingress.class: f5, virtual-server.f5.com/ip: 10.0.0.1,
                virtual-server.f5.com/partition: apps}
spec:
  defaultBackend: {service: {name: web, port: {number: 80}}}
"""
    repo = _repo(tmp_path, {"cm.yaml": _configmap("cm", _template([{"servicePort": 80, "serverAddresses": []}])),
                            "svc.yaml": SERVICE.format(name="web", extra=""), "ing.yaml": ingress})
    [error] = [f for f in render(repo).findings if f.is_error]
    assert error.code == "ACM003"
    assert "AS3 ConfigMap shop/cm" in error.message and "Ingress shop/web" in error.message
    assert error.location.path == "manifests/cm.yaml"


def test_two_configmaps_declaring_one_tenant_is_an_error_naming_both(tmp_path: Path) -> None:
    template = _template([{"servicePort": 80, "serverAddresses": []}])
    repo = _repo(tmp_path, {"a.yaml": _configmap("a", template), "b.yaml": _configmap("b", template)})
    [error] = [f for f in render(repo).findings if f.is_error]
    assert error.code == "ACM003" and "shop/a" in error.message and "shop/b" in error.message


def test_several_configmaps_merge_their_tenants(tmp_path: Path) -> None:
    members = [{"servicePort": 80, "serverAddresses": ["10.1.1.1"]}]
    repo = _repo(tmp_path, {"a.yaml": _configmap("a", _template(members, tenant="one")),
                            "b.yaml": _configmap("b", _template(members, tenant="two"))})
    result = render(repo)
    assert result.ok
    assert {"one", "two", "kubernetes"} <= set(result.as3["declaration"])
    assert result.as3["declaration"]["one"]["label"] == "as3-gitops"


def test_a_pool_without_labelled_service_is_a_warning_and_stays_empty(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"cm.yaml": _configmap("cm", _template([{"servicePort": 80, "serverAddresses": []}]))})
    result = render(repo)
    assert [f.code for f in result.findings if not f.is_error and f.code.startswith("ACM")] == ["ACM004"]
    assert _pool(result)["members"] == [{"servicePort": 80, "serverAddresses": []}]


def test_disable_members_annotation_is_refused_with_a_hint(tmp_path: Path) -> None:
    cm = _configmap("cm", _template([{"servicePort": 80, "serverAddresses": []}])).replace(
        "  labels:", "  annotations: {cis.f5.com/disableMembers: web}\n  labels:", 1)
    repo = _repo(tmp_path, {"cm.yaml": cm, "svc.yaml": SERVICE.format(name="web", extra="")})
    [warning] = [f for f in render(repo).findings if f.code == "ACM006"]
    assert "adminState" in (warning.hint or "")


def test_override_needs_to_be_named_in_the_config(tmp_path: Path) -> None:
    override = _configmap("ovr", json.dumps({"declaration": {"kubernetes": {"Shared": {"x": {}}}}}),
                          labels='overrideAS3: "true"')
    repo = _repo(tmp_path, {"ovr.yaml": override})
    result = render(repo)
    assert [f.code for f in result.findings if f.code.startswith("ACM")] == ["ACM010"]
    assert "x" not in result.as3["declaration"]["kubernetes"]["Shared"]
    repo2 = _repo(tmp_path / "b", {"other.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: o}\n"},
                  extra="  overrideAS3: shop/ovr\n")
    assert [f.code for f in render(repo2).findings if f.is_error] == ["ACM011"]


def test_override_replaces_arrays_and_merges_objects(tmp_path: Path) -> None:
    members = [{"servicePort": 80, "serverAddresses": ["10.1.1.1"]}]
    override = _configmap("ovr", json.dumps({"declaration": {"apps": {"app": {"p": {
        "members": [{"servicePort": 81, "serverAddresses": ["10.2.2.2"]}], "loadBalancingMode": "ratio-member"}}}}}),
        labels='overrideAS3: "true"')
    repo = _repo(tmp_path, {"cm.yaml": _configmap("cm", _template(members)), "ovr.yaml": override},
                 extra="  overrideAS3: shop/ovr\n")
    result = render(repo)
    assert result.ok
    pool = _pool(result)
    assert pool["members"] == [{"servicePort": 81, "serverAddresses": ["10.2.2.2"]}]
    assert (pool["class"], pool["loadBalancingMode"]) == ("Pool", "ratio-member")
    assert result.counts.skipped == 0


def test_an_as3_error_in_a_template_points_at_its_line_in_the_configmap(tmp_path: Path, as3_schema_path: Path) -> None:
    from renderer.validate import validate_rendered

    members = [{"servicePort": 80, "serverAddresses": ["10.1.1.1"]}]
    template = _template(members).replace('"class": "Pool",', '"class": "Pool",\n          "loadBalancingMode": "fastest",', 1)
    repo = _repo(tmp_path, {"cm.yaml": _configmap("cm", template)})
    result = render(repo)
    assert result.ok
    [error] = [f for f in validate_rendered(result, repo=repo, as3_schema=str(as3_schema_path)) if f.is_error]
    assert error.location.path == "manifests/cm.yaml"
    line = (repo / "manifests" / "cm.yaml").read_text().splitlines()[error.location.line - 1]
    assert '"loadBalancingMode": "fastest"' in line, (error, line)


def test_priority_groups_select_one_service_each_and_match_template_members(tmp_path: Path) -> None:
    members = [{"servicePort": 80, "serverAddresses": [], "priorityGroup": 0},
               {"servicePort": 80, "serverAddresses": [], "priorityGroup": 5}]
    backup = SERVICE.format(name="backup", extra=", cis.f5.com/as3-pool-member-priorityGroup: '5'").replace(
        "10.244.1.6", "10.244.1.9").replace("10.244.1.5", "10.244.1.8")
    repo = _repo(tmp_path, {"cm.yaml": _configmap("cm", _template(members)),
                            "a.yaml": SERVICE.format(name="main", extra=""), "b.yaml": backup})
    result = render(repo)
    assert [(m["serverAddresses"][0], m["priorityGroup"]) for m in _pool(result)["members"]] == [
        ("10.244.1.5", 0), ("10.244.1.6", 0), ("10.244.1.8", 5), ("10.244.1.9", 5)]


def test_tenant_named_namespace_label_looks_for_services_in_the_tenant_namespace(tmp_path: Path) -> None:
    members = [{"servicePort": 80, "serverAddresses": []}]
    cm = _configmap("cm", _template(members, tenant="shop")).replace(
        '    as3: "true"', '    as3: "true"\n    isTenantNameServiceNamespace: "true"', 1)
    service = SERVICE.format(name="web", extra="").replace("cis.f5.com/as3-tenant: apps", "cis.f5.com/as3-tenant: shop")
    repo = _repo(tmp_path, {"cm.yaml": cm.replace("namespace: shop", "namespace: other", 1), "svc.yaml": service})
    result = render(repo)
    assert [m["serverAddresses"][0] for m in _pool(result, tenant="shop")["members"]] == ["10.244.1.5", "10.244.1.6"]
