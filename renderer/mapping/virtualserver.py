"""VirtualServer (cis.f5.com/v1) -> Service_HTTP / Service_HTTPS / Service_TCP, pools, monitors, one
Endpoint_Policy per virtual, CIS 2.20 names (cis-crd-behaviour.md §1).

All VirtualServers on one address are grouped, and per port they make one virtual with one policy,
whatever their hosts (CIS 2.20 groups only TLS resources with different terminations and otherwise
lets the last one overwrite the others). Resources of one group that disagree (partition, virtual
name, a virtual-level setting, a host+path) are an error that names both files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from renderer.errors import Finding
from renderer.kube.crd import CrdPool, PolicyCR, TLSProfileCR, VirtualServerCR, pool_of
from renderer.mapping import names
from renderer.mapping.abdeploy import ab_irule, ab_pools, add_records, is_ab
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
from renderer.mapping.irules import passthrough_irule, redirect_irule
from renderer.mapping.tlsprofile import attach_tls, find_tls_profile
from renderer.model import Action, Condition, DataGroup, Policy, Rule, Tenant, VirtualServer

# hostPersistence.method -> (AS3 persist action key, metaData fields AS3 requires)
PERSIST = {
    "sourceAddress": ("sourceAddress", ("netmask", "timeout")),
    "destinationAddress": ("destinationAddress", ("netmask", "timeout")),
    "cookieInsert": ("cookieInsert", ("name", "expiry")), "cookieRewrite": ("cookieRewrite", ("name", "expiry")),
    "cookiePassive": ("cookiePassive", ("name",)),
    "cookieHash": ("cookieHash", ("name", "offset", "length", "timeout")),
    "universal": ("universal", ("key", "timeout")), "hash": ("hash", ("key", "timeout")),
    "carp": ("carp", ("key", "timeout")), "none": ("disable", ()),
}


@dataclass
class Member:
    """One VirtualServer with what its group needs resolved."""

    res: VirtualServerCR
    partition: str
    ip: str
    policy: PolicyCR | None
    tls: TLSProfileCR | None
    http_traffic: str = "none"  # effective value for TLS resources: allow | redirect | none
    pool_names: dict[int, str] = field(default_factory=dict)  # pools[] index -> pool name

    @property
    def termination(self) -> str:
        return self.tls.termination if self.tls else ""

    @property
    def where(self) -> str:
        return f"VirtualServer {self.res.meta.ident} ({self.res.meta.location})"


def build_virtual_servers(ctx: CrdContext) -> None:
    groups: dict[str, list[Member]] = {}
    for res in sorted(ctx.cluster.crds.virtual_servers, key=lambda v: (v.meta.namespace, v.meta.name)):
        member = _resolve(ctx, res)
        if member is not None:
            groups.setdefault(member.ip, []).append(member)
    for ip in sorted(groups):
        group = _consistent(ctx, groups[ip])
        if group:
            _build_group(ctx, ip, group)


def _resolve(ctx: CrdContext, res: VirtualServerCR) -> Member | None:
    meta = res.meta
    errors = len(ctx.findings)  # only the new findings are looked at (O(1) per object, not O(findings))
    method = res.text("hostPersistence", "method")
    if method:
        needed = [k for k in PERSIST[method][1] if k not in res.mapping("hostPersistence", "metaData")]
        if needed:
            ctx.error("CRD054", meta, f"hostPersistence {method} needs metaData {', '.join(needed)}",
                      "spec", "hostPersistence", hint="CIS refuses it too ('failed to create LTM Rules')")
    if res.text("rewriteAppRoot") and sum(1 for p in res.pools if p.path in ("", "/")) != 1:
        ctx.error("CRD053", meta, "rewriteAppRoot needs exactly one pool with path /", "spec", "rewriteAppRoot",
                  hint="CIS fails it with 'AppRoot path not found'")
    for i, pool in enumerate(res.pools):
        if pool.multi_cluster:
            ctx.error("CRD051", meta, "multiClusterServices needs CIS's multi-cluster mode; not supported",
                      "spec", "pools", i, "multiClusterServices")
        if not pool.service or pool.service_port is None:
            ctx.error("CRD025", meta, "each pool needs service and servicePort", "spec", "pools", i)
    if res.strings("hostAliases") and not res.host:
        ctx.error("CRD009", meta, "hostAliases need host", "spec", "hostAliases")
    if res.text("httpTraffic") and not res.text("tlsProfileName"):
        ctx.error("CRD010", meta, "httpTraffic applies only with tlsProfileName", "spec", "httpTraffic",
                  hint="remove httpTraffic, or add a TLSProfile")
    partition = partition_of(ctx, res)
    key = ipam_key(res)
    ip = address_of(ctx, res, key)
    policy = policy_for(ctx, res)
    tls = find_tls_profile(ctx, res) if res.text("tlsProfileName") else None
    if any(f.is_error for f in ctx.findings[errors:]) or ip is None or partition is None or policy is False \
            or tls is False:
        for spec in res.pools:  # one run reports every problem: the pool references too
            if spec.service and spec.service_port is not None:
                resolve_service(ctx, meta, spec.namespace, spec.service, spec.service_port, spec.keys)
        return None
    member = Member(res, partition, ip, policy or None, tls or None)
    if member.tls is not None:
        # CIS's docs promise allow; an HTTP port equal to the HTTPS port can only mean "no HTTP virtual"
        same_port = res.http_port == res.https_port
        default = "allow" if member.termination == "edge" and not same_port else "none"
        member.http_traffic = res.text("httpTraffic") or default
        if member.http_traffic in ("allow", "redirect") and same_port:
            ctx.error("CRD018", meta, f"httpTraffic {member.http_traffic} needs an HTTP port other than the HTTPS "
                      f"port {res.https_port}", "spec", "virtualServerHTTPPort")
            return None
        if member.http_traffic == "allow" and member.termination != "edge":
            ctx.error("CRD011", meta, f"httpTraffic allow cannot be used with {member.termination} termination",
                      "spec", "httpTraffic", hint="use redirect or none")
            return None
    return member


def _conflict(ctx: CrdContext, code: str, a: Member, b: Member, what: str) -> None:
    ctx.findings.append(Finding(code, f"{b.where} and {a.where} share {b.ip} but {what}", b.res.meta.location,
                                hint="give them different addresses, or make them agree"))


def _consistent(ctx: CrdContext, group: list[Member]) -> list[Member]:
    first = group[0]
    ok = [first]
    for m in group[1:]:
        if m.partition != first.partition:
            _conflict(ctx, "CRD012", first, m, f"use partitions {first.partition!r} and {m.partition!r}")
        elif m.res.host_group != first.res.host_group and m.res.host_group and first.res.host_group:
            _conflict(ctx, "CRD012", first, m, f"have hostGroups {first.res.host_group!r} and {m.res.host_group!r}")
        elif m.res.strings("additionalVirtualServerAddresses") != first.res.strings("additionalVirtualServerAddresses"):
            _conflict(ctx, "CRD012", first, m, "list different additionalVirtualServerAddresses")
        else:
            ok.append(m)
    return ok if len(ok) == len(group) else []


def _custom(m: Member) -> str:
    if m.res.host_group:
        return m.res.text("hostGroupVirtualServerName")
    return m.res.text("virtualServerName")


def _build_group(ctx: CrdContext, ip: str, group: list[Member]) -> None:
    ports: dict[tuple[int, bool], list[Member]] = {}
    for m in group:
        if m.tls is None or m.http_traffic in ("allow", "redirect"):
            ports.setdefault((m.res.http_port, False), []).append(m)
        if m.tls is not None:
            ports.setdefault((m.res.https_port, True), []).append(m)
    tenant = ctx.reg.tenant(group[0].partition)
    for (port, https), members in sorted(ports.items()):
        _build_virtual(ctx, tenant, ip, port, https, members)


def _build_virtual(ctx: CrdContext, tenant: Tenant, ip: str, port: int, https: bool, members: list[Member]) -> None:
    first = members[0]
    passthrough = [m for m in members if https and m.termination == "passthrough"]
    if passthrough and len(passthrough) != len(members):
        other = next(m for m in members if m not in passthrough)
        _conflict(ctx, "CRD013", passthrough[0], other, f"mix passthrough and {other.termination} TLS on port {port}")
        return
    named = next((m for m in members if _custom(m) != _custom(first)), None)
    if named is not None:
        _conflict(ctx, "CRD012", first, named, f"name the virtual on port {port} {_custom(first) or 'crd_<ip>'!r} "
                  f"and {_custom(named) or 'crd_<ip>'!r}")
        return
    cls = "Service_TCP" if passthrough else ("Service_HTTPS" if https else "Service_HTTP")
    vs_name = names.crd_vs_name(ip, port, _custom(first), tenant=tenant.name)
    if not ctx.claim(tenant, vs_name, ("virtual", ip, port), first.res.meta):
        return
    vs = ctx.reg.virtual_server(first.partition, ip, port, cls, first.res.meta, ctx.findings, name=vs_name)
    if vs is None:
        return
    props: dict[str, Any] = {}
    owner: dict[str, Member] = {}
    for m in members:
        vs.origins.append(m.res.meta.origin)
        vs.origins += [r.meta.origin for r in (m.policy, m.tls if https else None) if r is not None
                       and r.meta.origin not in vs.origins]
        mine = virtual_properties(m.res, m.policy, https=https, http=not passthrough)
        mine["snat"] = snat_of(m.res, m.policy)
        if passthrough:
            mine.setdefault("persistenceMethods", ["tls-session-id"])
        for key, value in mine.items():
            if key in props and props[key] != value:
                _conflict(ctx, "CRD014", owner[key], m, f"set {key} differently on port {port}")
                continue
            props[key], owner[key] = value, m
    vs.snat = props.pop("snat")
    vs.properties.update(props)
    vs.extra_addresses = list(first.res.strings("additionalVirtualServerAddresses"))
    suppressed = False
    for m in members:
        rules, off = irules_of(m.res, m.policy, https=https)
        suppressed |= off
        vs.irules += [r for r in rules if r not in vs.irules]
    service_address(ctx, tenant, vs, first.res)
    policy = Policy(names.crd_policy_name(vs.name, first.res.host_group or first.res.host, tenant=tenant.name))
    claimed: dict[tuple[str, str], Member] = {}
    redirect_dg = DataGroup(names.crd_object_name(vs.name, "https_redirect_dg", tenant=tenant.name))
    passthrough_dg = DataGroup(names.crd_object_name(vs.name, "ssl_passthrough_servername_dg", tenant=tenant.name))
    ab_dg = DataGroup(names.crd_object_name(vs.name, "ab_deployment_dg", tenant=tenant.name))
    for m in members:
        remark = vs.name.rsplit("_", 1)[0] if m.tls and m.http_traffic in ("allow", "redirect") else vs.name
        routed = not (m.tls and not https and m.http_traffic == "redirect")
        for i, spec in enumerate(m.res.pools):
            ab = is_ab(spec)
            if ab and m in passthrough:
                ctx.error("CRD052", m.res.meta, "weight / alternateBackends with passthrough TLS are not supported",
                          *spec.keys)
                continue
            backends = ab_pools(ctx, tenant, m.res.meta, spec, ip, remark, host=m.res.host,
                                 policy=m.policy) if ab else None
            pool = backends[0][0] if backends else (None if ab else _pool(ctx, tenant, m, spec, ip, remark))
            if pool is None:
                continue
            m.pool_names[i] = pool
            if backends and routed:
                add_records(ab_dg, m, spec, backends)
            if m in passthrough:
                for host in m.res.hosts:
                    passthrough_dg.records[host.lstrip("*")] = pool
            elif routed:
                _rules(ctx, policy, claimed, m, spec, pool, port, vs, ab=ab)
            else:
                for host in m.res.hosts or ("*",):
                    path = spec.path.rstrip("/") or "/"
                    redirect_dg.records[f"{host.lstrip('*') or '*'}{path}"] = path
        if routed and not passthrough:
            _default_pool(ctx, tenant, vs, m, ip, remark)
    if policy.rules and ctx.claim(tenant, policy.name, ("policy", vs.name), first.res.meta):
        policy.origins = [m.res.meta.origin for m in members]
        for rank, rule in enumerate(sorted(policy.rules, key=_rule_order)):
            rule.rank = (rank,)
        tenant.policies[policy.name] = policy
        vs.policy = policy.name
    metas = [m.res.meta for m in members]
    if redirect_dg.records and not suppressed:
        https_port = members[0].res.https_port
        attach_irule(ctx, tenant, vs, redirect_dg, redirect_irule(tenant.name, https_port, redirect_dg.name),
                     names.crd_object_name(vs.name, f"http_redirect_irule_{https_port}", tenant=tenant.name), metas)
    if ab_dg.records:  # the A/B iRule is what forwards: `none` in iRules cannot turn it off
        attach_irule(ctx, tenant, vs, ab_dg, ab_irule(tenant.name, ab_dg.name),
                     names.crd_object_name(vs.name, "ab_deployment_path_irule", tenant=tenant.name), metas)
    if passthrough_dg.records and not suppressed:
        attach_irule(ctx, tenant, vs, passthrough_dg, passthrough_irule(tenant.name, passthrough_dg.name),
                     names.crd_object_name(vs.name, "tls_irule", tenant=tenant.name), metas)
    if https and not passthrough:
        attach_tls(ctx, tenant, vs, members, suppressed)
    serves = https or not any(m.tls and m.http_traffic in ("allow", "redirect") for m in members)
    for m in members:
        for host in m.res.hosts:
            ctx.hosts.append((host, tenant.name, vs.name, serves))


def _pool(ctx: CrdContext, tenant: Tenant, m: Member, spec: CrdPool, ip: str, remark: str) -> str | None:
    if not check_balance(ctx, m.res.meta, spec):
        return None
    backend = resolve_service(ctx, m.res.meta, spec.namespace, spec.service, spec.service_port, spec.keys)
    if backend is None:
        return None
    name = names.crd_name(spec.name, tenant=tenant.name) if spec.name else names.crd_pool_name(
        spec.service, spec.service_port if spec.service_port is not None else "", spec.namespace, m.res.host,
        spec.node_member_label, spec.path, tenant=tenant.name)
    if add_pool(ctx, tenant, m.res.meta, spec, name, backend, monitor_ip=ip, host=m.res.host, remark_vs=remark,
                policy=m.policy) is None:
        return None
    return name


def host_condition(host: str, port: int) -> Condition:
    value, operand = (host[1:], "ends-with") if host.startswith("*.") else (host, "equals")
    values = (f"{value}:{port}", value) if port in (80, 443) else (f"{value}:{port}",)
    return Condition("httpHeader", name="host", selector="all", values=values, operand=operand)


def _rules(ctx: CrdContext, policy: Policy, claimed: dict[tuple[str, str], Member], m: Member, spec: CrdPool,
           pool: str, port: int, vs: VirtualServer, *, ab: bool = False) -> None:
    path = spec.path.rstrip("/")
    segments = [s for s in path.split("/") if s]
    ranges = m.res.strings("allowSourceRange") or (m.policy.strings("l3Policies", "allowSourceRange")
                                                    if m.policy else ())
    waf = "policyWAF" not in vs.properties and spec.waf
    for host in m.res.hosts or ("",):
        other = claimed.setdefault((host, path), m)
        if other is not m:
            _conflict(ctx, "CRD015", other, m, f"both route host {host or '(any)'!r} path {path or '/'!r}")
            continue
        label = m.res.host_group or host
        if m.res.host_group and m.res.strings("hostAliases"):
            label = f"{m.res.host_group}_{m.res.host}"
        name = names.crd_rule_name(label, path, pool)
        existing = next((r for r in policy.rules if r.name == name), None)
        if existing is not None and host:
            cond = existing.conditions[0]
            if cond.type == "httpHeader" and cond.operand == host_condition(host, port).operand:
                cond.values = tuple(dict.fromkeys(cond.values + host_condition(host, port).values))
                continue
        conds = ([host_condition(host, port)] if host else [])
        conds += [Condition("httpUri", name=str(i), index=i, selector="pathSegment", values=(seg,))
                  for i, seg in enumerate(segments, start=1)]
        if ranges:
            conds.append(Condition("tcp", selector="address", values=tuple(ranges), operand="matches"))
        actions = []
        if spec.host_rewrite:
            actions.append(Action("httpHeader", header="host", replace=spec.host_rewrite))
        if spec.rewrite:
            actions.append(Action("httpUri", uri_part="value",
                                  replace=f"tcl:[regsub {spec.path or '/'} [HTTP::uri] {spec.rewrite} ]"))
        actions.append(Action("log", replace="a/b pool") if ab else Action("forward", pool=pool))
        method = m.res.text("hostPersistence", "method")
        if method and host:
            key, fields = PERSIST[method]
            meta_data = m.res.mapping("hostPersistence", "metaData")
            actions.append(Action("persist", persist_method=key, persist={k: meta_data[k] for k in fields}))
        if waf:
            actions.append(Action("waf", policy=spec.waf))
        policy.rules.append(Rule(name if existing is None else f"{name}_{len(policy.rules)}", conds, actions))
        root = m.res.text("rewriteAppRoot")
        if root and host and not path:
            policy.rules.append(Rule(names.crd_rule_name(host, "", f"redirectto_{root}"), [
                host_condition(host, port), Condition("httpUri", selector="path", values=("/",))],
                [Action("httpRedirect", location=root)]))


def _rule_order(rule: Rule) -> tuple:
    """CIS's order without its random tie-break: more conditions, more equals, more ends-with, name."""
    equals = sum(len(c.values) for c in rule.conditions if c.operand == "equals")
    ends = sum(len(c.values) for c in rule.conditions if c.operand == "ends-with")
    return (-len(rule.conditions), -equals, -ends, rule.name)


