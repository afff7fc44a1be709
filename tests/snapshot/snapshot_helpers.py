"""Paths and small helpers shared by the snapshot tests (imported by module name: pytest prepends this folder)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"
KUBECTL_ALL = FIXTURES / "kubectl-all.yaml"


def git_out(repo: Path, *args: str) -> str:
    """Output of a git command in `repo` (the autouse fixture already set author/committer env)."""
    import subprocess

    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout
