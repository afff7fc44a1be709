"""The short paths of renderer/kube for well-formed fields, and the careful reading they fall back to.

Each well-formed case checks the view; each malformed one checks that the short path did not apply
(the words and locations are those of the careful reading, in the same order; a shortcut that
accepted the field would give a wrong view or no finding).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kube_docs import documents, load, shown

from renderer.kube.load import F5_CONTROLLER, INGRESS_API_VERSIONS, Cluster, add_cluster_objects, load_cluster
from renderer.kube.meta import _careful_meta, read_meta
from renderer.kube.objects import EndpointAddress, EndpointPort, ServicePort
from renderer.kube.reader import Reader, port_number, string_map

SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {namespace}
  labels: {labels}
spec:
  ports: [{{name: http, port: 80, targetPort: 8080}}]
"""


def test_well_formed_metadata_is_read_as_is():
    cluster, findings = load(SERVICE.format(namespace="shop", labels="{app: web, tier: front}"))
    assert findings == []
    meta = cluster.services["shop", "web"].meta
    assert (meta.kind, meta.api_version, meta.namespace, meta.name) == ("Service", "v1", "shop", "web")
    assert meta.labels == {"app": "web", "tier": "front"}
    assert meta.annotations == {}


def test_labels_yaml_typed_become_strings_and_others_findings():
    """Not all strings: the careful reading converts (3 -> "3") and reports what it cannot convert."""
    labels = "{replicas: 3, enabled: true, off: false, empty: null, nested: {a: b}, 5: five, app: web}"
    cluster, findings = load(SERVICE.format(namespace="shop", labels=labels))
    assert cluster.services["shop", "web"].meta.labels == {"replicas": "3", "enabled": "true", "empty": "",
                                                           "app": "web"}
    assert findings == [  # `off` is YAML 1.1 false: a key that is not a string; 5 is an integer key
        "m.yaml:6:11: K8S002 Service: metadata.labels values must be strings",
        "m.yaml:6:73: K8S002 Service: metadata.labels values must be strings",
        "m.yaml:6:84: K8S002 Service: metadata.labels values must be strings",
    ]


def test_namespace_absent_empty_or_mistyped():
    for namespace, expected in (('""', []), ("null", [])):
        cluster, findings = load(SERVICE.format(namespace=namespace, labels="{}"))
        assert (list(cluster.services), findings) == ([("default", "web")], expected)
    cluster, findings = load(SERVICE.format(namespace="7", labels="{}"))
    assert list(cluster.services) == [("default", "web")]
    assert findings == ["m.yaml:5:14: K8S002 Service: metadata.namespace must be a string"]
    # a cluster-scoped kind never reads its namespace
    cluster, findings = load("apiVersion: v1\nkind: Node\nmetadata: {name: n1, namespace: 7, labels: {a: '1'}}\n")
    assert (cluster.nodes["n1"].meta.namespace, cluster.nodes["n1"].meta.labels, findings) == ("", {"a": "1"}, [])


def test_names_and_metadata_that_are_not_mappings():
    text = """apiVersion: v1
kind: Secret
metadata: {name: s, namespace: Bad_NS}
---
apiVersion: v1
kind: Secret
metadata: {name: 5}
---
apiVersion: v1
kind: Secret
metadata: [x]
---
apiVersion: v1
kind: Secret
metadata: {name: ok, labels: [a]}
"""
    cluster, findings = load(text)
    assert findings == [
        "m.yaml:3:32: NAME011 Secret 's': namespace 'Bad_NS' must be a DNS-1123 label (at most 63 characters: "
        "a-z, 0-9 and '-', alphanumeric at both ends)",
        "m.yaml:7:18: K8S002 Secret: metadata.name must be a string",
        "m.yaml:7:11: K8S003 Secret without metadata.name",
        "m.yaml:11:11: K8S002 Secret: metadata must be a mapping",
        "m.yaml:11:11: K8S003 Secret without metadata.name",
        "m.yaml:15:30: K8S002 Secret: metadata.labels must be a mapping",
    ]
    assert list(cluster.secrets) == [("default", "ok")]
    assert cluster.secrets["default", "ok"].meta.labels == {}


VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "web", "Bad_NS", "a.b"]),
                   st.lists(st.just("x"), max_size=1), st.just({}))
STRING_MAPS = st.dictionaries(st.one_of(st.sampled_from(["a", "b", "virtual-server.f5.com/ip"]), st.integers(0, 2)),
                              VALUES, max_size=3)


@given(kind=st.sampled_from(["Service", "Node", "Ingress", "Deployment"]),
       metadata=st.one_of(VALUES, st.fixed_dictionaries({}, optional={
           "name": VALUES, "namespace": VALUES, "labels": st.one_of(VALUES, STRING_MAPS),
           "annotations": st.one_of(VALUES, STRING_MAPS)})))
def test_metadata_short_path_agrees_with_the_careful_reading(kind: str, metadata: Any):
    """Whatever the metadata, read_meta (short path first) gives what the careful reading alone gives."""
    doc = documents("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n")[0]
    data = {"apiVersion": "v1", "kind": kind, "metadata": metadata}
    short: list = []
    careful: list = []
    got = read_meta(doc, (), data, short)
    want = _careful_meta(doc, (), data, kind, "v1", careful)
    assert (got, shown(short)) == (want, shown(careful))
    if got is not None:
        assert (got.namespace, got.labels, got.annotations) == (want.namespace, want.labels, want.annotations)


@given(value=st.one_of(VALUES, st.floats(allow_nan=False), st.dictionaries(st.just("k"), VALUES, max_size=1)),
       typ=st.sampled_from([str, int, dict, list, bool]), container=st.booleans())
def test_reader_one_is_get_with_one_key(value: Any, typ: type, container: bool):
    doc = documents("a: 1\n")[0]
    obj = {"k": value} if container else value
    one: list = []
    got: list = []
    r_one, r_get = Reader(doc, (), one, "X"), Reader(doc, (), got, "X")
    assert r_one.one(obj, "k", typ, "dflt") == r_get.get(obj, ("k",), typ, "dflt")
    assert shown(one) == shown(got)


def test_string_map_plain_and_mixed():
    doc = documents("data: {a: x, b: 2}\n")[0]
    findings: list = []
    r = Reader(doc, (), findings, "ConfigMap c")
    plain = {"a": "x"}
    copied = string_map(r, {"data": plain}, ("data",))
    assert copied == plain and copied is not plain  # a copy: the view never shares the parsed document's dict
    assert string_map(r, {"data": {"a": "x", "b": 2, "c": [1]}}, ("data",)) == {"a": "x", "b": "2"}
    assert shown(findings) == ["m.yaml:1:7: K8S002 ConfigMap c: data values must be strings"]


def test_service_ports_in_and_out_of_range():
    text = """apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: zero, port: 0}
  - {name: big, port: 1000000000000000000000000000000}
  - {name: flag, port: true}
  - {name: text, port: "80"}
  - {name: np, port: 81, nodePort: 70000, targetPort: 0}
  - {port: 82, targetPort: web, protocol: 17}
  - {port: 83, nodePort: 30083, protocol: UDP}
"""
    cluster, findings = load(text)
    assert cluster.services["shop", "web"].ports == (
        ServicePort("http", 80, 8080, None, "TCP"), ServicePort("np", 81, None, None, "TCP"),
        ServicePort("", 82, "web", None, "TCP"), ServicePort("", 83, None, 30083, "UDP"))
    assert findings == [
        "m.yaml:7:24: K8S002 Service shop/web: spec.ports[1].port must be from 1 to 65535",
        "m.yaml:8:23: K8S002 Service shop/web: spec.ports[2].port must be from 1 to 65535",
        "m.yaml:9:24: K8S002 Service shop/web: spec.ports[3].port must be an integer",
        "m.yaml:10:24: K8S002 Service shop/web: spec.ports[4].port must be an integer",
        "m.yaml:11:55: K8S002 Service shop/web: spec.ports[5].targetPort must be from 1 to 65535",
        "m.yaml:11:36: K8S002 Service shop/web: spec.ports[5].nodePort must be from 1 to 65535",
        "m.yaml:12:43: K8S002 Service shop/web: spec.ports[6].protocol must be a string",
    ]


