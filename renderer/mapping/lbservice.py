"""Service `type: LoadBalancer` handled by CIS (cis-crd-behaviour.md §7): one Service_TCP / UDP / SCTP
per port, named `vs_lb_svc_<ns>_<svc>_<ip>_<port>`, pool `<svc>_<targetPort>_<ns>` of the Service's
own endpoints. The address is `cis.f5.com/ip`, else the IPAM allocation for `cis.f5.com/ipamLabel`.

A LoadBalancer Service without any `cis.f5.com/` annotation belongs to another load balancer and is
not ours; one with CIS annotations but no address gets an error instead of CIS's log-only warning.
"""

from __future__ import annotations

import json
from typing import Any

from renderer.errors import Finding, Severity
from renderer.kube.crd import CrdMonitor, CrdPool
from renderer.kube.objects import Service
from renderer.mapping import names
from renderer.mapping.annotations import parse_vs_address
from renderer.mapping.crd_common import CrdContext, add_pool, irules_of, snat_of, virtual_properties
from renderer.mapping.crdpolicy import find_policy
from renderer.mapping.members import ResolvedBackend
from renderer.mapping.transportserver import l4_class, l4_properties

PREFIX = "cis.f5.com/"
KNOWN = ("ip", "ipamLabel", "partition", "host", "policyName", "health")


def is_ours(svc: Service) -> bool:
    return svc.type == "LoadBalancer" and any(k.startswith(PREFIX) for k in svc.meta.annotations)


def build_lb_services(ctx: CrdContext) -> None:
    for key in sorted(ctx.cluster.services):
        svc = ctx.cluster.services[key]
        if is_ours(svc):
            _build_one(ctx, svc)


def _where(svc: Service, key: str):
    return svc.meta.locate("metadata", "annotations", PREFIX + key)


def _fail(ctx: CrdContext, svc: Service, key: str, message: str, hint: str | None = None) -> None:
    ctx.findings.append(Finding("CRD080", f"Service {svc.meta.ident}: {message}", _where(svc, key), hint=hint))


def _build_one(ctx: CrdContext, svc: Service) -> None:
    meta, ann = svc.meta, svc.meta.annotations
    for key in sorted(ann):
        if key.startswith(PREFIX) and key[len(PREFIX):] not in KNOWN:
            ctx.findings.append(Finding("CRD081", f"Service {meta.ident}: unknown annotation {key}; ignored",
                                        meta.locate("metadata", "annotations", key), Severity.WARNING,
                                        hint=f"CIS reads {', '.join(PREFIX + k for k in KNOWN)}"))
    if svc.load_balancer_class:
        ctx.findings.append(Finding("CRD082", f"Service {meta.ident} has loadBalancerClass "
                                    f"{svc.load_balancer_class!r}; CIS (default --load-balancer-class) skips it",
                                    meta.locate("spec", "loadBalancerClass"), Severity.WARNING))
        return
    partition = ann.get(PREFIX + "partition") or ctx.config.bigip.partition
    if partition == "Common":
        _fail(ctx, svc, "partition", "partition 'Common' cannot hold AS3 tenants")
        return
    problem = names.tenant_problem(partition)
    if problem:
        ctx.findings.append(Finding("NAME301", f"Service {meta.ident}: {problem}", _where(svc, "partition"),
                                    hint="use a shorter partition"))
        return
    ip = _address(ctx, svc)
    if ip is None:
        return
    policy = find_policy(ctx, meta, ann.get(PREFIX + "policyName", ""), ("metadata", "annotations"))
    if policy is False:
        return
    policy = policy or None
    monitors = _health(ctx, svc)
    if monitors is None:
        return
    tenant = ctx.reg.tenant(partition)
    for i, port in enumerate(svc.ports):
        protocol = port.protocol.lower()
        cls = l4_class("standard", protocol)
        vs_name = names.lb_service_vs_name(meta.namespace, meta.name, ip, port.port, tenant=partition)
        if not ctx.claim(tenant, vs_name, ("virtual", ip, port.port), meta):
            continue
        vs = ctx.reg.virtual_server(partition, ip, port.port, cls, meta, ctx.findings, name=vs_name)
        if vs is None:
            continue
        vs.origins.append(meta.origin)
        vs.snat = snat_of(_NoSpec(meta), policy)
        vs.properties.update(virtual_properties(_NoSpec(meta), policy, https=False, http=False))
        vs.properties.update(l4_properties(policy, cls, protocol))
        vs.irules, _ = irules_of(_NoSpec(meta), policy, https=False)
        target = port.target_port if port.target_port is not None else port.port
        pool_name = names.crd_pool_name(meta.name, target, meta.namespace, tenant=partition)
        typed = tuple(CrdMonitor(m.keys, m.type or protocol, None, None, m.interval, m.timeout, m.target_port,
                                 m.name, m.reference, "") for m in monitors)
        spec = CrdPool(("spec", "ports", i), meta.name, port.port, meta.namespace, False, monitors=typed)
        if add_pool(ctx, tenant, meta, spec, pool_name, ResolvedBackend(svc, port), monitor_ip=ip, host="",
                    remark_vs=vs.name, policy=policy, monitor_port=target, check_send=False) is None:
            continue
        vs.pool = pool_name
        ctx.hosts.append((ann.get(PREFIX + "host", ""), tenant.name, vs.name, True))


