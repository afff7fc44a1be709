"""TransportServer (cis.f5.com/v1) -> Service_TCP / Service_UDP / Service_SCTP (mode standard) or
Service_L4 (mode performance), its pool and monitors (cis-crd-behaviour.md §3).

Names are CIS's (`crd_<ip>_<port>` or `<virtualServerName>_<port>`, the same space as VirtualServers,
so a clash with one is reported by the registry). With `pool.alternateBackends` (A/B) the virtual has
no default pool: one pool per backend, the data group `<vs>_ab_deployment_dg` (key `/`) and the iRule
`<vs>_ab_deployment_path_irule` choose one per connection, as CIS 2.20 does (`pool.name` is then
ignored, as in CIS). A `weight` without alternateBackends changes nothing in CIS: here a warning.
CIS only logs a second TransportServer on the same address:port and lets it overwrite the first;
here it is an error naming both files.
"""

from __future__ import annotations

from typing import Any

from renderer.errors import Finding, Severity
from renderer.kube.crd import PolicyCR, TransportServerCR
from renderer.mapping import names
from renderer.mapping.abdeploy import ab_l4_irule, ab_pools, weights_value
from renderer.mapping.certificates import certificate_from_secret
from renderer.mapping.crd_common import (
    CrdContext,
    add_pool,
    address_of,
    attach_irule,
    bigip,
    check_balance,
    irules_of,
    partition_of,
    resolve_service,
    service_address,
    snat_of,
    virtual_properties,
)
from renderer.mapping.crdpolicy import policy_for
from renderer.mapping.ipam import ipam_key
from renderer.mapping.tlsprofile import tls_client_from_secrets
from renderer.model import DataGroup, Tenant, TLSServer, VirtualServer

STANDARD = {"udp": "Service_UDP", "sctp": "Service_SCTP"}


def l4_class(mode: str, protocol: str) -> str:
    if mode == "performance":
        return "Service_L4"
    return STANDARD.get(protocol, "Service_TCP")


def l4_properties(policy: PolicyCR | None, cls: str, protocol: str, own_l4: str = "") -> dict[str, Any]:
    """What CIS adds to TransportServer-like virtuals: layer4/profileL4 (Service_L4 only: the TCP/UDP
    classes have no profileL4, CIS's `basic` there is ignored by AS3), Policy udp / ftp profiles."""
    props: dict[str, Any] = {}
    if cls == "Service_L4":
        props["layer4"] = protocol
        l4 = own_l4 or (policy.text("profiles", "profileL4") if policy else "")
        props["profileL4"] = bigip(l4) if l4 else "basic"
    if policy is not None:
        if policy.text("profiles", "udp") and cls == "Service_UDP":
            props["profileUDP"] = bigip(policy.text("profiles", "udp"))
        if policy.text("profiles", "ftpProfile") and cls == "Service_TCP":
            props["profileFTP"] = bigip(policy.text("profiles", "ftpProfile"))
    return props


def build_transport_servers(ctx: CrdContext) -> None:
    claimed: dict[tuple[str, int], TransportServerCR] = {}
    for res in sorted(ctx.cluster.crds.transport_servers, key=lambda t: (t.meta.namespace, t.meta.name)):
        _build_one(ctx, res, claimed)


def _build_one(ctx: CrdContext, res: TransportServerCR, claimed: dict[tuple[str, int], TransportServerCR]) -> None:
    meta = res.meta
    errors = len(ctx.findings)  # only the new findings are looked at (O(1) per object, not O(findings))
    spec = res.pool
    if spec.multi_cluster:
        ctx.error("CRD051", meta, "multiClusterServices needs CIS's multi-cluster mode; not supported",
                  "spec", "pool", "multiClusterServices")
    if spec.weight is not None and not spec.alternates:
        ctx.error("CRD121", meta, "pool.weight without alternateBackends has no effect (CIS ignores it too)",
                  "spec", "pool", "weight", severity=Severity.WARNING,
                  hint="add alternateBackends to split traffic, or remove weight")
    if not spec.service or spec.service_port is None:
        ctx.error("CRD025", meta, "pool needs service and servicePort", "spec", "pool")
    partition = partition_of(ctx, res)
    ip = address_of(ctx, res, ipam_key(res))
    policy = policy_for(ctx, res)
    if any(f.is_error for f in ctx.findings[errors:]) or ip is None or partition is None or policy is False:
        return
    policy = policy or None
    port = res.port
    other = claimed.setdefault((ip, port), res)
    if other is not res:
        ctx.findings.append(Finding("CRD070", f"TransportServer {meta.ident} and TransportServer {other.meta.ident} "
                                    f"({other.meta.location}) both claim {ip}:{port}", meta.location,
                                    hint="give one of them another address or port"))
        return
    protocol = res.text("type") or "tcp"
    cls = l4_class(res.text("mode"), protocol)
    name = names.crd_vs_name(ip, port, res.text("virtualServerName"), tenant=partition)
    tenant = ctx.reg.tenant(partition)
    if not ctx.claim(tenant, name, ("virtual", ip, port), meta):
        return
    vs = ctx.reg.virtual_server(partition, ip, port, cls, meta, ctx.findings, name=name)
    if vs is None:
        return
    vs.origins.append(meta.origin)
    if policy is not None:
        vs.origins.append(policy.meta.origin)
    vs.snat = snat_of(res, policy)
    vs.properties.update(virtual_properties(res, policy, https=False, http=False))
    vs.properties.update(l4_properties(policy, cls, protocol, res.text("profileL4")))
    vs.irules, _ = irules_of(res, policy, https=False)
    service_address(ctx, tenant, vs, res)
    if not (_ab(ctx, tenant, vs, res, policy, ip) if spec.alternates else _pool(ctx, tenant, vs, res, policy, ip)):
        return
    _tls(ctx, tenant, vs, res)
    ctx.hosts.append((res.text("host"), tenant.name, vs.name, True))


