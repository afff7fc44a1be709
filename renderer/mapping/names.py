"""Object names, following CIS 2.19+ so a cluster CIS managed migrates with zero churn.

AS3 names must match `^[A-Za-z]([0-9A-Za-z_.-]{0,188}[0-9A-Za-z_.])?$`; names that would be longer are
shortened with a stable hash of the full name (CIS produced 422s instead: #1272, #1392).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

MAX_NAME = 190
_UNSAFE = re.compile(r"[^0-9A-Za-z_]")


def as3_name(raw: str, limit: int = MAX_NAME) -> str:
    """CIS's as3FormattedString (every non-word character becomes `_`), then length-limited."""
    name = _UNSAFE.sub("_", raw)
    if not name or not name[0].isalpha():
        name = "n_" + name
    if len(name) > limit:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
        name = f"{name[: limit - 9]}_{digest}"
    return name


def _ip_part(ip: str) -> str:
    return ip.replace("[", "").replace("]", "")


def vs_name(ip: str, port: int) -> str:
    return as3_name(f"ingress_{_ip_part(ip)}_{port}")


def policy_name(ip: str, port: int) -> str:
    name = vs_name(ip, port)
    return name[0].upper() + name[1:]


def ingress_pool_name(namespace: str, ingress: str, service: str, port: int | str) -> str:
    return as3_name(f"ingress_{namespace}_{ingress}_{service}_{port}")


def monitor_name(pool: str, monitor_type: str, index: int = 0) -> str:
    return as3_name(f"{pool}_{index}_{monitor_type}")


def rule_name(host: str, path: str, pool: str) -> str:
    segments = path.strip("/").replace("/", "_")
    parts = ["ingress"] + ([host] if host else []) + ([segments] if segments else []) + [pool]
    return as3_name("_".join(parts), limit=1000)


def configmap_vs_name(namespace: str, name: str) -> str:
    prefix = "cfgmap_" if namespace[:1].isdigit() else ""
    return as3_name(f"{prefix}{namespace}_{name}")


def configmap_pool_name(namespace: str, name: str, service: str) -> str:
    return as3_name(f"cfgmap_{namespace}_{name}_{service}")


def certificate_names(secrets: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Certificate name per (namespace, Secret): CIS's `<secret>`, unless Secrets of one name (after `_`
    mapping) from different namespaces are used; then each of those is `<namespace>_<secret>`.

    Depends only on the set of Secrets the Ingresses use, so it is stable from render to render; a
    repository where no two namespaces share a Secret name keeps CIS's names (no churn on migration)."""
    by_name: dict[str, set[tuple[str, str]]] = {}
    for namespace, secret in secrets:
        by_name.setdefault(as3_name(secret), set()).add((namespace, secret))
    out: dict[tuple[str, str], str] = {}
    for name, users in by_name.items():
        for namespace, secret in users:
            out[(namespace, secret)] = name if len(users) == 1 else as3_name(f"{namespace}_{secret}")
    return out


def arp_name(ip: str) -> str:
    return f"k8s-{ip}"


# --- CIS custom resources (VirtualServer, TransportServer, IngressLink, LoadBalancer Services) ---
# CIS 2.20's CRD controller names objects with AS3NameFormatter (see cis-crd-behaviour.md §0); we
# apply the same substitutions, then make the result a valid AS3 name (CIS leaves `*`, `+` and
# over-long names to fail at the device) with the same stable-hash shortening as above.

_CRD_SUBST = str.maketrans({".": "_", ":": "_", "/": "_", "-": "_", "=": "_", "+": "_", "%": ".", "[": None,
                            "]": None})
_AS3_INVALID = re.compile(r"[^0-9A-Za-z_.]")


def crd_name(raw: str, limit: int = MAX_NAME) -> str:
    """CIS's AS3NameFormatter, then made AS3-valid (unchanged whenever CIS's result already was)."""
    name = raw.translate(_CRD_SUBST).replace("*_", "")
    name = _AS3_INVALID.sub("_", name)
    if not name or not name[0].isalpha():
        name = "n_" + name
    if name.endswith("."):
        name += "_"
    if len(name) > limit:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
        name = f"{name[: limit - 9]}_{digest}"
    return name


def _bare_ip(ip: str) -> str:
    return ip.split("%")[0].strip("[]")


def crd_vs_name(ip: str, port: int, custom: str = "") -> str:
    """`crd_<ip>_<port>`, or `<virtualServerName>_<port>` (also TransportServer names)."""
    return crd_name(f"{custom}_{port}") if custom else crd_name(f"crd_{_bare_ip(ip)}_{port}")


def ingress_link_vs_name(ip: str, port: int, custom: str = "") -> str:
    return crd_name(f"{custom}_{port}") if custom else crd_name(f"ingress_link_crd_{_bare_ip(ip)}_{port}")


def lb_service_vs_name(namespace: str, service: str, ip: str, port: int) -> str:
    return crd_name(f"vs_lb_svc_{namespace}_{service}_{_bare_ip(ip)}_{port}")


def crd_pool_name(service: str, port: int | str, namespace: str, host: str = "", node_label: str = "",
                  path: str = "") -> str:
    """`<svc>_<port>_<ns>[_<host>][_<nodeMemberLabel>][_<path>]`: the port as written in the resource."""
    raw = f"{service}_{port}_{namespace}"
    if host:
        raw += f"_{host}"
    if node_label:
        label = node_label.removesuffix('=""').removesuffix("=")
        raw += "_" + label.replace("=", "_")
    if path.strip("/"):
        raw += "_" + path.lstrip("/")
    return crd_name(raw)


def crd_monitor_name(namespace: str, ip: str, monitor_type: str, port: int | str, host: str = "",
                     path: str = "") -> str:
    raw = f"{namespace}_{_bare_ip(ip)}"
    if host:
        raw += f"_{host}"
    if path and path != "/":
        raw += path if path.startswith("/") else f"_{path}"
    if monitor_type and port not in (0, ""):
        raw += f"_{monitor_type}_{port}"
    return crd_name(raw)


def crd_policy_name(vs: str, host: str) -> str:
    if host.startswith("*"):
        host = "wildcard" + host[1:]
    return crd_name(f"{vs}_{host}_policy")


def crd_rule_name(host: str, path: str, pool: str) -> str:
    """`vs_<host>_<path>_<pool>` (host is the hostGroup, or `<hostGroup>_<host>`, when grouped)."""
    segments = path.strip("/").replace("/", "_")
    parts = ["vs", host] + ([segments] if segments else []) + [pool]
    return crd_name("_".join(parts), limit=1000)


def crd_object_name(vs: str, suffix: str) -> str:
    """Objects CIS derives from a virtual: `<vs>_tls_irule`, `<vs>_ssl_edge_servername_dg`, ..."""
    return crd_name(f"{vs}_{suffix}")


def crd_service_address_name(address: str) -> str:
    return crd_name(f"crd_service_address_{address}")


def gslb_domain_key(domain: str) -> str:
    return crd_name(domain.replace("*", "wildcard", 1) if domain.startswith("*") else domain)


def gslb_pool_name(domain: str, data_server: str, index: int) -> str:
    """One name per pool (CIS gives every pool of an ExternalDNS the same name, so they collide)."""
    base = domain.replace("*", "wildcard", 1) if domain.startswith("*") else domain
    server = data_server.rsplit("/", 1)[-1]
    return crd_name(f"{base}_{server}_{index}_gtm" if index else f"{base}_{server}_gtm")
