"""What VirtualServer, TransportServer, IngressLink and LoadBalancer-Service mapping share: the
context, address resolution (explicit or IPAM), pools with their monitors, and the virtual-level
properties a resource or its Policy sets (CIS 2.20: Policy first, then the resource's own fields)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from renderer.config import Config
from renderer.errors import Finding, Origin, Severity, SourceLocation
from renderer.kube.crd import CrdPool, CustomResource, PolicyCR
from renderer.kube.load import Cluster
from renderer.kube.objects import ObjectMeta
from renderer.mapping import names
from renderer.mapping.annotations import BALANCE_MODES, parse_vs_address
from renderer.mapping.members import ResolvedBackend, members_for
from renderer.mapping.registry import Registry
from renderer.model import DataGroup, Declared, IRule, Monitor, Pool, Tenant, VirtualServer

PERSISTENCE_BUILTINS = ("cookie", "destination-address", "hash", "msrdp", "sip-info", "source-address",
                        "tls-session-id", "universal")


@dataclass
class CrdContext:
    cluster: Cluster
    config: Config
    reg: Registry
    findings: list[Finding]
    ipam: Callable[[CustomResource, str], str | None] | None = None  # (resource, key) -> address
    # tenant -> (Secret "ns/name" -> CA PEM, origins): the tenant-wide serverssl_ca_bundle
    ca_bundles: dict[str, tuple[dict[str, str], list[Origin]]] = field(default_factory=dict)
    # (host, tenant, virtual, serves the host) of every rendered virtual: what ExternalDNS points at
    hosts: list[tuple[str, str, str, bool]] = field(default_factory=list)
    ipam_lookup: Callable[[str, str, ObjectMeta], str | None] | None = None  # (label, key, meta) -> address
    # (tenant, BIG-IP name) -> (what the object stands for, who made it first): names stay injective
    claims: dict[tuple[str, str], tuple[Hashable, ObjectMeta]] = field(default_factory=dict)

    def error(self, code: str, meta: ObjectMeta, message: str, *keys: str | int, hint: str | None = None,
              severity: Severity = Severity.ERROR) -> None:
        where = meta.locate(*keys) if keys else meta.location
        self.findings.append(Finding(code, f"{meta.kind} {meta.ident}: {message}", where, severity, hint=hint))


    def claim(self, tenant: Tenant, name: str, identity: Hashable, meta: ObjectMeta) -> bool:
        """Reserve `name` in `tenant` for `identity` (the same identity may ask again: a shared pool);
        False with CRD120 when another object, of a custom resource or of an Ingress / ConfigMap / Route
        mapped before them, already has that name (AS3 gives the application's objects one namespace)."""
        key = (tenant.name, name)
        held = self.claims.get(key)
        if held is not None and held[0] == identity:
            return True
        if held is None and not any(name in group for group in _groups(tenant)):
            self.claims[key] = (identity, meta)
            return True
        other = f"{held[1].kind} {held[1].ident} ({held[1].location})" if held else \
            "an object made from another manifest"
        self.findings.append(Finding(
            "CRD120", f"{meta.kind} {meta.ident} makes the BIG-IP name {name} in tenant {tenant.name}, which "
            f"{other} already uses for something else", meta.location,
            hint="names follow CIS's rules, so these two meet; rename one of the objects or give it another "
                 "partition"))
        return False


def _groups(tenant: Tenant) -> tuple[dict, ...]:
    return (tenant.virtual_servers, tenant.pools, tenant.monitors, tenant.policies, tenant.certificates,
            tenant.tls_servers, tenant.irules, tenant.data_groups, tenant.declared)


def partition_of(ctx: CrdContext, res: CustomResource, value: str = "") -> str | None:
    partition = value or res.partition or ctx.config.bigip.partition
    if partition == "Common":
        ctx.error("CRD005", res.meta, "partition 'Common' cannot hold AS3 tenants", "spec", "partition",
                  hint="use a dedicated partition (the CRD refuses Common too)")
        return None
    problem = names.tenant_problem(partition)
    if problem:
        ctx.error("NAME301", res.meta, problem, *(("spec", "partition") if res.partition or value else ()),
                  hint="use a shorter partition")
        return None
    return partition


def address_of(ctx: CrdContext, res: CustomResource, ipam_key: str, explicit: str = "",
               keys: tuple[str | int, ...] = ("spec", "virtualServerAddress")) -> str | None:
    """The explicit address, else the IPAM allocation for (ipamLabel, key); a finding when neither."""
    address = explicit or res.address
    if address:
        parsed = parse_vs_address(address)
        if parsed is None or "/" in parsed:
            ctx.error("CRD006", res.meta, f"{address!r} is not an IP address", *keys,
                      hint="write an IPv4 or IPv6 address without a prefix length")
            return None
        return parsed.split("%")[0]
    if res.ipam_label:
        found = ctx.ipam(res, ipam_key) if ctx.ipam else None
        if found is None and res.ipam_label in ctx.config.ipam:
            ctx.error("CRD007", res.meta, f"ipamLabel {res.ipam_label!r} has no allocation for {ipam_key!r}",
                      "spec", "ipamLabel", hint="run `as3-gitops ipam allocate` and commit the allocation file")
        return found
    ctx.error("CRD008", res.meta, "needs virtualServerAddress or ipamLabel", "spec",
              hint="set spec.virtualServerAddress (or spec.ipamLabel with an ipam: range in as3-gitops.yaml)")
    return None


def check_balance(ctx: CrdContext, meta: ObjectMeta, pool: CrdPool) -> bool:
    if not pool.balance or pool.balance in BALANCE_MODES:
        return True
    near = difflib.get_close_matches(pool.balance, BALANCE_MODES, n=1)
    ctx.error("CRD023", meta, f"loadBalancingMethod {pool.balance!r} is not a BIG-IP load-balancing mode",
              *pool.keys, "loadBalancingMethod", hint=f"did you mean {near[0]!r}?" if near else None)
    return False


def resolve_service(ctx: CrdContext, meta: ObjectMeta, namespace: str, service: str, port: int | str | None,
                    keys: tuple[str | int, ...]) -> ResolvedBackend | None:
    what = f"{meta.kind} {meta.ident}"
    svc = ctx.cluster.services.get((namespace, service))
    if svc is None:
        ctx.findings.append(Finding("CRD020", f"{what}: Service {namespace}/{service} does not exist in the manifests",
                                    meta.locate(*keys, "service"), hint="add the Service (or fix the name)"))
        return None
    sp = svc.port_for(port) if port is not None else (svc.ports[0] if len(svc.ports) == 1 else None)
    if sp is None and isinstance(port, str) and port.isdigit():
        sp = svc.port_for(int(port))
    if sp is None:
        have = ", ".join(f"{p.port}" + (f" ({p.name})" if p.name else "") for p in svc.ports) or "none"
        ctx.findings.append(Finding("CRD021", f"{what}: Service {namespace}/{service} has no port {port!r} "
                                    f"(ports: {have})", meta.locate(*keys, "servicePort"),
                                    hint="use one of the Service's port numbers or names"))
        return None
    return ResolvedBackend(svc, sp)


def add_pool(ctx: CrdContext, tenant: Tenant, meta: ObjectMeta, spec: CrdPool, name: str, backend: ResolvedBackend,
             *, monitor_ip: str, host: str, remark_vs: str, policy: PolicyCR | None,
             monitor_port: int | str | None = None, check_send: bool = True) -> Pool | None:
    """The pool for one pool entry (shared when another resource already declared the same name, as in CIS);
    None (with CRD120) when the name belongs to something else."""
    members, origins = members_for(ctx.cluster, ctx.config, backend, ctx.findings)
    if not members:
        ctx.findings.append(Finding(
            "CRD022", f"{meta.kind} {meta.ident}: Service {backend.service.meta.ident} port {backend.port.port} has no "
            "ready endpoint in the snapshot; its pool has no members", meta.locate(*spec.keys), Severity.WARNING,
            hint="capture the snapshot again (as3-gitops snapshot capture) or check the Service"))
    identity = ("pool", backend.service.meta.namespace, backend.service.meta.name, spec.service_port, host,
                spec.node_member_label, spec.path)
    if not ctx.claim(tenant, name, identity, meta):
        return None
    pool = tenant.pools.get(name)
    if pool is None:
        pool = tenant.pools[name] = Pool(name, spec.balance or "round-robin", members,
                                         share_nodes=ctx.config.bigip.share_nodes,
                                         service=(backend.service.meta.namespace, backend.service.meta.name))
    for origin in (meta.origin, backend.service.meta.origin, *origins):
        if origin not in pool.origins:
            pool.origins.append(origin)
    port_for_monitor = monitor_port if monitor_port is not None else spec.service_port
    for mon in spec.monitors:
        if mon.reference == "bigip":
            if mon.name and mon.name not in pool.bigip_monitors:
                pool.bigip_monitors.append(mon.name)
            continue
        if check_send and mon.type in ("http", "https") and not mon.send:
            ctx.error("CRD024", meta, f"{mon.type} monitor without send; skipped, as CIS skips it", *mon.keys,
                      hint='add send: "GET / HTTP/1.1\\r\\nHost: ...\\r\\n\\r\\n"', severity=Severity.WARNING)
            continue
        mname = names.crd_monitor_name(meta.namespace, monitor_ip, mon.type, mon.target_port or port_for_monitor or 0,
                                       host, spec.path, tenant=tenant.name)
        # the entry's own monitor: A/B backends of one entry share it, as in CIS
        if not ctx.claim(tenant, mname, ("monitor", mname, mon), meta):
            continue
        tenant.monitors[mname] = Monitor(
            mname, mon.type, mon.send if mon.send is not None else "",
            mon.recv if mon.recv else ("none" if mon.type == "http" else ""), mon.interval, mon.timeout,
            client_tls=mon.ssl_profile or None if mon.type == "https" else None, origins=[meta.origin], crd=True,
            target_port=mon.target_port)
        if mname not in pool.monitors:
            pool.monitors.append(mname)
    settings = policy.mapping("poolSettings") if policy else {}
    props = pool.properties
    count = len(pool.monitors) + len(pool.bigip_monitors)
    props["minimumMonitors"] = spec.minimum_monitors if spec.minimum_monitors is not None else (
        1 if count else "all")
    down = spec.service_down_action or settings.get("serviceDownAction", "")
    if down:
        props["serviceDownAction"] = down
    tries = spec.reselect_tries or settings.get("reselectTries", 0)
    if tries:
        props["reselectTries"] = tries
    if settings.get("slowRampTime"):
        props["slowRampTime"] = settings["slowRampTime"]
    props["remark"] = f"{remark_vs} loadbalances this pool".encode()[:64].decode("utf-8", "ignore")
    return pool


def service_address(ctx: CrdContext, tenant: Tenant, vs: VirtualServer, res: CustomResource) -> None:
    """spec.serviceAddress[0] -> a Service_Address the virtual uses instead of its bare address."""
    raw = res.spec.get("serviceAddress") or []
    if not raw:
        return
    entry = raw[0]
    if entry.get("arpEnabled") is True and entry.get("spanningEnabled") is True:
        ctx.error("CRD017", res.meta, "serviceAddress: arpEnabled and spanningEnabled cannot both be true "
                  "(AS3 refuses the Service_Address)", "spec", "serviceAddress", 0, "spanningEnabled")
        return
    name = names.crd_service_address_name(vs.address, tenant=tenant.name)
    if not ctx.claim(tenant, name, ("service address", vs.address), res.meta):
        return
    # CIS always sends arpEnabled (false when unset, where AS3's default is true); spanningEnabled only when set
    props: dict[str, Any] = {"class": "Service_Address", "virtualAddress": vs.address,
                             "arpEnabled": bool(entry.get("arpEnabled", False))}
    for key in ("spanningEnabled", "icmpEcho", "routeAdvertisement"):
        if entry.get(key) not in (None, "", False):
            props[key] = entry[key]
    if entry.get("trafficGroup"):
        props["trafficGroup"] = entry["trafficGroup"]
    tenant.declared[name] = Declared(name, props, origins=[res.meta.origin])
    vs.address_ref = name


def bigip(value: str) -> dict[str, str]:
    return {"bigip": value}


def _persistence(value: str) -> list:
    if value == "none":
        return []
    return [value] if value in PERSISTENCE_BUILTINS else [bigip(value)]


def _compression(value: str) -> Any:
    return value if value in ("basic", "wan") else bigip(value)


def _client_server(raw: dict[str, Any], only_client_server: bool) -> Any:
    client, server = raw.get("client", ""), raw.get("server", "")
    if client and server:
        return {"ingress": bigip(client), "egress": bigip(server)}
    if client:
        return bigip(client)
    if server and not only_client_server:
        return {"egress": bigip(server)}
    return None


# (path in the resource spec, path in a Policy spec, AS3 property, converter); None: not there
_PROPERTIES: tuple[tuple[tuple[str, ...] | None, tuple[str, ...] | None, str, Callable[[Any], Any]], ...] = (
    (("waf",), ("l7Policies", "waf"), "policyWAF", bigip),
    (("persistenceProfile",), ("profiles", "persistenceProfile"), "persistenceMethods", _persistence),
    (("httpCompressionProfile",), ("profiles", "httpCompressionProfile"), "profileHTTPCompression", _compression),
    (("profileMultiplex",), ("profiles", "profileMultiplex"), "profileMultiplex", bigip),
    (("htmlProfile",), ("profiles", "htmlProfile"), "profileHTML", bigip),
    (("dos",), ("l3Policies", "dos"), "profileDOS", bigip),
    (("botDefense",), ("l3Policies", "botDefense"), "profileBotDefense", bigip),
    (("profileAccess",), ("l7Policies", "profileAccess"), "profileAccess", bigip),
    (("policyPerRequestAccess",), ("l7Policies", "policyPerRequestAccess"), "policyPerRequestAccess", bigip),
    (("profileAdapt", "request"), ("l7Policies", "profileAdapt", "request"), "profileRequestAdapt", bigip),
    (("profileAdapt", "response"), ("l7Policies", "profileAdapt", "response"), "profileResponseAdapt", bigip),
    (("connectionMirroring",), None, "mirroring", str),
    (("allowVlans",), ("l3Policies", "allowVlans"), "allowVlans", lambda v: [bigip(x) for x in v]),
    (None, ("l3Policies", "firewallPolicy"), "policyFirewallEnforced", bigip),
    (None, ("l3Policies", "ipIntelligencePolicy"), "ipIntelligencePolicy", bigip),
    (None, ("profiles", "http"), "profileHTTP", bigip),
    (None, ("profiles", "logProfiles"), "securityLogProfiles", lambda v: [bigip(x) for x in v]),
    (None, ("profiles", "analyticsProfiles", "http"), "profileAnalytics", bigip),
    (None, ("profiles", "profileWebSocket"), "profileWebSocket", bigip),
    (None, ("autoLastHop",), "lastHop", str),
)
HTTP_ONLY = {"policyWAF", "profileHTTPCompression", "profileMultiplex", "profileHTML", "profileAccess",
             "policyPerRequestAccess", "profileRequestAdapt", "profileResponseAdapt", "profileHTTP",
             "profileAnalytics", "profileWebSocket", "profileHTTP2"}


def _get(spec: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = spec
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def virtual_properties(res: CustomResource, policy: PolicyCR | None, *, https: bool, http: bool) -> dict[str, Any]:
    """AS3 properties of the virtual: the Policy's values, overwritten by the resource's (CIS order)."""
    props: dict[str, Any] = {}
    for layer, index in ((policy, 1), (res, 0)):
        if layer is None:
            continue
        for entry in _PROPERTIES:
            path = entry[index]
            value = _get(layer.spec, path) if path else None
            if value in (None, "", []) or (not http and entry[2] in HTTP_ONLY):
                continue
            props[entry[2]] = entry[3](value)
        tcp_path = ("profiles", "tcp")
        tcp = _client_server(_get(layer.spec, tcp_path) or {}, True)
        if tcp is not None:
            props["profileTCP"] = tcp
        http2 = _client_server(_get(layer.spec, ("profiles", "http2")) or {}, False)
        if http2 is not None and https and http:
            props["profileHTTP2"] = http2
        mrf = _get(layer.spec, ("httpMrfRoutingEnabled",) if layer is res else ("profiles", "httpMrfRoutingEnabled"))
        if mrf is True and http and (layer is res or "httpMrfRoutingEnabled" not in props):
            props["httpMrfRoutingEnabled"] = True
    return props


def irules_of(res: CustomResource, policy: PolicyCR | None, *, https: bool) -> tuple[list[str], bool]:
    """Policy iRules (iRuleList, else secure/insecure by side), then the resource's; `none` drops the
    entry and keeps CIS's own iRules off the virtual (the second value)."""
    rules: list[str] = []
    suppressed = False
    if policy is not None:
        listed = list(policy.strings("iRuleList"))
        side = policy.text("iRules", "secure" if https else "insecure")
        rules += listed or ([side] if side else [])
    rules += list(res.strings("iRules"))
    out = []
    for rule in rules:
        if rule == "none":
            suppressed = True
        elif rule not in out:
            out.append(rule if rule.startswith("/") else f"/Common/{rule}")
    return out, suppressed


def snat_of(res: CustomResource, policy: PolicyCR | None) -> str:
    return res.text("snat") or (policy.text("snat") if policy else "") or "auto"


def locate(meta: ObjectMeta, *keys: str | int) -> Callable[[], SourceLocation]:
    return lambda: meta.locate(*keys)


def attach_irule(ctx: CrdContext, tenant: Tenant, vs: VirtualServer, dg: DataGroup, text: str, name: str,
                 metas: list[ObjectMeta]) -> None:
    """Declare `dg` and the iRule `name` that reads it, and attach the iRule to `vs`; nothing (with
    CRD120 from `claim`) when either name belongs to something else. `metas`: the resources they serve."""
    meta = metas[0]
    if not (ctx.claim(tenant, dg.name, ("data group", vs.name, dg.name), meta)
            and ctx.claim(tenant, name, ("irule", vs.name, name), meta)):
        return
    origins = [m.origin for m in metas]
    dg.origins = origins
    tenant.data_groups[dg.name] = dg
    tenant.irules[name] = IRule(name, text, origins=list(origins))
    if name not in vs.irules:
        vs.irules.append(name)
