"""The `run:` steps of deploy.yml and drift.yml against the BIG-IP emulator over real HTTPS.

The emulator listens on 127.0.0.1 with a certificate from a trustme CA; the CA reaches the
workflow as the BIGIP_CA_BUNDLE variable, so TLS stays verified exactly as on GitHub. The issue
API of drift.yml is played by the gh stand-in (tests/workflows/fake_gh.py).
"""

from __future__ import annotations

import json
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from workflow_runner import JobRun, base_environment, load_workflow, run_job, scaled_endpoints

from renderer.emulator.device import Device, EmulatorConfig
from renderer.emulator.server import EmulatorServer

REPO_ROOT = Path(__file__).resolve().parents[2]
HELLO = REPO_ROOT / "examples" / "hello-world"
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
PASSWORD = "pw-Zq8-never-printed"
GH_REPO = "example-org/config"


class Bigip:
    def __init__(self, server: EmulatorServer, ca_pem: str):
        self.server = server
        self.ca_pem = ca_pem


@pytest.fixture
def bigip() -> Iterator[Bigip]:
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = EmulatorServer(Device(EmulatorConfig(username="admin", password=PASSWORD)), context=context)
    server.start()
    try:
        yield Bigip(server, ca.cert_pem.bytes().decode())
    finally:
        server.stop()


class Runner:
    """Runs one workflow job of ours in `repo` against the emulator, with a fresh RUNNER_TEMP."""

    def __init__(self, tmp_path: Path, bigip: Bigip, schema: Path):
        self.tmp = tmp_path
        self.bigip = bigip
        self.schema = schema  # deploy.yml validates first: never a schema download from a test
        self.count = 0
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        gh = self.bin / "gh"
        gh.write_text(f"#!{sys.executable}\n" + (Path(__file__).parent / "fake_gh.py").read_text())
        gh.chmod(0o755)
        self.gh_state = tmp_path / "github.json"
        self.gh_state.write_text(json.dumps({"repo": GH_REPO, "calls": [], "issues": []}))

    def run(self, workflow: str, job: str, repo: Path, **overrides: str) -> tuple[JobRun, Path]:
        self.count += 1
        temp = self.tmp / f"runner-temp-{self.count}"
        env = base_environment(Path(sys.executable).parent)
        env["PATH"] = f"{self.bin}:{env['PATH']}"
        env["FAKE_GH_STATE"] = str(self.gh_state)
        env["AS3_SCHEMA"] = str(self.schema)
        values = {
            "BIGIP_HOST": self.bigip.server.url, "BIGIP_CA_BUNDLE": self.bigip.ca_pem,
            "BIGIP_USERNAME": "admin", "BIGIP_PASSWORD": PASSWORD,
            "GH_TOKEN": "test-token", "REPO": GH_REPO, "RUN_URL": "https://github.invalid/runs/1",
            **overrides,
        }
        spec = load_workflow(WORKFLOWS / workflow)["jobs"][job]
        run = run_job(spec, cwd=repo, temp=temp, env_values=values, base_env=env, skip_ids=("install",))
        return run, temp

    def issues(self) -> list[dict[str, Any]]:
        return json.loads(self.gh_state.read_text())["issues"]


@pytest.fixture
def runner(tmp_path: Path, bigip: Bigip, as3_schema_path: Path) -> Runner:
    return Runner(tmp_path, bigip, as3_schema_path)


def everything_printed(run: JobRun, temp: Path) -> str:
    files = [p.read_text(errors="replace") for p in sorted(temp.rglob("*")) if p.is_file()]
    return "\n".join([run.summary, *files, *(s.stdout + s.stderr for s in run.steps)])


def outcomes(run: JobRun) -> list[tuple[str | None, str]]:
    return [(step.id, step.outcome) for step in run.steps]


def test_deploy_steps_deploy_main_head_then_report_no_change(make_repo, runner: Runner) -> None:
    repo = make_repo(HELLO)
    head = repo.commit(message="head of main")

    first, temp = runner.run("deploy.yml", "deploy", repo.path)

    assert outcomes(first) == [(None, "skipped"), (None, "skipped"), ("install", "skipped"),
                               ("cache-key", "success"), (None, "skipped"),
                               ("validate", "success"), ("deploy", "success"), (None, "success"),
                               (None, "skipped")], \
        "\n".join(s.stdout + s.stderr for s in first.steps)
    assert first.summary.splitlines()[0] == "## as3-gitops deploy: deployed"
    assert f"- commit: `{head}`" in first.summary
    assert "| verify | ok |" in first.summary
    assert json.loads((temp / "report.json").read_text())["commit"] == head
    assert PASSWORD not in everything_printed(first, temp)

    second, temp2 = runner.run("deploy.yml", "deploy", repo.path)

    assert not second.failed
    assert second.summary.splitlines()[0] == "## as3-gitops deploy: no change"
    assert PASSWORD not in everything_printed(second, temp2)


