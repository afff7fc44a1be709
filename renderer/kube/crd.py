"""Typed views of CIS's custom resources (cis.f5.com/v1), read after the CRD schema accepted the spec.

Because `validate_spec` ran first, every field here has the type the CRD declares; the views only
name things, fill CIS's defaults and remember where each part sits (`keys`) for later findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from renderer.kube.objects import ObjectMeta

Keys = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class CrdMonitor:
    keys: Keys
    type: str
    send: str | None
    recv: str | None
    interval: int
    timeout: int
    target_port: int
    name: str
    reference: str
    ssl_profile: str


@dataclass(frozen=True, slots=True)
class AltBackend:
    keys: Keys
    service: str
    namespace: str
    weight: int


@dataclass(frozen=True, slots=True)
class CrdPool:
    """One `pools[]` entry of a VirtualServer, `pool` of a TransportServer, or a `defaultPool`."""

    keys: Keys
    service: str
    service_port: int | str | None
    namespace: str  # serviceNamespace, else the resource's namespace
    namespace_set: bool
    name: str = ""
    path: str = ""
    monitors: tuple[CrdMonitor, ...] = ()
    rewrite: str = ""
    host_rewrite: str = ""
    waf: str = ""
    balance: str = ""
    node_member_label: str = ""
    reselect_tries: int = 0
    service_down_action: str = ""
    minimum_monitors: int | str | None = None
    weight: int | None = None
    alternates: tuple[AltBackend, ...] = ()
    reference: str = "service"  # defaultPool: bigip | service
    multi_cluster: bool = False


@dataclass(frozen=True, slots=True)
class CustomResource:
    """Any of the six kinds: the meta, the validated spec, and typed parts shared by several kinds."""

    meta: ObjectMeta
    spec: dict[str, Any] = field(repr=False)

    def text(self, *keys: str, default: str = "") -> str:
        value: Any = self.spec
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value if isinstance(value, str) else default

    def number(self, *keys: str, default: int = 0) -> int:
        value: Any = self.spec
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    def strings(self, *keys: str) -> tuple[str, ...]:
        value: Any = self.spec
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

    def flag(self, *keys: str) -> bool | None:
        value: Any = self.spec
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value if isinstance(value, bool) else None

    def mapping(self, *keys: str) -> dict[str, Any]:
        value: Any = self.spec
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value if isinstance(value, dict) else {}

    @property
    def partition(self) -> str:
        return self.text("partition")

    @property
    def address(self) -> str:
        return self.text("virtualServerAddress")

    @property
    def ipam_label(self) -> str:
        return self.text("ipamLabel")

    @property
    def route_domain(self) -> int:
        return self.number("bigipRouteDomain")


def _monitor(raw: dict[str, Any], keys: Keys) -> CrdMonitor:
    return CrdMonitor(
        keys=keys, type=raw.get("type", ""), send=raw.get("send"), recv=raw.get("recv"),
        interval=raw.get("interval", 0), timeout=raw.get("timeout", 0), target_port=raw.get("targetPort", 0),
        name=raw.get("name", ""), reference=raw.get("reference", ""), ssl_profile=raw.get("sslProfile", ""))


def monitors_of(raw: dict[str, Any], keys: Keys) -> tuple[CrdMonitor, ...]:
    """`monitor` wins over `monitors[]`, as in CIS."""
    if isinstance(raw.get("monitor"), dict):
        return (_monitor(raw["monitor"], (*keys, "monitor")),)
    return tuple(_monitor(m, (*keys, "monitors", i)) for i, m in enumerate(raw.get("monitors") or [])
                 if isinstance(m, dict))


def pool_of(raw: dict[str, Any], keys: Keys, namespace: str) -> CrdPool:
    own_ns = raw.get("serviceNamespace") or ""
    alternates = tuple(
        AltBackend((*keys, "alternateBackends", i), b["service"], b.get("serviceNamespace") or namespace,
                   b.get("weight", 100))
        for i, b in enumerate(raw.get("alternateBackends") or []) if isinstance(b, dict))
    return CrdPool(
        keys=keys, service=raw.get("service", ""), service_port=raw.get("servicePort"),
        namespace=own_ns or namespace, namespace_set=bool(own_ns), name=raw.get("name", ""),
        path=raw.get("path", ""), monitors=monitors_of(raw, keys), rewrite=raw.get("rewrite", ""),
        host_rewrite=raw.get("hostRewrite", ""), waf=raw.get("waf", ""),
        balance=raw.get("loadBalancingMethod", ""), node_member_label=raw.get("nodeMemberLabel", ""),
        reselect_tries=raw.get("reselectTries", 0), service_down_action=raw.get("serviceDownAction", ""),
        minimum_monitors=raw.get("minimumMonitors"), weight=raw.get("weight"), alternates=alternates,
        reference=raw.get("reference", "service"), multi_cluster=bool(raw.get("multiClusterServices")))


@dataclass(frozen=True, slots=True)
class VirtualServerCR(CustomResource):
    @property
    def host(self) -> str:
        return self.text("host")

    @property
    def host_group(self) -> str:
        return self.text("hostGroup")

    @property
    def hosts(self) -> tuple[str, ...]:
        """host, then hostAliases (CIS routes all of them to the same pools)."""
        return ((self.host,) if self.host else ()) + self.strings("hostAliases")

    @property
    def pools(self) -> tuple[CrdPool, ...]:
        raw = self.spec.get("pools") or []
        return tuple(pool_of(p, ("spec", "pools", i), self.meta.namespace) for i, p in enumerate(raw)
                     if isinstance(p, dict))

    @property
    def default_pool(self) -> CrdPool | None:
        raw = self.spec.get("defaultPool")
        return pool_of(raw, ("spec", "defaultPool"), self.meta.namespace) if isinstance(raw, dict) else None

    @property
    def http_port(self) -> int:
        return self.number("virtualServerHTTPPort", default=80) or 80

    @property
    def https_port(self) -> int:
        return self.number("virtualServerHTTPSPort", default=443) or 443


@dataclass(frozen=True, slots=True)
class TransportServerCR(CustomResource):
    @property
    def pool(self) -> CrdPool:
        return pool_of(self.mapping("pool"), ("spec", "pool"), self.meta.namespace)

    @property
    def port(self) -> int:
        return self.number("virtualServerPort")


@dataclass(frozen=True, slots=True)
class TLSProfileCR(CustomResource):
    @property
    def termination(self) -> str:
        return self.text("tls", "termination")

    @property
    def reference(self) -> str:
        return self.text("tls", "reference")

    def side(self, plural: str, single: str) -> tuple[str, ...]:
        """clientSSLs wins over clientSSL (serverSSLs over serverSSL), as in CIS."""
        many = self.strings("tls", plural)
        return many if many else ((self.text("tls", single),) if self.text("tls", single) else ())


@dataclass(frozen=True, slots=True)
class PolicyCR(CustomResource):
    pass


@dataclass(frozen=True, slots=True)
class IngressLinkCR(CustomResource):
    pass


@dataclass(frozen=True, slots=True)
class ExternalDNSCR(CustomResource):
    pass


VIEW = {"VirtualServer": VirtualServerCR, "TransportServer": TransportServerCR, "TLSProfile": TLSProfileCR,
        "Policy": PolicyCR, "IngressLink": IngressLinkCR, "ExternalDNS": ExternalDNSCR}


@dataclass
class CustomResources:
    """The CIS custom resources of the manifests, by kind, in file order."""

    virtual_servers: list[VirtualServerCR] = field(default_factory=list)
    transport_servers: list[TransportServerCR] = field(default_factory=list)
    tls_profiles: dict[tuple[str, str], TLSProfileCR] = field(default_factory=dict)
    policies: dict[tuple[str, str], PolicyCR] = field(default_factory=dict)
    ingress_links: list[IngressLinkCR] = field(default_factory=list)
    external_dns: list[ExternalDNSCR] = field(default_factory=list)
    # every resource that failed validation (so a "produced nothing" check can tell it was reported)
    rejected: list[ObjectMeta] = field(default_factory=list)

    def add(self, view: CustomResource) -> CustomResource | None:
        """Index `view`; returns the earlier object of the same kind and name, if there is one."""
        key = (view.meta.namespace, view.meta.name)
        if isinstance(view, TLSProfileCR | PolicyCR):
            index = self.tls_profiles if isinstance(view, TLSProfileCR) else self.policies
            previous = index.get(key)
            if previous is None:
                index[key] = view
            return previous
        seq: list = {VirtualServerCR: self.virtual_servers, TransportServerCR: self.transport_servers,
                     IngressLinkCR: self.ingress_links, ExternalDNSCR: self.external_dns}[type(view)]
        previous = next((v for v in seq if (v.meta.namespace, v.meta.name) == key), None)
        if previous is None:
            seq.append(view)
        return previous

    def __bool__(self) -> bool:
        return bool(self.virtual_servers or self.transport_servers or self.tls_profiles or self.policies
                    or self.ingress_links or self.external_dns)
