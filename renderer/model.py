"""The BIG-IP intent: what the device should run, independent of AS3's JSON shape.

Built from the Kubernetes views by `renderer.mapping`, turned into AS3 by `renderer.as3` and into the
net declaration by `renderer.net`. Every object keeps the Kubernetes objects it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from itertools import repeat
from operator import attrgetter, itemgetter, ne
from typing import Any

from renderer.errors import Origin


def unique_origins(origins: Sequence[Origin]) -> tuple[Origin, ...]:
    """`tuple(dict.fromkeys(origins))` (first occurrence kept), without hashing the one or two origins
    most objects have: an Origin's hash is computed in Python, and the sources of a 10k-Ingress
    render dedup 112,000 lists (each ARP has its Service's and its node's)."""
    if len(origins) < 2:
        return tuple(origins)
    if len(origins) == 2:
        first, second = origins
        return (first,) if first == second else (first, second)
    return tuple(dict.fromkeys(origins))


_KIND, _KEY = attrgetter("kind"), attrgetter("kind", "namespace", "name")
_FIRST, _SECOND = itemgetter(0), itemgetter(1)


def unique_origins_each(lists: Sequence[Sequence[Origin]]) -> list[tuple[Origin, ...]]:
    """`[unique_origins(o) for o in lists]`, in C-level passes for the sources of a whole group
    (100,000 ARPs, 12,000 pools at 10k Ingresses): Origins whose (kind, namespace, name) differ are
    never equal, so when every list's keys are distinct (for pairs: their kinds, as a Service and
    a Node, the usual ARP) each list is already its own dedup and only Python-level lists pay."""
    lens = list(map(len, lists))
    if not lens or max(lens) < 2:
        return list(map(tuple, lists))
    if min(lens) == 2 == max(lens):
        distinct = all(map(ne, map(_KIND, map(_FIRST, lists)), map(_KIND, map(_SECOND, lists))))
    else:
        distinct = list(map(len, map(set, map(map, repeat(_KEY), lists)))) == lens
    return list(map(tuple, lists)) if distinct else list(map(unique_origins, lists))


@dataclass(slots=True)
class Member:
    address: str
    port: int
    node_name: str | None = None
    cluster: str | None = None  # with several clusters: the one whose Endpoints it came from


@dataclass(slots=True)
class Monitor:
    name: str
    monitor_type: str  # http | https | tcp | udp
    send: str | None
    receive: str
    interval: int
    timeout: int
    client_tls: str | None = None  # BIG-IP profile path for https monitors
    origins: list[Origin] = field(default_factory=list)
    # CIS's custom-resource monitor shape (targetAddress/targetPort/adaptive as the CRD controller sets them)
    crd: bool = False
    target_port: int = 0


@dataclass(slots=True)
class Pool:
    name: str
    balance: str
    members: list[Member]
    monitors: list[str] = field(default_factory=list)
    share_nodes: bool = False
    service: tuple[str, str] = ("", "")  # namespace, name
    origins: list[Origin] = field(default_factory=list)
    bigip_monitors: list[str] = field(default_factory=list)  # monitors that exist on the device
    # further AS3 Pool properties a custom resource sets (minimumMonitors, serviceDownAction, ...)
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Condition:
    """One Endpoint_Policy condition in AS3's terms."""

    type: str  # httpHeader | httpUri | tcp
    name: str | None = None
    index: int | None = None
    selector: str = ""  # host header: "all"; uri: "pathSegment" / "path"; tcp: "address"
    values: tuple[str, ...] = ()
    operand: str = "equals"


@dataclass(slots=True)
class Action:
    type: str  # forward | httpRedirect | httpHeader | httpUri
    pool: str | None = None
    location: str | None = None
    replace: str | None = None  # for httpHeader (host) / httpUri (path) rewrites
    header: str | None = None
    uri_part: str = "path"  # httpUri replace: "path", or "value" (the whole URI, as CIS's CRD rewrites do)
    policy: str | None = None  # waf: the BIG-IP WAF policy path
    persist_method: str | None = None  # persist: sourceAddress, cookieInsert, ..., disable
    persist: dict[str, Any] | None = None  # persist: that method's settings


@dataclass(slots=True)
class Rule:
    name: str
    conditions: list[Condition]
    actions: list[Action]
    rank: tuple = ()  # sort key (CIS order); not emitted


@dataclass(slots=True)
class Policy:
    name: str
    rules: list[Rule] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)


@dataclass(slots=True)
class Certificate:
    name: str
    certificate: str
    private_key: str
    chain_ca: str | None
    origins: list[Origin] = field(default_factory=list)


@dataclass(slots=True)
class TLSServer:
    name: str
    certificates: list[str]
    ciphers: str
    origins: list[Origin] = field(default_factory=list)
    # set for a TLSProfile's TLS_Server: these properties replace the Ingress defaults
    # (renegotiationEnabled false, ciphers from the config)
    properties: dict[str, Any] | None = None


@dataclass(slots=True)
class IRule:
    name: str
    text: str
    origins: list[Origin] = field(default_factory=list)


