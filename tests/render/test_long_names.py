"""Issue 14 class 4: generated names keep every AS3 path `/<tenant>/Shared/<name>` within AS3's 195
characters (postValidator.validatePathLengths), whatever the namespace, name and partition lengths.

Each test renders a real repository, validates it the way AS3 does (the official schema), checks
every classed item's path, that the names iRules and data groups mention exist, and that two long
sources which differ only in their last character get distinct names."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renderer.mapping import names
from renderer.render import RenderResult, render
from renderer.validate.result import ValidatorCache, validate_rendered

MAX_PATH = 195
HASHED = re.compile(r"_[0-9a-f]{8}$")
PATH_IN_TEXT = re.compile(r"/([A-Za-z][0-9A-Za-z_.-]*)/Shared/([A-Za-z][0-9A-Za-z_.-]*)")
CACHE = ValidatorCache()
# Route mode's fixed data-group names (CIS's): its iRules name them whether or not a Route fills them
FIXED = {"ssl_passthrough_servername_dg", "ssl_reencrypt_servername_dg", "ssl_reencrypt_serverssl_dg",
         "ssl_edge_servername_dg", "ssl_edge_serverssl_dg", "ab_deployment_dg", "https_redirect_dg"}

CONFIG = """bigip:
  partition: {partition}
  poolMemberType: cluster
  routeVirtualAddress: 10.1.20.50
vxlan:
  tunnel: flannel_vxlan
  profile: fl-vxlan
  port: 8472
  floodingType: none
  key: 1
  localAddress: 192.168.1.254
  selfIP: 10.10.30.15/16
  bigipNode: bigip
  vtepMAC: "2c:c2:60:23:0c:58"
  podCIDR: 10.10.30.0/24
"""

NS = "n" * 60 + "-ns"  # 63 characters, the longest namespace Kubernetes allows
SVC = "s" * 60 + "-sv"  # 63, the longest Service name


def _service(namespace: str, name: str, ip: str) -> tuple[str, str]:
    svc = (f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
           "spec:\n  selector: {app: web}\n  ports: [{name: http, port: 80, targetPort: 8080}]\n---\n")
    eps = (f"apiVersion: v1\nkind: Endpoints\nmetadata: {{name: {name}, namespace: {namespace}}}\nsubsets:\n"
           f"- addresses: [{{ip: {ip}, nodeName: worker-1}}]\n  ports: [{{name: http, port: 8080, protocol: TCP}}]\n"
           "---\n")
    return svc, eps


def _repo(tmp_path: Path, manifests: str, services: list[tuple[str, str]], partition: str = "kubernetes") -> Path:
    repo = tmp_path / "repo"
    svcs = [_service(ns, name, f"10.10.1.{10 + i}") for i, (ns, name) in enumerate(services)]
    files = {"as3-gitops.yaml": CONFIG.format(partition=partition), "manifests/objects.yaml": manifests,
             "manifests/services.yaml": "".join(s for s, _ in svcs), "snapshot/endpoints.yaml": "".join(e for _, e in svcs),
             "snapshot/nodes.yaml": "apiVersion: v1\nkind: Node\nmetadata: {name: worker-1}\nstatus:\n  addresses: "
                                    "[{type: InternalIP, address: 192.168.1.11}]\n"}
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    return repo


def _text(value: Any) -> str:
    if isinstance(value, dict) and "base64" in value:
        return base64.b64decode(value["base64"]).decode()
    return value if isinstance(value, str) else ""


def _checked(repo: Path, schema: Path) -> RenderResult:
    """Render, validate as AS3 does, and check every path and every name iRules / data groups mention."""
    result = render(repo)
    assert result.ok, [str(f) for f in result.findings if f.is_error]
    problems = [f"{f.code} {f.message}" for f in validate_rendered(result, repo=repo, as3_schema=str(schema),
                                                                    cache=CACHE) if f.is_error]
    assert problems == []
    adc = result.adc
    objects: dict[str, set[str]] = {}
    for tenant, body in adc.items():
        if not (isinstance(body, dict) and body.get("class") == "Tenant"):
            continue
        for app, items in body.items():
            if not (isinstance(items, dict) and items.get("class") == "Application"):
                continue
            for item, value in items.items():
                if isinstance(value, dict) and value.get("class"):
                    assert len(f"/{tenant}/{app}/{item}") <= MAX_PATH, (tenant, app, item)
                    objects.setdefault(tenant, set()).add(item)
    for tenant, body in adc.items():
        for value in (body.get("Shared", {}) if isinstance(body, dict) else {}).values():
            if not isinstance(value, dict):
                continue
            texts = [_text(value.get("iRule"))] if value.get("class") == "iRule" else []
            if value.get("class") == "Data_Group":
                texts += [str(r.get("value", "")) for r in value.get("records") or []]
            for text in texts:
                for owner, name in PATH_IN_TEXT.findall(text):
                    if owner == tenant and name not in FIXED:
                        assert name in objects[tenant], (name, text[:200])
    return result


def _shared(result: RenderResult, tenant: str = "kubernetes") -> dict[str, Any]:
    return result.adc[tenant]["Shared"]


def _local(ref: Any) -> str:
    """The item name a reference names: `{"use": name}`, `{"bigip": path}`, `/tenant/Shared/name` or `name`."""
    if isinstance(ref, dict):
        ref = ref.get("use") or ref.get("bigip") or ""
    return str(ref).rsplit("/", 1)[-1]


def _classed(shared: dict[str, Any], cls: str) -> list[str]:
    return sorted(k for k, v in shared.items() if isinstance(v, dict) and v.get("class") == cls)


def _ingress(name: str, ip: str, extra: str = "") -> str:
    return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: {NS}
  annotations:
    kubernetes.io/ingress.class: f5
    virtual-server.f5.com/ip: {ip}
    virtual-server.f5.com/health: '[{{"path": "{'h' * 60}.example.com/{'p' * 40}", "send": "GET /", "interval": 5, "timeout": 10}}]'
{extra}spec:
  rules:
  - host: {'h' * 60}.example.com
    http:
      paths:
      - path: /{'p' * 40}
        pathType: Prefix
        backend: {{service: {{name: {SVC}, port: {{number: 80}}}}}}
---
"""