def _pool(ctx: CrdContext, tenant: Tenant, vs: VirtualServer, res: TransportServerCR, policy: PolicyCR | None,
          ip: str) -> bool:
    """The one pool, the virtual's default pool; False when it cannot be made (the finding says why)."""
    meta, spec = res.meta, res.pool
    if not check_balance(ctx, meta, spec):
        return False
    backend = resolve_service(ctx, meta, spec.namespace, spec.service, spec.service_port, spec.keys)
    if backend is None:
        return False
    pool = names.crd_name(spec.name, tenant=tenant.name) if spec.name else names.crd_pool_name(
        spec.service, spec.service_port if spec.service_port is not None else "", spec.namespace, "",
        spec.node_member_label, tenant=tenant.name)
    if add_pool(ctx, tenant, meta, spec, pool, backend, monitor_ip=ip, host="", remark_vs=vs.name, policy=policy,
                check_send=False) is None:
        return False
    vs.pool = pool
    return True


def _ab(ctx: CrdContext, tenant: Tenant, vs: VirtualServer, res: TransportServerCR, policy: PolicyCR | None,
        ip: str) -> bool:
    """A/B: the pools, the data group (key `/`) and the per-connection iRule; no default pool."""
    backends = ab_pools(ctx, tenant, res.meta, res.pool, ip, vs.name, host="", policy=policy, check_send=False)
    if backends is None:
        return False
    dg = DataGroup(names.crd_object_name(vs.name, "ab_deployment_dg", tenant=tenant.name),
                   {"/": weights_value(backends)})
    attach_irule(ctx, tenant, vs, dg, ab_l4_irule(tenant.name, dg.name),
                 names.crd_object_name(vs.name, "ab_deployment_path_irule", tenant=tenant.name), [res.meta])
    return True


def _tls(ctx: CrdContext, tenant: Tenant, vs: VirtualServer, res: TransportServerCR) -> None:
    """spec.tls: serverTLS/clientTLS on the TCP virtual (the class stays Service_TCP, as in CIS); server-side
    Secrets make `<vs>_tls_client` trusting the tenant's `serverssl_ca_bundle`, as a TLSProfile's do."""
    tls = res.mapping("tls")
    if not tls:
        return
    clients, servers = res.strings("tls", "clientSSLs"), res.strings("tls", "serverSSLs")
    if tls.get("reference") == "secret":
        certs = []
        for i, secret in enumerate(clients):
            name = names.crd_name(f"{clients[0]}-clientside-{vs.name}_{i}", tenant=tenant.name)
            got = certificate_from_secret(ctx.cluster, tenant, res.meta.namespace, secret, name,
                                          lambda: res.meta.locate("spec", "tls"), f"TransportServer {res.meta.ident}",
                                          ctx.findings, code="CRD044")
            if got:
                certs.append(got)
        if certs:
            server = names.crd_object_name(vs.name, "tls_server", tenant=tenant.name)
            if not ctx.claim(tenant, server, ("tls server", vs.name), res.meta):
                return
            tenant.tls_servers[server] = TLSServer(server, certs, "", origins=[res.meta.origin], properties={})
            vs.server_tls = server
        if servers:  # CIS handleTransportServerTLS: as a TLSProfile's server Secrets (cis-crd-behaviour.md §2.2)
            vs.client_tls_name = tls_client_from_secrets(ctx, tenant, vs.name, res.meta, res.meta, servers, {})
        return
    if clients:
        vs.server_tls = sorted(c if c.startswith("/") else f"/{tenant.name}/{c}" for c in clients)
    if servers:
        paths = [s if s.startswith("/") else f"/{tenant.name}/{s}" for s in servers]
        vs.properties["clientTLS"] = bigip(paths[0]) if len(paths) == 1 else [bigip(p) for p in paths]
