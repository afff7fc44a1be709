"""Fixtures for the diff tests: the bundled example as a real git repo, the CLI, golden files.

Golden files under tests/diff/golden/ are rewritten with `pytest tests/diff --update-golden`
(or `UPDATE_GOLDEN=1 pytest`); without either, any difference fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
FIXTURES = HERE / "fixtures"
EXAMPLE = HERE.parent.parent / "examples" / "hello-world"


@pytest.fixture
def golden(update_golden: bool) -> Callable[[str, str], None]:
    """Compare `text` with tests/diff/golden/<name> byte for byte (or rewrite it)."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update_golden:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            return
        assert path.is_file(), f"golden file {path} is missing: run pytest tests/diff --update-golden"
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"output differs from {path} (pytest tests/diff --update-golden rewrites it)"

    return check


@pytest.fixture
def hello_repo(make_repo: Callable[[Path | None], Any]) -> Any:
    """A real git repository holding a copy of examples/hello-world, committed once."""
    if not (EXAMPLE / "as3-gitops.yaml").is_file():
        pytest.fail(f"the bundled example {EXAMPLE} is missing")
    return make_repo(EXAMPLE)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def diff_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `as3-gitops diff ARGS` in-process through renderer.cli.main (exit-code mapping included)."""
    from renderer.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main(["diff", *args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
