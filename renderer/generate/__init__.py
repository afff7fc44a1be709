"""`generate:`: manifests printed by commands (`kustomize build`, `helm template`) for Helm and Kustomize users.

Each entry of the `generate:` list in as3-gitops.yaml runs in the tree being rendered: the working
tree as it is, or, for a git ref, a clean extraction of that commit in a temp folder (deleted
afterwards). Its stdout is parsed like a manifest file named by its pseudo-path
(`generate[0] (kustomize build overlays/prod)`), so findings and diff origins name the entry and
the line inside the stream. Every way a generator can fail is a GEN finding at the entry in
as3-gitops.yaml, and the render stops: a failed generator never looks like a render with fewer
objects. The streams are parsed through the parse cache under their content id, like any file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from renderer.errors import Finding, Severity, SourceLocation
from renderer.generate.extract import extract_commit, temp_folder
from renderer.generate.run import RunOutcome, child_environment, run_generator
from renderer.generate.spec import GenerateSpec, parse_generate
from renderer.source import Document, InputBudget, ParseCache, Tree, load_documents, parse_file

if TYPE_CHECKING:  # renderer.config imports renderer.generate.spec: no cycle at run time
    from renderer.config import Config

__all__ = ["GenerateSpec", "Manifests", "load_manifests", "parse_generate"]


@dataclass
class Manifests:
    """The manifest documents of one render: files under paths.manifests, then each generated stream."""

    documents: list[Document] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    streams: dict[str, bytes] = field(default_factory=dict)  # pseudo-path -> what the generator printed

    @property
    def generate_failed(self) -> bool:
        return any(f.is_error and f.code.startswith("GEN") for f in self.findings)


def load_manifests(tree: Tree, config: Config, cache: ParseCache | None = None, budget: InputBudget | None = None,
                   environ: Mapping[str, str] | None = None) -> Manifests:
    """paths.manifests of `tree`, and the output of every `generate:` entry run against the same tree."""
    budget = budget or InputBudget(config.limits)
    documents, findings = load_documents(tree, config.manifests, cache, budget)
    result = Manifests(documents, findings)
    if config.generate:
        _generate(tree, config.generate, cache, budget, os.environ if environ is None else environ, result)
    return result


@contextlib.contextmanager
def _workspace(tree: Tree, where: SourceLocation) -> Iterator[tuple[Path | None, dict[str, str], list[Finding]]]:
    """(the configuration folder to run in, fixed environment, findings) for `tree`'s kind."""
    from renderer.source import GitTree, StdinTree, WorkTree

    fixed = {"TZ": "UTC"}
    base = tree.base if isinstance(tree, StdinTree) else tree
    if isinstance(base, WorkTree):
        yield base.root.resolve(), fixed, []
        return
    if not isinstance(base, GitTree):
        yield None, fixed, [Finding("GEN001", f"generate: cannot run for {tree.root_label}: neither a working "
                                    "tree nor a git commit", where)]
        return
    fixed["SOURCE_DATE_EPOCH"] = str(base.committed_date)  # reproducible-builds convention
    with temp_folder() as folder:
        try:
            findings = extract_commit(base, folder, where)
        except OSError as err:
            yield None, fixed, [Finding("GEN001", f"generate: cannot extract {base.identity[:12]} into a temp "
                                        f"folder: {err.strerror or err}", where, hint="check free space in TMPDIR")]
            return
        yield folder.joinpath(*base.prefix.split("/")) if base.prefix else folder, fixed, findings


def _generate(tree: Tree, specs: tuple[GenerateSpec, ...], cache: ParseCache | None, budget: InputBudget,
              environ: Mapping[str, str], result: Manifests) -> None:
    with _workspace(tree, specs[0].location) as (root, fixed, findings):
        result.findings += findings
        if root is None:
            return
        for spec in specs:
            cwd = root.joinpath(*spec.working_dir.split("/")) if spec.working_dir != "." else root
            if not cwd.is_dir():
                result.findings.append(Finding("GEN001", f"{spec.label}: workingDir {spec.working_dir!r} is not a "
                                               f"folder in {tree.root_label}", spec.location))
                continue
            room = budget.limits.max_total_bytes - budget.used
            outcome = run_generator(spec, cwd, child_environment(spec, environ, fixed), max(room, 0))
            if outcome.status != "ok":
                result.findings.append(_failure(spec, outcome, budget))
                if outcome.status == "too-large":
                    return  # the budget is spent: nothing more can be read
                continue
            budget.used += len(outcome.stdout)
            result.streams[spec.label] = outcome.stdout
            _parse_stream(spec, outcome.stdout, cache, budget, result)


def _parse_stream(spec: GenerateSpec, data: bytes, cache: ParseCache | None, budget: InputBudget,
                  result: Manifests) -> None:
    """Parse one stream like a file named by the entry's pseudo-path; the bound on one stream is the
    input budget (it stands for a whole folder of files), not maxFileMiB."""
    from renderer.cache import git_blob_id

    limits = replace(budget.limits, max_file_bytes=budget.limits.max_total_bytes)
    if cache is not None:  # keyed by content (its git blob id), never by the pseudo-path alone
        _src, docs, problems = cache.get(spec.label, git_blob_id(data), lambda: data, limits)
    else:
        _src, docs, problems = parse_file(spec.label, data, limits)
    for problem in problems:
        if problem.code in ("SRC001", "SRC002"):  # not a manifest stream at all: the entry is at fault
            at = problem.location
            inside = f" at line {at.line}, column {at.column}" if at and at.line and at.column else (
                f" at line {at.line}" if at and at.line else "")
            result.findings.append(Finding("GEN005", f"{spec.label}: its output is not a manifest stream{inside}: "
                                           f"{problem.message}", spec.location, hint=problem.hint or
                                           "the command must print Kubernetes YAML (or JSON) on stdout, "
                                           "and its messages on stderr"))
        else:
            result.findings.append(problem)
    if not docs and not problems:
        result.findings.append(Finding("GEN006", f"{spec.label}: printed no manifests", spec.location,
                                       Severity.WARNING, hint="check the command's arguments (an empty overlay?)"))
    result.documents.extend(docs)


def _failure(spec: GenerateSpec, outcome: RunOutcome, budget: InputBudget) -> Finding:
    tail = f"; the last lines of its stderr:\n{_indent(outcome.stderr_tail)}" if outcome.stderr_tail else ""
    if outcome.status == "missing":
        return Finding("GEN001", f"{spec.label}: command not found: {spec.argv[0]}", spec.location,
                       hint="install it on this machine (and the CI runner), or give its path")
    if outcome.status == "unstartable":
        return Finding("GEN001", f"{spec.label}: cannot be started: {outcome.detail}", spec.location,
                       hint="check that the program is executable")
    if outcome.status == "timeout":
        return Finding("GEN003", f"{spec.label}: did not finish within {spec.timeout:g} s and was killed{tail}",
                       spec.location, hint=f"raise generate[{spec.index}].timeout, or look for a prompt or "
                       "network wait")
    if outcome.status == "too-large":
        return Finding("GEN004", f"{spec.label}: printed more than the input limit of "
                       f"{budget.limits.max_total_bytes:,} bytes (all manifests together) and was killed",
                       spec.location, hint="raise limits.maxTotalMiB in as3-gitops.yaml")
    return Finding("GEN002", f"{spec.label}: exited with code {outcome.returncode}{tail}", spec.location,
                   hint="run the command in the configuration folder to see the whole message")


def _indent(text: str) -> str:
    return "\n".join(f"  | {line}" for line in text.splitlines())
