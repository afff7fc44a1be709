"""OpenShift Routes (route.openshift.io/v1) -> the objects and names of CIS's legacy Route mode.

cis-crd-behaviour.md §9.1: every Route lives in the default partition on two shared virtuals at
`bigip.routeVirtualAddress` (`ose_vserver`:80, `https_ose_vserver`:443); pools `openshift_<ns>_<svc>`;
rules `osr_<ns>_<name>` in the policies `openshift_insecure_routes` / `openshift_secure_routes`;
TLS through the `ssl_*_servername_dg` data groups and the `openshift_passthrough_irule`. Policies,
conditions, TLS objects and the HTTP->HTTPS redirect are the Ingress machinery's (ingress.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from renderer.config import Config
from renderer.errors import Finding, Severity
from renderer.kube.load import Cluster
from renderer.kube.objects import ObjectMeta, Route, Service, ServicePort
from renderer.mapping import names, route_irules
from renderer.mapping.annotations import Annotations, parse_annotations, parse_vs_address
from renderer.mapping.as3_configmap import raw_metadata
from renderer.mapping.ingress import _forward, _host_condition, _path_conditions, _redirect_irule
from renderer.mapping.members import ResolvedBackend, members_for
from renderer.mapping.registry import Registry
from renderer.model import (
    Action,
    Certificate,
    Condition,
    DataGroup,
    IRule,
    Monitor,
    Policy,
    Pool,
    Rule,
    Tenant,
    TLSServer,
    VirtualServer,
)

INSECURE_POLICY = "openshift_insecure_routes"
SECURE_POLICY = "openshift_secure_routes"
PASSTHROUGH_IRULE = "openshift_passthrough_irule"
AB_IRULE = "ab_deployment_path_irule"
REDIRECT_IRULE = "http_redirect_irule"
DEFAULT_CLIENT_SSL = "/Common/clientssl"
DEFAULT_SERVER_SSL = "/Common/serverssl"


def cis_route_name(raw: str, tenant: str | None = None) -> str:
    """CIS's as3FormattedString for Route objects: `-` -> `_`, then the openshift_route/ssl abbreviations
    (limited to the room in `tenant` for an object; without it, a policy rule name)."""
    text = raw.replace("-", "_").replace("openshift_route", "osr").replace("client_ssl", "cssl")
    return names.as3_name(text.replace("server_ssl", "sssl"), tenant=tenant)


@dataclass
class _Routes:
    """State shared by all Routes: the two virtuals, what each host+path belongs to, the TLS choices."""

    partition: str
    address: str
    tenant: Tenant
    http: VirtualServer | None = None
    https: VirtualServer | None = None
    claimed: dict[tuple[str, str], str] = field(default_factory=dict)
    server_profiles: set[str] = field(default_factory=set)
    client_profiles: set[str] = field(default_factory=set)
    certificates: list[str] = field(default_factory=list)
    secure: bool = False
    profile_route: ObjectMeta | None = None  # the first Route that asked for a client-SSL profile
    defaulted: bool = False  # a terminated Route without certificate or profile
    ab_passthrough: bool = False  # a passthrough Route with alternate backends: the SNI part picks by weight
    registry: Registry | None = None  # for name claims (registry.claim: names are injective)


def build_routes(cluster: Cluster, config: Config, reg: Registry, findings: list[Finding]) -> None:
    if not cluster.routes:
        return
    address = config.bigip.route_virtual_address
    routes = sorted(cluster.routes, key=lambda r: (str(raw_metadata(r.meta).get("creationTimestamp") or "~"),
                                                   r.meta.namespace, r.meta.name))
    if address is None or parse_vs_address(address) is None:
        for route in routes:
            findings.append(Finding(
                "RTE001", f"Route {route.meta.ident}: bigip.routeVirtualAddress is "
                f"{'not set' if address is None else f'{address!r}, not an IP address'}", route.meta.location,
                hint="set bigip.routeVirtualAddress in as3-gitops.yaml (CIS --route-vserver-addr)"))
        return
    state = _Routes(config.bigip.partition, parse_vs_address(address) or address, reg.tenant(config.bigip.partition),
                    registry=reg)
    for route in routes:
        _build_one(route, state, cluster, config, reg, findings)
    _finish_tls(state, config, findings)


def _virtual(state: _Routes, https: bool, route: Route, config: Config, reg: Registry,
             findings: list[Finding]) -> VirtualServer | None:
    vs = state.https if https else state.http
    if vs is None:
        name = config.bigip.route_https_vserver if https else config.bigip.route_http_vserver
        vs = reg.virtual_server(state.partition, state.address, 443 if https else 80,
                                "Service_HTTPS" if https else "Service_HTTP", route.meta, findings,
                                name=names.as3_name(name.replace("-", "_"), tenant=state.partition))
        if vs is None:
            return None
        if https:
            state.https = vs
        else:
            state.http = vs
    if route.meta.origin not in vs.origins:
        vs.origins.append(route.meta.origin)
    return vs


def _service_port(svc: Service, target: int | str | None) -> ServicePort | None:
    """spec.port.targetPort names the Service's target port (by number or name); none: the first port."""
    if target is None:
        return svc.ports[0] if svc.ports else None
    for sp in svc.ports:
        if isinstance(target, str) and (sp.name == target or sp.target_port == target):
            return sp
        if isinstance(target, int) and (sp.target_port == target or (sp.target_port is None and sp.port == target)):
            return sp
    return next((sp for sp in svc.ports if sp.port == target), None)


