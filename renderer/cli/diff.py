"""`as3-gitops diff`: what changes on the BIG-IP between two git refs (or a ref and the working tree)."""

from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import typer

from renderer.cli.app import app, state
from renderer.cli.cache_option import CACHE_DIR, NO_CACHE, parse_cache
from renderer.cli.output import check_output_file
from renderer.errors import As3GitopsError, Finding, UsageError
from renderer.fileio import write_atomic
from renderer.gcpause import paused_gc
from renderer.report import summary_line, write_findings

EXIT_OK, EXIT_CHANGES, EXIT_INVALID = 0, 1, 2
MIN_CHARS = 1000
ENVIRONMENT_RX = re.compile(r"^[A-Za-z0-9_.-]+$")  # as in schemas/config.schema.json: safe in the marker


@dataclass(frozen=True)
class DiffOptions:
    repo: Path
    base: str
    head: str | None
    fmt: str
    exit_code: bool
    max_chars: int
    environment: str | None
    output: Path | None
    no_cache: bool = True  # library callers: no disk cache unless asked
    cache_dir: Path | None = None


@dataclass(frozen=True)
class SideFailure:
    """A side that did not render: which side, which ref, and the findings that say why."""

    side: str
    label: str
    findings: tuple[Finding, ...]


def _label(ref: str | None, identity: str) -> str:
    if ref is None:
        return identity
    short = identity[:12]
    return short if identity.startswith(ref) or ref == identity else f"{ref} ({short})"


def render_sides(repo: Path, base: str, head: str | None, *, no_cache: bool = True,
                 cache_dir: Path | None = None, defer_tenants: bool = False):
    """Render both sides with one parse cache (identical blobs parse once; with the disk cache,
    files parsed by an earlier run are not parsed again); failures are data. `defer_tenants`: see
    `renderer.render.render` (the sides are then for `diff_declarations` only)."""
    from renderer.diff import Side
    from renderer.render import render

    cache = parse_cache(no_cache, cache_dir, remember=True)
    sides: dict[str, Side] = {}
    failures: list[SideFailure] = []
    config = None
    for name, ref in (("base", base), ("head", head)):
        try:
            result = render(repo, ref, cache=cache, defer_tenants=defer_tenants)
        except As3GitopsError as err:
            failures.append(SideFailure(name, ref or "working tree", (err.as_finding("SRC000"),)))
            continue
        label = _label(ref, result.identity)
        if not result.ok:
            failures.append(SideFailure(name, label, tuple(result.findings)))
            continue
        sides[name] = Side.from_render(result, label)
        if name == "head":
            config = result.config
    return sides, failures, config


def run(opts: DiffOptions, out: TextIO, err: TextIO) -> int:
    """The cyclic GC is paused for the whole diff, as `render_tree` pauses it for one render: between
    and after the two renders a full collection would walk both sides' millions of objects (which
    hold no cycles worth collecting) once per side."""
    with paused_gc():
        return _run(opts, out, err)


def _run(opts: DiffOptions, out: TextIO, err: TextIO) -> int:
    from renderer.diff import diff_declarations
    from renderer.diff_report import write_diff
    from renderer.emit_reuse import TenantUnavailable

    def sides_of(defer: bool):
        return render_sides(opts.repo, opts.base, opts.head, no_cache=opts.no_cache, cache_dir=opts.cache_dir,
                            defer_tenants=defer)

    sides, failures, config = sides_of(True)
    if not failures:
        try:
            result = diff_declarations(sides["base"], sides["head"])
        except TenantUnavailable:  # a tenant entry the renders named did not load: render without deferring
            sides, failures, config = sides_of(False)
            if not failures:
                result = diff_declarations(sides["base"], sides["head"])
    if failures:
        for failure in failures:
            errors = [f for f in failure.findings if f.is_error]
            err.write(f"{failure.side} ({failure.label}): invalid input, {summary_line(failure.findings)}; "
                      "no diff\n")
            write_findings(errors or list(failure.findings), err, "text")
        return EXIT_INVALID
    environment = opts.environment or (config.environment if config else "default")
    code = EXIT_CHANGES if opts.exit_code and result.has_changes else EXIT_OK
    state.exit_if_pipe_closes = code
    buffer = io.StringIO()
    write_diff(result, buffer, opts.fmt, max_chars=opts.max_chars, environment=environment)
    if opts.output is not None:
        try:
            write_atomic(opts.output, buffer.getvalue())
        except OSError as problem:
            raise UsageError(f"--output {opts.output}: cannot write: {problem.strerror or problem}") from None
    else:
        out.write(buffer.getvalue())
    return code


_REPO = typer.Argument(Path("."), help="Repository folder (a git repository).")
_BASE = typer.Option(..., "--base", metavar="REF", help="The git ref to compare from (e.g. main).")
_HEAD = typer.Option(None, "--head", metavar="REF",
                     help="The git ref to compare to (default: the working tree).")
_FORMAT = typer.Option("text", "--format", metavar="text|markdown|json", help="Output format.")
_EXIT_CODE = typer.Option(False, "--exit-code", help="Exit 1 when there are changes.")
_MAX_CHARS = typer.Option(60000, "--max-chars", metavar="N",
                          help="Markdown only: keep the comment under N characters.")
_ENVIRONMENT = typer.Option(None, "--environment", metavar="NAME",
                            help="Names the PR comment (default: environment in as3-gitops.yaml).")
_OUTPUT = typer.Option(None, "--output", "-o", metavar="FILE",
                       help="Write the diff to FILE (atomically) instead of stdout.")


@app.command("diff")
def diff_command(
    repo: Path = _REPO,
    base: str = _BASE,
    head: str | None = _HEAD,
    fmt: str = _FORMAT,
    exit_code: bool = _EXIT_CODE,
    max_chars: int = _MAX_CHARS,
    environment: str | None = _ENVIRONMENT,
    output: Path | None = _OUTPUT,
    no_cache: bool = NO_CACHE,
    cache_dir: Path | None = CACHE_DIR,
) -> int:
    """Show what changes on the BIG-IP between --base and --head: AS3 objects, FDB records, ARPs."""
    from renderer.diff_report import FORMATS

    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    if max_chars < MIN_CHARS:
        raise UsageError(f"--max-chars must be at least {MIN_CHARS}")
    if environment is not None and not ENVIRONMENT_RX.fullmatch(environment):
        raise UsageError(f"--environment {environment!r} must match {ENVIRONMENT_RX.pattern}",
                         hint="it names the PR comment marker <!-- as3-gitops:diff:NAME -->")
    check_output_file(output, "--output")
    opts = DiffOptions(repo, base, head, fmt, exit_code, max_chars, environment, output, no_cache, cache_dir)
    return run(opts, sys.stdout, sys.stderr)
