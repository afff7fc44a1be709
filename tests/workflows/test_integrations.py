"""Issue 16 item 13: the composite action at the repository root and the pre-commit hook.

The action's script runs with bash against a real monorepo (the config in envs/prod) with the
inputs in env, as the runner passes them; the hook's entry runs in a configuration repository."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello-world"
BIN = str(Path(sys.executable).parent)


@pytest.fixture
def schema_env(as3_schema_path: Path) -> dict[str, str]:
    return {**os.environ, "AS3_SCHEMA": str(as3_schema_path), "PATH": f"{BIN}:{os.environ['PATH']}"}


def _action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def test_the_action_is_composite_with_config_and_command_inputs() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert {"command", "config", "args", "install", "python-version"} <= set(action["inputs"])
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]
        if "uses" in step:
            assert re.fullmatch(r"actions/[\w-]+@v\d+", step["uses"])


def _run_step(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    [step] = [s for s in _action()["runs"]["steps"] if s.get("id") == "run"]
    return subprocess.run(["bash", "-c", step["run"]], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_actions_script_validates_a_config_folder_of_a_monorepo(make_repo, schema_env) -> None:
    repo = make_repo()
    shutil.copytree(HELLO, repo.path / "envs" / "prod")
    repo.commit(message="prod")
    run = _run_step({**schema_env, "AS3_GITOPS_COMMAND": "validate", "AS3_GITOPS_CONFIG": "envs/prod",
                     "AS3_GITOPS_ARGS": "--format github"}, repo.path)
    assert run.returncode == 0, run.stderr
    run = _run_step({**schema_env, "AS3_GITOPS_COMMAND": "rm -rf", "AS3_GITOPS_CONFIG": ".",
                     "AS3_GITOPS_ARGS": ""}, repo.path)
    assert run.returncode == 2 and "command must be" in run.stdout
    (repo.path / "envs" / "prod" / "manifests" / "bad.yaml").write_text("kind: Ingress\nmetadata: [x\n")
    run = _run_step({**schema_env, "AS3_GITOPS_COMMAND": "validate", "AS3_GITOPS_CONFIG": "envs/prod",
                     "AS3_GITOPS_ARGS": "--format github"}, repo.path)
    assert run.returncode == 2
    assert "::error file=manifests/bad.yaml,line=3,col=1,title=SRC001::" in run.stdout
    run = _run_step({**schema_env, "AS3_GITOPS_COMMAND": "validate", "AS3_GITOPS_CONFIG": "envs/prod",
                     "AS3_GITOPS_ARGS": "*"}, repo.path)
    assert run.returncode == 2 and "unexpected extra argument(s) (*)" in run.stderr  # split, never globbed


def test_the_pre_commit_hook_validates_the_repository(make_repo, schema_env) -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "as3-gitops-validate" and hook["language"] == "python" and hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert files.search("manifests/vs-01.yaml") and files.search("as3-gitops.yaml") and not files.search("README.md")
    repo = make_repo(HELLO)
    run = subprocess.run(shlex.split(hook["entry"]), cwd=repo.path, env=schema_env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    (repo.path / "manifests" / "bad.yaml").write_text("kind: Ingress\nmetadata: [x\n")
    run = subprocess.run(shlex.split(hook["entry"]), cwd=repo.path, env=schema_env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 2 and "manifests/bad.yaml:3:1: error:" in run.stdout
