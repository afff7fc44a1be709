"""staleness_finding: SNAP001 when the newest commit touching paths.snapshot is older than snapshot.maxAge."""

from __future__ import annotations

import datetime as dt

import pytest

from renderer.config import Config
from renderer.errors import Severity
from renderer.render import render
from renderer.snapshot import format_age, parse_age, staleness_finding
from renderer.source import GitTree, WorkTree

COMMITTED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()  # GIT_COMMITTER_DATE of the test fixture


def _repo_with_snapshot(git_repo, max_age: str | None):
    config = "paths:\n  snapshot: [snapshot]\n" + (f"snapshot:\n  maxAge: {max_age}\n" if max_age else "")
    git_repo.commit({"as3-gitops.yaml": config, "snapshot/nodes.yaml": "---\n"})
    return git_repo


def test_snapshot_older_than_max_age_gives_a_warning(git_repo) -> None:
    repo = _repo_with_snapshot(git_repo, "6h")
    config = Config(snapshot=("snapshot",), snapshot_max_age="6h")
    finding = staleness_finding(GitTree(repo.path, "HEAD"), config, COMMITTED + 6 * 3600 + 61)
    assert finding is not None
    assert (finding.code, finding.severity, str(finding.location)) == ("SNAP001", Severity.WARNING, "snapshot")
    assert finding.message == ("the endpoint snapshot (snapshot) was last committed 6h 1m ago "
                               "(2026-01-01T00:00:00Z), older than snapshot.maxAge 6h: pod IPs may have moved")


def test_snapshot_within_max_age_gives_nothing(git_repo) -> None:
    repo = _repo_with_snapshot(git_repo, "6h")
    config = Config(snapshot=("snapshot",), snapshot_max_age="6h")
    assert staleness_finding(GitTree(repo.path, "HEAD"), config, COMMITTED + 6 * 3600) is None


def test_only_commits_touching_the_snapshot_count(git_repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo_with_snapshot(git_repo, "2d")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-01-05T00:00:00Z")
    repo.commit({"manifests/a.yaml": "{}\n"})  # later commit, snapshot untouched
    config = Config(snapshot=("snapshot",), snapshot_max_age="2d")
    finding = staleness_finding(GitTree(repo.path, "HEAD"), config, COMMITTED + 4 * 86400)
    assert finding is not None and "last committed 4d ago" in finding.message


def test_working_tree_and_missing_max_age_give_nothing(git_repo) -> None:
    repo = _repo_with_snapshot(git_repo, None)
    late = COMMITTED + 365 * 86400
    assert staleness_finding(GitTree(repo.path, "HEAD"), Config(snapshot=("snapshot",)), late) is None
    with_age = Config(snapshot=("snapshot",), snapshot_max_age="1h")
    assert staleness_finding(WorkTree(repo.path), with_age, late) is None
    assert staleness_finding(GitTree(repo.path, "HEAD"), Config(snapshot=("nowhere",), snapshot_max_age="1h"),
                             late) is None


def test_render_of_a_git_ref_reports_the_stale_snapshot(git_repo) -> None:
    repo = _repo_with_snapshot(git_repo, "90m")
    result = render(repo.path, "HEAD", now=COMMITTED + 2 * 86400)
    assert [f.code for f in result.findings if f.code == "SNAP001"] == ["SNAP001"]


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("90m", 5400), ("6h", 21600), ("2d", 172800)])
def test_max_age_units(text: str, seconds: int) -> None:
    assert parse_age(text) == seconds


def test_bad_max_age_is_rejected() -> None:
    with pytest.raises(ValueError, match="not a duration: '6 hours'"):
        parse_age("6 hours")


@pytest.mark.parametrize(("seconds", "text"), [(5, "5s"), (120, "2m"), (3660, "1h 1m"), (7200, "2h"),
                                               (90000, "1d 1h"), (172800, "2d")])
def test_age_is_shown_coarsely(seconds: int, text: str) -> None:
    assert format_age(seconds) == text
