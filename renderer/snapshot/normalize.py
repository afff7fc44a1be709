"""Raw Nodes / Endpoints / EndpointSlices (kubectl or API JSON) -> minimal, deterministic objects.

Raw objects carry fields that change on every read (resourceVersion, managedFields, heartbeat
times, uids). Committed as they are, they bury the one real change of a capture in noise. This
module keeps exactly what rendering reads (see `renderer.kube.load`) and orders everything, so
capturing an unchanged cluster twice gives identical objects.

Type checking of the fields rendering reads is left to `renderer.kube.load.load_cluster`, which
the caller runs first; here a field of an unexpected type is simply not copied.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from renderer.source import Document

NODE = "Node"
ENDPOINTS = "Endpoints"
SLICE = "EndpointSlice"
BLOCK_AFFINITY = "BlockAffinity"  # Calico's pod address blocks (static-route mode, cni calico-k8s)
KINDS = (BLOCK_AFFINITY, ENDPOINTS, SLICE, NODE)  # sort order of objects: by kind name
CLUSTER_SCOPED = (NODE, BLOCK_AFFINITY)
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
FLANNEL_PREFIX = "flannel.alpha.coreos.com/"
# node annotations static-route mode reads (renderer/mapping/routes.py): Cilium, OVN-Kubernetes, Calico
ROUTE_ANNOTATIONS = ("network.cilium.io/ipv4-pod-cidr", "io.cilium.network.ipv4-pod-cidr", "k8s.ovn.org/node-subnets",
                     "k8s.ovn.org/node-primary-ifaddr", "projectcalico.org/IPv4Address")
NODE_ADDRESS_TYPES = ("InternalIP", "ExternalIP")


@dataclass(frozen=True)
class RawObject:
    """One object as listed, with the document it came from (for error locations)."""

    data: dict[str, Any]
    doc: Document
    base: tuple[str | int, ...] = ()


def raw_objects(documents: Iterable[Document]) -> list[RawObject]:
    """Every object in the documents, unwrapping `kind: List` (kubectl -o yaml) and `*List` pages."""
    out: list[RawObject] = []
    for doc in documents:
        data = doc.data
        if isinstance(data, dict) and str(data.get("kind", "")).endswith("List") \
                and isinstance(data.get("items"), list):
            for i, item in enumerate(data["items"]):
                if isinstance(item, dict):
                    out.append(RawObject(item, doc, ("items", i)))
        elif isinstance(data, dict):
            out.append(RawObject(data, doc))
    return out


def ip_sort_key(text: str) -> tuple[int, int, str]:
    """IPv4 before IPv6, numeric within a family; anything unparsable last, by text."""
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return (99, 0, text)
    return (addr.version, int(addr), text)


def object_key(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata", {})
    return (obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _target_ref(raw: Any) -> dict[str, str] | None:
    ref = {k: v for k, v in _dict(raw).items() if k in ("kind", "name", "namespace") and isinstance(v, str)}
    return ref or None


def _ports(raw: Any) -> list[dict[str, Any]]:
    ports = []
    for p in _list(raw):
        port = _dict(p).get("port")
        if not isinstance(port, int) or isinstance(port, bool):
            continue
        entry: dict[str, Any] = {"port": port, "protocol": _str(p.get("protocol")) or "TCP"}
        if _str(p.get("name")):
            entry["name"] = p["name"]
        ports.append(entry)
    return sorted(ports, key=lambda e: (e.get("name", ""), e["port"], e["protocol"]))


def _meta(data: dict[str, Any], namespaced: bool) -> dict[str, str]:
    meta = _dict(data.get("metadata"))
    out = {"name": meta.get("name", "")}
    if namespaced:
        out["namespace"] = _str(meta.get("namespace")) or "default"
    return out


def normalize_node(data: dict[str, Any]) -> dict[str, Any]:
    """Name, InternalIP/ExternalIP (API order kept: the first of a type is the one used), pod CIDRs,
    the Ready condition's status, the flannel annotations and those static-route mode reads."""
    meta = _meta(data, namespaced=False)
    annotations = {k: v for k, v in _dict(_dict(data.get("metadata")).get("annotations")).items()
                   if isinstance(k, str) and (k.startswith(FLANNEL_PREFIX) or k in ROUTE_ANNOTATIONS)
                   and isinstance(v, str)}
    if annotations:
        meta["annotations"] = annotations  # type: ignore[assignment]
    out: dict[str, Any] = {"apiVersion": _str(data.get("apiVersion")) or "v1", "kind": NODE, "metadata": meta}
    spec_in = _dict(data.get("spec"))
    spec: dict[str, Any] = {}
    if _str(spec_in.get("podCIDR")):
        spec["podCIDR"] = spec_in["podCIDR"]
    cidrs = [c for c in _list(spec_in.get("podCIDRs")) if isinstance(c, str)]
    if cidrs:
        spec["podCIDRs"] = cidrs  # order is meaningful (primary family first): kept
    if spec:
        out["spec"] = spec
    status_in = _dict(data.get("status"))
    status: dict[str, Any] = {}
    addresses = [{"address": a["address"], "type": a["type"]} for a in _list(status_in.get("addresses"))
                 if isinstance(a, dict) and a.get("type") in NODE_ADDRESS_TYPES and _str(a.get("address"))]
    if addresses:
        status["addresses"] = addresses
    ready = [c for c in _list(status_in.get("conditions")) if isinstance(c, dict) and c.get("type") == "Ready"]
    if ready and isinstance(ready[-1].get("status"), str):
        status["conditions"] = [{"status": ready[-1]["status"], "type": "Ready"}]
    if status:
        out["status"] = status
    return out


