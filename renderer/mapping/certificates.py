"""Kubernetes TLS Secrets -> AS3 Certificate objects, shared by Ingress TLS and TLSProfile.

One place decides what a usable TLS Secret is (tls.crt and tls.key present and decoded), so both
kinds report a missing or incomplete Secret the same way; private keys travel only inside the
Certificate model object, which the diff redacts.
"""

from __future__ import annotations

from collections.abc import Callable

from renderer.errors import Finding, SourceLocation
from renderer.kube.load import Cluster
from renderer.model import Certificate, Tenant


def certificate_from_secret(cluster: Cluster, tenant: Tenant, namespace: str, secret_name: str, cert_name: str,
                            where: Callable[[], SourceLocation], what: str, findings: list[Finding], *,
                            code: str = "ING050", hint: str | None = None, need_key: bool = True) -> str | None:
    """Add Certificate `cert_name` made from Secret namespace/secret_name; None (with a finding) if unusable."""
    secret = cluster.secrets.get((namespace, secret_name))
    if secret is None or "tls.crt" not in secret.data or (need_key and "tls.key" not in secret.data):
        problem = "does not exist in the manifests" if secret is None else (
            "lacks valid tls.crt or tls.key" if need_key else "lacks a valid tls.crt")
        findings.append(Finding(code, f"{what}: TLS Secret {namespace}/{secret_name} {problem}", where(),
                                hint=hint or "add the Secret (type kubernetes.io/tls)"))
        return None
    tenant.certificates[cert_name] = Certificate(
        cert_name, secret.data["tls.crt"], secret.data.get("tls.key", ""), secret.data.get("ca.crt"),
        origins=[secret.meta.origin])
    return cert_name


def secret_text(cluster: Cluster, namespace: str, secret_name: str, key: str) -> str | None:
    secret = cluster.secrets.get((namespace, secret_name))
    return None if secret is None else secret.data.get(key)