class _NoSpec:
    """A LoadBalancer Service carries no CRD spec: only its Policy sets virtual-level properties."""

    def __init__(self, meta: Any):
        self.meta = meta
        self.spec: dict[str, Any] = {}

    def text(self, *keys: str, default: str = "") -> str:
        return default

    def strings(self, *keys: str) -> tuple[str, ...]:
        return ()


def _address(ctx: CrdContext, svc: Service) -> str | None:
    ann = svc.meta.annotations
    raw = ann.get(PREFIX + "ip")
    if raw:
        parsed = parse_vs_address(raw)
        if parsed is None or "/" in parsed:
            _fail(ctx, svc, "ip", f"{raw!r} is not an IP address")
            return None
        return parsed.split("%")[0]
    label = ann.get(PREFIX + "ipamLabel")
    if label and ctx.ipam_lookup is not None:
        key = f"{svc.meta.namespace}/{svc.meta.name}_svc"
        found = ctx.ipam_lookup(label, key, svc.meta)
        if found is None and not any(f.code == "CRD061" and svc.meta.ident in f.message for f in ctx.findings):
            _fail(ctx, svc, "ipamLabel", f"ipamLabel {label!r} has no allocation for {key!r}",
                  hint="run `as3-gitops ipam allocate` and commit the allocation file")
        return found
    _fail(ctx, svc, "ip", "a LoadBalancer Service with cis.f5.com annotations needs cis.f5.com/ip or "
          "cis.f5.com/ipamLabel", hint="CIS ignores it with a warning; add the address")
    return None


def _health(ctx: CrdContext, svc: Service) -> list[CrdMonitor] | None:
    raw = svc.meta.annotations.get(PREFIX + "health")
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except ValueError as err:
        _fail(ctx, svc, "health", f"cis.f5.com/health is not valid JSON ({err})")
        return None
    items = data if isinstance(data, list) else [data]
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not all(isinstance(item.get(k, 0), int) and not isinstance(item.get(k), bool)
                                                 for k in ("interval", "timeout", "targetPort")):
            _fail(ctx, svc, "health", f"cis.f5.com/health entry {i} must be an object with integer interval, "
                  "timeout and targetPort")
            return None
        mtype = item.get("type", "")
        if mtype not in ("", "tcp", "udp", "http", "https", "sctp"):
            _fail(ctx, svc, "health", f"cis.f5.com/health entry {i}: unknown type {mtype!r}")
            return None
        out.append(CrdMonitor(("metadata", "annotations"), str(mtype), None, None, item.get("interval", 0),
                              item.get("timeout", 0), item.get("targetPort", 0), str(item.get("name", "")),
                              str(item.get("reference", "")), ""))
    return out

