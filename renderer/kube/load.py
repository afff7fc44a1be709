"""Documents -> typed Kubernetes views, with a finding for every malformed field.

Kinds rendering does not use (Deployments, RBAC, ...) are accepted and ignored; a document
that is not a Kubernetes object at all (no apiVersion/kind) is an error. This module keeps the
index (`Cluster`) and the dispatch by kind; each kind's reader lives in its own module
(renderer/kube/ingress.py, service.py, route.py, node.py, data.py; metadata in meta.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # view_cache imports this module
    from renderer.kube.view_cache import ViewCache

__all__ = ["F5_CONTROLLER", "INDEX", "INGRESS_API_VERSIONS", "Cluster", "Columns", "add_cluster_objects",
           "add_document", "load_cluster", "read_again", "replay", "replay_columns"]


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
                        mark: bool = True, views: ViewCache | None = None) -> None:
    """Add the objects of `documents`; with `mark`, remember those with an F5 marker (manifests, not snapshot).

    `views` (renderer.kube.view_cache): files whose reading is stored are replayed from there, and
    the others are read and recorded for the next run."""
    if views is not None:
        views.add_objects(cluster, documents, findings, mark)
        return
    for doc in documents:
        add_document(cluster, doc, findings, mark)


# What reading one object left: the findings it made, (collection, view) to index or None, the meta
# (None: not an object) and its F5 marker. Reading is a function of the document alone; indexing
# (duplicates across files) depends on what came before, so a replay indexes again.
Added = tuple[str, Any] | None  # (collection in INDEX, view), or nothing to index
Read = tuple[tuple[Finding, ...], Added, ObjectMeta | None, str | None]


def add_document(cluster: Cluster, doc: Document, findings: list[Finding], mark: bool,
                 record: list[Read] | None = None) -> None:
    """The objects of one document (one, or the items of a `kind: List`); `record` gets what each read left."""
    data = doc.data
    if isinstance(data, dict):
        kind = data.get("kind")
        if not (isinstance(kind, str) and kind.endswith("List") and isinstance(data.get("items"), list)):
            _add_object(cluster, doc, (), data, findings, mark, record)  # one object, the common case
            return
        for i, item in enumerate(data["items"]):
            _add_object(cluster, doc, ("items", i), item, findings, mark, record)
    else:
        _add_object(cluster, doc, (), data, findings, mark, record)


def replay(cluster: Cluster, reads: Iterable[Read], findings: list[Finding], mark: bool) -> None:
    """Index recorded reads as `add_document` would have: the same findings, in the same order."""
    for made, added, meta, marker in reads:
        if made:
            findings.extend(made)
        if added is not None:
            INDEX[added[0]](cluster, added[1], findings)
        if mark and marker is not None:
            cluster.marked.append((meta, marker))  # type: ignore[arg-type]


# Reads without findings as columns (renderer.kube.view_cache): collection (None: nothing to index),
# view, meta and F5 marker of each object, in file order.
Columns = tuple[list[str | None], list[Any], list[ObjectMeta], list[str | None]]


def replay_columns(cluster: Cluster, collections: list[str | None], views: list[Any], metas: list[ObjectMeta],
                   markers: list[str | None], findings: list[Finding], mark: bool) -> None:
    """`replay` for reads kept as columns. A file of one collection whose objects are all new to the
    cluster (the common case) is indexed in one step (`_BATCH`): no duplicate, so no finding, and
    each table gains its objects in file order, as read by read would."""
    kinds = set(collections)
    batch = _BATCH.get(kinds.pop()) if len(kinds) == 1 else None  # type: ignore[arg-type]
    if batch is None or not batch(cluster, views, metas):
        index = INDEX
        for collection, view in zip(collections, views, strict=True):
            if collection is not None:
                index[collection](cluster, view, findings)
    if mark and markers.count(None) != len(markers):
        cluster.marked.extend([(meta, marker) for meta, marker in zip(metas, markers, strict=True)
                               if marker is not None])


def read_again(view: Any, names: tuple[str, ...]) -> tuple[Any, ...]:
    """The fields `names` of `view` as reading its object's document makes them: the view cache's way
    to fill fields it left for later when its stored part will not decode (reading is a function of
    the document; a stand-in document loads its data on the way)."""
    meta = view.meta
    data = meta.doc.data
    for key in meta.base:
        data = data[key]
    added = _READERS[meta.kind](meta, data, [])
    if added is None or type(added[1]) is not type(view):
        raise RuntimeError(f"{meta.doc.path}: {meta.kind} {meta.ident} reads into another view than was stored")
    fresh = added[1]
    return tuple(getattr(fresh, name) for name in names)


def _add_object(cluster: Cluster, doc: Document, base: tuple[str | int, ...], data: Any, findings: list[Finding],
                mark: bool, record: list[Read] | None) -> None:
    start = len(findings)
    if not isinstance(data, dict):
        findings.append(Finding("K8S001", "not a Kubernetes object: expected a mapping",
                                doc.locate(*base), hint="every manifest document needs apiVersion and kind"))
        if record is not None:
            record.append((tuple(findings[start:]), None, None, None))
        return
    meta = read_meta(doc, base, data, findings)
    if meta is None:
        if record is not None:
            record.append((tuple(findings[start:]), None, None, None))
        return
    read = _READERS.get(meta.kind)
    added = None
    if read is not None:
        added = read(meta, data, findings)
    elif meta.kind in VIEW and meta.api_version.split("/")[0] == CRD_GROUP:
        added = _read_custom_resource(meta, data, findings)
    marker = f5_marker(meta, data) if mark or record is not None else None
    if record is not None:
        record.append((tuple(findings[start:]), added, meta, marker))
    if added is not None:
        INDEX[added[0]](cluster, added[1], findings)
    if mark and marker is not None:
        cluster.marked.append((meta, marker))


def _read_ingress(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Added:
    ing = read_ingress(meta, data, findings)
    return ("ingress", ing) if ing else None


def _read_ingress_class(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Added:
    return "ingress_class", read_ingress_class(meta, data, findings)


def _read_service(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Added:
    return "service", read_service(meta, data, findings)


def _read_endpoints(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Added:
    return "endpoints", read_endpoints(meta, data, findings)


def _read_slice(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Added:
    sl = read_slice(meta, data, findings)
    if sl.service:
        return "slice", sl
    findings.append(Finding("K8S005", f"EndpointSlice {meta.ident} has no kubernetes.io/service-name "
                            "label and is ignored", meta.locate("metadata"), Severity.WARNING))
    return None


def _read_node(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Added:
    return "node", read_node(meta, data, findings)


def _read_secret(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Added:
    return "secret", read_secret(meta, data, findings)


def _read_configmap(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Added:
    return "configmap", read_configmap(meta, data, findings)


def _read_route(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Added:
    if not meta.api_version.startswith("route.openshift.io/"):
        return None  # another group's Route kind: not ours to read
    route = read_route(meta, data, findings)
    return ("route", route) if route else None


def _read_block_affinity(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Added:
    return "block_affinity", read_block_affinity(meta, data, findings)


def _read_custom_resource(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Added:
    """A CIS custom resource: checked against its CRD's schema (else only remembered as rejected)."""
    if meta.api_version != CRD_API_VERSION:
        findings.append(Finding("CRD004", f"{meta.kind} {meta.ident}: apiVersion {meta.api_version} is not "
                                f"served by CIS 2.20", meta.locate("apiVersion"), hint=f"use {CRD_API_VERSION}"))
        return "crd_rejected", meta
    spec = data.get("spec", {})
    if not validate_spec(meta, spec, findings):
        return "crd_rejected", meta
    return "crd", VIEW[meta.kind](meta, spec)


