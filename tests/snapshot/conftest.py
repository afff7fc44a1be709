"""Fixtures for the snapshot tests: the fixture repository, a CLI runner, a Kubernetes API stand-in."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from snapshot_helpers import FIXTURES
from snapshot_kubeapi import KubeAPI


@pytest.fixture
def snapshot_repo(make_repo: Callable[[Path | None], Any]) -> Any:
    """A git repo with the fixture config and manifests (two referenced Services), no snapshot yet."""
    return make_repo(FIXTURES / "repo")


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out!r}, err={self.err!r})"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Run `as3-gitops ARGS` in-process through renderer.cli.main (exit-code mapping included)."""
    from renderer.cli import main

    def run(*args: str, stdin: bytes = b"") -> CliResult:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def kube_api(tmp_path: Path) -> Iterator[KubeAPI]:
    api = KubeAPI(tmp_path / "kube")
    api.start()
    yield api
    api.stop()
