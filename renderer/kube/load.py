"""Documents -> typed Kubernetes views, with a finding for every malformed field.

Kinds rendering does not use (Deployments, RBAC, ...) are accepted and ignored; a document
that is not a Kubernetes object at all (no apiVersion/kind) is an error. This module keeps the
index (`Cluster`) and the dispatch by kind; each kind's reader lives in its own module
(renderer/kube/ingress.py, service.py, route.py, node.py, data.py; metadata in meta.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from renderer.errors import Finding, Severity
from renderer.kube.crd import VIEW, CustomResources
from renderer.kube.crd_schema import CRD_API_VERSION, CRD_GROUP, validate_spec
from renderer.kube.data import read_configmap, read_secret
from renderer.kube.ingress import F5_CONTROLLER, INGRESS_API_VERSIONS, read_ingress, read_ingress_class
from renderer.kube.markers import f5_marker
from renderer.kube.meta import read_meta
from renderer.kube.node import read_block_affinity, read_node
from renderer.kube.objects import (
    BlockAffinity,
    ConfigMap,
    Endpoints,
    EndpointSlice,
    Ingress,
    IngressClass,
    Node,
    ObjectMeta,
    Route,
    Secret,
    Service,
)
from renderer.kube.route import read_route
from renderer.kube.service import read_endpoints, read_service, read_slice
from renderer.source import Document

__all__ = ["F5_CONTROLLER", "INGRESS_API_VERSIONS", "Cluster", "add_cluster_objects", "load_cluster"]


@dataclass
class Cluster:
    """Everything read from the manifests and the snapshot, indexed for rendering."""

    ingresses: list[Ingress] = field(default_factory=list)
    ingress_classes: dict[str, IngressClass] = field(default_factory=dict)
    services: dict[tuple[str, str], Service] = field(default_factory=dict)
    endpoints: dict[tuple[str, str], Endpoints] = field(default_factory=dict)
    slices: dict[tuple[str, str], list[EndpointSlice]] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    secrets: dict[tuple[str, str], Secret] = field(default_factory=dict)
    configmaps: list[ConfigMap] = field(default_factory=list)
    crds: CustomResources = field(default_factory=CustomResources)
    routes: list[Route] = field(default_factory=list)
    # manifest objects with an F5 marker (renderer.kube.markers), for the "nothing silent" check
    marked: list[tuple[ObjectMeta, str]] = field(default_factory=list)
    block_affinities: list[BlockAffinity] = field(default_factory=list)
    # several clusters (clusters: in as3-gitops.yaml): (name, that cluster's snapshot objects);
    # the Services are the manifests' (shared), the endpoints and nodes each cluster's own
    members_from: list[tuple[str, Cluster]] = field(default_factory=list)
    seen: dict[tuple[str, str, str], Any] = field(default_factory=dict)  # (kind, namespace, name) of list kinds

    def endpoints_for(self, namespace: str, name: str) -> Endpoints | None:
        """Slices win over Endpoints when both exist for a Service."""
        slices = self.slices.get((namespace, name))
        if slices:
            first = slices[0]
            return Endpoints(first.meta, tuple(s.subset for s in slices), from_slices=True)
        return self.endpoints.get((namespace, name))


def load_cluster(documents: Iterable[Document], *, snapshot: bool = False) -> tuple[Cluster, list[Finding]]:
    """Index the documents by kind. `snapshot` marks documents from paths.snapshot."""
    cluster = Cluster()
    findings: list[Finding] = []
    add_cluster_objects(cluster, documents, findings)
    return cluster, findings


def add_cluster_objects(cluster: Cluster, documents: Iterable[Document], findings: list[Finding], *,
                        mark: bool = True) -> None:
    """Add the objects of `documents`; with `mark`, remember those with an F5 marker (manifests, not snapshot)."""
    for doc in documents:
        data = doc.data
        if isinstance(data, dict):
            kind = data.get("kind")
            if not (isinstance(kind, str) and kind.endswith("List") and isinstance(data.get("items"), list)):
                _add_object(cluster, doc, (), data, findings, mark)  # one object, the common case
                continue
            for i, item in enumerate(data["items"]):
                _add_object(cluster, doc, ("items", i), item, findings, mark)
        else:
            _add_object(cluster, doc, (), data, findings, mark)


def _add_object(cluster: Cluster, doc: Document, base: tuple[str | int, ...], data: Any, findings: list[Finding],
                mark: bool) -> None:
    if not isinstance(data, dict):
        findings.append(Finding("K8S001", "not a Kubernetes object: expected a mapping",
                                doc.locate(*base), hint="every manifest document needs apiVersion and kind"))
        return
    meta = read_meta(doc, base, data, findings)
    if meta is None:
        return
    add = _ADDERS.get(meta.kind)
    if add is not None:
        add(cluster, meta, data, findings)
    elif meta.kind in VIEW and meta.api_version.split("/")[0] == CRD_GROUP:
        _custom_resource(cluster, meta, data, findings)
    if mark and (marker := f5_marker(meta, data)) is not None:
        cluster.marked.append((meta, marker))


def _add_ingress(cluster: Cluster, meta: ObjectMeta, data: dict, findings: list[Finding]) -> None:
    ing = read_ingress(meta, data, findings)
    if ing and _first(cluster, ing, findings):
        cluster.ingresses.append(ing)


def _add_ingress_class(cluster: Cluster, meta: ObjectMeta, data: dict, findings: list[Finding]) -> None:
    cluster.ingress_classes[meta.name] = read_ingress_class(meta, data, findings)


def _add_service(cluster: Cluster, meta: ObjectMeta, data: dict, findings: list[Finding]) -> None:
    _unique(cluster.services, (meta.namespace, meta.name), read_service(meta, data, findings), findings)


def _add_endpoints(cluster: Cluster, meta: ObjectMeta, data: dict, findings: list[Finding]) -> None:
    _unique(cluster.endpoints, (meta.namespace, meta.name), read_endpoints(meta, data, findings), findings)


def _add_slice(cluster: Cluster, meta: ObjectMeta, data: dict, findings: list[Finding]) -> None:
    sl = read_slice(meta, data, findings)
    if sl.service:
        cluster.slices.setdefault((meta.namespace, sl.service), []).append(sl)
    else:
        findings.append(Finding("K8S005", f"EndpointSlice {meta.ident} has no kubernetes.io/service-name "
                                "label and is ignored", meta.locate("metadata"), Severity.WARNING))


def _add_node(cluster: Cluster, meta: ObjectMeta, data: dict, findings: list[Finding]) -> None:
    _unique(cluster.nodes, meta.name, read_node(meta, data, findings), findings)


def _add_secret(cluster: Cluster, meta: ObjectMeta, data: dict, findings: list[Finding]) -> None:
    _unique(cluster.secrets, (meta.namespace, meta.name), read_secret(meta, data, findings), findings)


def _add_configmap(cluster: Cluster, meta: ObjectMeta, data: dict, findings: list[Finding]) -> None:
    cm = read_configmap(meta, data, findings)
    if _first(cluster, cm, findings):
        cluster.configmaps.append(cm)


def _add_route(cluster: Cluster, meta: ObjectMeta, data: dict, findings: list[Finding]) -> None:
    if not meta.api_version.startswith("route.openshift.io/"):
        return  # another group's Route kind: not ours to read
    route = read_route(meta, data, findings)
    if route and _first(cluster, route, findings):
        cluster.routes.append(route)


def _add_block_affinity(cluster: Cluster, meta: ObjectMeta, data: dict, findings: list[Finding]) -> None:
    cluster.block_affinities.append(read_block_affinity(meta, data, findings))


# kind -> how its objects are read and indexed (CIS custom resources: by VIEW and API group instead)
_ADDERS: dict[str, Callable[[Cluster, ObjectMeta, dict, list[Finding]], None]] = {
    "Ingress": _add_ingress,
    "IngressClass": _add_ingress_class,
    "Service": _add_service,
    "Endpoints": _add_endpoints,
    "EndpointSlice": _add_slice,
    "Node": _add_node,
    "Secret": _add_secret,
    "ConfigMap": _add_configmap,
    "Route": _add_route,
    "BlockAffinity": _add_block_affinity,
}


def _first(cluster: Cluster, obj: Any, findings: list[Finding]) -> bool:
    """Ingresses, ConfigMaps and Routes are kept in lists: a second object of one kind/namespace/name is refused."""
    key = (obj.meta.kind, obj.meta.namespace, obj.meta.name)
    previous = cluster.seen.get(key)
    if previous is None:
        cluster.seen[key] = obj
        return True
    _unique({key: previous}, key, obj, findings)
    return False


def _custom_resource(cluster: Cluster, meta: ObjectMeta, data: dict, findings: list[Finding]) -> None:
    """A CIS custom resource: checked against its CRD's schema, then indexed by kind."""
    if meta.api_version != CRD_API_VERSION:
        findings.append(Finding("CRD004", f"{meta.kind} {meta.ident}: apiVersion {meta.api_version} is not "
                                f"served by CIS 2.20", meta.locate("apiVersion"), hint=f"use {CRD_API_VERSION}"))
        cluster.crds.rejected.append(meta)
        return
    spec = data.get("spec", {})
    if not validate_spec(meta, spec, findings):
        cluster.crds.rejected.append(meta)
        return
    view = VIEW[meta.kind](meta, spec)
    previous = cluster.crds.add(view)
    if previous is not None:
        findings.append(Finding(
            "K8S006", f"duplicate {meta.kind} {meta.ident} (also at {previous.meta.location})",
            meta.location, hint="each object may be defined once across manifests and snapshot"))


def _unique(index: dict, key: Any, obj: Any, findings: list[Finding]) -> None:
    previous = index.get(key)
    if previous is not None:
        findings.append(Finding(
            "K8S006", f"duplicate {obj.meta.kind} {obj.meta.ident} (also at {previous.meta.location})",
            obj.meta.location, hint="each object may be defined once across manifests and snapshot"))
        return
    index[key] = obj
