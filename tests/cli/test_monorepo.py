"""Issue 16 items 2 and 3: a configuration folder below the git root (a monorepo; envs/prod and
envs/staging in one repository) works with --ref, diff and validate; a clean checkout is its commit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_capture import _schema_env  # noqa: F401 (_schema_env is autouse)
from cli_capture import cli as _cli

from renderer.render import render

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello-world"


@pytest.fixture
def platform(make_repo):
    """A platform repository: envs/prod and envs/staging (one BIG-IP each) among other code."""
    repo = make_repo()
    repo.write({"README.md": "platform\n", "app/main.py": "print('hi')\n"})
    first = repo.commit(message="platform")
    for env in ("prod", "staging"):
        shutil.copytree(HELLO, repo.path / "envs" / env)
    second = repo.commit(message="F5 config")
    endpoints = repo.path / "envs" / "staging" / "snapshot" / "endpoints.yaml"
    endpoints.write_text(endpoints.read_text().replace("ip: 10.10.2.7\n", "ip: 10.10.2.8\n"))
    third = repo.commit(message="staging: pod moved")
    return repo, (first, second, third)


def test_render_of_a_subfolder_at_a_ref(platform, tmp_path: Path) -> None:
    repo, (_, _, third) = platform
    code, _, err = _cli(["render", str(repo.path / "envs" / "prod"), "--ref", "HEAD", "-o", str(tmp_path / "o")])
    assert code == 0, err
    assert f'"remark": "as3-gitops {third}"' in (tmp_path / "o" / "as3.json").read_text()
    # the same bytes as rendering the folder on its own as a repository of its own
    alone = render(repo.path / "envs" / "prod", "HEAD")
    assert alone.ok and alone.identity == third


def test_validate_and_diff_of_a_subfolder(platform) -> None:
    repo, (_, second, third) = platform
    staging, prod = repo.path / "envs" / "staging", repo.path / "envs" / "prod"
    assert _cli(["validate", str(staging), "--ref", second])[0] == 0
    code, out, err = _cli(["diff", str(staging), "--base", second, "--head", third])
    assert code == 0, err
    assert "+ ARP 10.10.2.8" in out and "- ARP 10.10.2.7" in out
    code, out, err = _cli(["diff", str(prod), "--base", second, "--head", third, "--exit-code"])
    assert code == 0, out + err  # prod did not change in that commit


def test_a_folder_missing_at_the_base_ref_is_a_clean_error(platform) -> None:
    repo, (first, _, third) = platform
    code, _, err = _cli(["diff", str(repo.path / "envs" / "prod"), "--base", first, "--head", third])
    assert code == 2
    assert f"folder 'envs/prod' does not exist at {first}" in err


def test_a_folder_outside_any_repository_says_so(tmp_path: Path) -> None:
    shutil.copytree(HELLO, tmp_path / "plain")
    code, _, err = _cli(["render", str(tmp_path / "plain"), "--ref", "HEAD", "-o", "-"])
    assert code == 2
    assert "not inside a git repository" in err


def test_a_clean_subfolder_is_its_commit_and_a_dirty_one_the_working_tree(platform) -> None:
    repo, (_, _, third) = platform
    prod = repo.path / "envs" / "prod"
    assert render(prod).identity == third
    (repo.path / "app" / "main.py").write_text("print('changed')\n")  # outside the folder: still clean
    assert render(prod).identity == third
    (prod / "manifests" / "new.yaml").write_text("# untracked\n")
    assert render(prod).identity == "working tree"
