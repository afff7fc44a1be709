"""normalize + plan + layout: kubectl output -> minimal, sorted, filtered snapshot files (golden)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from snapshot_helpers import FIXTURES, GOLDEN, KUBECTL_ALL

from renderer.config import Config
from renderer.errors import InvalidInput
from renderer.snapshot.normalize import ip_sort_key, normalize
from renderer.snapshot.plan import SnapshotOptions, plan_snapshot, referenced_services, repo_config
from renderer.snapshot.write import layout_files
from renderer.source import parse_file

REFERENCED = {("shop", "web"), ("monitoring", "metrics")}
VOLATILE = (b"resourceVersion", b"managedFields", b"uid:", b"creationTimestamp", b"lastHeartbeatTime",
            b"lastTransitionTime", b"generation", b"ownerReferences", b"last-applied-configuration",
            b"selfLink", b"zone:", b"serving", b"terminating", b"kubeadm.alpha", b"Hostname", b"taints")


def _docs(data: bytes, label: str = "kubectl-all.yaml"):
    _src, docs, findings = parse_file(label, data)
    assert findings == []
    return docs


def _plan(data: bytes, config: Config | None = None, services=frozenset(REFERENCED), namespaces=None):
    return plan_snapshot(_docs(data), config or Config(), None if services is None else set(services),
                         SnapshotOptions(namespaces=namespaces))


def _check_golden(case: Path, files: dict[str, bytes], update: bool) -> None:
    if update:
        for old in case.rglob("*.yaml"):
            old.unlink()
        for rel, data in files.items():
            (case / rel).parent.mkdir(parents=True, exist_ok=True)
            (case / rel).write_bytes(data)
    expected = {p.relative_to(case).as_posix(): p.read_bytes() for p in sorted(case.rglob("*.yaml"))}
    assert files == expected


@pytest.mark.parametrize("layout", ["per-kind", "per-namespace"])
def test_kubectl_output_normalizes_to_golden_files(layout: str, update_golden: bool) -> None:
    plan = _plan(KUBECTL_ALL.read_bytes(), Config(snapshot_layout=layout))
    _check_golden(GOLDEN / layout, plan.files, update_golden)


def test_manifests_reference_exactly_the_ingress_and_configmap_services() -> None:
    repo = FIXTURES / "repo"
    assert referenced_services(repo, repo_config(repo)) == REFERENCED


def test_volatile_fields_and_unread_data_are_gone() -> None:
    blob = b"".join(_plan(KUBECTL_ALL.read_bytes(), services=None).files.values())
    assert [word for word in VOLATILE if word in blob] == []
    assert b"flannel.alpha.coreos.com/public-ip: 192.168.1.11" in blob
    assert b"notReadyAddresses" in blob


def test_filtering_keeps_nodes_and_only_referenced_services() -> None:
    plan = _plan(KUBECTL_ALL.read_bytes(), services={("shop", "web")})
    kept = [(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in plan.objects]
    assert kept == [
        ("EndpointSlice", "shop", "web-8xk2d"),
        ("EndpointSlice", "shop", "web-v6q4n"),
        ("Endpoints", "shop", "web"),
        ("Node", "", "worker-1"),
        ("Node", "", "worker-2"),
        ("Node", "", "worker-3"),
    ]


def test_all_services_keeps_unreferenced_endpoints_too() -> None:
    plan = _plan(KUBECTL_ALL.read_bytes(), services=None)
    assert [o["metadata"]["name"] for o in plan.objects if o["kind"] == "Endpoints"] == ["kubernetes", "metrics",
                                                                                          "web"]
    assert plan.count("EndpointSlice") == 3


def test_namespace_option_limits_endpoints_but_not_nodes() -> None:
    plan = _plan(KUBECTL_ALL.read_bytes(), services=None, namespaces=("monitoring",))
    assert [(o["kind"], o["metadata"]["name"]) for o in plan.objects] == [
        ("EndpointSlice", "metrics-m3tr1"), ("Endpoints", "metrics"),
        ("Node", "worker-1"), ("Node", "worker-2"), ("Node", "worker-3")]


def test_addresses_sort_numerically_not_as_text() -> None:
    ips = ["10.244.1.12", "fd00::2", "10.244.1.5", "9.0.0.1", "fd00::10", "not-an-ip"]
    assert sorted(ips, key=ip_sort_key) == ["9.0.0.1", "10.244.1.5", "10.244.1.12", "fd00::2", "fd00::10",
                                            "not-an-ip"]


def test_node_keeps_last_ready_condition_and_address_order() -> None:
    node = normalize({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "n", "annotations": {"flannel.alpha.coreos.com/public-ip": "1.1.1.1", "x": "y"}},
        "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.9"},
                                 {"type": "InternalIP", "address": "10.0.0.2"},
                                 {"type": "Hostname", "address": "n"}],
                   "conditions": [{"type": "Ready", "status": "True"}, {"type": "Ready", "status": "False",
                                                                         "lastHeartbeatTime": "x"}]}})
    assert node == {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "n", "annotations": {"flannel.alpha.coreos.com/public-ip": "1.1.1.1"}},
        "status": {"addresses": [{"address": "10.0.0.9", "type": "InternalIP"},
                                 {"address": "10.0.0.2", "type": "InternalIP"}],
                   "conditions": [{"status": "False", "type": "Ready"}]}}


def test_normalizing_normalized_output_changes_nothing() -> None:
    first = _plan(KUBECTL_ALL.read_bytes(), services=None)
    again = _plan(b"".join(first.files.values()), services=None)
    assert again.files == first.files


def test_kubectl_json_output_gives_the_same_files() -> None:
    import json

    data = yaml.load(KUBECTL_ALL.read_text(), Loader=yaml.SafeLoader)
    _src, docs, findings = parse_file("all.json", json.dumps(data).encode())
    assert findings == []
    from_json = plan_snapshot(docs, Config(), set(REFERENCED), SnapshotOptions())
    assert from_json.files == _plan(KUBECTL_ALL.read_bytes()).files


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_object_and_address_order_in_the_input_does_not_matter(seed: int) -> None:
    data = yaml.load(KUBECTL_ALL.read_text(), Loader=yaml.SafeLoader)
    rng = random.Random(seed)
    rng.shuffle(data["items"])
    for item in data["items"]:
        for subset in item.get("subsets", []):
            rng.shuffle(subset.get("addresses", []))
        rng.shuffle(item.get("endpoints", []))
    shuffled = yaml.safe_dump(data).encode()
    assert _plan(shuffled).files == _plan(KUBECTL_ALL.read_bytes()).files


def test_empty_input_is_refused_instead_of_wiping_the_snapshot() -> None:
    with pytest.raises(InvalidInput) as info:
        _plan(b"apiVersion: v1\nkind: List\nitems: []\nmetadata: {}\n")
    assert [(f.code, str(f.location), f.message) for f in info.value.findings] == [
        ("SNAP010", "kubectl-all.yaml:1:1", "no Nodes in the input: refusing to write an empty snapshot")]


def test_malformed_object_is_reported_with_its_line() -> None:
    tail = "\n      protocol: TCP\n- apiVersion: v1\n  kind: Endpoints"
    text = KUBECTL_ALL.read_text().replace("      port: 8080" + tail, "      port: eighty" + tail, 1)
    assert "port: eighty" in text
    lines = text.splitlines()
    bad_line = lines.index("      port: eighty") + 1
    object_line = max(i for i in range(bad_line) if lines[i] == "- apiVersion: v1") + 1
    with pytest.raises(InvalidInput) as info:
        _plan(text.encode())
    errors = [f for f in info.value.findings if f.is_error]
    assert [(f.code, f.message, f.location.path) for f in errors] == [
        ("K8S002", "Endpoints shop/web: subsets[0].ports[0].port must be an integer", "kubectl-all.yaml")]
    # the finding points at the field itself, inside its object of the List
    assert object_line < errors[0].location.line == bad_line


def test_other_kinds_are_ignored_with_a_note() -> None:
    extra = b"---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\n"
    plan = _plan(KUBECTL_ALL.read_bytes() + extra)
    assert [(f.code, f.severity.value, f.message) for f in plan.findings] == [
        ("SNAP011", "info", "ignored objects of kinds the snapshot does not hold: 1 Pod")]
    assert plan.files == _plan(KUBECTL_ALL.read_bytes()).files


def test_unknown_layout_is_a_usage_error() -> None:
    from renderer.errors import UsageError

    with pytest.raises(UsageError, match="unknown snapshot layout 'flat'"):
        layout_files([], "flat")


def test_custom_resources_reference_their_services_across_namespaces(tmp_path: Path) -> None:
    """VirtualServer pools (serviceNamespace too), defaultPool, TransportServer, IngressLink selector and
    CIS-annotated LoadBalancer Services are kept by `snapshot capture`; unrelated Services are not."""
    repo = tmp_path / "repo"
    (repo / "manifests").mkdir(parents=True)
    (repo / "manifests" / "crd.yaml").write_text("""\
