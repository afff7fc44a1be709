"""The whole-render memo never changes a result.

Over a seeded sequence of random edits of a real git repository (benchmarks/generate.py at a
small size: Ingresses, annotations, partitions, Services, pods, Nodes, the configuration), every
render and every diff is made three ways, with a long-lived warm cache, with a fresh (cold)
cache and then again from it, and with no cache, and the output must be byte-identical: the
declarations, the findings, the sources, the counts and the diff report.
"""

from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from bench_package import bench_generate, synthetic_repo

from renderer import render_memo
from renderer.cache import DiskCache
from renderer.cli import main
from renderer.render import RenderResult, render
from renderer.source import ParseCache, dump_json, open_tree

REPO_ROOT = Path(__file__).resolve().parents[2]
TLS_CASE = REPO_ROOT / "tests" / "render" / "cases" / "tls-redirect-shared-vip"

gen = bench_generate()

SIZE = 30
STEPS = 10


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def snapshot_of(result: RenderResult) -> tuple[Any, ...]:
    """Everything a command prints or writes from a render, as comparable values."""
    findings = [(f.code, f.message, str(f.location), f.location, str(f.severity), f.hint) for f in result.findings]
    sources = [(key, tuple((str(o), o.location, o.kind, o.namespace, o.name) for o in origins))
               for key, origins in result.sources.items()]
    counts = result.counts and (result.counts.rendered, result.counts.skipped)
    order = tuple(result.as3.get("declaration", {}))  # key order too, not only the sorted output
    return (dump_json(result.as3), dump_json(result.net), findings, sources, counts, result.identity,
            result.config, order)


# --- edits: each takes (rng, repository root) and changes one or more files -----------------------

def _docs(path: Path) -> list[str]:
    return path.read_text().split("---\n")


def _pick(rng: random.Random, root: Path, folder: str) -> Path | None:
    files = sorted((root / folder).rglob("*.yaml"))
    return rng.choice(files) if files else None


def _sub_once(rng: random.Random, root: Path, folder: str, pattern: str, repl: Any) -> None:
    f = _pick(rng, root, folder)
    if f is None:
        return
    text = f.read_text()
    spots = list(re.finditer(pattern, text, re.M))
    if spots:
        m = rng.choice(spots)
        new = repl(m) if callable(repl) else m.expand(repl)
        f.write_text(text[:m.start()] + new + text[m.end():])


def edit_balance(rng: random.Random, root: Path) -> None:
    mode = rng.choice([*gen.BALANCES, gen.CHANGED_BALANCE])
    _sub_once(rng, root, "manifests/ingresses", r"balance: \S+$", f"balance: {mode}")


def edit_partition(rng: random.Random, root: Path) -> None:
    _sub_once(rng, root, "manifests/ingresses", r"partition: \S+$", f"partition: tenant{rng.randrange(12)}")


def edit_add_ingress(rng: random.Random, root: Path) -> None:
    f = _pick(rng, root, "manifests/ingresses")
    if f is None:
        return
    docs = _docs(f)
    new = re.sub(r"^  name: (\S+)$", lambda m: f"  name: {m.group(1)}-x{rng.randrange(1000)}",
                 rng.choice(docs), count=1, flags=re.M)
    new = re.sub(r'ip: "[\d.]+"', f'ip: "10.9.{rng.randrange(250)}.{rng.randrange(1, 250)}"', new, count=1)
    f.write_text("---\n".join([*docs, new]))


def edit_remove_doc(rng: random.Random, root: Path) -> None:
    f = _pick(rng, root, rng.choice(["manifests/ingresses", "manifests/services", "snapshot/endpoints"]))
    if f is None:
        return
    docs = _docs(f)
    if len(docs) > 1:
        docs.pop(rng.randrange(len(docs)))
        f.write_text("---\n".join(docs))


def edit_service_port(rng: random.Random, root: Path) -> None:
    _sub_once(rng, root, "manifests/services", r"port: 80$", lambda _m: f"port: {rng.choice([80, 81, 8080])}")


