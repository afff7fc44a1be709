"""TLSProfile (cis.f5.com/v1) -> the TLS side of a VirtualServer's HTTPS virtual (cis-crd-behaviour.md §2).

edge: client-side TLS only; reencrypt: client and server side; passthrough: no profiles (the virtual
picks the pool by SNI, see virtualserver.py). `reference: bigip` names BIG-IP profiles; `secret`
turns Kubernetes TLS Secrets into Certificates (the same code as Ingress TLS, so keys are redacted in
every diff), a TLS_Server `<vs>_tls_server`, and for server-side Secrets a TLS_Client `<vs>_tls_client`
trusting the tenant's CA_Bundle `serverssl_ca_bundle` (its CAs sorted, CIS joins them in random order).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from renderer.kube.crd import TLSProfileCR, VirtualServerCR
from renderer.kube.objects import ObjectMeta
from renderer.mapping import names
from renderer.mapping.certificates import certificate_from_secret, secret_text
from renderer.mapping.crd_common import CrdContext, bigip
from renderer.mapping.irules import edge_serverssl_irule
from renderer.model import DataGroup, Declared, IRule, Tenant, TLSServer, VirtualServer

if TYPE_CHECKING:
    from renderer.mapping.virtualserver import Member

_AS3_NAME = re.compile(r"^[A-Za-z]([0-9A-Za-z_.-]{0,188}[0-9A-Za-z_.])?$")
CA_BUNDLE = "serverssl_ca_bundle"


def find_tls_profile(ctx: CrdContext, res: VirtualServerCR) -> TLSProfileCR | bool:
    """The TLSProfile in the VirtualServer's namespace, checked as CIS checks it; False with an error."""
    meta = res.meta
    name = res.text("tlsProfileName")
    prof = ctx.cluster.crds.tls_profiles.get((meta.namespace, name))
    if prof is None:
        ctx.error("CRD040", meta, f"TLSProfile {meta.namespace}/{name} does not exist in the manifests",
                  "spec", "tlsProfileName", hint="add the TLSProfile in the same namespace, or fix the name")
        return False
    term, ref = prof.termination, prof.reference
    client, server = _sides(prof)
    pm = prof.meta
    if term != "passthrough" and ref not in ("bigip", "secret", "hybrid"):
        ctx.error("CRD041", pm, "tls.reference must be bigip, secret or hybrid", "spec", "tls",
                  hint="CIS fails such a profile with 'Invalid reference type'")
        return False
    problem = None
    if term == "edge" and (not client or server):
        problem = "edge termination needs client profiles and no server profiles"
    elif term == "reencrypt" and (not client or not server):
        problem = "reencrypt termination needs client and server profiles"
    elif term == "passthrough" and (client or server):
        problem = "passthrough termination takes no profiles"
    if problem:
        ctx.error("CRD042", pm, problem, "spec", "tls")
        return False
    hosts = prof.strings("hosts")
    if hosts and res.host and not any(_host_matches(res.host, h) for h in hosts):
        ctx.error("CRD043", meta, f"host {res.host!r} is not among TLSProfile {pm.ident}'s hosts", "spec", "host")
        return False
    return prof


def _host_matches(host: str, pattern: str) -> bool:
    return host == pattern or (pattern.startswith("*") and host.endswith(pattern[1:]))


def _sides(prof: TLSProfileCR) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return prof.side("clientSSLs", "clientSSL"), prof.side("serverSSLs", "serverSSL")


def _kind(prof: TLSProfileCR, side: str) -> str:
    if prof.reference != "hybrid":
        return prof.reference
    return prof.text("tls", f"{side}SSLParams", "profileReference") or "none"


def _profile_path(name: str, partition: str) -> str:
    """CIS's ConvertStringToProfileRef: `/P/name` as given, a bare name in the CIS partition."""
    return name if name.startswith("/") else f"/{partition}/{name}"


