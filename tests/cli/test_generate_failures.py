"""Issue 16 item 11: every way a `generate:` entry fails is a GEN finding at the entry in
as3-gitops.yaml (exit 2, nothing written); the child never sees BIGIP_* variables; the temp
extraction is gone afterwards; symlinks that leave the repository are not extracted."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pytest
from cli_capture import (
    _schema_env,  # noqa: F401 (_schema_env is autouse)
    cli,
)
from generate_repo import CHART_ENTRY, entry_at, python_entry, write_repo

from renderer.render import render


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tempfile's folder for this test, so a left-over extraction would be seen."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def failing(make_repo, entry: object, extra: str = ""):
    repo = make_repo()
    write_repo(repo.path, [CHART_ENTRY, entry], extra=extra)
    repo.commit(message="second entry")
    return repo


def render_fails(repo, tmp_path: Path, *args: str) -> str:
    """Render through the CLI: exit 2, no output folder, the findings (stderr) returned."""
    out = tmp_path / "out"
    code, stdout, err = cli(["render", str(repo.path), *args, "-o", str(out)])
    assert code == 2, err
    assert not out.exists() and stdout == ""
    return err


def test_a_non_zero_exit_shows_the_tail_of_stderr(make_repo, tmp_path: Path, temp_root: Path) -> None:
    noisy = "import sys\nfor i in range(100): sys.stderr.write(f'line {i}\\n')\nsys.exit(3)"
    repo = failing(make_repo, python_entry("-c", noisy))
    err = render_fails(repo, tmp_path, "--ref", "HEAD")
    assert err.startswith(f"{entry_at(repo.path, 1)}: error: generate[1] (")
    assert "exited with code 3; the last lines of its stderr:\n  | line 85\n" in err
    assert "  | line 99 [GEN002]\n" in err and "line 84" not in err  # a bounded tail
    assert list(temp_root.iterdir()) == []  # the extraction is deleted


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc (Linux)")
def test_a_timeout_kills_the_whole_process_group(make_repo, tmp_path: Path, temp_root: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = ("import subprocess, sys, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
              f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
              "time.sleep(600)")
    repo = failing(make_repo, python_entry("-c", script, timeout=2))
    started = time.monotonic()
    err = render_fails(repo, tmp_path, "--ref", "HEAD")
    assert time.monotonic() - started < 60
    assert f"{entry_at(repo.path, 1)}: error: generate[1] (" in err
    assert "did not finish within 2 s and was killed" in err and "[GEN003]" in err
    child = int(pid_file.read_text())
    for _ in range(50):  # the grandchild got SIGKILL with the group; wait for it to be reaped
        if not _alive(child):
            break
        time.sleep(0.1)
    assert not _alive(child)
    assert list(temp_root.iterdir()) == []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_output_that_is_not_yaml_names_the_line_inside_the_stream(make_repo, tmp_path: Path) -> None:
    bad = "print('apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: x\\n---\\nkind: a: b\\nmetadata: {}\\n')"
    repo = failing(make_repo, python_entry("-c", bad))
    err = render_fails(repo, tmp_path, "--ref", "HEAD")
    assert f"{entry_at(repo.path, 1)}: error: generate[1] (" in err
    assert "its output is not a manifest stream at line 6, column 8: invalid YAML: mapping values are not allowed" in err and "[GEN005]" in err


def test_a_missing_command_is_a_finding(make_repo, tmp_path: Path) -> None:
    repo = failing(make_repo, ["no-such-generator-4711", "build"])
    for args in (("--ref", "HEAD"), ()):
        err = render_fails(repo, tmp_path, *args)
        assert err.startswith(f"{entry_at(repo.path, 1)}: error: generate[1] (no-such-generator-4711 build): "
                              "command not found: no-such-generator-4711 [GEN001]")


def test_a_missing_working_dir_and_a_program_that_cannot_start(make_repo, tmp_path: Path) -> None:
    repo = failing(make_repo, python_entry("x.py", workingDir="overlays/prod"))
    assert "workingDir 'overlays/prod' is not a folder" in render_fails(repo, tmp_path, "--ref", "HEAD")
    repo = failing(make_repo, ["chart/values.json"])  # a path, but not executable
    assert "cannot be started: Permission denied [GEN001]" in render_fails(repo, tmp_path, "--ref", "HEAD")


def test_output_over_the_input_budget_is_killed(make_repo, tmp_path: Path) -> None:
    flood = "import sys\nwhile True: sys.stdout.write('# ' + 'x' * 65536 + '\\n')"
    repo = failing(make_repo, python_entry("-c", flood), extra="limits:\n  maxTotalMiB: 1\n")
    err = render_fails(repo, tmp_path, "--ref", "HEAD")
    assert "printed more than the input limit of 1,048,576 bytes" in err and "[GEN004]" in err


def test_every_failure_is_reported_and_the_diff_side_fails(make_repo, tmp_path: Path) -> None:
    repo = failing(make_repo, python_entry("-c", "import sys; sys.exit(1)"))
    code, out, err = cli(["diff", str(repo.path), "--base", "HEAD", "--head", "HEAD"])
    assert code == 2 and "[GEN002]" in err and "Plan:" not in out


def test_the_child_environment_has_no_bigip_variables(make_repo, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BIGIP_USERNAME", "BIGIP_PASSWORD", "BIGIP_HOST", "BIGIP_TOKEN"):
        monkeypatch.setenv(name, "s3cret-value")
    monkeypatch.setenv("MY_REGISTRY", "registry.example")
    monkeypatch.setenv("UNRELATED", "x")
    dump = tmp_path / "env.json"
    script = f"import json, os\njson.dump(dict(os.environ), open({str(dump)!r}, 'w'))\nprint('# nothing')"
    repo = failing(make_repo, python_entry("-c", script, env={"CHART_ENV": "prod"}, passEnv=["MY_REGISTRY"]))
    result = render(repo.path, "HEAD")
    seen = json.loads(dump.read_text())
    assert not [k for k in seen if k.upper().startswith("BIGIP")]
    assert "s3cret-value" not in json.dumps(seen)
    assert seen["PATH"] == os.environ["PATH"] and seen["HOME"] == os.environ["HOME"]
    assert seen["CHART_ENV"] == "prod" and seen["MY_REGISTRY"] == "registry.example" and "UNRELATED" not in seen
    assert seen["TZ"] == "UTC"
    assert seen["SOURCE_DATE_EPOCH"] == repo.git("log", "-1", "--format=%ct")
    assert [f.code for f in result.findings if f.code.startswith("GEN")] == ["GEN006"]  # printed no manifests


def test_bigip_names_and_unsplittable_strings_are_config_errors(make_repo, tmp_path: Path) -> None:
    for entry, text in ((python_entry("-c", "0", passEnv=["BIGIP_PASSWORD"]), "BIGIP_PASSWORD is never given"),
                        (python_entry("-c", "0", env={"bigip_host": "h"}), "bigip_host is never given"),
                        ("kustomize build 'overlays/prod", "cannot split the command into words"),
                        (python_entry("-c", "0", workingDir="../elsewhere"), "[CFG004]"),
                        (python_entry("-c", "0", cwd="."), "unknown key 'generate.1.cwd'"),
                        ({"command": []}, "[CFG003]")):
        repo = failing(make_repo, entry)
        err = render_fails(repo, tmp_path)
        assert text in err, err


def test_a_symlink_out_of_the_repository_is_not_extracted(make_repo, tmp_path: Path) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("outside\n")
    repo = make_repo()
    probe = ("import os\nfor p in ('chart/out-abs', 'chart/out-rel', 'chart/in', 'chart/hop'):\n"
             "    print('# ' + p + ' ' + str(os.path.exists(p)))")
    write_repo(repo.path, [CHART_ENTRY, python_entry("-c", probe)])
    os.symlink(secret, repo.path / "chart" / "out-abs")
    os.symlink("../../outside.txt", repo.path / "chart" / "out-rel")
    os.symlink("values.json", repo.path / "chart" / "in")
    os.symlink(".", repo.path / "chart" / "loop")
    os.symlink("loop/../../../outside.txt", repo.path / "chart" / "hop")  # leaves only through a link
    repo.commit(message="links")
    result = render(repo.path, "HEAD")
    assert result.ok, result.findings
    stream = next(v for k, v in result.generated.items() if k.startswith("generate[1]")).decode()
    assert stream.splitlines() == ["# chart/out-abs False", "# chart/out-rel False", "# chart/in True",
                                   "# chart/hop False"]
    warned = sorted(f.message.split(" ->")[0] for f in result.findings if f.code == "GEN007")
    assert warned == ["symlink chart/hop", "symlink chart/out-abs", "symlink chart/out-rel"]


def test_a_slash_in_the_program_is_relative_to_the_working_dir(make_repo) -> None:
    repo = make_repo()
    write_repo(repo.path, [["./chart/run.sh"]])
    (repo.path / "chart" / "run.sh").write_text(f"#!/bin/sh\nexec '{sys.executable}' chart/generate.py "
                                                "chart/values.json\n")
    (repo.path / "chart" / "run.sh").chmod(0o755)
    repo.commit(message="an executable script")  # the mode is in the commit, and in the extraction
    assert render(repo.path, "HEAD").ok
