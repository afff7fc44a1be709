"""The one place that turns findings into text: `text`, `github` and `json` formats.

Reporters write to a stream they are given, so the library never prints and tests capture
output without patching sys.stdout.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import TextIO

from renderer.errors import Finding, sorted_findings

FORMATS = ("text", "github", "json")


def resolve_format(name: str, environ: Mapping[str, str] | None = None) -> str:
    """`auto` picks `github` under GitHub Actions, else `text`."""
    if name != "auto":
        return name
    env = os.environ if environ is None else environ
    return "github" if env.get("GITHUB_ACTIONS") == "true" else "text"


def format_text(finding: Finding) -> str:
    where = f"{finding.location}: " if finding.location else ""
    line = f"{where}{finding.severity.value}: {finding.message} [{finding.code}]"
    if finding.hint:
        line += f"\n  hint: {finding.hint}"
    return line


def _gh_escape(value: str, *, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def format_github(finding: Finding) -> str:
    level = {"error": "error", "warning": "warning", "info": "notice"}[finding.severity.value]
    props = []
    if finding.location:
        props.append(f"file={_gh_escape(finding.location.path, prop=True)}")
        if finding.location.line:
            props.append(f"line={finding.location.line}")
        if finding.location.column:
            props.append(f"col={finding.location.column}")
    props.append(f"title={_gh_escape(finding.code, prop=True)}")
    message = finding.message + (f" (hint: {finding.hint})" if finding.hint else "")
    return f"::{level} {','.join(props)}::{_gh_escape(message)}"


def finding_as_dict(finding: Finding) -> dict:
    loc = finding.location
    return {
        "severity": finding.severity.value,
        "file": loc.path if loc else None,
        "line": loc.line if loc and loc.line else None,
        "col": loc.column if loc and loc.column else None,
        "code": finding.code,
        "message": finding.message,
        "hint": finding.hint,
    }


def write_findings(findings: Iterable[Finding], stream: TextIO, fmt: str = "text") -> None:
    ordered = sorted_findings(list(findings))
    if fmt == "json":
        stream.write(json.dumps([finding_as_dict(f) for f in ordered], indent=2, sort_keys=True) + "\n")
        return
    formatter = format_github if fmt == "github" else format_text
    for finding in ordered:
        stream.write(formatter(finding) + "\n")


def summary_line(findings: Iterable[Finding]) -> str:
    items = list(findings)
    errors = sum(1 for f in items if f.severity.value == "error")
    warnings = sum(1 for f in items if f.severity.value == "warning")
    return f"{errors} error(s), {warnings} warning(s)"


def objects_line(rendered: int, skipped: int) -> str:
    """The last line of render/validate: an empty render must never read like success."""
    line = f"{rendered} objects rendered, {skipped} skipped" + (" (see warnings)" if skipped else "")
    return line + ("; nothing to deploy" if rendered == 0 else "")


def strict(findings: Iterable[Finding]) -> list[Finding]:
    """--strict: every warning becomes an error (exit 2), for CI that wants no warning to pass."""
    from dataclasses import replace

    from renderer.errors import Severity

    return [replace(f, severity=Severity.ERROR) if f.severity is Severity.WARNING else f for f in findings]
