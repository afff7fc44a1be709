"""Validate a render result and point every error at the manifest that produced the object.

Each AS3 schema error carries a JSON pointer inside the ADC; `RenderResult.sources` records which
manifests produced which pointer, so the nearest recorded prefix names the file. Codes are
stable and documented (README.md, "Validate"): AS3001-AS3009 for the official AS3 schema and
AS3's pointer check, NET001 for schemas/net.schema.json.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from renderer.as3_schema import find_schema
from renderer.errors import Finding, Origin, Severity, SourceLocation
from renderer.gcpause import paused_gc
from renderer.validate.ajv import Ajv, AjvError
from renderer.validate.as3 import As3Validator, ValidatorCache
from renderer.validate.formats import FORMATS
from renderer.validate.locate import Locator, locator_for
from renderer.validate.tenants import TenantKeys, TenantStore, validator_fingerprint

# keyword -> stable finding code
AS3_CODES: dict[str, str] = {
    "required": "AS3001",
    "enum": "AS3002", "const": "AS3002",
    "minimum": "AS3003", "maximum": "AS3003", "exclusiveMinimum": "AS3003", "exclusiveMaximum": "AS3003",
    "multipleOf": "AS3003",
    "format": "AS3004",
    "type": "AS3005",
    "pattern": "AS3006", "minLength": "AS3006", "maxLength": "AS3006", "minItems": "AS3006",
    "maxItems": "AS3006", "uniqueItems": "AS3006", "minProperties": "AS3006", "maxProperties": "AS3006",
    "additionalItems": "AS3006",
    "additionalProperties": "AS3007", "propertyNames": "AS3007",
    "f5PostProcess(pointer)": "AS3008",
    # AS3's checks outside its schema (issue 14)
    "as3:property": "AS3010",
    "as3:duplicate": "AS3011",
    "as3:node": "AS3012",
    "as3:path": "AS3013",
    "as3:request": "AS3014",
    "as3:tenant": "AS3015",
    "f5PostProcess(secret)": "AS3016",
    "as3:autoDelete": "AS3017",
    "as3:id": "AS3018",
    "f5ip(IPv6)": "AS3019",  # a warning of ours: AS3 accepts the value
}
OTHER_AS3_CODE = "AS3009"
NET_CODE = "NET100"
_SECRET_WORDS = ("key", "secret", "passphrase", "cipher", "certificate", "password", "token")


@functools.cache
def net_schema() -> dict[str, Any]:
    text = importlib.resources.files("renderer.schemas").joinpath("net.schema.json").read_text("utf-8")
    return json.loads(text)


@functools.cache
def _net_judges() -> tuple[Any, Ajv]:
    """jsonschema-rs for the verdict, the Ajv-style walk for the wording (the schema ships with us)."""
    import jsonschema_rs

    schema = net_schema()
    return jsonschema_rs.Draft7Validator(schema), Ajv(schema, FORMATS)


def value_at(data: Any, pointer: str) -> tuple[bool, Any]:
    node = data
    for token in pointer.split("/")[1:] if pointer else []:
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return False, None
    return True, node


def shown_value(data: Any, error: AjvError) -> str:
    """` (got 70000)` for short scalar values; nothing for anything that could be a secret."""
    if error.keyword in ("required", "additionalProperties", "dependencies", "f5PostProcess(pointer)", "pattern") \
            or error.text or error.warning:
        return ""
    if any(word in error.pointer.lower() for word in _SECRET_WORDS):
        return ""
    found, value = value_at(data, error.pointer)
    if not found or isinstance(value, dict | list) or (isinstance(value, str) and len(value) > 64):
        return ""
    return f" (got {json.dumps(value)})"


def code_of(error: AjvError) -> str:
    return AS3_CODES.get(error.keyword, OTHER_AS3_CODE)


def message_of(data: Any, error: AjvError) -> str:
    """The finding text: AS3's verdict with its wording (`AS3 rejects /T/A/x: ...`), or our warning."""
    if error.warning:
        return f"AS3 accepts {error.pointer or '/'} but it {error.message}{shown_value(data, error)}"
    return f"AS3 rejects {error.pointer or '/'}: {error.message}{shown_value(data, error)}"


def nearest_origins(pointer: str, sources: Mapping[str, tuple[Origin, ...]]) -> tuple[Origin, ...]:
    """Origins of the longest recorded pointer that is `pointer` or a prefix of it."""
    probe = pointer
    while probe:
        hit = sources.get(probe)
        if hit:
            return hit
        probe = probe.rsplit("/", 1)[0]
    return ()


def _finding(code: str, message: str, origins: tuple[Origin, ...], fallback: SourceLocation | None,
             pointer: str = "", locator: Locator | None = None) -> Finding:
    location = (locator(origins, pointer) if locator and origins else None) or (
        origins[0].location if origins else fallback)
    hint = None
    if origins:
        hint = "produced by " + "; ".join(f"{o.kind} {o.namespace + '/' if o.namespace else ''}{o.name} "
                                          f"({o.location.path})" for o in origins)
    return Finding(code, message, location, hint=hint)