@dataclass(slots=True)
class DataGroup:
    name: str
    records: dict[str, str] = field(default_factory=dict)
    origins: list[Origin] = field(default_factory=list)
    key_type: str = "string"  # string | ip


@dataclass(slots=True)
class Declared:
    """An AS3 object the model does not interpret further (Service_Address, TLS_Client, CA_Bundle,
    GSLB_*): the properties are emitted as given, with the objects they came from."""

    name: str
    properties: dict[str, Any]
    origins: list[Origin] = field(default_factory=list)


@dataclass(slots=True)
class VirtualServer:
    name: str
    cls: str  # Service_HTTP | Service_HTTPS | Service_TCP | Service_UDP
    address: str
    port: int
    pool: str | None = None
    policy: str | None = None
    irules: list[str] = field(default_factory=list)
    translate_address: bool = True
    server_tls: list[str] | str | None = None  # BIG-IP profiles, or the name of a TLS_Server
    client_tls: str | None = None
    origins: list[Origin] = field(default_factory=list)
    snat: str = "auto"  # auto | none | self, or the path of a BIG-IP SNAT pool
    address_ref: str | None = None  # a Service_Address of this tenant used instead of the bare address
    extra_addresses: list[str] = field(default_factory=list)
    client_tls_name: str | None = None  # a TLS_Client of this tenant (from Secrets)
    # further AS3 service properties a custom resource sets (profiles, persistence, WAF, ...)
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Tenant:
    name: str
    virtual_servers: dict[str, VirtualServer] = field(default_factory=dict)
    pools: dict[str, Pool] = field(default_factory=dict)
    monitors: dict[str, Monitor] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    certificates: dict[str, Certificate] = field(default_factory=dict)
    tls_servers: dict[str, TLSServer] = field(default_factory=dict)
    irules: dict[str, IRule] = field(default_factory=dict)
    data_groups: dict[str, DataGroup] = field(default_factory=dict)
    declared: dict[str, Declared] = field(default_factory=dict)

    def stored_facts(self) -> Any:
        """What a stored tenant not yet loaded answers without its objects
        (renderer.mapping.tenant_facts.LazyTenant); a built tenant has none."""
        return None

    def later(self, fn: Any) -> bool:
        """Keep `fn(self)` for when a stored tenant loads (True); False: call it now."""
        return False


# The tenant's dicts of objects, each by name, in the order of its fields (the order the sources,
# the silent-object check and a stored tenant's facts read them in).
TENANT_DICTS = tuple(f.name for f in fields(Tenant) if f.name != "name")


@dataclass(slots=True)
class FdbRecord:
    mac: str
    endpoint: str
    origins: list[Origin] = field(default_factory=list)


@dataclass(slots=True)
class Arp:
    ip: str
    mac: str
    origins: list[Origin] = field(default_factory=list)


@dataclass(slots=True)
class StaticRoute:
    """One `net route`: a node's pod subnet via the node's address (static-route mode)."""

    name: str
    network: str
    gw: str
    description: str
    origins: list[Origin] = field(default_factory=list)


@dataclass(slots=True)
class Network:
    mode: str  # cluster | nodeport
    fdb: list[FdbRecord] = field(default_factory=list)
    arps: list[Arp] = field(default_factory=list)
    vxlan: bool = True  # a tunnel, FDB and ARPs (flannel); False: static routes only
    routes: list[StaticRoute] | None = None  # None: no static-route mode; else the routes (maybe none)
    route_partition: str = "Common"


@dataclass(slots=True)
class RawTenant:
    """A tenant a user wrote in AS3 (an AS3 ConfigMap's template), merged into the declaration verbatim
    except for the pools service discovery fills. `sources`: pointer below the tenant (`/App/obj`) -> the
    objects that fed it (the ConfigMap, the labelled Services, their Endpoints)."""

    name: str
    body: dict[str, Any]
    origins: list[Origin] = field(default_factory=list)
    sources: dict[str, list[Origin]] = field(default_factory=dict)
    # pod members service discovery added (cluster mode): they need ARPs like any pool member
    pod_members: list[tuple[Member, tuple[str, str]]] = field(default_factory=list)


@dataclass(slots=True)
class Override:
    """The override ConfigMap's partial declaration, deep-merged over the rendered one (CIS's rules)."""

    declaration: dict[str, Any]
    origin: Origin


@dataclass(slots=True)
class Model:
    tenants: dict[str, Tenant]
    network: Network
    raw_tenants: dict[str, RawTenant] = field(default_factory=dict)
    override: Override | None = None
    # several devices (bigip.devices): each device's network (its VTEP and self IP differ)
    device_networks: dict[str, Network] = field(default_factory=dict)
    # tenant -> the key of the cached Ingress build the tenant is exactly (nothing else added to it):
    # its emit can be keyed by that instead of by the whole model (renderer.emit_reuse)
    build_keys: dict[str, str] = field(default_factory=dict)
    # tenant -> (the model key of its last cached Ingress build, the names of that build's objects it
    # holds unchanged): their JSON is that build's (renderer.emit_reuse); nothing else added to the tenant
    carried: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
