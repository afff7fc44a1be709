"""Shared state while building the model: tenants, which virtual server owns which ip:port, and who owns
each BIG-IP name.

Names are injective: every object name in a tenant's `Shared` application (virtual servers, pools,
monitors, policies, certificates, TLS servers, iRules, data groups: AS3 gives them one namespace) is
claimed with the identity of what it stands for (`claim`). Two different identities that CIS's naming
maps to one name are an error naming both sources (NAME001), never a silent overwrite. The one case
that is disambiguated instead is certificates: see `names.certificate_names`.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
from collections.abc import Hashable
from dataclasses import dataclass, field

from renderer.errors import Finding
from renderer.kube.objects import ObjectMeta
from renderer.mapping import names
from renderer.model import Tenant, VirtualServer


@dataclass
class Registry:
    tenants: dict[str, Tenant] = field(default_factory=dict)
    # (address, port) -> (tenant, vs name, what claimed it): one virtual server per ip:port on the device
    addresses: dict[tuple[str, int], tuple[str, str, str]] = field(default_factory=dict)
    single_service_owner: dict[tuple[str, str], str] = field(default_factory=dict)
    translate_votes: dict[tuple[str, str], list[bool | None]] = field(default_factory=dict)
    # (tenant, BIG-IP name) -> (identity of the object, the Kubernetes object that made it)
    claims: dict[tuple[str, str], tuple[Hashable, ObjectMeta]] = field(default_factory=dict)
    # (namespace, Secret name) -> Certificate name (see names.certificate_names)
    certificate_names: dict[tuple[str, str], str] = field(default_factory=dict)
    # every (address, port) a virtual server was asked for, owned or refused (renderer.mapping.tenant_reuse)
    attempted: set[tuple[str, int]] = field(default_factory=set)
    # tenant -> the key of the cached Ingress build it is exactly (renderer.mapping.tenant_reuse)
    build_keys: dict[str, str] = field(default_factory=dict)
    # tenant -> (model key of its last build, names of that build's objects it holds unchanged)
    carried: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    touched: set[str] | None = None  # once set: every tenant asked for since (it may have changed)
    claim_log: list[str] | None = None  # when set: every name claimed, held before or not (tenant_reuse)

    def claim(self, tenant: str, name: str, identity: Hashable, meta: ObjectMeta, findings: list[Finding],
              what: str = "object") -> bool:
        """Reserve `name` in `tenant` for `identity`; False (with NAME001) when another identity holds it."""
        if self.claim_log is not None:
            self.claim_log.append(name)
        held = self.claims.get((tenant, name))
        if held is None:
            self.claims[(tenant, name)] = (identity, meta)
            return True
        if held[0] == identity:
            return True
        other = held[1]
        findings.append(Finding(
            "NAME001", f"{meta.kind} {meta.ident} and {other.kind} {other.ident} ({other.location}) both make the "
            f"BIG-IP {what} name {name} in tenant {tenant}", meta.location,
            hint="CIS maps every non-word character to '_', so these names meet; rename one of the objects "
                 "(or give it another partition)"))
        return False

    def tenant(self, name: str) -> Tenant:
        if self.touched is not None:
            self.touched.add(name)
        tenant = self.tenants.get(name)
        if tenant is None:
            tenant = self.tenants[name] = Tenant(name)
        return tenant

    def virtual_server(self, partition: str, ip: str, port: int, cls: str, meta: ObjectMeta,
                       findings: list[Finding], name: str | None = None) -> VirtualServer | None:
        """The VS for ip:port in `partition`, created on first use; None (with an error) on a clash."""
        vs_name = name or names.vs_name(ip, port, tenant=partition)
        key = (address_key(ip), port)
        self.attempted.add(key)
        owner = self.addresses.get(key)
        what = f"{meta.kind} {meta.ident}"
        if owner is not None and (owner[0], owner[1]) != (partition, vs_name):
            findings.append(Finding(
                "ING012", f"{what}: {ip}:{port} is already used by {owner[2]} (tenant {owner[0]})",
                meta.location, hint="one address and port can belong to one virtual server only"))
            return None
        tenant = self.tenant(partition)
        identity = ("virtual server", key) if name is None else ("virtual server", meta.kind, meta.namespace, meta.name)
        if not self.claim(partition, vs_name, identity, meta, findings, "virtual server"):
            return None
        vs = tenant.virtual_servers.get(vs_name)
        if vs is None:
            vs = tenant.virtual_servers[vs_name] = VirtualServer(vs_name, cls, ip, port)
            self.addresses[key] = (partition, vs_name, what)
        elif vs.cls != cls:
            findings.append(Finding(
                "ING013", f"{what}: {ip}:{port} is {vs.cls} for {owner[2] if owner else 'another object'} but "
                f"{cls} here", meta.location, hint="use different ports for HTTP and HTTPS"))
            return None
        return vs

    def finish(self) -> None:
        """Settle properties that depend on every contributor (translate-server-address)."""
        for (partition, vs_name), votes in self.translate_votes.items():
            value = not (votes and all(v is False for v in votes))
            tenant = self.tenants[partition]
            if tenant.stored_facts() is None:  # built, or loaded already
                _set_translate(vs_name, value, tenant)
            else:  # a stored tenant not loaded: when it loads
                tenant.later(functools.partial(_set_translate, vs_name, value))


def _set_translate(vs_name: str, value: bool, tenant: Tenant) -> None:
    tenant.virtual_servers[vs_name].translate_address = value


@functools.lru_cache(maxsize=65536)
def address_key(ip: str) -> str:
    """One spelling per address (`::1` and `0::1` are one ip on the device); `%rd` kept, `/prefix` dropped.
    Cached: a pure function of the text, asked for every virtual server (each Ingress on a shared
    address parses it again)."""
    text = ip.split("/")[0]
    address, _, rd = text.partition("%")
    with contextlib.suppress(ValueError):
        address = ipaddress.ip_address(address.strip("[]")).compressed
    return f"{address}%{rd}" if rd else address
