"""The objects summary line of render/validate, and --strict (warnings become errors, exit 2)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from renderer.cli import main

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello-world"
CLASSLESS = ROOT / "tests" / "render" / "cases" / "classless-v1beta1"


@pytest.fixture(autouse=True)
def _schema_env(monkeypatch: pytest.MonkeyPatch, as3_schema_path: Path) -> None:
    monkeypatch.setenv("AS3_SCHEMA", str(as3_schema_path))


def test_render_ends_with_the_objects_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(HELLO), "-o", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == "2 objects rendered, 0 skipped"


def test_skipped_objects_are_counted_and_point_at_the_warnings(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(CLASSLESS), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "2 objects rendered, 2 skipped (see warnings)"
    assert "warning: Ingress default/modern is not for class 'f5'" in err
    assert "[SKP001]" in err


def test_strict_turns_warnings_into_errors_and_writes_nothing(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["render", str(CLASSLESS), "-o", str(out), "--strict"]) == 2
    err = capsys.readouterr().err
    assert not out.exists()
    assert "manifests/ingresses.yaml:55:1: error: v1 Secret default/stray carries an F5 marker" in err
    assert "info: Ingress default/nginx-only" in err  # notes stay notes


def test_validate_json_stays_valid_json_with_the_summary_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(CLASSLESS), "--format", "json"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["format_version"] == 1 and document["summary"] == {"error": 0, "warning": 2, "info": 1}
    findings = document["findings"]
    assert {f["code"] for f in findings if f["severity"] == "warning"} == {"ING001", "SKP001"}
    assert captured.err.splitlines() == ["0 error(s), 2 warning(s)", "2 objects rendered, 2 skipped (see warnings)"]
    assert main(["validate", str(CLASSLESS), "--format", "json", "--strict"]) == 2
    strict = json.loads(capsys.readouterr().out)["findings"]
    assert {f["code"] for f in strict if f["severity"] == "error"} == {"ING001", "SKP001"}


def test_validate_github_format_has_only_workflow_commands_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(CLASSLESS), "--format", "github", "--strict"]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith(("::error ", "::notice ")) for line in lines)


def test_an_empty_render_never_looks_like_success(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(HELLO, repo)
    for f in (repo / "manifests").iterdir():
        f.unlink()
    (repo / "manifests" / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec: {}\n")
    assert main(["render", str(repo), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "warning: nothing rendered: no manifest produced a BIG-IP object" in err
    # at the settings that say where manifests are read from, so an editor or CI annotation can point at it
    assert any(line.startswith(str(repo / "as3-gitops.yaml") + ":") or line.startswith("as3-gitops.yaml:")
               for line in err.splitlines() if "nothing rendered" in line), err
    assert err.splitlines()[-1] == "0 objects rendered, 0 skipped; nothing to deploy"
    assert main(["render", str(repo), "-o", str(tmp_path / "out2"), "--strict"]) == 2


def test_the_installed_command_prints_the_summary_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "renderer", "validate", str(CLASSLESS), "--strict"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == "2 objects rendered, 2 skipped (see warnings)"
