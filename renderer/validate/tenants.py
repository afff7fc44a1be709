"""check_adc one tenant at a time: no filled copy of the whole declaration, and a result per tenant
that a disk cache can keep.

Why: a 10k declaration is 38 MB of JSON, and its filled deep copy was most of the render's peak
memory; and a pull request that changes one file changes one tenant, yet every tenant was filled
and checked again. The ADC schema is simple at its top (properties, `additionalProperties` for
tenants, `propertyNames`, `required`: no anyOf/allOf/if, no dependencies), so the defaults walk
of the whole declaration is the walk of its top level followed by one walk per tenant, each
independent of the others. Here:

- the *shell* (every top-level key, with `{"class": "Tenant"}` in place of each tenant, which the
  schema accepts as a tenant) is copied, filled and judged like a declaration; `Common` and the
  other top-level properties stay in it, filled;
- each tenant is copied, filled (`Filler.fill_tenant`, at the depth and with the budget of the
  whole walk), judged by jsonschema-rs against Tenant plus the duplicate/secret walk, and reduced
  to a `TenantSummary` of what the later checks need; then the copy is dropped;
- the cross-tenant checks run over the summaries: the first full path over 255 characters, one
  server name with two addresses anywhere, the last path over 195 characters, the first
  autoDelete outside /Common, and the property-name check (its candidate words per part).

A pointer resolved inside its own tenant is judged with that tenant's filled copy (the summary
keeps the verdict); one that reaches outside (to /Common, to another tenant's name, to a top-level
property) is resolved against the filled shell with this tenant in place. AS3 allows pointers into
the same tenant or /Common only, so of any other tenant only the existence of its name counts, and
the placeholder answers that. A tenant with such a pointer is never taken from the cache.

Anything not clean (a schema error, a duplicate, an odd secret, a budget or depth limit, a value
jsonschema-rs cannot take) sends the whole declaration back to the exact path (As3Validator's
filled copy and AS3's ordered walk): the errors of an invalid declaration are found exactly as
before, and only valid declarations, the common case, take this one.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from renderer.validate import postchecks
from renderer.validate.ajv import AjvError, PointerSite, escape
from renderer.validate.members import Recording, json_bytes, tenant_by_members
from renderer.validate.pointers import checked_sites, site_error
from renderer.validate.propnames import _candidates

PLACEHOLDER = {"class": "Tenant"}
_GENERIC = ("anyOf", "oneOf", "allOf", "if", "not", "dependencies", "patternProperties", "$ref", "f5PostProcess")


class Fallback(Exception):
    """The declaration must be judged by the exact path (a copy of everything, AS3's ordered walk)."""


@dataclass
class TenantSummary:
    """What the checks after the schema need of one filled tenant (plain data, so cacheable)."""

    visits: int  # defaults-walk nodes (the walk's budget is shared by the whole declaration)
    names_ok: bool  # every candidate word of the property-name check is allowed
    full_path: tuple[str, str] | None  # first (pointer, text) over 255 characters
    servers: list[tuple[str, Any, str]]  # (name, address, pointer) of pool member servers
    late_path: tuple[str, str] | None  # last (pointer, path) over 195 characters
    auto_delete: tuple[str, str] | None  # first (pointer, text)
    pointer_errors: list[tuple[str, str]]  # (pointer, message), in site order
    doubtful: list[str]  # f5ip values its checks found doubtful (warnings; formatmemo)
    local: bool = True  # every pointer resolved inside the tenant: the summary depends on it alone

    def pack(self) -> tuple:
        return (self.visits, self.names_ok, self.full_path, self.servers, self.late_path, self.auto_delete,
                self.pointer_errors, self.doubtful)

    @classmethod
    def unpack(cls, stored: Any) -> TenantSummary | None:
        """The summary back from `pack`, or None unless every part has the expected shape."""
        try:
            visits, names_ok, full_path, servers, late_path, auto_delete, errors, doubtful = stored
            ok = (type(visits) is int and type(names_ok) is bool and all(map(_pair, (full_path, late_path,
                  auto_delete))) and type(servers) is list and type(errors) is list and type(doubtful) is list
                  and all(type(s) is tuple and len(s) == 3 and type(s[0]) is str and type(s[2]) is str for s in servers)
                  and all(_pair(e) and e is not None for e in errors) and all(type(d) is str for d in doubtful))
        except (TypeError, ValueError):
            return None
        return cls(visits, names_ok, full_path, servers, late_path, auto_delete, errors, doubtful) if ok else None


def _pair(value: Any) -> bool:
    return value is None or (type(value) is tuple and len(value) == 2 and all(type(v) is str for v in value))


def streamable(adc_schema: Any) -> bool:
    """True when the ADC schema's top level is a plain object schema (the walk splits per tenant)."""
    return (isinstance(adc_schema, dict) and adc_schema.get("type") == "object"
            and isinstance(adc_schema.get("additionalProperties"), dict)
            and isinstance(adc_schema.get("properties"), dict) and not any(k in adc_schema for k in _GENERIC))


def summarize_part(name: str, filled: Any) -> tuple[tuple[str, str] | None, list, tuple[str, str] | None,
                                                     tuple[str, str] | None]:
    """The structure and final checks of one top-level value, alone: (full path, servers, late path,
    autoDelete); `postchecks` finds the same in a declaration of this one key."""
    checks = postchecks.checks_of({name: filled})
    return checks.full, checks.servers, _late(checks.late), checks.auto


def _late(found: tuple[str, str] | None) -> tuple[str, str] | None:
    """(pointer, text) of a long path, as AS3 words it (`postchecks.late_text`)."""
    return None if found is None else (found[0], postchecks.late_text(found[1]))


@functools.cache
def validator_fingerprint() -> str:
    """What a tenant's result depends on besides the tenant and the schema: versions, and the
    source of the validator (renderer/validate/*.py), so an edited check never meets an old entry."""
    import sys

    import jsonschema_rs

    import renderer

    digest = hashlib.sha256()
    for part in (renderer.__version__, getattr(jsonschema_rs, "__version__", "?"), orjson.__version__,
                 sys.version, "tenant-summary-1"):
        digest.update(part.encode() + b"\0")
    folder = Path(__file__).parent
    for file in sorted(folder.glob("*.py")):
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


class TenantKeys:
    """Cache keys of tenant summaries: validator fingerprint, schema, tenant name and content."""

    def __init__(self, fingerprint: str, schema_hash: str) -> None:
        self.prefix = f"as3-validate-tenant\0{fingerprint}\0{schema_hash}\0"

    def key(self, name: str, tenant: Any, content: bytes | None = None, emit_key: str | None = None) -> str | None:
        """`content`: the tenant's orjson bytes when the caller has them (they are what is hashed).
        `emit_key`: the key the render emitted the tenant's JSON under (renderer.emit_reuse), which
        names that JSON exactly (one key, one JSON): then nothing is dumped or hashed."""
        if emit_key is not None:
            return self.prefix + name + "\0emitted\0" + emit_key
        if content is None:
            content = json_bytes(tenant)
            if content is None:  # values orjson refuses: never cached
                return None
        return self.prefix + name + "\0" + hashlib.sha256(content).hexdigest()


def _fresh_copy(value: Any, content: bytes | None = None) -> Any:
    """A copy to fill (from `content`, the value's orjson bytes, when given); a value orjson refuses
    sends the declaration to the exact path, whose copy takes anything JSON."""
    content = json_bytes(value) if content is None else content
    if content is None:
        raise Fallback
    return orjson.loads(content)


def combine(parts: list[TenantSummary], scratch: bool) -> dict[str, list[AjvError]]:
    """The cross-tenant checks over the parts in the declaration's key order."""
    full = next((p.full_path for p in parts if p.full_path), None)
    late = None
    for p in parts:
        late = p.late_path or late
    auto = next((p.auto_delete for p in parts if p.auto_delete), None)
    structure = [AjvError(full[0], "as3:path", full[1], text=full[1])] if full else []
    structure += postchecks.node_errors([s for p in parts for s in p.servers])
    final = [AjvError(late[0], "as3:path", late[1], text=late[1])] if late else []
    final += [AjvError(auto[0], "as3:autoDelete", auto[1], text=auto[1])] if auto else []
    pointers = [] if scratch else [AjvError(p, "f5PostProcess(pointer)", m) for part in parts
                                   for p, m in part.pointer_errors]
    return {"structure": structure, "pointers": pointers, "final": final}


def shell_part(name: str, filled: Any) -> TenantSummary:
    """A top-level value of the shell (Common, controls, a placeholder, a default) as a part."""
    full, servers, late, auto = summarize_part(name, filled)
    return TenantSummary(0, True, full, servers, late, auto, [], [])


def tenant_summary(validator: Any, name: str, tenant: dict, shell: dict, ctx: Any,
                   content: bytes | None = None) -> TenantSummary:
    """Fill a copy of one tenant (made from `content`, its orjson bytes, when given), judge it and
    reduce it to its summary (the copy is dropped)."""
    filler = validator.filler
    doubtful = validator.doubtful
    filled = _fresh_copy(tenant, content)
    before = filler.budget_left(ctx)
    log: set[str] = set()
    doubtful.log = log
    try:
        sites = filler.fill_tenant(validator.definitions["ADC"]["additionalProperties"], filled,
                                   "/" + escape(name), ctx)
        if filler.budget_left(ctx) < 0 or not validator.tenant_clean(filled):
            raise Fallback
    finally:
        if doubtful.log is log:
            doubtful.log = None
    return summary_of_filled(validator, name, tenant, filled, sites, shell, before - filler.budget_left(ctx),
                             sorted(log))


def summary_of_filled(validator: Any, name: str, tenant: dict, filled: dict, sites: list[PointerSite],
                      shell: dict, visits: int, logged: list[str]) -> TenantSummary:
    """The summary of a tenant once filled and found clean (its walk's sites, budget spent and log)."""
    names_ok = all(validator.names.allowed(w) for w in _candidates(tenant))
    full, servers, late, auto = summarize_part(name, filled)
    errors, local = _site_errors(validator, name, filled, sites, shell)
    return TenantSummary(visits, names_ok, full, servers, late, auto, errors, logged, local)


def _site_errors(validator: Any, name: str, filled: dict, sites: list[PointerSite],
                 shell: dict) -> tuple[list[tuple[str, str]], bool]:
    """(pointer, message) of the tenant's failing pointers, and whether all stayed inside it."""
    view = Recording(shell)
    dict.__setitem__(view, name, filled)
    errors: list[tuple[str, str]] = []
    local = True
    for site in checked_sites(sites, set()):
        view.touched = set()
        error = site_error(validator.ajv, site, view)
        # "": resolve() looks the pointer's leading empty token up at the top; a valid ADC has no such name
        local = local and view.touched <= {name, ""}
        if error is not None:
            errors.append((error.pointer, error.message))
    return errors, local


class TenantStore:
    """Tenant summaries in a `renderer.cache.DiskCache` (its get/put: corrupt entries are misses)."""

    def __init__(self, disk: Any, keys: TenantKeys, emitted: Mapping[str, str] | None = None) -> None:
        self.disk = disk
        self.keys = keys
        self.emitted = emitted or {}  # tenant -> the key its JSON was emitted under, when the render had one
        self.hits = self.misses = 0
        self.members_kept = self.members_judged = 0  # of the tenants judged member by member (members.py)

    def get(self, name: str, tenant: Any, content: bytes | None = None,
            emit_key: str | None = None) -> tuple[str | None, TenantSummary | None]:
        key = self.keys.key(name, tenant, content, emit_key)
        found = None if key is None else self.disk.get(key, TenantSummary.unpack)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return key, found

    def put(self, key: str, summary: TenantSummary) -> None:
        self.disk.put(key, summary.pack())


def check_by_tenant(validator: Any, adc: dict, store: TenantStore | None) -> dict[str, list[AjvError]]:
    """Every error of a valid-looking ADC, without a filled copy of it; raises Fallback otherwise."""
    schema = validator.definitions["ADC"]
    props = schema["properties"]
    tenants = {k for k, v in adc.items() if k not in props and type(v) is dict}
    outline = {k: (PLACEHOLDER if k in tenants else v) for k, v in adc.items()}
    shell = _fresh_copy(outline)
    filler = validator.filler
    ctx = filler.context()
    shell_sites = filler.fill(schema, shell, ctx)
    if filler.budget_left(ctx) < 0 or not validator._clean_verdict(shell):
        raise Fallback
    names_ok = all(validator.names.allowed(w) for w in _candidates(outline))
    view = Recording(shell)
    shell_errors = [(e.pointer, e.message) for e in (site_error(validator.ajv, site, view)
                                                       for site in checked_sites(shell_sites, set())) if e]
    parts = [TenantSummary(0, True, None, [], None, None, shell_errors, [])]
    for name, value in adc.items():
        if name not in tenants:
            parts.append(shell_part(name, shell[name]))
            continue
        emit_key = store.emitted.get(name) if store is not None else None
        # hashed for the key (unless the emit key names the JSON), loaded for the copy
        content = json_bytes(value) if store is not None and emit_key is None else None
        key, summary = store.get(name, value, content, emit_key) if store is not None else (None, None)
        if summary is not None:
            filler.spend(ctx, summary.visits)
            if filler.budget_left(ctx) < 0:
                raise Fallback
            validator.doubtful.values.update(summary.doubtful)
        else:
            summary = None if store is None else tenant_by_members(validator, name, value, shell, ctx, store)
            if summary is None:
                summary = tenant_summary(validator, name, value, shell, ctx, content)
            if key is not None and summary.local:
                store.put(key, summary)  # type: ignore[union-attr]
        parts.append(summary)
        names_ok = names_ok and summary.names_ok
    parts += [shell_part(name, shell[name]) for name in shell if name not in adc]
    out = combine(parts, "scratch" in shell)
    out["names_ok"] = names_ok  # type: ignore[assignment]
    return out
