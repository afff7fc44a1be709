"""What the in-process CLI tests share: `cli(args)` runs `main()` with stdout and stderr captured, and
`_schema_env` (autouse where imported) points AS3_SCHEMA at the reference copy."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from renderer.cli import main


@pytest.fixture(autouse=True)
def _schema_env(monkeypatch: pytest.MonkeyPatch, as3_schema_path: Path) -> None:
    monkeypatch.setenv("AS3_SCHEMA", str(as3_schema_path))


def cli(args: list[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of one in-process run of the CLI."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main(args)
    finally:
        sys.stdout, sys.stderr = saved
    return code, out.getvalue(), err.getvalue()
