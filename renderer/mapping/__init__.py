"""Kubernetes views -> the BIG-IP model (renderer.model): the stage that holds the mapping logic."""

from __future__ import annotations

from typing import Any

from renderer.config import Config, device_view
from renderer.errors import Finding, Severity
from renderer.kube.load import Cluster
from renderer.mapping.as3_configmap import DISCOVERY_LABELS, as3_kind, build_as3_configmaps
from renderer.mapping.as3_override import build_override
from renderer.mapping.clusters import build_clusters_network
from renderer.mapping.configmap import build_configmaps, is_virtual_server_configmap
from renderer.mapping.crd_common import CrdContext
from renderer.mapping.ingress import build_ingresses, ingress_is_ours
from renderer.mapping.network import build_network
from renderer.mapping.registry import Registry
from renderer.mapping.route import build_routes
from renderer.mapping.silent import ObjectCounts, check_silent
from renderer.mapping.static_routes import build_static_network
from renderer.model import Model, Network, RawTenant


def build_model(cluster: Cluster, config: Config, ipam_allocations: dict[str, dict[str, str]] | None = None,
                reuse: Any = None) -> tuple[Model, list[Finding]]:
    """`ipam_allocations`: the committed ipam-allocations.yaml (label -> key -> address), if any;
    `reuse`: the DiskCache unchanged tenants' Ingress builds come from (renderer.mapping.tenant_reuse)."""
    from renderer.mapping.ipam import Ipam

    findings: list[Finding] = []
    reg = Registry()
    reg.tenant(config.bigip.partition)  # the default partition always exists, as in CIS
    build_ingresses(cluster, config, reg, findings, reuse)
    reg.touched = set()  # a tenant any later builder asks for is no longer just its cached Ingress build
    build_configmaps(cluster, config, reg, findings)
    build_routes(cluster, config, reg, findings)
    ipam = Ipam(config, ipam_allocations or {}, findings)
    build_custom_resources(CrdContext(cluster, config, reg, findings, ipam=ipam, ipam_lookup=ipam.lookup))
    reg.finish()
    # Last: AS3 ConfigMaps collide with any tenant rendered above; the override sees every tenant.
    raw: dict[str, RawTenant] = {}
    build_as3_configmaps(cluster, config, reg, raw, findings)
    override = build_override(cluster, config, set(reg.tenants), raw, findings)
    if not config.bigip.devices:
        network = _network(cluster, config, reg.tenants, findings, raw)
        return Model(reg.tenants, network, raw, override, build_keys=_build_keys(reg),
                     carried=_carried(reg)), findings
    devices: dict[str, Network] = {}
    for device in config.bigip.devices:  # the same cluster seen from each device's VTEP
        seen = list(findings)
        view = device_view(config, device.name)
        devices[device.name] = _network(cluster, view, reg.tenants, findings, raw)
        node = view.vxlan.bigip_node if view.vxlan else None
        if devices[device.name].vxlan and node and node not in cluster.nodes and not cluster.members_from:
            findings.append(Finding("TOPO021", f"device {device.name}: its flannel Node {node!r} is not in the "
                                    "snapshot: flannel does not send this device's pod traffic back to it",
                                    config.location, Severity.WARNING,
                                    hint="render --emit-bigip-node, kubectl apply the Nodes, and capture the snapshot"))
        findings[:] = seen + [f for f in findings[len(seen):] if f not in seen]  # each finding once
    first = devices[config.bigip.devices[0].name]
    return Model(reg.tenants, first, raw, override, device_networks=devices, build_keys=_build_keys(reg),
                     carried=_carried(reg)), findings


def _build_keys(reg: Registry) -> dict[str, str]:
    return {t: key for t, key in reg.build_keys.items() if t not in (reg.touched or ())}


def _carried(reg: Registry) -> dict[str, tuple[str, frozenset[str]]]:
    return {t: carried for t, carried in reg.carried.items() if t not in (reg.touched or ())}


def _network(cluster: Cluster, config: Config, tenants, findings: list[Finding],
             raw: dict[str, RawTenant]) -> Network:
    if config.clusters:
        return build_clusters_network(cluster, config, tenants, findings)
    if config.bigip.pool_member_type == "cluster" and config.bigip.network == "static-routes":
        return build_static_network(cluster, config, tenants, findings)
    return build_network(cluster, config, tenants, findings, raw)


