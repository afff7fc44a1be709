"""Defect 1 of issue 15: names are injective; Kubernetes naming rules (defect 6's first line of defence)."""

from __future__ import annotations

from .helpers import build, codes, errors, ingress, service, tls_secret


def test_two_ingresses_whose_pool_names_meet_are_an_error_naming_both(tmp_path):
    # team/a-web and team-a/web both map to pool ingress_team_a_web_web_80 under CIS's naming
    files = {"manifests/svc.yaml": service("web", "team") + service("web", "team-a"),
             "manifests/a.yaml": ingress("a-web", "team", ip="10.1.1.1"),
             "manifests/b.yaml": ingress("web", "team-a", ip="10.1.1.2")}
    result = build(tmp_path, files)
    assert codes(result) == ["NAME001"]
    [message] = errors(result, "NAME001")
    assert message.startswith("manifests/b.yaml:1:1: Ingress team-a/web and Ingress team/a-web (manifests/a.yaml:1:1)")
    assert "pool name ingress_team_a_web_web_80 in tenant k8s" in message


def test_configmaps_whose_virtual_server_names_meet_are_an_error(tmp_path):
    def cm(ns: str, name: str, ip: str, svc: str) -> str:
        data = ('{"virtualServer": {"frontend": {"partition": "k8s", "mode": "tcp", "virtualAddress": '
                f'{{"bindAddr": "{ip}", "port": 80}}}}, "backend": {{"serviceName": "{svc}", "servicePort": 80}}}}}}')
        return (f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {ns}, labels: "
                f"{{f5type: virtual-server}}}}\ndata:\n  schema: f5schemadb://bigip-virtual-server_v0.1.7.json\n"
                f"  data: '{data}'\n---\n")
    files = {"manifests/svc.yaml": service("web", "a-b") + service("web2", "a"),
             "manifests/cm.yaml": cm("a-b", "c", "10.2.0.1", "web") + cm("a", "b-c", "10.2.0.2", "web2")}
    result = build(tmp_path, files)
    assert codes(result) == ["NAME001"]
    [message] = errors(result, "NAME001")
    assert "ConfigMap a-b/c and ConfigMap a/b-c (manifests/cm.yaml:8:1)" in message and "virtual server name a_b_c in tenant k8s" in message
    # the same two ConfigMaps on one Service: their pools meet first
    files["manifests/cm.yaml"] = cm("a-b", "c", "10.2.0.1", "web") + cm("a", "b-c", "10.2.0.2", "web")
    files["manifests/svc.yaml"] = service("web", "a-b") + service("web", "a")
    assert any("pool name cfgmap_a_b_c_web" in m for m in errors(build(tmp_path, files), "NAME001"))


def test_secrets_of_one_name_in_two_namespaces_become_two_certificates(tmp_path):
    files = {"manifests/svc.yaml": service("web", "shop") + service("web", "blog"),
             "manifests/secrets.yaml": tls_secret("tls", "shop", "SHOP") + tls_secret("tls", "blog", "BLOG"),
             "manifests/shop.yaml": ingress("web", "shop", ip="10.1.1.1", tls_secret="tls"),
             "manifests/blog.yaml": ingress("web", "blog", ip="10.1.1.2", tls_secret="tls")}
    result = build(tmp_path, files)
    assert codes(result) == []
    shared = result.adc["k8s"]["Shared"]
    assert "tls" not in shared
    assert "SHOP" in shared["shop_tls"]["certificate"] and "BLOG" in shared["blog_tls"]["certificate"]
    assert shared["ingress_10_1_1_1_443_tls_server"]["certificates"] == [{"certificate": "shop_tls"}]
    assert shared["ingress_10_1_1_2_443_tls_server"]["certificates"] == [{"certificate": "blog_tls"}]


def test_a_secret_name_used_in_one_namespace_keeps_the_cis_name(tmp_path):
    files = {"manifests/svc.yaml": service("web", "shop"),
             "manifests/secrets.yaml": tls_secret("tls", "shop", "SHOP"),
             "manifests/shop.yaml": ingress("web", "shop", tls_secret="tls")}
    result = build(tmp_path, files)
    assert codes(result) == []
    assert "SHOP" in result.adc["k8s"]["Shared"]["tls"]["certificate"]


