"""Every workflow (ours and the example config repository's) passes zizmor offline and the
GitHub-workflow JSON schema; the negative cases prove both linters would catch a mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
OURS = REPO_ROOT / ".github"
EXAMPLE = REPO_ROOT / "examples" / "config-repo" / ".github"
WORKFLOWS = sorted((OURS / "workflows").glob("*.yml"))
EXAMPLE_WORKFLOWS = sorted((EXAMPLE / "workflows").glob("*.yml"))
ALL = [(OURS, path) for path in WORKFLOWS] + [(EXAMPLE, path) for path in EXAMPLE_WORKFLOWS]


def zizmor(config: Path, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--no-progress", "--color", "never", "--config", str(config),
         *map(str, paths)],
        capture_output=True, text=True, timeout=120,
    )


def check_jsonschema(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        capture_output=True, text=True, timeout=120,
    )


def test_all_five_workflows_and_four_example_callers_exist() -> None:
    assert [path.name for path in WORKFLOWS] == ["ci.yml", "deploy.yml", "drift.yml", "pr-comment.yml", "pr.yml"]
    assert [path.name for path in EXAMPLE_WORKFLOWS] == ["deploy.yml", "drift.yml", "pr-comment.yml", "pr.yml"]


@pytest.mark.parametrize("config_dir", [OURS, EXAMPLE], ids=["ours", "example-config-repo"])
def test_workflows_have_no_zizmor_finding_offline(config_dir: Path) -> None:
    paths = [path for tree, path in ALL if tree == config_dir]
    result = zizmor(config_dir / "zizmor.yml", *paths)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout
    for path in paths:  # every file was audited, none skipped
        assert f"completed {path}" in result.stderr


def test_workflows_match_github_workflow_schema() -> None:
    result = check_jsonschema(*(path for _, path in ALL))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "ok -- validation done"


BAD_INJECTION = """\
name: bad
on: pull_request
permissions: {}
jobs:
  greet:
    runs-on: ubuntu-latest
    permissions: {}
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
"""

BAD_THIRD_PARTY_TAG = """\
name: bad
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions: {}
    steps:
      - uses: some-owner/some-action@v1
"""


def test_zizmor_with_our_config_still_reports_template_injection(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(BAD_INJECTION)
    result = zizmor(OURS / "zizmor.yml", path)
    assert result.returncode != 0
    assert "template-injection" in result.stdout


def test_ref_pinning_is_accepted_for_github_actions_only(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(BAD_THIRD_PARTY_TAG)
    result = zizmor(OURS / "zizmor.yml", path)
    assert result.returncode != 0
    assert "unpinned-uses" in result.stdout
    assert "some-owner/some-action@v1" in result.stdout


def test_check_jsonschema_rejects_a_job_without_runs_on(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text("name: bad\non: push\njobs:\n  build:\n    steps:\n      - run: true\n")
    result = check_jsonschema(path)
    assert result.returncode == 1
    assert "Schema validation errors were encountered" in result.stdout + result.stderr
