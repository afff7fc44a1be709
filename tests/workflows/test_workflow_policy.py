"""The promises of issues 5 and 7 that a linter does not check, read from the workflow files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from workflow_runner import load_workflow, run_scripts, triggers

REPO_ROOT = Path(__file__).resolve().parents[2]
OURS = REPO_ROOT / ".github" / "workflows"
EXAMPLE = REPO_ROOT / "examples" / "config-repo" / ".github" / "workflows"
ALL = sorted(OURS.glob("*.yml")) + sorted(EXAMPLE.glob("*.yml"))
ALLOWED_ACTIONS = {"actions/checkout", "actions/setup-python", "actions/upload-artifact",
                   "actions/download-artifact", "actions/cache"}
# Pinned to a full commit SHA (the v4.3.0 tag of actions/cache, read from its repository; the tag v4
# pointed there too); the other actions are at major-version tags (see .github/zizmor.yml).
SHA_PINNED = {"actions/cache": "0057852bfaa89a56745cba8c7296529d2fc39830"}


def wf(name: str) -> dict[str, Any]:
    return load_workflow(OURS / name)


def only_job(workflow: dict[str, Any]) -> dict[str, Any]:
    (job,) = workflow["jobs"].values()
    return job


def uses_of(workflow: dict[str, Any]) -> list[str]:
    return [step["uses"] for job in workflow["jobs"].values() for step in job.get("steps") or []
            if "uses" in step]


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_expression_is_interpolated_into_a_run_script(path: Path) -> None:
    for where, script in run_scripts(load_workflow(path)):
        assert "${{" not in script, f"{where}: pass values through env:, not ${{{{ }}}} in run:"


@pytest.mark.parametrize("path", sorted(OURS.glob("*.yml")), ids=lambda p: p.name)
def test_only_github_actions_at_a_major_tag_are_used(path: Path) -> None:
    for use in uses_of(load_workflow(path)):
        action, _, ref = use.partition("@")
        assert action in ALLOWED_ACTIONS, use
        assert ref == SHA_PINNED[action] if action in SHA_PINNED else re.fullmatch(r"v\d+", ref), use


@pytest.mark.parametrize("path", sorted(OURS.glob("*.yml")), ids=lambda p: p.name)
def test_checkouts_do_not_keep_the_token_in_git_config(path: Path) -> None:
    workflow = load_workflow(path)
    for job in workflow["jobs"].values():
        for step in job.get("steps") or []:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_pr_workflow_is_read_only_without_secrets_and_reusable() -> None:
    workflow = wf("pr.yml")
    assert set(triggers(workflow)) == {"pull_request", "workflow_call"}
    # not on this project's own PRs: its root is not a config repository (no as3-gitops.yaml)
    for path in ("as3-gitops.yaml", "manifests", "snapshot"):
        assert not (REPO_ROOT / path).exists(), path
    assert triggers(workflow)["pull_request"]["paths"] == [
        "as3-gitops.yaml", "manifests/**", "snapshot/**"]
    assert workflow["permissions"] == {"contents": "read"}
    assert only_job(workflow)["permissions"] == {"contents": "read"}
    assert "secrets." not in (OURS / "pr.yml").read_text()
    scripts = "\n".join(script for _, script in run_scripts(workflow))
    assert 'as3-gitops validate "${AS3_GITOPS_CONFIG:-.}" --format github' in scripts
    assert ('as3-gitops diff "${AS3_GITOPS_CONFIG:-.}" --base "$BASE_SHA" --format markdown '
            '--environment "$ENVIRONMENT"') in scripts
    diff_env = next(step for step in only_job(workflow)["steps"] if step.get("id") == "diff")["env"]
    assert diff_env["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"


def test_pr_comment_workflow_never_checks_out_and_has_least_permissions() -> None:
    workflow = wf("pr-comment.yml")
    on = triggers(workflow)
    assert set(on) == {"workflow_run", "workflow_call"}
    assert on["workflow_run"] == {"workflows": [wf("pr.yml")["name"]], "types": ["completed"]}
    assert workflow["permissions"] == {}
    job = only_job(workflow)
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert [use.partition("@")[0] for use in uses_of(workflow)] == ["actions/download-artifact"]
    script = "\n".join(script for _, script in run_scripts(workflow))
    assert "<!-- as3-gitops:diff:${environment} -->" in script
    assert "gh api" in script
    assert "pip install" not in script and "as3-gitops " not in script and "python" not in script


def test_deploy_workflow_renders_main_head_in_the_bigip_environment_one_at_a_time() -> None:
    workflow = wf("deploy.yml")
    on = triggers(workflow)
    assert set(on) == {"workflow_dispatch", "workflow_call"}  # the caller's push deploys; ours must not
    assert workflow["permissions"] == {"contents": "read"}
    job = only_job(workflow)
    assert job["environment"] == "bigip"
    assert job["concurrency"] == {"group": "bigip-deploy", "cancel-in-progress": False}
    assert job["permissions"] == {"contents": "read"}
    checkout = job["steps"][0]
    assert checkout["uses"] == "actions/checkout@v4"
    assert checkout["with"]["ref"] == "${{ inputs.branch || 'main' }}"  # the branch head, not github.sha
    deploy = next(step for step in job["steps"] if step.get("id") == "deploy")
    assert deploy["env"]["BIGIP_USERNAME"] == "${{ secrets.BIGIP_USERNAME }}"
    assert deploy["env"]["BIGIP_PASSWORD"] == "${{ secrets.BIGIP_PASSWORD }}"
    assert '(deploy "${AS3_GITOPS_CONFIG:-.}" --ref HEAD --host "$BIGIP_HOST" --report' in deploy["run"]
    # Credentials reach only the deploy step.
    assert [step.get("id") for step in job["steps"] if "secrets." in str(step.get("env"))] == ["deploy"]
    # Validated first (a failing step stops the job before the device is touched), without credentials.
    ids = [step.get("id") for step in job["steps"]]
    validate = job["steps"][ids.index("validate")]
    assert ids.index("validate") < ids.index("deploy")
    assert validate["run"] == 'as3-gitops validate "${AS3_GITOPS_CONFIG:-.}" --format github'
    assert "if" not in validate


def test_drift_workflow_plans_with_exit_code_and_may_write_issues_only() -> None:
    workflow = wf("drift.yml")
    on = triggers(workflow)
    assert set(on) == {"workflow_dispatch", "workflow_call"}  # the caller has the schedule
    job = only_job(workflow)
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    assert job["concurrency"]["group"] != "bigip-deploy"  # a drift run must never replace a queued deploy
    plan = next(step for step in job["steps"] if step.get("id") == "plan")
    assert '(plan "${AS3_GITOPS_CONFIG:-.}" --ref HEAD --host "$BIGIP_HOST" --exit-code --format markdown)' in plan["run"]
    issue = next(step for step in job["steps"] if "gh issue create" in step.get("run", ""))
    assert issue["if"] == "${{ failure() && steps.plan.outputs.exit-code == '1' }}"


def test_ci_runs_the_ci_script_on_push_and_pull_request() -> None:
    workflow = wf("ci.yml")
    assert set(triggers(workflow)) == {"push", "pull_request"}
    assert [script for _, script in run_scripts(workflow)] == ["bash .ci/run"]


@pytest.mark.parametrize("name", ["pr.yml", "pr-comment.yml", "deploy.yml", "drift.yml"])
def test_example_config_repo_calls_our_reusable_workflow(name: str) -> None:
    caller = load_workflow(EXAMPLE / name)
    (job,) = caller["jobs"].values()
    assert job["uses"].startswith(f"your-org/as3-gitops/.github/workflows/{name}@")
    called = wf(name)
    assert "workflow_call" in triggers(called)
    declared = set((triggers(called)["workflow_call"] or {}).get("inputs") or {})
    assert set(job.get("with") or {}) <= declared
    # The caller grants at least what the called job asks for (a called job cannot exceed it).
    assert job["permissions"] == only_job(called)["permissions"] or name == "pr-comment.yml"


def test_example_comment_workflow_names_the_example_pr_workflow() -> None:
    pr = load_workflow(EXAMPLE / "pr.yml")
    comment = load_workflow(EXAMPLE / "pr-comment.yml")
    assert triggers(comment)["workflow_run"]["workflows"] == [pr["name"]]


@pytest.mark.parametrize("name", ["pr.yml", "deploy.yml"])
def test_pr_and_deploy_keep_the_parse_cache_between_runs(name: str) -> None:
    """Issue 19: restored and saved with actions/cache, keyed by the tool's parser fingerprint, and
    every as3-gitops step of the job uses that folder."""
    job = only_job(wf(name))
    steps = job["steps"]
    key_step = next(i for i, step in enumerate(steps) if step.get("id") == "cache-key")
    assert "tool_fingerprint()" in steps[key_step]["run"]
    cache = steps[key_step + 1]
    assert cache["uses"].startswith("actions/cache@")
    assert cache["with"]["path"] == "${{ steps.cache-key.outputs.dir }}"
    assert cache["with"]["key"] == "${{ steps.cache-key.outputs.prefix }}${{ github.run_id }}"
    assert cache["with"]["restore-keys"] == "${{ steps.cache-key.outputs.prefix }}"
    for i, step in enumerate(steps):
        if "as3-gitops " in step.get("run", ""):
            assert i > key_step + 1, step["name"]
            assert step["env"]["AS3_GITOPS_CACHE_DIR"] == "${{ steps.cache-key.outputs.dir }}", step["name"]


@pytest.mark.parametrize("path", ALL, ids=[f"{p.parent.parent.parent.name}/{p.name}" for p in ALL])
def test_every_job_that_runs_steps_has_a_timeout(path: Path) -> None:
    """Issue 15: a hung step must not run for GitHub's default 6 hours (or hold a concurrency group).
    A caller job (`uses:`) cannot set timeout-minutes; the reusable workflow it calls does."""
    for name, job in load_workflow(path)["jobs"].items():
        if "uses" in job:
            assert "timeout-minutes" not in job, f"{path.name}: {name}: not allowed on a reusable-workflow call"
            assert job["uses"].split("@")[0].endswith(tuple(f"/.github/workflows/{p.name}" for p in OURS.glob("*.yml")))
            continue
        minutes = job.get("timeout-minutes")
        assert isinstance(minutes, int) and 1 <= minutes <= 60, f"{path.name}: job {name} has no timeout-minutes"


@pytest.mark.parametrize("path", sorted(OURS.glob("*.yml")), ids=lambda p: p.name)
def test_python_never_imports_from_the_checkout(path: Path) -> None:
    """Issue 15, defect 11: `python -c` puts the working directory first on sys.path, so a pull request's
    own renderer/ folder would run instead of the installed tool; `python -I` does not."""
    for where, script in run_scripts(load_workflow(path)):
        for call in re.findall(r"\bpython3?(?: -[A-Za-z]+)* -c\b", script):
            assert " -I" in call, (path.name, where, call)


REUSABLE = ("pr.yml", "pr-comment.yml", "deploy.yml", "drift.yml")


@pytest.mark.parametrize("name", REUSABLE)
def test_reusable_workflows_take_the_runner_and_never_fire_on_our_own_pushes_or_schedule(name: str) -> None:
    """Issue 16 items 2 and 13: a BIG-IP on a private network needs a self-hosted runner (`runs-on`
    input); the config folder is an input; this repository's pushes and the clock trigger nothing."""
    workflow = wf(name)
    on = triggers(workflow)
    assert "push" not in on and "schedule" not in on
    inputs = on["workflow_call"]["inputs"]
    assert inputs["runs-on"]["default"] == "ubuntu-latest"
    assert "inputs.runs-on" in only_job(workflow)["runs-on"]
    if name != "pr-comment.yml":
        assert inputs["config"]["default"] == "."
        assert only_job(workflow)["env"]["AS3_GITOPS_CONFIG"] == "${{ inputs.config || '.' }}"
        scripts = " ".join(step.get("run", "") for step in only_job(workflow)["steps"])
        assert "as3-gitops validate . " not in scripts and "(deploy . " not in scripts and "(plan . " not in scripts
