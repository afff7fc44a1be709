"""GitTree reads a commit through the git binary (renderer/gitobjects.py): the same files, keys and
bytes GitPython read (GitPython is the reference here; the render path no longer imports it), and
never a hang or a leaked process when git misbehaves. Real repositories in temp dirs."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from renderer import gitobjects
from renderer.cli import main
from renderer.errors import SourceError
from renderer.gitobjects import GitReadError
from renderer.source import GitTree, load_documents

ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_AUTHOR_DATE": "1700000000 +0000",
       "GIT_COMMITTER_DATE": "1700000000 +0000"}
LFS_POINTER = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"a" * 64 + b"\nsize 12\n"
ODD_NAME = b"manifests/caf\xe9.yaml"  # Latin-1: not UTF-8


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env={**os.environ, **ENV})
    return done.stdout.decode()


def _repo(tmp_path: Path) -> Path:
    """Files, an executable, symlinks (inside, dangling, to a folder), a gitlink, a non-UTF-8 name,
    an LFS pointer, a quoted-looking name, two commits."""
    repo = tmp_path / "repo"
    (repo / "envs" / "prod" / "manifests").mkdir(parents=True)
    (repo / "manifests").mkdir()
    (repo / "manifests" / "a.yaml").write_text("kind: A\n")
    (repo / "manifests" / 'tab\tand "quote".yaml').write_text("kind: Q\n")
    (repo / "manifests" / "big.bin").write_bytes(LFS_POINTER)
    (repo / "envs" / "prod" / "manifests" / "p.yaml").write_text("kind: P\n")
    (repo / "envs" / "prod" / "run.sh").write_text("#!/bin/sh\n")
    (repo / "envs" / "prod" / "run.sh").chmod(0o755)
    os.symlink("a.yaml", repo / "manifests" / "link.yaml")
    os.symlink("../nowhere", repo / "manifests" / "dangling.yaml")
    os.symlink("manifests", repo / "alias")
    with open(os.path.join(os.fsencode(repo), ODD_NAME), "wb") as out:
        out.write(b"kind: Odd\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "one")
    sub = _git(repo, "rev-parse", "HEAD").strip()
    _git(repo, "update-index", "--add", "--cacheinfo", f"160000,{sub},manifests/sub")  # a submodule
    (repo / "manifests" / "a.yaml").write_text("kind: A2\n")
    _git(repo, "add", "manifests/a.yaml")
    _git(repo, "commit", "-qm", "two")
    return repo


def _gitpython_view(repo: Path, folder: str) -> dict[str, tuple[str, bytes, int]]:
    """What the former GitPython tree gave: blob path -> (hexsha, bytes, size)."""
    import git

    with git.Repo(repo) as opened:  # closed: its cat-file processes end here
        tree = opened.commit("HEAD").tree
        if folder:
            tree = tree / folder
        cut = len(folder) + 1 if folder else 0
        return {item.path[cut:]: (item.hexsha, item.data_stream.read(), item.size)
                for item in tree.traverse() if item.type == "blob"}


@pytest.mark.parametrize("folder", ["", "envs/prod"], ids=["root", "monorepo-folder"])
def test_the_same_files_keys_and_bytes_as_gitpython(tmp_path: Path, folder: str) -> None:
    repo = _repo(tmp_path)
    expected = _gitpython_view(repo, folder)
    with GitTree(repo / folder if folder else repo, "HEAD") as tree:
        walked = list(tree.walk("."))
        assert walked == sorted((path, sha) for path, (sha, _, _) in expected.items())
        for path, (sha, data, size) in expected.items():
            assert tree.read(path) == data and tree.read_keyed(path, sha) == data
            assert tree.size(path, sha) == size
        assert tree.identity == _git(repo, "rev-parse", "HEAD").strip()
    if not folder:
        assert os.fsdecode(ODD_NAME) in dict(walked)  # the raw bytes round-trip (surrogateescape)
        assert dict(walked)["manifests/link.yaml"] and tree.read("manifests/link.yaml") == b"a.yaml"
        assert tree.read("manifests/big.bin") == LFS_POINTER  # the pointer, never smudged
        assert tree.exists("manifests/sub") and tree.read("manifests/sub") is None  # the gitlink
        assert "manifests/sub" not in dict(walked) and list(tree.walk("manifests/sub")) == []
        assert tree.exists("manifests") and tree.read("manifests") is None
        assert list(tree.walk("manifests/a.yaml")) == [("manifests/a.yaml", expected["manifests/a.yaml"][0])]
        assert list(tree.walk("alias")) == [("alias", expected["alias"][0])]  # a symlink is its target text
        assert list(tree.walk("missing")) == [] and not tree.exists("missing")


def test_modes_commit_time_and_history(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    with GitTree(repo, "HEAD") as tree:
        files = {path: mode for path, mode, _sha in tree.commit_files()}
        assert files["envs/prod/run.sh"] == 0o100755 and files["manifests/link.yaml"] == 0o120000
        assert "manifests/sub" not in files
        assert tree.committed_date == 1700000000
        assert tree.last_change(["manifests"]) == 1700000000 and tree.last_change(["nothing"]) is None
    with GitTree(repo / "envs" / "prod", "HEAD~1") as prod:
        assert prod.last_change(["manifests"]) == 1700000000


def test_bad_refs_and_folders_are_source_errors(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    for ref in ("no-such-branch", "HEAD~9", "-x", "HEAD:manifests"):
        with pytest.raises(SourceError, match="unknown git ref"):
            GitTree(repo, ref)
    (repo / "later").mkdir()
    with pytest.raises(SourceError, match="does not exist at HEAD"):
        GitTree(repo / "later", "HEAD")
    with pytest.raises(SourceError, match="not inside a git repository"):
        GitTree(tmp_path / "elsewhere", "HEAD")
    outside = tmp_path / "plain"
    outside.mkdir()
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", f"from renderer.source import GitTree; GitTree({str(outside)!r}, 'HEAD')"],
                          capture_output=True, text=True, env=env, check=False)
    assert "not inside a git repository" in done.stderr


def _fake_git(tmp_path: Path, cat_file: str) -> dict[str, str]:
    """PATH with a `git` that runs the real one, except that `cat-file` runs `cat_file` (sh)."""
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True, check=True).stdout.strip()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "git"
    script.write_text(f'#!/bin/sh\nfor a in "$@"; do [ "$a" = cat-file ] && {{ {cat_file}; }}; done\nexec {real} "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize("behaviour, message", [("exec sleep 600", "no answer within 1 s"),
                                                 ("exit 3", "stopped"),
                                                 ("exec head -c 20 /dev/zero", "stopped")],
                         ids=["stuck", "dead", "garbage"])
def test_a_stuck_or_dead_cat_file_is_an_error_not_a_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         behaviour: str, message: str) -> None:
    repo = _repo(tmp_path)
    monkeypatch.setattr(gitobjects, "TIMEOUT", 1.0)
    monkeypatch.setenv("PATH", _fake_git(tmp_path, behaviour)["PATH"])
    with GitTree(repo, "HEAD") as tree, pytest.raises(GitReadError, match=message):
        load_documents(tree, ["manifests"])  # not one SRC005 per file: the whole read fails
    assert tree._blobs._proc is None  # closed after the failure


def test_cli_reports_a_dead_git_with_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    hello = Path(__file__).resolve().parents[2] / "examples" / "hello-world"
    repo = tmp_path / "hello"
    subprocess.run(["cp", "-r", str(hello), str(repo)], check=True)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "x")
    monkeypatch.setenv("PATH", _fake_git(tmp_path, "exit 3")["PATH"])
    code = main(["render", str(repo), "--ref", "HEAD", "-o", str(tmp_path / "out"), "--no-cache", "--no-validate"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "git cat-file stopped" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_the_cat_file_process_ends_also_on_keyboard_interrupt(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from renderer import render as render_module

    repo = _repo(tmp_path)
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def recording(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        started.append(proc)
        return proc

    def interrupted(tree, **_kwargs):
        assert tree.read("manifests/a.yaml") == b"kind: A2\n"
        raise KeyboardInterrupt

    monkeypatch.setattr(gitobjects.subprocess, "Popen", recording)
    monkeypatch.setattr(render_module, "render_tree", interrupted)
    with pytest.raises(KeyboardInterrupt):
        render_module.render(repo, "HEAD")
    batch = [proc for proc in started if "cat-file" in proc.args]
    assert len(batch) == 1 and batch[0].poll() is not None  # started once, and gone
    assert all(proc.poll() is not None for proc in started)
