"""Writers for a `DiffResult`: text (terminal), markdown (the sticky PR comment) and json.

All three take a stream, so the library never prints. Values are already redacted by the
engine; here long public PEM blobs are shortened to a hash so a certificate rotation reads as
one line. Markdown stays under `max_chars` by dropping per-tenant detail (never the summary),
because GitHub caps a comment at 65,536 characters.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any, TextIO

from renderer.diff import ADDED, CHANGED, NETWORK, REMOVED, TENANT, Change, Counts, DiffResult
from renderer.diff_values import fingerprint
from renderer.source import dump_json

FORMATS = ("text", "markdown", "json")
SYMBOL = {ADDED: "+", CHANGED: "~", REMOVED: "-"}
MARKER = "<!-- as3-gitops:diff:{environment} -->"
ELSEWHERE = "the job summary and the workflow artifact"
SNAPSHOT_NOTE = "snapshot-only change: only endpoints changed (pods scaled or moved)"


def first_deploy_note(result: DiffResult) -> str:
    """Said instead of snapshot notes when the old side is empty (a fresh device)."""
    return (f"First deploy: {result.base_label or 'the base'} holds no tenant and no network object from "
            "as3-gitops yet, so every object is added")


def _show(value: Any) -> str:
    """One-line value: JSON, except redaction markers and PEM blobs, which read better as a tag."""
    if isinstance(value, str):
        if value.startswith("<redacted, sha256:"):
            return value
        if value.lstrip().startswith("-----BEGIN "):
            return f"<PEM, {len(value)} bytes, sha256:{fingerprint(value)}>"
    if isinstance(value, dict | list):
        value = _shorten(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _shorten(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    if isinstance(value, str) and value.lstrip().startswith("-----BEGIN "):
        return f"<PEM, {len(value)} bytes, sha256:{fingerprint(value)}>"
    return value


def _property_line(prop) -> tuple[str, str]:
    path = prop.path or "(value)"
    if prop.kind == CHANGED:
        return SYMBOL[CHANGED], f"{path}: {_show(prop.old)} -> {_show(prop.new)}"
    value = prop.new if prop.kind == ADDED else prop.old
    return SYMBOL[prop.kind], f"{path}: {_show(value)}"


def change_lines(change: Change) -> list[tuple[str, int, str]]:
    """(symbol, depth, text) lines of one change: header, sources, notes, one line per property."""
    where = change.pointer if change.scope == TENANT else change.name
    lines = [(SYMBOL[change.kind], 0, f"{change.cls} {where}")]
    lines += [(" ", 1, f"from {origin}") for origin in change.sources]
    if change.snapshot_only:
        lines.append((" ", 1, f"note: {SNAPSHOT_NOTE}"))
    lines += [(" ", 1, f"note: {note}") for note in change.notes]
    lines += [(*_property_line(p)[:1], 1, _property_line(p)[1]) for p in change.properties]
    return lines


def _text_line(symbol: str, depth: int, text: str) -> str:
    """Terraform layout: indentation first, then the symbol."""
    return f"{'    ' * depth}{symbol} {text}" if symbol != " " else f"{'    ' * depth}  {text}"


def _diff_line(symbol: str, depth: int, text: str) -> str:
    """Unified-diff layout for a ```diff block: the symbol in column 1 so GitHub colours it."""
    return f"{symbol} {'    ' * depth}{text}"


def _tenant_notes(result: DiffResult, tenant: str) -> list[str]:
    if tenant in result.deleted_tenants:
        return [f"tenant {tenant} is emptied: deploy deletes tenant (partition) {tenant} and everything "
                "in it from the BIG-IP"]
    if tenant in result.added_tenants:
        return [f"tenant {tenant} is new: deploy creates partition {tenant} on the BIG-IP"]
    return []


def _sections(result: DiffResult) -> list[tuple[str, str, Counts, list[Change], list[str]]]:
    """(kind, name, counts, changes, notes) per tenant, then network, then declaration settings."""
    out = []
    for tenant, counts in result.tenants.items():
        changes = [c for c in result.changes if c.scope == TENANT and c.tenant == tenant]
        out.append(("Tenant", tenant, counts, changes, _tenant_notes(result, tenant)))
    net = [c for c in result.changes if c.scope == NETWORK]
    if net:
        out.append(("Network", "", result.network, net, []))
    decl = [c for c in result.changes if c.scope not in (TENANT, NETWORK)]
    if decl:
        out.append(("Declaration", "", result.declaration, decl, []))
    return out


def _summary_rows(result: DiffResult) -> list[tuple[str, Counts]]:
    rows = [(f"tenant {tenant}", counts) for tenant, counts in result.tenants.items()]
    rows += [(f"network: {part}", counts) for part, counts in result.network_parts.items()]
    if result.declaration.total:
        rows.append(("declaration settings", result.declaration))
    return rows


def _vip_warnings(result: DiffResult) -> list[str]:
    return [f"{note} ({c.pointer} {c.kind})" for c in result.changes for note in c.notes]


# --- text ------------------------------------------------------------------------------------


def write_text(result: DiffResult, stream: TextIO, *, max_chars: int = 0,
               environment: str = "default") -> None:
    """Terraform-style plan: summary first, then every change (max_chars does not apply)."""
    stream.write(f"as3-gitops diff ({environment}): {result.base_label} -> {result.head_label}\n\n")
    if not result.has_changes:
        stream.write("No changes. The BIG-IP declarations of both sides are the same.\n")
        return
    stream.write(f"Plan: {result.totals}.\n")
    for label, counts in _summary_rows(result):
        stream.write(f"  {label}: {counts}\n")
    if result.first_deploy:
        stream.write(f"{first_deploy_note(result)}.\n")
    if result.snapshot_only:
        stream.write(f"Only the endpoint snapshot changed ({SNAPSHOT_NOTE}).\n")
    for kind, name, counts, changes, notes in _sections(result):
        stream.write(f"\n{kind}{' ' + name if name else ''}: {counts}\n")
        for note in notes:
            stream.write(f"  note: {note}\n")
        for change in changes:
            stream.write("".join(f"  {_text_line(*line)}\n" for line in change_lines(change)))


# --- markdown --------------------------------------------------------------------------------


def _fence(body: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def _md_code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def _md_section(kind: str, name: str, counts: Counts, changes: list[Change], notes: list[str]) -> str:
    lines = [f"# note: {note}" for note in notes]
    for change in changes:
        lines.extend(_diff_line(*line) for line in change_lines(change))
    body = "\n".join(lines)
    fence = _fence(body)
    title = f"{kind} {_md_code(name)}" if name else kind
    return (f"<details><summary>{title}: {counts}</summary>\n\n{fence}diff\n{body}\n{fence}\n\n"
            "</details>\n")


def _md_placeholder(kind: str, name: str, counts: Counts) -> str:
    title = f"{kind} {_md_code(name)}" if name else kind
    return (f"<details><summary>{title}: {counts} (details left out)</summary>\n\n"
            f"See {ELSEWHERE}.\n</details>\n")


_ENV_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _md_head(result: DiffResult, environment: str) -> str:
    base, head = html.escape(result.base_label), html.escape(result.head_label)
    environment = _ENV_UNSAFE.sub("_", environment)[:64]  # the CLI refuses others; the library never trusts it
    out = [MARKER.format(environment=environment)]
    if not result.has_changes:
        out.append(f"### as3-gitops diff `{environment}`: no changes\n")
        out.append(f"Base <code>{base}</code> and head <code>{head}</code> render to the same BIG-IP "
                   "declarations.\n")
        return "\n".join(out)
    out.append(f"### as3-gitops diff `{environment}`: {result.totals}\n")
    out.append(f"Base <code>{base}</code> → head <code>{head}</code>\n")
    out.append("| | to add | to change | to destroy |\n|---|---:|---:|---:|")
    for label, counts in _summary_rows(result):
        scope, _, name = label.partition(" ")
        cell = f"{scope} {_md_code(name)}" if scope == "tenant" else html.escape(label)
        out.append(f"| {cell} | {counts.add} | {counts.change} | {counts.destroy} |")
    totals = result.totals
    out.append(f"| **total** | **{totals.add}** | **{totals.change}** | **{totals.destroy}** |\n")
    warnings = [n for t in result.tenants for n in _tenant_notes(result, t) if t in result.deleted_tenants]
    warnings += _vip_warnings(result)
    if warnings:
        shown = warnings[:20] + ([f"... and {len(warnings) - 20} more"] if len(warnings) > 20 else [])
        out.append("> [!WARNING]\n" + "\n".join(f"> - {html.escape(w)}" for w in shown) + "\n")
    if result.first_deploy:
        out.append(f"> [!NOTE]\n> {html.escape(first_deploy_note(result))}.\n")
    if result.snapshot_only:
        out.append(f"> [!NOTE]\n> Only the endpoint snapshot changed ({SNAPSHOT_NOTE}).\n")
    return "\n".join(out)


def write_markdown(result: DiffResult, stream: TextIO, *, max_chars: int = 60000,
                   environment: str = "default") -> None:
    """The PR comment. Every user-controlled string is either HTML-escaped (summary, warnings, labels) or
    inside a diff block whose fence is longer than any backtick run in it, so nothing can end a block."""
    environment = _ENV_UNSAFE.sub("_", environment)[:64]
    head = _md_head(result, environment)
    sections = _sections(result)
    full = head + "".join("\n" + _md_section(*s) for s in sections)
    if len(full) <= max_chars:
        stream.write(full)
        return
    note = (f"\n_The full diff ({len(full):,} characters) is over this comment's limit of {max_chars:,}; "
            f"some details are left out here. The complete diff is in {ELSEWHERE}._\n")
    placeholders = ["\n" + _md_placeholder(kind, name, counts) for kind, name, counts, _c, _n in sections]
    out = head + note
    for index, section in enumerate(sections):
        detail = "\n" + _md_section(*section)
        reserve = sum(len(p) for p in placeholders[index + 1:])
        if len(out) + len(detail) + reserve <= max_chars:
            out += detail
        elif len(out) + len(placeholders[index]) + reserve <= max_chars:
            out += placeholders[index]
    if len(out) > max_chars:  # even the summary is too long: cut at a line, keep the note
        cut = out[: max(0, max_chars - len(note))].rsplit("\n", 1)[0]
        out = cut + "\n" + note
    stream.write(out)


# --- json ------------------------------------------------------------------------------------


def _origin(origin) -> dict[str, Any]:
    return {"path": origin.location.path, "line": origin.location.line or None, "kind": origin.kind,
            "namespace": origin.namespace or None, "name": origin.name, "text": str(origin)}


def _counts(counts: Counts) -> dict[str, int]:
    return {"add": counts.add, "change": counts.change, "destroy": counts.destroy}


# Bumped when a key changes meaning or goes away (new keys do not bump it): tools check it.
FORMAT_VERSION = 1


def as_dict(result: DiffResult, environment: str = "default") -> dict[str, Any]:
    """The json report as data (stable keys; values redacted)."""
    return {
        "format_version": FORMAT_VERSION,
        "environment": environment,
        "base": result.base_label,
        "head": result.head_label,
        "has_changes": result.has_changes,
        "snapshot_only": result.snapshot_only,
        "first_deploy": result.first_deploy,
        "summary": _counts(result.totals),
        "tenants": {t: {**_counts(c), "deleted": t in result.deleted_tenants,
                        "new": t in result.added_tenants} for t, c in result.tenants.items()},
        "network": {**_counts(result.network),
                    "parts": {part: _counts(c) for part, c in result.network_parts.items()}},
        "declaration": _counts(result.declaration),
        "changes": [
            {"kind": c.kind, "scope": c.scope, "class": c.cls, "name": c.name, "pointer": c.pointer,
             "tenant": c.tenant or None, "application": c.application or None,
             "sources": [_origin(o) for o in c.sources], "snapshot_only": c.snapshot_only,
             "notes": list(c.notes),
             "properties": [{"path": p.path, "kind": p.kind, "old": p.old, "new": p.new}
                            for p in c.properties]}
            for c in result.changes
        ],
    }


def write_json(result: DiffResult, stream: TextIO, *, max_chars: int = 0,
               environment: str = "default") -> None:
    """The complete diff as sorted, indented JSON (max_chars does not apply)."""
    stream.write(dump_json(as_dict(result, environment)).decode("utf-8"))


WRITERS: dict[str, Callable[..., None]] = {"text": write_text, "markdown": write_markdown, "json": write_json}


def write_diff(result: DiffResult, stream: TextIO, fmt: str = "text", *, max_chars: int = 60000,
               environment: str = "default") -> None:
    """Write `result` in `fmt` (text | markdown | json) to `stream`."""
    if fmt not in WRITERS:
        raise ValueError(f"unknown diff format {fmt!r}; expected one of {', '.join(FORMATS)}")
    WRITERS[fmt](result, stream, max_chars=max_chars, environment=environment)