def _pools(route: Route, ann: Annotations, state: _Routes, cluster: Cluster, config: Config,
           findings: list[Finding]) -> list[tuple[str, int]] | None:
    """(pool name, weight) per backend; None (with findings) when a Service or port is missing."""
    meta = route.meta
    out = []
    for backend in route.backends:
        svc = cluster.services.get((meta.namespace, backend.service))
        where = meta.locate(*backend.keys, "name")
        if svc is None:
            findings.append(Finding("RTE002", f"Route {meta.ident}: Service {meta.namespace}/{backend.service} does "
                                    "not exist", where, hint="add the Service to the manifests (or fix the name)"))
            return None
        sp = _service_port(svc, route.target_port)
        if sp is None:
            findings.append(Finding("RTE002", f"Route {meta.ident}: Service {svc.meta.ident} has no port "
                                    f"{route.target_port!r}", meta.locate("spec", "port"),
                                    hint="spec.port.targetPort names one of the Service's target ports"))
            return None
        name = names.as3_name(f"openshift_{meta.namespace}_{backend.service}".replace("-", "_"),
                              tenant=state.partition)
        identity = ("pool", "Route", meta.namespace, backend.service)
        if state.registry and not state.registry.claim(state.partition, name, identity, meta, findings, "pool"):
            return None
        pool = state.tenant.pools.get(name)
        if pool is None:
            members, origins = members_for(cluster, config, ResolvedBackend(svc, sp), findings)
            if not members:
                findings.append(Finding("ING030", f"Route {meta.ident}: Service {svc.meta.ident} has no ready "
                                        "endpoint; its pool has no members", meta.location, Severity.WARNING,
                                        hint="check the snapshot (paths.snapshot) for the Service's Endpoints"))
            pool = state.tenant.pools[name] = Pool(name, ann.balance, members, share_nodes=config.bigip.share_nodes,
                                                   service=(svc.meta.namespace, svc.meta.name),
                                                   origins=[svc.meta.origin, *origins])
        elif pool.balance != ann.balance:
            findings.append(Finding(
                "RTE008", f"Route {meta.ident}: pool {name} is shared by every Route to Service {svc.meta.ident} and "
                f"already uses balance {pool.balance!r} (from an older Route); {ann.balance!r} is ignored",
                meta.locate("metadata", "annotations"), Severity.WARNING,
                hint="CIS names Route pools after the Service only: give those Routes the same balance"))
        pool.origins.append(meta.origin)
        out.append((name, backend.weight))
    return out


