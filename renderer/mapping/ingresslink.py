"""IngressLink (cis.f5.com/v1): BIG-IP in front of NGINX Ingress Controller (cis-crd-behaviour.md §5).

The NGINX Service is the one in the IngressLink's namespace whose labels match `selector.matchLabels`;
per Service port except 8081 (NGINX's readiness port) a Service_TCP `ingress_link_crd_<ip>_<port>`
with a pool of NGINX's endpoints `<svc>_<targetPort>_<ns>` and, unless `monitors` name BIG-IP
monitors, an HTTP monitor on `/nginx-ready` port 8081. As in CIS, the PROXY-protocol iRule is not
generated: create it on the BIG-IP and list it in `spec.iRules` (F5's IngressLink guide).
"""

from __future__ import annotations

from renderer.errors import Severity
from renderer.kube.crd import CrdMonitor, CrdPool, IngressLinkCR
from renderer.mapping import names
from renderer.mapping.crd_common import CrdContext, add_pool, address_of, irules_of, partition_of
from renderer.mapping.ipam import ipam_key
from renderer.mapping.members import ResolvedBackend
from renderer.model import Monitor

NGINX_READY_PORT = 8081


def build_ingress_links(ctx: CrdContext) -> None:
    for res in sorted(ctx.cluster.crds.ingress_links, key=lambda r: (r.meta.namespace, r.meta.name)):
        _build_one(ctx, res)


def _build_one(ctx: CrdContext, res: IngressLinkCR) -> None:
    meta = res.meta
    if res.spec.get("multiClusterServices"):
        ctx.error("CRD051", meta, "multiClusterServices needs CIS's multi-cluster mode; not supported",
                  "spec", "multiClusterServices")
        return
    if res.mapping("tls"):
        ctx.error("CRD090", meta, "spec.tls is ignored: CIS 2.20 applies it only in multi-cluster default mode",
                  "spec", "tls", severity=Severity.WARNING)
    labels = res.mapping("selector", "matchLabels")
    if not labels:
        ctx.error("CRD091", meta, "needs selector.matchLabels (the NGINX Ingress Controller Service)", "spec",
                  hint="matchExpressions are not read by CIS")
        return
    partition = partition_of(ctx, res)
    ip = address_of(ctx, res, ipam_key(res))
    if partition is None or ip is None:
        return
    found = sorted((svc for (ns, _), svc in ctx.cluster.services.items() if ns == meta.namespace
                    and all(svc.meta.labels.get(k) == str(v) for k, v in labels.items())),
                   key=lambda s: s.meta.name)
    if not found:
        ctx.error("CRD092", meta, f"no Service in namespace {meta.namespace} has labels {labels}", "spec",
                  "selector", hint="add the NGINX Ingress Controller Service to the manifests")
        return
    svc = found[0]
    if len(found) > 1:
        ctx.error("CRD093", meta, f"{len(found)} Services match the selector; using {svc.meta.name} (CIS takes the "
                  "oldest, which a repository cannot tell)", "spec", "selector", severity=Severity.WARNING)
    tenant = ctx.reg.tenant(partition)
    bigip_monitors = [m.get("name") for m in res.spec.get("monitors") or [] if m.get("reference") == "bigip"
                      and m.get("name")]
    custom = res.text("virtualServerName")
    for port in svc.ports:
        if port.port == NGINX_READY_PORT:
            continue
        vs_name = names.ingress_link_vs_name(ip, port.port, custom, tenant=partition)
        if not ctx.claim(tenant, vs_name, ("virtual", ip, port.port), meta):
            continue
        vs = ctx.reg.virtual_server(partition, ip, port.port, "Service_TCP", meta, ctx.findings, name=vs_name)
        if vs is None:
            continue
        vs.origins.append(meta.origin)
        vs.irules, _ = irules_of(res, None, https=False)
        target = port.target_port if port.target_port is not None else port.port
        pool_name = names.crd_pool_name(svc.meta.name, target, svc.meta.namespace, tenant=partition)
        spec = CrdPool(("spec",), svc.meta.name, port.port, svc.meta.namespace, False,
                       monitors=tuple(CrdMonitor(("spec", "monitors"), "", None, None, 0, 0, 0, n, "bigip", "")
                                      for n in bigip_monitors))
        pool = add_pool(ctx, tenant, meta, spec, pool_name, ResolvedBackend(svc, port), monitor_ip=ip, host="",
                        remark_vs=vs.name, policy=None, check_send=False)
        if pool is None:
            continue
        if not bigip_monitors:
            mname = names.crd_name(f"{svc.meta.name}_{port.port}_{svc.meta.namespace}_monitor", tenant=partition)
            if not ctx.claim(tenant, mname, ("nginx monitor", pool_name), meta):
                continue
            tenant.monitors[mname] = Monitor(mname, "http", "GET /nginx-ready HTTP/1.1\r\n", "none", 10, 31,
                                             origins=[meta.origin], crd=True, target_port=NGINX_READY_PORT)
            if mname not in pool.monitors:
                pool.monitors.append(mname)
            pool.properties["minimumMonitors"] = 1
        vs.pool = pool_name
        ctx.hosts.append((res.text("host"), tenant.name, vs.name, True))
