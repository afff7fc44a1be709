"""Static-route mode (CIS --static-routing-mode): one `net route` per node pod subnet, via the node.

For clusters whose CNI is not flannel VXLAN (Calico, Cilium, OVN-Kubernetes, host-gw flannel,
Antrea) the BIG-IP reaches pods over the underlay: a route to each node's pod subnet with the node
as gateway. No tunnel, FDB records or ARPs. Where the pod subnet and the gateway come from follows
CIS's `--orchestration-cni` rules (k8s-bigip-ctlr 2.20 `node_poll_handler.go`), so routes keep
CIS's names (`k8s-<node>-<gateway>`; Calico: `k8s-<BlockAffinity name>`) and a migration from CIS
produces no churn. Unlike CIS, a node it cannot route is a warning with its file and line, not a
log line, and pool members that no route reaches are reported.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from renderer.config import Config
from renderer.errors import Finding, Origin, Severity
from renderer.kube.load import Cluster
from renderer.kube.objects import Node
from renderer.mapping.network import _overlapping_pairs
from renderer.model import Network, StaticRoute, Tenant

CILIUM_CIDR = ("network.cilium.io/ipv4-pod-cidr", "io.cilium.network.ipv4-pod-cidr")  # CIS reads them in this order
OVN_SUBNETS = "k8s.ovn.org/node-subnets"
OVN_IFADDR = "k8s.ovn.org/node-primary-ifaddr"
CALICO_ADDRESS = "projectcalico.org/IPv4Address"
DESCRIPTION = "as3-gitops"
_Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def route_description(cluster_name: str | None) -> str:
    """The `description` of our routes: the ownership marker in /Common (and the cluster, if several)."""
    return f"{DESCRIPTION}_{cluster_name}" if cluster_name else DESCRIPTION


def build_static_network(cluster: Cluster, config: Config, tenants: dict[str, Tenant],
                         findings: list[Finding]) -> Network:
    """The network of a cluster in static-route mode: routes only, no tunnel."""
    routes = build_routes(cluster, config, findings)
    origins = {key: svc.meta.origin for key, svc in cluster.services.items()}
    unrouted_members(tenants, routes, findings, origins)
    return Network("cluster", vxlan=False, routes=routes, route_partition=config.static_routes.partition(config.bigip))


def build_routes(cluster: Cluster, config: Config, findings: list[Finding],
                 cluster_name: str | None = None) -> list[StaticRoute]:
    """Routes for every Ready node of one cluster, checked, sorted by name."""
    return checked_routes(cluster_routes(cluster, config, findings, cluster_name), findings)


def cluster_routes(cluster: Cluster, config: Config, findings: list[Finding],
                   cluster_name: str | None = None) -> list[StaticRoute]:
    """Routes for every Ready node of one cluster, unchecked (several clusters are checked together)."""
    cni = config.static_routes.cni
    description = route_description(cluster_name)
    where = f" (cluster {cluster_name})" if cluster_name else ""
    routes: list[StaticRoute] = []
    if cni == "calico-k8s":
        routes = _calico(cluster, description, where, findings)
    else:
        for name in sorted(cluster.nodes):
            node = cluster.nodes[name]
            if not node.is_ready:  # CIS: nodes whose Ready condition is not True get no route
                continue
            routes += _node_routes(node, config, description, where, findings)
    return routes


def _first_ipv4(cidrs: Any) -> str | None:
    for cidr in cidrs:
        try:
            if isinstance(cidr, str) and ipaddress.ip_network(cidr, strict=False).version == 4:
                return cidr
        except ValueError:
            return cidr  # reported by _checked as not a CIDR
    return None


def _node_routes(node: Node, config: Config, description: str, where: str,
                 findings: list[Finding]) -> list[StaticRoute]:
    cni, name, ann = config.static_routes.cni, node.meta.name, node.meta.annotations
    network: str | None
    if cni == "cilium-k8s":
        key = next((k for k in CILIUM_CIDR if k in ann), None)
        network = ann.get(key) if key else None
        source = f"annotation {CILIUM_CIDR[0]}"
    elif cni == "ovn-k8s":
        return _ovn_route(node, description, where, findings)
    else:
        network = _first_ipv4(node.pod_cidrs)
        source = "IPv4 pod subnet in spec.podCIDR/podCIDRs"
    if not network:
        findings.append(Finding("TOPO002", f"Node {name}{where} has no {source}: no static route to its pods",
                                node.meta.location, Severity.WARNING,
                                hint=f"staticRoutes.cni is {cni}; check that it matches the cluster's CNI"))
        return []
    kind = config.static_routes.node_address
    gateways = [addr for typ, addr in node.addresses if typ == kind]
    if not gateways:
        findings.append(Finding("TOPO003", f"Node {name}{where} has no {kind} address: no static route to its pods",
                                node.meta.location, Severity.WARNING,
                                hint="staticRoutes.nodeAddress picks InternalIP or ExternalIP"))
    # CIS makes one route per address of that type (usually exactly one)
    return [StaticRoute(f"k8s-{name}-{gw}", network.strip(), gw, description, [node.meta.origin]) for gw in gateways]


def _ovn_route(node: Node, description: str, where: str, findings: list[Finding]) -> list[StaticRoute]:
    name, ann = node.meta.name, node.meta.annotations

    def parsed(key: str) -> Any:
        try:
            return json.loads(ann[key])
        except (ValueError, RecursionError):
            findings.append(Finding("TOPO004", f"Node {name}{where}: annotation {key} is not valid JSON",
                                    node.meta.locate("metadata", "annotations", key)))
            return None

    if OVN_SUBNETS not in ann or OVN_IFADDR not in ann:
        missing = OVN_SUBNETS if OVN_SUBNETS not in ann else OVN_IFADDR
        findings.append(Finding("TOPO002", f"Node {name}{where} has no annotation {missing}: no static route to "
                                "its pods", node.meta.location, Severity.WARNING))
        return []
    subnets, ifaddr = parsed(OVN_SUBNETS), parsed(OVN_IFADDR)
    default = subnets.get("default") if isinstance(subnets, dict) else None
    network = default if isinstance(default, str) else _first_ipv4(default if isinstance(default, list) else [])
    gw = ifaddr.get("ipv4") if isinstance(ifaddr, dict) else None
    if not network or not isinstance(gw, str):
        if subnets is not None and ifaddr is not None:
            findings.append(Finding("TOPO004", f'Node {name}{where}: expected {OVN_SUBNETS} {{"default": cidr}} and '
                                    f'{OVN_IFADDR} {{"ipv4": "a.b.c.d/n"}}', node.meta.location))
        return []
    gw = gw.split("/")[0]
    return [StaticRoute(f"k8s-{name}-{gw}", network, gw, description, [node.meta.origin])]


def _calico(cluster: Cluster, description: str, where: str, findings: list[Finding]) -> list[StaticRoute]:
    """Calico: each BlockAffinity (in the snapshot) of a Ready node, via the node's Calico address."""
    routes = []
    for ba in sorted(cluster.block_affinities, key=lambda b: b.meta.name):
        node = cluster.nodes.get(ba.node)
        if node is None or not node.is_ready:
            if node is None:
                findings.append(Finding("TOPO002", f"BlockAffinity {ba.meta.name}{where} names node {ba.node!r}, "
                                        "which is not in the snapshot: no route", ba.meta.location, Severity.WARNING))
            continue
        address = node.meta.annotations.get(CALICO_ADDRESS)
        if not address:
            findings.append(Finding("TOPO003", f"Node {node.meta.name}{where} has no annotation {CALICO_ADDRESS}: no "
                                    f"route for BlockAffinity {ba.meta.name}", node.meta.location, Severity.WARNING))
            continue
        routes.append(StaticRoute(f"k8s-{ba.meta.name}", ba.cidr, address.split("/")[0], description,
                            [ba.meta.origin, node.meta.origin]))
    if not cluster.block_affinities and cluster.nodes:
        findings.append(Finding("TOPO002", f"staticRoutes.cni is calico-k8s but the snapshot{where} has no "
                                "BlockAffinity objects: no static routes", None, Severity.WARNING,
                                hint="capture crd.projectcalico.org/v1 BlockAffinities into the snapshot "
                                "(kubectl get blockaffinities -o yaml)"))
    return routes


