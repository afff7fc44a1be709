"""Issue 16 items 10 and 12: the conventions of a command-line tool. A closed pipe is the reader's
success; --version (one source), -h, shell completion, help without `<bool>`, -v/-q, BIGIP_HOST."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from renderer.cli import main

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello-world"
SCRIPT = Path(sys.executable).parent / "as3-gitops"


def _run(*args: str, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=120, **kw)


def test_a_reader_that_closes_the_pipe_is_success_not_changes(make_repo, as3_schema_path: Path) -> None:
    """`diff ... | head -1`: the pipe is closed before the first write. Without --exit-code that is
    exit 0 (not click's 1, "changes"); with --exit-code the answer, decided before writing, stays
    1 whether the reader left before the write or after it (`| head -1` or `| cat`)."""
    repo = make_repo(HELLO)
    endpoints = repo.path / "snapshot" / "endpoints.yaml"
    endpoints.write_text(endpoints.read_text().replace("ip: 10.10.2.7\n", "ip: 10.10.2.8\n"))
    for extra, want in (([], 0), (["--exit-code"], 1), ([], 0), (["--exit-code"], 1)):
        proc = subprocess.Popen([str(SCRIPT), "diff", str(repo.path), "--base", "HEAD", *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**os.environ, "AS3_SCHEMA": str(as3_schema_path)})
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the tool writes anything
        err = proc.stderr.read().decode()
        proc.stderr.close()
        assert proc.wait(timeout=120) == want, err
        assert "Traceback" not in err and "BrokenPipe" not in err and "internal error" not in err
    read = subprocess.run([str(SCRIPT), "diff", str(repo.path), "--base", "HEAD", "--exit-code"],
                          capture_output=True, env={**os.environ, "AS3_SCHEMA": str(as3_schema_path)}, timeout=120)
    assert read.returncode == 1 and read.stdout  # the reader that stays gets the same answer


def test_version_comes_from_the_package_metadata() -> None:
    proc = _run("--version")
    assert proc.returncode == 0
    assert proc.stdout == f"as3-gitops {version('as3-gitops')}\n"
    import renderer

    assert version("as3-gitops") == renderer.__version__  # pyproject.toml reads it from there (dynamic)


def test_dash_h_is_help_and_no_flag_shows_a_bool_type(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    for command in ([], ["render"], ["diff"], ["deploy"], ["plan"], ["validate"], ["emulator"], ["snapshot", "capture"]):
        assert main([*command, "-h"]) == 0
        out = capsys.readouterr().out
        assert "Usage: as3-gitops" in out
        assert "<bool>" not in out and "--dry-run  <bool>" not in out
    assert main(["-h"]) == 0
    assert "--verbose             -v      <int>" not in capsys.readouterr().out  # a counter, not a value


def test_shell_completion_completes_commands_and_options() -> None:
    proc = _run(env={"_AS3_GITOPS_COMPLETE": "complete_bash", "COMP_WORDS": "as3-gitops ren", "COMP_CWORD": "1"})
    assert proc.stdout.split() == ["render"]
    proc = _run(env={"_AS3_GITOPS_COMPLETE": "complete_bash", "COMP_WORDS": "as3-gitops deploy --dry",
                     "COMP_CWORD": "2"})
    assert proc.stdout.split() == ["--dry-run"]
    # typer finds the shell among the process's ancestors, as it does for a user typing this in bash;
    # run it from bash (`; true`: bash stays the parent instead of exec-ing the command), so the test
    # does not depend on how pytest was started (setsid, CI, nohup)
    shown = subprocess.run(["bash", "-c", f"'{SCRIPT}' --show-completion; true"], capture_output=True, text=True,
                           timeout=120)
    assert "_as3_gitops_completion" in shown.stdout, shown.stderr


def test_bigip_host_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, make_repo, bigip_emulator) -> None:
    monkeypatch.setenv("BIGIP_USERNAME", bigip_emulator.username)
    monkeypatch.setenv("BIGIP_PASSWORD", bigip_emulator.password)
    monkeypatch.setenv("BIGIP_HOST", bigip_emulator.url)
    repo = make_repo(HELLO)
    out, saved = io.StringIO(), sys.stdout
    sys.stdout = out
    try:
        assert main(["plan", str(repo.path)]) == 0
    finally:
        sys.stdout = saved
    assert "Plan:" in out.getvalue()


def test_verbose_shows_the_clients_retries_and_quiet_hides_progress(monkeypatch, make_repo, bigip_emulator,
                                                                    capfd) -> None:
    monkeypatch.setenv("BIGIP_USERNAME", bigip_emulator.username)
    monkeypatch.setenv("BIGIP_PASSWORD", bigip_emulator.password)
    repo = make_repo(HELLO)
    fast = ["--busy-backoff", "0.05", "--poll-interval", "0.02"]
    bigip_emulator.control.faults([{"kind": "busy", "times": 2}])
    try:
        assert main(["-v", "deploy", str(repo.path), "--host", bigip_emulator.url, *fast]) == 0
        err = capfd.readouterr().err
        assert err.count("as3-gitops: device busy, retrying in ") == 2
        assert "deploy: preflight" in err
        repo.commit({"snapshot/endpoints.yaml": (repo.path / "snapshot/endpoints.yaml").read_text().replace(
            "ip: 10.10.2.7\n", "ip: 10.10.2.8\n")})
        bigip_emulator.control.faults([{"kind": "busy", "times": 1}])
        assert main(["-q", "deploy", str(repo.path), "--host", bigip_emulator.url, *fast]) == 0
        err = capfd.readouterr().err
        assert "deploy:" not in err and "retrying" not in err
    finally:
        logging.getLogger("renderer").setLevel(logging.WARNING)
