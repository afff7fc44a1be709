"""Printing helpers shared by the command modules (the library itself never prints)."""

from __future__ import annotations

import sys
from typing import TextIO

from renderer.errors import As3GitopsError, InvalidInput, UsageError
from renderer.redact import scrub_urls
from renderer.report import FORMATS, resolve_format, write_findings


def print_error(err: As3GitopsError, stream: TextIO | None = None, fmt: str = "text") -> None:
    out = stream or sys.stderr
    if isinstance(err, InvalidInput):
        findings = err.findings
        if err.side:
            out.write(f"{err.side}: invalid input\n")
        write_findings(findings, out, fmt)
        return
    where = f"{err.location}: " if err.location else ""
    out.write(f"{where}error: {scrub_urls(err.message)}\n")
    if err.hint:
        out.write(f"  hint: {scrub_urls(err.hint)}\n")


def findings_format(name: str) -> str:
    """--format for findings: `auto` resolved (github under GitHub Actions), anything unknown refused."""
    fmt = resolve_format(name)
    if fmt not in FORMATS:
        raise UsageError(f"unknown --format {name!r}", hint=f"one of auto, {', '.join(FORMATS)}")
    return fmt
