"""Ingress -> virtual servers, pools, monitors, L7 policies and TLS, as CIS 2.19+ maps them.

Differences from CIS (documented in the README): wildcard hosts match with `ends-with`, redirect
data-group values are kept verbatim, a missing TLS Secret is an error instead of a silently dropped
profile, and allow/whitelist-source-range also protects single-service Ingresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from renderer.config import Config
from renderer.errors import Finding, Severity
from renderer.kube.load import F5_CONTROLLER, Cluster
from renderer.kube.markers import F5_PREFIXES
from renderer.kube.objects import BackendRef, Ingress
from renderer.mapping import names
from renderer.mapping.annotations import Annotations, parse_annotations
from renderer.mapping.certificates import certificate_from_secret
from renderer.mapping.irules import redirect_irule as _redirect_irule
from renderer.mapping.members import ResolvedBackend, members_for, resolve_backend
from renderer.mapping.registry import Registry
from renderer.model import (
    Action,
    Condition,
    DataGroup,
    IRule,
    Monitor,
    Policy,
    Pool,
    Rule,
    TLSServer,
    VirtualServer,
)

V1BETA1 = ("extensions/v1beta1", "networking.k8s.io/v1beta1")
PARTITION = "virtual-server.f5.com/partition"  # the tenant (parse_annotations checks it)


def ingress_is_ours(ing: Ingress, cluster: Cluster, config: Config) -> tuple[bool, str]:
    """CIS's class rules: annotation, else spec.ingressClassName + IngressClass, else (networking.k8s.io/v1)
    the default class, or (v1beta1, as CIS <= 2.11 did) ours unless bigip.manageIngressClassOnly."""
    wanted = config.bigip.ingress_class
    if ing.class_annotation is not None:
        return ing.class_annotation == wanted, f"kubernetes.io/ingress.class is {ing.class_annotation!r}"
    if ing.class_name is not None:
        if ing.class_name != wanted:
            return False, f"ingressClassName is {ing.class_name!r}"
        ic = cluster.ingress_classes.get(wanted)
        if ic is not None and ic.controller != F5_CONTROLLER:
            return False, f"IngressClass {wanted} has controller {ic.controller!r}, not {F5_CONTROLLER}"
        return True, ""
    if ing.meta.api_version in V1BETA1 and not config.bigip.manage_ingress_class_only:
        return True, ""  # CIS <= 2.11 on the v1beta1 path: no class means ours (--manage-ingress-class-only off)
    ic = cluster.ingress_classes.get(wanted)
    if ic is not None and ic.is_default:
        return True, ""
    if ing.meta.api_version in V1BETA1:
        return False, "it has no ingress class and bigip.manageIngressClassOnly is true"
    return False, f"it has no ingress class and IngressClass {wanted!r} is not the default class"


@dataclass
class _Backend:
    ref: BackendRef
    pool: str


@dataclass
class _IngressPlan:
    ing: Ingress
    ann: Annotations
    partition: str
    ip: str
    backends: dict[tuple[str, int | str], _Backend] = field(default_factory=dict)


def build_ingresses(cluster: Cluster, config: Config, reg: Registry, findings: list[Finding],
                    reuse: Any = None) -> None:
    """`reuse`: a renderer.cache.DiskCache to build tenant by tenant with (renderer.mapping.tenant_reuse)."""
    ingresses = sorted(cluster.ingresses, key=lambda i: (i.meta.namespace, i.meta.name))
    ours_list = []
    for ing in ingresses:
        ours, why = ingress_is_ours(ing, cluster, config)
        if not ours:
            # skipping an Ingress written for F5 is worth a warning; another controller's is only a note
            f5 = any(k.startswith(F5_PREFIXES) for k in (*ing.meta.annotations, *ing.meta.labels))
            findings.append(Finding(
                "ING001", f"Ingress {ing.meta.ident} is not for class {config.bigip.ingress_class!r} ({why}); skipped",
                ing.meta.location, Severity.WARNING if f5 else Severity.INFO,
                hint=("it carries virtual-server.f5.com annotations: set its class to "
                      f"{config.bigip.ingress_class!r} if the BIG-IP should serve it") if f5 else None))
            continue
        ours_list.append(ing)
    reg.certificate_names.update(names.certificate_names(
        (ing.meta.namespace, tls.secret_name) for ing in ours_list for tls in ing.tls
        if tls.secret_name and not tls.secret_name.startswith("/")))
    if reuse is not None:
        from renderer.mapping.tenant_reuse import build_by_tenant

        default = config.bigip.partition
        if build_by_tenant(ours_list, cluster, config, reg, findings, reuse, _build_one,
                           lambda ing: ing.meta.annotations.get(PARTITION, default)):
            return
    for ing in ours_list:
        _build_one(ing, cluster, config, reg, findings)


def _build_one(ing: Ingress, cluster: Cluster, config: Config, reg: Registry, findings: list[Finding]) -> None:
    meta = ing.meta
    findings_before = len(findings)  # only the new findings are looked at: O(1) per Ingress, not O(findings)
    ann = parse_annotations(meta, findings)
    partition = ann.partition or config.bigip.partition
    raw_ip = meta.annotations.get("virtual-server.f5.com/ip")
    ip = ann.ip
    if raw_ip is None or raw_ip == "controller-default":
        ip = config.bigip.default_ingress_ip
        if ip is None:
            findings.append(Finding(
                "ING002", f"Ingress {meta.ident} has no virtual-server.f5.com/ip and no defaultIngressIP is set",
                meta.locate("metadata", "annotations") if meta.annotations else meta.location,
                hint="add the annotation, or set bigip.defaultIngressIP in as3-gitops.yaml"))
    if ip is None or any(f.is_error for f in findings[findings_before:]):
        return
    plan = _IngressPlan(ing, ann, partition, ip)
    tenant = reg.tenant(partition)
    what = f"Ingress {meta.ident}"

    # Pools: one per (service, port) backend of this Ingress, CIS 2.19+ names.
    refs = ([ing.default_backend] if ing.default_backend else []) + [
        p.backend for r in ing.rules for p in r.paths]
    for ref in refs:
        if (ref.service, ref.port) in plan.backends:
            continue
        resolved = resolve_backend(cluster, meta.namespace, ref.service, ref.port,
                                   lambda keys=ref.keys: meta.locate(*keys), what, findings)
        if resolved is None:
            continue
        pool_name = names.ingress_pool_name(meta.namespace, meta.name, ref.service, ref.port,
                                              tenant=partition)
        if not reg.claim(partition, pool_name, ("pool", meta.namespace, meta.name, ref.service, ref.port), meta,
                         findings, "pool"):
            continue
        plan.backends[(ref.service, ref.port)] = _Backend(ref, pool_name)
        _add_pool(tenant, pool_name, resolved, plan, cluster, config, findings)
    if any(ref for ref in refs if (ref.service, ref.port) not in plan.backends):
        return

    has_tls = bool(ing.tls) or ann.clientssl is not None
    ports: list[tuple[int, bool]] = []
    redirect = False
    if has_tls and ann.http_port == ann.https_port:
        # CIS builds the HTTPS virtual only (its HTTP one has the same name and is overwritten)
        findings.append(Finding(
            "ING014", f"Ingress {meta.ident}: http-port equals https-port ({ann.https_port}) with TLS: one HTTPS "
            "virtual server, no plain HTTP and no redirect (as CIS)",
            meta.locate("metadata", "annotations", "virtual-server.f5.com/http-port"), Severity.WARNING,
            hint="give http-port another value to serve or redirect plain HTTP"))
        ports = [(ann.https_port, True)]
    elif not has_tls:
        ports = [(ann.http_port, False)]
    elif ann.ssl_redirect:
        ports, redirect = [(ann.http_port, False), (ann.https_port, True)], True
    elif ann.allow_http:
        ports = [(ann.http_port, False), (ann.https_port, True)]
    else:
        ports = [(ann.https_port, True)]

    for port, https in ports:
        vs = reg.virtual_server(partition, ip, port, "Service_HTTPS" if https else "Service_HTTP", meta, findings)
        if vs is None:
            continue
        vs.origins.append(meta.origin)
        reg.translate_votes.setdefault((partition, vs.name), []).append(ann.translate_address)
        _attach_routing(vs, plan, reg, findings)
        if vs.policy:
            reg.claim(partition, vs.policy, ("policy", vs.name), meta, findings, "policy")
        if https:
            _attach_tls(vs, plan, cluster, config, reg, findings)
        elif redirect:
            _attach_redirect(vs, plan, ann.https_port, reg, findings)
    _attach_monitors(plan, reg, findings)


def _add_pool(tenant, pool_name: str, resolved: ResolvedBackend, plan: _IngressPlan, cluster: Cluster,
              config: Config, findings: list[Finding]) -> None:
    members, origins = members_for(cluster, config, resolved, findings)
    svc = resolved.service
    if not members:
        findings.append(Finding(
            "ING030", f"Ingress {plan.ing.meta.ident}: Service {svc.meta.ident} port {resolved.port.port} has no "
            "ready endpoint; its pool has no members", plan.ing.meta.location, Severity.WARNING,
            hint="check the snapshot (paths.snapshot) for the Service's Endpoints"))
    tenant.pools[pool_name] = Pool(
        name=pool_name, balance=plan.ann.balance, members=members, share_nodes=config.bigip.share_nodes,
        service=(svc.meta.namespace, svc.meta.name),
        origins=[plan.ing.meta.origin, svc.meta.origin, *origins])


def _host_condition(host: str, port: int) -> Condition:
    if host.startswith("*."):
        suffix = host[1:]
        values = (f"{suffix}:{port}", suffix) if port in (80, 443) else (f"{suffix}:{port}",)
        return Condition("httpHeader", name="host", selector="all", values=values, operand="ends-with")
    values = (f"{host}:{port}", host) if port in (80, 443) else (f"{host}:{port}",)
    return Condition("httpHeader", name="host", selector="all", values=values)


def _path_conditions(path: str) -> list[Condition]:
    segments = [s for s in path.split("/") if s]
    return [Condition("httpUri", name=str(i), index=i, selector="pathSegment", values=(seg,))
            for i, seg in enumerate(segments, start=1)]


def _forward(pool: str) -> Action:
    return Action("forward", pool=pool)


def _attach_routing(vs: VirtualServer, plan: _IngressPlan, reg: Registry, findings: list[Finding]) -> None:
    ing, ann = plan.ing, plan.ann
    tenant = reg.tenant(plan.partition)
    source = []
    if ann.source_ranges:  # Policy_Match_String: the operand is "matches"
        source = [Condition("tcp", selector="address", values=tuple(ann.source_ranges), operand="matches")]
    if ing.default_backend:
        pool = plan.backends[(ing.default_backend.service, ing.default_backend.port)].pool
        if vs.pool not in (None, pool):
            owner = reg.single_service_owner.get((plan.partition, vs.name), "another Ingress")
            findings.append(Finding(
                "ING010", f"single-service Ingress {ing.meta.ident} cannot share {vs.address}:{vs.port} with "
                f"{owner}", ing.meta.locate("spec"), hint="give one of them another virtual-server.f5.com/ip"))
            return
        vs.pool = pool
        reg.single_service_owner[(plan.partition, vs.name)] = f"Ingress {ing.meta.ident}"
        if source and not any(r.paths for r in ing.rules):
            policy = _policy_for(vs, tenant, ing)
            policy.rules.append(Rule(names.as3_name(f"ingress_allow_source_{pool}", 1000), list(source),
                                     [_forward(pool)], rank=(3, "")))
            policy.rules.append(Rule("ingress_reject_source", [], [Action("drop")], rank=(4, "")))
    rules_here = [(r.host, p) for r in ing.rules for p in r.paths]
    if not rules_here and not ann.app_root:
        return
    policy = _policy_for(vs, tenant, ing)
    for host, p in rules_here:
        if "*" in p.path:
            findings.append(Finding("ING011", f"Ingress {ing.meta.ident}: path {p.path!r} contains '*'",
                                    ing.meta.locate(*p.backend.keys[:-1], "path"),
                                    hint="paths match by segment prefix; drop the '*'"))
            continue
        pool = plan.backends[(p.backend.service, p.backend.port)].pool
        conds = ([_host_condition(host, vs.port)] if host else []) + _path_conditions(p.path) + source
        rule = Rule(names.rule_name(host, p.path, pool), conds, [_forward(pool)], rank=(3, host + p.path))
        _add_rule(policy, rule, ing, findings)
    for host, root in sorted(ann.app_root.items()):
        conds = ([_host_condition(host, vs.port)] if host else []) + [
            Condition("httpUri", selector="path", values=("/",))]
        label = names.as3_name(host or "default", 200)
        _add_rule(policy, Rule(f"app-root-redirect-rule-{label}", conds,
                               [Action("httpRedirect", location=root)], rank=(0, host)), ing, findings)
    for src, dst in ann.rewrite_target:
        _add_rewrite(policy, src, dst, rules_here, plan, vs, findings)


def _add_rewrite(policy: Policy, src: str, dst: str, rules_here, plan: _IngressPlan, vs: VirtualServer,
                 findings: list[Finding]) -> None:
    s_host, _, s_path = src.partition("/")
    d_host, _, d_path = dst.partition("/")
    wanted = "/" + s_path.rstrip("/")
    target = next((p for h, p in rules_here if h == s_host and p.path.rstrip("/") == wanted), None)
    key = "virtual-server.f5.com/rewrite-target-url"
    if target is None:
        findings.append(Finding("ANN006", f"{key}: no rule of Ingress {plan.ing.meta.ident} matches {src!r}",
                                plan.ing.meta.locate("metadata", "annotations", key), Severity.WARNING))
        return
    pool = plan.backends[(target.backend.service, target.backend.port)].pool
    actions = []
    if d_host and d_host != s_host:
        actions.append(Action("httpHeader", header="host", replace=d_host))
    if ("/" + d_path) != ("/" + s_path):
        actions.append(Action("httpUri", replace=f"tcl:[regsub /{s_path} [HTTP::path] /{d_path}]"))
    actions.append(_forward(pool))
    conds = ([_host_condition(s_host, vs.port)] if s_host else []) + _path_conditions(s_path)
    label = names.as3_name(f"{src}_{dst}", 400)
    _add_rule(policy, Rule(f"url-rewrite-rule-{label}", conds, actions, rank=(2, src)), plan.ing, findings)


def _policy_for(vs: VirtualServer, tenant, ing: Ingress) -> Policy:
    name = names.policy_name(vs.address, vs.port, tenant=tenant.name)
    policy = tenant.policies.get(name)
    if policy is None:
        policy = tenant.policies[name] = Policy(name)
    if ing.meta.origin not in policy.origins:
        policy.origins.append(ing.meta.origin)
    vs.policy = name
    return policy


def _add_rule(policy: Policy, rule: Rule, ing: Ingress, findings: list[Finding]) -> None:
    """A rule is added once; a different rule under the same name (`a.b` + `/c` and `a` + `/b/c` both give
    `ingress_a_b_c_<pool>`) is NAME002, never silently dropped."""
    same = next((r for r in policy.rules if r.name == rule.name), None)
    if same is None:
        policy.rules.append(rule)
    elif same != rule:
        findings.append(Finding(
            "NAME002", f"Ingress {ing.meta.ident}: two different rules of policy {policy.name} are named {rule.name}",
            ing.meta.locate("spec", "rules"),
            hint="CIS maps '.', '/' and '-' to '_' in rule names; change one host or path"))


def _attach_redirect(vs: VirtualServer, plan: _IngressPlan, https_port: int, reg: Registry,
                     findings: list[Finding]) -> None:
    tenant = reg.tenant(plan.partition)
    reg.claim(plan.partition, "https_redirect_dg", ("data group", "https redirect"), plan.ing.meta, findings,
              "data group")
    dg = tenant.data_groups.setdefault("https_redirect_dg", DataGroup("https_redirect_dg"))
    dg.origins.append(plan.ing.meta.origin)
    ing = plan.ing
    entries = [(r.host or "*", p.path or "/") for r in ing.rules for p in r.paths]
    if ing.default_backend:
        entries.append(("*", "/"))
    for host, path in entries:
        dg.records[f"{host}{path}"] = path
        if plan.ann.http_port != 80 and host != "*":
            dg.records[f"{host}:{plan.ann.http_port}{path}"] = path
    irule_name = f"http_redirect_irule_{https_port}"
    reg.claim(plan.partition, irule_name, ("irule", "https redirect", https_port), ing.meta, findings, "iRule")
    if irule_name not in tenant.irules:
        tenant.irules[irule_name] = IRule(irule_name, _redirect_irule(plan.partition, https_port))
    tenant.irules[irule_name].origins.append(ing.meta.origin)
    if irule_name not in vs.irules:
        vs.irules.append(irule_name)


def _attach_tls(vs: VirtualServer, plan: _IngressPlan, cluster: Cluster, config: Config, reg: Registry,
                findings: list[Finding]) -> None:
    ing, ann = plan.ing, plan.ann
    tenant = reg.tenant(plan.partition)
    if ann.serverssl:
        vs.client_tls = ann.serverssl
    profiles: list[str] = list(ann.clientssl or [])
    cert_names: list[str] = []
    if ann.clientssl is None:
        for i, tls in enumerate(ing.tls):
            if not tls.secret_name:
                continue
            if tls.secret_name.startswith("/"):
                profiles.append(tls.secret_name)
                continue
            if "/" in tls.secret_name:  # no Secret name has a "/": CIS <= 2.11 reads "Common/x" as a profile path
                profiles.append("/" + tls.secret_name)
                continue
            name = names.certificate_name(reg.certificate_names.get((ing.meta.namespace, tls.secret_name))
                                          or tls.secret_name, tenant=plan.partition)
            if not reg.claim(plan.partition, name, ("certificate", ing.meta.namespace, tls.secret_name), ing.meta,
                             findings, "certificate"):
                continue
            name = certificate_from_secret(
                cluster, tenant, ing.meta.namespace, tls.secret_name, name,
                lambda i=i: ing.meta.locate("spec", "tls", i, "secretName"), f"Ingress {ing.meta.ident}", findings,
                hint="add the Secret (type kubernetes.io/tls), or use virtual-server.f5.com/clientssl")
            if name is not None:
                cert_names.append(name)
    if cert_names:
        if isinstance(vs.server_tls, list):
            findings.append(Finding("ING051", f"Ingress {ing.meta.ident}: {vs.address}:{vs.port} mixes BIG-IP "
                                    "client-SSL profiles and TLS Secrets", ing.meta.locate("spec", "tls")))
            return
        tls_name = names.as3_name(f"{vs.name}_tls_server", tenant=plan.partition)
        if not reg.claim(plan.partition, tls_name, ("tls server", vs.name), ing.meta, findings, "TLS server"):
            return
        server = tenant.tls_servers.get(tls_name) or TLSServer(tls_name, [], config.bigip.ciphers)
        server.certificates = sorted(set(server.certificates) | set(cert_names))
        server.origins.append(ing.meta.origin)
        tenant.tls_servers[tls_name] = server
        vs.server_tls = tls_name
    elif profiles:
        if isinstance(vs.server_tls, str):
            findings.append(Finding("ING051", f"Ingress {ing.meta.ident}: {vs.address}:{vs.port} mixes BIG-IP "
                                    "client-SSL profiles and TLS Secrets", ing.meta.location))
            return
        vs.server_tls = sorted(set(vs.server_tls or []) | set(profiles))


def _attach_monitors(plan: _IngressPlan, reg: Registry, findings: list[Finding]) -> None:
    """Map each health entry `host/uri` to the pools of the rules with that host and path (CIS rules)."""
    if not plan.ann.health:
        return
    ing = plan.ing
    tenant = reg.tenant(plan.partition)
    by_host: dict[str, dict[str, list[str]]] = {}
    if ing.is_single_service and ing.default_backend:
        pool = plan.backends[(ing.default_backend.service, ing.default_backend.port)].pool
        by_host = {"*": {"/": [pool]}}
    for rule in ing.rules:
        for p in rule.paths:
            pool = plan.backends[(p.backend.service, p.backend.port)].pool
            by_host.setdefault(rule.host or "*", {}).setdefault(p.path or "/", []).append(pool)
    for check in plan.ann.health:
        host, _, uri = check.path.partition("/")
        uri = "/" + uri
        paths = by_host.get(host) or by_host.get("*") or {}
        pools = paths.get(uri) or (paths.get(uri.rstrip("/")) if uri != "/" else None)
        if not pools:
            findings.append(Finding(
                "ING040", f"Ingress {ing.meta.ident}: health monitor path {check.path!r} matches no rule; skipped",
                check.location, Severity.WARNING, hint="use 'host/path' exactly as in the Ingress rules"))
            continue
        for pool_name in pools:
            name = names.monitor_name(pool_name, check.type, tenant=plan.partition)
            if not reg.claim(plan.partition, name, ("monitor", pool_name, check.type, 0), ing.meta, findings,
                             "monitor"):
                continue
            tenant.monitors[name] = Monitor(
                name=name, monitor_type=check.type, send=check.send, receive=check.recv or "none",
                interval=check.interval, timeout=check.timeout,
                client_tls=check.ssl_profile if check.type == "https" and check.ssl_profile else None,
                origins=[ing.meta.origin])
            pool = tenant.pools[pool_name]
            if name not in pool.monitors:
                pool.monitors.append(name)
