"""The parse cache never changes a result: render with and without it over many random edits of a
real git repository (working tree and --ref), and require byte-identical output and findings."""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench_package import bench_generate, synthetic_repo

from renderer.cache import DiskCache
from renderer.cli import main
from renderer.render import RenderResult, render
from renderer.source import ParseCache, dump_json

REPO_ROOT = Path(__file__).resolve().parents[2]


def git(cwd: Path, *args: str) -> str:
    """git in a test repository (the autouse fixture sets author, committer and dates)."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()

gen = bench_generate()

SIZE = 60
STEPS = 20
BUDGET_S = 60.0  # a loaded machine: stop adding steps after this, but never before 8 steps


def snapshot_of(result: RenderResult) -> tuple[Any, ...]:
    """Everything a command prints or writes from a render, as comparable values."""
    findings = [(f.code, f.message, str(f.location), f.location, f.severity, f.hint) for f in result.findings]
    sources = sorted((key, tuple((str(o), o.location, o.kind) for o in origins))
                     for key, origins in result.sources.items())
    counts = result.counts and (result.counts.rendered, result.counts.skipped)
    return dump_json(result.as3), dump_json(result.net), findings, sources, counts, result.identity


def manifest_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts
                  and p.suffix in (".yaml", ".yml", ".json") and p.name != "as3-gitops.yaml")


# Each edit takes (rng, repo root, history of earlier file contents) and changes one or more files.
def edit_balance(rng: random.Random, root: Path, _h: dict) -> None:
    files = sorted((root / "manifests" / "ingresses").glob("*.yaml"))
    if not files:
        return
    f = rng.choice(files)
    text = f.read_text()
    modes = [*gen.BALANCES, gen.CHANGED_BALANCE]
    old, new = rng.sample(modes, 2)
    f.write_text(text.replace(f"balance: {old}\n", f"balance: {new}\n", 1))


def edit_move_pod(rng: random.Random, root: Path, _h: dict) -> None:
    files = sorted((root / "snapshot" / "endpoints").glob("*.yaml"))
    if not files:
        return
    f = rng.choice(files)
    lines = f.read_text().splitlines(keepends=True)
    ips = [i for i, line in enumerate(lines) if line.strip().startswith("- ip: ")]
    if ips:
        i = rng.choice(ips)
        lines[i] = lines[i].rsplit(".", 1)[0] + f".{rng.randint(200, 254)}\n"
    f.write_text("".join(lines))


def edit_break_syntax(rng: random.Random, root: Path, _h: dict) -> None:
    f = rng.choice(manifest_files(root))
    lines = f.read_text().splitlines(keepends=True)
    lines.insert(rng.randrange(len(lines) + 1), rng.choice(["  balance = round-robin\n", "\tkey: value\n",
                                                            "key: [unclosed\n"]))
    f.write_text("".join(lines))


def edit_duplicate_key(rng: random.Random, root: Path, _h: dict) -> None:
    f = rng.choice(manifest_files(root))
    text = f.read_text()
    f.write_text(text.replace("metadata:\n", "metadata:\n  name: duplicated\n", 1))


def edit_revert(rng: random.Random, root: Path, history: dict) -> None:
    """Put back an earlier content of a file: the cache has that content already."""
    if history:
        rel = rng.choice(sorted(history))
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(rng.choice(history[rel]))


def edit_delete(rng: random.Random, root: Path, _h: dict) -> None:
    files = manifest_files(root)
    if len(files) > 3:
        rng.choice(files).unlink()


def edit_copy(rng: random.Random, root: Path, _h: dict) -> None:
    """Same bytes at another path (and sometimes another suffix): a different key."""
    f = rng.choice(manifest_files(root))
    suffix = rng.choice([".yaml", ".yml", ".json"])
    (root / "manifests" / f"copy-{rng.randrange(1000)}{suffix}").write_bytes(f.read_bytes())


def edit_shift_lines(rng: random.Random, root: Path, _h: dict) -> None:
    """Comments and empty documents move every line: positions of findings must follow."""
    f = rng.choice(manifest_files(root))
    f.write_text(rng.choice(["# moved\n", "---\n", "\n\n"]) + f.read_text())


def edit_yaml_types(rng: random.Random, root: Path, _h: dict) -> None:
    """Values JSON cannot hold (and one marshal cannot: a datetime), aliases, a BOM, odd keys."""
    extra = rng.choice([
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-ts, namespace: default}\n"
        "data: {when: !!timestamp 2026-01-01T00:00:00Z}\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: cm-alias, namespace: default}\n"
        "data: {a: !!binary aGVsbG8=, s: !!set {x, y}, 1: int-key, null: z, 1.5: f}\nextra: *m\n",
        "apiVersion: v1\nkind: Service\nmetadata: {name: svc-odd, namespace: default}\n"
        "spec: {ports: [{port: 0x50}, {port: 1_0}], big: 123456789012345678901234567890, nan: .nan}\n",
    ])
    name = f"manifests/extra-{rng.randrange(1000)}.yaml"
    data = extra.encode()
    if rng.random() < 0.3:
        data = b"\xef\xbb\xbf" + data
    (root / name).write_bytes(data)


def edit_binary(rng: random.Random, root: Path, _h: dict) -> None:
    (root / "manifests" / "bad.yaml").write_bytes(rng.choice([b"\xff\xfe bad", b"a: \x00"]))


EDITS = [edit_balance, edit_balance, edit_move_pod, edit_move_pod, edit_break_syntax, edit_duplicate_key,
         edit_revert, edit_revert, edit_delete, edit_copy, edit_shift_lines, edit_yaml_types, edit_binary]


@pytest.fixture
def synthetic(git_repo: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    return synthetic_repo(git_repo, monkeypatch, SIZE, 10)  # many small files: a mix of hits and misses


def _record(root: Path, history: dict) -> None:
    for f in manifest_files(root):
        history.setdefault(f.relative_to(root).as_posix(), []).append(f.read_bytes())


def edited_refs(synthetic: Any, rng: random.Random, *, steps: int, budget_s: float,
                at_least: int) -> Iterator[tuple[int, str | None]]:
    """Random edits of `synthetic`, one to three per step, some steps committed: after each step,
    (step, ref) for the working tree, and when committed for HEAD and an earlier commit. Stops
    adding steps after `budget_s` (a loaded machine), never before `at_least` steps."""
    root = synthetic.path
    history: dict[str, list[bytes]] = {}
    _record(root, history)
    started = time.monotonic()
    for step in range(steps):
        if step >= at_least and time.monotonic() - started > budget_s:
            return
        for _ in range(rng.randint(1, 3)):
            rng.choice(EDITS)(rng, root, history)
        _record(root, history)
        refs: list[str | None] = [None]
        if rng.random() < 0.6:
            synthetic.commit(message=f"step {step}")
            refs.append("HEAD")
            if step > 2:
                refs.append(git(root, "rev-parse", f"HEAD~{rng.randint(1, 2)}"))
        for ref in refs:
            yield step, ref


def test_random_edits_render_identically_with_and_without_the_cache(synthetic: Any, tmp_path: Path) -> None:
    rng = random.Random(19)
    root = synthetic.path
    cache_dir = tmp_path / "cache"
    hits = writes = 0
    for step, ref in edited_refs(synthetic, rng, steps=STEPS, budget_s=BUDGET_S, at_least=8):
        disk = DiskCache(cache_dir)
        cached = render(root, ref, cache=ParseCache(disk, remember=False))
        plain = render(root, ref)
        assert snapshot_of(cached) == snapshot_of(plain), f"step {step}, ref {ref}"
        hits, writes = hits + disk.hits, writes + disk.writes
        assert disk.rejected == 0
    # The cache did work (a cache that never hits would pass the comparison trivially).
    assert hits > 50 and writes > 10, (hits, writes)


def test_cli_render_output_is_byte_identical_warm_cold_and_without(synthetic: Any, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = synthetic.path
    gen.change_balance(root, SIZE, 7)
    outputs = []
    for args in (["--cache-dir", str(tmp_path / "c")], ["--cache-dir", str(tmp_path / "c")], ["--no-cache"]):
        out = tmp_path / f"out{len(outputs)}"
        code = main(["render", str(root), "-o", str(out), "--no-validate", "--format", "text", *args])
        captured = capsys.readouterr()
        outputs.append((code, (out / "as3.json").read_bytes(), (out / "net.json").read_bytes(),
                        captured.out, captured.err.replace(str(out), "OUT")))
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0][0] == 0
    assert any((tmp_path / "c").rglob("*")), "the cached runs wrote entries"