def _build_one(route: Route, state: _Routes, cluster: Cluster, config: Config, reg: Registry,
               findings: list[Finding]) -> None:
    meta = route.meta
    errors_before = len(findings)  # only the new findings are looked at (O(1) per object, not O(findings))
    ann = parse_annotations(meta, findings, route=True)
    host, path = route.host, route.path or "/"
    if not host:
        findings.append(Finding("RTE009", f"Route {meta.ident} has no spec.host", meta.locate("spec"),
                                hint="OpenShift fills in a generated host in the cluster; write it into the manifest"))
        return
    key = (host, path.rstrip("/") or "/")
    if key in state.claimed:
        findings.append(Finding("RTE003", f"Route {meta.ident}: host {host!r} path {path!r} is already claimed by "
                                f"Route {state.claimed[key]} (the older one wins, as in OpenShift and CIS)",
                                meta.locate("spec", "host"), hint="give this Route another host or path"))
        return
    tls = route.tls
    if tls and tls.destination_ca and not ann.serverssl:
        findings.append(Finding(
            "RTE004", f"Route {meta.ident}: tls.destinationCACertificate is not supported",
            meta.locate("spec", "tls", "destinationCACertificate"),
            hint="CIS builds a server-ssl profile from it; create a BIG-IP server-ssl profile that trusts this CA "
                 "and name it in virtual-server.f5.com/serverssl"))
    if any(f.is_error for f in findings[errors_before:]):
        return
    pools = _pools(route, ann, state, cluster, config, findings)
    if pools is None:
        return
    state.claimed[key] = meta.ident
    if ann.secure_serverssl:
        findings.append(Finding("RTE005", f"Route {meta.ident}: virtual-server.f5.com/secure-serverssl is not "
                                "supported; the server side is not verified", meta.locate(
                                    "metadata", "annotations", "virtual-server.f5.com/secure-serverssl"),
                                Severity.WARNING, hint="use a server-ssl profile that verifies the peer "
                                "(virtual-server.f5.com/serverssl)"))
    main_pool = pools[0][0]
    record = f"{host}{path}"
    policy_ipv = tls.insecure_policy if tls else ""
    if tls and tls.termination != "edge" and policy_ipv not in ("", "None"):
        findings.append(Finding("RTE006", f"Route {meta.ident}: insecureEdgeTerminationPolicy {policy_ipv} is "
                                f"ignored for {tls.termination} termination (CIS honours it for edge only)",
                                meta.locate("spec", "tls", "insecureEdgeTerminationPolicy"), Severity.WARNING,
                                hint="no plain-HTTP virtual serves this Route"))
    on_http = tls is None or (tls.termination == "edge" and policy_ipv in ("Allow", "Redirect"))
    if on_http:
        vs = _virtual(state, False, route, config, reg, findings)
        if vs is not None:
            _add_rules(vs, INSECURE_POLICY, route, ann, main_pool, state, findings)
            if tls is not None and policy_ipv == "Redirect":
                _redirect(vs, state, route)
            if len(pools) > 1:
                _ab(vs, state, route, record, pools)
    if tls is not None:
        vs = _virtual(state, True, route, config, reg, findings)
        if vs is None:
            return
        state.secure = True
        _tls(route, ann, state, record, main_pool, findings)
        if tls.termination != "passthrough":
            _add_rules(vs, SECURE_POLICY, route, ann, main_pool, state, findings)
        if len(pools) > 1:
            _ab(vs, state, route, record, pools)
            state.ab_passthrough = state.ab_passthrough or tls.termination == "passthrough"
        if PASSTHROUGH_IRULE not in vs.irules:  # _finish_tls keeps it when a part of it is needed
            vs.irules.append(PASSTHROUGH_IRULE)
    _monitors(route, ann, state, [p for p, _w in pools], findings)


def _policy(vs: VirtualServer, name: str, state: _Routes, route: Route) -> Policy:
    policy = state.tenant.policies.get(name) or Policy(name)
    state.tenant.policies[name] = policy
    if route.meta.origin not in policy.origins:
        policy.origins.append(route.meta.origin)
    vs.policy = name
    return policy


