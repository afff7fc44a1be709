"""A/B pools of a VirtualServer or TransportServer (`weight` + `alternateBackends`, cis-crd-behaviour.md §1.7).

One pool per backend, each named after its own Service and namespace. On a VirtualServer the policy
rule of the entry only logs (`a/b pool`); the iRule `<vs>_ab_deployment_path_irule` picks the pool
per request from the data group `<vs>_ab_deployment_dg`: key `host` + path (path `/` is ""), value
`pool,cumulative;...` (weights as cumulative fractions, zero weights left out, "" when all are zero:
the iRule answers 503). A TransportServer's data group has the one key `/` and its iRule picks per
connection (CLIENT_ACCEPTED), preferring a pool with an active member as CIS's does.
Unlike CIS, the data group names the pools that exist (CIS writes `pools[].name` for every backend
and drops `nodeMemberLabel`, so it can point at pools that do not exist).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from renderer.kube.crd import CrdPool, PolicyCR
from renderer.kube.objects import ObjectMeta
from renderer.mapping import names
from renderer.mapping.crd_common import CrdContext, add_pool, check_balance, resolve_service
from renderer.model import DataGroup, Tenant

if TYPE_CHECKING:
    from renderer.mapping.virtualserver import Member


def is_ab(spec: CrdPool) -> bool:
    return bool(spec.alternates) or spec.weight is not None


def ab_pools(ctx: CrdContext, tenant: Tenant, meta: ObjectMeta, spec: CrdPool, ip: str, remark: str, *,
             host: str, policy: PolicyCR | None, check_send: bool = True) -> list[tuple[str, int]] | None:
    """(pool, weight) per backend, primary first; None when a backend does not resolve. `host`: the
    VirtualServer's (in the pool names), "" for a TransportServer."""
    if not check_balance(ctx, meta, spec):
        return None
    backends = [(spec.service, spec.namespace, spec.weight if spec.weight is not None else 100, spec.keys)]
    backends += [(alt.service, alt.namespace, alt.weight, alt.keys) for alt in spec.alternates]
    out = []
    for service, namespace, weight, keys in backends:
        backend = resolve_service(ctx, meta, namespace, service, spec.service_port, keys)
        if backend is None:
            return None
        name = names.crd_pool_name(service, spec.service_port if spec.service_port is not None else "", namespace,
                                   host, spec.node_member_label, spec.path, tenant=tenant.name)
        if add_pool(ctx, tenant, meta, spec, name, backend, monitor_ip=ip, host=host, remark_vs=remark,
                    policy=policy, check_send=check_send) is None:
            return None
        out.append((name, weight))
    return out


def weights_value(pools: list[tuple[str, int]]) -> str:
    total = sum(w for _, w in pools)
    if not total:
        return ""
    parts, running = [], 0
    for name, weight in pools:
        if weight:
            running += weight
            parts.append(f"{name},{running / total:4.3f}")
    return ";".join(parts)


def add_records(dg: DataGroup, m: Member, spec: CrdPool, pools: list[tuple[str, int]]) -> None:
    path = spec.path.rstrip("/")
    for host in m.res.hosts or ("",):
        dg.records[f"{host}{path}"] = weights_value(pools)


def ab_irule(partition: str, data_group: str) -> str:
    """Per request: the longest `host+path` (then `path`) prefix in `data_group`, a random number
    against its cumulative weights, that pool; no weight left: 503."""
    return "\n".join([
        f"# A/B pools: choose a pool by weight from {data_group} (keys host+path, values pool,cumulative;...).",
        "when HTTP_REQUEST {",
        f"    set dg \"/{partition}/Shared/{data_group}\"",
        "    set host [string tolower [getfield [HTTP::host] \":\" 1]]",
        "    set best \"\"",
        "    set found 0",
        "    foreach candidate [list \"${host}[HTTP::path]\" [HTTP::path]] {",
        "        foreach key [class names $dg] {",
        "            if { [string first $key $candidate] == 0 && ([string length $key] > [string length $best]"
        " || !$found) } {",
        "                set best $key",
        "                set found 1",
        "            }",
        "        }",
        "        if { $found } { break }",
        "    }",
        "    if { !$found } { return }",
        "    set weights [class lookup $best $dg]",
        "    if { $weights eq \"\" } {",
        "        HTTP::respond 503",
        "        return",
        "    }",
        "    set r [expr {rand()}]",
        "    foreach entry [split $weights \";\"] {",
        "        set parts [split $entry \",\"]",
        "        if { $r <= [lindex $parts 1] } {",
        f"            pool \"/{partition}/Shared/[lindex $parts 0]\"",
        "            return",
        "        }",
        "    }",
        "}",
    ]) + "\n"


def ab_l4_irule(partition: str, data_group: str) -> str:
    """Per connection: a random number against the cumulative weights of the key `/` in `data_group`;
    the chosen pool if it has an active member, else the last pool before it that has one, else the
    next that has one (CIS's order). No weight left, or no pool with an active member: reject."""
    return "\n".join([
        f"# A/B pools: choose a pool by weight from {data_group} (key /, value pool,cumulative;...).",
        "when CLIENT_ACCEPTED {",
        f"    set weights [class lookup \"/\" \"/{partition}/Shared/{data_group}\"]",
        "    if { $weights ne \"\" } {",
        "        set r [expr {rand()}]",
        "        set active \"\"",
        "        foreach entry [split $weights \";\"] {",
        "            set parts [split $entry \",\"]",
        f"            set name \"/{partition}/Shared/[lindex $parts 0]\"",
        "            if { [active_members $name] >= 1 } { set active $name }",
        "            if { $r <= [lindex $parts 1] && $active ne \"\" } {",
        "                pool $active",
        "                return",
        "            }",
        "        }",
        "    }",
        "    reject",
        "}",
    ]) + "\n"