def edit_move_pod(rng: random.Random, root: Path) -> None:
    _sub_once(rng, root, "snapshot/endpoints", r"- ip: ([\d.]+)\.\d+$",
              lambda m: f"- ip: {m.group(1)}.{rng.randint(200, 254)}")


def edit_node(rng: random.Random, root: Path) -> None:
    if rng.random() < 0.5:
        _sub_once(rng, root, "snapshot/nodes", r'status: "(True|False)"$',
                  lambda m: f'status: "{"False" if m.group(1) == "True" else "True"}"')
    else:
        _sub_once(rng, root, "snapshot/nodes", r'"VtepMAC":"0e:00:00:00:(\w\w):(\w\w)"',
                  lambda m: f'"VtepMAC":"0e:00:00:00:{m.group(1)}:{rng.randrange(256):02x}"')


def edit_config(rng: random.Random, root: Path) -> None:
    f = root / "as3-gitops.yaml"
    text = f.read_text()
    choice = rng.randrange(3)
    if choice == 0:
        text = re.sub(r"^  partition: \S+$", f"  partition: tenant{rng.randrange(3)}", text, count=1, flags=re.M)
    elif choice == 1:
        text = re.sub(r"^  key: \d+$", f"  key: {rng.randint(1, 3)}", text, count=1, flags=re.M)
    else:
        text = text.replace("floodingType: none", "floodingType: multipoint") if "none" in text \
            else text.replace("floodingType: multipoint", "floodingType: none")
    f.write_text(text)


def edit_shift(rng: random.Random, root: Path) -> None:
    """Every position of a file moves: origins and finding lines must follow."""
    f = _pick(rng, root, rng.choice(["manifests", "snapshot"]))
    if f is not None:
        f.write_text(rng.choice(["# moved\n", "\n"]) + f.read_text())


def edit_break(rng: random.Random, root: Path) -> None:
    f = _pick(rng, root, "manifests")
    if f is not None:
        f.write_text(f.read_text() + rng.choice(["key: [unclosed\n", "\tx: 1\n"]))


EDITS = [edit_balance, edit_balance, edit_partition, edit_add_ingress, edit_remove_doc, edit_service_port,
         edit_move_pod, edit_move_pod, edit_node, edit_config, edit_shift, edit_break]