def test_two_rules_with_one_name_are_an_error_not_a_dropped_rule(tmp_path):
    rules = ("  rules:\n  - host: a.b\n    http: {paths: [{path: /c, pathType: Prefix, backend: {service: {name: web, "
             "port: {number: 80}}}}]}\n  - host: a\n    http: {paths: [{path: /b/c, pathType: Prefix, backend: "
             "{service: {name: web, port: {number: 80}}}}]}\n")
    result = build(tmp_path, {"manifests/svc.yaml": service("web"), "manifests/i.yaml": ingress("x", rules=rules)})
    assert codes(result) == ["NAME002"]
    assert "are named ingress_a_b_c_ingress_default_x_web_80" in errors(result, "NAME002")[0]


def test_one_address_written_two_ways_is_one_address(tmp_path):
    files = {"manifests/svc.yaml": service("web"),
             "manifests/a.yaml": ingress("a", ip="2001:db8::1"), "manifests/b.yaml": ingress("b", ip="2001:db8:0::1")}
    assert codes(build(tmp_path, files)) == ["ING012"]


def test_names_kubernetes_refuses_are_errors_per_kind(tmp_path):
    bad_ingress = ingress("web", rules=None).replace("name: web\n", 'name: "web\\n```\\n<img src=x>"\n', 1)
    files = {"manifests/svc.yaml": service("web") + service("Web_2") + service("a.b"),
             "manifests/i.yaml": bad_ingress + ingress("ok", "Team")}
    result = build(tmp_path, files)
    found = errors(result, "NAME010") + errors(result, "NAME011")
    assert any("Ingress name 'web\\n```\\n<img src=x>' must be a DNS-1123 subdomain" in m for m in found), found
    assert any("Service name 'Web_2' must be a DNS label" in m for m in found)
    assert any("Service name 'a.b' must be a DNS label" in m for m in found), "Services may not contain dots"
    assert any("namespace 'Team' must be a DNS-1123 label" in m for m in found)
    assert "Ingress name 'ok'" not in " ".join(found)


def test_the_same_ingress_twice_is_a_duplicate(tmp_path):
    files = {"manifests/svc.yaml": service("web"), "manifests/a.yaml": ingress("a"),
             "manifests/b.yaml": ingress("a", ip="10.9.9.9")}
    result = build(tmp_path, files)
    assert codes(result) == ["K8S006"]
    assert "duplicate Ingress default/a (also at manifests/a.yaml:1:1)" in errors(result, "K8S006")[0]


def test_route_pools_whose_names_meet_are_an_error(tmp_path):
    """Routes name their pool openshift_<namespace>_<service> with '-' as '_': a-b/c and a/b-c meet."""
    import shutil
    from pathlib import Path

    from renderer.render import render

    case = Path(__file__).parents[1] / "render" / "cases" / "routes-tls"
    repo = tmp_path / "repo"
    shutil.copytree(case, repo, ignore=shutil.ignore_patterns("expected"))
    svc = "apiVersion: v1\nkind: Service\nmetadata: {{name: {n}, namespace: {ns}}}\nspec:\n  ports: [{{port: 80}}]\n---\n"
    route = ("apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {{name: r, namespace: {ns}}}\nspec:\n"
             "  host: {host}\n  to: {{kind: Service, name: {n}}}\n---\n")
    (repo / "manifests" / "routes.yaml").write_text(
        svc.format(n="c", ns="a-b") + svc.format(n="b-c", ns="a")
        + route.format(ns="a-b", n="c", host="one.example.com") + route.format(ns="a", n="b-c", host="two.example.com"))
    result = render(repo)
    assert [f.code for f in result.findings if f.is_error] == ["NAME001"]
    assert "pool name openshift_a_b_c" in errors(result, "NAME001")[0]
