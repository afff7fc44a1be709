"""The `run:` step of pr-comment.yml against artifacts laid out as download-artifact leaves them.

GitHub's REST API is played by tests/workflows/fake_gh.py (a `gh` on PATH backed by a JSON file);
the script under test, bash and jq are real. Checks: one sticky comment per environment, created
once and then updated; other people's comments are never edited; a tampered artifact (bad PR
number, bad environment, wrong marker) or a PR whose head moved on leads to no write at all.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from workflow_runner import JobRun, base_environment, load_workflow, run_job

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = REPO_ROOT / ".github" / "workflows" / "pr-comment.yml"
REPO = "example-org/config"
HEAD = "a" * 40
BOT = "github-actions[bot]"

pytestmark = pytest.mark.skipif(shutil.which("jq") is None, reason="jq not installed (GitHub runners have it)")


class Harness:
    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.download = tmp_path / "runner-temp" / "as3-gitops-diff"
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        gh = self.bin / "gh"
        gh.write_text(f"#!{sys.executable}\n" + (Path(__file__).parent / "fake_gh.py").read_text())
        gh.chmod(0o755)
        self.state_path = tmp_path / "github.json"
        self.save({"repo": REPO, "pulls": {"7": {"number": 7, "head": {"sha": HEAD}}},
                   "comments": [], "next_id": 100, "calls": []})

    def load(self) -> dict[str, Any]:
        return json.loads(self.state_path.read_text())

    def save(self, state: dict[str, Any]) -> None:
        self.state_path.write_text(json.dumps(state))

    def artifact(self, environment: str, body: str, pr: str = "7", name: str | None = None) -> None:
        folder = self.download / f"as3-gitops-diff-{name or environment}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pr-number").write_text(pr + "\n")
        (folder / "environment").write_text(environment + "\n")
        (folder / "diff.md").write_text(body)

    def run(self) -> JobRun:
        return self.run_with_head(HEAD)

    def run_with_head(self, head: str) -> JobRun:
        env = base_environment(Path(sys.executable).parent)
        env["PATH"] = f"{self.bin}:{env['PATH']}"
        env["FAKE_GH_STATE"] = str(self.state_path)
        job = load_workflow(WORKFLOW)["jobs"]["comment"]
        return run_job(job, cwd=self.tmp, temp=self.tmp / "runner-temp", base_env=env, env_values={
            "GH_TOKEN": "test-token", "REPO": REPO, "RUN_HEAD_SHA": head,
            "DIFF_DIR": str(self.download), "COMMENT_AUTHOR": BOT,
        })

    def writes(self) -> list[list[str]]:
        return [call for call in self.load()["calls"] if call[0] != "GET"]

    def comments(self) -> list[tuple[int, str, str]]:
        return [(c["id"], c["user"]["login"], c["body"]) for c in self.load()["comments"]]


@pytest.fixture
def gh(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def body(environment: str, text: str) -> str:
    return f"<!-- as3-gitops:diff:{environment} -->\n{text}\n"


def test_comment_env_is_what_the_step_expects() -> None:
    step = load_workflow(WORKFLOW)["jobs"]["comment"]["steps"][1]
    assert step["env"] == {
        "GH_TOKEN": "${{ github.token }}", "REPO": "${{ github.repository }}",
        "RUN_HEAD_SHA": "${{ github.event.workflow_run.head_sha }}",
        "DIFF_DIR": "${{ runner.temp }}/as3-gitops-diff", "COMMENT_AUTHOR": BOT,
    }
    download = load_workflow(WORKFLOW)["jobs"]["comment"]["steps"][0]
    assert download["with"]["path"] == "${{ runner.temp }}/as3-gitops-diff"
    assert download["with"]["pattern"] == "as3-gitops-diff-*"


def test_first_run_creates_the_comment_and_second_run_updates_it(gh: Harness) -> None:
    gh.artifact("default", body("default", "1 to add"))
    first = gh.run()
    assert not first.failed, first.steps[1].stderr
    assert "created the default comment on PR #7" in first.steps[1].stdout
    assert gh.comments() == [(101, BOT, body("default", "1 to add"))]

    gh.artifact("default", body("default", "2 to add"))
    second = gh.run()
    assert not second.failed, second.steps[1].stderr
    assert "updated the default comment on PR #7" in second.steps[1].stdout
    assert gh.comments() == [(101, BOT, body("default", "2 to add"))]
    assert gh.writes() == [["POST", f"repos/{REPO}/issues/7/comments"],
                           ["PATCH", f"repos/{REPO}/issues/comments/101"]]


def test_sticky_comment_is_found_past_the_first_page_and_others_are_not_edited(gh: Harness) -> None:
    state = gh.load()
    state["comments"] = [
        {"id": 1, "issue": 7, "user": {"login": "alice"}, "body": body("default", "quoting the bot")},
        {"id": 2, "issue": 7, "user": {"login": BOT}, "body": "some other bot message"},
        {"id": 3, "issue": 7, "user": {"login": BOT}, "body": body("staging", "old staging diff")},
        {"id": 4, "issue": 7, "user": {"login": BOT}, "body": body("default", "old default diff")},
        {"id": 5, "issue": 8, "user": {"login": BOT}, "body": body("default", "another PR")},
    ]
    gh.save(state)
    gh.artifact("default", body("default", "new default diff"))

    run = gh.run()

    assert not run.failed, run.steps[1].stderr
    assert gh.writes() == [["PATCH", f"repos/{REPO}/issues/comments/4"]]
    assert [c[2] for c in gh.comments()] == [
        body("default", "quoting the bot"), "some other bot message", body("staging", "old staging diff"),
        body("default", "new default diff"), body("default", "another PR")]


def test_one_comment_per_environment(gh: Harness) -> None:
    gh.artifact("prod", body("prod", "prod diff"))
    gh.artifact("staging", body("staging", "staging diff"))

    run = gh.run()

    assert not run.failed, run.steps[1].stderr
    assert gh.comments() == [(101, BOT, body("prod", "prod diff")), (102, BOT, body("staging", "staging diff"))]


def test_pull_request_that_moved_on_gets_no_comment_from_an_old_run(gh: Harness) -> None:
    state = gh.load()
    state["pulls"]["7"]["head"]["sha"] = "b" * 40
    gh.save(state)
    gh.artifact("default", body("default", "stale"))

    run = gh.run()

    assert not run.failed
    assert f"PR #7 moved on from {HEAD}" in run.steps[1].stdout
    assert gh.writes() == []


@pytest.mark.parametrize(
    ("environment", "pr", "text", "message"),
    [
        ("default", "7; rm -rf /", body("default", "x"), "not a pull request number"),
        ('x" or true', "7", body("default", "x"), "not an environment name"),
        ("default", "7", body("prod", "aimed at another environment's comment"), "does not start with"),
        ("default", "7", "no marker at all\n", "does not start with"),
    ],
    ids=["pr-number", "environment", "other-marker", "no-marker"],
)
def test_tampered_artifact_fails_without_any_write(
    gh: Harness, environment: str, pr: str, text: str, message: str
) -> None:
    gh.artifact(environment, text, pr=pr, name="default")

    run = gh.run()

    assert run.steps[1].returncode == 1
    assert message in run.steps[1].stdout
    assert gh.writes() == []


def test_run_without_artifact_comments_nothing(gh: Harness) -> None:
    run = gh.run()
    assert not run.failed
    assert "left no diff artifact" in run.steps[1].stdout
    assert gh.load()["calls"] == []

