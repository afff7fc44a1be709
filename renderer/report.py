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

FORMATS = ("text", "github", "json", "sarif")
# GitHub shows at most 10 error and 10 warning annotations per step; the rest would vanish.
GITHUB_ANNOTATION_LIMIT = 10


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


# Bumped when a key of the findings JSON changes meaning or goes away (new keys do not bump it), as
# in the diff and deploy reports. Before it existed, `--format json` printed a bare list.
FINDINGS_FORMAT_VERSION = 1


def findings_document(findings: Iterable[Finding], objects: tuple[int, int] | None = None) -> dict:
    """The `--format json` document of render and validate: the findings (sorted), their counts by
    severity, and (when the repository rendered) the rendered/skipped F5 object counts."""
    ordered = sorted_findings(list(findings))
    counts = {level: sum(1 for f in ordered if f.severity.value == level) for level in ("error", "warning", "info")}
    doc: dict = {"format_version": FINDINGS_FORMAT_VERSION, "findings": [finding_as_dict(f) for f in ordered],
                 "summary": counts}
    if objects is not None:
        doc["objects"] = {"rendered": objects[0], "skipped": objects[1]}
    return doc


def write_findings(findings: Iterable[Finding], stream: TextIO, fmt: str = "text",
                   objects: tuple[int, int] | None = None) -> None:
    """`objects`: (rendered, skipped), carried by the json document only."""
    ordered = sorted_findings(list(findings))
    if fmt == "json":
        stream.write(json.dumps(findings_document(ordered, objects), indent=2, sort_keys=True) + "\n")
        return
    if fmt == "sarif":
        from renderer import __version__
        from renderer.report_sarif import sarif_log

        stream.write(json.dumps(sarif_log(ordered, __version__), indent=2, sort_keys=True) + "\n")
        return
    if fmt == "github":
        _write_github(ordered, stream)
        return
    for finding in ordered:
        stream.write(format_text(finding) + "\n")


def _write_github(ordered: list[Finding], stream: TextIO) -> None:
    """The first GITHUB_ANNOTATION_LIMIT findings of each severity as annotations, the others as log
    lines, and then a notice with the totals, so none is lost to GitHub's per-step limit."""
    shown: dict[str, int] = {}
    for finding in ordered:
        level = finding.severity.value
        shown[level] = shown.get(level, 0) + 1
        line = format_github(finding) if shown[level] <= GITHUB_ANNOTATION_LIMIT else format_text(finding)
        stream.write(line + "\n")
    if any(count > GITHUB_ANNOTATION_LIMIT for count in shown.values()):
        totals = ", ".join(f"{shown[k]} {k}(s)" for k in ("error", "warning", "info") if k in shown)
        stream.write(f"::notice title=as3-gitops::{totals} in total; GitHub shows {GITHUB_ANNOTATION_LIMIT} "
                     "annotations of each kind per step, so the others are in this log (or use --format sarif "
                     "for code scanning)\n")


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
