"""The deploy report: what ran, how long each step took, what failed and what was restored.

Written as JSON (`--report`) for machines and as markdown (`--report-markdown`) for the job
summary. Both come from the same dataclass, so they cannot disagree. Reports never carry
credentials: only commit ids, tenant names, step names, device messages and counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

import orjson


@dataclass
class Step:
    name: str
    result: str  # ok | failed
    seconds: float
    detail: str = ""


@dataclass
class DeployReport:
    commit: str
    device_commit: str | None = None
    outcome: str = ""  # no change | dry-run | deployed | rolled back | restore failed | lock lost | failed
    tenants_changed: list[str] = field(default_factory=list)
    network_changed: bool = False
    forced: list[str] = field(default_factory=list)
    recovered: str | None = None  # what an interrupted earlier deploy had left (from the journal)
    steps: list[Step] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    differs: list[str] = field(default_factory=list)  # in neither the old nor the new state
    not_restored: list[str] = field(default_factory=list)  # still differ from the old state
    error: str | None = None
    requests: int = 0
    writes: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    state_hash_before: str | None = None
    state_hash_after: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for step in data["steps"]:
            step["seconds"] = round(step["seconds"], 3)
        return data


def error_message(err: BaseException) -> str:
    """A failure in one line: our errors' own message, else only the exception's class name (never its
    text, which could quote a device answer or a URL)."""
    return getattr(err, "message", None) or type(err).__name__


def run_step(report: DeployReport, progress: Callable[[str], None], name: str, fn: Callable[[], str],
             check: Callable[[], None]) -> None:
    """Run one deploy step: announce it (`<name>...`), `check` that the device locks are still ours, run
    `fn`, and record the step with its time and detail, or its failure before re-raising it. Shared by
    the single-device and the HA deploy, so their reports and progress lines are the same."""
    started = time.monotonic()
    progress(f"{name}...")
    try:
        check()
        detail = fn()
    except Exception as err:
        report.steps.append(Step(name, "failed", time.monotonic() - started, error_message(err)))
        progress(f"{name}: failed: {error_message(err)}")
        raise
    report.steps.append(Step(name, "ok", time.monotonic() - started, detail))
    progress(f"{name}: {detail}")


def write_json(report: DeployReport, stream: TextIO) -> None:
    data = {"format_version": 1, **report.as_dict()}  # bumped when a key changes meaning or goes away
    stream.write(orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode())
    stream.write("\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_markdown(report: DeployReport, stream: TextIO) -> None:
    """A job-summary rendering: outcome first, then steps, then what failed and what was restored."""
    w = stream.write
    w(f"## as3-gitops deploy: {report.outcome or 'not finished'}\n\n")
    w(f"- commit: `{report.commit}`\n")
    w(f"- device ran before: `{report.device_commit or 'nothing from as3-gitops'}`\n")
    w(f"- tenants changed: {', '.join(f'`{t}`' for t in report.tenants_changed) or 'none'}\n")
    w(f"- network changed: {'yes' if report.network_changed else 'no'}\n")
    if report.forced:
        w(f"- forced over: {', '.join(report.forced)}\n")
    if report.recovered:
        w(f"- recovered: {_cell(report.recovered)}\n")
    w(
        f"- requests: {report.requests} ({report.writes} writes), {report.bytes_sent} bytes sent, "
        f"{report.bytes_received} bytes received\n"
    )
    w(f"- device state: `{report.state_hash_after or report.state_hash_before or 'unknown'}`\n\n")
    if report.steps:
        w("| step | result | seconds | detail |\n|---|---|---:|---|\n")
        for s in report.steps:
            w(f"| {s.name} | {s.result} | {s.seconds:.2f} | {_cell(s.detail)} |\n")
        w("\n")
    if report.failures or report.error:
        w("### What failed\n\n")
        for item in report.failures or [report.error or ""]:
            w(f"- {_cell(item)}\n")
        w("\n")
    if report.restored:
        w("### What was restored\n\n")
        for item in report.restored:
            w(f"- {item}\n")
        w("\n")
    for title, items in (
        ("Objects not restored", report.not_restored),
        ("Objects in neither the old nor the new state", report.differs),
    ):
        if items:
            w(f"### {title}\n\n")
            for item in items:
                w(f"- `{item}`\n")
            w("\n")