def _add_rules(vs: VirtualServer, policy_name: str, route: Route, ann: Annotations, pool: str, state: _Routes,
               findings: list[Finding]) -> None:
    policy = _policy(vs, policy_name, state, route)
    meta = route.meta
    rule = cis_route_name(f"openshift_route_{meta.namespace}_{meta.name}")
    where = ([_host_condition(route.host, vs.port)] if route.host else []) + _path_conditions(route.path)
    source = [Condition("tcp", selector="address", values=tuple(ann.source_ranges), operand="matches")] \
        if ann.source_ranges else []
    actions: list[Action] = []
    for src, dst in ann.rewrite_target:
        if not src:  # the single form: this Route's host and path -> dst ("/path" or "host/path")
            src = f"{route.host}/{route.path.strip('/')}"
            dst = dst if not dst.startswith("/") else f"{route.host}{dst}"
        s_host, _, s_path = src.partition("/")
        d_host, _, d_path = dst.partition("/")
        if (s_host, "/" + s_path.rstrip("/")) != (route.host, "/" + route.path.strip("/")):
            findings.append(Finding("ANN006", f"virtual-server.f5.com/rewrite-target-url: {src!r} is not the host "
                                    f"and path of Route {meta.ident}", meta.locate(
                                        "metadata", "annotations", "virtual-server.f5.com/rewrite-target-url"),
                                    Severity.WARNING))
            continue
        if d_host and d_host != s_host:
            actions.append(Action("httpHeader", header="host", replace=d_host))
        if d_path != s_path:
            actions.append(Action("httpUri", replace=f"tcl:[regsub /{s_path} [HTTP::path] /{d_path}]"))
    if ann.waf:
        actions.append(Action("waf", policy=ann.waf))
    actions.append(_forward(pool))
    rank = (3, route.host + route.path)
    policy.rules.append(Rule(rule, where + source, actions, rank=rank))
    if source:  # CIS adds a <rule>-reset rule: the same host/path from any other source is dropped
        policy.rules.append(Rule(f"{rule}-reset", list(where), [Action("drop")], rank=(4, route.host + route.path)))
    root = ann.app_root.get("") or next(iter(ann.app_root.values()), None)
    if root:
        conds = ([_host_condition(route.host, vs.port)] if route.host else []) + [
            Condition("httpUri", selector="path", values=("/",))]
        policy.rules.append(Rule(f"app-root-redirect-rule-{rule}", conds, [Action("httpRedirect", location=root)],
                                 rank=(0, route.host)))


def _data_group(state: _Routes, name: str, route: Route) -> DataGroup:
    dg = state.tenant.data_groups.setdefault(name, DataGroup(name))
    if route.meta.origin not in dg.origins:
        dg.origins.append(route.meta.origin)
    return dg


def _tls(route: Route, ann: Annotations, state: _Routes, record: str, pool: str,
         findings: list[Finding] | None = None) -> None:
    """The data groups the passthrough iRule reads, and the client/server SSL choice for the HTTPS virtual."""
    tls = route.tls
    assert tls is not None
    pool_path = f"/{state.partition}/Shared/{pool}"
    if tls.termination == "passthrough":
        _data_group(state, "ssl_passthrough_servername_dg", route).records[route.host] = pool_path
        return
    if ann.clientssl:
        state.client_profiles.update(ann.clientssl)
        state.profile_route = state.profile_route or route.meta
    elif tls.certificate and tls.key:
        name = cis_route_name(f"openshift_route_{route.meta.namespace}_{route.meta.name}-client-ssl", state.partition)
        identity = ("certificate", "Route", route.meta.namespace, route.meta.name)
        if state.registry and not state.registry.claim(state.partition, name, identity, route.meta,
                                                       findings if findings is not None else [], "certificate"):
            return
        state.tenant.certificates[name] = Certificate(name, tls.certificate, tls.key, tls.ca_certificate,
                                                      origins=[route.meta.origin])
        state.certificates.append(name)
    else:
        state.defaulted = True  # served by the default client SSL (CIS: --default-client-ssl)
    if tls.termination == "edge":
        _data_group(state, "ssl_edge_servername_dg", route).records[record] = pool_path
        _data_group(state, "ssl_edge_serverssl_dg", route).records[record] = "false"
    else:
        profile = ann.serverssl or DEFAULT_SERVER_SSL
        state.server_profiles.add(profile)
        _data_group(state, "ssl_reencrypt_servername_dg", route).records[record] = pool_path
        _data_group(state, "ssl_reencrypt_serverssl_dg", route).records[record] = profile


