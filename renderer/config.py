"""as3-gitops.yaml: the repository's configuration, checked against schemas/config.schema.json.

Every key has a default, so a repository without the file renders with CIS's defaults.
Unknown keys and wrong types are findings with the file and line of the offending key.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import json
from dataclasses import dataclass, field, replace
from typing import Any

from renderer.errors import Finding, Severity, SourceError, SourceLocation
from renderer.generate.spec import GenerateSpec, parse_generate
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
    network: str = "vxlan"  # how the BIG-IP reaches pod IPs in cluster mode: vxlan | static-routes
    devices: tuple[DeviceConfig, ...] = ()  # several BIG-IPs (an HA pair); empty: one device, --host
    ha: HaConfig = field(default_factory=lambda: HaConfig())


@dataclass(frozen=True)
class StaticRoutesConfig:
    """CIS --static-routing-mode: one `net route` per node pod subnet via the node's address."""

    cni: str = "default"  # CIS --orchestration-cni: default | cilium-k8s | calico-k8s | ovn-k8s
    # CIS --shared-static-routes. Our default is true (CIS: false): bigip.partition is an AS3 tenant,
    # which AS3 creates on the first post (after make-before-break wants the routes) and cannot
    # delete while routes sit in it. false keeps CIS's placement, e.g. to adopt CIS's routes.
    shared: bool = True
    node_address: str = "InternalIP"  # CIS --use-node-internal (true: InternalIP, false: ExternalIP)

    def partition(self, bigip: BigipConfig) -> str:
        return "Common" if self.shared else bigip.partition


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
    floating_self_ip: str | None = None  # several devices: a floating self IP on the tunnel (traffic group)
    traffic_group: str = "/Common/traffic-group-1"


@dataclass(frozen=True)
class DeviceConfig:
    """One BIG-IP of several (`bigip.devices:`, e.g. an HA pair): its address and what is per device.

    `vxlan` holds the per-device VXLAN keys (localAddress, selfIP, bigipNode, vtepMAC, podCIDR)
    laid over the shared `vxlan:` section; everything else (the AS3 declaration, FDB records of
    the cluster nodes, ARPs, static routes) is the same on every device."""

    name: str
    host: str
    vxlan: tuple[tuple[str, Any], ...] = ()  # (attribute, value) overrides of VxlanConfig

    def vxlan_config(self, base: VxlanConfig | None) -> VxlanConfig | None:
        return replace(base, **dict(self.vxlan)) if base is not None else None


@dataclass(frozen=True)
class HaConfig:
    """How several devices are deployed (`bigip.configSync`)."""

    device_group: str | None = None  # the sync-failover device group; None: the devices do not sync
    # AS3 goes to the active device once with syncToGroup (sync) or to every device (each)
    as3: str = "sync"


@dataclass(frozen=True)
class ClusterConfig:
    """One Kubernetes cluster behind the BIG-IP (several: `clusters:`): its snapshot and network."""

    name: str
    snapshot: tuple[str, ...]
    network: str  # vxlan | static-routes (default: bigip.network)


@dataclass(frozen=True)
class AutoDeploy:
    """snapshot.autoDeploy: may `snapshot watch` deploy snapshot-only changes without review, within limits."""

    enabled: bool = False
    max_removed_percent: int = 50


@dataclass(frozen=True)
class Config:
    bigip: BigipConfig = field(default_factory=BigipConfig)
    vxlan: VxlanConfig | None = None
    static_routes: StaticRoutesConfig = field(default_factory=StaticRoutesConfig)
    manifests: tuple[str, ...] = ("manifests",)
    snapshot: tuple[str, ...] = ("snapshot",)
    templates: str | None = None
    clusters: tuple[ClusterConfig, ...] = ()  # empty: one cluster, snapshot under paths.snapshot
    as3_schema: str | None = None
    snapshot_max_age: str | None = None
    snapshot_layout: str = "per-kind"
    snapshot_auto_deploy: AutoDeploy = field(default_factory=AutoDeploy)
    environment: str = "default"
    # ipamLabel -> the addresses it may hand out (a CIDR, or a list of addresses and CIDRs)
    ipam: dict[str, tuple[str, ...]] = field(default_factory=dict)
    location: SourceLocation = field(default_factory=lambda: SourceLocation(CONFIG_FILE))
    limits: Limits = DEFAULT_LIMITS
    generate: tuple[GenerateSpec, ...] = ()  # commands whose stdout is more manifests (renderer.generate)