def silent_findings(cluster: Cluster, config: Config, model: Model,
                    findings: list[Finding]) -> tuple[list[Finding], ObjectCounts]:
    """SKP findings for marked objects that produced nothing unexplained, and the summary counts."""
    ours = [ing.meta for ing in cluster.ingresses if ingress_is_ours(ing, cluster, config)[0]]
    return check_silent(cluster.marked, ours, model, findings, config.location)


def build_custom_resources(ctx: CrdContext) -> None:
    """CIS's custom resources, in CIS's order of kinds (virtual servers claim addresses first)."""
    from renderer.mapping.externaldns import build_external_dns
    from renderer.mapping.ingresslink import build_ingress_links
    from renderer.mapping.lbservice import build_lb_services
    from renderer.mapping.tlsprofile import finish_ca_bundles
    from renderer.mapping.transportserver import build_transport_servers
    from renderer.mapping.virtualserver import build_virtual_servers

    if ctx.cluster.crds:
        build_virtual_servers(ctx)
        build_transport_servers(ctx)
        build_ingress_links(ctx)
    build_lb_services(ctx)
    if ctx.cluster.crds.external_dns:
        build_external_dns(ctx)
    finish_ca_bundles(ctx)
    _unreferenced(ctx)


def _unreferenced(ctx: CrdContext) -> None:
    """A TLSProfile or Policy nothing names produces nothing: say so (CIS would ignore it silently)."""
    from renderer.errors import Finding, Severity

    crds = ctx.cluster.crds
    used_tls = {(v.meta.namespace, v.text("tlsProfileName")) for v in crds.virtual_servers}
    used_policy = {(r.meta.namespace, r.text("policyName")) for r in [*crds.virtual_servers, *crds.transport_servers]}
    used_policy |= {(s.meta.namespace, s.meta.annotations.get("cis.f5.com/policyName", ""))
                    for s in ctx.cluster.services.values()}
    for index, used, field in ((crds.tls_profiles, used_tls, "tlsProfileName"), (crds.policies, used_policy,
                                                                                  "policyName")):
        for key in sorted(index):
            if key not in used:
                meta = index[key].meta
                ctx.findings.append(Finding("CRD110", f"{meta.kind} {meta.ident} is named by no resource's {field}; "
                                            "it produces nothing", meta.location, Severity.WARNING,
                                            hint=f"reference it with {field}, or remove it"))


def referenced_services(cluster: Cluster, config: Config) -> set[tuple[str, str]]:
    """(namespace, name) of every Service an F5 Ingress, virtual-server ConfigMap or CIS custom resource
    points at."""
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
    found |= crd_services(cluster)
    return found


def crd_services(cluster: Cluster) -> set[tuple[str, str]]:
    """Services the CIS custom resources and CIS-annotated LoadBalancer Services use (serviceNamespace
    included), so `snapshot capture` keeps their Endpoints."""
    from renderer.mapping.lbservice import is_ours

    crds = cluster.crds
    found: set[tuple[str, str]] = set()
    pools = [p for vs in crds.virtual_servers for p in (*vs.pools, *filter(None, [vs.default_pool]))]
    pools += [ts.pool for ts in crds.transport_servers]
    for policy in crds.policies.values():
        raw = policy.mapping("defaultPool")
        if raw.get("service"):
            from renderer.kube.crd import pool_of

            pools.append(pool_of(raw, ("spec", "defaultPool"), policy.meta.namespace))
    for pool in pools:
        if pool.service:
            found.add((pool.namespace, pool.service))
        found.update((alt.namespace, alt.service) for alt in pool.alternates)
    for link in crds.ingress_links:
        labels = link.mapping("selector", "matchLabels")
        for (ns, name), svc in cluster.services.items():
            if labels and ns == link.meta.namespace and all(svc.meta.labels.get(k) == str(v)
                                                             for k, v in labels.items()):
                found.add((ns, name))
    found.update(key for key, svc in cluster.services.items() if is_ours(svc))
    return found
