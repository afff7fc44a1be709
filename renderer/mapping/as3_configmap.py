"""AS3 ConfigMaps (`f5type: virtual-server` + `as3: "true"`, data key `template`) -> verbatim tenants.

The template is a user-written AS3 declaration. As CIS does (cis-crd-behaviour.md §8), its tenants are
merged into the one declaration whole, and pools whose first member has `serverAddresses: []` are filled
from the endpoints of the Services labelled `cis.f5.com/as3-tenant`, `-app`, `-pool`. Where CIS is
random or destructive we refuse instead: a tenant that a rendered tenant (or another ConfigMap) also
declares is an error naming both, where CIS skips the ConfigMap or picks a random winner.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from renderer.config import Config
from renderer.errors import Finding, Origin, Severity, SourceLocation
from renderer.kube.load import Cluster
from renderer.kube.objects import ConfigMap, ObjectMeta, Service
from renderer.mapping.members import ip_sort_key
from renderer.mapping.registry import Registry
from renderer.mapping.tenant_facts import pool_services
from renderer.model import Member, RawTenant
from renderer.source import Document

TENANT_LABEL = "cis.f5.com/as3-tenant"
APP_LABEL = "cis.f5.com/as3-app"
POOL_LABEL = "cis.f5.com/as3-pool"
PRIORITY_LABEL = "cis.f5.com/as3-pool-member-priorityGroup"
DISABLE_ANNOTATION = "cis.f5.com/disableMembers"
DISCOVERY_LABELS = (TENANT_LABEL, APP_LABEL, POOL_LABEL)


def as3_kind(cm: ConfigMap) -> str | None:
    """CIS's acceptance order (as3ConfigMap.go): overrideAS3, then as3 true/false; None for other ConfigMaps."""
    labels = cm.meta.labels
    if labels.get("f5type") != "virtual-server":
        return None
    if labels.get("overrideAS3") in ("true", "false"):
        return "override" if labels["overrideAS3"] == "true" else "override-off"
    if labels.get("as3") in ("true", "false"):
        return "as3" if labels["as3"] == "true" else "staging"
    return None


def template_location(meta: ObjectMeta, template: str, offset: int | None) -> SourceLocation:
    """The file position of character `offset` of the template: exact for a literal block scalar (`|`),
    whose lines are the file's lines less the indentation; else the start of the value."""
    return document_template_location(meta.doc, meta.base, template, offset)


def document_template_location(doc: Document, base: tuple[str | int, ...], template: str,
                               offset: int | None) -> SourceLocation:
    """template_location for a document (and the keys of the object in it, for `kind: List` items)."""
    start = doc.locate(*base, "data", "template")
    if offset is None or doc.path.endswith(".json") or not start.line:
        return start
    lines = doc.source.text.split("\n")
    indicator = lines[start.line - 1][(start.column or 1) - 1:] if start.line <= len(lines) else ""
    if not indicator.startswith("|"):
        return start
    indent = next((len(t) - len(t.lstrip(" ")) for t in lines[start.line:] if t.strip()), 0)
    offset = min(offset, len(template))
    line = template.count("\n", 0, offset)
    col = offset - (template.rfind("\n", 0, offset) + 1)
    return SourceLocation(doc.path, start.line + 1 + line, indent + col + 1)


def locate_declaration_pointer(doc: Document, pointer: str) -> SourceLocation | None:
    """Where a declaration pointer (`/Tenant/App/obj/...`) is written in an AS3 ConfigMap's template;
    None when the document is not one (used to place AS3 validation errors)."""
    data = doc.data
    template = (data.get("data") or {}).get("template") if isinstance(data, dict) else None
    if not isinstance(template, str):
        return None
    try:
        parsed = json.loads(template)
    except (ValueError, RecursionError):
        return None
    prefix = "/declaration" if isinstance(parsed, dict) and parsed.get("class") == "AS3" else ""
    if isinstance(parsed, dict) and parsed.get("class") != "AS3" and "declaration" in parsed:
        prefix = "/declaration"  # the override ConfigMap's partial declaration
    return document_template_location(doc, (), template, pointer_offset(template, prefix + pointer))


def pointer_offset(template: str, pointer: str) -> int | None:
    """Offset of the value at a JSON pointer in the template text (the deepest existing prefix)."""
    from renderer.validate.declaration import value_offsets

    try:
        offsets = value_offsets(template)
    except (ValueError, IndexError):
        return None
    probe = pointer
    while probe and probe not in offsets:
        probe = probe.rsplit("/", 1)[0]
    return offsets.get(probe)


NOT_JSON = object()  # load_template_json's answer for a template that is not JSON (JSON `null` is None)


