"""Run the `run:` steps of a GitHub workflow job locally, the way the runner would, with bash.

Steps that `uses:` an action are skipped (the test did their work: checkout is the temp repo,
Python and as3-gitops are the test's venv). Expressions are evaluated only where the runner must:
a step's `env:` value that is exactly `${{ steps.<id>.outputs.<name> }}` is read from the
recorded outputs; every other `env:` value must be supplied by the test (it plays GitHub's
expression engine for `github.event.*`, `inputs.*`, `secrets.*`). `if:` conditions understand
`success()`, `failure()`, `always()`, `!cancelled()`, `&&`, and `steps.<id>.(outcome|outputs.<name>)
== '<literal>'`; anything else is an error, so the runner never guesses.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello-world"
NEW_POD = """\
      - ip: 10.10.2.8
        nodeName: worker-2
        targetRef: {kind: Pod, name: hello-world-7d9c5b-pqrst, namespace: default}
"""


def scaled_endpoints() -> str:
    """examples/hello-world's snapshot after scaling: one more pod on worker-2."""
    text = (HELLO / "snapshot" / "endpoints.yaml").read_text()
    anchor = "targetRef: {kind: Pod, name: hello-world-7d9c5b-klmno, namespace: default}\n"
    assert anchor in text, "examples/hello-world/snapshot/endpoints.yaml changed: update this helper"
    return text.replace(anchor, anchor + NEW_POD)

_STEP_OUTPUT = re.compile(r"^\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}$")
_COMPARE = re.compile(r"^steps\.([\w-]+)\.(outcome|outputs\.([\w-]+))\s*==\s*'([^']*)'$")


def load_workflow(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:  # YAML 1.1 reads the key `on` as the boolean true
        data["on"] = data.pop(True)
    return data


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    on = workflow["on"]
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on


@dataclass
class StepResult:
    name: str
    id: str | None
    skipped: str | None  # why, when the step did not run
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        if self.skipped:
            return "skipped"
        return "success" if self.returncode == 0 else "failure"


@dataclass
class JobRun:
    steps: list[StepResult]
    summary: str

    @property
    def failed(self) -> bool:
        return any(step.outcome == "failure" for step in self.steps)

    def step(self, step_id: str) -> StepResult:
        return next(step for step in self.steps if step.id == step_id)


def parse_output_file(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV: `name=value` lines and `name<<DELIM` ... `DELIM` blocks."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            values[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        if line:
            name, value = line.split("=", 1)
            values[name] = value
        i += 1
    return values


def _condition(expr: str, done: list[StepResult]) -> bool:
    expr = expr.strip()
    if expr.startswith("${{") and expr.endswith("}}"):
        expr = expr[3:-2].strip()
    failed = any(step.outcome == "failure" for step in done)
    by_id = {step.id: step for step in done if step.id}
    result = True
    for term in (part.strip() for part in expr.split("&&")):
        if term in ("!cancelled()", "always()"):
            value = True
        elif term == "success()":
            value = not failed
        elif term == "failure()":
            value = failed
        elif match := _COMPARE.match(term):
            step_id, what, output, literal = match.groups()
            step = by_id[step_id]
            value = (step.outcome if what == "outcome" else step.outputs.get(output, "")) == literal
        else:
            raise ValueError(f"workflow_runner cannot evaluate `if: {expr}` (term {term!r})")
        result = result and value
    return result


def run_job(
    job: dict[str, Any],
    *,
    cwd: Path,
    temp: Path,
    env_values: dict[str, str],
    base_env: dict[str, str],
    skip_ids: tuple[str, ...] = (),
    event: Path | None = None,
    timeout: float = 120,
) -> JobRun:
    """Run the job's `run:` steps in order with `bash -e` (the runner's default shell)."""
    temp.mkdir(parents=True, exist_ok=True)
    done: list[StepResult] = []
    summaries: list[str] = []
    job_env: dict[str, str] = {}
    for index, step in enumerate(job["steps"]):
        name = step.get("name", f"step {index}")
        step_id = step.get("id")
        if "uses" in step:
            done.append(StepResult(name, step_id, skipped=f"uses {step['uses']}"))
            continue
        if step_id in skip_ids:
            done.append(StepResult(name, step_id, skipped="skipped by the test"))
            continue
        if not _condition(str(step.get("if", "success()")), done):
            done.append(StepResult(name, step_id, skipped="if: false"))
            continue
        env = {**base_env, **job_env, "RUNNER_TEMP": str(temp), "RUNNER_OS": "Linux",
               "GITHUB_ACTIONS": "true"}
        for key, value in (step.get("env") or {}).items():
            match = _STEP_OUTPUT.match(str(value))
            if match:
                source = next(s for s in done if s.id == match.group(1))
                env[key] = source.outputs.get(match.group(2), "")
            elif key in env_values:
                env[key] = env_values[key]
            else:
                raise KeyError(f"step {name!r} needs env {key}={value!r}: the test must supply it")
        files = {kind: temp / f"{kind.lower()}-{index}" for kind in ("GITHUB_OUTPUT", "GITHUB_ENV")}
        files["GITHUB_STEP_SUMMARY"] = temp / f"summary-{index}.md"
        for kind, path in files.items():
            path.write_text("")
            env[kind] = str(path)
        if event is not None:
            env["GITHUB_EVENT_PATH"] = str(event)
        script = temp / f"step-{index}.sh"
        script.write_text(step["run"])
        proc = subprocess.run(
            ["bash", "-e", str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )
        result = StepResult(name, step_id, None, proc.returncode, proc.stdout, proc.stderr)
        result.outputs = parse_output_file(files["GITHUB_OUTPUT"].read_text())
        job_env.update(parse_output_file(files["GITHUB_ENV"].read_text()))
        summaries.append(files["GITHUB_STEP_SUMMARY"].read_text())
        done.append(result)
    return JobRun(done, "".join(summaries))


def run_scripts(workflow: dict[str, Any]) -> list[tuple[str, str]]:
    """(job/step name, script) for every `run:` step of every job."""
    found = []
    for job_id, job in workflow["jobs"].items():
        for index, step in enumerate(job.get("steps") or []):
            if "run" in step:
                found.append((f"{job_id}/{step.get('name', index)}", step["run"]))
    return found


def base_environment(venv_bin: Path) -> dict[str, str]:
    """PATH with the test's venv first (the install step is already done there)."""
    names = ("HOME", "LANG", "LC_ALL", "TMPDIR", "XDG_CACHE_HOME", "AS3_SCHEMA")
    keep = {key: value for key, value in os.environ.items() if key in names or key.startswith("GIT_")}
    return {**keep, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"}
