"""examples/snapshot-cronjob: the manifests are valid and least-privilege; the GitHub workflow's steps
really capture (against the API stand-in), push a branch and open, then update, one pull request."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from snapshot_helpers import GOLDEN, KUBECTL_ALL, git_out

from renderer.kube.load import load_cluster
from renderer.source import WorkTree, load_documents

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "snapshot-cronjob"
WORKFLOW = EXAMPLE / "github-workflow.yml"
FAKE_GH = Path(__file__).resolve().parent / "snapshot_fake_gh.py"
_EXPR = re.compile(r"^\$\{\{\s*(.+?)\s*\}\}$")


def _objects() -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for name in ("rbac.yaml", "cronjob.yaml", "git-credentials.yaml"):
        for doc in yaml.safe_load_all((EXAMPLE / name).read_text()):
            out[(doc["kind"], doc["metadata"]["name"])] = doc
    return out


def test_example_manifests_are_valid_kubernetes_objects() -> None:
    docs, findings = load_documents(WorkTree(EXAMPLE), ["rbac.yaml", "cronjob.yaml", "git-credentials.yaml"])
    _cluster, kube_findings = load_cluster(docs)
    assert [f for f in findings + kube_findings if f.is_error] == []
    assert sorted(_objects()) == [
        ("ClusterRole", "as3-gitops-snapshot"), ("ClusterRoleBinding", "as3-gitops-snapshot"),
        ("CronJob", "as3-gitops-snapshot"), ("Namespace", "as3-gitops"), ("Secret", "as3-gitops-snapshot-git"),
        ("ServiceAccount", "as3-gitops-snapshot")]


def test_rbac_grants_only_get_and_list_on_nodes_endpoints_and_endpointslices() -> None:
    objects = _objects()
    rules = objects[("ClusterRole", "as3-gitops-snapshot")]["rules"]
    granted = sorted((group, res, verb) for r in rules for group in r["apiGroups"] for res in r["resources"]
                     for verb in r["verbs"])
    assert granted == [("", "endpoints", "get"), ("", "endpoints", "list"), ("", "nodes", "get"),
                       ("", "nodes", "list"), ("discovery.k8s.io", "endpointslices", "get"),
                       ("discovery.k8s.io", "endpointslices", "list")]
    binding = objects[("ClusterRoleBinding", "as3-gitops-snapshot")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "as3-gitops-snapshot",
                                    "namespace": "as3-gitops"}]


def test_cronjob_captures_in_cluster_with_the_service_account_and_pushes_a_branch() -> None:
    job = _objects()[("CronJob", "as3-gitops-snapshot")]["spec"]
    pod = job["jobTemplate"]["spec"]["template"]["spec"]
    assert job["concurrencyPolicy"] == "Forbid"
    assert pod["serviceAccountName"] == "as3-gitops-snapshot"
    (container,) = pod["containers"]
    assert container["image"] == "python:3.11-slim"
    script = container["args"][0]
    assert "pip install --quiet --no-cache-dir --disable-pip-version-check 'as3-gitops[cluster]'" in script
    assert 'as3-gitops snapshot capture . --in-cluster --commit --branch "$SNAPSHOT_BRANCH"' in script
    assert 'git push --quiet --force origin "$SNAPSHOT_BRANCH"' in script
    token = next(e for e in container["env"] if e["name"] == "GIT_TOKEN")
    assert token["valueFrom"] == {"secretKeyRef": {"name": "as3-gitops-snapshot-git", "key": "token"}}
    assert "${GIT_TOKEN}@" not in script  # the token never goes into a URL


def test_workflow_passes_zizmor_and_the_workflow_schema() -> None:
    bindir = Path(sys.executable).parent
    zizmor = subprocess.run([str(bindir / "zizmor"), "--offline", "--persona", "pedantic", str(WORKFLOW)],
                            capture_output=True, text=True, check=False)
    assert zizmor.returncode == 0, zizmor.stdout + zizmor.stderr
    schema = subprocess.run([str(bindir / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                             str(WORKFLOW)], capture_output=True, text=True, check=False)
    assert (schema.returncode, schema.stdout.strip()) == (0, "ok -- validation done")


def test_workflow_uses_only_actions_checkout_and_setup_python() -> None:
    text = WORKFLOW.read_text()
    assert sorted(set(re.findall(r"uses:\s*(\S+)", text))) == ["actions/checkout@v4", "actions/setup-python@v5"]


class WorkflowRun:
    """Runs the job's `run:` steps with bash as the runner would; `uses:` steps are the test's job."""

    def __init__(self, tmp: Path, expressions: dict[str, str]):
        self.tmp = tmp
        self.expressions = expressions
        self.bin = tmp / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        gh = self.bin / "gh"
        gh.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_GH}" "$@"\n')
        gh.chmod(0o755)
        self.state = tmp / "gh-state.json"
        self.runner_temp = tmp / "runner-temp"
        self.runner_temp.mkdir(exist_ok=True)

    def _value(self, raw: Any) -> str:
        match = _EXPR.match(str(raw))
        return self.expressions[match.group(1)] if match else str(raw)

    def run(self, checkout: Path) -> list[tuple[str, int, str]]:
        job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["capture"]
        env = {**os.environ, "PATH": f"{self.bin}:{Path(sys.executable).parent}:{os.environ['PATH']}",
               "RUNNER_TEMP": str(self.runner_temp), "FAKE_GH_STATE": str(self.state)}
        env.update({k: self._value(v) for k, v in job.get("env", {}).items()})
        results = []
        for step in job["steps"]:
            if "uses" in step:
                continue
            if step["run"].startswith("python -m pip install"):
                continue  # as3-gitops is installed in the test's venv already
            step_env = {**env, **{k: self._value(v) for k, v in step.get("env", {}).items()}}
            script = self.tmp / "step.sh"
            script.write_text(step["run"])
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=checkout,
                                  env=step_env, capture_output=True, text=True, check=False)
            results.append((step["name"], proc.returncode, proc.stdout + proc.stderr))
            assert proc.returncode == 0, results
        return results

    def gh_state(self) -> dict[str, Any]:
        return json.loads(self.state.read_text()) if self.state.exists() else {"calls": [], "prs": []}


@pytest.fixture
def origin(snapshot_repo, tmp_path: Path) -> Path:
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(snapshot_repo.path), str(bare)], check=True)
    return bare


def _checkout(origin: Path, tmp_path: Path, name: str) -> Path:
    work = tmp_path / name
    subprocess.run(["git", "clone", "-q", "--branch", "main", str(origin), str(work)], check=True)
    return work


@pytest.mark.slow  # three workflow runs, each a real `as3-gitops` process importing the kubernetes client
def test_workflow_opens_a_pull_request_updates_it_and_stays_quiet_when_nothing_changed(
        kube_api, origin: Path, tmp_path: Path) -> None:
    kube_api.load_kubectl_yaml(KUBECTL_ALL)
    kubeconfig = kube_api.write_kubeconfig().read_text()
    runner = WorkflowRun(tmp_path / "runner", {
        "secrets.SNAPSHOT_KUBECONFIG": kubeconfig,
        "secrets.SNAPSHOT_PR_TOKEN || github.token": "fake-github-token",
        "github.event.repository.default_branch": "main",
    })

    # 1: first capture -> branch pushed, pull request opened with the commit's subject and body
    runner.run(_checkout(origin, tmp_path, "run1"))
    prs = runner.gh_state()["prs"]
    assert [(p["number"], p["base"], p["head"], p["title"]) for p in prs] == [
        (1, "main", "snapshot/refresh", "snapshot: +3 nodes, +2 endpoints, +3 endpointslices")]
    assert prs[0]["body"].startswith("Captured at ")
    branch_nodes = git_out(origin, "show", "snapshot/refresh:snapshot/nodes.yaml")
    assert branch_nodes == (GOLDEN / "per-kind" / "nodes.yaml").read_text()
    assert list(runner.runner_temp.iterdir()) == []  # the kubeconfig does not outlive the step

    # 2: a node leaves before the pull request is merged -> the same pull request is updated
    kube_api.objects["Node"] = [n for n in kube_api.objects["Node"] if n["metadata"]["name"] != "worker-3"]
    runner.run(_checkout(origin, tmp_path, "run2"))
    prs = runner.gh_state()["prs"]
    assert [(p["number"], p["title"]) for p in prs] == [(1, "snapshot: +2 nodes, +2 endpoints, +3 endpointslices")]

    # 3: merged; the next run finds nothing to do and calls gh not at all
    subprocess.run(["git", "update-ref", "refs/heads/main", "refs/heads/snapshot/refresh"], cwd=origin, check=True)
    calls_before = len(runner.gh_state()["calls"])
    steps = runner.run(_checkout(origin, tmp_path, "run3"))
    assert steps[-1][2] == "snapshot unchanged: nothing to push\n"
    assert len(runner.gh_state()["calls"]) == calls_before
