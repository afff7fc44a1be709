"""Several Kubernetes clusters behind one BIG-IP (`clusters:` in as3-gitops.yaml): the network.

Pool members already come from every cluster (renderer.mapping.members, each marked with its
cluster). Here each cluster contributes what the BIG-IP needs to reach its pods: the one VXLAN
cluster (at most one: one tunnel) its FDB records and ARPs, every static-route cluster its routes
(description `as3-gitops_<cluster>`). Routes of all clusters are checked together, so two clusters
with overlapping pod subnets are an error instead of a silent black hole.
"""

from __future__ import annotations

import ipaddress

from renderer.config import Config
from renderer.errors import Finding
from renderer.kube.load import Cluster
from renderer.mapping.network import build_network
from renderer.mapping.static_routes import checked_routes, cluster_routes, unrouted_members
from renderer.model import Network, StaticRoute, Tenant


def _overlay_overlaps(cluster: Cluster, network: dict[str, str], routes: list[StaticRoute],
                      findings: list[Finding]) -> None:
    """A route into the VXLAN cluster's pod network would send its pods' traffic out of the tunnel."""
    overlay = [(ipaddress.ip_network(cidr, strict=False), node)
               for name, member in cluster.members_from if network[name] == "vxlan"
               for node in member.nodes.values() for cidr in node.pod_cidrs if _is_cidr(cidr)]
    for route in routes:
        net = ipaddress.ip_network(route.network, strict=False)
        clash = next((node for other, node in overlay if other.version == net.version and other.overlaps(net)), None)
        if clash is not None:
            findings.append(Finding("TOPO005", f"pod subnet {net} of route {route.name} overlaps the podCIDR of node "
                                    f"{clash.meta.name} in the VXLAN cluster", clash.meta.locate("spec"),
                                    hint="every node (in every cluster) needs its own pod subnet"))


def _is_cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def build_clusters_network(cluster: Cluster, config: Config, tenants: dict[str, Tenant],
                           findings: list[Finding]) -> Network:
    if config.bigip.pool_member_type == "nodeport":
        return Network("nodeport")
    network = {c.name: c.network for c in config.clusters}
    vxlan: Network | None = None
    routes: list[StaticRoute] = []
    for name, member in cluster.members_from:
        if network[name] == "vxlan":
            vxlan = build_network(member, config, tenants, findings, cluster_name=name)
        else:
            routes += cluster_routes(member, config, findings, name)
    static = {name for name, mode in network.items() if mode == "static-routes"}
    result = Network("cluster", vxlan=vxlan is not None)
    if vxlan is not None:
        result.fdb, result.arps = vxlan.fdb, vxlan.arps
    if static:
        result.routes = checked_routes(routes, findings)
        if vxlan is not None:
            _overlay_overlaps(cluster, network, result.routes, findings)
        result.route_partition = config.static_routes.partition(config.bigip)
        origins = {key: svc.meta.origin for key, svc in cluster.services.items()}
        unrouted_members(tenants, result.routes, findings, origins, set(static))
    return result