def load_template_json(meta: Any, text: str, what: str, findings: list[Finding]) -> Any:
    """The parsed data.template JSON of an AS3 or override ConfigMap; NOT_JSON with ACM001 at the
    template's own line (the JSON sits in a YAML block scalar)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        findings.append(Finding("ACM001", f"{what}: data.template is not valid JSON: {err.msg}",
                                template_location(meta, text, err.pos), hint="check commas, quotes and braces"))
    except (ValueError, RecursionError) as err:
        findings.append(Finding("ACM001", f"{what}: data.template is not valid JSON ({err})",
                                template_location(meta, text, 0)))
    return NOT_JSON


def parse_template(cm: ConfigMap, what: str, findings: list[Finding]) -> tuple[dict[str, Any], str, str] | None:
    """The template's ADC (from an AS3 request or a bare ADC), its text and the ADC's JSON pointer in it;
    None with an ACM finding."""
    meta = cm.meta
    text = cm.data.get("template")
    if text is None or not text.strip():
        findings.append(Finding("ACM001", f"{what} has no data.template", meta.locate("data"),
                                hint="put the AS3 declaration (JSON) under data.template"))
        return None
    data = load_template_json(meta, text, what, findings)
    if data is NOT_JSON:
        return None
    adc = data.get("declaration") if isinstance(data, dict) and data.get("class") == "AS3" else data
    if not isinstance(adc, dict) or adc.get("class") != "ADC":
        where = "/declaration" if isinstance(data, dict) and "declaration" in data else ""
        findings.append(Finding("ACM002", f"{what}: data.template is neither an AS3 request nor an ADC declaration",
                                template_location(meta, text, pointer_offset(text, where or "/class")),
                                hint='the template needs "class": "AS3" with a "declaration" of "class": "ADC"'))
        return None
    return adc, text, ("/declaration" if adc is not data else "")


@dataclass
class _Endpoint:
    ip: str
    port: int  # the endpoint (target) port: the member's servicePort
    svc_port: int | None  # the Service port whose targetPort it is: matched against the template
    priority: int
    origins: tuple[Origin, ...]
    node: str | None = None
    service: tuple[str, str] = ("", "")


def raw_metadata(meta: ObjectMeta) -> dict[str, Any]:
    data: Any = meta.doc.data
    for key in meta.base:
        data = data[key]
    md = data.get("metadata") if isinstance(data, dict) else None
    return md if isinstance(md, dict) else {}


def _selected_services(cluster: Cluster, namespace: str, tenant: str, app: str, pool: str) -> list[Service]:
    """The labelled Services; with several per priority group, the oldest (CIS), name order breaking ties."""
    groups: dict[str, list[Service]] = {}
    for (ns, _name), svc in sorted(cluster.services.items()):
        labels = svc.meta.labels
        if ns == namespace and labels.get(TENANT_LABEL) == tenant and labels.get(APP_LABEL) == app \
                and labels.get(POOL_LABEL) == pool:
            groups.setdefault(labels.get(PRIORITY_LABEL, "0"), []).append(svc)
    chosen = []
    for key in sorted(groups):
        services = groups[key]
        chosen.append(min(services, key=lambda s: (str(raw_metadata(s.meta).get("creationTimestamp") or "~"),
                                                   s.meta.name)))
    return chosen


def _priority(svc: Service) -> int:
    raw = svc.meta.labels.get(PRIORITY_LABEL, "0")
    return int(raw) if raw.isdigit() else 0


def _endpoints(cluster: Cluster, config: Config, svc: Service) -> list[_Endpoint]:
    """CIS's getEndpoints: cluster mode one entry per ready address and port; nodeport mode one per node."""
    prio = _priority(svc)
    out: list[_Endpoint] = []
    if config.bigip.pool_member_type == "nodeport":
        bigip_node = config.vxlan.bigip_node if config.vxlan else "bigip"
        for sp in svc.ports:
            if sp.node_port is None:
                continue
            for name in sorted(cluster.nodes):
                node = cluster.nodes[name]
                ip = node.address("InternalIP")
                if name != bigip_node and node.is_ready and ip:
                    out.append(_Endpoint(ip, sp.node_port, sp.port, prio, (svc.meta.origin, node.meta.origin), name))
        return out
    eps = cluster.endpoints_for(svc.meta.namespace, svc.meta.name)
    if eps is None:
        return out
    origins = ((svc.meta.origin, *(s.meta.origin for s in cluster.slices[(svc.meta.namespace, svc.meta.name)]))
               if eps.from_slices else (svc.meta.origin, eps.meta.origin))
    for subset in eps.subsets:
        for port in subset.ports:
            svc_port = next((sp.port for sp in svc.ports
                             if sp.target_port == port.port or (port.name and sp.target_port == port.name)
                             or (sp.target_port is None and sp.port == port.port)
                             or (isinstance(sp.target_port, str) and sp.name and sp.name == port.name)), None)
            for addr in subset.addresses:
                node = cluster.nodes.get(addr.node_name or "")
                if not addr.ready or (node is not None and not node.is_ready and not svc.headless):
                    continue
                out.append(_Endpoint(addr.ip, port.port, svc_port, prio, origins, addr.node_name,
                                     (svc.meta.namespace, svc.meta.name)))
    return out


