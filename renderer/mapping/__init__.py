"""Kubernetes views -> the BIG-IP model (renderer.model): the stage that holds the mapping logic."""

from __future__ import annotations

from renderer.config import Config, device_view
from renderer.errors import Finding, Severity
from renderer.kube.load import Cluster
from renderer.mapping.clusters import build_clusters_network
from renderer.mapping.configmap import build_configmaps, is_virtual_server_configmap
from renderer.mapping.ingress import build_ingresses, ingress_is_ours
from renderer.mapping.network import build_network
from renderer.mapping.registry import Registry
from renderer.mapping.routes import build_static_network
from renderer.model import Model, Network


def build_model(cluster: Cluster, config: Config) -> tuple[Model, list[Finding]]:
    findings: list[Finding] = []
    reg = Registry()
    reg.tenant(config.bigip.partition)  # the default partition always exists, as in CIS
    build_ingresses(cluster, config, reg, findings)
    build_configmaps(cluster, config, reg, findings)
    reg.finish()
    if not config.bigip.devices:
        return Model(reg.tenants, _network(cluster, config, reg.tenants, findings)), findings
    devices: dict[str, Network] = {}
    for device in config.bigip.devices:  # the same cluster seen from each device's VTEP
        seen = list(findings)
        view = device_view(config, device.name)
        devices[device.name] = _network(cluster, view, reg.tenants, findings)
        node = view.vxlan.bigip_node if view.vxlan else None
        if devices[device.name].vxlan and node and node not in cluster.nodes and not cluster.members_from:
            findings.append(Finding("TOPO021", f"device {device.name}: its flannel Node {node!r} is not in the "
                                    "snapshot: flannel does not send this device's pod traffic back to it",
                                    config.location, Severity.WARNING,
                                    hint="render --emit-bigip-node, kubectl apply the Nodes, and capture the snapshot"))
        findings[:] = seen + [f for f in findings[len(seen):] if f not in seen]  # each finding once
    return Model(reg.tenants, devices[config.bigip.devices[0].name], devices), findings


def _network(cluster: Cluster, config: Config, tenants, findings: list[Finding]) -> Network:
    if config.clusters:
        return build_clusters_network(cluster, config, tenants, findings)
    if config.bigip.pool_member_type == "cluster" and config.bigip.network == "static-routes":
        return build_static_network(cluster, config, tenants, findings)
    return build_network(cluster, config, tenants, findings)


def referenced_services(cluster: Cluster, config: Config) -> set[tuple[str, str]]:
    """(namespace, name) of every Service an F5 Ingress or virtual-server ConfigMap points at."""
    import json

    found: set[tuple[str, str]] = set()
    for ing in cluster.ingresses:
        if not ingress_is_ours(ing, cluster, config)[0]:
            continue
        refs = ([ing.default_backend] if ing.default_backend else []) + [p.backend for r in ing.rules for p in r.paths]
        found.update((ing.meta.namespace, ref.service) for ref in refs)
    for cm in cluster.configmaps:
        if not is_virtual_server_configmap(cm):
            continue
        try:
            name = json.loads(cm.data.get("data", ""))["virtualServer"]["backend"]["serviceName"]
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(name, str):
            found.add((cm.meta.namespace, name))
    return found
