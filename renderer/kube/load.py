"""Documents -> typed Kubernetes views, with a finding for every malformed field.

Kinds rendering does not use (Deployments, RBAC, ...) are accepted and ignored; a document
that is not a Kubernetes object at all (no apiVersion/kind) is an error.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from renderer.errors import Finding, Severity
from renderer.kube.crd import VIEW, CustomResources
from renderer.kube.crd_schema import CRD_API_VERSION, CRD_GROUP, validate_spec
from renderer.kube.markers import f5_marker
from renderer.kube.naming import name_problem, namespace_problem, shown
from renderer.kube.objects import (
    BackendRef,
    BlockAffinity,
    ConfigMap,
    EndpointAddress,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    EndpointSubset,
    Ingress,
    IngressClass,
    IngressPath,
    IngressRule,
    IngressTLS,
    Node,
    ObjectMeta,
    Route,
    RouteBackend,
    RouteTLS,
    Secret,
    Service,
    ServicePort,
)
from renderer.source import Document

INGRESS_API_VERSIONS = ("networking.k8s.io/v1", "networking.k8s.io/v1beta1", "extensions/v1beta1")
F5_CONTROLLER = "f5.com/cntr-ingress-svcs"


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


class _Reader:
    """Typed access to one object's fields; wrong types become findings, not exceptions."""

    def __init__(self, doc: Document, base: tuple[str | int, ...], findings: list[Finding], what: str):
        self.doc = doc
        self.base = base
        self.findings = findings
        self.what = what

    def bad(self, keys: Sequence[str | int], message: str, code: str = "K8S002") -> None:
        self.findings.append(Finding(code, f"{self.what}: {message}", self.doc.locate(*self.base, *keys)))

    def get(self, obj: Any, keys: Sequence[str | int], typ: type | tuple[type, ...], default: Any = None,
            *, required: bool = False) -> Any:
        value = obj
        for key in keys:
            if isinstance(value, dict) and isinstance(key, str):
                if key not in value:
                    value = None
                    break
                value = value[key]
            elif isinstance(value, list) and isinstance(key, int) and key < len(value):
                value = value[key]
            else:
                value = None
                break
        if value is None:
            if required:
                self.bad(keys[:-1] if len(keys) > 1 else keys, f"missing {'.'.join(map(str, keys))}")
            return default
        if typ is int and isinstance(value, bool):
            value = None
        if not isinstance(value, typ):
            names = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
            self.bad(keys, f"{'.'.join(map(str, keys))} must be {_ARTICLE.get(names, names)}")
            return default
        return value


_ARTICLE = {"str": "a string", "int": "an integer", "dict": "a mapping", "list": "a list",
            "int/str": "a number or a name", "bool": "true or false"}


def _string_map(reader: _Reader, obj: Any, keys: Sequence[str]) -> dict[str, str]:
    raw = reader.get(obj, keys, dict, {})
    out: dict[str, str] = {}
    for k, v in raw.items():
        if not isinstance(k, str) or isinstance(v, (dict, list)):
            reader.bad([*keys, str(k)], f"{'.'.join(keys)} values must be strings")
            continue
        # Kubernetes stores annotations and labels as strings; YAML may have typed them.
        out[k] = "true" if v is True else "false" if v is False else "" if v is None else str(v)
    return out