def _members(template: list[Any], endpoints: list[_Endpoint], config: Config) -> list[dict[str, Any]]:
    """CIS's member rules (§8.2): a copy of each template member per endpoint whose Service port it names
    (same priorityGroup), else members[0] once per distinct address with the first endpoint's port."""
    unique = {(e.ip, e.port, e.svc_port, e.priority): e for e in endpoints}
    ordered = sorted(unique.values(), key=lambda e: (ip_sort_key(e.ip), e.port))
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    for member in template:
        if not isinstance(member, dict):
            continue
        for ep in ordered:
            if member.get("servicePort") == ep.svc_port and member.get("priorityGroup", 0) == ep.priority \
                    and (ep.ip, ep.port) not in seen:
                seen.add((ep.ip, ep.port))
                out.append(_member_copy(member, ep.ip, ep.port, config))
    if out or not isinstance(template[0], dict):
        return out
    first_port = ordered[0].port
    for ip in dict.fromkeys(e.ip for e in ordered):
        out.append(_member_copy(template[0], ip, first_port, config))
    return out


def _member_copy(member: dict[str, Any], ip: str, port: int, config: Config) -> dict[str, Any]:
    """The template member with this address and port. adminState and shareNodes are CIS's values unless
    the template sets them (a template `adminState: disable` is kept)."""
    out = copy.deepcopy(member)
    out["serverAddresses"] = [ip]
    out["servicePort"] = port
    out.setdefault("adminState", "enable")
    if config.bigip.share_nodes:
        out.setdefault("shareNodes", True)
    return out