def test_port_number_required_and_optional():
    doc = documents("a: 1\n")[0]
    findings: list = []
    r = Reader(doc, (), findings, "X")
    assert port_number(r, {"port": 443}, ("port",), ()) == 443
    assert port_number(r, {}, ("port",), ()) is None
    assert port_number(r, {}, ("port",), (), required=True) is None
    assert port_number(r, {"port": None}, ("port",), (), required=True) is None
    assert port_number(r, {"port": False}, ("port",), ()) is None
    assert shown(findings) == ["m.yaml:1:1: K8S002 X: missing port", "m.yaml:1:1: K8S002 X: missing port",
                               "m.yaml:1:1: K8S002 X: port must be an integer"]


ENDPOINTS = """apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: team}
subsets:
- addresses:
  - {ip: 10.0.0.1, nodeName: n1}
  - {ip: 10.0.0.2}
  - {nodeName: n1}
  - {ip: 10.0.0.3, nodeName: n3}
  notReadyAddresses:
  - {ip: 10.0.0.4, nodeName: n4}
  ports: [{name: http, port: 8080}, {port: 0}, {port: 8443, protocol: 6}]
- addresses: x
  notReadyAddresses: [{ip: 10.0.0.5}]
"""


def test_endpoints_well_formed_addresses():
    text = ENDPOINTS.replace("  - {nodeName: n1}\n", "")
    cluster, findings = load(text.replace(", {port: 0}, {port: 8443, protocol: 6}", "").replace(
        "- addresses: x\n  notReadyAddresses: [{ip: 10.0.0.5}]\n", ""))
    assert findings == []
    (subset,) = cluster.endpoints["team", "web"].subsets
    assert subset.addresses == (EndpointAddress("10.0.0.1", "n1", True), EndpointAddress("10.0.0.2", None, True),
                                EndpointAddress("10.0.0.3", "n3", True), EndpointAddress("10.0.0.4", "n4", False))
    assert subset.ports == (EndpointPort("http", 8080, "TCP"),)


def test_endpoints_one_malformed_address_among_good_ones():
    """The short path takes a list whole or not at all: the good addresses appear once, in order."""
    cluster, findings = load(ENDPOINTS)
    first, second = cluster.endpoints["team", "web"].subsets
    assert first.addresses == (EndpointAddress("10.0.0.1", "n1", True), EndpointAddress("10.0.0.2", None, True),
                               EndpointAddress("10.0.0.3", "n3", True), EndpointAddress("10.0.0.4", "n4", False))
    assert first.ports == (EndpointPort("http", 8080, "TCP"), EndpointPort("", 8443, "TCP"))
    assert second.addresses == (EndpointAddress("10.0.0.5", None, False),)
    assert findings == [
        "m.yaml:8:5: K8S002 Endpoints team/web: address needs an ip",
        "m.yaml:12:44: K8S002 Endpoints team/web: subsets[0].ports[1].port must be from 1 to 65535",
        "m.yaml:12:71: K8S002 Endpoints team/web: subsets[0].ports[2].protocol must be a string",
        "m.yaml:13:14: K8S002 Endpoints team/web: subsets[1].addresses must be a list",
    ]


