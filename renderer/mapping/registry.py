"""Shared state while building the model: tenants, and which virtual server owns which ip:port."""

from __future__ import annotations

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

    def tenant(self, name: str) -> Tenant:
        tenant = self.tenants.get(name)
        if tenant is None:
            tenant = self.tenants[name] = Tenant(name)
        return tenant

    def virtual_server(self, partition: str, ip: str, port: int, cls: str, meta: ObjectMeta,
                       findings: list[Finding], name: str | None = None) -> VirtualServer | None:
        """The VS for ip:port in `partition`, created on first use; None (with an error) on a clash."""
        vs_name = name or names.vs_name(ip, port)
        key = (ip.split("/")[0], port)
        owner = self.addresses.get(key)
        what = f"{meta.kind} {meta.ident}"
        if owner is not None and (owner[0], owner[1]) != (partition, vs_name):
            findings.append(Finding(
                "ING012", f"{what}: {ip}:{port} is already used by {owner[2]} (tenant {owner[0]})",
                meta.location, hint="one address and port can belong to one virtual server only"))
            return None
        tenant = self.tenant(partition)
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
            vs = self.tenants[partition].virtual_servers[vs_name]
            vs.translate_address = not (votes and all(v is False for v in votes))
