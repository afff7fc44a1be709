"""The per-file view cache (renderer/kube/view_cache.py) never changes a render: random edits of a real
git repository (working tree and refs), each render made with the view cache (the whole-render memo
off, so every render runs the pipeline and mixes replayed and read files) and without any cache,
byte-identical output and findings required. Mirrors tests/render/test_cache_equivalence.py."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from test_cache_equivalence import edited_refs, snapshot_of, synthetic  # noqa: F401 - a fixture

from renderer import render_memo
from renderer.cache import DiskCache
from renderer.kube import view_cache
from renderer.render import render
from renderer.source import ParseCache

STEPS = 16
BUDGET_S = 50.0  # a loaded machine: stop adding steps after this, but never before 6 steps


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[view_cache.ViewCache]:
    """Every ViewCache a render makes; the whole-render memo never answers (nor stores)."""
    found: list[view_cache.ViewCache] = []
    make = view_cache.for_render

    def for_render(*args: Any) -> view_cache.ViewCache | None:
        views = make(*args)
        if views is not None:
            found.append(views)
        return views

    monkeypatch.setattr(view_cache, "for_render", for_render)
    monkeypatch.setattr(render_memo, "lookup", lambda disk, tree, **_: None)
    monkeypatch.setattr(render_memo, "store", lambda disk, tracing, result: False)
    return found


def test_random_edits_render_identically_with_and_without_the_view_cache(
        synthetic: Any, tmp_path: Path, made: list[view_cache.ViewCache]) -> None:  # noqa: F811
    rng = random.Random(1919)
    root = synthetic.path
    cache_dir = tmp_path / "cache"
    for step, ref in edited_refs(synthetic, rng, steps=STEPS, budget_s=BUDGET_S, at_least=6):
        disk = DiskCache(cache_dir)
        before = len(made)
        cached = render(root, ref, cache=ParseCache(disk, remember=rng.random() < 0.5))
        assert len(made) == before + 1, "the render used the view cache"
        plain = render(root, ref)
        assert snapshot_of(cached) == snapshot_of(plain), f"step {step}, ref {ref}"
        assert disk.rejected == 0
    hits, stores = sum(v.hits for v in made), sum(v.stores for v in made)
    assert hits > 100 and stores > 10, (hits, stores)  # replayed files and read ones, mixed


def test_a_finding_located_by_a_later_stage_points_where_it_would(tmp_path: Path, git_repo: Any,
                                                                  made: list[view_cache.ViewCache]) -> None:
    """A mapping finding at an annotation of a replayed Ingress: its stand-in document loads the file's
    text then, and the position is the one reading gives."""
    root = git_repo.path
    (root / "as3-gitops.yaml").write_text("bigip: {partition: k8s}\npaths: {manifests: [manifests], "
                                          "snapshot: [snapshot]}\n")
    (root / "manifests").mkdir()
    (root / "snapshot").mkdir()
    (root / "manifests" / "a-ingress.yaml").write_text(
        "# shifted\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n"
        "  namespace: default\n  annotations:\n    kubernetes.io/ingress.class: f5\n"
        "    virtual-server.f5.com/ip: 10.0.0.9\n    virtual-server.f5.com/balance: sideways\n"
        "spec:\n  defaultBackend:\n    service: {name: web, port: {number: 80}}\n")
    (root / "manifests" / "b-service.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
        "spec: {ports: [{port: 80}]}\n")
    (root / "snapshot" / "endpoints.yaml").write_text(
        "apiVersion: v1\nkind: Endpoints\nmetadata: {name: web, namespace: default}\n"
        "subsets: [{addresses: [{ip: 10.1.0.5}], ports: [{port: 80}]}]\n")
    git_repo.commit(message="one Ingress")
    disk = DiskCache(tmp_path / "cache")
    plain = render(root, "HEAD")
    assert any(f.location and f.location.path == "manifests/a-ingress.yaml" and f.location.line == 11
               for f in plain.findings), plain.findings
    for _ in range(2):
        cached = render(root, "HEAD", cache=ParseCache(disk))
        assert snapshot_of(cached) == snapshot_of(plain)
    assert made[-1].hits == 3 and made[-1].stores == 0
