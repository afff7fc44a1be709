"""A mistyped field's finding points at that field and names its whole path, at any depth.

The readers get nested mappings (`spec`, a rule, a port) and read keys relative to them; the
finding must still say where the field is in the file. Before, a nested field's finding pointed
at the document's first line and named only the last key (`number must be an integer`, 10:1).

Each case takes a well-formed object of a kind the renderer reads, replaces one scalar leaf with a
value of another type and requires that every K8S002 finding it causes sits on the line of the
replaced value and names the path to it.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from kube_docs import documents

from renderer.kube.load import load_cluster
from renderer.kube.reader import dotted

OBJECTS = {
    "Ingress": {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "shop", "namespace": "team", "annotations": {"virtual-server.f5.com/ip": "10.0.0.1"}},
        "spec": {
            "ingressClassName": "f5",
            "defaultBackend": {"service": {"name": "fallback", "port": {"number": 80}}},
            "rules": [{"host": "a.example.com", "http": {"paths": [
                {"path": "/a", "pathType": "Prefix", "backend": {"service": {"name": "a", "port": {"number": 80}}}},
                {"path": "/b", "pathType": "Prefix", "backend": {"service": {"name": "b", "port": {"name": "http"}}}},
            ]}}],
            "tls": [{"hosts": ["a.example.com"], "secretName": "cert"}],
        },
    },
    "IngressV1beta1": {
        "apiVersion": "extensions/v1beta1", "kind": "Ingress",
        "metadata": {"name": "old", "namespace": "team"},
        "spec": {"rules": [{"host": "b.example.com", "http": {"paths": [
            {"path": "/", "backend": {"serviceName": "web", "servicePort": 80}}]}}]},
    },
    "Service": {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "team"},
        "spec": {"type": "NodePort", "clusterIP": "10.96.0.10", "loadBalancerClass": "x",
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080, "protocol": "TCP"}]},
    },
    "Endpoints": {
        "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "team"},
        "subsets": [{"addresses": [{"ip": "10.244.1.5", "nodeName": "n1"}],
                     "notReadyAddresses": [{"ip": "10.244.1.6", "nodeName": "n2"}],
                     "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}],
    },
    "EndpointSlice": {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "web-abc", "namespace": "team", "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.244.1.5"], "nodeName": "n1", "conditions": {"ready": True}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    },
    "Route": {
        "apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": {"name": "r", "namespace": "team"},
        "spec": {"host": "r.example.com", "path": "/", "to": {"kind": "Service", "name": "web", "weight": 50},
                 "alternateBackends": [{"kind": "Service", "name": "web2", "weight": 50}],
                 "port": {"targetPort": 8080},
                 "tls": {"termination": "edge", "certificate": "c", "key": "k", "caCertificate": "ca",
                         "insecureEdgeTerminationPolicy": "Redirect"}},
    },
    "Secret": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "team"},
               "type": "Opaque", "stringData": {"a": "b"}},
    "Node": {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
             "spec": {"podCIDR": "10.244.1.0/24"},
             "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.1"}]}},
}


def _leaves(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return [path]


def _replaced(obj: Any, path: tuple[str | int, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    if isinstance(obj, dict):
        return {k: _replaced(v, tuple(rest), new) if k == head else v for k, v in obj.items()}
    return [_replaced(v, tuple(rest), new) if i == head else v for i, v in enumerate(obj)]


def _line_of(text: str, marker: str) -> int:
    (line,) = [i + 1 for i, row in enumerate(text.splitlines()) if marker in row]
    return line


CASES = [(kind, path) for kind, obj in OBJECTS.items() for path in _leaves(obj)
         if (len(path) >= 2 and path[0] != "metadata") or (path[:1] == ("metadata",) and len(path) == 2)]


def test_every_kind_has_nested_leaves() -> None:
    assert {kind for kind, path in CASES if len(path) >= 3} == set(OBJECTS) - {"Secret"}


@pytest.mark.parametrize(("kind", "path"), CASES, ids=[f"{k}:{dotted(p)}" for k, p in CASES])
def test_a_mistyped_nested_field_is_found_where_it_is(kind: str, path: tuple[str | int, ...]) -> None:
    original = OBJECTS[kind]
    leaf: Any = original
    for key in path:
        leaf = leaf[key]
    # a string where a number or flag was, a number where a string was: always the wrong type
    wrong = "wrong-type-marker" if not isinstance(leaf, str) else 424242
    text = "# a comment line, so that the document does not start at the file's first line\n" + yaml.safe_dump(
        _replaced(original, path, wrong), sort_keys=False, default_flow_style=False)
    _, found = load_cluster(documents(text))
    typed = [f for f in found if f.code == "K8S002"]
    line = _line_of(text, str(wrong))
    for finding in typed:
        assert finding.location is not None
        assert finding.location.line == line, (finding, text)
        assert any(dotted(path[:n]) in finding.message for n in range(len(path), 0, -1)), finding.message
    # the cases where a finding is the only right answer (a field read with a type) must make one
    if (kind, path) in MUST_FIND:
        assert typed, text


MUST_FIND = {
    ("Ingress", ("spec", "ingressClassName")),
    ("Ingress", ("spec", "rules", 0, "host")),
    ("Ingress", ("spec", "rules", 0, "http", "paths", 0, "path")),
    ("Ingress", ("spec", "rules", 0, "http", "paths", 0, "backend", "service", "name")),
    ("Ingress", ("spec", "rules", 0, "http", "paths", 0, "backend", "service", "port", "number")),
    ("Ingress", ("spec", "rules", 0, "http", "paths", 1, "backend", "service", "port", "name")),
    ("Ingress", ("spec", "tls", 0, "secretName")),
    ("Ingress", ("spec", "defaultBackend", "service", "port", "number")),
    ("IngressV1beta1", ("spec", "rules", 0, "http", "paths", 0, "backend", "serviceName")),
    ("Service", ("spec", "type")),
    ("Service", ("spec", "ports", 0, "port")),
    ("Service", ("spec", "ports", 0, "protocol")),
    ("Service", ("spec", "ports", 0, "nodePort")),
    ("Endpoints", ("subsets", 0, "addresses", 0, "nodeName")),
    ("Endpoints", ("subsets", 0, "ports", 0, "port")),
    ("Endpoints", ("subsets", 0, "ports", 0, "protocol")),
    ("EndpointSlice", ("endpoints", 0, "nodeName")),
    ("EndpointSlice", ("endpoints", 0, "conditions", "ready")),
    ("EndpointSlice", ("ports", 0, "port")),
    ("Route", ("spec", "to", "name")),
    ("Route", ("spec", "to", "weight")),
    ("Route", ("spec", "alternateBackends", 0, "weight")),
    ("Route", ("spec", "tls", "termination")),
    ("Route", ("spec", "tls", "certificate")),
    ("Node", ("spec", "podCIDR")),
    ("Ingress", ("metadata", "name")),
    ("Service", ("metadata", "namespace")),
}


def test_must_find_cases_exist() -> None:
    assert set(CASES) >= MUST_FIND



def _column_of(text: str, marker: str) -> int:
    return text.splitlines()[_line_of(text, marker) - 1].index(marker) + 1


def test_a_json_manifest_points_at_the_field_too() -> None:
    """JSON files are composed as YAML for positions (every field's finding used to point at 1:1)."""
    import json

    text = json.dumps(_replaced(OBJECTS["Service"], ("spec", "ports", 0, "port"), "eighty"), indent=2)
    _, found = load_cluster(documents(text, path="svc.json"))
    marker = '"eighty"'
    where = f"svc.json:{_line_of(text, marker)}:{_column_of(text, marker)}"
    assert [(f.code, str(f.location), f.message) for f in found] == [
        ("K8S002", where, "Service team/web: spec.ports[0].port must be an integer")]
