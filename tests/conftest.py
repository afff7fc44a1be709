"""Shared fixtures: real git repositories in temp dirs, and no writes to the real home or cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings
from reference_data import REFERENCE_SKIP_PHRASES, reference_required

pytest_plugins = ["renderer.emulator.pytest_plugin"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
AS3_SCHEMA_DEFAULT = SHARED / "reference" / "as3-schema" / "as3-schema.json"

# How many examples a property test runs. "suite" (the default, what CI runs) keeps the whole suite
# within CI's budget; "deep" (AS3_GITOPS_HYPOTHESIS_PROFILE=deep) runs ten times as many, for a long
# local hunt. The fuzz tests scale their count from the profile (tests/fuzz_budget.py), so each keeps
# its share of the budget in both.
settings.register_profile("suite", max_examples=100)
settings.register_profile("deep", max_examples=1000)
settings.load_profile(os.environ.get("AS3_GITOPS_HYPOTHESIS_PROFILE", "suite"))

GIT_ENV = {
    "GIT_AUTHOR_NAME": "as3-gitops tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "as3-gitops tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and reference_required():
        reason = _skip_reason(report)
        if any(phrase in reason for phrase in REFERENCE_SKIP_PHRASES):
            report.outcome = "failed"
            report.longrepr = f"CI=true and the reference data is missing, so this test did not run: {reason}"
    return None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files from the current output instead of comparing")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden")) or os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch the real home directory or user cache."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    # The parse cache (renderer/cache.py) is on by default in the CLI: each test gets its own.
    monkeypatch.setenv("AS3_GITOPS_CACHE_DIR", str(home / ".cache" / "as3-gitops"))
    monkeypatch.delenv("AS3_GITOPS_NO_CACHE", raising=False)
    monkeypatch.delenv("AS3_GITOPS_CACHE_MAX_MIB", raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("BIGIP_PASSWORD", raising=False)


@pytest.fixture
def as3_schema_path() -> Path:
    """The official AS3 schema (AS3_SCHEMA, or the shared reference copy); skips visibly if absent."""
    path = Path(os.environ.get("AS3_SCHEMA") or AS3_SCHEMA_DEFAULT)
    if not path.is_file():
        pytest.skip(f"official AS3 schema not found at {path} (set AS3_SCHEMA)")
    return path


# Not copied for a build: version control, virtualenvs, earlier build output and caches.
_NOT_SOURCE = shutil.ignore_patterns(".git", ".venv*", "build", "dist", "out", "*.egg-info", "__pycache__",
                                     ".hypothesis", ".*_cache")


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """(the build's result, its dist folder): the project's wheel, built once per test process.

    Built from a copy of the source tree: a --no-isolation build in the checkout writes build/ and
    *.egg-info there, which two builds at once (pytest-xdist workers) would share. The tests assert
    on the result (exit code, warnings), so a failed build fails each of them with its output."""
    work = tmp_path_factory.mktemp("wheel")
    shutil.copytree(REPO_ROOT, work / "source", ignore=_NOT_SOURCE, symlinks=True)
    build = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                            str(work / "dist"), str(work / "source")], capture_output=True, text=True, cwd=work)
    return build, work / "dist"


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    out = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip()


class GitRepo:
    """A real git repository in a temp dir; `commit(files)` writes files and returns the sha."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "-q", "-b", "main")

    def write(self, files: dict[str, str | None]) -> None:
        for rel, text in files.items():
            target = self.path / rel
            if text is None:
                if target.exists():
                    target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)

    def commit(self, files: dict[str, str | None] | None = None, message: str = "change") -> str:
        if files:
            self.write(files)
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "--allow-empty", "-m", message)
        return git(self.path, "rev-parse", "HEAD")

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def copy_from(self, folder: Path) -> None:
        import shutil

        shutil.copytree(folder, self.path, dirs_exist_ok=True)


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[Path | None], GitRepo]:
    """Copy a checked-in folder (e.g. examples/hello-world) into a fresh repo and commit it."""
    counter = iter(range(1000))

    def _make(folder: Path | None = None) -> GitRepo:
        repo = GitRepo(tmp_path / f"repo{next(counter)}")
        if folder is not None:
            repo.copy_from(folder)
            repo.commit(message="initial")
        return repo

    return _make
