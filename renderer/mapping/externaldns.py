"""ExternalDNS (cis.f5.com/v1) -> GSLB_Domain, GSLB_Pool and GSLB_Monitor in tenant `<partition>_gtm`,
application `Shared`: the AS3 shape CIS 2.20 posts with `--cccl-gtm-agent=false` (cis-crd-behaviour.md §6).

Members are the virtual servers rendered here whose host is the domain (the HTTP side of a TLS
VirtualServer is skipped when it only redirects or mirrors the HTTPS one, as in CIS), in sorted order
(CIS: map order). Every pool gets its own name (CIS names all pools of one ExternalDNS alike, so they
overwrite each other): `<domain>_<dataServer>_gtm`, with `_<i>` from the second pool on a data server.
"""

from __future__ import annotations

from typing import Any

from renderer.errors import Finding, Severity
from renderer.kube.crd import ExternalDNSCR
from renderer.mapping import names
from renderer.mapping.crd_common import CrdContext
from renderer.model import Declared


def build_external_dns(ctx: CrdContext) -> None:
    seen: dict[str, ExternalDNSCR] = {}
    tenant_name = f"{ctx.config.bigip.partition}_gtm"
    for res in sorted(ctx.cluster.crds.external_dns, key=lambda r: (r.meta.namespace, r.meta.name)):
        domain = res.text("domainName")
        other = seen.setdefault(domain, res)
        if other is not res:
            ctx.findings.append(Finding("CRD101", f"ExternalDNS {res.meta.ident} and ExternalDNS {other.meta.ident} "
                                        f"({other.meta.location}) both define domain {domain!r}",
                                        res.meta.locate("spec", "domainName"),
                                        hint="CIS ignores the second one; keep one ExternalDNS per domain"))
            continue
        _build_one(ctx, res, domain, tenant_name)


def _build_one(ctx: CrdContext, res: ExternalDNSCR, domain: str, tenant_name: str) -> None:
    meta = res.meta
    tenant = ctx.reg.tenant(tenant_name)
    targets = sorted({f"/{t}/Shared/{vs}" for host, t, vs, serves in ctx.hosts if host == domain and serves})
    if not targets:
        ctx.error("CRD100", meta, f"no virtual server rendered here serves host {domain!r}; its pools have no "
                  "members", "spec", "domainName", severity=Severity.WARNING,
                  hint="set host (VirtualServer/TransportServer/IngressLink) or cis.f5.com/host to the domain")
    pool_refs = []
    counts: dict[str, int] = {}
    for i, raw in enumerate(res.spec.get("pools") or []):
        server = raw["dataServerName"]
        index = counts.get(server, 0)
        counts[server] = index + 1
        pool_name = names.gslb_pool_name(domain, server, index, tenant=tenant_name)
        monitors = [raw["monitor"]] if isinstance(raw.get("monitor"), dict) else list(raw.get("monitors") or [])
        monitor_names = []
        for j, mon in enumerate(monitors):
            mname = names.crd_name(f"{pool_name}_monitor" if len(monitors) == 1 else f"{pool_name}_monitor{j}",
                                   tenant=tenant_name)
            body: dict[str, Any] = {"class": "GSLB_Monitor", "monitorType": mon["type"],
                                    "interval": mon["interval"]}
            if mon.get("timeout"):
                body["timeout"] = mon["timeout"]
            if mon["type"] in ("http", "https"):
                body["send"] = mon.get("send", "")
                body["receive"] = mon.get("recv", "")
            if not ctx.claim(tenant, mname, ("gslb monitor", pool_name, j), meta):
                continue
            tenant.declared[mname] = Declared(mname, body, origins=[meta.origin])
            monitor_names.append(mname)
        body = {
            "class": "GSLB_Pool",
            "resourceRecordType": raw.get("dnsRecordType") or "A",
            "lbModeAlternate": raw.get("loadBalanceMethod") or "round-robin",
            "lbModeFallback": raw.get("lbModeFallback") or "return-to-dns",
            "members": [{"enabled": True, "server": {"bigip": server}, "virtualServer": vs} for vs in targets],
        }
        if monitor_names:
            body["monitors"] = [{"use": m} for m in monitor_names]
        if not ctx.claim(tenant, pool_name, ("gslb pool", domain, server, index), meta):
            continue
        tenant.declared[pool_name] = Declared(pool_name, body, origins=[meta.origin])
        ref: dict[str, Any] = {"use": pool_name}
        if raw.get("ratio"):
            ref["ratio"] = raw["ratio"]
        pool_refs.append(ref)
        if raw.get("order") is not None:
            ctx.error("CRD102", meta, "pools[].order is not used by CIS's AS3 GSLB shape; ignored",
                      "spec", "pools", i, "order", severity=Severity.WARNING)
    key = names.gslb_domain_key(domain, tenant=tenant_name)
    domain_body: dict[str, Any] = {
        "class": "GSLB_Domain", "domainName": domain, "resourceRecordType": res.text("dnsRecordType") or "A",
        "poolLbMode": res.text("loadBalanceMethod") or "round-robin",
        "persistenceEnabled": bool(res.flag("persistenceEnabled")),
        "persistCidrIpv4": res.number("persistCidrIpv4") or 32, "persistCidrIpv6": res.number("persistCidrIpv6") or 128,
        "ttlPersistence": res.number("ttlPersistence") or 3600, "pools": pool_refs,
    }
    if res.flag("clientSubnetPreferred") is not None:
        domain_body["clientSubnetPreferred"] = res.flag("clientSubnetPreferred")
    if ctx.claim(tenant, key, ("gslb domain", domain), meta):
        tenant.declared[key] = Declared(key, domain_body, origins=[meta.origin])
