"""The exit-code table: usage errors are 2, bugs are 5 with one line (the traceback only with --debug)."""

from __future__ import annotations

import pytest

import renderer.render as render_module
from renderer.cli import main


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nosuch"]) == 2
    assert "No such command 'nosuch'" in capsys.readouterr().err


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert "No such option" in err and "--bogus" in err  # click's wording varies between versions
    assert "Usage: as3-gitops render" in err


def test_missing_repository_is_a_clean_error(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(tmp_path / "nope"), "-o", "-"]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'nope'}: not a directory\n  hint: pass the repository folder\n"


def _explode(*_args, **_kwargs):
    raise RuntimeError("boom")


def test_internal_error_is_exit_5_with_one_line(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setattr(render_module, "render", _explode)  # the command imports it when run
    assert main(["render", str(tmp_path), "-o", "-"]) == 5
    err = capsys.readouterr().err
    assert err == "as3-gitops: internal error (a bug); run again with --debug for the traceback\n"


def test_debug_shows_the_traceback_of_an_internal_error(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setattr(render_module, "render", _explode)  # the command imports it when run
    assert main(["--debug", "render", str(tmp_path), "-o", "-"]) == 5
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError: boom" in err
