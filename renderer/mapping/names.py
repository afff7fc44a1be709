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
