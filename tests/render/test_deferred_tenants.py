"""Tenants kept by their key: the render memo stores a tenant whose JSON the cache holds as that key
(renderer.render_memo.store), and a diff's renders leave such tenants in the cache
(`render(defer_tenants=True)`, renderer.emit_reuse.StoredTenant) and read only those it compares."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from bench_package import synthetic_repo

from renderer import emit_reuse, render_memo
from renderer.cache import DiskCache
from renderer.cli import main
from renderer.emit_reuse import StoredTenant, TenantUnavailable
from renderer.render import render
from renderer.source import ParseCache, open_tree


@pytest.fixture
def synthetic(git_repo: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    return synthetic_repo(git_repo, monkeypatch, 30, 8)


def _render(root: Path, ref: str | None, cache_dir: Path, **kw: Any) -> Any:
    disk = DiskCache(cache_dir)
    result = render(root, ref, cache=ParseCache(disk, remember=False), **kw)
    return result, disk


def _memo_entry(root: Path, ref: str, cache_dir: Path) -> dict[str, Any]:
    with open_tree(root, ref) as tree:
        entry = DiskCache(cache_dir).get(render_memo.memo_key(tree))
    assert isinstance(entry, dict)
    return entry


def test_the_memo_stores_each_kept_tenant_as_its_key(synthetic: Any, tmp_path: Path) -> None:
    root, cache_dir = synthetic.path, tmp_path / "c"
    first, _ = _render(root, "HEAD", cache_dir)
    entry = _memo_entry(root, "HEAD", cache_dir)
    declaration = entry["result"]["as3"]["declaration"]
    kept = entry["kept"]
    tenants = [name for name, body in first.adc.items() if isinstance(body, dict) and body.get("class") == "Tenant"]
    assert tenants and sorted(kept) == sorted(tenants)
    for name in tenants:  # the key in the tenant's place, its JSON only in its own entry
        assert declaration[name] == kept[name] == entry["tenants"][name]
        assert DiskCache(cache_dir).get(kept[name]) == first.adc[name]
    again, disk = _render(root, "HEAD", cache_dir)
    assert disk.memo_hits == 1
    plain = render(root, "HEAD")
    assert json.dumps(again.as3) == json.dumps(plain.as3) == json.dumps(first.as3)


def test_a_memo_whose_tenant_entry_is_gone_is_a_miss(synthetic: Any, tmp_path: Path) -> None:
    root, cache_dir = synthetic.path, tmp_path / "c"
    _render(root, "HEAD", cache_dir)
    kept = _memo_entry(root, "HEAD", cache_dir)["kept"]
    DiskCache(cache_dir)._file(next(iter(kept.values()))).unlink()
    again, disk = _render(root, "HEAD", cache_dir)
    assert disk.memo_misses == 1 and disk.memo_hits == 0
    assert json.dumps(again.as3) == json.dumps(render(root, "HEAD").as3)


def test_a_memo_entry_whose_tenant_slot_was_altered_is_a_miss(synthetic: Any, tmp_path: Path) -> None:
    root, cache_dir = synthetic.path, tmp_path / "c"
    _render(root, "HEAD", cache_dir)
    with open_tree(root, "HEAD") as tree:
        key = render_memo.memo_key(tree)
    disk = DiskCache(cache_dir)
    entry = disk.get(key)
    name = next(iter(entry["kept"]))
    entry["result"]["as3"]["declaration"][name] = {"class": "Tenant"}  # not the key the entry names
    assert disk.put(key, entry)
    again, disk = _render(root, "HEAD", cache_dir)
    assert disk.memo_hits == 0
    assert json.dumps(again.as3) == json.dumps(render(root, "HEAD").as3)


@pytest.mark.parametrize("memo_hit", [True, False], ids=["memo-hit", "emitted"])
def test_a_deferring_render_leaves_cached_tenants_in_the_cache(synthetic: Any, tmp_path: Path,
                                                               memo_hit: bool) -> None:
    root, cache_dir = synthetic.path, tmp_path / "c"
    plain = render(root, "HEAD")
    _render(root, "HEAD", cache_dir)
    if not memo_hit:  # only the tenant entries: the render runs and emit_reuse defers its hits
        with open_tree(root, "HEAD") as tree:
            DiskCache(cache_dir)._file(render_memo.memo_key(tree)).unlink()
    deferred, disk = _render(root, "HEAD", cache_dir, defer_tenants=True)
    assert disk.memo_hits == int(memo_hit)
    stored = {name: body for name, body in deferred.adc.items() if type(body) is StoredTenant}
    assert stored and set(stored) == {n for n, b in plain.adc.items() if isinstance(b, dict) and "class" in b
                                      and b["class"] == "Tenant"}
    for name, body in stored.items():
        assert body.load() == plain.adc[name]
    with pytest.raises(TypeError):  # a deferred tenant cannot be written by mistake
        json.dumps(deferred.as3)


def test_a_stored_tenant_that_does_not_load_says_so(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path / "c")
    assert not disk.touch("k") and emit_reuse.stored_tenant(disk, "k", True) is None
    assert disk.put("k", {"class": "Tenant", "label": "x"})
    tenant = emit_reuse.stored_tenant(disk, "k", True)
    assert type(tenant) is StoredTenant and tenant.load() == {"class": "Tenant", "label": "x"}
    assert disk.put("k", {"class": "Application"})  # there, but not a tenant
    with pytest.raises(TenantUnavailable):
        tenant.load()
    disk._file("k").write_bytes(b"garbage")  # there, but corrupt
    with pytest.raises(TenantUnavailable):
        tenant.load()
    disk._file("k").unlink()  # gone after the render named it
    with pytest.raises(TenantUnavailable):
        tenant.load()


def _edit(root: Path, pattern: str, repl: Any, where: str) -> None:
    for path in sorted((root / "manifests").rglob("*.yaml")):
        text = path.read_text()
        if where not in text:
            continue
        new, n = re.subn(pattern, repl, text, count=1)
        if n:
            path.write_text(new)
            return
    raise AssertionError(f"nothing to edit for {pattern!r}")


def _diff(root: Path, base: str, head: str, capsys: pytest.CaptureFixture[str], *cache: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["diff", str(root), "--base", base, "--head", head, "--format", "json", *cache])
    return code, capsys.readouterr().out


EDITS = {
    "balance": (r"(virtual-server\.f5\.com/balance:\s*)round-robin", r"\g<1>least-connections-member",
                "kind: Ingress"),
    "vip": (r'(virtual-server\.f5\.com/ip:\s*")([\d.]+)(")', r"\g<1>192.0.2.77\g<3>", "kind: Ingress"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_diff_of_deferred_tenants_is_the_plain_diff(synthetic: Any, tmp_path: Path, edit: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    root = synthetic.path
    base = synthetic.commit(message="base")
    _edit(root, *EDITS[edit])
    head = synthetic.commit(message="head")
    plain = _diff(root, base, head, capsys, "--no-cache")
    assert json.loads(plain[1])["changes"]
    cached = ["--cache-dir", str(tmp_path / "c")]
    main(["render", str(root), "--ref", base, "--output", str(tmp_path / "out"), *cached])  # main's run
    loads: list[str] = []
    real_load = StoredTenant.load

    def counted(self: StoredTenant) -> dict[str, Any]:
        loads.append(self.key)
        return real_load(self)

    StoredTenant.load = counted  # type: ignore[method-assign]
    try:
        first = _diff(root, base, head, capsys, *cached)
        again = _diff(root, base, head, capsys, *cached)  # both sides from the memo now
    finally:
        StoredTenant.load = real_load  # type: ignore[method-assign]
    assert first == plain and again == plain
    tenants = len([k for k in render(root, base).adc if k.startswith("tenant")])
    if edit == "balance":  # only the changed tenant's two sides were read, in each run
        assert 0 < len(loads) <= 4 < 2 * tenants


def test_a_diff_whose_stored_tenant_fails_to_load_renders_again(synthetic: Any, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root = synthetic.path
    base = synthetic.commit(message="base")
    _edit(root, *EDITS["balance"])
    head = synthetic.commit(message="head")
    plain = _diff(root, base, head, capsys, "--no-cache")
    cached = ["--cache-dir", str(tmp_path / "c")]
    main(["render", str(root), "--ref", base, "--output", str(tmp_path / "out"), *cached])
    failed: list[str] = []

    def broken(self: StoredTenant) -> dict[str, Any]:
        failed.append(self.key)
        raise TenantUnavailable(self.key)

    monkeypatch.setattr(emit_reuse.StoredTenant, "load", broken)
    assert _diff(root, base, head, capsys, *cached) == plain
    assert failed  # it was deferred, failed, and the diff came from renders that defer nothing