def _cipher_props(prof: TLSProfileCR, params: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    cipher = prof.mapping("tlsCipher")
    if cipher.get("tlsVersion") == "1.3" and cipher.get("cipherGroup"):
        props["cipherGroup"] = bigip(cipher["cipherGroup"])
        props["tls1_3Enabled"] = True
    elif cipher.get("ciphers"):
        props["ciphers"] = cipher["ciphers"]
    for version in cipher.get("disableTLSVersions") or []:
        key = {"1.0": "tls1_0Enabled", "1.1": "tls1_1Enabled", "1.2": "tls1_2Enabled", "1.3": "tls1_3Enabled"}.get(
            str(version))
        if key:
            props[key] = False
    raw = prof.mapping("tls", params)
    if raw:
        props["renegotiationEnabled"] = bool(raw.get("renegotiationEnabled", True))
    return props


def attach_tls(ctx: CrdContext, tenant: Tenant, vs: VirtualServer, members: list[Member], suppressed: bool) -> None:
    certs: list[str] = []
    client_profiles: list[str] = []
    server_side: dict[str, Member] = {}
    server_props: dict[str, Any] | None = None
    edge_keys: dict[str, str] = {}
    by_secret: dict[tuple[str, str], str] = {}
    for m in members:
        prof = m.tls
        assert prof is not None
        client, server = _sides(prof)
        if _kind(prof, "client") == "bigip":
            client_profiles += [_profile_path(p, m.partition) for p in client]
        elif _kind(prof, "client") == "secret":
            for secret in client:
                if (m.res.meta.namespace, secret) in by_secret:
                    continue  # one Certificate per Secret, however many VirtualServers share it
                name = f"{client[0]}-clientside-{vs.name}_{len(certs)}"
                name = name if _AS3_NAME.match(name) and len(name) <= names.item_limit(tenant.name) \
                    else names.crd_name(name, tenant=tenant.name)
                if not ctx.claim(tenant, name, ("certificate", vs.name, m.res.meta.namespace, secret), prof.meta):
                    continue
                got = certificate_from_secret(
                    ctx.cluster, tenant, m.res.meta.namespace, secret, name,
                    lambda p=prof: p.meta.locate("spec", "tls"), f"TLSProfile {prof.meta.ident}", ctx.findings,
                    code="CRD044", hint="add the Secret (type kubernetes.io/tls) in the VirtualServer's namespace")
                if got:
                    certs.append(got)
                    by_secret[(m.res.meta.namespace, secret)] = got
            props = _cipher_props(prof, "clientSSLParams")
            if server_props is not None and props != server_props:
                ctx.error("CRD045", m.res.meta, f"TLS settings differ from another VirtualServer on "
                          f"{vs.address}:{vs.port}", "spec", "tlsProfileName")
            server_props = props
        if m.termination == "reencrypt":
            kind = _kind(prof, "server")
            target = (",".join(_profile_path(p, m.partition) for p in server) if kind == "bigip"
                      else _tls_client(ctx, tenant, vs, m, prof, server))
            if target:
                server_side.setdefault(target, m)
        elif m.termination == "edge":
            for host in m.res.hosts or ("",):
                for spec in m.res.pools:
                    edge_keys[f"{host.lstrip('*')}{spec.path.rstrip('/') or '/'}"] = "false"
    if len(server_side) > 1:
        a, b = list(server_side.values())[:2]
        ctx.error("CRD046", b.res.meta, f"server-side TLS differs from {a.where} on {vs.address}:{vs.port}; one "
                  "virtual takes one server-side profile", "spec", "tlsProfileName")
    for target in server_side:
        if target.startswith("/"):
            paths = target.split(",")
            vs.properties["clientTLS"] = bigip(paths[0]) if len(paths) == 1 else [bigip(p) for p in paths]
        else:
            vs.client_tls_name = target
    if certs and client_profiles:
        ctx.error("CRD047", members[0].res.meta, f"{vs.address}:{vs.port} mixes BIG-IP client-SSL profiles and "
                  "TLS Secrets", "spec", "tlsProfileName")
    elif certs:
        tls_name = names.crd_object_name(vs.name, "tls_server", tenant=tenant.name)
        if not ctx.claim(tenant, tls_name, ("tls server", vs.name), members[0].res.meta):
            return
        tenant.tls_servers[tls_name] = TLSServer(tls_name, certs, "", origins=[m.res.meta.origin for m in members],
                                                 properties=server_props or {})
        vs.server_tls = tls_name
    elif client_profiles:
        vs.server_tls = sorted(set(client_profiles), key=lambda p: tuple(p.split("/")))
    if server_side and edge_keys and not suppressed:
        dg = DataGroup(names.crd_object_name(vs.name, "ssl_edge_serverssl_dg", tenant=tenant.name), edge_keys,
                       origins=[m.res.meta.origin for m in members])
        rule = names.crd_object_name(vs.name, "tls_irule", tenant=tenant.name)
        meta = members[0].res.meta
        if not (ctx.claim(tenant, dg.name, ("data group", vs.name, dg.name), meta)
                and ctx.claim(tenant, rule, ("irule", vs.name, rule), meta)):
            return
        tenant.data_groups[dg.name] = dg
        tenant.irules[rule] = IRule(rule, edge_serverssl_irule(tenant.name, dg.name), origins=list(dg.origins))
        vs.irules.append(rule)


def _tls_client(ctx: CrdContext, tenant: Tenant, vs: VirtualServer, m: Member, prof: TLSProfileCR,
                secrets: tuple[str, ...]) -> str | None:
    return tls_client_from_secrets(ctx, tenant, vs.name, m.res.meta, prof.meta, secrets,
                                   _cipher_props(prof, "serverSSLParams"))


def tls_client_from_secrets(ctx: CrdContext, tenant: Tenant, vs_name: str, owner: ObjectMeta, source: ObjectMeta,
                            secrets: tuple[str, ...], cipher_props: dict[str, Any]) -> str | None:
    """Server-side Secrets (of `owner`'s namespace, named in `source`'s spec.tls): their CAs join the
    tenant's CA bundle; the TLS_Client `<vs>_tls_client` trusts it. Shared by TLSProfile and TransportServer."""
    pems = []
    for secret in secrets:
        text = secret_text(ctx.cluster, owner.namespace, secret, "tls.crt")
        if text is None:
            ctx.error("CRD044", source, f"TLS Secret {owner.namespace}/{secret} does not exist in the "
                      "manifests or lacks tls.crt", "spec", "tls")
            return None
        pems.append(((owner.namespace, secret), text))
    if not ctx.claim(tenant, CA_BUNDLE, ("ca bundle", tenant.name), source):
        return None
    parts, origins = ctx.ca_bundles.setdefault(tenant.name, ({}, []))
    for (ns, secret), text in pems:
        parts[f"{ns}/{secret}"] = text.strip()
    origins.append(source.origin)
    name = names.crd_object_name(vs_name, "tls_client", tenant=tenant.name)
    if not ctx.claim(tenant, name, ("tls client", vs_name), owner):
        return None
    props = {"class": "TLS_Client", "trustCA": {"use": CA_BUNDLE}, **cipher_props}
    tenant.declared[name] = Declared(name, props, origins=list(dict.fromkeys([owner.origin, source.origin])))
    return name


def finish_ca_bundles(ctx: CrdContext) -> None:
    """One CA_Bundle per tenant with every server-side CA, in a stable (sorted) order."""
    for tenant_name, (parts, origins) in sorted(ctx.ca_bundles.items()):
        bundle = "\n".join(parts[k] for k in sorted(parts)) + "\n"
        ctx.reg.tenant(tenant_name).declared[CA_BUNDLE] = Declared(
            CA_BUNDLE, {"class": "CA_Bundle", "bundle": bundle}, origins=list(dict.fromkeys(origins)))
