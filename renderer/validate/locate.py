"""From "this AS3 property is wrong" to the manifest line a person edits.

Origins record only where each Kubernetes object starts (cheap on the render path). When an AS3
error needs a place, we read that one file again and look up the key that feeds the failing
property: the `virtual-server.f5.com/balance` annotation for `loadBalancingMode`, the Service's
`spec.ports` for a member's `servicePort`, a ConfigMap's `data.data`, and so on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from renderer.errors import As3GitopsError, Origin, SourceLocation
from renderer.source import WORKING_TREE, Tree, open_tree, parse_file

Locator = Callable[[tuple[Origin, ...], str], SourceLocation | None]

_ANN = "virtual-server.f5.com/"
# kind -> AS3 property (or JSON-pointer token) -> manifest key path
KEYS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "Ingress": {
        "loadBalancingMode": ("metadata", "annotations", _ANN + "balance"),
        "virtualAddresses": ("metadata", "annotations", _ANN + "ip"),
        "virtualPort": ("metadata", "annotations", _ANN + "http-port"),
        "monitors": ("metadata", "annotations", _ANN + "health"),
        "interval": ("metadata", "annotations", _ANN + "health"),
        "timeout": ("metadata", "annotations", _ANN + "health"),
        "send": ("metadata", "annotations", _ANN + "health"),
        "receive": ("metadata", "annotations", _ANN + "health"),
        "partition": ("metadata", "annotations", _ANN + "partition"),
        "rules": ("spec", "rules"),
        "pool": ("spec",),
    },
    "ConfigMap": {"*": ("data", "data")},
    "Route": {
        "loadBalancingMode": ("metadata", "annotations", _ANN + "balance"),
        "monitors": ("metadata", "annotations", _ANN + "health"),
        "rules": ("spec", "host"),
        "certificate": ("spec", "tls"),
        "privateKey": ("spec", "tls"),
        "*": ("spec",),
    },
    "Service": {"servicePort": ("spec", "ports"), "members": ("spec", "ports")},
    "Endpoints": {"serverAddresses": ("subsets",)},
    "EndpointSlice": {"serverAddresses": ("endpoints",)},
    "Secret": {"*": ("data",)},
    "Node": {"*": ("metadata", "annotations")},
    # CIS custom resources: the spec field that feeds the AS3 property (pool-level ones: spec.pools)
    "VirtualServer": {
        "virtualAddresses": ("spec", "virtualServerAddress"), "virtualPort": ("spec",),
        "loadBalancingMode": ("spec", "pools"), "monitors": ("spec", "pools"), "minimumMonitors": ("spec", "pools"),
        "serviceDownAction": ("spec", "pools"), "reselectTries": ("spec", "pools"), "rules": ("spec", "pools"),
        "interval": ("spec", "pools"), "timeout": ("spec", "pools"), "send": ("spec", "pools"),
        "receive": ("spec", "pools"), "snat": ("spec", "snat"), "iRules": ("spec", "iRules"),
        "persistenceMethods": ("spec", "persistenceProfile"), "policyWAF": ("spec", "waf"),
        "profileTCP": ("spec", "profiles", "tcp"), "profileHTTP2": ("spec", "profiles", "http2"),
        "allowVlans": ("spec", "allowVlans"), "mirroring": ("spec", "connectionMirroring"),
        "serverTLS": ("spec", "tlsProfileName"), "clientTLS": ("spec", "tlsProfileName"),
        "pool": ("spec", "defaultPool"), "*": ("spec",),
    },
    "TransportServer": {
        "virtualAddresses": ("spec", "virtualServerAddress"), "virtualPort": ("spec", "virtualServerPort"),
        "loadBalancingMode": ("spec", "pool"), "monitors": ("spec", "pool"), "minimumMonitors": ("spec", "pool"),
        "interval": ("spec", "pool", "monitor"), "timeout": ("spec", "pool", "monitor"), "snat": ("spec", "snat"),
        "iRules": ("spec", "iRules"), "persistenceMethods": ("spec", "persistenceProfile"),
        "profileTCP": ("spec", "profiles", "tcp"), "profileL4": ("spec", "profileL4"), "*": ("spec",),
    },
    "TLSProfile": {"*": ("spec", "tls")},
    "Policy": {"*": ("spec",)},
    "IngressLink": {"virtualAddresses": ("spec", "virtualServerAddress"), "iRules": ("spec", "iRules"),
                    "*": ("spec",)},
    "ExternalDNS": {"pools": ("spec", "pools"), "members": ("spec", "pools"), "*": ("spec",)},
}


def _pick(origins: tuple[Origin, ...], pointer: str) -> tuple[Origin, tuple[str, ...]] | None:
    """The origin and key path for the deepest pointer token some origin's kind knows about."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    for token in reversed(tokens):
        for origin in origins:
            table = KEYS.get(origin.kind, {})
            keys = table.get(token) or table.get("*")
            if keys:
                return origin, keys
    return None


def tree_locator(tree: Tree, generated: Mapping[str, bytes] | None = None) -> Locator:
    """A Locator reading files from `tree` (each file parsed at most once), and the streams of
    `generate:` entries (by pseudo-path) from what the render kept: a command never runs twice."""
    parsed: dict[str, Any] = {}
    streams = generated or {}

    def locate(origins: tuple[Origin, ...], pointer: str) -> SourceLocation | None:
        choice = _pick(origins, pointer)
        if choice is None:
            return None
        origin, keys = choice
        path = origin.location.path
        if path not in parsed:
            try:
                data = streams[path] if path in streams else tree.read(path)
            except (OSError, ValueError, As3GitopsError):
                data = None
            parsed[path] = parse_file(path, data)[1] if data is not None else []
        for doc in parsed[path]:
            if doc.line == origin.location.line:
                if origin.kind == "ConfigMap":  # an AS3 or override ConfigMap: the line inside its template
                    from renderer.mapping.as3_configmap import locate_declaration_pointer

                    found = locate_declaration_pointer(doc, pointer)
                    if found is not None:
                        return found
                return doc.locate(*keys)
        return None

    return locate


def locator_for(repo: Any, identity: str, generated: Mapping[str, bytes] | None = None) -> Locator | None:
    """A Locator over the tree a RenderResult came from (working tree, or its commit)."""
    try:
        return tree_locator(open_tree(repo, None if identity == WORKING_TREE else identity), generated)
    except As3GitopsError:  # locations are a refinement; never fail validation over them
        return None