def _default_pool(ctx: CrdContext, tenant: Tenant, vs: VirtualServer, m: Member, ip: str, remark: str) -> None:
    spec = m.res.default_pool
    if spec is None and m.policy is not None and m.policy.mapping("defaultPool"):
        spec = pool_of(m.policy.mapping("defaultPool"), ("spec", "defaultPool"), m.res.meta.namespace)
    if spec is None:
        return
    if spec.reference == "bigip":
        if not spec.name:
            ctx.error("CRD026", m.res.meta, "defaultPool with reference bigip needs name", *spec.keys)
            return
        target: Any = bigip(spec.name)
    else:
        if not spec.service or spec.service_port is None:
            ctx.error("CRD025", m.res.meta, "defaultPool with reference service needs service and servicePort",
                      *spec.keys)
            return
        backend = resolve_service(ctx, m.res.meta, spec.namespace, spec.service, spec.service_port, spec.keys)
        if backend is None or not check_balance(ctx, m.res.meta, spec):
            return
        # CIS names it with the VirtualServer's namespace even when serviceNamespace differs
        target = names.crd_pool_name(spec.service, spec.service_port, m.res.meta.namespace, m.res.host,
                                     spec.node_member_label, tenant=tenant.name)
        if add_pool(ctx, tenant, m.res.meta, spec, target, backend, monitor_ip=ip, host=m.res.host,
                    remark_vs=remark, policy=m.policy) is None:
            return
    current = vs.pool or vs.properties.get("pool")
    if current is not None and current != target:
        ctx.error("CRD016", m.res.meta, f"defaultPool differs from another VirtualServer on {vs.address}:{vs.port}",
                  *spec.keys)
        return
    if isinstance(target, dict):
        vs.properties["pool"] = target
    else:
        vs.pool = target

