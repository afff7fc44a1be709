"""Cluster mode over flannel VXLAN: one FDB record per Ready node, one static ARP per pool-member pod IP.

Unlike CIS, a node that cannot be mapped costs only its own entries (CIS abandons every ARP update
when one pod's node lacks flannel annotations, k8s-bigip-ctlr#2168).
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from itertools import repeat
from operator import add, itemgetter

from renderer.config import Config
from renderer.errors import Finding, Origin, Severity, SourceLocation
from renderer.kube.load import Cluster
from renderer.kube.objects import Node
from renderer.mapping.members import ip_sort_key, ipv4_int
from renderer.mapping.tenant_facts import member_columns
from renderer.model import Arp, FdbRecord, Network, RawTenant, Tenant

BACKEND_DATA = "flannel.alpha.coreos.com/backend-data"
PUBLIC_IP = "flannel.alpha.coreos.com/public-ip"
_MAC_RX = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_INET_ATON, _INET_NTOA = socket.inet_aton, socket.inet_ntoa


def node_vtep(node: Node, findings: list[Finding]) -> str | None:
    """The node's VTEP MAC (lower case) from flannel's backend-data, or None (with a finding if malformed)."""
    raw = node.meta.annotations.get(BACKEND_DATA)
    if raw is None:
        return None
    def where() -> SourceLocation:  # a precise position re-composes the file: only findings pay for it
        return node.meta.locate("metadata", "annotations", BACKEND_DATA)

    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as err:  # ValueError: also ints beyond 4300 digits
        findings.append(Finding("NET010", f"Node {node.meta.name}: {BACKEND_DATA} is not valid JSON ({err})", where(),
                                hint='expected {"VtepMAC": "aa:bb:cc:dd:ee:ff"}'))
        return None
    mac = data.get("VtepMAC") if isinstance(data, dict) else None
    if not isinstance(mac, str):
        findings.append(Finding("NET010", f"Node {node.meta.name}: {BACKEND_DATA} has no VtepMAC", where(),
                                hint='expected {"VtepMAC": "aa:bb:cc:dd:ee:ff"}'))
        return None
    mac = mac.strip().lower()
    if not _MAC_RX.fullmatch(mac):
        findings.append(Finding("NET011", f"Node {node.meta.name}: VtepMAC {mac!r} is not a MAC address", where()))
        return None
    return mac


def _networks(node: Node, findings: list[Finding]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    nets = []
    for cidr in node.pod_cidrs:
        try:
            nets.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            findings.append(Finding("NET012", f"Node {node.meta.name}: podCIDR {cidr!r} is not a CIDR",
                                    node.meta.locate("spec")))
    return nets


def build_network(cluster: Cluster, config: Config, tenants: dict[str, Tenant], findings: list[Finding],
                  raw: dict[str, RawTenant] | None = None, cluster_name: str | None = None) -> Network:
    """FDB and ARPs for one cluster; with several clusters only its own members (`cluster_name`) get ARPs."""
    if config.bigip.pool_member_type == "nodeport":
        return Network("nodeport")
    if config.vxlan is None:
        findings.append(Finding("NET001", "poolMemberType is cluster but as3-gitops.yaml has no vxlan: section",
                                config.location, hint="add vxlan: (tunnel, profile, localAddress, selfIP, bigipNode) "
                                "or set bigip.poolMemberType: nodeport"))
        return Network("cluster")
    vx = config.vxlan
    if not vx.local_address or not vx.self_ip:
        findings.append(Finding("NET002", "vxlan: needs localAddress and selfIP", config.location,
                                hint="localAddress is the BIG-IP's underlay IP; selfIP its address on the pod network"))
    mac_of: dict[str, str] = {}
    records: dict[str, FdbRecord] = {}
    endpoints_seen: dict[str, str] = {}
    cidrs: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Node]] = []
    for name in sorted(cluster.nodes):
        node = cluster.nodes[name]
        nets = _networks(node, findings)
        for net in nets:
            if net.version == 6:
                findings.append(Finding("NET013", f"Node {name}: IPv6 podCIDR {net} is ignored (flannel IPv6 VXLAN is "
                                        "not supported)", node.meta.locate("spec"), Severity.WARNING))
                continue
            cidrs.append((net, node))
        mac = node_vtep(node, findings)
        if mac is None:
            if name != vx.bigip_node and BACKEND_DATA not in node.meta.annotations:
                findings.append(Finding("NET014", f"Node {name} has no flannel annotations; no FDB record for it and "
                                        "no ARP for its pods", node.meta.location, Severity.WARNING))
            continue
        mac_of[name] = mac
        if name == vx.bigip_node or not node.is_ready:
            continue
        endpoint = node.meta.annotations.get(PUBLIC_IP) or node.address("InternalIP")
        if not endpoint:
            findings.append(Finding("NET015", f"Node {name} has neither {PUBLIC_IP} nor an InternalIP",
                                    node.meta.location, Severity.WARNING))
            continue
        if mac in records:
            findings.append(Finding("NET016", f"Node {name} has the same VtepMAC {mac} as another node",
                                    node.meta.locate("metadata", "annotations", BACKEND_DATA)))
            continue
        if endpoint in endpoints_seen:
            findings.append(Finding("NET017", f"Node {name} has the same public IP {endpoint} as node "
                                    f"{endpoints_seen[endpoint]}", node.meta.location))
            continue
        endpoints_seen[endpoint] = name
        records[mac] = FdbRecord(mac, endpoint, [node.meta.origin])
    _check_cidrs(cidrs, config, findings)
    arps = _arps(cluster, tenants, mac_of, cidrs, findings, raw or {}, cluster_name)
    fdb = sorted(records.values(), key=lambda r: r.mac)
    return Network("cluster", fdb, arps)


def _overlapping_pairs(cidrs) -> list[tuple[int, int]]:
    """Index pairs (i < j) of overlapping networks, in (i, j) order: a sweep over the sorted ranges
    instead of comparing every pair (1,000 nodes made 500,000 `overlaps` calls)."""
    ranges = sorted((int(net.network_address), int(net.broadcast_address), net.version, i)
                    for i, (net, _node) in enumerate(cidrs))
    pairs = []
    active: list[tuple[int, int, int]] = []  # (last address, version, index) of ranges that may still overlap
    for first, last, version, i in ranges:
        active = [a for a in active if a[0] >= first]
        pairs.extend((min(i, j), max(i, j)) for _last, v, j in active if v == version)
        active.append((last, version, i))
    return sorted(pairs)


def _check_cidrs(cidrs, config: Config, findings: list[Finding]) -> None:
    vx = config.vxlan
    for i, j in _overlapping_pairs(cidrs):
        (net, node), (other, onode) = cidrs[i], cidrs[j]
        if onode is not node:
            findings.append(Finding("NET018", f"podCIDR {net} of node {node.meta.name} overlaps {other} of node "
                                    f"{onode.meta.name}", node.meta.locate("spec"),
                                    hint="every node, the BIG-IP's included, needs its own pod subnet"))
    if vx is None or not vx.self_ip:
        return
    try:
        self_ip = ipaddress.ip_interface(vx.self_ip)
    except ValueError:
        findings.append(Finding("NET003", f"vxlan.selfIP {vx.self_ip!r} is not an address/prefix", config.location))
        return
    bigip_nets = [net for net, node in cidrs if node.meta.name == vx.bigip_node]
    if vx.pod_cidr:
        try:
            bigip_nets.append(ipaddress.ip_network(vx.pod_cidr, strict=False))
        except ValueError:
            findings.append(Finding("NET003", f"vxlan.podCIDR {vx.pod_cidr!r} is not a CIDR", config.location))
    if bigip_nets and not any(self_ip.ip in net for net in bigip_nets):
        findings.append(Finding("NET019", f"self IP {vx.self_ip} is outside the BIG-IP node's podCIDR "
                                f"{', '.join(map(str, bigip_nets))}: flannel will not route replies back to it",
                                config.location, Severity.WARNING))


def _arps(cluster: Cluster, tenants: dict[str, Tenant], mac_of: dict[str, str], cidrs, findings,
          raw: dict[str, RawTenant], cluster_name: str | None) -> list[Arp]:
    """One ARP per pod IP of the pools, sorted by address; a pod IP's first member (tenants, pools,
    members in order, then the AS3 tenants by name) gives its node and Service.

    At 10k Ingresses that is 120,000 members and 100,000 ARPs, each pod on its own (Service, node)
    pair, so nothing per pair helps: instead each step is one C-level pass over all of them (`map`,
    `chain`, `dict(zip(...))`), the Services and nodes are resolved once each, and only when some pod
    is not a dotted quad on a node with a VtepMAC (rare) do the pods take a Python loop."""
    addresses: list[str] = []
    nodes: list[str | None] = []
    clusters: list[str | None] = []
    services: list[tuple[str, str]] = []
    for tenant in tenants.values():  # a stored tenant's columns come without loading it (tenant_facts)
        columns = member_columns(tenant)
        for into, column in zip((addresses, nodes, clusters, services), columns, strict=True):
            into.extend(column)
    for name in sorted(raw):
        for m, service in raw[name].pod_members:
            addresses.append(m.address)
            nodes.append(m.node_name)
            clusters.append(m.cluster)
            services.append(service)
    if set(clusters) - {cluster_name}:  # another cluster's members claim no address
        keep = [i for i, c in enumerate(clusters) if c == cluster_name]
        addresses, nodes, services = (list(map(column.__getitem__, keep)) for column in (addresses, nodes, services))
    # address -> its first member's index: written last to first, so the first occurrence wins
    # (the dict's own order does not matter, the addresses are sorted next)
    first = dict(zip(reversed(addresses), range(len(addresses) - 1, -1, -1), strict=True))
    ips = list(first)
    order, dotted = _address_order(ips)
    ordered = list(map(ips.__getitem__, order))
    at = list(map(list(first.values()).__getitem__, order))
    node_names = list(map(nodes.__getitem__, at))
    keys = list(map(services.__getitem__, at))
    service_origins: dict[tuple[str, str], list[Origin]] = {}
    for key in set(keys):
        svc = cluster.services.get(key)
        service_origins[key] = [svc.meta.origin] if svc else []
    named: dict[str, tuple[str, list[Origin]]] = {}  # node name -> (VtepMAC, [its Origin]) if it has one
    for node_name in set(node_names):
        node = cluster.nodes.get(node_name) if node_name else None
        mac = mac_of.get(node.meta.name) if node else None
        if node and mac:
            named[node_name] = (mac, [node.meta.origin])
    found = list(map(named.get, node_names))
    if dotted and None not in found:  # `add` makes each ARP its own list: the Service's origin, the node's
        return list(map(Arp, ordered, map(itemgetter(0), found),
                        map(add, map(service_origins.__getitem__, keys), map(itemgetter(1), found))))
    arps: list[Arp] = []
    for ip, node_name, key, pair in zip(ordered, node_names, keys, found, strict=True):
        origins = service_origins[key]
        if pair is not None and (dotted or ipv4_int(ip) is not None):
            arps.append(Arp(ip, pair[0], origins + pair[1]))
            continue
        arp = _slow_arp(cluster, ip, node_name, key, origins, mac_of, cidrs, findings)
        if arp is not None:
            arps.append(arp)
    return arps


def _pton_is_strict() -> bool:
    """Whether this platform's inet_pton accepts exactly the canonical dotted quads (glibc, musl and
    the BSDs do: four decimal octets <= 255, no leading zeros, nothing else)."""
    for text in ("01.2.3.4", "1.2.3", "0x1.2.3.4", "1.2.3.4 ", "256.1.1.1", "1.2.3.04", " 1.2.3.4"):
        try:
            _INET_PTON(socket.AF_INET, text)
        except (OSError, ValueError):
            continue
        return False
    return _INET_PTON(socket.AF_INET, "0.10.200.255") == bytes([0, 10, 200, 255])


_INET_PTON = socket.inet_pton
_PTON_STRICT = _pton_is_strict()


def _address_order(ips: list[str]) -> tuple[list[int], bool]:
    """The indices of `ips` in the order `ip_sort_key` sorts them, and whether every one is a
    dotted quad (what `ipv4_int` accepts).

    Nearly always every one is: then each is parsed and checked by one C call (`inet_pton`, where
    it is strict; else inet_aton and the round trip through inet_ntoa, as `ipv4_int` does) and the
    four bytes alone order them (big-endian bytes sort as the int; one spelling per address)."""
    try:
        if _PTON_STRICT:
            packed = list(map(_INET_PTON, repeat(socket.AF_INET, len(ips)), ips))
        else:
            packed = list(map(_INET_ATON, ips))
            if list(map(_INET_NTOA, packed)) != ips:
                packed = None
    except (OSError, ValueError):  # not all IPv4
        packed = None
    if packed is not None:
        return sorted(range(len(ips)), key=packed.__getitem__), True
    keys = list(map(ip_sort_key, ips))
    return sorted(range(len(ips)), key=keys.__getitem__), False


def _slow_arp(cluster: Cluster, ip: str, node_name: str | None, service_key: tuple[str, str],
              origins: list[Origin], mac_of: dict[str, str], cidrs, findings: list[Finding]) -> Arp | None:
    """The ARP of a pod that is not a dotted quad, names no node, or whose node has no VtepMAC: the
    address parsed, the node found by podCIDR, or the finding that says why there is no entry."""
    service = f"{service_key[0]}/{service_key[1]}"
    as_int = ipv4_int(ip)
    addr: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    if as_int is None:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if addr.version == 6:
            findings.append(Finding("NET020", f"pod IP {ip} of Service {service} is IPv6; cluster mode supports "
                                    "IPv4 pod networks only", origins[0].location if origins else None))
            return None
    node = cluster.nodes.get(node_name or "")
    if node is None:
        addr = addr or ipaddress.IPv4Address(as_int)
        node = next((n for net, n in cidrs if addr in net), None)
    mac = mac_of.get(node.meta.name) if node else None
    if mac is None:
        why = f"node {node.meta.name} has no VtepMAC" if node else "no node runs it (no nodeName, no podCIDR)"
        findings.append(Finding("NET021", f"pod IP {ip} of Service {service}: {why}; no ARP entry",
                                origins[0].location if origins else None, Severity.WARNING))
        return None
    return Arp(ip, mac, [*origins, node.meta.origin])
