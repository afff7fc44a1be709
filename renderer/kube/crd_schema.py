"""Validation of CIS custom resources (cis.f5.com/v1) against the CRD's own OpenAPI schema.

The schemas ship inside the package (schemas/cis-crd-<kind>.schema.json, made from CIS 2.20's
customresourcedefinitions.yml by scripts/vendor_crd_schemas.py). The API server would prune an
unknown field without a word, so a misspelt `virtualServerAdress` would silently do nothing: here it
is an error at its line with a did-you-mean hint, like an unknown annotation.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from renderer.errors import Finding
from renderer.kube.objects import ObjectMeta

if TYPE_CHECKING:  # imported when a custom resource is checked (python-jsonschema: only to explain one)
    import jsonschema
    import jsonschema_rs

CRD_GROUP = "cis.f5.com"
CRD_KINDS = ("VirtualServer", "TLSProfile", "TransportServer", "Policy", "IngressLink", "ExternalDNS")
CRD_API_VERSION = "cis.f5.com/v1"


@functools.cache
def _schema(kind: str) -> dict[str, Any]:
    text = importlib.resources.files("renderer.schemas").joinpath(f"cis-crd-{kind.lower()}.schema.json").read_text()
    return json.loads(text)


@functools.cache
def _validator(kind: str) -> jsonschema.Draft7Validator:
    import jsonschema

    return jsonschema.Draft7Validator(_schema(kind))


@functools.cache
def _verdict(kind: str) -> jsonschema_rs.Draft7Validator:
    """The fast yes/no (~1,000 x python-jsonschema); Rust's regex dialect is RE2's, as Kubernetes' own
    validation of these patterns is. python-jsonschema only explains a spec that fails."""
    import jsonschema_rs

    return jsonschema_rs.Draft7Validator(_schema(kind))


def _field(path: Sequence[str | int]) -> str:
    text = "spec"
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else f".{key}"
    return text


def _subschema(kind: str, path: Sequence[str | int]) -> dict[str, Any]:
    node = _schema(kind)
    for key in path:
        if isinstance(key, int):
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(key, {})
    return node


def validate_spec(meta: ObjectMeta, spec: Any, findings: list[Finding]) -> bool:
    """True when `spec` follows the CRD schema; otherwise one finding per problem, at its line."""
    what = f"{meta.kind} {meta.ident}"
    if not isinstance(spec, dict):
        findings.append(Finding("CRD001", f"{what}: spec must be a mapping", meta.locate("spec")))
        return False
    try:
        if _verdict(meta.kind).is_valid(spec):
            return True
    except (ValueError, OverflowError):  # values jsonschema-rs cannot represent (huge integers): ask python
        pass
    errors = sorted(_validator(meta.kind).iter_errors(spec), key=lambda e: [str(k) for k in e.absolute_path])
    for err in errors:
        _report(meta, what, err, findings)
    return not errors


def _report(meta: ObjectMeta, what: str, err: jsonschema.ValidationError, findings: list[Finding]) -> None:
    path = list(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        known = sorted(_subschema(meta.kind, path).get("properties", {}))
        for key in sorted(k for k in err.instance if k not in known):
            near = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"did you mean {near[0]!r}?" if near else f"{_field(path)} has: {', '.join(known)}"
            findings.append(Finding(
                "CRD002", f"{what}: unknown field {_field([*path, key])} (not in the {meta.kind} CRD of CIS 2.20; "
                "the API server would drop it)", meta.locate("spec", *path, key, value=False), hint=hint))
        return
    if err.validator == "required":
        findings.append(Finding("CRD003", f"{what}: {_field(path)}: {err.message}", meta.locate("spec", *path),
                                hint=f"the {meta.kind} CRD requires it"))
        return
    hint = None
    if err.validator == "enum":
        options = [str(o) for o in err.validator_value]
        near = difflib.get_close_matches(str(err.instance), options, n=1, cutoff=0.5)
        hint = f"did you mean {near[0]!r}?" if near else f"one of: {', '.join(options)}"
    elif err.validator == "pattern":
        hint = f"the CRD requires the pattern {err.validator_value}"
    elif err.validator in ("type", "anyOf"):
        hint = "check the YAML type (quotes make a string, a bare number is an integer)"
    message = err.message if len(err.message) <= 200 else err.message[:197] + "..."
    findings.append(Finding("CRD001", f"{what}: {_field(path)}: {message}", meta.locate("spec", *path), hint=hint))
