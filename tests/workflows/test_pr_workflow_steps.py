"""The `run:` steps of pr.yml, run in order with bash in a real git repository (issue 5).

The repository is examples/hello-world with a base commit and a head commit; the working tree is
the head, as after actions/checkout of a pull request. GITHUB_STEP_SUMMARY, GITHUB_OUTPUT,
GITHUB_ENV and GITHUB_EVENT_PATH point at temp files; the test supplies what GitHub's expression
engine would put into each step's `env:`. `uses:` steps are skipped, and so is the install step:
as3-gitops is already installed in this interpreter's venv, which goes first on PATH.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from test_pr_comment_steps import BOT, Harness
from workflow_runner import JobRun, base_environment, load_workflow, run_job, scaled_endpoints

REPO_ROOT = Path(__file__).resolve().parents[2]
HELLO = REPO_ROOT / "examples" / "hello-world"
PR_WORKFLOW = REPO_ROOT / ".github" / "workflows" / "pr.yml"
PR_NUMBER = "7"



def run_pr_job(repo_path: Path, base: str, head: str, tmp_path: Path, schema: Path) -> JobRun:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": int(PR_NUMBER), "pull_request": {
        "number": int(PR_NUMBER), "base": {"sha": base}, "head": {"sha": head}}}))
    env = base_environment(Path(sys.executable).parent)
    env["AS3_SCHEMA"] = str(schema)
    job = load_workflow(PR_WORKFLOW)["jobs"]["diff"]
    return run_job(
        job,
        cwd=repo_path,
        temp=tmp_path / "runner-temp",
        env_values={"BASE_SHA": base, "PR_NUMBER": PR_NUMBER, "HEAD_SHA": head},
        base_env=env,
        skip_ids=("install",),
        event=event,
    )


def test_upload_step_uploads_the_folder_the_context_step_fills() -> None:
    steps = load_workflow(PR_WORKFLOW)["jobs"]["diff"]["steps"]
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "${{ steps.context.outputs.dir }}"
    assert upload["with"]["name"] == "as3-gitops-diff-${{ steps.context.outputs.environment }}"


def test_snapshot_change_puts_marker_and_change_in_summary_and_artifact(
    make_repo, tmp_path: Path, as3_schema_path: Path
) -> None:
    repo = make_repo(HELLO)
    base = repo.commit(message="base")
    head = repo.commit({"snapshot/endpoints.yaml": scaled_endpoints()}, message="scale hello-world to 4")

    run = run_pr_job(repo.path, base, head, tmp_path, as3_schema_path)

    assert [(step.id, step.outcome) for step in run.steps] == [
        (None, "skipped"), (None, "skipped"), ("install", "skipped"), ("cache-key", "success"), (None, "skipped"),
        ("context", "success"), ("validate", "success"), ("diff", "success"), (None, "skipped"),
    ], "\n".join(step.stdout + step.stderr for step in run.steps)
    out_dir = tmp_path / "runner-temp" / "as3-gitops-diff"
    assert run.step("context").outputs == {"environment": "default", "dir": str(out_dir)}
    cache_dir = tmp_path / "runner-temp" / "as3-gitops-cache"
    assert run.step("cache-key").outputs["dir"] == str(cache_dir)
    assert run.step("cache-key").outputs["prefix"].startswith("as3-gitops-parse-Linux-")
    assert any(p.is_file() for p in cache_dir.rglob("*")), "validate and diff filled the cache that is saved"

    lines = run.summary.splitlines()
    assert lines[0] == "<!-- as3-gitops:diff:default -->"
    assert "1 to add, 2 to change, 0 to destroy" in lines[1]
    assert "+ ARP 10.10.2.8" in run.summary
    assert "members[10.10.2.8:9000]" in run.summary

    assert sorted(path.name for path in out_dir.iterdir()) == [
        "base-sha", "diff-full.md", "diff.json", "diff.md", "environment", "head-sha", "pr-number"]
    # the comment body fits the budget; the job summary holds the full diff (here: the same text)
    assert (out_dir / "diff-full.md").read_text() == run.summary
    assert (out_dir / "diff.md").read_text() == run.summary
    assert json.loads((out_dir / "diff.json").read_text())["summary"]
    assert (out_dir / "pr-number").read_text() == f"{PR_NUMBER}\n"
    assert (out_dir / "environment").read_text() == "default\n"
    assert (out_dir / "base-sha").read_text() == f"{base}\n"
    assert (out_dir / "head-sha").read_text() == f"{head}\n"

    # pr-comment.yml's step, given this artifact as download-artifact lays it out, posts it as is.
    (tmp_path / "comment").mkdir()
    gh = Harness(tmp_path / "comment")
    shutil.copytree(out_dir, gh.download / "as3-gitops-diff-default")
    state = gh.load()
    state["pulls"][PR_NUMBER]["head"]["sha"] = head
    gh.save(state)
    comment = gh.run_with_head(head)
    assert not comment.failed, comment.steps[1].stdout + comment.steps[1].stderr
    assert gh.comments() == [(101, BOT, run.summary)]


def test_environment_from_config_names_the_marker_and_the_artifact(
    make_repo, tmp_path: Path, as3_schema_path: Path
) -> None:
    repo = make_repo(HELLO)
    config = (HELLO / "as3-gitops.yaml").read_text() + "environment: prod-eu\n"
    base = repo.commit({"as3-gitops.yaml": config}, message="name the environment")
    head = repo.commit({"snapshot/endpoints.yaml": scaled_endpoints()}, message="scale")

    run = run_pr_job(repo.path, base, head, tmp_path, as3_schema_path)

    assert not run.failed, "\n".join(step.stdout + step.stderr for step in run.steps)
    assert run.step("context").outputs["environment"] == "prod-eu"
    assert run.summary.splitlines()[0] == "<!-- as3-gitops:diff:prod-eu -->"
    out_dir = tmp_path / "runner-temp" / "as3-gitops-diff"
    assert (out_dir / "environment").read_text() == "prod-eu\n"


def test_broken_head_fails_with_annotation_and_comment_says_no_diff(
    make_repo, tmp_path: Path, as3_schema_path: Path
) -> None:
    repo = make_repo(HELLO)
    base = repo.commit(message="base")
    head = repo.commit({"manifests/vs-01.yaml": "kind: Ingress\nmetadata: [unclosed\n"}, message="break vs-01")

    run = run_pr_job(repo.path, base, head, tmp_path, as3_schema_path)

    assert run.failed
    validate, diff = run.step("validate"), run.step("diff")
    assert validate.returncode == 2
    assert "::error file=manifests/vs-01.yaml,line=" in validate.stdout + validate.stderr
    assert diff.returncode == 2  # the diff step still runs, so the sticky comment is not left stale
    assert "manifests/vs-01.yaml:" in diff.stderr
    body = (tmp_path / "runner-temp" / "as3-gitops-diff" / "diff.md").read_text()
    assert body == run.summary
    assert body.splitlines()[:3] == [
        "<!-- as3-gitops:diff:default -->", "### as3-gitops: no diff for `default`", ""]
    assert "`as3-gitops diff` exited with code 2" in body
    assert "manifests/vs-01.yaml:" in body


def test_no_diff_comment_fences_findings_that_contain_fences(make_repo, tmp_path: Path, as3_schema_path: Path) -> None:
    """Issue 15, defect 6: a finding that quotes a line with ``` cannot close the block and inject markdown."""
    repo = make_repo(HELLO)
    base = repo.commit(message="base")
    hostile = "kind: Ingress\nx=````\n  y: <img src=x onerror=alert(1)>\n"
    head = repo.commit({"manifests/vs-01.yaml": hostile, "manifests/````<img src=x>.yaml": hostile},
                       message="break vs-01")

    run = run_pr_job(repo.path, base, head, tmp_path, as3_schema_path)

    assert run.failed
    body = (tmp_path / "runner-temp" / "as3-gitops-diff" / "diff.md").read_text()
    lines = body.splitlines()
    opening = next(i for i, line in enumerate(lines) if line.startswith("```"))
    fence = lines[opening][: len(lines[opening]) - len("text")]
    assert fence.strip("`") == "" and len(fence) >= 5, lines[opening]
    closing = max(i for i, line in enumerate(lines) if line == fence)
    assert closing > opening and all(line != fence for line in lines[opening + 1:closing])
    assert all("<img" not in line for line in lines[:opening] + lines[closing + 1:])


def test_a_renderer_folder_in_the_pull_request_is_not_imported(make_repo, tmp_path: Path,
                                                               as3_schema_path: Path) -> None:
    """Issue 15, defect 11: the context step runs the installed tool, not the checkout's renderer/."""
    repo = make_repo(HELLO)
    base = repo.commit(message="base")
    evil = {"renderer/__init__.py": "raise SystemExit('the pull request ran its own code')\n",
            "renderer/config.py": "raise SystemExit('the pull request ran its own code')\n"}
    head = repo.commit({**evil, "snapshot/endpoints.yaml": scaled_endpoints()}, message="ship a renderer/ folder")

    run = run_pr_job(repo.path, base, head, tmp_path, as3_schema_path)

    context = run.step("context")
    assert context.returncode == 0, context.stdout + context.stderr
    assert "the pull request ran its own code" not in context.stdout + context.stderr
    assert context.outputs["environment"] == "default"