def _origin_location(route: StaticRoute):
    return route.origins[0].location if route.origins else None


def checked_routes(routes: list[StaticRoute], findings: list[Finding]) -> list[StaticRoute]:
    """Drop routes with a bad subnet or gateway, duplicate names and overlapping subnets (errors)."""
    good: list[tuple[_Net, StaticRoute]] = []
    names: dict[str, StaticRoute] = {}
    for route in routes:
        try:
            net = ipaddress.ip_network(route.network, strict=False)
            gw = ipaddress.ip_address(route.gw)
        except ValueError:
            findings.append(Finding("TOPO004", f"route {route.name}: {route.network!r} via {route.gw!r} is not a "
                                    "subnet via an address", _origin_location(route)))
            continue
        if net.version != gw.version:
            findings.append(Finding("TOPO004", f"route {route.name}: IPv{net.version} subnet {net} via IPv{gw.version} "
                                    f"gateway {gw}", _origin_location(route)))
            continue
        if route.name in names:
            findings.append(Finding("TOPO007", f"two routes would be named {route.name} (also from "
                                    f"{names[route.name].origins[0].location})", _origin_location(route),
                                    hint="route names come from node names and addresses; they must be unique"))
            continue
        names[route.name] = route
        good.append((net, route))
    cidrs = [(net, route) for net, route in good]
    bad: set[int] = set()
    for i, j in _overlapping_pairs(cidrs):
        (net, route), (other, oroute) = cidrs[i], cidrs[j]
        findings.append(Finding("TOPO005", f"pod subnet {net} of route {route.name} overlaps {other} of route "
                                f"{oroute.name}", _origin_location(route),
                                hint="every node (in every cluster) needs its own pod subnet"))
        bad.add(j)
    kept = [route for k, (_net, route) in enumerate(cidrs) if k not in bad]
    return sorted(kept, key=lambda r: r.name)


def unrouted_members(tenants: dict[str, Tenant], routes: list[StaticRoute], findings: list[Finding],
                     origins_of: dict[tuple[str, str], Origin] | None = None,
                     clusters: set[str | None] | None = None) -> None:
    """Warn about pool-member pod IPs that no route's subnet contains (the BIG-IP cannot reach them);
    with several clusters only the members of `clusters` (those in static-route mode)."""
    nets = [ipaddress.ip_network(r.network, strict=False) for r in routes]
    seen: set[str] = set()
    for tenant in tenants.values():
        for pool in tenant.pools.values():
            for m in pool.members:
                if m.address in seen or (clusters is not None and m.cluster not in clusters):
                    continue
                seen.add(m.address)
                try:
                    ip = ipaddress.ip_address(m.address)
                except ValueError:
                    continue
                if not any(ip in net for net in nets):
                    origin = (origins_of or {}).get(pool.service)
                    findings.append(Finding(
                        "TOPO006", f"pod IP {m.address} of Service {pool.service[0]}/{pool.service[1]} is in no "
                        "node's routed pod subnet: the BIG-IP cannot reach it", origin.location if origin else None,
                        Severity.WARNING, hint="its node is missing, NotReady, or has no pod subnet for the CNI"))