def _meta(doc: Document, base: tuple[str | int, ...], data: dict, findings: list[Finding]) -> ObjectMeta | None:
    kind = data.get("kind")
    api = data.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api, str) or not kind or not api:
        missing = [k for k, v in (("apiVersion", api), ("kind", kind)) if not isinstance(v, str) or not v]
        findings.append(Finding(
            "K8S001", f"not a Kubernetes object: missing or invalid {' and '.join(missing)}",
            doc.locate(*base), hint="every manifest document needs apiVersion and kind"))
        return None
    reader = _Reader(doc, base, findings, kind)
    meta = reader.get(data, ["metadata"], dict, {})
    name = reader.get(meta, ["name"], str, "")
    if not name:
        findings.append(Finding("K8S003", f"{kind} without metadata.name", doc.locate(*base, "metadata")))
        return None
    cluster_scoped = kind in ("Node", "IngressClass")
    namespace = "" if cluster_scoped else reader.get(meta, ["namespace"], str, "default") or "default"
    problem = name_problem(kind, name)
    if problem:
        findings.append(Finding("NAME010", f"{kind} name {shown(name)} {problem}",
                                doc.locate(*base, "metadata", "name"), hint="Kubernetes refuses this name"))
        return None
    problem = None if cluster_scoped else namespace_problem(namespace)
    if problem and (kind in _CHECKED_KINDS or kind in VIEW):
        findings.append(Finding("NAME011", f"{kind} {shown(name)}: namespace {shown(namespace)} {problem}",
                                doc.locate(*base, "metadata", "namespace"),
                                hint="Kubernetes refuses this namespace name"))
        return None
    return ObjectMeta(
        kind=kind, api_version=api, namespace=namespace, name=name,
        labels=_string_map(reader, data, ["metadata", "labels"]),
        annotations=_string_map(reader, data, ["metadata", "annotations"]),
        doc=doc, base=base,
    )


_CHECKED_KINDS = frozenset({"Ingress", "ConfigMap", "Secret", "Service", "Endpoints", "EndpointSlice", "Route"})


def _backend(reader: _Reader, raw: Any, keys: tuple[str | int, ...]) -> BackendRef | None:
    if not isinstance(raw, dict):
        reader.bad(keys, "backend must be a mapping")
        return None
    if "service" in raw:  # networking.k8s.io/v1
        name = reader.get(raw, ["service", "name"], str, required=True)
        port = reader.get(raw, ["service", "port"], dict, {})
        number = reader.get(port, ["number"], int)
        pname = reader.get(port, ["name"], str)
        ref: int | str | None = number if number is not None else pname
        if name and ref is None:
            reader.bad([*keys, "service", "port"], "backend service port needs number or name")
    else:  # v1beta1
        name = reader.get(raw, ["serviceName"], str, required=True)
        ref = raw.get("servicePort")
        if isinstance(ref, bool) or not isinstance(ref, (int, str)):
            reader.bad([*keys, "servicePort"], "servicePort must be a number or a name")
            ref = None
        elif isinstance(ref, str) and ref.isdigit():
            ref = int(ref)
    if not name or ref is None:
        return None
    return BackendRef(name, ref, keys)