# kind -> how its objects are read (CIS custom resources: by VIEW and API group instead)
_READERS: dict[str, Callable[[ObjectMeta, dict, list[Finding]], Added]] = {
    "Ingress": _read_ingress,
    "IngressClass": _read_ingress_class,
    "Service": _read_service,
    "Endpoints": _read_endpoints,
    "EndpointSlice": _read_slice,
    "Node": _read_node,
    "Secret": _read_secret,
    "ConfigMap": _read_configmap,
    "Route": _read_route,
    "BlockAffinity": _read_block_affinity,
}


def _index_ingress_class(cluster: Cluster, view: IngressClass, findings: list[Finding]) -> None:
    cluster.ingress_classes[view.meta.name] = view


def _index_slice(cluster: Cluster, view: EndpointSlice, findings: list[Finding]) -> None:
    cluster.slices.setdefault((view.meta.namespace, view.service), []).append(view)  # type: ignore[arg-type]


def _in_list(attribute: str) -> Callable[[Cluster, Any, list[Finding]], None]:
    """Ingresses, ConfigMaps and Routes are kept in lists: a second object of one kind/namespace/name is refused."""
    def index(cluster: Cluster, view: Any, findings: list[Finding]) -> None:
        if _first(cluster, view, findings):
            getattr(cluster, attribute).append(view)
    return index