def test_endpoints_address_types_the_short_path_refuses():
    text = ENDPOINTS.replace("  - {nodeName: n1}\n", "  - {ip: 10.0.0.9, nodeName: 9}\n  - 10.0.0.8\n")
    cluster, findings = load(text)
    assert cluster.endpoints["team", "web"].subsets[0].addresses[2] == EndpointAddress("10.0.0.9", None, True)
    assert findings[:2] == ["m.yaml:8:30: K8S002 Endpoints team/web: subsets[0].addresses[2].nodeName must be a string",
                            "m.yaml:9:5: K8S002 Endpoints team/web: address needs an ip"]


INGRESS = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: team}
spec:
  ingressClassName: f5
  rules:
  - host: a.example.com
    http:
      paths:
      - path: /a
        backend: {service: {name: svc-a, port: {number: 80}}}
      - path: /b
        backend: {service: {name: 7, port: {number: 80}}}
      - path: /c
        backend: {service: x}
      - path: /d
        backend: {service: {name: svc-d, port: [80]}}
      - path: /e
        backend: {service: {name: svc-e, port: {name: http}}}
      - backend: {serviceName: 7, servicePort: 80}
      - backend: {serviceName: svc-f, servicePort: "8080"}
  - host: b.example.com
    http: x
  - host: 5
    http: {paths: x}
"""


def test_ingress_backends_and_paths():
    cluster, findings = load(INGRESS)
    (ingress,) = cluster.ingresses
    assert ingress.class_name == "f5"
    assert [(r.host, [(p.path, p.backend.service, p.backend.port) for p in r.paths]) for r in ingress.rules] == [
        ("a.example.com", [("/a", "svc-a", 80), ("/e", "svc-e", "http"), ("", "svc-f", 8080)]),
        ("b.example.com", []), ("", [])]
    assert findings == [  # one finding for each mistyped name (the short path must not add a second)
        "m.yaml:13:35: K8S002 Ingress team/shop: spec.rules[0].http.paths[1].backend.service.name must be a string",
        "m.yaml:15:28: K8S002 Ingress team/shop: missing spec.rules[0].http.paths[2].backend.service.name",
        "m.yaml:17:48: K8S002 Ingress team/shop: spec.rules[0].http.paths[3].backend.service.port must be a mapping",
        "m.yaml:20:32: K8S002 Ingress team/shop: spec.rules[0].http.paths[5].backend.serviceName must be a string",
        "m.yaml:24:11: K8S002 Ingress team/shop: spec.rules[2].host must be a string",
        "m.yaml:25:19: K8S002 Ingress team/shop: spec.rules[2].http.paths must be a list",
    ]


def test_marker_is_the_first_f5_key_in_sorted_order():
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: {z: '1'}\n"
            "  annotations: {virtual-server.f5.com/z: '1', cis.f5.com/b: '2', virtual-server.f5.com/a: '3'}\n")
    cluster, _ = load(text)
    assert [m for _, m in cluster.marked] == ["annotation cis.f5.com/b"]


def test_load_still_exports_what_other_modules_import():
    assert F5_CONTROLLER == "f5.com/cntr-ingress-svcs"
    assert "networking.k8s.io/v1" in INGRESS_API_VERSIONS
    cluster = Cluster()
    findings: list = []
    add_cluster_objects(cluster, documents(SERVICE.format(namespace="a", labels="{}")), findings, mark=False)
    assert list(cluster.services) == [("a", "web")] and findings == []
    assert list(load_cluster(documents(SERVICE.format(namespace="a", labels="{}")))[0].services) == [("a", "web")]


def test_endpoints_address_that_is_not_a_mapping():
    text = ("apiVersion: v1\nkind: Endpoints\nmetadata: {name: web, namespace: team}\n"
            "subsets:\n- addresses: [{ip: 10.0.0.6}, 10.0.0.8, [10.0.0.7]]\n")
    cluster, findings = load(text)
    assert cluster.endpoints["team", "web"].subsets[0].addresses == (EndpointAddress("10.0.0.6", None, True),)
    assert findings == ["m.yaml:5:31: K8S002 Endpoints team/web: address needs an ip",
                        "m.yaml:5:41: K8S002 Endpoints team/web: address needs an ip"]