def _ingress(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Ingress | None:
    if meta.api_version not in INGRESS_API_VERSIONS:
        findings.append(Finding("K8S004", f"Ingress apiVersion {meta.api_version} is not supported",
                                meta.locate("apiVersion"), hint=f"use one of {', '.join(INGRESS_API_VERSIONS)}"))
        return None
    r = _Reader(meta.doc, meta.base, findings, f"Ingress {meta.ident}")
    spec = r.get(data, ["spec"], dict, {})
    default_raw = spec.get("defaultBackend", spec.get("backend"))
    default_key = "defaultBackend" if "defaultBackend" in spec else "backend"
    default = _backend(r, default_raw, ("spec", default_key)) if default_raw is not None else None
    rules = []
    for i, rule in enumerate(r.get(spec, ["rules"], list, [])):
        if not isinstance(rule, dict):
            r.bad(["spec", "rules", i], "each rule must be a mapping")
            continue
        host = r.get(rule, ["host"], str, "")
        paths = []
        for j, p in enumerate(r.get(rule, ["http", "paths"], list, [])):
            keys = ("spec", "rules", i, "http", "paths", j)
            if not isinstance(p, dict):
                r.bad(keys, "each path must be a mapping")
                continue
            path = r.get(p, ["path"], str, "")
            backend = _backend(r, p.get("backend"), (*keys, "backend"))
            if backend:
                paths.append(IngressPath(path, backend))
        rules.append(IngressRule(host, tuple(paths)))
    tls = []
    for i, entry in enumerate(r.get(spec, ["tls"], list, [])):
        if not isinstance(entry, dict):
            r.bad(["spec", "tls", i], "each tls entry must be a mapping")
            continue
        hosts = tuple(h for h in r.get(entry, ["hosts"], list, []) if isinstance(h, str))
        tls.append(IngressTLS(hosts, r.get(entry, ["secretName"], str)))
    return Ingress(
        meta=meta,
        class_annotation=meta.annotations.get("kubernetes.io/ingress.class"),
        class_name=r.get(spec, ["ingressClassName"], str),
        default_backend=default,
        rules=tuple(rules),
        tls=tuple(tls),
    )


ROUTE_API_VERSIONS = ("route.openshift.io/v1",)
TERMINATIONS = ("edge", "reencrypt", "passthrough")
INSECURE_POLICIES = ("", "Allow", "Redirect", "None")


def _route(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Route | None:
    if meta.api_version not in ROUTE_API_VERSIONS:
        findings.append(Finding("K8S004", f"Route apiVersion {meta.api_version} is not supported",
                                meta.locate("apiVersion"), hint="use route.openshift.io/v1"))
        return None
    r = _Reader(meta.doc, meta.base, findings, f"Route {meta.ident}")
    spec = r.get(data, ["spec"], dict, {})
    backends = []
    to = r.get(spec, ["to"], dict, {})
    name = r.get(to, ["name"], str)
    if not name:
        r.bad(["spec", "to"], "spec.to.name (the Service) is required")
        return None
    def weight(raw: dict, keys: tuple[str | int, ...]) -> int:
        value = r.get(raw, ["weight"], int, 100)
        if not 0 <= value <= 256:
            r.bad([*keys, "weight"], "weight must be from 0 to 256")
            return 100
        return value

    backends.append(RouteBackend(name, weight(to, ("spec", "to")), ("spec", "to")))
    for i, alt in enumerate(r.get(spec, ["alternateBackends"], list, [])):
        alt_name = r.get(alt, ["name"], str) if isinstance(alt, dict) else None
        if not alt_name:
            r.bad(["spec", "alternateBackends", i], "each alternate backend needs a name")
            continue
        keys = ("spec", "alternateBackends", i)
        backends.append(RouteBackend(alt_name, weight(alt, keys), keys))
    target = r.get(spec, ["port", "targetPort"], (int, str))
    if isinstance(target, str) and target.isdigit():
        target = int(target)
    tls = None
    raw_tls = r.get(spec, ["tls"], dict)
    if raw_tls is not None:
        termination = r.get(raw_tls, ["termination"], str, "")
        policy = r.get(raw_tls, ["insecureEdgeTerminationPolicy"], str, "")
        if termination not in TERMINATIONS:
            r.bad(["spec", "tls", "termination"], f"tls.termination must be one of {', '.join(TERMINATIONS)}")
            return None
        if policy not in INSECURE_POLICIES:
            r.bad(["spec", "tls", "insecureEdgeTerminationPolicy"],
                  "insecureEdgeTerminationPolicy must be Allow, Redirect or None")
            return None
        tls = RouteTLS(termination, r.get(raw_tls, ["certificate"], str), r.get(raw_tls, ["key"], str),
                       r.get(raw_tls, ["caCertificate"], str), r.get(raw_tls, ["destinationCACertificate"], str),
                       policy)
    return Route(meta, r.get(spec, ["host"], str, ""), r.get(spec, ["path"], str, ""), tuple(backends), target, tls)


def _service(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Service:
    r = _Reader(meta.doc, meta.base, findings, f"Service {meta.ident}")
    spec = r.get(data, ["spec"], dict, {})
    ports = []
    for i, p in enumerate(r.get(spec, ["ports"], list, [])):
        if not isinstance(p, dict):
            r.bad(["spec", "ports", i], "each port must be a mapping")
            continue
        port = _port_number(r, p, ["port"], ("spec", "ports", i), required=True)
        if port is None:
            continue
        target = p.get("targetPort")
        if isinstance(target, bool) or not isinstance(target, (int, str, type(None))):
            r.bad(["spec", "ports", i, "targetPort"], "targetPort must be a number or a name")
            target = None
        elif isinstance(target, int):
            target = _port_number(r, p, ["targetPort"], ("spec", "ports", i))
        ports.append(ServicePort(
            name=r.get(p, ["name"], str, ""), port=port, target_port=target,
            node_port=_port_number(r, p, ["nodePort"], ("spec", "ports", i)),
            protocol=r.get(p, ["protocol"], str, "TCP")))
    cluster_ip = r.get(spec, ["clusterIP"], str, "")
    return Service(meta, r.get(spec, ["type"], str, "ClusterIP"), cluster_ip == "None", tuple(ports),
                   r.get(spec, ["loadBalancerClass"], str))


def _port_number(r: _Reader, obj: Any, keys: list[str], where: tuple[str | int, ...],
                 required: bool = False) -> int | None:
    """A port as Kubernetes accepts it: an integer from 1 to 65535 (a finding, not a crash, for 10**30)."""
    port = r.get(obj, keys, int, required=required)
    if port is not None and not 1 <= port <= 65535:
        r.bad([*where, *keys], f"{'.'.join(keys)} must be from 1 to 65535")
        return None
    return port


def _ports(r: _Reader, raw: Any, keys: tuple[str | int, ...]) -> tuple[EndpointPort, ...]:
    ports = []
    for i, p in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(p, dict):
            r.bad([*keys, i], "each port must be a mapping")
            continue
        port = _port_number(r, p, ["port"], (*keys, i))
        if port is not None:
            ports.append(EndpointPort(r.get(p, ["name"], str, ""), port, r.get(p, ["protocol"], str, "TCP")))
    return tuple(ports)


def _endpoints(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Endpoints:
    r = _Reader(meta.doc, meta.base, findings, f"Endpoints {meta.ident}")
    subsets = []
    for i, s in enumerate(r.get(data, ["subsets"], list, [])):
        if not isinstance(s, dict):
            r.bad(["subsets", i], "each subset must be a mapping")
            continue
        addrs = []
        for key, ready in (("addresses", True), ("notReadyAddresses", False)):
            for j, a in enumerate(r.get(s, [key], list, [])):
                if isinstance(a, dict):  # the common, well-formed address without the reader's generic walk
                    ip, node = a.get("ip"), a.get("nodeName")
                    if isinstance(ip, str) and (node is None or isinstance(node, str)):
                        addrs.append(EndpointAddress(ip, node, ready))
                        continue
                ip = r.get(a, ["ip"], str) if isinstance(a, dict) else None
                if ip is None:
                    r.bad(["subsets", i, key, j], "address needs an ip")
                    continue
                addrs.append(EndpointAddress(ip, r.get(a, ["nodeName"], str), ready))
        subsets.append(EndpointSubset(tuple(addrs), _ports(r, s.get("ports"), ("subsets", i, "ports"))))
    return Endpoints(meta, tuple(subsets))


def _slice(meta: ObjectMeta, data: dict, findings: list[Finding]) -> EndpointSlice:
    r = _Reader(meta.doc, meta.base, findings, f"EndpointSlice {meta.ident}")
    addrs = []
    for i, e in enumerate(r.get(data, ["endpoints"], list, [])):
        if not isinstance(e, dict):
            r.bad(["endpoints", i], "each endpoint must be a mapping")
            continue
        ready = r.get(e, ["conditions", "ready"], bool, True)
        node = r.get(e, ["nodeName"], str)
        for ip in r.get(e, ["addresses"], list, []):
            if isinstance(ip, str):
                addrs.append(EndpointAddress(ip, node, ready))
    return EndpointSlice(
        meta, meta.labels.get("kubernetes.io/service-name"), r.get(data, ["addressType"], str, "IPv4"),
        EndpointSubset(tuple(addrs), _ports(r, data.get("ports"), ("ports",))))


def _node(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Node:
    r = _Reader(meta.doc, meta.base, findings, f"Node {meta.name}")
    addresses = []
    for a in r.get(data, ["status", "addresses"], list, []):
        if isinstance(a, dict) and isinstance(a.get("type"), str) and isinstance(a.get("address"), str):
            addresses.append((a["type"], a["address"]))
    ready: bool | None = None
    for c in r.get(data, ["status", "conditions"], list, []):
        if isinstance(c, dict) and c.get("type") == "Ready":
            ready = c.get("status") == "True"
    cidrs = [c for c in r.get(data, ["spec", "podCIDRs"], list, []) if isinstance(c, str)]
    single = r.get(data, ["spec", "podCIDR"], str)
    if single and single not in cidrs:
        cidrs.insert(0, single)
    return Node(meta, tuple(addresses), ready, tuple(cidrs))


def _secret(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Secret:
    r = _Reader(meta.doc, meta.base, findings, f"Secret {meta.ident}")
    decoded: dict[str, str] = {}
    for key, value in r.get(data, ["data"], dict, {}).items():
        if not isinstance(value, str):
            r.bad(["data", str(key)], "Secret data values must be base64 strings")
            continue
        try:
            decoded[str(key)] = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            # kubectl would refuse it; it only matters (as an error) where an Ingress uses the Secret
            findings.append(Finding("K8S007", f"Secret {meta.ident}: data.{key} is not valid base64 text; ignored",
                                    meta.locate("data", str(key)), Severity.WARNING))
    for key, value in r.get(data, ["stringData"], dict, {}).items():
        if isinstance(value, str):
            decoded[str(key)] = value
    return Secret(meta, r.get(data, ["type"], str, "Opaque"), decoded)


def _configmap(meta: ObjectMeta, data: dict, findings: list[Finding]) -> ConfigMap:
    r = _Reader(meta.doc, meta.base, findings, f"ConfigMap {meta.ident}")
    return ConfigMap(meta, _string_map(r, data, ["data"]))


def _objects(doc: Document) -> Iterable[tuple[tuple[str | int, ...], Any]]:
    data = doc.data
    if isinstance(data, dict) and isinstance(data.get("kind"), str) and data["kind"].endswith("List") \
            and isinstance(data.get("items"), list):
        for i, item in enumerate(data["items"]):
            yield ("items", i), item
    else:
        yield (), data


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
        for base, data in _objects(doc):
            if not isinstance(data, dict):
                findings.append(Finding("K8S001", "not a Kubernetes object: expected a mapping",
                                        doc.locate(*base), hint="every manifest document needs apiVersion and kind"))
                continue
            meta = _meta(doc, base, data, findings)
            if meta is None:
                continue
            _add(cluster, meta, data, findings)
            if mark and (marker := f5_marker(meta, data)) is not None:
                cluster.marked.append((meta, marker))


def _add(cluster: Cluster, meta: ObjectMeta, data: dict, findings: list[Finding]) -> None:
    kind = meta.kind
    key = (meta.namespace, meta.name)
    if kind == "Ingress":
        ing = _ingress(meta, data, findings)
        if ing and _first(cluster, ing, findings):
            cluster.ingresses.append(ing)
    elif kind == "IngressClass":
        r = _Reader(meta.doc, meta.base, findings, f"IngressClass {meta.name}")
        cluster.ingress_classes[meta.name] = IngressClass(
            meta, r.get(data, ["spec", "controller"], str, ""),
            meta.annotations.get("ingressclass.kubernetes.io/is-default-class") == "true")
    elif kind == "Service":
        _unique(cluster.services, key, _service(meta, data, findings), findings)
    elif kind == "Endpoints":
        _unique(cluster.endpoints, key, _endpoints(meta, data, findings), findings)
    elif kind == "EndpointSlice":
        sl = _slice(meta, data, findings)
        if sl.service:
            cluster.slices.setdefault((meta.namespace, sl.service), []).append(sl)
        else:
            findings.append(Finding("K8S005", f"EndpointSlice {meta.ident} has no kubernetes.io/service-name "
                                    "label and is ignored", meta.locate("metadata"), Severity.WARNING))
    elif kind == "Node":
        _unique(cluster.nodes, meta.name, _node(meta, data, findings), findings)
    elif kind == "Secret":
        _unique(cluster.secrets, key, _secret(meta, data, findings), findings)
    elif kind == "ConfigMap":
        cm = _configmap(meta, data, findings)
        if _first(cluster, cm, findings):
            cluster.configmaps.append(cm)
    elif kind in VIEW and meta.api_version.split("/")[0] == CRD_GROUP:
        _custom_resource(cluster, meta, data, findings)
    elif kind == "Route" and meta.api_version.startswith("route.openshift.io/"):
        route = _route(meta, data, findings)
        if route and _first(cluster, route, findings):
            cluster.routes.append(route)
    elif kind == "BlockAffinity":
        r = _Reader(meta.doc, meta.base, findings, f"BlockAffinity {meta.name}")
        cluster.block_affinities.append(BlockAffinity(meta, r.get(data, ["spec", "node"], str, ""),
                                                      r.get(data, ["spec", "cidr"], str, "")))


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