def _finish_tls(state: _Routes, config: Config, findings: list[Finding]) -> None:
    vs = state.https
    if vs is None or not state.secure:
        return
    tenant = state.tenant
    if state.certificates and state.client_profiles:
        findings.append(Finding(
            "RTE007", f"Routes on {vs.name} mix route certificates and BIG-IP client-SSL profiles "
            f"({', '.join(sorted(state.client_profiles))}); AS3 cannot combine them on one virtual server",
            state.profile_route.location if state.profile_route else None,
            hint="give every secure Route a certificate/key, or every one a virtual-server.f5.com/clientssl"))
    if state.certificates:
        tls_name = names.as3_name(f"{vs.name}_tls_server", tenant=state.partition)
        tenant.tls_servers[tls_name] = TLSServer(tls_name, sorted(set(state.certificates)), config.bigip.ciphers,
                                                 origins=list(vs.origins))
        vs.server_tls = tls_name
    else:
        # the TLS_Server's first certificate is the SNI default; without certificates CIS's default profile.
        # Passthrough-only needs it too: the iRule's SSL::disable needs a client-SSL profile to turn off.
        defaulted = state.defaulted or not state.client_profiles
        vs.server_tls = sorted(state.client_profiles | ({DEFAULT_CLIENT_SSL} if defaulted else set()))
    if state.server_profiles:
        vs.client_tls = sorted(state.server_profiles)[0]  # the iRule picks the right one per host and path
    passthrough = "ssl_passthrough_servername_dg" in tenant.data_groups
    if PASSTHROUGH_IRULE in vs.irules and not (passthrough or state.server_profiles):
        vs.irules.remove(PASSTHROUGH_IRULE)  # edge Routes only: nothing to do, and no data group to read
    elif PASSTHROUGH_IRULE in vs.irules:
        tenant.irules[PASSTHROUGH_IRULE] = IRule(PASSTHROUGH_IRULE, route_irules.passthrough(
            state.partition, passthrough=passthrough, reencrypt=bool(state.server_profiles),
            ab=state.ab_passthrough),
            origins=list(vs.origins))


def _redirect(vs: VirtualServer, state: _Routes, route: Route) -> None:
    dg = _data_group(state, "https_redirect_dg", route)
    path = route.path or "/"
    dg.records[f"{route.host}{path}"] = path
    dg.records[f"{route.host}:80{path}"] = path
    irule = state.tenant.irules.get(REDIRECT_IRULE) or IRule(REDIRECT_IRULE, _redirect_irule(state.partition, 443))
    state.tenant.irules[REDIRECT_IRULE] = irule
    irule.origins.append(route.meta.origin)
    if REDIRECT_IRULE not in vs.irules:
        vs.irules.append(REDIRECT_IRULE)


def _ab(vs: VirtualServer, state: _Routes, route: Route, record: str, pools: list[tuple[str, int]]) -> None:
    dg = _data_group(state, "ab_deployment_dg", route)
    dg.records[record] = ";".join(f"/{state.partition}/Shared/{p},{w}" for p, w in pools)
    irule = state.tenant.irules.get(AB_IRULE) or IRule(AB_IRULE, route_irules.ab_deployment(state.partition))
    state.tenant.irules[AB_IRULE] = irule
    irule.origins.append(route.meta.origin)
    if AB_IRULE not in vs.irules:
        vs.irules.append(AB_IRULE)


def _monitors(route: Route, ann: Annotations, state: _Routes, pools: list[str], findings: list[Finding]) -> None:
    """A health entry applies when its `host/uri` is the Route's host and path (CIS legacy)."""
    for check in ann.health:
        host, _, uri = check.path.partition("/")
        if check.path and (host, "/" + uri.strip("/")) != (route.host, "/" + route.path.strip("/")):
            findings.append(Finding("ING040", f"Route {route.meta.ident}: health monitor path {check.path!r} is not "
                                    "the Route's host and path; skipped", check.location, Severity.WARNING,
                                    hint="use 'host/path' exactly as in the Route"))
            continue
        for pool_name in pools:
            name = names.monitor_name(pool_name, check.type, tenant=state.partition)
            state.tenant.monitors[name] = Monitor(
                name=name, monitor_type=check.type, send=check.send, receive=check.recv or "none",
                interval=check.interval, timeout=check.timeout,
                client_tls=check.ssl_profile if check.type == "https" and check.ssl_profile else None,
                origins=[route.meta.origin])
            pool = state.tenant.pools[pool_name]
            if name not in pool.monitors:
                pool.monitors.append(name)