def test_deploy_of_a_commit_as3_would_reject_stops_at_validate(make_repo, runner: Runner) -> None:
    """It renders (a user pool template writes an AS3-unknown loadBalancingMode), so only the
    validate step can stop it: the deploy step is skipped and the device sees no request."""
    repo = make_repo(HELLO)
    builtin = (REPO_ROOT / "templates" / "as3" / "pool.json.j2").read_text()
    needle = '"loadBalancingMode": {{ pool.balance|tojson }}'
    assert needle in builtin, "the built-in pool template changed; update this test"
    config = (repo.path / "as3-gitops.yaml").read_text() + "templates: tpl\n"
    repo.commit({"tpl/pool.json.j2": builtin.replace(needle, '"loadBalancingMode": "least-connections"'),
                 "as3-gitops.yaml": config}, message="a pool mode AS3 does not know")

    run, _ = runner.run("deploy.yml", "deploy", repo.path)

    assert run.step("validate").outcome == "failure"
    assert "::error file=" in run.step("validate").stdout and "AS3002" in run.step("validate").stdout
    assert run.step("deploy").outcome == "skipped"
    assert runner.bigip.server.device.request_log() == []


def test_deploy_without_host_fails_before_touching_anything(make_repo, runner: Runner) -> None:
    repo = make_repo(HELLO)

    run, _ = runner.run("deploy.yml", "deploy", repo.path, BIGIP_HOST="")

    deploy = run.step("deploy")
    assert deploy.returncode == 2
    assert "::error::set the BIGIP_HOST variable" in deploy.stdout
    assert run.summary == "No deploy report was written (the deploy stopped before it reached the device).\n"
    assert runner.bigip.server.device.request_log() == []


def test_drift_opens_one_issue_updates_it_then_closes_it_when_main_is_deployed(make_repo, runner: Runner) -> None:
    repo = make_repo(HELLO)
    runner.run("deploy.yml", "deploy", repo.path)
    repo.commit({"snapshot/endpoints.yaml": scaled_endpoints()}, message="scaled, not deployed yet")

    first, _ = runner.run("drift.yml", "plan", repo.path)

    plan = first.step("plan")
    assert plan.returncode == 1, plan.stdout + plan.stderr
    assert plan.outputs == {"exit-code": "1"}
    assert "::error::the BIG-IP differs from the head of main" in plan.stdout
    assert "10.10.2.8" in first.summary
    (issue,) = runner.issues()
    assert issue["state"] == "open"
    assert issue["title"] == "as3-gitops: the BIG-IP differs from main"
    lines = issue["body"].splitlines()
    assert lines[0] == "<!-- as3-gitops:drift -->"
    assert lines[1] == "The BIG-IP does not run the head of main. Found by https://github.invalid/runs/1."
    assert "10.10.2.8" in issue["body"]
    assert outcomes(first)[-1] == (None, "skipped")  # the close step

    second, temp = runner.run("drift.yml", "plan", repo.path, RUN_URL="https://github.invalid/runs/2")

    assert second.step("plan").returncode == 1
    (issue,) = runner.issues()
    assert "Found by https://github.invalid/runs/2." in issue["body"]
    calls = json.loads(runner.gh_state.read_text())["calls"]
    assert [c for c in calls if c[0] != "issue list"] == [["issue create"], ["issue edit", "1"]]
    assert PASSWORD not in everything_printed(second, temp)


    # Deploying main's head makes the device match again: the next drift run closes the issue.
    deployed, _ = runner.run("deploy.yml", "deploy", repo.path)
    assert not deployed.failed
    clean, _ = runner.run("drift.yml", "plan", repo.path)

    assert clean.step("plan").outputs == {"exit-code": "0"}, clean.summary
    assert not clean.failed
    (issue,) = runner.issues()
    assert issue["state"] == "closed"
    assert issue["comments"] == ["The BIG-IP runs the head of main again."]
