"""The whole snapshot command as one library call: config, references, plan, write, commit.

The CLI builds the options and the `load` callable (API or kubectl text) and prints the outcome;
the order here is what keeps failures clean: everything that can be checked is checked before
the cluster is read, and nothing is written until the plan is complete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from renderer.errors import InvalidInput, SourceError, UsageError
from renderer.snapshot.commit import (
    CommitResult,
    check_target,
    commit_message,
    commit_snapshot,
    compare,
    previous_objects,
)
from renderer.snapshot.plan import SnapshotOptions, SnapshotPlan, plan_snapshot, referenced_services, repo_config
from renderer.snapshot.write import WriteResult, write_files
from renderer.source import Document, parse_file

Loader = Callable[[SnapshotOptions], tuple[list[Document], str]]


@dataclass
class Outcome:
    plan: SnapshotPlan
    written: WriteResult | None  # None when only printing
    commit: CommitResult | None  # None without --commit


def parse_kubectl(label: str, data: bytes) -> list[Document]:
    """Documents of `kubectl get ... -o yaml|json` output; syntax errors stop with file:line:col."""
    _src, documents, findings = parse_file(label, data)
    if findings:
        raise InvalidInput(findings)
    return documents


def take_snapshot(repo: Path, load: Loader, options: SnapshotOptions, *, write: bool = True,
                  commit: bool = False, branch: str | None = None,
                  now: dt.datetime | None = None) -> Outcome:
    """Plan the snapshot from `load`'s documents, write it under paths.snapshot, optionally commit."""
    config = repo_config(repo)
    root = config.snapshot[0]
    if (repo / root).exists() and not (repo / root).is_dir():
        raise UsageError(f"paths.snapshot {root!r} is a file; the snapshot is written as a folder of files",
                         location=config.location, hint="point paths.snapshot at a folder (e.g. snapshot)")
    if commit:
        check_target(repo, root, branch)
    services = None if options.all_services else referenced_services(repo, config)
    documents, source = load(options)
    plan = plan_snapshot(documents, config, services, options)
    if not write:
        return Outcome(plan, None, None)
    before = previous_objects(repo, root) if commit else []
    try:
        written = write_files(repo / root, plan.files)
    except OSError as err:
        raise SourceError(f"{repo / root}: cannot write the snapshot: {err.strerror or err}") from err
    if not commit:
        return Outcome(plan, written, None)
    captured = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    changes = compare(before, plan.objects)
    message = commit_message(changes, captured, source)
    made = commit_snapshot(repo, root, message, branch)
    if made is None:
        return Outcome(plan, written, CommitResult(sha=None, branch=None, changes=changes))
    result = CommitResult(sha=made[0], branch=made[1], message=message, changes=changes)
    return Outcome(plan, written, result)
