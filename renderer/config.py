"""as3-gitops.yaml: the repository's configuration, checked against schemas/config.schema.json.

Every key has a default, so a repository without the file renders with CIS's defaults.
Unknown keys and wrong types are findings with the file and line of the offending key.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from renderer.errors import Finding, SourceError, SourceLocation
from renderer.limits import DEFAULT_LIMITS, Limits, limits_from_config
from renderer.source import Document, Tree, confined_path, parse_file

CONFIG_FILE = "as3-gitops.yaml"


@dataclass(frozen=True)
class BigipConfig:
    partition: str = "kubernetes"
    pool_member_type: str = "cluster"
    ingress_class: str = "f5"
    default_ingress_ip: str | None = None
    schema_version: str = "3.56.0"
    share_nodes: bool = False
    default_route_domain: int = 0
    ciphers: str = "DEFAULT"
    # CIS --manage-ingress-class-only: v1beta1 Ingresses without a class are skipped when true
    manage_ingress_class_only: bool = False
    # CIS --override-as3-declaration: "<namespace>/<name>" of the override ConfigMap
    override_as3: str | None = None
    # CIS --route-vserver-addr / --route-http-vserver / --route-https-vserver (OpenShift Routes)
    route_virtual_address: str | None = None
    route_http_vserver: str = "ose-vserver"
    route_https_vserver: str = "https-ose-vserver"


@dataclass(frozen=True)
class VxlanConfig:
    tunnel: str = "flannel_vxlan"
    profile: str = "fl-vxlan"
    port: int = 8472
    flooding_type: str = "none"
    key: int = 1
    local_address: str | None = None
    self_ip: str | None = None
    allow_service: str | tuple[str, ...] = "all"
    bigip_node: str = "bigip"
    vtep_mac: str | None = None
    pod_cidr: str | None = None


@dataclass(frozen=True)
class Config:
    bigip: BigipConfig = field(default_factory=BigipConfig)
    vxlan: VxlanConfig | None = None
    manifests: tuple[str, ...] = ("manifests",)
    snapshot: tuple[str, ...] = ("snapshot",)
    templates: str | None = None
    as3_schema: str | None = None
    snapshot_max_age: str | None = None
    snapshot_layout: str = "per-kind"
    environment: str = "default"
    # ipamLabel -> the addresses it may hand out (a CIDR, or a list of addresses and CIDRs)
    ipam: dict[str, tuple[str, ...]] = field(default_factory=dict)
    location: SourceLocation = field(default_factory=lambda: SourceLocation(CONFIG_FILE))
    limits: Limits = DEFAULT_LIMITS


@functools.cache
def config_schema() -> dict[str, Any]:
    text = importlib.resources.files("renderer.schemas").joinpath("config.schema.json").read_text("utf-8")
    return json.loads(text)


_BIGIP_KEYS = {
    "partition": "partition",
    "poolMemberType": "pool_member_type",
    "ingressClass": "ingress_class",
    "defaultIngressIP": "default_ingress_ip",
    "schemaVersion": "schema_version",
    "shareNodes": "share_nodes",
    "defaultRouteDomain": "default_route_domain",
    "ciphers": "ciphers",
    "manageIngressClassOnly": "manage_ingress_class_only",
    "overrideAS3": "override_as3",
    "routeVirtualAddress": "route_virtual_address",
    "routeHttpVserver": "route_http_vserver",
    "routeHttpsVserver": "route_https_vserver",
}
_VXLAN_KEYS = {
    "tunnel": "tunnel",
    "profile": "profile",
    "port": "port",
    "floodingType": "flooding_type",
    "key": "key",
    "localAddress": "local_address",
    "selfIP": "self_ip",
    "allowService": "allow_service",
    "bigipNode": "bigip_node",
    "vtepMAC": "vtep_mac",
    "podCIDR": "pod_cidr",
}


def _pick(raw: dict[str, Any] | None, mapping: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, attr in mapping.items():
        if raw and key in raw and raw[key] is not None:
            value = raw[key]
            out[attr] = tuple(value) if isinstance(value, list) else value
    return out


def _schema_findings(doc: Document, data: Any) -> list[Finding]:
    validator = jsonschema.Draft7Validator(config_schema())
    findings = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = list(err.absolute_path)
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            for key in extra:
                known = ", ".join(sorted(err.schema.get("properties", {})))
                findings.append(Finding(
                    "CFG002", f"unknown key {'.'.join(map(str, [*path, key]))!r} in {CONFIG_FILE}",
                    doc.locate(*path, key, value=False), hint=f"known keys here: {known}"))
            continue
        where = ".".join(map(str, path)) or "(top level)"
        message = err.message
        if err.validator == "not" and path[-1:] == ["partition"]:
            message = "partition 'Common' is reserved: AS3 tenants cannot be the Common partition"
        findings.append(Finding("CFG003", f"{where}: {message}", doc.locate(*path)))
    return findings


def _path_findings(doc: Document, data: dict[str, Any]) -> list[Finding]:
    """CFG004: every configured path stays inside the repository (absolute paths and `..` are refused)."""
    paths = data.get("paths") or {}
    keyed: list[tuple[tuple[str | int, ...], Any]] = [
        (("paths", name, i), value)
        for name in ("manifests", "snapshot") for i, value in enumerate(paths.get(name) or [])]
    keyed.append((("templates",), data.get("templates")))
    findings = []
    for keys, value in keyed:
        if not isinstance(value, str):
            continue
        try:
            confined_path(value)
        except SourceError as err:
            findings.append(Finding("CFG004", f"{'.'.join(map(str, keys))}: {err.message}", doc.locate(*keys),
                                    hint=err.hint))
    return findings


def _control_findings(doc: Document, data: Any, path: tuple[str | int, ...] = ()) -> list[Finding]:
    """CFG003 for a string with a control character (a newline in `environment` would end up in markdown;
    JSON-schema `$` lets a trailing newline through)."""
    if isinstance(data, dict):
        return [f for k, v in data.items() for f in _control_findings(doc, v, (*path, str(k)))]
    if isinstance(data, list):
        return [f for i, v in enumerate(data) for f in _control_findings(doc, v, (*path, i))]
    if isinstance(data, str) and any(ord(c) < 32 or ord(c) == 127 for c in data):
        where = ".".join(map(str, path)) or "(top level)"
        return [Finding("CFG003", f"{where}: contains a control character (newline, tab, ...)", doc.locate(*path))]
    return []


def load_config(tree: Tree) -> tuple[Config, list[Finding]]:
    """Read and check as3-gitops.yaml; defaults for everything it does not say."""
    try:
        raw_bytes = tree.read(CONFIG_FILE)
    except SourceError as err:  # e.g. a symlink that leaves the repository
        return Config(), [err.as_finding("SRC005")]
    if raw_bytes is None:
        return Config(), []
    _src, docs, findings = parse_file(CONFIG_FILE, raw_bytes)
    if findings:
        return Config(), findings
    if not docs:
        return Config(), []
    doc = docs[0]
    data = doc.data
    if not isinstance(data, dict):
        return Config(), [Finding("CFG001", f"{CONFIG_FILE} must be a mapping", doc.location)]
    findings = _schema_findings(doc, data) or _control_findings(doc, data) or _path_findings(doc, data)
    if findings:
        return Config(), findings
    bigip = BigipConfig(**_pick(data.get("bigip"), _BIGIP_KEYS))
    vxlan_raw = data.get("vxlan")
    vxlan = VxlanConfig(**_pick(vxlan_raw, _VXLAN_KEYS)) if vxlan_raw else None
    paths = data.get("paths") or {}
    snap = data.get("snapshot") or {}
    config = Config(
        bigip=bigip,
        vxlan=vxlan,
        manifests=tuple(paths.get("manifests", ("manifests",))),
        snapshot=tuple(paths.get("snapshot", ("snapshot",))),
        templates=data.get("templates"),
        as3_schema=(data.get("as3") or {}).get("schema"),
        snapshot_max_age=snap.get("maxAge"),
        snapshot_layout=snap.get("layout", "per-kind"),
        environment=data.get("environment", "default"),
        ipam={label: (value,) if isinstance(value, str) else tuple(value)
              for label, value in (data.get("ipam") or {}).items()},
        location=doc.location,
        limits=limits_from_config(data.get("limits")),
    )
    return config, []