def as3_findings(adc: Any, errors: list[AjvError], sources: Mapping[str, tuple[Origin, ...]],
                 fallback: SourceLocation | None, locator: Locator | None = None) -> list[Finding]:
    findings = []
    for error in errors:
        finding = _finding(code_of(error), message_of(adc, error), nearest_origins(error.pointer, sources),
                           fallback, error.pointer, locator)
        if error.warning:
            finding = Finding(finding.code, finding.message, finding.location, Severity.WARNING, finding.hint)
        findings.append(finding)
    return findings


def _net_source_key(net: Any, pointer: str) -> str:
    """`/fdb/records/3/endpoint` -> `/net/fdb/<mac>`; `/arps/1` -> `/net/arps/<ip>`."""
    parts = pointer.split("/")
    if len(parts) >= 4 and parts[1] == "fdb" and parts[2] == "records" and parts[3].isdigit():
        found, record = value_at(net, f"/fdb/records/{parts[3]}")
        if found and isinstance(record, dict):
            return f"/net/fdb/{record.get('name')}"
    if len(parts) >= 3 and parts[1] == "arps" and parts[2].isdigit():
        found, record = value_at(net, f"/arps/{parts[2]}")
        if found and isinstance(record, dict):
            return f"/net/arps/{record.get('ipAddress')}"
    return "/net" + pointer


def net_findings(net: Any, sources: Mapping[str, tuple[Origin, ...]], fallback: SourceLocation | None,
                 locator: Locator | None = None) -> list[Finding]:
    """net.json against schemas/net.schema.json (every error, not only the first)."""
    verdict, ajv = _net_judges()
    try:
        if verdict.is_valid(net):
            return []
    except (ValueError, OverflowError, TypeError):  # values Rust cannot take: let the walk decide
        pass
    errors = ajv.errors(ajv.root, net)
    findings = []
    for error in errors:
        message = f"net declaration invalid at {error.pointer or '/'}: {error.message}{shown_value(net, error)}"
        origins = nearest_origins(_net_source_key(net, error.pointer), sources)
        findings.append(_finding(NET_CODE, message, origins, fallback, error.pointer, locator))
    return findings


def validate_result(result: Any, validator: As3Validator, *, locator: Locator | None = None,
                    store: TenantStore | None = None) -> list[Finding]:
    """Findings for a RenderResult: its AS3 declaration (AS3-exact) and its net declaration.

    Without a `locator` a finding points at the start of the manifest that produced the object;
    with one (validate_rendered passes it) at the key that feeds the failing property. `store`
    keeps each valid tenant's result between runs (tenants.py)."""
    fallback = result.config.location
    findings: list[Finding] = []
    body = result.as3
    if body:
        adc = body.get("declaration") if body.get("class") == "AS3" else body
        judgement = validator.judge(body, store=store)
        findings += as3_findings(adc, judgement.errors + judgement.warnings, result.sources, fallback, locator)
    if result.net:
        findings += net_findings(result.net, result.sources, fallback, locator)
    return findings


def _emitted(result: Any) -> dict[str, str]:
    """The keys the render emitted its tenants' JSON under (renderer.emit_reuse), for the tenants
    that are still those very objects: each names its tenant's JSON, so a tenant's verdict is found
    by it without dumping and hashing the JSON."""
    from renderer.emit_reuse import tenant_keys

    body = result.as3 if isinstance(result.as3, dict) else {}
    adc = body.get("declaration") if body.get("class") == "AS3" else body
    return tenant_keys(adc) if isinstance(adc, dict) else {}


def validate_rendered(result: Any, *, repo: str | Path, as3_schema: str | None = None,
                      environ: Mapping[str, str] | None = None, cache: ValidatorCache | None = None,
                      disk: Any = None) -> list[Finding]:
    """Find the AS3 schema (option, env, config, cache), then validate_result. Raises ValidateError.

    `disk` (a `renderer.cache.DiskCache`, None for --no-cache) keeps the results of valid tenants,
    keyed by their content, the schema and the validator's code: a re-render after a one-file
    change fills and checks only the tenants that changed (the cross-tenant checks always run)."""
    env = os.environ if environ is None else environ
    location = find_schema(option=as3_schema, environ=env, config_schema=result.config.as3_schema,
                           repo_root=repo, schema_version=result.config.bigip.schema_version)
    # paused: loading the schema and filling copies of tenants make many small containers and no
    # cycles, while the rendered result keeps millions of objects alive for a full collection to walk
    with paused_gc():
        validator = (cache or ValidatorCache()).get(location.path, disk)
        store = None if disk is None else TenantStore(disk, TenantKeys(validator_fingerprint(), validator.schema_hash),
                                                      _emitted(result))
        findings = validate_result(result, validator, store=store)
        if any(f.is_error for f in findings):  # worth reading files again only on the error path
            findings = validate_result(result, validator, store=store, locator=locator_for(
                repo, result.identity, getattr(result, "generated", None)))
    return findings
