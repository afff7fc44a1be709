"""The tenant keys a render hands a diff (renderer.emit_reuse.note_keys / tenant_keys): kept
through the render memo, given only for the very objects they were made for, and never one key
for two different tenants' JSON."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from bench_package import synthetic_repo

from renderer.cache import DiskCache
from renderer.diff import Side, diff_declarations
from renderer.emit_reuse import tenant_keys
from renderer.render import render
from renderer.source import ParseCache


@pytest.fixture
def synthetic(git_repo: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    return synthetic_repo(git_repo, monkeypatch, 30, 8)


def _one_port_changed(root: Path) -> None:
    for path in sorted((root / "manifests").rglob("*.yaml")):
        text = path.read_text()
        new, n = re.subn(r"(port:\s*)(\d+)", lambda m: f"{m.group(1)}{int(m.group(2)) + 1}", text, count=1)
        if n and "kind: Service" in text:
            path.write_text(new)
            return
    raise AssertionError("no Service port to change")


def _plain(side: Side) -> Side:
    return Side(as3=side.as3, net=side.net, sources=side.sources, snapshot_roots=side.snapshot_roots,
                label=side.label)


def test_keys_survive_the_memo_and_only_equal_tenants_share_one(synthetic: Any, tmp_path: Path) -> None:
    root = synthetic.path
    base = synthetic.commit(message="base")
    cache_dir = tmp_path / "c"
    first = render(root, base, cache=ParseCache(DiskCache(cache_dir), remember=False))  # main's run
    first_keys = Side.from_render(first, "base").tenant_keys
    assert first_keys and set(first_keys) <= set(first.adc)
    disk = DiskCache(cache_dir)
    again = render(root, base, cache=ParseCache(disk, remember=False))
    assert disk.memo_hits == 1
    base_side = Side.from_render(again, "base")
    assert base_side.tenant_keys == first_keys  # the memo handed them on with its tenants

    _one_port_changed(root)
    head = synthetic.commit(message="head")
    head_disk = DiskCache(cache_dir)
    head_side = Side.from_render(render(root, head, cache=ParseCache(head_disk, remember=False)), "head")
    assert head_disk.tenant_hits > 0
    same = {n for n, k in base_side.tenant_keys.items() if head_side.tenant_keys.get(n) == k}
    assert same and len(same) < len(first_keys)  # the changed tenant has a new key
    for name in same:
        assert base_side.as3["declaration"][name] == head_side.as3["declaration"][name]
    keyed, plain = diff_declarations(base_side, head_side), diff_declarations(_plain(base_side), _plain(head_side))
    assert keyed.changes and keyed == plain


def test_a_tenant_object_replaced_after_the_render_has_no_key(synthetic: Any, tmp_path: Path) -> None:
    result = render(synthetic.path, "HEAD", cache=ParseCache(DiskCache(tmp_path / "c"), remember=False))
    declaration = result.adc
    keys = tenant_keys(declaration)
    assert keys
    name = next(iter(keys))
    declaration[name] = copy.deepcopy(declaration[name])  # an equal copy, but not the emitted object
    assert name not in tenant_keys(declaration) and len(tenant_keys(declaration)) == len(keys) - 1


def test_the_next_render_lets_the_last_ones_tenants_go(synthetic: Any, tmp_path: Path) -> None:
    """Only the latest render's tenants are held (each holds its whole declaration alive)."""
    from renderer import emit_reuse

    disk = DiskCache(tmp_path / "c")
    first = render(synthetic.path, "HEAD", cache=ParseCache(disk, remember=False))
    held = {id(body) for by_id in emit_reuse._LATEST for body, _key, _kept in by_id.values()}
    assert held and held <= {id(body) for body in first.adc.values()}
    render(synthetic.path, None, cache=ParseCache(DiskCache(tmp_path / "c2"), remember=False))
    still = [body for by_id in emit_reuse._LATEST for body, _key, _kept in by_id.values()]
    assert still and not any(body is mine for body in still for mine in first.adc.values())