def test_two_long_ingresses_render_within_as3s_path_limit_and_stay_distinct(tmp_path, as3_schema_path):
    long_a, long_b = "i" * 199 + "a", "i" * 199 + "b"
    repo = _repo(tmp_path, _ingress(long_a, "10.1.1.1") + _ingress(long_b, "10.1.1.2"), [(NS, SVC)])
    shared = _shared(_checked(repo, as3_schema_path))
    pools = _classed(shared, "Pool")
    assert len(pools) == 2 and all(HASHED.search(p) and len(p) == 195 - len("/kubernetes/Shared/") for p in pools)
    assert pools[0][:-9] == pools[1][:-9]  # one readable prefix, two hashes
    monitors = _classed(shared, "Monitor")
    assert len(monitors) == 2 and len(set(monitors)) == 2
    # every policy rule forwards to a pool that exists (AS3 checks the `use` pointer; so do we)
    for policy in _classed(shared, "Endpoint_Policy"):
        targets = {_local(a["select"]["pool"]) for r in shared[policy]["rules"] for a in r["actions"]
                   if a.get("type") == "forward"}
        assert targets and targets <= set(pools)


def test_short_names_do_not_change(tmp_path, as3_schema_path):
    repo = _repo(tmp_path, _ingress("web", "10.1.1.1").replace(NS, "shop").replace("h" * 60, "www"),
                 [("shop", SVC)])
    shared = _shared(_checked(repo, as3_schema_path))
    assert _classed(shared, "Pool") == [f"ingress_shop_web_{SVC.replace('-', '_')}_80"]


