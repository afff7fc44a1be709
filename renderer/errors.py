"""Locations, findings and the error types of every stage.

Bad input is data: stages return `Finding`s and carry on so one run reports every problem.
An exception is raised only when a stage cannot continue; each stage has its own subclass of
`As3GitopsError` so the CLI maps it to an exit code in one table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, order=True, slots=True)
class SourceLocation:
    """A 1-based position in a file of the repository (column optional)."""

    path: str
    line: int = 0
    column: int | None = None

    def __str__(self) -> str:
        text = self.path
        if self.line:
            text += f":{self.line}"
            if self.column:
                text += f":{self.column}"
        return text


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem (or note) about the input, with where it is and what to do."""

    code: str
    message: str
    location: SourceLocation | None = None
    severity: Severity = Severity.ERROR
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        loc = self.location or SourceLocation("")
        return (loc.path, loc.line, loc.column or 0, _SEVERITY_ORDER[self.severity], self.code, self.message,
                self.hint or "")


def sorted_findings(findings: list[Finding] | tuple[Finding, ...]) -> list[Finding]:
    """Findings in file/line order, duplicates removed (the same problem found twice is shown once)."""
    unique = {(f.code, f.message, f.location, f.severity, f.hint): f for f in findings}
    return sorted(unique.values(), key=Finding.sort_key)


@dataclass(frozen=True, slots=True)
class Origin:
    """The Kubernetes object (and its place in the repository) that produced a BIG-IP object."""

    location: SourceLocation
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        ident = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.location.path}: {self.kind} {ident}"


class As3GitopsError(Exception):
    """Base of every expected failure: carries a location and a one-line hint."""

    def __init__(self, message: str, *, location: SourceLocation | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def as_finding(self, code: str = "E000") -> Finding:
        return Finding(code=code, message=self.message, location=self.location, hint=self.hint)


class UsageError(As3GitopsError):
    """The command line or the environment is wrong (exit 2)."""


class SourceError(As3GitopsError):
    """The repository, a ref or a file cannot be read (exit 2)."""


class ConfigError(As3GitopsError):
    """as3-gitops.yaml is invalid (exit 2)."""


class TemplateError(As3GitopsError):
    """A Jinja2 template failed or produced invalid JSON (exit 2)."""


class ValidateError(As3GitopsError):
    """Validation could not run, e.g. the AS3 schema cannot be found (exit 2)."""


class InvalidInput(As3GitopsError):
    """The input has error findings; carries all of them (exit 2)."""

    def __init__(self, findings: list[Finding], *, side: str | None = None):
        self.findings = list(findings)
        self.side = side
        errors = [f for f in self.findings if f.is_error]
        prefix = f"{side}: " if side else ""
        super().__init__(f"{prefix}{len(errors)} error(s) in the input")


class DeviceError(As3GitopsError):
    """The BIG-IP refused or failed; the device is unchanged (exit 3)."""


class RestoreFailed(As3GitopsError):
    """A failed deploy could not be rolled back; the device is in neither state (exit 4)."""
