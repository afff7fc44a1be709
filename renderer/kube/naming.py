"""Kubernetes' own naming rules, per kind, checked where the objects are read (NAME010, NAME011).

The API server refuses an object whose name breaks these rules, so a manifest that breaks them
never describes a real cluster object. Checking them here also keeps newlines, backticks, `<` and
other markup out of every name that reaches BIG-IP names, diffs and pull-request comments.

- namespaces: RFC 1123 label (at most 63 characters of `a-z`, `0-9`, `-`; alphanumeric at both ends);
- Services: a DNS label too. Kubernetes asks for an RFC 1035 label (starting with a letter) unless
  the RelaxedServiceNameValidation feature gate is on; we accept both, so no cluster is refused;
- Ingress, IngressClass, ConfigMap, Secret, Endpoints, EndpointSlice, Node: RFC 1123 subdomain
  (at most 253 characters; labels as above joined by `.`).
"""

from __future__ import annotations

import re

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")

LABEL_KINDS = frozenset({"Service"})
SUBDOMAIN_KINDS = frozenset({"Ingress", "IngressClass", "ConfigMap", "Secret", "Endpoints", "EndpointSlice",
                             "Node"})


def is_dns1123_label(value: str) -> bool:
    return len(value) <= 63 and DNS1123_LABEL.fullmatch(value) is not None


def is_dns1123_subdomain(value: str) -> bool:
    return len(value) <= 253 and DNS1123_SUBDOMAIN.fullmatch(value) is not None


def name_problem(kind: str, name: str) -> str | None:
    """Why Kubernetes would refuse `name` for `kind` (None when it is fine, or the kind is not checked)."""
    if kind in SUBDOMAIN_KINDS and not is_dns1123_subdomain(name):
        return "must be a DNS-1123 subdomain (at most 253 characters: a-z, 0-9, '-' and '.', alphanumeric at both ends)"
    if kind in LABEL_KINDS and not is_dns1123_label(name):
        return "must be a DNS label (at most 63 characters: a-z, 0-9 and '-', alphanumeric at both ends)"
    return None


def namespace_problem(namespace: str) -> str | None:
    if not is_dns1123_label(namespace):
        return "must be a DNS-1123 label (at most 63 characters: a-z, 0-9 and '-', alphanumeric at both ends)"
    return None


def shown(value: str, limit: int = 80) -> str:
    """A name for a message: repr (so a newline shows as \\n), shortened."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