def device_view(config: Config, name: str) -> Config:
    """The configuration as one device sees it: its own VXLAN address, self IP and BIG-IP Node."""
    device = next(d for d in config.bigip.devices if d.name == name)
    return replace(config, vxlan=device.vxlan_config(config.vxlan))


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
    "network": "network",
    "manageIngressClassOnly": "manage_ingress_class_only",
    "overrideAS3": "override_as3",
    "routeVirtualAddress": "route_virtual_address",
    "routeHttpVserver": "route_http_vserver",
    "routeHttpsVserver": "route_https_vserver",
}
_ROUTES_KEYS = {"cni": "cni", "shared": "shared", "nodeAddress": "node_address"}
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
    "floatingSelfIP": "floating_self_ip",
    "trafficGroup": "traffic_group",
}
_DEVICE_VXLAN_KEYS = {k: v for k, v in _VXLAN_KEYS.items()
                      if k in ("localAddress", "selfIP", "bigipNode", "vtepMAC", "podCIDR")}

_AUTO_DEPLOY_KEYS = {"enabled": "enabled", "maxRemovedPercent": "max_removed_percent"}


def _pick(raw: dict[str, Any] | None, mapping: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, attr in mapping.items():
        if raw and key in raw and raw[key] is not None:
            value = raw[key]
            out[attr] = tuple(value) if isinstance(value, list) else value
    return out


@functools.cache
def _config_verdict() -> Any:
    """jsonschema-rs's yes/no for as3-gitops.yaml. Formats are not asserted (python-jsonschema
    without a format checker does not either); where the two differ, Rust is the stricter (`$`
    does not match before a trailing newline), and a no is always re-judged by python-jsonschema."""
    import jsonschema_rs

    return jsonschema_rs.Draft7Validator(config_schema(), validate_formats=False)


def _schema_findings(doc: Document, data: Any) -> list[Finding]:
    """CFG002/CFG003 as python-jsonschema words them. A valid file (every render reads one) is
    accepted by jsonschema-rs; python-jsonschema (several MB of imports) judges only the rest,
    and values Rust cannot take (YAML dates, non-string keys)."""
    try:
        if _config_verdict().is_valid(data):
            return []
    except (ValueError, OverflowError, TypeError, RecursionError):
        pass
    import jsonschema

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


def _path_findings(doc: Document, data: dict[str, Any]) -> list[Finding]:
    """CFG004: every configured path stays inside the repository (absolute paths and `..` are refused)."""
    paths = data.get("paths") or {}
    keyed: list[tuple[tuple[str | int, ...], Any]] = [
        (("paths", name, i), value)
        for name in ("manifests", "snapshot") for i, value in enumerate(paths.get(name) or [])]
    keyed.append((("templates",), data.get("templates")))
    for i, cluster in enumerate(data.get("clusters") or []):
        if isinstance(cluster, dict):
            keyed += [(("clusters", i, "snapshot", j), value) for j, value in enumerate(cluster.get("snapshot") or [])]
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
    allowed = "\n\t" if path[:1] == ("generate",) else ""  # a `sh -c` script has lines
    if isinstance(data, str) and any((ord(c) < 32 or ord(c) == 127) and c not in allowed for c in data):
        where = ".".join(map(str, path)) or "(top level)"
        return [Finding("CFG003", f"{where}: contains a control character (newline, tab, ...)", doc.locate(*path))]
    return []


def _cluster_findings(doc: Document, data: dict[str, Any], clusters: tuple[ClusterConfig, ...]) -> list[Finding]:
    """Names unique, one VXLAN cluster at most (one tunnel), no paths.snapshot beside clusters:."""
    findings = []
    seen: set[str] = set()
    for i, c in enumerate(clusters):
        if c.name in seen:
            findings.append(Finding("TOPO010", f"cluster name {c.name!r} is used twice",
                                    doc.locate("clusters", i, "name")))
        seen.add(c.name)
    vxlan = [i for i, c in enumerate(clusters) if c.network == "vxlan"]
    for i in vxlan[1:]:
        findings.append(Finding("TOPO010", f"cluster {clusters[i].name!r}: only one cluster can use the VXLAN "
                                "tunnel (network: vxlan)", doc.locate("clusters", i),
                                hint="give the other clusters network: static-routes (or bigip.poolMemberType: "
                                "nodeport)"))
    if clusters and "snapshot" in (data.get("paths") or {}):
        findings.append(Finding("TOPO010", "paths.snapshot and clusters: both name snapshots",
                                doc.locate("paths", "snapshot", value=False),
                                hint="with clusters:, each cluster names its snapshot folders"))
    return findings


def _device_findings(doc: Document, bigip: BigipConfig) -> list[Finding]:
    findings = []
    for key in ("name", "host"):
        seen: set[str] = set()
        for i, d in enumerate(bigip.devices):
            value = getattr(d, key)
            if value in seen:
                findings.append(Finding("TOPO020", f"device {key} {value!r} is used twice",
                                        doc.locate("bigip", "devices", i, key)))
            seen.add(value)
    if bigip.ha.as3 == "sync" and len(bigip.devices) > 1 and not bigip.ha.device_group:
        findings.append(Finding("TOPO020", "several devices and configSync.as3 is sync, but no configSync.deviceGroup",
                                doc.locate("bigip", "devices", value=False),
                                hint="name the sync-failover device group, or set configSync.as3: each"))
    return findings


def load_config(tree: Tree) -> tuple[Config, list[Finding]]:
    """Read and check as3-gitops.yaml; defaults for everything it does not say."""
    try:
        raw_bytes = tree.read(CONFIG_FILE)
    except SourceError as err:  # e.g. a symlink that leaves the repository
        return Config(), [err.as_finding("SRC005")]
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
    findings = _schema_findings(doc, data) or _control_findings(doc, data) or _path_findings(doc, data)
    if findings:
        return Config(), findings
    raw_bigip = data.get("bigip") or {}
    sync = raw_bigip.get("configSync") or {}
    devices = tuple(DeviceConfig(d["name"], d["host"], tuple(sorted(_pick(d.get("vxlan"), _DEVICE_VXLAN_KEYS).items())))
                    for d in raw_bigip.get("devices") or ())
    bigip = BigipConfig(**_pick(raw_bigip, _BIGIP_KEYS), devices=devices,
                        ha=HaConfig(sync.get("deviceGroup"), sync.get("as3", "sync")))
    vxlan_raw = data.get("vxlan")
    vxlan = VxlanConfig(**_pick(vxlan_raw, _VXLAN_KEYS)) if vxlan_raw else None
    paths = data.get("paths") or {}
    snap = data.get("snapshot") or {}
    clusters = tuple(ClusterConfig(c["name"], tuple(c["snapshot"]), c.get("network") or bigip.network)
                     for c in data.get("clusters") or ())
    generate, findings = parse_generate(doc, data.get("generate"))
    findings += _cluster_findings(doc, data, clusters) + _device_findings(doc, bigip)
    if findings:
        return Config(), findings
    config = Config(
        bigip=bigip,
        vxlan=vxlan,
        static_routes=StaticRoutesConfig(**_pick(data.get("staticRoutes"), _ROUTES_KEYS)),
        manifests=tuple(paths.get("manifests", ("manifests",))),
        # with clusters: every cluster's snapshot folders (what counts as "snapshot" in a diff)
        snapshot=(tuple(p for c in clusters for p in c.snapshot) if clusters
                  else tuple(paths.get("snapshot", ("snapshot",)))),
        clusters=clusters,
        templates=data.get("templates"),
        as3_schema=(data.get("as3") or {}).get("schema"),
        snapshot_max_age=snap.get("maxAge"),
        snapshot_layout=snap.get("layout", "per-kind"),
        snapshot_auto_deploy=AutoDeploy(**_pick(snap.get("autoDeploy"), _AUTO_DEPLOY_KEYS)),
        environment=data.get("environment", "default"),
        ipam={label: (value,) if isinstance(value, str) else tuple(value)
              for label, value in (data.get("ipam") or {}).items()},
        location=doc.location,
        limits=limits_from_config(data.get("limits")),
        generate=generate,
    )
    return config, []
