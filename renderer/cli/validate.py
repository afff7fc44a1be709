"""`as3-gitops validate`: render in memory, judge the result as AS3 would, print every finding."""

from __future__ import annotations

import functools
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from renderer.cli.app import app
from renderer.cli.cache_option import CACHE_DIR, NO_CACHE, parse_cache
from renderer.cli.output import findings_format
from renderer.errors import Finding, UsageError
from renderer.report import FORMATS, objects_line, strict, summary_line, write_findings

if TYPE_CHECKING:  # the validator (jsonschema-rs, the schema tables) is imported when a command runs
    from renderer.mapping.silent import ObjectCounts
    from renderer.validate import ValidatorCache

EXIT_VALID = 0
EXIT_INVALID = 2


@functools.cache
def _validators() -> ValidatorCache:
    """One cache for the life of the process, owned by the CLI layer (the library takes it as an
    argument): repeated in-process runs, such as tests, parse and compile the 1.2 MB schema once.
    It is keyed by path and mtime, so an edited schema file is picked up."""
    from renderer.validate import ValidatorCache

    return ValidatorCache()


@dataclass(frozen=True)
class ValidateOptions:
    repo: Path
    ref: str | None
    as3_schema: str | None
    declaration: Path | None
    fmt: str
    strict: bool = False
    no_cache: bool = True  # library callers: no disk cache unless asked
    cache_dir: Path | None = None


def run_validate(opts: ValidateOptions, cache: ValidatorCache | None = None) -> list[Finding]:
    """All findings: render + validation of the repository, or validation of one declaration file."""
    return run_validate_counted(opts, cache)[0]


def run_validate_counted(opts: ValidateOptions,
                         cache: ValidatorCache | None = None) -> tuple[list[Finding], ObjectCounts | None]:
    """run_validate, plus the rendered/skipped object counts of a repository (None for --declaration)."""
    cache = _validators() if cache is None else cache
    if opts.declaration is not None:
        if str(opts.declaration) == "-":
            findings = _validate_stdin_declaration(opts, cache)
        else:
            findings = _validate_declaration(opts.declaration, opts, cache)
        return (strict(findings) if opts.strict else findings), None
    from renderer.cli.render import render_from_args
    from renderer.validate import validate_rendered

    parses = parse_cache(opts.no_cache, opts.cache_dir)
    result = render_from_args(opts.repo, opts.ref, parses)
    findings = list(result.findings)
    if result.ok:
        findings += validate_rendered(result, repo=opts.repo, as3_schema=opts.as3_schema, cache=cache,
                                      disk=parses.disk if parses else None)
    return (strict(findings) if opts.strict else findings), result.counts


def _is_net_declaration(path: Path) -> bool:
    """`render`'s net.json (`"class": "Net"`): judged by schemas/net.schema.json, not the AS3 schema."""
    try:
        body = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False  # unreadable or not JSON: the AS3 path reports it with file and line
    return isinstance(body, dict) and body.get("class") == "Net"


def _validate_declaration(path: Path, opts: ValidateOptions, cache: ValidatorCache) -> list[Finding]:
    """One declaration file: a net declaration by the net schema, anything else as AS3 judges it."""
    if _is_net_declaration(path):
        from renderer.errors import SourceLocation
        from renderer.validate.result import net_findings

        return net_findings(json.loads(path.read_bytes()), {}, SourceLocation(str(path), 1, 1))
    from renderer.as3_schema import find_schema
    from renderer.config import Config
    from renderer.validate import validate_declaration_file

    location = find_schema(option=opts.as3_schema, environ=os.environ, config_schema=None, repo_root=None,
                           schema_version=Config().bigip.schema_version)
    return validate_declaration_file(str(path), cache.get(location.path))


def _validate_stdin_declaration(opts: ValidateOptions, cache: ValidatorCache) -> list[Finding]:
    """`--declaration -`: the body from stdin (e.g. `curl .../declare | as3-gitops validate --declaration -`,
    or render's net.json), judged like a file; findings name it `<stdin>`."""
    import dataclasses
    import tempfile

    from renderer.source import STDIN_PATH

    with tempfile.TemporaryDirectory(prefix="as3-gitops-stdin-") as folder:
        path = Path(folder) / "declaration.json"
        path.write_bytes(sys.stdin.buffer.read())
        findings = _validate_declaration(path, opts, cache)
    return [dataclasses.replace(f, location=dataclasses.replace(f.location, path=STDIN_PATH))
            if f.location is not None and f.location.path == str(path) else f for f in findings]


@app.command("validate")
def validate_command(
    repo: Path = typer.Argument(Path("."), help="The configuration repository (working tree, or git repo with --ref)."),
    ref: str | None = typer.Option(None, "--ref", help="Validate this git ref (read from git objects)."),
    as3_schema: str | None = typer.Option(None, "--as3-schema", help="Path of the official AS3 JSON schema."),
    declaration: Path | None = typer.Option(None, "--declaration",
                                            help="Validate this AS3 declaration file instead of rendering."),
    fmt: str = typer.Option("auto", "--format", help=f"Findings format: auto, {', '.join(FORMATS)}."),
    strict_mode: bool = typer.Option(False, "--strict", help="Treat warnings as errors (exit 2)."),
    no_cache: bool = NO_CACHE,
    cache_dir: Path | None = CACHE_DIR,
) -> int:
    """Check the repository (or one AS3 file) against the official AS3 schema and our own rules."""
    fmt = findings_format(fmt, stdout=True)
    if declaration is not None and ref is not None:
        raise UsageError("--declaration and --ref cannot be combined", hint="--ref selects what to render")
    findings, counts = run_validate_counted(ValidateOptions(repo, ref, as3_schema, declaration, fmt, strict_mode,
                                                                no_cache, cache_dir))
    write_findings(findings, sys.stdout, fmt, (counts.rendered, counts.skipped) if counts is not None else None)
    sys.stdout.flush()
    sys.stderr.write(summary_line(findings) + "\n")
    if counts is not None:
        sys.stderr.write(objects_line(counts.rendered, counts.skipped) + "\n")
    if any(f.is_error for f in findings):
        raise typer.Exit(EXIT_INVALID)
    return EXIT_VALID