def _configmap(name: str, ip: str, partition: str) -> str:
    data = ('{"virtualServer": {"frontend": {"partition": "' + partition + '", "mode": "http", "balance": '
            '"round-robin", "virtualAddress": {"bindAddr": "' + ip + '", "port": 80}}, "backend": {"serviceName": "'
            + SVC + '", "servicePort": 80, "healthMonitors": [{"interval": 5, "timeout": 16, "send": "GET /", '
            '"protocol": "http"}]}}}')
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {NS}, labels: "
            f"{{f5type: virtual-server}}}}\ndata:\n  schema: f5schemadb://bigip-virtual-server_v0.1.7.json\n"
            f"  data: '{data}'\n---\n")


def test_two_long_configmaps_in_a_long_partition(tmp_path, as3_schema_path):
    partition = "p" * 64
    repo = _repo(tmp_path, _configmap("c" * 199 + "a", "10.1.3.1", partition)
                 + _configmap("c" * 199 + "b", "10.1.3.2", partition), [(NS, SVC)])
    shared = _shared(_checked(repo, as3_schema_path), partition)
    room = names.item_limit(partition)
    for cls in ("Service_HTTP", "Pool", "Monitor"):
        made = _classed(shared, cls)
        assert len(made) == 2 and all(len(n) == room and HASHED.search(n) for n in made), (cls, made)
    for vs in _classed(shared, "Service_HTTP"):
        assert _local(shared[vs]["pool"]) in _classed(shared, "Pool")


def _virtual_server(name: str, ip: str, host: str, partition: str) -> str:
    return f"""apiVersion: cis.f5.com/v1
kind: TLSProfile
metadata: {{name: {name}, namespace: {NS}}}
spec:
  hosts: [{host}]
  tls: {{termination: edge, reference: bigip, clientSSL: /Common/clientssl}}
---
apiVersion: cis.f5.com/v1
kind: VirtualServer
metadata: {{name: {name}, namespace: {NS}}}
spec:
  virtualServerAddress: {ip}
  virtualServerName: {name.replace('-', '_')}
  partition: {partition}
  host: {host}
  tlsProfileName: {name}
  httpTraffic: redirect
  pools:
  - path: /{'p' * 50}
    service: {SVC}
    servicePort: 80
    monitor: {{type: http, send: "GET / HTTP/1.1\\r\\n\\r\\n", recv: "", interval: 10, timeout: 31}}
  - path: /ab
    service: {SVC}
    servicePort: 80
    weight: 80
    alternateBackends: [{{service: {SVC[:-2]}-b, weight: 20}}]
---
"""


def test_two_long_virtual_servers_with_derived_objects(tmp_path, as3_schema_path):
    partition = "crd-" + "t" * 56
    host_a, host_b = "h" * 63 + ".example.com", "h" * 62 + "b.example.com"
    manifests = (_virtual_server("v" * 150 + "-a", "10.1.4.1", host_a, partition)
                 + _virtual_server("v" * 150 + "-b", "10.1.4.2", host_b, partition))
    result = _checked(_repo(tmp_path, manifests, [(NS, SVC), (NS, SVC[:-2] + "-b")]), as3_schema_path)
    shared = _shared(result, partition)
    room = names.item_limit(partition)
    virtuals = _classed(shared, "Service_HTTPS") + _classed(shared, "Service_HTTP")
    assert len(virtuals) == 4 and all(len(n) == room for n in virtuals)
    irules, groups = _classed(shared, "iRule"), _classed(shared, "Data_Group")
    assert len(irules) == 4 and len(groups) == 4  # redirect and A/B, per source: none shared by accident
    for vs in virtuals:
        for rule in shared[vs].get("iRules", []):
            assert _local(rule) in irules
        policies = shared[vs].get("policyEndpoint") or []
        for policy in policies if isinstance(policies, list) else [policies]:
            assert _local(policy) in _classed(shared, "Endpoint_Policy")
    assert len(_classed(shared, "Pool")) == 6 and len(_classed(shared, "Monitor")) == 2


ROUTE_CONFIG_PARTITION = "r" * 64


