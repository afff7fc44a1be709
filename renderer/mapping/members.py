"""Pool members: pod IPs from the snapshot (cluster mode) or node IPs + nodePort (nodeport mode)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass

from renderer.config import Config
from renderer.errors import Finding, Origin, SourceLocation
from renderer.kube.load import Cluster
from renderer.kube.objects import Service, ServicePort
from renderer.model import Member


@dataclass(frozen=True)
class ResolvedBackend:
    service: Service
    port: ServicePort


_INET_ATON, _INET_NTOA = socket.inet_aton, socket.inet_ntoa


def ipv4_int(address: str) -> int | None:
    """A dotted-quad IPv4 address as an int, accepting exactly what ipaddress.IPv4Address accepts
    (4 ASCII-digit octets <= 255, no leading zeros); None for anything else. Called for every pod IP
    when members and ARPs are sorted (320,000 times at 10k Ingresses), so both steps are in C:
    inet_aton parses (it also takes `1.2`, `0x1.2.3.4`, `01.2.3.4`, trailing junk...) and the
    round trip through inet_ntoa, which spells every address one way, the canonical one, refuses
    every other spelling (tests/render/test_network.py compares it with ipaddress)."""
    try:
        packed = _INET_ATON(address)
    except (OSError, ValueError):  # ValueError: a NUL or an unencodable character
        return None
    return int.from_bytes(packed, "big") if _INET_NTOA(packed) == address else None


def ip_sort_key(address: str) -> tuple[int, int, str]:
    fast = ipv4_int(address)
    if fast is not None:
        return (4, fast, address)
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
        return (ip.version, int(ip), address)
    except ValueError:
        return (9, 0, address)


def resolve_backend(cluster: Cluster, namespace: str, service: str, port: int | str,
                    where: SourceLocation | Callable[[], SourceLocation], what: str,
                    findings: list[Finding]) -> ResolvedBackend | None:
    """`where` may be a callable: precise locations cost a re-parse with marks, so only findings pay it."""
    svc = cluster.services.get((namespace, service))
    if svc is None:
        findings.append(Finding(
            "ING020", f"{what}: backend Service {namespace}/{service} does not exist", _at(where),
            hint="add the Service to the manifests (or fix the name)"))
        return None
    sp = svc.port_for(port)
    if sp is None:
        have = ", ".join(f"{p.port}" + (f" ({p.name})" if p.name else "") for p in svc.ports) or "none"
        findings.append(Finding(
            "ING021", f"{what}: Service {namespace}/{service} has no port {port!r} (ports: {have})", _at(where),
            hint="use one of the Service's port numbers or names"))
        return None
    return ResolvedBackend(svc, sp)


def _at(where: SourceLocation | Callable[[], SourceLocation]) -> SourceLocation:
    return where() if callable(where) else where


def members_for(cluster: Cluster, config: Config, backend: ResolvedBackend,
                findings: list[Finding]) -> tuple[list[Member], list[Origin]]:
    """Members for one Service port, sorted by address; plus the snapshot objects they came from."""
    fn = _nodeport_members if config.bigip.pool_member_type == "nodeport" else _cluster_members
    if not cluster.members_from:
        return fn(cluster, config, backend, findings)
    return _from_clusters(cluster, config, backend, findings, fn)


def _from_clusters(cluster: Cluster, config: Config, backend: ResolvedBackend, findings: list[Finding],
                   fn) -> tuple[list[Member], list[Origin]]:
    """Several clusters: the Service's members in each, marked with the cluster. One address:port
    in two clusters is an error: the BIG-IP could reach only one of them."""
    members: dict[tuple[str, int], Member] = {}
    origins: list[Origin] = []
    for name, member_cluster in cluster.members_from:
        found, where = fn(member_cluster, config, backend, findings)
        origins += where
        for m in found:
            key = (m.address, m.port)
            if key in members:
                svc = backend.service.meta
                findings.append(Finding(
                    "TOPO011", f"Service {svc.ident}: endpoint {m.address}:{m.port} is in cluster "
                    f"{members[key].cluster} and in cluster {name}", where[0].location if where else svc.location,
                    hint="the clusters' pod (or node) networks overlap; give each cluster its own ranges"))
                continue
            m.cluster = name
            members[key] = m
    return sorted(members.values(), key=lambda m: (ip_sort_key(m.address), m.port)), origins


def _cluster_members(cluster: Cluster, config: Config, backend: ResolvedBackend,
                     findings: list[Finding]) -> tuple[list[Member], list[Origin]]:
    svc, sp = backend.service, backend.port
    eps = cluster.endpoints_for(svc.meta.namespace, svc.meta.name)
    if eps is None:
        return [], []
    origins: list[Origin] = []
    if eps.from_slices:
        origins = [s.meta.origin for s in cluster.slices[(svc.meta.namespace, svc.meta.name)]]
    else:
        origins = [eps.meta.origin]
    found: dict[tuple[str, int], Member] = {}
    for subset in eps.subsets:
        ports = [p for p in subset.ports if p.name == sp.name]
        if not ports and len(subset.ports) == 1 and not sp.name:
            ports = list(subset.ports)
        for port in ports:
            for addr in subset.addresses:
                if not addr.ready:
                    continue
                node = cluster.nodes.get(addr.node_name or "")
                # CIS drops endpoints on nodes that are not Ready, except for headless Services.
                if node is not None and not node.is_ready and not svc.headless:
                    continue
                found[(addr.ip, port.port)] = Member(addr.ip, port.port, addr.node_name)
    members = sorted(found.values(), key=lambda m: (ip_sort_key(m.address), m.port))
    return members, origins


def _nodeport_members(cluster: Cluster, config: Config, backend: ResolvedBackend,
                      findings: list[Finding]) -> tuple[list[Member], list[Origin]]:
    svc, sp = backend.service, backend.port
    if sp.node_port is None:
        findings.append(Finding(
            "ING022", f"Service {svc.meta.ident} port {sp.port} has no nodePort; nodeport mode needs a NodePort "
            "or LoadBalancer Service", svc.meta.locate("spec", "ports"), hint="set spec.type: NodePort"))
        return [], []
    bigip_node = config.vxlan.bigip_node if config.vxlan else "bigip"
    members = []
    origins = []
    for name in sorted(cluster.nodes):
        node = cluster.nodes[name]
        ip = node.address("InternalIP")
        if name == bigip_node or not node.is_ready or not ip:
            continue
        members.append(Member(ip, sp.node_port, name))
        origins.append(node.meta.origin)
    members.sort(key=lambda m: (ip_sort_key(m.address), m.port))
    return members, origins
