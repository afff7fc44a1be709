"""The in-memory ParseCache keys a working-tree file by its content, never by its path alone.

A working tree's content key is the file's path (renderer/trees.py: WorkTree.walk), so a cache that
remembers (diff's: `parse_cache(..., remember=True)`) and renders an edited working tree twice in one
process used to hand back the first parse. The whole-render memo avoids that by a cache that does not
remember; these cases take the other paths: no disk cache at all, and a disk cache with memo=False.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from renderer.cache import DiskCache
from renderer.cli.cache_option import parse_cache
from renderer.render import render
from renderer.source import GitTree, ParseCache, WorkTree, dump_json, load_documents

CASE = Path(__file__).parent / "cases" / "routes-tls"


def _tree(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(CASE, repo, ignore=shutil.ignore_patterns("expected"))
    return repo


def _edit(repo: Path) -> None:
    routes = repo / "manifests" / "routes.yaml"
    text = routes.read_text()
    assert "host: api.example.com" in text
    routes.write_text(text.replace("host: api.example.com", "host: api2.example.com"))


@pytest.mark.parametrize("disk", [False, True], ids=["no-disk-cache", "disk-cache-memo-off"])
def test_an_edited_working_tree_rendered_twice_with_one_cache_sees_the_edit(tmp_path: Path, disk: bool) -> None:
    repo = _tree(tmp_path)
    # diff's cache (it remembers); without a disk cache it is what `diff --no-cache` builds
    cache = ParseCache(DiskCache(tmp_path / "disk"), remember=True) if disk else parse_cache(True, None, remember=True)
    assert cache is not None
    memo = not disk  # with a disk cache, the whole-render memo would take its own (safe) path
    first = render(repo, None, cache=cache, memo=memo)
    assert first.ok and first.identity == "working tree"
    _edit(repo)
    again = render(repo, None, cache=cache, memo=memo)
    fresh = render(repo, None)
    assert dump_json(again.as3) == dump_json(fresh.as3) != dump_json(first.as3)
    assert "api2.example.com" in dump_json(again.as3).decode()


def test_an_unchanged_working_tree_file_is_still_served_from_memory(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    cache = ParseCache()
    first, _ = load_documents(WorkTree(repo), ["manifests"], cache)
    again, _ = load_documents(WorkTree(repo), ["manifests"], cache)
    assert [d.data for d in again] == [d.data for d in first]
    assert all(a is b for a, b in zip(again, first, strict=True))  # the same parse, not a new one


def test_a_working_tree_file_equal_to_its_committed_blob_shares_that_parse(tmp_path: Path) -> None:
    """Content keys are git blob ids on both sides, so diff of a dirty tree against HEAD parses the
    files it did not change once."""
    repo = _tree(tmp_path)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "c"], check=True)
    cache = ParseCache()
    committed, _ = load_documents(GitTree(repo, "HEAD"), ["manifests"], cache)
    worktree, _ = load_documents(WorkTree(repo), ["manifests"], cache)
    assert committed and all(a is b for a, b in zip(worktree, committed, strict=True))
    _edit(repo)
    edited, _ = load_documents(WorkTree(repo), ["manifests"], cache)
    for new, old in zip(edited, committed, strict=True):
        assert (new is old) is (new.source.path != "manifests/routes.yaml")
    assert "api2.example.com" in str([d.data for d in edited])
