"""`generate:` entries of as3-gitops.yaml: commands whose stdout is a Kubernetes manifest stream.

An entry is an argv list (`[kustomize, build, overlays/prod]`), a string split like a POSIX shell
splits words (`shlex.split`: quotes and backslashes, but no variables, globs, pipes or
redirections; it never reaches a shell), or a mapping with `command` (either form) and the
optional `workingDir`, `timeout`, `env` and `passEnv`. A shell runs only when the user names one:
`[sh, -c, "..."]`. The schema (schemas/config.schema.json) has checked the shape already; this
module turns entries into `GenerateSpec`s and checks what a schema cannot say.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from typing import Any

from renderer.errors import Finding, SourceError, SourceLocation
from renderer.source import Document, confined_path

DEFAULT_TIMEOUT = 120.0  # seconds; `helm template` and `kustomize build` take a second or two
LABEL_COMMAND_CHARS = 60  # the command as shown in a pseudo-path (the index keeps labels unique)
CREDENTIAL_PREFIX = "BIGIP_"  # BIG-IP credentials and address: never given to a generator


@dataclass(frozen=True)
class GenerateSpec:
    """One `generate:` entry, ready to run."""

    index: int
    argv: tuple[str, ...]
    location: SourceLocation  # the entry in as3-gitops.yaml: every failure points here
    working_dir: str = "."  # relative to the configuration folder
    timeout: float = DEFAULT_TIMEOUT
    env: tuple[tuple[str, str], ...] = ()  # literal values from the entry
    pass_env: tuple[str, ...] = ()  # names copied from as3-gitops' own environment when set

    @property
    def label(self) -> str:
        """The pseudo-path of the generated stream in findings and diffs: `generate[0] (kustomize build
        overlays/prod)`. The index makes it unique; the command says which entry it is."""
        program = self.argv[0]
        if os.path.isabs(program):  # /usr/local/bin/helm reads as helm; the index keeps it unique
            program = os.path.basename(program) or program
        command = "".join(c if c.isprintable() else repr(c)[1:-1] for c in shlex.join((program, *self.argv[1:])))
        if len(command) > LABEL_COMMAND_CHARS:
            command = command[: LABEL_COMMAND_CHARS - 3] + "..."
        return f"generate[{self.index}] ({command})"


def parse_generate(doc: Document, raw: Any) -> tuple[tuple[GenerateSpec, ...], list[Finding]]:
    """The schema-checked `generate:` list as specs; GEN008 / CFG004 for what the schema lets through."""
    specs: list[GenerateSpec] = []
    findings: list[Finding] = []
    for index, entry in enumerate(raw or ()):
        where = doc.locate("generate", index)
        body = entry if isinstance(entry, dict) else {"command": entry}
        keys: tuple[str | int, ...] = ("generate", index, "command") if isinstance(entry, dict) else ("generate", index)
        argv = _argv(body["command"], index, doc.locate(*keys), findings)
        working_dir = body.get("workingDir") or "."
        try:
            confined_path(working_dir)
        except SourceError as err:
            findings.append(Finding("CFG004", f"generate.{index}.workingDir: {err.message}",
                                    doc.locate("generate", index, "workingDir"), hint=err.hint))
        env = tuple(sorted((str(k), str(v)) for k, v in (body.get("env") or {}).items()))
        pass_env = tuple(body.get("passEnv") or ())
        for key, names in (("env", [k for k, _ in env]), ("passEnv", list(pass_env))):
            for name in names:
                if name.upper().startswith(CREDENTIAL_PREFIX):
                    findings.append(Finding(
                        "GEN008", f"generate.{index}.{key}: {name} is never given to a generator "
                        f"({CREDENTIAL_PREFIX}* holds the BIG-IP credentials)",
                        doc.locate("generate", index, key), hint="generators render manifests; they never "
                        "need the BIG-IP"))
        if argv:
            specs.append(GenerateSpec(index, argv, where, working_dir, float(body.get("timeout") or DEFAULT_TIMEOUT),
                                      env, pass_env))
    return tuple(specs), findings


def _argv(command: Any, index: int, where: SourceLocation, findings: list[Finding]) -> tuple[str, ...]:
    if isinstance(command, list):
        return tuple(str(part) for part in command)
    try:
        argv = tuple(shlex.split(command, comments=False, posix=True))
    except ValueError as err:  # "No closing quotation", "No escaped character"
        findings.append(Finding("GEN008", f"generate.{index}: cannot split the command into words: {err}",
                                where, hint="close the quote, or write the command as a list"))
        return ()
    if not argv:
        findings.append(Finding("GEN008", f"generate.{index}: the command is empty", where))
    return argv