def _endpoint_addresses(raw: Any) -> list[dict[str, Any]]:
    out = []
    for a in _list(raw):
        ip = _str(_dict(a).get("ip"))
        if ip is None:
            continue
        entry: dict[str, Any] = {"ip": ip}
        if _str(a.get("nodeName")):
            entry["nodeName"] = a["nodeName"]
        ref = _target_ref(a.get("targetRef"))
        if ref:
            entry["targetRef"] = ref
        out.append(entry)
    return sorted(out, key=lambda e: (ip_sort_key(e["ip"]), e.get("nodeName", "")))


def normalize_endpoints(data: dict[str, Any]) -> dict[str, Any]:
    """Subsets with ready and not-ready addresses (sorted numerically) and ports."""
    subsets = []
    for s in _list(data.get("subsets")):
        if not isinstance(s, dict):
            continue
        subset: dict[str, Any] = {}
        for key in ("addresses", "notReadyAddresses"):
            addrs = _endpoint_addresses(s.get(key))
            if addrs:
                subset[key] = addrs
        ports = _ports(s.get("ports"))
        if ports:
            subset["ports"] = ports
        if subset:
            subsets.append(subset)
    subsets.sort(key=_subset_key)
    out: dict[str, Any] = {"apiVersion": "v1", "kind": ENDPOINTS, "metadata": _meta(data, namespaced=True)}
    if subsets:
        out["subsets"] = subsets
    return out


def _subset_key(subset: dict[str, Any]) -> tuple:
    ports = tuple((p.get("name", ""), p["port"], p["protocol"]) for p in subset.get("ports", []))
    ips = tuple(ip_sort_key(a["ip"]) for key in ("addresses", "notReadyAddresses") for a in subset.get(key, []))
    return (ports, ips)


def normalize_slice(data: dict[str, Any]) -> dict[str, Any]:
    """addressType, endpoints (addresses, ready, nodeName, targetRef), ports, the service-name label."""
    meta = _meta(data, namespaced=True)
    service = _str(_dict(_dict(data.get("metadata")).get("labels")).get(SERVICE_NAME_LABEL))
    if service:
        meta["labels"] = {SERVICE_NAME_LABEL: service}  # type: ignore[assignment]
    endpoints = []
    for e in _list(data.get("endpoints")):
        if not isinstance(e, dict):
            continue
        addrs = sorted((a for a in _list(e.get("addresses")) if isinstance(a, str)), key=ip_sort_key)
        if not addrs:
            continue
        entry: dict[str, Any] = {"addresses": addrs}
        ready = _dict(e.get("conditions")).get("ready")
        if isinstance(ready, bool):
            entry["conditions"] = {"ready": ready}
        if _str(e.get("nodeName")):
            entry["nodeName"] = e["nodeName"]
        ref = _target_ref(e.get("targetRef"))
        if ref:
            entry["targetRef"] = ref
        endpoints.append(entry)
    endpoints.sort(key=lambda e: ([ip_sort_key(a) for a in e["addresses"]], e.get("nodeName", "")))
    out: dict[str, Any] = {
        "addressType": _str(data.get("addressType")) or "IPv4",
        "apiVersion": _str(data.get("apiVersion")) or "discovery.k8s.io/v1",
        "kind": SLICE,
        "metadata": meta,
    }
    if endpoints:
        out["endpoints"] = endpoints
    ports = _ports(data.get("ports"))
    if ports:
        out["ports"] = ports
    return out


def normalize_block_affinity(data: dict[str, Any]) -> dict[str, Any]:
    """Name, node and cidr (and the state Calico keeps, e.g. confirmed) of a Calico BlockAffinity."""
    spec_in = _dict(data.get("spec"))
    spec = {k: spec_in[k] for k in ("cidr", "node", "state") if _str(spec_in.get(k))}
    return {"apiVersion": _str(data.get("apiVersion")) or "crd.projectcalico.org/v1", "kind": BLOCK_AFFINITY,
            "metadata": _meta(data, namespaced=False), "spec": spec}


_NORMALIZERS = {NODE: normalize_node, ENDPOINTS: normalize_endpoints, SLICE: normalize_slice,
                BLOCK_AFFINITY: normalize_block_affinity}


def normalize(data: dict[str, Any]) -> dict[str, Any] | None:
    """The minimal form of one object, or None for kinds the snapshot does not hold."""
    fn = _NORMALIZERS.get(data.get("kind", ""))  # type: ignore[arg-type]
    return fn(data) if fn else None


def service_of(obj: dict[str, Any]) -> tuple[str, str] | None:
    """(namespace, Service name) an Endpoints or EndpointSlice belongs to; None for Nodes."""
    meta = obj["metadata"]
    if obj["kind"] == ENDPOINTS:
        return (meta["namespace"], meta["name"])
    if obj["kind"] == SLICE:
        service = meta.get("labels", {}).get(SERVICE_NAME_LABEL)
        return (meta["namespace"], service) if service else None
    return None


def select(objects: Iterable[dict[str, Any]], *, services: set[tuple[str, str]] | None,
           namespaces: set[str] | None) -> list[dict[str, Any]]:
    """Nodes always; Endpoints/Slices of `services` (None: all) within `namespaces` (None: all).
    Slices without a service-name label are dropped: rendering cannot use them."""
    kept = []
    for obj in objects:
        if obj["kind"] in CLUSTER_SCOPED:
            kept.append(obj)
            continue
        owner = service_of(obj)
        if owner is None:
            continue
        if namespaces is not None and owner[0] not in namespaces:
            continue
        if services is not None and owner not in services:
            continue
        kept.append(obj)
    return sorted(kept, key=object_key)
