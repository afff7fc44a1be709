"""as3-gitops.yaml: the repository's configuration, checked against schemas/config.schema.json.

Every key has a default, so a repository without the file renders with CIS's defaults.
Unknown keys and wrong types are findings with the file and line of the offending key.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import json
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from renderer.errors import Finding, Severity, SourceLocation
from renderer.source import Document, Tree, parse_file

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
                names = sorted(err.schema.get("properties", {}))
                near = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
                hint = (f"did you mean {near[0]!r}? " if near else "") + f"known keys here: {', '.join(names)}"
                findings.append(Finding(
                    "CFG002", f"unknown key {'.'.join(map(str, [*path, key]))!r} in {CONFIG_FILE}",
                    doc.locate(*path, key, value=False), hint=hint))
            continue
        where = ".".join(map(str, path)) or "(top level)"
        message = err.message
        if err.validator == "not" and path[-1:] == ["partition"]:
            message = "partition 'Common' is reserved: AS3 tenants cannot be the Common partition"
        findings.append(Finding("CFG003", f"{where}: {message}", doc.locate(*path)))
    return findings


def load_config(tree: Tree) -> tuple[Config, list[Finding]]:
    """Read and check as3-gitops.yaml; defaults for everything it does not say."""
    raw_bytes = tree.read(CONFIG_FILE)
    if raw_bytes is None:
        # Every key has a default, but a folder with neither the file nor a manifests/ folder is
        # almost always the wrong folder: say so (an error) instead of reporting problems "in" a file
        # that does not exist. With manifests/ the defaults apply, with a warning that says so.
        wrong_folder = not tree.exists(Config().manifests[0])
        return Config(), [Finding(
            "CFG005", f"no {CONFIG_FILE} in {tree.root_label} (is this the configuration repository?)"
            + ("" if wrong_folder else "; using the defaults"), None,
            Severity.ERROR if wrong_folder else Severity.WARNING,
            hint=f"pass the folder that holds {CONFIG_FILE}, or create one (an empty file uses every default)")]
    _src, docs, findings = parse_file(CONFIG_FILE, raw_bytes)
    if findings:
        return Config(), findings
    if not docs:
        return Config(), []
    doc = docs[0]
    data = doc.data
    if not isinstance(data, dict):
        return Config(), [Finding("CFG001", f"{CONFIG_FILE} must be a mapping", doc.location)]
    findings = _schema_findings(doc, data)
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
    )
    return config, []