def _route(name: str, namespace: str, service: str) -> str:
    return f"""apiVersion: route.openshift.io/v1
kind: Route
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  host: {name[-20:]}.example.com
  to: {{kind: Service, name: {service}}}
  tls:
    termination: edge
    certificate: "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"
    key: "-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----\\n"
---
"""


def test_two_long_routes_in_a_long_partition(tmp_path, as3_schema_path):
    svc_a, svc_b = SVC[:-1] + "a", SVC[:-1] + "b"
    manifests = _route("r" * 150 + "-a", NS, svc_a) + _route("r" * 150 + "-b", NS, svc_b)
    repo = _repo(tmp_path, manifests, [(NS, svc_a), (NS, svc_b)], partition=ROUTE_CONFIG_PARTITION)
    shared = _shared(_checked(repo, as3_schema_path), ROUTE_CONFIG_PARTITION)
    room = names.item_limit(ROUTE_CONFIG_PARTITION)
    pools, certs = _classed(shared, "Pool"), _classed(shared, "Certificate")
    assert len(pools) == 2 and all(len(p) == room and HASHED.search(p) for p in pools)
    assert len(certs) == 2 and all(len(c) == room for c in certs)
    edge = shared["ssl_edge_servername_dg"]["records"] if "ssl_edge_servername_dg" in shared else []
    assert {r["value"].rsplit("/", 1)[-1] for r in edge} <= set(pools)


def test_a_partition_too_long_for_any_name_is_a_finding(tmp_path):
    partition = "x" * 170
    repo = _repo(tmp_path, _configmap("web", "10.1.3.1", partition), [(NS, SVC)])
    result = render(repo)
    [finding] = [f for f in result.findings if f.is_error]
    assert finding.code == "NAME301" and finding.location.path == "manifests/objects.yaml"
    assert "leaves 16 for object names" in finding.message


def test_shortening_keeps_short_names_and_separates_long_ones():
    assert names.as3_name("ingress_shop_web_web_80", tenant="kubernetes") == "ingress_shop_web_web_80"
    room = names.item_limit("kubernetes")
    assert room == 195 - len("/kubernetes/Shared/")
    exact = "a" * room
    assert names.as3_name(exact, tenant="kubernetes") == exact
    one_more_a, one_more_b = exact + "a", exact + "b"
    a, b = names.as3_name(one_more_a, tenant="kubernetes"), names.as3_name(one_more_b, tenant="kubernetes")
    assert a != b and len(a) == len(b) == room and a[:-9] == b[:-9] == "a" * (room - 9)
    assert names.crd_name("x." * 120, tenant="kubernetes") != names.crd_name("x." * 119 + "y.", tenant="kubernetes")


@settings(max_examples=int(os.environ.get("AS3_GITOPS_NAME_EXAMPLES", "12")), deadline=None,
          derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ns_len=st.integers(1, 63), name_len=st.integers(1, 253), svc_len=st.integers(1, 63),
       partition_len=st.integers(1, 64), kind=st.sampled_from(["ingress", "configmap", "virtualserver"]))
def test_any_lengths_render_and_validate(tmp_path_factory, as3_schema_path, ns_len, name_len, svc_len,
                                         partition_len, kind):
    namespace = ("n" * ns_len)[:-1] + "x" if ns_len > 1 else "x"
    name, service = ("m" * name_len), ("s" * svc_len)
    partition = "P" + "q" * (partition_len - 1)
    if kind == "ingress":
        manifests = (_ingress(name, "10.1.1.1").replace(NS, namespace).replace(SVC, service)
                     + _ingress(name[:-1] + "z", "10.1.1.2").replace(NS, namespace).replace(SVC, service))
        manifests = manifests.replace("  annotations:\n", f"  annotations:\n    virtual-server.f5.com/partition: "
                                      f"{partition}\n")
    elif kind == "configmap":
        manifests = ((_configmap(name, "10.1.3.1", partition) + _configmap(name[:-1] + "z", "10.1.3.2", partition))
                     .replace(NS, namespace).replace(SVC, service))
    else:  # the CRD wants 3+ characters in virtualServerName, 2+ in partition
        name, partition = name.ljust(3, "m"), partition.ljust(2, "q")
        manifests = (_virtual_server(name, "10.1.4.1", "www.example.com", partition)
                     + _virtual_server(name[:-1] + "z", "10.1.4.2", "www2.example.com", partition))
        manifests = manifests.replace(NS, namespace).replace(SVC[:-2] + "-b", "alt").replace(SVC, service)
    tmp = tmp_path_factory.mktemp("names")
    result = _checked(_repo(tmp, manifests, [(namespace, service), (namespace, "alt")], partition="kubernetes"),
                      as3_schema_path)
    pools = _classed(_shared(result, partition), "Pool")
    # two sources that differ in the last character of their name: two of everything
    assert len(pools) == (6 if kind == "virtualserver" else 2)


