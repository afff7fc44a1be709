"""Object names, following CIS 2.19+ so a cluster CIS managed migrates with zero churn.

AS3 names must match `^[A-Za-z]([0-9A-Za-z_.-]{0,188}[0-9A-Za-z_.])?$`; names that would be longer are
shortened with a stable hash of the full name (CIS produced 422s instead: #1272, #1392).
"""

from __future__ import annotations

import hashlib
import re

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


def arp_name(ip: str) -> str:
    return f"k8s-{ip}"