apiVersion: cis.f5.com/v1
kind: VirtualServer
metadata: {name: vs, namespace: web}
spec:
  virtualServerAddress: 10.1.1.1
  host: a.example.com
  pools:
  - {path: /, service: front, servicePort: 80}
  - {path: /api, service: api, servicePort: 8080, serviceNamespace: backend}
  defaultPool: {reference: service, service: fallback, servicePort: 80}
---
apiVersion: cis.f5.com/v1
kind: TransportServer
metadata: {name: ts, namespace: db}
spec: {virtualServerAddress: 10.1.1.2, virtualServerPort: 5432, mode: standard, pool: {service: pg, servicePort: 5432}}
---
apiVersion: cis.f5.com/v1
kind: IngressLink
metadata: {name: il, namespace: nginx}
spec: {virtualServerAddress: 10.1.1.3, selector: {matchLabels: {app: nginx}}}
---
apiVersion: v1
kind: Service
metadata: {name: nginx-svc, namespace: nginx, labels: {app: nginx}}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: db, annotations: {cis.f5.com/ip: 10.1.1.4}}
spec: {type: LoadBalancer, ports: [{port: 53, protocol: UDP}]}
---
apiVersion: v1
kind: Service
metadata: {name: other-lb, namespace: db}
spec: {type: LoadBalancer, ports: [{port: 80}]}
""")
    assert referenced_services(repo, repo_config(repo)) == {
        ("web", "front"), ("backend", "api"), ("web", "fallback"), ("db", "pg"), ("nginx", "nginx-svc"),
        ("db", "lb")}


def test_routes_and_as3_discovery_services_are_referenced(tmp_path: Path) -> None:
    """Capture keeps the endpoints of Route backends and of Services labelled for AS3 service discovery."""
    repo = tmp_path / "repo"
    (repo / "manifests").mkdir(parents=True)
    (repo / "manifests" / "objects.yaml").write_text("""\
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: web, namespace: shop}
spec:
  host: www.example.com
  to: {kind: Service, name: web}
  alternateBackends: [{kind: Service, name: web-canary, weight: 10}]
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
  labels: {cis.f5.com/as3-tenant: apps, cis.f5.com/as3-app: shop, cis.f5.com/as3-pool: api_pool}
spec: {ports: [{port: 443}]}
---
apiVersion: v1
kind: Service
metadata: {name: unrelated, namespace: shop}
spec: {ports: [{port: 80}]}
""")
    assert referenced_services(repo, repo_config(repo)) == {("shop", "web"), ("shop", "web-canary"), ("shop", "api")}