def _l4_kinds(suffix: str, ip: int, partition: str) -> str:
    """A TransportServer, an IngressLink, a LoadBalancer Service and an ExternalDNS, all long-named."""
    name = "t" * 150 + "-" + suffix
    return f"""apiVersion: cis.f5.com/v1
kind: TransportServer
metadata: {{name: {name}, namespace: {NS}}}
spec:
  virtualServerAddress: 10.1.5.{ip}
  virtualServerPort: 5432
  virtualServerName: {name.replace('-', '_')}
  partition: {partition}
  mode: standard
  pool:
    service: {SVC}
    servicePort: 80
    monitor: {{type: tcp, interval: 10, timeout: 31}}
---
apiVersion: cis.f5.com/v1
kind: IngressLink
metadata: {{name: {name}, namespace: {NS}}}
spec:
  virtualServerAddress: 10.1.6.{ip}
  partition: {partition}
  selector: {{matchLabels: {{app: nginx-{suffix}}}}}
---
apiVersion: v1
kind: Service
metadata:
  name: {SVC[:-2]}-{suffix}
  namespace: {NS}
  labels: {{app: nginx-{suffix}}}
  annotations: {{cis.f5.com/ip: 10.1.7.{ip}, cis.f5.com/partition: {partition},
                 cis.f5.com/health: '{{"interval": 5, "timeout": 10}}'}}
spec:
  type: LoadBalancer
  selector: {{app: web}}
  ports: [{{name: http, port: 80, targetPort: 8080}}]
---
apiVersion: cis.f5.com/v1
kind: ExternalDNS
metadata: {{name: {name}, namespace: {NS}}}
spec:
  domainName: {'d' * 60}{suffix}.{'e' * 60}.{'f' * 40}.example.com
  pools:
  - dataServerName: /Common/{'g' * 100}
    monitor: {{type: http, send: "GET /", recv: "", interval: 10, timeout: 10}}
---
"""


def test_transport_servers_ingress_links_lb_services_and_external_dns(tmp_path, as3_schema_path):
    partition = "l4-" + "u" * 57
    manifests = _l4_kinds("a", 1, partition) + _l4_kinds("b", 2, partition)
    repo = _repo(tmp_path, manifests, [(NS, SVC), (NS, SVC[:-2] + "-a"), (NS, SVC[:-2] + "-b")],
                 partition="k" * 60)
    (repo / "manifests" / "services.yaml").write_text(
        (repo / "manifests" / "services.yaml").read_text().split("---\n", 1)[0] + "---\n")
    result = _checked(repo, as3_schema_path)
    shared = _shared(result, partition)
    room = names.item_limit(partition)
    tcp = _classed(shared, "Service_TCP")
    assert len(tcp) == 6 and len([n for n in tcp if len(n) == room and HASHED.search(n)]) == 4, tcp
    pools = _classed(shared, "Pool")  # the TransportServers share one (one Service port, as in CIS)
    assert len(pools) == 3 and {_local(shared[vs]["pool"]) for vs in tcp} == set(pools)
    gtm = _shared(result, "k" * 60 + "_gtm")
    for cls in ("GSLB_Domain", "GSLB_Pool"):
        made = _classed(gtm, cls)
        assert len(made) == 2 and all(HASHED.search(n) for n in made), (cls, made)
