"""Printing helpers shared by the command modules (the library itself never prints)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from renderer.errors import As3GitopsError, InvalidInput, UsageError
from renderer.redact import scrub_urls
from renderer.report import FORMATS, resolve_format, write_findings


def print_error(err: As3GitopsError, stream: TextIO | None = None, fmt: str = "text") -> None:
    out = stream or sys.stderr
    if isinstance(err, InvalidInput):
        findings = err.findings
        if err.side and fmt == "text":
            out.write(f"{err.side}: invalid input\n")
        write_findings(findings, out, fmt)
        return
    if fmt != "text":  # machine-readable output stays machine-readable when the command fails
        write_findings([err.as_finding("SRC000")], out, fmt)
        return
    where = f"{err.location}: " if err.location else ""
    out.write(f"{where}error: {scrub_urls(err.message)}\n")
    if err.hint:
        out.write(f"  hint: {scrub_urls(err.hint)}\n")


def findings_format(name: str, *, stdout: bool = False) -> str:
    """--format for findings: `auto` resolved (github under GitHub Actions), anything unknown refused.
    `stdout`: the command prints its findings on stdout (validate), so the machine-readable formats
    put the error that ends the command there too, where the tool reading them looks."""
    fmt = resolve_format(name)
    if fmt not in FORMATS:
        raise UsageError(f"unknown --format {name!r}", hint=f"one of auto, {', '.join(FORMATS)}")
    from renderer.cli.app import state

    state.findings_format = fmt  # errors that end the command are printed in this format too
    state.findings_stdout = stdout and fmt != "text"
    return fmt


def check_output_file(path: Path | None, option: str) -> None:
    """Refuse, before any work, an output file that cannot be written: a folder in its place, a file
    where a parent folder should be, a folder we may not write to (usage errors, not bugs)."""
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a folder; {option} names a file", hint=f"e.g. {option} {path / 'x'}")
    probe = path.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise UsageError(f"{option} {path}: {probe} is a file, not a folder", hint="choose another path")
    if probe.is_dir() and not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: cannot write in {probe} (permission denied)", hint="choose another path")


def render_targets(output: str) -> tuple[Path, Path] | None:
    """Where render writes (as3.json, net.json): None for `-o -` (stdout). `-o DIR` (made if missing)
    holds both; `-o FILE.json` names the AS3 file and net.json goes beside it."""
    if output == "-":
        return None
    path = Path(output)
    if path.suffix.lower() == ".json" and not path.is_dir():
        if path.name.lower() == "net.json":
            raise UsageError(f"-o {output}: names the AS3 file, and net.json goes beside it",
                             hint="use -o DIR for both files, or another file name for the AS3 declaration")
        check_output_file(path, "-o")
        return path, path.parent / "net.json"
    if path.exists() and not path.is_dir():
        raise UsageError(f"-o {output}: is a file; -o names a folder (or FILE.json for the AS3 declaration)",
                         hint="e.g. -o out/ (as3.json and net.json) or -o out/as3.json")
    check_output_file(path / "as3.json", "-o")
    return path / "as3.json", path / "net.json"