def discovery_pools(adc_tenant: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(application, pool name, pool) of every pool service discovery fills (CIS's condition)."""
    found = []
    for app_name, app in adc_tenant.items():
        if not isinstance(app, dict) or app.get("class") != "Application":
            continue
        for pool_name, pool in app.items():
            if isinstance(pool, dict) and pool.get("class") == "Pool":
                members = pool.get("members")
                if isinstance(members, list) and members and isinstance(members[0], dict) \
                        and members[0].get("serverAddresses") == []:
                    found.append((app_name, pool_name, pool))
    return found


def build_as3_configmaps(cluster: Cluster, config: Config, reg: Registry, raw: dict[str, RawTenant],
                         findings: list[Finding]) -> set[tuple[str, str]]:
    """Every AS3 ConfigMap's tenants into `raw`; returns the labelled Services discovery used.

    Runs after every other mapper: a tenant any of them rendered is a collision."""
    used: set[tuple[str, str]] = set()
    for cm in sorted(cluster.configmaps, key=lambda c: (c.meta.namespace, c.meta.name)):
        kind = as3_kind(cm)
        what = f"AS3 ConfigMap {cm.meta.ident}"
        if kind == "staging":
            findings.append(Finding(
                "ACM007", f"ConfigMap {cm.meta.ident} has as3: \"false\" (staging); nothing is rendered from it",
                cm.meta.locate("metadata", "labels"), Severity.WARNING,
                hint="CIS posts its tenants empty; here a tenant nothing renders is deleted by deploy anyway"))
        elif kind == "as3":
            _build_one(cm, what, cluster, config, reg, raw, used, findings)
    backends = {service for tenant in reg.tenants.values() for service in pool_services(tenant)}
    for key, svc in sorted(cluster.services.items()):
        labels = svc.meta.labels
        if key in used or key in backends or not any(label in labels for label in DISCOVERY_LABELS):
            continue
        selector = ", ".join(f"{label}={labels.get(label, '')}" for label in DISCOVERY_LABELS)
        findings.append(Finding(
            "ACM008", f"Service {svc.meta.ident} is labelled for AS3 service discovery ({selector}) but no AS3 "
            "ConfigMap pool in its namespace has that tenant, application and name with serverAddresses: []",
            svc.meta.locate("metadata", "labels"), Severity.WARNING,
            hint="check the labels against the template's tenant/application/pool names"))
    return used


def _build_one(cm: ConfigMap, what: str, cluster: Cluster, config: Config, reg: Registry,
               raw: dict[str, RawTenant], used: set[tuple[str, str]], findings: list[Finding]) -> None:
    meta = cm.meta
    parsed = parse_template(cm, what, findings)
    if parsed is None:
        return
    adc, text, pointer_base = parsed
    tenants = {k: v for k, v in adc.items() if isinstance(v, dict) and v.get("class") == "Tenant"}
    if not tenants:
        findings.append(Finding("ACM002", f"{what}: the template declares no tenant", template_location(
            meta, text, pointer_offset(text, pointer_base or "/class")), Severity.WARNING,
            hint='add a "class": "Tenant" object to the declaration'))
        return
    if DISABLE_ANNOTATION in meta.annotations:
        findings.append(Finding(
            "ACM006", f"{what}: {DISABLE_ANNOTATION} is not supported; members stay enabled",
            meta.locate("metadata", "annotations", DISABLE_ANNOTATION), Severity.WARNING,
            hint="CIS disables the pods of the newest ReplicaSet of these Deployments; the endpoint snapshot "
                 "has no pods. Write \"adminState\": \"disable\" on the template member instead (it is kept)"))
    namespace_is_tenant = meta.labels.get("isTenantNameServiceNamespace") == "true"
    for name in sorted(tenants):
        where = template_location(meta, text, pointer_offset(text, f"{pointer_base}/{name}"))
        clash = _collision(name, reg, raw)
        if clash:
            findings.append(Finding("ACM003", f"{what}: tenant {name!r} is also {clash}", where,
                                    hint="one tenant has one source: rename the template's tenant, or move the "
                                         "other objects to another partition"))
            continue
        body = copy.deepcopy(tenants[name])
        if name != "Common":  # AS3's /Common tenant takes no properties besides its Shared application
            body["defaultRouteDomain"] = config.bigip.default_route_domain  # CIS sets it on every template tenant
        tenant = RawTenant(name, body, [meta.origin], {"": [meta.origin]})
        for app_name, app in body.items():
            if isinstance(app, dict) and app.get("class") == "Application":
                for obj_name in app:
                    if isinstance(app[obj_name], dict):
                        tenant.sources[f"/{app_name}/{obj_name}"] = [meta.origin]
        namespace = name if namespace_is_tenant else meta.namespace
        for app_name, pool_name, pool in discovery_pools(body):
            services = _selected_services(cluster, namespace, name, app_name, pool_name)
            pool_where = template_location(meta, text, pointer_offset(
                text, f"{pointer_base}/{name}/{app_name}/{pool_name}"))
            if not services:
                findings.append(Finding(
                    "ACM004", f"{what}: no Service in namespace {namespace} is labelled {TENANT_LABEL}={name}, "
                    f"{APP_LABEL}={app_name}, {POOL_LABEL}={pool_name}; pool {pool_name} has no members",
                    pool_where, Severity.WARNING, hint="label the Service that backs this pool"))
                continue
            endpoints = [e for svc in services for e in _endpoints(cluster, config, svc)]
            used.update((s.meta.namespace, s.meta.name) for s in services)
            origins = [meta.origin, *dict.fromkeys(o for e in endpoints for o in e.origins),
                       *(s.meta.origin for s in services)]
            tenant.sources[f"/{app_name}/{pool_name}"] = list(dict.fromkeys(origins))
            tenant.origins.extend(s.meta.origin for s in services)
            if not endpoints:
                findings.append(Finding(
                    "ACM005", f"{what}: Service {', '.join(s.meta.ident for s in services)} has no ready endpoint; "
                    f"pool {pool_name} keeps its empty member list", pool_where, Severity.WARNING,
                    hint="check the snapshot (paths.snapshot) for the Service's Endpoints"))
                continue
            pool["members"] = _members(pool["members"], endpoints, config)
            if config.bigip.pool_member_type == "cluster":
                tenant.pod_members.extend((Member(e.ip, e.port, e.node), e.service) for e in endpoints)
        tenant.origins = list(dict.fromkeys(tenant.origins))
        raw[name] = tenant


def _collision(name: str, reg: Registry, raw: dict[str, RawTenant]) -> str | None:
    other = raw.get(name)
    if other is not None:
        return f"declared by AS3 ConfigMap {other.origins[0].namespace}/{other.origins[0].name}"
    tenant = reg.tenants.get(name)
    if tenant is None:
        return None
    for group in (tenant.virtual_servers, tenant.pools, tenant.policies):
        for obj in group.values():
            if obj.origins:
                o = obj.origins[0]
                return f"rendered from {o.kind} {o.namespace}/{o.name} ({o.location.path})"
    return "the default partition (bigip.partition), which CIS keeps for itself"
