"""Object names, following CIS 2.19+ so a cluster CIS managed migrates with zero churn.

AS3 3.56.0 limits a name twice: the Application's `propertyNames` (`^[A-Za-z]([0-9A-Za-z_.-]{0,188}
[0-9A-Za-z_.])?$`, at most 190 characters), and after post-processing `validatePathLengths`
(postValidator.js), which refuses any classed item whose `/<tenant>/<application>/<name>` is longer
than 195 characters (JavaScript's `.length`, UTF-16 units; every separator counts). So the room for
a name depends on its tenant: `item_limit`. Every function here that names an object of a tenant
takes that tenant, and a name over its room keeps a readable prefix plus `_` and 8 hex digits of the
SHA-256 of the full raw name: deterministic, and distinct for names that differ anywhere (CIS
produced 422s instead: #1272, #1392). A name within its room is never changed. References reuse the
name the mapping made (never recompute it from another tenant), and the registries claim the final,
shortened name, so NAME001 / CRD120 see what AS3 sees.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

MAX_NAME = 190  # AS3's Application propertyNames maxLength
MAX_PATH = 195  # AS3's constants.MAX_PATH_LENGTH, for /<tenant>/<application>/<name>
APPLICATION = "Shared"  # the one application every generated object lives in
_HASHED = 9  # "_" + 8 hex digits
MIN_ROOM = 32  # a tenant that leaves less room for names than this is refused (NAME301)
_UNSAFE = re.compile(r"[^0-9A-Za-z_]")


def _js_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def item_limit(tenant: str, application: str = APPLICATION) -> int:
    """The longest object name AS3 accepts in /<tenant>/<application>/ (never below a hashed name)."""
    room = MAX_PATH - _js_length(f"/{tenant}/{application}/")
    return max(_HASHED + 1, min(MAX_NAME, room))


def tenant_problem(tenant: str) -> str | None:
    """Why `tenant` cannot hold generated objects (their paths could not stay within AS3's 195), or None."""
    room = MAX_PATH - _js_length(f"/{tenant}/{APPLICATION}/")
    if room >= MIN_ROOM:
        return None
    return (f"partition {tenant[:40]}{'...' if len(tenant) > 40 else ''} is {_js_length(tenant)} characters long: "
            f"AS3 paths /<partition>/{APPLICATION}/<name> may have {MAX_PATH} characters, which leaves "
            f"{max(room, 0)} for object names (as3-gitops needs at least {MIN_ROOM})")


def _fit(name: str, raw: str, limit: int) -> str:
    """`name` when it fits, else its prefix, `_` and a stable hash of the raw name (so still injective)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    return f"{name[: max(limit, _HASHED + 1) - _HASHED]}_{digest}"


def _limit(limit: int, tenant: str | None) -> int:
    return limit if tenant is None else min(limit, item_limit(tenant))


def as3_name(raw: str, limit: int = MAX_NAME, *, tenant: str | None = None) -> str:
    """CIS's as3FormattedString (every non-word character becomes `_`), then length-limited: to the
    room in `tenant` for an object name, to `limit` alone for what is no path (policy rule names)."""
    name = _UNSAFE.sub("_", raw)
    if not name or not name[0].isalpha():
        name = "n_" + name
    return _fit(name, raw, _limit(limit, tenant))


def _ip_part(ip: str) -> str:
    return ip.replace("[", "").replace("]", "")


def vs_name(ip: str, port: int, *, tenant: str) -> str:
    return as3_name(f"ingress_{_ip_part(ip)}_{port}", tenant=tenant)


def policy_name(ip: str, port: int, *, tenant: str) -> str:
    name = vs_name(ip, port, tenant=tenant)
    return name[0].upper() + name[1:]


def ingress_pool_name(namespace: str, ingress: str, service: str, port: int | str, *, tenant: str) -> str:
    return as3_name(f"ingress_{namespace}_{ingress}_{service}_{port}", tenant=tenant)


def monitor_name(pool: str, monitor_type: str, index: int = 0, *, tenant: str) -> str:
    return as3_name(f"{pool}_{index}_{monitor_type}", tenant=tenant)


def rule_name(host: str, path: str, pool: str) -> str:
    segments = path.strip("/").replace("/", "_")
    parts = ["ingress"] + ([host] if host else []) + ([segments] if segments else []) + [pool]
    return as3_name("_".join(parts), limit=1000)


def configmap_vs_name(namespace: str, name: str, *, tenant: str) -> str:
    prefix = "cfgmap_" if namespace[:1].isdigit() else ""
    return as3_name(f"{prefix}{namespace}_{name}", tenant=tenant)


def configmap_pool_name(namespace: str, name: str, service: str, *, tenant: str) -> str:
    return as3_name(f"cfgmap_{namespace}_{name}_{service}", tenant=tenant)


def certificate_names(secrets: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The raw Certificate name per (namespace, Secret), for `certificate_name`: CIS's `<secret>`,
    unless Secrets of one name (after `_` mapping) from different namespaces are used; then each of
    those is `<namespace>_<secret>`.

    Depends only on the set of Secrets the Ingresses use, so it is stable from render to render; a
    repository where no two namespaces share a Secret name keeps CIS's names (no churn on migration)."""
    by_name: dict[str, set[tuple[str, str]]] = {}
    for namespace, secret in secrets:
        by_name.setdefault(as3_name(secret, 1 << 16), set()).add((namespace, secret))
    out: dict[tuple[str, str], str] = {}
    for users in by_name.values():
        for namespace, secret in users:
            out[(namespace, secret)] = secret if len(users) == 1 else f"{namespace}_{secret}"
    return out


def certificate_name(raw: str, *, tenant: str) -> str:
    """An Ingress Certificate's name from its `certificate_names` entry (or bare Secret name)."""
    return as3_name(raw, tenant=tenant)


def arp_name(ip: str) -> str:
    return f"k8s-{ip}"


# --- CIS custom resources (VirtualServer, TransportServer, IngressLink, LoadBalancer Services) ---
# CIS 2.20's CRD controller names objects with AS3NameFormatter (see cis-crd-behaviour.md §0); we
# apply the same substitutions, then make the result a valid AS3 name (CIS leaves `*`, `+` and
# over-long names to fail at the device) with the same stable-hash shortening as above.

_CRD_SUBST = str.maketrans({".": "_", ":": "_", "/": "_", "-": "_", "=": "_", "+": "_", "%": ".", "[": None,
                            "]": None})
_AS3_INVALID = re.compile(r"[^0-9A-Za-z_.]")


def crd_name(raw: str, limit: int = MAX_NAME, *, tenant: str | None = None) -> str:
    """CIS's AS3NameFormatter, then made AS3-valid (unchanged whenever CIS's result already was) and
    length-limited as `as3_name` is."""
    name = raw.translate(_CRD_SUBST).replace("*_", "")
    name = _AS3_INVALID.sub("_", name)
    if not name or not name[0].isalpha():
        name = "n_" + name
    if name.endswith("."):
        name += "_"
    return _fit(name, raw, _limit(limit, tenant))


def _bare_ip(ip: str) -> str:
    return ip.split("%")[0].strip("[]")


def crd_vs_name(ip: str, port: int, custom: str = "", *, tenant: str) -> str:
    """`crd_<ip>_<port>`, or `<virtualServerName>_<port>` (also TransportServer names)."""
    return crd_name(f"{custom}_{port}" if custom else f"crd_{_bare_ip(ip)}_{port}", tenant=tenant)


def ingress_link_vs_name(ip: str, port: int, custom: str = "", *, tenant: str) -> str:
    return crd_name(f"{custom}_{port}" if custom else f"ingress_link_crd_{_bare_ip(ip)}_{port}", tenant=tenant)


def lb_service_vs_name(namespace: str, service: str, ip: str, port: int, *, tenant: str) -> str:
    return crd_name(f"vs_lb_svc_{namespace}_{service}_{_bare_ip(ip)}_{port}", tenant=tenant)


def crd_pool_name(service: str, port: int | str, namespace: str, host: str = "", node_label: str = "",
                  path: str = "", *, tenant: str) -> str:
    """`<svc>_<port>_<ns>[_<host>][_<nodeMemberLabel>][_<path>]`: the port as written in the resource."""
    raw = f"{service}_{port}_{namespace}"
    if host:
        raw += f"_{host}"
    if node_label:
        label = node_label.removesuffix('=""').removesuffix("=")
        raw += "_" + label.replace("=", "_")
    if path.strip("/"):
        raw += "_" + path.lstrip("/")
    return crd_name(raw, tenant=tenant)


def crd_monitor_name(namespace: str, ip: str, monitor_type: str, port: int | str, host: str = "",
                     path: str = "", *, tenant: str) -> str:
    raw = f"{namespace}_{_bare_ip(ip)}"
    if host:
        raw += f"_{host}"
    if path and path != "/":
        raw += path if path.startswith("/") else f"_{path}"
    if monitor_type and port not in (0, ""):
        raw += f"_{monitor_type}_{port}"
    return crd_name(raw, tenant=tenant)


def crd_policy_name(vs: str, host: str, *, tenant: str) -> str:
    if host.startswith("*"):
        host = "wildcard" + host[1:]
    return crd_name(f"{vs}_{host}_policy", tenant=tenant)


def crd_rule_name(host: str, path: str, pool: str) -> str:
    """`vs_<host>_<path>_<pool>` (host is the hostGroup, or `<hostGroup>_<host>`, when grouped)."""
    segments = path.strip("/").replace("/", "_")
    parts = ["vs", host] + ([segments] if segments else []) + [pool]
    return crd_name("_".join(parts), limit=1000)


def crd_object_name(vs: str, suffix: str, *, tenant: str) -> str:
    """Objects CIS derives from a virtual: `<vs>_tls_irule`, `<vs>_ssl_edge_servername_dg`, ...
    (`vs` is the virtual's final name: a shortened virtual gives shortened derived names)."""
    return crd_name(f"{vs}_{suffix}", tenant=tenant)


def crd_service_address_name(address: str, *, tenant: str) -> str:
    return crd_name(f"crd_service_address_{address}", tenant=tenant)


def gslb_domain_key(domain: str, *, tenant: str) -> str:
    return crd_name(domain.replace("*", "wildcard", 1) if domain.startswith("*") else domain, tenant=tenant)


def gslb_pool_name(domain: str, data_server: str, index: int, *, tenant: str) -> str:
    """One name per pool (CIS gives every pool of an ExternalDNS the same name, so they collide)."""
    base = domain.replace("*", "wildcard", 1) if domain.startswith("*") else domain
    server = data_server.rsplit("/", 1)[-1]
    return crd_name(f"{base}_{server}_{index}_gtm" if index else f"{base}_{server}_gtm", tenant=tenant)
