"""`as3-gitops render`: write as3.json and net.json (or the AS3 declaration to stdout)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from renderer.cli.app import app
from renderer.cli.cache_option import CACHE_DIR, NO_CACHE, parse_cache
from renderer.cli.output import findings_format, render_targets
from renderer.errors import Finding, InvalidInput, UsageError
from renderer.fileio import write_all_atomic
from renderer.report import FORMATS, objects_line, strict, summary_line, write_findings

if TYPE_CHECKING:  # the pipeline (YAML, Jinja2, the model) is imported when a command runs, not for --help
    from renderer.render import RenderResult
    from renderer.source import ParseCache


def validation_findings(result: RenderResult, repo: Path, as3_schema: str | None,
                        cache: ParseCache | None = None) -> list[Finding]:
    """Validate both declarations the way AS3 judges them (see renderer.validate); the results of
    valid tenants are kept in the same disk cache as the parses (none with --no-cache)."""
    from renderer.validate import validate_rendered

    return validate_rendered(result, repo=repo, as3_schema=as3_schema, disk=cache.disk if cache else None)


def _return_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim) before the output is
    dumped: what validation freed (the compiled schema, the filled tenants) stays in malloc's heap,
    while the two output buffers are allocated anew, so they would add to the peak (3 MB at 1k)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows): nothing to give back
        pass


def render_from_args(repo: Path, ref: str | None, cache: ParseCache | None = None) -> RenderResult:
    """REPO `-`: the manifests are a stream on stdin, the rest (config, snapshot) from the current folder.
    `cache` (the parse cache) applies to repositories; a stream on stdin is always parsed."""
    if str(repo) != "-":
        from renderer.render import render

        return render(repo, ref, cache=cache)
    if ref is not None:
        raise UsageError("--ref and REPO '-' cannot be combined: stdin has no history",
                         hint="for both refs of a diff, use generate: in as3-gitops.yaml")
    from renderer.render import render_stdin

    return render_stdin(Path("."), sys.stdin.buffer.read())


@app.command("render")
def render_command(
    repo: Path = typer.Argument(Path("."), help="The configuration repository (working tree, or git repo with --ref)."),
    ref: str | None = typer.Option(None, "--ref", help="Render this git ref (read from git objects)."),
    output: str = typer.Option("out", "-o", "--output",
                               help="Output folder for as3.json and net.json; '-' prints the AS3 declaration."),
    validate: bool = typer.Option(True, "--validate/--no-validate", help="Refuse to write output the schemas reject."),
    as3_schema: str | None = typer.Option(None, "--as3-schema", help="Path of the official AS3 JSON schema."),
    emit_bigip_node: bool = typer.Option(False, "--emit-bigip-node",
                                         help="Also write bigip-node.yaml (the flannel Node for the BIG-IP VTEP)."),
    fmt: str = typer.Option("auto", "--format", help=f"Findings format: auto, {', '.join(FORMATS)}."),
    strict_mode: bool = typer.Option(False, "--strict", help="Treat warnings as errors (exit 2)."),
    no_cache: bool = NO_CACHE,
    cache_dir: Path | None = CACHE_DIR,
) -> int:
    """Render the repository into one AS3 declaration and one net (tunnel/FDB/ARP) declaration."""
    fmt = findings_format(fmt)
    if output == "-" and emit_bigip_node:
        raise UsageError("--emit-bigip-node needs an output folder: -o - prints only the AS3 declaration",
                         hint="pass -o DIR to write as3.json, net.json and bigip-node.yaml there")
    targets = render_targets(output)  # output-path mistakes are usage errors, found before the render
    cache = parse_cache(no_cache, cache_dir)
    from renderer.gcpause import paused_gc

    # The cyclic GC stays paused for the whole command, as for diff (renderer.cli.diff.run): with the
    # rendered declarations alive, a full collection while the validator loads its schema (1.2 MB of
    # JSON: many new containers) walked millions of objects, 0.4 s at 10k Ingresses.
    with paused_gc():
        return _render_and_write(repo, ref, cache, output, targets, validate=validate, as3_schema=as3_schema,
                                 emit_bigip_node=emit_bigip_node, fmt=fmt, strict_mode=strict_mode)


def _render_and_write(repo: Path, ref: str | None, cache: ParseCache | None, output: str,
                      targets: tuple[Path, Path] | None,
                      *, validate: bool, as3_schema: str | None, emit_bigip_node: bool, fmt: str,
                      strict_mode: bool) -> int:
    result = render_from_args(repo, ref, cache)
    findings = list(result.findings)
    if result.ok and validate:
        findings += validation_findings(result, repo, as3_schema, cache)
        _return_free_memory()
    if strict_mode:
        findings = strict(findings)
    has_errors = any(f.is_error for f in findings)
    if has_errors:
        raise InvalidInput(findings)
    from renderer.source import dump_json

    files: dict[Path, bytes] = {}
    out_dir = targets[0].parent if targets else Path(output)
    if targets:
        files[targets[0]] = dump_json(result.as3)
        files[targets[1]] = dump_json(result.net)
    if emit_bigip_node:
        from renderer.bigip_node import bigip_node_yaml

        node_yaml, problems = bigip_node_yaml(result.config)
        if problems:
            raise InvalidInput(findings + problems)
        files[out_dir / "bigip-node.yaml"] = node_yaml.encode()
    whole = fmt in ("json", "sarif")  # one document on stderr that a tool parses whole: no text lines
    if not whole:
        write_findings(findings, sys.stderr, fmt)
    if output == "-":
        sys.stdout.buffer.write(dump_json(result.as3))
        sys.stdout.flush()
    if files:
        try:
            write_all_atomic(files)
        except OSError as err:
            target = err.filename or out_dir
            raise UsageError(f"cannot write {target}: {err.strerror or err}; nothing was written",
                             hint="check the -o folder") from err
    counts = result.counts
    if whole:  # written last, so a failed write is one document (the error) and never two
        write_findings(findings, sys.stderr, fmt, (counts.rendered, counts.skipped) if counts is not None else None)
        return 0
    for path in files:
        what = " (the net declaration: -o FILE.json names the AS3 file)" if (
            targets and targets[0].name != "as3.json" and path == targets[1]) else ""
        sys.stderr.write(f"wrote {path}{what}\n")
    if findings:
        sys.stderr.write(summary_line(findings) + "\n")
    if counts is not None:
        sys.stderr.write(objects_line(counts.rendered, counts.skipped) + "\n")
    return 0
