"""f5type: virtual-server ConfigMaps (f5schemadb bigip-virtual-server v0.1.3-v0.1.7) -> AS3.

CIS 2.x ignores these ConfigMaps in AS3 mode (it honours them only with --agent=cccl), so this
mapping is our own: mode http/tcp/udp -> Service_HTTP/Service_TCP/Service_UDP (Service_HTTPS when an
sslProfile is given in http mode), names as CIS's CCCL path made them.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from typing import TYPE_CHECKING, Any

from renderer.config import Config
from renderer.errors import Finding, Severity
from renderer.kube.load import Cluster
from renderer.kube.objects import ConfigMap
from renderer.mapping import names
from renderer.mapping.annotations import BALANCE_MODES, parse_vs_address
from renderer.mapping.as3_configmap import as3_kind
from renderer.mapping.members import members_for, resolve_backend
from renderer.mapping.registry import Registry
from renderer.model import Monitor, Pool

if TYPE_CHECKING:  # python-jsonschema is imported when a virtual-server ConfigMap is read
    import jsonschema

# v0.1.0-v0.1.2 are read with the v0.1.7 rules: CIS validates them against its own older copies, which
# accept a subset of what v0.1.7 accepts for the fields that matter here (a violation is CM004 with a hint)
SCHEMA_RX = re.compile(r"^f5schemadb://bigip-virtual-server_v0\.1\.([0-7])\.json$")
MODE_CLASS = {"http": "Service_HTTP", "tcp": "Service_TCP", "udp": "Service_UDP"}

def _is_bigipv4(value: object) -> bool:
    return isinstance(value, str) and (parsed := parse_vs_address(value)) is not None and ":" not in parsed


def _is_bigipv6(value: object) -> bool:
    return isinstance(value, str) and (parsed := parse_vs_address(value)) is not None and ":" in parsed


@functools.cache
def _schema() -> dict:
    text = importlib.resources.files("renderer.schemas").joinpath("bigip-virtual-server.schema.json").read_text()
    return json.loads(text)


@functools.cache
def _validator() -> jsonschema.Draft7Validator:
    """python-jsonschema: its words for CM004 (imported only for data the fast verdict rejects)."""
    import jsonschema

    checker = jsonschema.FormatChecker()
    checker.checks("bigipv4")(_is_bigipv4)
    checker.checks("bigipv6")(_is_bigipv6)
    return jsonschema.Draft7Validator(_schema(), format_checker=checker)


@functools.cache
def _verdict() -> Any:
    """jsonschema-rs with the same two format checks. The schema has no `pattern`, and both formats
    sit under `"type": "string"` (python-jsonschema would apply them to any type, Rust to strings)."""
    import jsonschema_rs

    return jsonschema_rs.Draft7Validator(_schema(), formats={"bigipv4": _is_bigipv4, "bigipv6": _is_bigipv6},
                                         validate_formats=True)


def _schema_errors(data: Any) -> list[jsonschema.ValidationError]:
    try:
        if _verdict().is_valid(data):
            return []
    except (ValueError, OverflowError, TypeError, RecursionError):  # values Rust cannot take: ask python
        pass
    return sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))


def is_virtual_server_configmap(cm: ConfigMap) -> bool:
    return cm.meta.labels.get("f5type") == "virtual-server"


def build_configmaps(cluster: Cluster, config: Config, reg: Registry, findings: list[Finding]) -> None:
    for cm in sorted(cluster.configmaps, key=lambda c: (c.meta.namespace, c.meta.name)):
        if is_virtual_server_configmap(cm):
            _build_one(cm, cluster, config, reg, findings)


def _build_one(cm: ConfigMap, cluster: Cluster, config: Config, reg: Registry, findings: list[Finding]) -> None:
    meta = cm.meta
    what = f"ConfigMap {meta.ident}"
    if as3_kind(cm) is not None:
        return  # AS3, staging and override ConfigMaps: renderer/mapping/as3_configmap.py, as3_override.py
    if "template" in cm.data:
        findings.append(Finding("CM001", f"{what} has data.template but neither as3: \"true\" nor overrideAS3: "
                                "\"true\"; not rendered", meta.locate("metadata", "labels"), Severity.WARNING,
                                hint='label it as3: "true" (AS3 ConfigMap) or overrideAS3: "true" (override)'))
        return
    schema = cm.data.get("schema", "")
    if not SCHEMA_RX.match(schema):
        findings.append(Finding("CM002", f"{what}: data.schema {schema!r} is not a supported f5schemadb schema",
                                meta.locate("data", "schema"),
                                hint="use f5schemadb://bigip-virtual-server_v0.1.7.json"))
        return
    try:
        data = json.loads(cm.data.get("data", ""))
    except (ValueError, RecursionError) as err:  # ValueError: also ints beyond 4300 digits
        findings.append(Finding("CM003", f"{what}: data.data is not valid JSON ({err})", meta.locate("data", "data")))
        return
    errors = _schema_errors(data)
    if errors:
        for err in errors:
            path = "/".join(map(str, err.absolute_path)) or "(root)"
            old = SCHEMA_RX.match(schema).group(1) in "012"  # type: ignore[union-attr]
            findings.append(Finding("CM004", f"{what}: data.data {path}: {err.message}", meta.locate("data", "data"),
                                    hint="see the bigip-virtual-server v0.1.7 schema" + (
                                        f"; {schema} is read with the v0.1.7 rules" if old else "")))
        return
    vs_data = data["virtualServer"]
    frontend, backend = vs_data["frontend"], vs_data["backend"]
    if "iapp" in frontend:
        findings.append(Finding("CM005", f"{what}: iApp frontends are not supported; skipped",
                                meta.locate("data", "data"), Severity.WARNING))
        return
    partition = frontend["partition"]
    if partition == "Common":
        findings.append(Finding("ANN004", f"{what}: partition 'Common' cannot be an AS3 tenant",
                                meta.locate("data", "data"), hint="use a dedicated partition"))
        return
    problem = names.tenant_problem(partition)
    if problem:
        findings.append(Finding("NAME301", f"{what}: {problem}", meta.locate("data", "data"),
                                hint="use a shorter partition"))
        return
    balance = frontend.get("balance", "round-robin")
    if balance not in BALANCE_MODES:
        findings.append(Finding("CM006", f"{what}: balance {balance!r} is not a BIG-IP load-balancing mode",
                                meta.locate("data", "data")))
        return
    resolved = resolve_backend(cluster, meta.namespace, backend["serviceName"], backend["servicePort"],
                               meta.locate("data", "data"), what, findings)
    if resolved is None:
        return
    tenant = reg.tenant(partition)
    pool_name = names.configmap_pool_name(meta.namespace, meta.name, backend["serviceName"], tenant=partition)
    if not reg.claim(partition, pool_name, ("pool", "ConfigMap", meta.namespace, meta.name, backend["serviceName"]),
                     meta, findings, "pool"):
        return
    members, origins = members_for(cluster, config, resolved, findings)
    if not members:
        findings.append(Finding("ING030", f"{what}: Service {resolved.service.meta.ident} has no ready endpoint; "
                                "its pool has no members", meta.location, Severity.WARNING))
    pool = Pool(pool_name, balance, members, share_nodes=config.bigip.share_nodes,
                service=(meta.namespace, backend["serviceName"]),
                origins=[meta.origin, resolved.service.meta.origin, *origins])
    for i, hm in enumerate(backend.get("healthMonitors", [])):
        mon = names.monitor_name(pool_name, hm["protocol"], i, tenant=partition)
        if not reg.claim(partition, mon, ("monitor", pool_name, hm["protocol"], i), meta, findings, "monitor"):
            continue
        tenant.monitors[mon] = Monitor(mon, hm["protocol"], hm.get("send"), hm.get("recv", "none"),
                                       hm.get("interval", 0), hm.get("timeout", 0), origins=[meta.origin])
        pool.monitors.append(mon)
    tenant.pools[pool_name] = pool
    address = frontend.get("virtualAddress")
    if not address:
        return  # pool-only ConfigMap, as in CIS
    ip = address.get("bindAddr") or meta.annotations.get("virtual-server.f5.com/ip")
    if not ip:
        # CIS (CCCL) manages the pool only while no address is known (it waits for IPAM to annotate one)
        findings.append(Finding("CM009", f"{what}: virtualAddress has no bindAddr and there is no "
                                "virtual-server.f5.com/ip annotation: only the pool is rendered (as CIS)",
                                meta.locate("data", "data"), Severity.WARNING,
                                hint="set virtualAddress.bindAddr to get the virtual server"))
        return
    if parse_vs_address(ip) is None:
        findings.append(Finding("CM007", f"{what}: {ip!r} (virtualAddress.bindAddr or virtual-server.f5.com/ip) is "
                                "not an IP address",
                                meta.locate("data", "data")))
        return
    mode = frontend.get("mode", "tcp")
    cls = MODE_CLASS[mode]
    profiles = []
    ssl = frontend.get("sslProfile") or {}
    for name in ssl.get("f5ProfileNames", []) + ([ssl["f5ProfileName"]] if "f5ProfileName" in ssl else []):
        profiles.append(name if name.startswith("/") else ("/" + name if "/" in name else f"/{partition}/{name}"))
    if profiles and mode == "http":
        cls = "Service_HTTPS"
    elif profiles and mode == "udp":
        findings.append(Finding("CM008", f"{what}: sslProfile cannot be used with mode udp",
                                meta.locate("data", "data")))
        return
    vs = reg.virtual_server(partition, ip, address["port"], cls, meta, findings,
                            name=names.configmap_vs_name(meta.namespace, meta.name, tenant=partition))
    if vs is None:
        return
    vs.pool = pool_name
    vs.origins.append(meta.origin)
    if profiles:
        vs.server_tls = sorted(set(profiles))
