"""F5 markers: what makes a manifest object one that CIS would act on.

Kept apart from the mappers on purpose: the "nothing silent" check (renderer/mapping/silent.py)
compares every marked object with the origins the model records, so it needs no list of which
kinds render. A marker is any of: a `virtual-server.f5.com/*` or `cis.f5.com/*` annotation or label,
the `f5type` label, an object of API group `cis.f5.com`, an OpenShift Route, a Service of type
LoadBalancer.
"""

from __future__ import annotations

from typing import Any

from renderer.kube.objects import ObjectMeta

F5_PREFIXES = ("virtual-server.f5.com/", "cis.f5.com/")


def f5_marker(meta: ObjectMeta, data: dict[str, Any]) -> str | None:
    """A short description of the first F5 marker of the object (for the warning), or None."""
    group = meta.api_version.split("/", 1)[0] if "/" in meta.api_version else ""
    if group == "cis.f5.com":
        return f"API group {group}"
    if group == "route.openshift.io" and meta.kind == "Route":
        return "an OpenShift Route"
    if meta.kind == "Service":
        spec = data.get("spec")
        if isinstance(spec, dict) and spec.get("type") == "LoadBalancer":
            return "type LoadBalancer"
    if "f5type" in meta.labels:
        return f"label f5type: {meta.labels['f5type']}"
    for what, keys in (("label", meta.labels), ("annotation", meta.annotations)):
        first = None  # the first in sorted order, without sorting every object's keys
        for key in keys:
            if key.startswith(F5_PREFIXES) and (first is None or key < first):
                first = key
        if first is not None:
            return f"{what} {first}"
    return None
