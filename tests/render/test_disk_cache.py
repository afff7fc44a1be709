"""The on-disk parse cache: corrupt entries, concurrent writers, the size bound, --no-cache, and
that parses with findings are never stored (every check is made again on every run)."""

from __future__ import annotations

import hashlib
import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import renderer
from renderer import cache as cache_mod
from renderer.cache import MAGIC, DiskCache
from renderer.cli import main
from renderer.render import render
from renderer.source import ParseCache, dump_json

REPO_ROOT = Path(__file__).resolve().parents[2]


def git(cwd: Path, *args: str) -> str:
    """git in a test repository (the autouse fixture sets author, committer and dates)."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()

HELLO = REPO_ROOT / "examples" / "hello-world"


def _key_of(blob: bytes) -> str:
    key_len = int.from_bytes(blob[len(MAGIC) + 32:len(MAGIC) + 36], "big")
    return blob[len(MAGIC) + 36:len(MAGIC) + 36 + key_len].decode("utf-8", "surrogatepass")


def _is_pointer(file: Path) -> bool:
    """The entry naming a path's last stored parse (renderer.cache `_previous`), not a parse."""
    return _key_of(file.read_bytes()).split("\0")[1:2] == ["last"]


def entries(root: Path, *, pointers: bool = False) -> list[Path]:
    """The parse entries under `root` (with `pointers`, every file)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and (pointers or not _is_pointer(p)))


def outputs(repo: Path, ref: str | None = None, disk: DiskCache | None = None) -> tuple:
    # the parse cache alone (memo=False): whole renders are tests/render/test_render_memo.py's
    result = render(repo, ref, cache=ParseCache(disk, remember=False) if disk else None, memo=False)
    return dump_json(result.as3), dump_json(result.net), [(f.code, f.message, f.location, f.hint)
                                                          for f in result.findings]


@pytest.fixture
def hello(make_repo) -> Any:
    return make_repo(HELLO)


def test_a_warm_render_hits_every_file_and_reads_no_blob(hello: Any, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    expected = outputs(hello.path, "HEAD")
    cold = DiskCache(tmp_path / "c")
    assert outputs(hello.path, "HEAD", cold) == expected
    assert cold.hits == 0 and cold.writes > 0
    from renderer.source import GitTree

    def no_read(self, path, key):  # a hit by blob id needs no blob
        raise AssertionError(f"read {path}")

    monkeypatch.setattr(GitTree, "read_keyed", no_read)
    warm = DiskCache(tmp_path / "c")
    assert outputs(hello.path, "HEAD", warm) == expected
    assert warm.hits == cold.writes and warm.writes == 0


@pytest.mark.parametrize("damage", ["truncate", "flip-payload", "flip-checksum", "garbage", "empty",
                                    "swap", "wrong-shape"])
def test_a_corrupt_entry_is_ignored_and_rebuilt(hello: Any, tmp_path: Path, damage: str) -> None:
    root = tmp_path / "c"
    expected = outputs(hello.path)
    outputs(hello.path, disk=DiskCache(root))
    files = entries(root, pointers=True)
    assert len(entries(root)) >= 2 and len(files) == 2 * len(entries(root))  # a pointer per YAML file
    parses = entries(root)
    good = {f: f.read_bytes() for f in files}
    for i, f in enumerate(files):
        blob = good[f]
        if damage == "truncate":
            f.write_bytes(blob[: len(blob) // 2])
        elif damage == "flip-payload":
            f.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
        elif damage == "flip-checksum":
            f.write_bytes(blob[:10] + bytes([blob[10] ^ 0x80]) + blob[11:])
        elif damage == "garbage":
            f.write_bytes(os.urandom(len(blob)))
        elif damage == "empty":
            f.write_bytes(b"")
        elif damage == "swap":  # a valid entry of another file: its key does not match
            f.write_bytes(good[files[(i + 1) % len(files)]])
        elif damage == "wrong-shape":  # checksum and key right, content not a parse
            key_len = int.from_bytes(blob[len(MAGIC) + 32:len(MAGIC) + 36], "big")
            key = blob[len(MAGIC) + 36:len(MAGIC) + 36 + key_len].decode("utf-8", "surrogatepass")
            f.write_bytes(cache_mod._encode(key, {"not": "a parse"}))
    disk = DiskCache(root)
    assert outputs(hello.path, disk=disk) == expected
    # every parse refused and rebuilt; a damaged pointer is refused too, silently (it is only a hint)
    assert disk.hits == 0 and disk.rejected == len(parses) and disk.writes == len(parses)
    assert disk.parses_spliced == 0
    assert {f: f.read_bytes() for f in entries(root, pointers=True)} == good  # rebuilt, byte for byte


def test_an_entry_of_another_tool_version_is_never_used(hello: Any, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "c"
    outputs(hello.path, disk=DiskCache(root))
    monkeypatch.setattr(renderer, "__version__", renderer.__version__ + ".dev1")
    cache_mod.tool_fingerprint.cache_clear()
    try:
        disk = DiskCache(root)
        outputs(hello.path, disk=disk)
        assert disk.hits == 0 and disk.writes > 0
    finally:
        monkeypatch.undo()
        cache_mod.tool_fingerprint.cache_clear()


def test_parses_with_findings_are_not_stored_and_report_every_time(git_repo: Any, tmp_path: Path) -> None:
    git_repo.copy_from(HELLO)
    (git_repo.path / "manifests" / "broken.yaml").write_text("a: 1\nb = 2\n")
    (git_repo.path / "manifests" / "bom.json").write_bytes(b"\xef\xbb\xbf{}")
    git_repo.commit()
    root = tmp_path / "c"
    expected = outputs(git_repo.path)
    assert any(f[0] == "SRC001" for f in expected[2])
    for _ in range(2):
        disk = DiskCache(root)
        assert outputs(git_repo.path, disk=disk) == expected
    assert disk.hits == len(entries(root))
    assert disk.misses == 2  # the two files with findings are parsed again


def test_concurrent_processes_share_one_cache(hello: Any, tmp_path: Path) -> None:
    """Two processes render in a loop into one small cache (so they also evict each other's
    entries); every render equals the uncached one and nothing half-written is left."""
    root = tmp_path / "c"
    for i in range(6):  # more files, so there is something to race on
        (hello.path / "manifests" / f"more-{i}.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: m{i}, namespace: default}}\ndata: {{k: v{i}}}\n")
    expected = hashlib.sha256(repr(outputs(hello.path)).encode()).hexdigest()
    script = (
        "import hashlib, sys\n"
        "from renderer.cache import DiskCache\n"
        "from renderer.render import render\n"
        "from renderer.source import ParseCache, dump_json\n"
        "for _ in range(15):\n"
        "    r = render(sys.argv[1], cache=ParseCache(DiskCache(sys.argv[2], max_bytes=6000), remember=False))\n"
        "    out = (dump_json(r.as3), dump_json(r.net), [(f.code, f.message, f.location, f.hint) "
        "for f in r.findings])\n"
        "    print(hashlib.sha256(repr(out).encode()).hexdigest(), flush=True)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(hello.path), str(root)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert out.split() == [expected] * 15
    for f in entries(root):
        assert not f.name.startswith(cache_mod.TEMP_PREFIX), f
        assert f.read_bytes().startswith(MAGIC)


def test_the_folder_stays_within_its_bound_and_the_oldest_entries_go(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path / "c", max_bytes=20_000)
    value = ("x" * 3000,)
    for i in range(5):
        assert disk.put(f"k{i}", value)
    files = {f.name: f for f in entries(tmp_path / "c")}
    assert len(files) == 5
    for i, key in enumerate(f"k{i}" for i in range(5)):  # k0 oldest ... k4 newest
        os.utime(disk._file(key), (1_000_000 + i, 1_000_000 + i))
    assert disk.get("k0") == value  # a hit makes k0 the most recently used
    for i in range(5, 9):
        assert disk.put(f"k{i}", value)
    total = sum(f.stat().st_size for f in entries(tmp_path / "c"))
    assert total <= 20_000
    assert disk.get("k1") is None and disk.get("k2") is None  # the least recently used went first
    assert disk.get("k0") == value and disk.get("k8") == value


def test_dead_temp_files_are_cleared_by_trim(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path / "c", max_bytes=1 << 20)
    disk.put("a", (1,))
    dead = disk._file("a").parent / (cache_mod.TEMP_PREFIX + "dead")
    dead.write_bytes(b"half")
    os.utime(dead, (1_000_000, 1_000_000))
    fresh = disk._file("a").parent / (cache_mod.TEMP_PREFIX + "writing")
    fresh.write_bytes(b"half")
    disk.trim()
    assert not dead.exists() and fresh.exists() and disk.get("a") == (1,)


def test_an_unwritable_cache_folder_is_only_a_miss(hello: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    disk = DiskCache(blocker / "c")
    assert outputs(hello.path, disk=disk) == outputs(hello.path)
    assert disk.writes == 0


def test_no_cache_leaves_the_cache_folder_alone(hello: Any, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    default = Path(os.environ["AS3_GITOPS_CACHE_DIR"])  # the autouse fixture's per-test folder
    repo = str(hello.path)
    assert main(["render", repo, "-o", str(tmp_path / "o1"), "--no-validate", "--no-cache"]) == 0
    assert main(["validate", repo, "--no-cache", "--as3-schema", "none.json"]) in (0, 2)
    assert main(["diff", repo, "--base", "HEAD", "--no-cache"]) == 0
    assert not default.exists() or not entries(default)
    assert main(["render", repo, "-o", str(tmp_path / "o2"), "--no-validate"]) == 0
    made = entries(default)
    assert made
    assert main(["diff", repo, "--base", "HEAD", "--cache-dir", str(tmp_path / "other")]) == 0
    assert entries(tmp_path / "other") and entries(default) == made
    capsys.readouterr()
    assert (tmp_path / "o1" / "as3.json").read_bytes() == (tmp_path / "o2" / "as3.json").read_bytes()


def test_the_environment_can_turn_the_cache_off(hello: Any, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AS3_GITOPS_NO_CACHE", "1")
    monkeypatch.setenv("AS3_GITOPS_CACHE_DIR", str(tmp_path / "env-dir"))
    assert main(["render", str(hello.path), "-o", str(tmp_path / "o"), "--no-validate"]) == 0
    assert not (tmp_path / "env-dir").exists()
    monkeypatch.delenv("AS3_GITOPS_NO_CACHE")
    assert main(["render", str(hello.path), "-o", str(tmp_path / "o"), "--no-validate"]) == 0
    assert entries(tmp_path / "env-dir")


def test_default_folder_follows_xdg() -> None:
    assert cache_mod.default_dir({"XDG_CACHE_HOME": "/x/cache"}) == Path("/x/cache/as3-gitops")
    assert cache_mod.default_dir({"XDG_CACHE_HOME": "relative"}) == Path.home() / ".cache" / "as3-gitops"
    assert cache_mod.default_dir({"AS3_GITOPS_CACHE_DIR": "/d", "XDG_CACHE_HOME": "/x"}) == Path("/d")
    assert cache_mod.default_max_bytes({"AS3_GITOPS_CACHE_MAX_MIB": "2"}) == 2 * 1024 * 1024
    assert cache_mod.default_max_bytes({}) == cache_mod.DEFAULT_MAX_MIB * 1024 * 1024


def test_working_tree_and_ref_share_entries_by_git_blob_id(hello: Any, tmp_path: Path) -> None:
    from renderer.cache import git_blob_id
    from renderer.source import GitTree, WorkTree, load_documents

    roots = ["manifests", "snapshot"]
    for f in hello.path.rglob("*.yaml"):
        assert git_blob_id(f.read_bytes()) == git(hello.path, "hash-object", str(f))
    filled = DiskCache(tmp_path / "c")
    load_documents(GitTree(hello.path, "HEAD"), roots, ParseCache(filled, remember=False))
    assert filled.writes >= 2
    shared = DiskCache(tmp_path / "c")
    from_disk, _ = load_documents(WorkTree(hello.path), roots, ParseCache(shared, remember=False))
    assert shared.hits == filled.writes and shared.writes == 0
    plain, _ = load_documents(WorkTree(hello.path), roots)
    assert [(d.path, d.index, d.line, d.data, d.source.text) for d in from_disk] == \
        [(d.path, d.index, d.line, d.data, d.source.text) for d in plain]


def test_a_working_tree_hit_must_match_the_content_digest_too(hello: Any, tmp_path: Path) -> None:
    """Same key (path, blob id), but the entry says it was parsed from other bytes: refused."""
    from renderer.source import WorkTree, load_documents

    root = tmp_path / "c"
    load_documents(WorkTree(hello.path), ["manifests"], ParseCache(DiskCache(root), remember=False))
    for f in entries(root):
        blob = f.read_bytes()
        key_len = int.from_bytes(blob[len(MAGIC) + 32:len(MAGIC) + 36], "big")
        key = blob[len(MAGIC) + 36:len(MAGIC) + 36 + key_len].decode("utf-8", "surrogatepass")
        stored = marshal.loads(blob[len(MAGIC) + 36 + key_len:])
        f.write_bytes(cache_mod._encode(key, (hashlib.sha256(b"other bytes").digest(), *stored[1:])))
    disk = DiskCache(root)
    load_documents(WorkTree(hello.path), ["manifests"], ParseCache(disk, remember=False))
    assert disk.hits == 0 and disk.rejected == len(entries(root)) > 0


def test_what_else_the_parse_depends_on_is_part_of_the_key(tmp_path: Path) -> None:
    """ParseCache passes parse_file's further arguments (the input limits) as `extra`."""
    from renderer.source import parse_file

    data = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    disk = DiskCache(tmp_path / "c")
    for extra in ("(Limits(a=1),)", "(Limits(a=2),)", "(Limits(a=1),)"):
        disk.parse("m.yaml", "m.yaml", lambda: data, lambda raw, previous: parse_file("m.yaml", raw, previous=previous), extra)
    assert (disk.writes, disk.hits) == (2, 1)