@pytest.fixture
def synthetic(git_repo: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    return synthetic_repo(git_repo, monkeypatch, SIZE, 8)


def _three_ways(root: Path, ref: str | None, warm: Path, cold: Path) -> tuple[Any, DiskCache]:
    disk = DiskCache(warm)
    warm_result = render(root, ref, cache=ParseCache(disk, remember=False))
    cold_results = [render(root, ref, cache=ParseCache(DiskCache(cold), remember=False)) for _ in range(2)]
    plain = render(root, ref)
    expected = snapshot_of(plain)
    assert snapshot_of(warm_result) == expected
    assert [snapshot_of(r) for r in cold_results] == [expected, expected]
    return expected, disk


def _diff(root: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["diff", str(root), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_random_edits_render_and_diff_identically_warm_cold_and_without(
        synthetic: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(1919)
    root = synthetic.path
    warm = tmp_path / "warm"
    hits = 0
    commits = [git(root, "rev-parse", "HEAD")]
    for step in range(STEPS):
        for _ in range(rng.randint(1, 3)):
            rng.choice(EDITS)(rng, root)
        if rng.random() < 0.75:
            commits.append(synthetic.commit(message=f"step {step}"))
        refs: list[str | None] = [None, "HEAD", rng.choice(commits)]
        for n, ref in enumerate(refs):
            _snap, disk = _three_ways(root, ref, warm, tmp_path / f"cold-{step}-{n}")
            hits += getattr(disk, "memo_hits", 0)
        base = rng.choice(commits)
        for head in (["--head", "HEAD"], []):  # a commit, and the working tree
            for fmt in ("text", "json"):
                args = ["--base", base, *head, "--format", fmt, "--exit-code"]
                runs = [_diff(root, [*args, "--cache-dir", str(warm)], capsys),
                        _diff(root, [*args, "--cache-dir", str(tmp_path / f"dcold-{step}")], capsys),
                        _diff(root, [*args, "--cache-dir", str(tmp_path / f"dcold-{step}")], capsys),
                        _diff(root, [*args, "--no-cache"], capsys)]
                assert runs[0] == runs[1] == runs[2] == runs[3], f"step {step}, diff {args}"
        if step % 4 == 0:
            outputs = []
            for args in (["--cache-dir", str(warm)], ["--cache-dir", str(warm)], ["--no-cache"]):
                out = tmp_path / f"out-{step}-{len(outputs)}"
                code = main(["render", str(root), "-o", str(out), "--no-validate", "--format", "text", *args])
                captured = capsys.readouterr()
                files = [(out / name).read_bytes() if (out / name).exists() else None
                         for name in ("as3.json", "net.json")]
                outputs.append((code, files, captured.out, captured.err.replace(str(out), "OUT")))
            assert outputs[0] == outputs[1] == outputs[2], f"step {step}, render CLI"
    # The memo did work: renders of a commit seen before were lookups (else the test proves nothing).
    assert hits >= STEPS, hits


PR_STEPS = 8


def _pr_order(synthetic: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], *, steps: int = PR_STEPS,
              seed: int = 2019) -> DiskCache:
    """Pull requests as CI meets them: the base commit was rendered (and memoized) by a run on main,
    the head commit, one to three random edits later, was never rendered. On even steps the diff
    meets the head first (`diff --base --head` with that warm cache must print exactly what
    `--no-cache` prints), on odd steps a render does (it must equal a render without the cache);
    then the other one runs, and the head's render once more."""
    rng = random.Random(seed)
    root = synthetic.path
    warm = tmp_path / "pr-warm"
    base = git(root, "rev-parse", "HEAD")
    render(root, base, cache=ParseCache(DiskCache(warm), remember=False))  # main's run
    disk = DiskCache(warm)
    for step in range(steps):
        for _ in range(rng.randint(1, 3)):
            rng.choice(EDITS)(rng, root)
        head = synthetic.commit(message=f"pr {step}")
        expected = snapshot_of(render(root, head))
        renders = [lambda h=head: render(root, h, cache=ParseCache(disk, remember=False))] * 2
        diffs = [lambda fmt=fmt, h=head, b=base: _diff(root, ["--base", b, "--head", h, "--format", fmt,
                                                              "--exit-code", "--cache-dir", str(warm)], capsys)
                 for fmt in ("text", "json")]
        for job in (diffs + renders) if step % 2 == 0 else (renders[:1] + diffs + renders[1:]):
            got = job()
            if isinstance(got, RenderResult):
                assert snapshot_of(got) == expected, f"PR step {step}, render of the head"
            else:
                fmt = "json" if got[1].lstrip().startswith(("{", "[")) else "text"
                plain = _diff(root, ["--base", base, "--head", head, "--format", fmt, "--exit-code", "--no-cache"],
                              capsys)
                assert got == plain, f"PR step {step}, diff ({fmt})"
        base = head  # the next pull request starts where this one merged
    return disk


def test_pr_order_head_never_rendered_diffs_identically(synthetic: Any, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    disk = _pr_order(synthetic, tmp_path, capsys)
    # the reuse was exercised: unchanged tenants came from the cache, renders seen before were lookups
    assert disk.tenant_hits > 0 and disk.memo_hits >= PR_STEPS, vars(disk)
    assert disk.tenant_builds_reused > 0, vars(disk)


def _break_tenant_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tenant keyed by its name alone: a changed tenant would come from the cache unchanged."""
    from renderer import emit_reuse
    from renderer.model import Tenant

    real = emit_reuse._tenant_key
    monkeypatch.setattr(emit_reuse, "_tenant_key",
                        lambda tenant, config, build_key=None: real(Tenant(tenant.name), config))


def _break_build_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tenant's cached Ingress build trusted without checking what it read (Services, Endpoints):
    a moved pod would leave the old member in the pool."""
    from renderer.mapping import tenant_reuse, tenant_store

    def unchecked_places(checks: Any, cluster: Any, *args: Any) -> Any:
        for table, keys, places, _ in checks["present"]:  # every object found taken as the one stored
            source = getattr(cluster, table)
            places[:] = [tenant_store._place(source.get(key)) for key in keys]
        return tenant_store.checked(checks, cluster, *args)

    monkeypatch.setattr(tenant_reuse, "checked", unchecked_places)


def _break_parse_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parses keyed by path alone (not by the blob id): the head would be read as the base's files."""
    real = DiskCache.entry_key
    monkeypatch.setattr(DiskCache, "entry_key", lambda self, path, cid, extra="": real(self, path, "any", extra))


@pytest.mark.parametrize("breakage", [_break_tenant_key, _break_parse_key, _break_build_reads])
def test_the_guard_fails_a_broken_reuse(synthetic: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch, breakage: Any) -> None:
    """The PR-order test above can fail: with a reuse that ignores part of what it depends on, it does."""
    breakage(monkeypatch)
    with pytest.raises(AssertionError):
        _pr_order(synthetic, tmp_path, capsys)


def _memo_file(disk: DiskCache, root: Path, ref: str | None) -> Path:
    return disk._file(render_memo.memo_key(open_tree(root, ref)))


def test_corrupt_foreign_or_stale_entries_are_ignored_and_rebuilt(synthetic: Any, tmp_path: Path) -> None:
    root = synthetic.path
    first = synthetic.git("rev-parse", "HEAD")
    gen.change_balance(root, SIZE, 7)
    second = synthetic.commit(message="balance")
    expected = {ref: snapshot_of(render(root, ref)) for ref in (first, second)}
    cache_dir = tmp_path / "c"
    for ref in (first, second):
        render(root, ref, cache=ParseCache(DiskCache(cache_dir)))
    disk = DiskCache(cache_dir)
    entry, other = _memo_file(disk, root, first), _memo_file(disk, root, second)
    assert entry.is_file() and other.is_file()
    good = entry.read_bytes()
    damaged = [good[: len(good) // 2], good[:-1] + bytes([good[-1] ^ 1]), b"", other.read_bytes()]
    for blob in damaged:  # truncated, one bit flipped, empty, another key's entry under this name
        entry.write_bytes(blob)
        disk = DiskCache(cache_dir)
        assert snapshot_of(render(root, first, cache=ParseCache(disk))) == expected[first]
        assert disk.rejected >= 1 and getattr(disk, "memo_stores", 0) == 1, vars(disk)
        assert entry.read_bytes() != blob  # rebuilt
    # A well-formed entry whose trace no longer matches the tree (e.g. written by a tool that read
    # other bytes): replay refuses it, the render runs and replaces it.
    disk = DiskCache(cache_dir)
    stored = disk.get(render_memo.memo_key(open_tree(root, first)))
    stored["trace"] = [("read", "as3-gitops.yaml", "0" * 64), *stored["trace"]]
    stored["result"]["as3"] = {"class": "AS3", "declaration": {"forged": True}}
    disk.put(render_memo.memo_key(open_tree(root, first)), stored)
    disk = DiskCache(cache_dir)
    assert snapshot_of(render(root, first, cache=ParseCache(disk))) == expected[first]
    assert getattr(disk, "memo_hits", 0) == 0 and getattr(disk, "memo_stores", 0) == 1


def test_an_edited_renderer_or_template_is_a_new_key(monkeypatch: pytest.MonkeyPatch, synthetic: Any,
                                                     tmp_path: Path) -> None:
    root = synthetic.path
    disk = DiskCache(tmp_path / "c")
    render(root, "HEAD", cache=ParseCache(disk))
    key = render_memo.memo_key(open_tree(root, "HEAD"))
    assert disk.get(key) is not None
    render_memo.render_fingerprint.cache_clear()
    real_files = render_memo._files

    def edited(node: Any, prefix: str) -> Any:
        for rel, data in real_files(node, prefix):
            yield rel, data + (b"\n# edited\n" if rel.endswith("pool.json.j2") else b"")

    monkeypatch.setattr(render_memo, "_files", edited)
    try:
        assert render_memo.memo_key(open_tree(root, "HEAD")) != key
    finally:
        render_memo.render_fingerprint.cache_clear()


def test_no_cache_bypasses_the_memo_and_writes_nothing(synthetic: Any, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = synthetic.path
    folder = tmp_path / "never"
    assert main(["render", str(root), "-o", str(tmp_path / "o"), "--no-validate", "--no-cache",
                 "--cache-dir", str(folder)]) == 0
    assert main(["diff", str(root), "--base", "HEAD", "--no-cache", "--cache-dir", str(folder)]) == 0
    capsys.readouterr()
    assert not folder.exists()
    disk = DiskCache(tmp_path / "c")
    render(root, "HEAD", cache=ParseCache(disk), memo=False)  # the parse cache alone
    assert getattr(disk, "memo_stores", 0) == 0 and disk.writes > 0


def test_the_cache_stays_within_its_bound(synthetic: Any, tmp_path: Path) -> None:
    root = synthetic.path
    first = DiskCache(tmp_path / "c")
    render(root, "HEAD", cache=ParseCache(first))
    size = sum(f.stat().st_size for f in (tmp_path / "c").rglob("*") if f.is_file())
    bound = size // 2
    for i in range(3):
        gen.change_balance(root, SIZE, i)
        synthetic.commit(message=f"c{i}")
        disk = DiskCache(tmp_path / "c", max_bytes=bound)
        expected = snapshot_of(render(root, "HEAD"))
        assert snapshot_of(render(root, "HEAD", cache=ParseCache(disk))) == expected
        total = sum(f.stat().st_size for f in (tmp_path / "c").rglob("*") if f.is_file())
        assert total <= bound, (total, bound)


def test_a_render_holding_secret_material_is_not_kept(make_repo: Any, tmp_path: Path) -> None:
    if not TLS_CASE.is_dir():
        pytest.skip(f"{TLS_CASE} is missing")
    repo = make_repo(TLS_CASE)
    disk = DiskCache(tmp_path / "c")
    cached = render(repo.path, "HEAD", cache=ParseCache(disk))
    assert snapshot_of(cached) == snapshot_of(render(repo.path, "HEAD"))
    assert "PRIVATE KEY" in dump_json(cached.as3).decode()  # the declaration does hold the key
    assert getattr(disk, "memo_stores", 0) == 0
    secret = (TLS_CASE / "manifests" / "secret.yaml").read_text()
    key_b64 = re.search(r"tls.key: (\S+)", secret)
    assert key_b64 is not None
    for f in (tmp_path / "c").rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert b"PRIVATE KEY" not in data and key_b64.group(1).encode() not in data, f


def test_a_working_tree_rendered_twice_in_one_process_sees_every_edit(synthetic: Any, tmp_path: Path) -> None:
    """One ParseCache that remembers (as diff uses) and a working tree edited between two renders:
    a working-tree file is keyed by its path, so the trace must still read its bytes."""
    root = synthetic.path
    cache = ParseCache(DiskCache(tmp_path / "c"), remember=True)
    (root / "untracked.txt").write_text("the tree is dirty: renders read the working tree\n")
    first = render(root, None, cache=cache)
    assert first.identity == "working tree"
    gen.change_balance(root, SIZE, 4)
    again = render(root, None, cache=cache)
    assert snapshot_of(again) == snapshot_of(render(root, None)) != snapshot_of(first)