def _in_table(attribute: str, by_name: bool = False) -> Callable[[Cluster, Any, list[Finding]], None]:
    def index(cluster: Cluster, view: Any, findings: list[Finding]) -> None:
        key = view.meta.name if by_name else (view.meta.namespace, view.meta.name)
        _unique(getattr(cluster, attribute), key, view, findings)
    return index


def _index_custom_resource(cluster: Cluster, view: Any, findings: list[Finding]) -> None:
    previous = cluster.crds.add(view)
    if previous is not None:
        findings.append(Finding(
            "K8S006", f"duplicate {view.meta.kind} {view.meta.ident} (also at {previous.meta.location})",
            view.meta.location, hint="each object may be defined once across manifests and snapshot"))


# collection -> how a read object is indexed (what may find it a duplicate of an earlier one)
INDEX: dict[str, Callable[[Cluster, Any, list[Finding]], None]] = {
    "ingress": _in_list("ingresses"),
    "ingress_class": _index_ingress_class,
    "service": _in_table("services"),
    "endpoints": _in_table("endpoints"),
    "slice": _index_slice,
    "node": _in_table("nodes", by_name=True),
    "secret": _in_table("secrets"),
    "configmap": _in_list("configmaps"),
    "route": _in_list("routes"),
    "block_affinity": lambda cluster, view, findings: cluster.block_affinities.append(view),
    "crd": _index_custom_resource,
    "crd_rejected": lambda cluster, meta, findings: cluster.crds.rejected.append(meta),
}


_KIND, _NAMESPACE, _NAME = attrgetter("kind"), attrgetter("namespace"), attrgetter("name")


def _batch_table(attribute: str, by_name: bool = False) -> Callable[[Cluster, list[Any], list[ObjectMeta]], bool]:
    """`_in_table`'s indexing of a whole file at once, when no key is taken (else False, nothing done)."""
    def batch(cluster: Cluster, views: list[Any], metas: list[ObjectMeta]) -> bool:
        keys = map(_NAME, metas) if by_name else zip(map(_NAMESPACE, metas), map(_NAME, metas), strict=True)
        new = dict(zip(keys, views, strict=True))
        table = getattr(cluster, attribute)
        if len(new) != len(views) or not table.keys().isdisjoint(new):
            return False
        table.update(new)
        return True
    return batch


def _batch_list(attribute: str) -> Callable[[Cluster, list[Any], list[ObjectMeta]], bool]:
    """`_in_list`'s indexing of a whole file at once, when every object is the first of its name."""
    def batch(cluster: Cluster, views: list[Any], metas: list[ObjectMeta]) -> bool:
        new = dict(zip(zip(map(_KIND, metas), map(_NAMESPACE, metas), map(_NAME, metas), strict=True), views,
                       strict=True))
        seen = cluster.seen
        if len(new) != len(views) or not seen.keys().isdisjoint(new):
            return False
        seen.update(new)
        getattr(cluster, attribute).extend(views)
        return True
    return batch


# collection -> its indexing of a whole file of new objects (the others go read by read)
_BATCH: dict[str, Callable[[Cluster, list[Any], list[ObjectMeta]], bool]] = {
    "ingress": _batch_list("ingresses"),
    "service": _batch_table("services"),
    "endpoints": _batch_table("endpoints"),
    "node": _batch_table("nodes", by_name=True),
    "secret": _batch_table("secrets"),
    "configmap": _batch_list("configmaps"),
    "route": _batch_list("routes"),
}


def _first(cluster: Cluster, obj: Any, findings: list[Finding]) -> bool:
    """Whether `obj` is the first of its kind/namespace/name (else a duplicate finding)."""
    key = (obj.meta.kind, obj.meta.namespace, obj.meta.name)
    previous = cluster.seen.get(key)
    if previous is None:
        cluster.seen[key] = obj
        return True
    _unique({key: previous}, key, obj, findings)
    return False


def _unique(index: dict, key: Any, obj: Any, findings: list[Finding]) -> None:
    previous = index.get(key)
    if previous is not None:
        findings.append(Finding(
            "K8S006", f"duplicate {obj.meta.kind} {obj.meta.ident} (also at {previous.meta.location})",
            obj.meta.location, hint="each object may be defined once across manifests and snapshot"))
        return
    index[key] = obj
