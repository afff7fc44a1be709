"""The override ConfigMap (`overrideAS3: "true"`, chosen by `bigip.overrideAS3: <namespace>/<name>`).

CIS's `--override-as3-declaration` (cis-crd-behaviour.md §8.3): a partial declaration deep-merged over
the generated one, the override winning on leaves, arrays replaced whole. Tenants (and other
`declaration` keys) the render does not have are dropped, each with a warning here. Unlike CIS, an
override ConfigMap is used only when as3-gitops.yaml names it: CIS takes any such ConfigMap when the
flag is unset, which lets any namespace rewrite every tenant.
"""

from __future__ import annotations

import copy
from typing import Any

from renderer.config import Config
from renderer.errors import Finding, Severity
from renderer.kube.load import Cluster
from renderer.mapping.as3_configmap import NOT_JSON, as3_kind, load_template_json, pointer_offset, template_location
from renderer.model import Override, RawTenant

# Keys of the ADC that as3-gitops writes itself (renderer/templates/as3/declaration.json.j2)
ADC_KEYS = ("class", "schemaVersion", "id", "label", "remark")


def build_override(cluster: Cluster, config: Config, tenants: set[str], raw: dict[str, RawTenant],
                   findings: list[Finding]) -> Override | None:
    """The configured override, its unknown tenants dropped; warnings for unused override ConfigMaps."""
    wanted = config.bigip.override_as3
    chosen = None
    for cm in sorted(cluster.configmaps, key=lambda c: (c.meta.namespace, c.meta.name)):
        if as3_kind(cm) == "override-off":
            findings.append(Finding("ACM010", f"ConfigMap {cm.meta.ident} has overrideAS3: \"false\"; it is not used",
                                    cm.meta.locate("metadata", "labels"), Severity.WARNING,
                                    hint="CIS removes the override when it sees this label; here, drop the "
                                         "ConfigMap or set bigip.overrideAS3 to another one"))
            continue
        if as3_kind(cm) != "override":
            continue
        if wanted == f"{cm.meta.namespace}/{cm.meta.name}":
            chosen = cm
            continue
        hint = (f"bigip.overrideAS3 names {wanted}" if wanted else
                f"set bigip.overrideAS3: {cm.meta.ident} in as3-gitops.yaml to use it (CIS uses any override "
                "ConfigMap when --override-as3-declaration is unset; as3-gitops only the one it names)")
        findings.append(Finding("ACM010", f"override ConfigMap {cm.meta.ident} is not used", cm.meta.location,
                                Severity.WARNING, hint=hint))
    if wanted is None:
        return None
    if chosen is None:
        findings.append(Finding("ACM011", f"bigip.overrideAS3: ConfigMap {wanted} with labels f5type: "
                                "virtual-server and overrideAS3: \"true\" is not in the manifests", config.location,
                                hint="add the ConfigMap, fix its labels, or remove bigip.overrideAS3"))
        return None
    meta = chosen.meta
    what = f"override ConfigMap {meta.ident}"
    text = chosen.data.get("template", "")
    data = load_template_json(meta, text, what, findings)
    if data is NOT_JSON:
        return None
    declaration = data.get("declaration") if isinstance(data, dict) else None
    if not isinstance(declaration, dict):
        findings.append(Finding("ACM012", f"{what}: data.template needs a \"declaration\" object",
                                template_location(meta, text, 0),
                                hint='e.g. {"declaration": {"<tenant>": {"Shared": {"<virtual>": {...}}}}}'))
        return None
    kept: dict[str, Any] = {}
    for key in sorted(declaration):
        if key in tenants or key in raw or key in ADC_KEYS:
            kept[key] = copy.deepcopy(declaration[key])
            continue
        findings.append(Finding(
            "ACM013", f"{what}: {key!r} is not a tenant of the rendered declaration; this part of the override "
            "is dropped (as CIS does)", template_location(meta, text, pointer_offset(text, f"/declaration/{key}")),
            Severity.WARNING, hint="an override can only change what the render produces"))
    return Override(kept, meta.origin)


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> None:
    """CIS's merge: objects merge key by key, anything else (arrays included) is replaced by the override."""
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
