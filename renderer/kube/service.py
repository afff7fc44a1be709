"""Service, Endpoints and EndpointSlice documents -> views: a Service's ports and where its pods are.

Snapshots carry an Endpoints object per Service with many addresses, so a well-formed address (a
mapping with a string ip, and a string nodeName or none) and a well-formed port are read directly;
the careful reading, which alone makes findings, is for everything else.
"""

from __future__ import annotations

from typing import Any

from renderer.errors import Finding
from renderer.kube.objects import (
    EndpointAddress,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    EndpointSubset,
    ObjectMeta,
    Service,
    ServicePort,
    endpoint_address,
)
from renderer.kube.reader import Reader, port_number


def read_service(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Service:
    r = Reader(meta.doc, meta.base, findings, f"Service {meta.ident}")
    spec = r.one(data, "spec", dict, {})
    ports = []
    for i, p in enumerate(r.one(spec, "ports", list, [], at=("spec",))):
        if not isinstance(p, dict):
            r.bad(("spec", "ports", i), "each port must be a mapping")
            continue
        port = port_number(r, p, ("port",), ("spec", "ports", i), required=True)
        if port is None:
            continue
        target = p.get("targetPort")
        if isinstance(target, bool) or not isinstance(target, (int, str, type(None))):
            r.bad(("spec", "ports", i, "targetPort"), "targetPort must be a number or a name")
            target = None
        elif isinstance(target, int):
            target = port_number(r, p, ("targetPort",), ("spec", "ports", i))
        ports.append(ServicePort(
            name=r.one(p, "name", str, "", at=("spec", "ports", i)), port=port, target_port=target,
            node_port=port_number(r, p, ("nodePort",), ("spec", "ports", i)),
            protocol=r.one(p, "protocol", str, "TCP", at=("spec", "ports", i))))
    cluster_ip = r.one(spec, "clusterIP", str, "", at=("spec",))
    return Service(meta, r.one(spec, "type", str, "ClusterIP", at=("spec",)), cluster_ip == "None", tuple(ports),
                   r.one(spec, "loadBalancerClass", str, at=("spec",)))


def read_endpoints(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Endpoints:
    r = Reader(meta.doc, meta.base, findings, f"Endpoints {meta.ident}")
    subsets = []
    for i, s in enumerate(r.one(data, "subsets", list, [])):
        if not isinstance(s, dict):
            r.bad(("subsets", i), "each subset must be a mapping")
            continue
        addrs: list[EndpointAddress] = []
        for key, ready in (("addresses", True), ("notReadyAddresses", False)):
            raw = r.one(s, key, list, [], at=("subsets", i))
            if not _plain_addresses(raw, addrs, ready):
                _careful_addresses(r, raw, ("subsets", i, key), addrs, ready)
        subsets.append(EndpointSubset(tuple(addrs), _ports(r, s.get("ports"), ("subsets", i, "ports"))))
    return Endpoints(meta, tuple(subsets))


def _plain_addresses(raw: list, addrs: list[EndpointAddress], ready: bool) -> bool:
    """Append every address when all are well-formed (and return True); otherwise append none."""
    out = []
    append, make = out.append, endpoint_address  # 10 addresses per Endpoints, 1,000s of Endpoints
    for a in raw:
        if type(a) is not dict:
            return False
        ip, node = a.get("ip"), a.get("nodeName")
        if type(ip) is not str or (node is not None and type(node) is not str):
            return False
        append(make(ip, node, ready))
    addrs += out
    return True


def _careful_addresses(r: Reader, raw: list, keys: tuple[str | int, ...], addrs: list[EndpointAddress],
                       ready: bool) -> None:
    for j, a in enumerate(raw):
        if isinstance(a, dict):  # a well-formed address among malformed ones
            ip, node = a.get("ip"), a.get("nodeName")
            if isinstance(ip, str) and (node is None or isinstance(node, str)):
                addrs.append(EndpointAddress(ip, node, ready))
                continue
        ip = r.get(a, ("ip",), str, at=(*keys, j)) if isinstance(a, dict) else None
        if ip is None:
            if not (isinstance(a, dict) and a.get("ip") is not None):  # a mistyped ip has its finding
                r.bad((*keys, j), "address needs an ip")
            continue
        addrs.append(EndpointAddress(ip, r.get(a, ("nodeName",), str, at=(*keys, j)), ready))


def _ports(r: Reader, raw: Any, keys: tuple[str | int, ...]) -> tuple[EndpointPort, ...]:
    ports = []
    for i, p in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(p, dict):
            r.bad((*keys, i), "each port must be a mapping")
            continue
        port = port_number(r, p, ("port",), (*keys, i))
        if port is not None:
            ports.append(EndpointPort(r.one(p, "name", str, "", at=(*keys, i)), port,
                                      r.one(p, "protocol", str, "TCP", at=(*keys, i))))
    return tuple(ports)


def read_slice(meta: ObjectMeta, data: dict, findings: list[Finding]) -> EndpointSlice:
    r = Reader(meta.doc, meta.base, findings, f"EndpointSlice {meta.ident}")
    addrs = []
    for i, e in enumerate(r.one(data, "endpoints", list, [])):
        if not isinstance(e, dict):
            r.bad(("endpoints", i), "each endpoint must be a mapping")
            continue
        at = ("endpoints", i)
        ready = r.get(e, ("conditions", "ready"), bool, True, at=at)
        node = r.one(e, "nodeName", str, at=at)
        for ip in r.one(e, "addresses", list, [], at=at):
            if isinstance(ip, str):
                addrs.append(EndpointAddress(ip, node, ready))
    return EndpointSlice(
        meta, meta.labels.get("kubernetes.io/service-name"), r.one(data, "addressType", str, "IPv4"),
        EndpointSubset(tuple(addrs), _ports(r, data.get("ports"), ("ports",))))
