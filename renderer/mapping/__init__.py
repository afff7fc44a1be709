"""Kubernetes views -> the BIG-IP model (renderer.model): the stage that holds the mapping logic."""

from __future__ import annotations

from renderer.config import Config
from renderer.errors import Finding
from renderer.kube.load import Cluster
from renderer.mapping.as3_configmap import DISCOVERY_LABELS, as3_kind, build_as3_configmaps
from renderer.mapping.as3_override import build_override
from renderer.mapping.configmap import build_configmaps, is_virtual_server_configmap
from renderer.mapping.ingress import build_ingresses, ingress_is_ours
from renderer.mapping.network import build_network
from renderer.mapping.registry import Registry
from renderer.mapping.route import build_routes
from renderer.mapping.silent import ObjectCounts, check_silent
from renderer.model import Model, RawTenant


def build_model(cluster: Cluster, config: Config) -> tuple[Model, list[Finding]]:
    findings: list[Finding] = []
    reg = Registry()
    reg.tenant(config.bigip.partition)  # the default partition always exists, as in CIS
    build_ingresses(cluster, config, reg, findings)
    build_configmaps(cluster, config, reg, findings)
    build_routes(cluster, config, reg, findings)
    reg.finish()
    # Last: AS3 ConfigMaps collide with any tenant rendered above; the override sees every tenant.
    raw: dict[str, RawTenant] = {}
    build_as3_configmaps(cluster, config, reg, raw, findings)
    override = build_override(cluster, config, set(reg.tenants), raw, findings)
    network = build_network(cluster, config, reg.tenants, findings, raw)
    return Model(reg.tenants, network, raw, override), findings


def silent_findings(cluster: Cluster, config: Config, model: Model,
                    findings: list[Finding]) -> tuple[list[Finding], ObjectCounts]:
    """SKP findings for marked objects that produced nothing unexplained, and the summary counts."""
    ours = [ing.meta for ing in cluster.ingresses if ingress_is_ours(ing, cluster, config)[0]]
    return check_silent(cluster.marked, ours, model, findings)


def referenced_services(cluster: Cluster, config: Config) -> set[tuple[str, str]]:
    """(namespace, name) of every Service an F5 Ingress or virtual-server ConfigMap points at."""
    import json

    found: set[tuple[str, str]] = set()
    for ing in cluster.ingresses:
        if not ingress_is_ours(ing, cluster, config)[0]:
            continue
        refs = ([ing.default_backend] if ing.default_backend else []) + [p.backend for r in ing.rules for p in r.paths]
        found.update((ing.meta.namespace, ref.service) for ref in refs)
    for route in cluster.routes:
        found.update((route.meta.namespace, b.service) for b in route.backends)
    for svc in cluster.services.values():  # AS3 ConfigMap service discovery (CIS selects by label)
        if any(label in svc.meta.labels for label in DISCOVERY_LABELS):
            found.add((svc.meta.namespace, svc.meta.name))
    for cm in cluster.configmaps:
        if not is_virtual_server_configmap(cm) or as3_kind(cm):
            continue
        try:
            name = json.loads(cm.data.get("data", ""))["virtualServer"]["backend"]["serviceName"]
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(name, str):
            found.add((cm.meta.namespace, name))
    return found
