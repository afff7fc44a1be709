"""Per-tenant reuse of the AS3 emit (renderer.emit_reuse): what it assumes, and where it steps aside."""

from __future__ import annotations

import copy
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from renderer.as3 import Identity, render_as3
from renderer.cache import DiskCache
from renderer.emit_reuse import emit_as3, repr_is_complete
from renderer.kube.load import Cluster, add_cluster_objects
from renderer.mapping import build_model
from renderer.render import render
from renderer.source import ParseCache, dump_json, load_documents, open_tree

REPO_ROOT = Path(__file__).resolve().parents[2]
CASES = REPO_ROOT / "tests" / "render" / "cases"
TLS_CASE = CASES / "tls-redirect-shared-vip"
AS3_CM_CASE = CASES / "as3-configmap-discovery"


def _model(root: Path) -> tuple[Any, Any, Any]:
    from renderer.config import load_config

    tree = open_tree(root, None)
    config, _ = load_config(tree)
    cluster = Cluster()
    docs, _ = load_documents(tree, config.manifests)
    add_cluster_objects(cluster, docs, [])
    snap, _ = load_documents(tree, config.snapshot)
    add_cluster_objects(cluster, snap, [], mark=False)
    model, _ = build_model(cluster, config, {})
    return model, config, tree


def test_a_tenants_json_depends_on_that_tenant_only() -> None:
    """The assumption reuse rests on, for the built-in templates: a tenant comes out the same under
    another commit and next to other tenants (or none)."""
    if not TLS_CASE.is_dir():
        pytest.skip(f"{TLS_CASE} is missing")
    model, config, tree = _model(TLS_CASE)
    assert model.tenants
    full = render_as3(copy.deepcopy(model), config, Identity("a" * 40), tree)["declaration"]
    other = render_as3(copy.deepcopy(model), config, Identity("working tree"), tree)["declaration"]
    for name in model.tenants:
        alone = render_as3(replace(copy.deepcopy(model), tenants={name: copy.deepcopy(model.tenants[name])}),
                           config, Identity("b" * 40), tree)["declaration"]
        assert full[name] == other[name] == alone[name]


def test_unchanged_tenants_come_from_the_cache_in_the_same_order(make_repo: Any, tmp_path: Path) -> None:
    if not TLS_CASE.is_dir():
        pytest.skip(f"{TLS_CASE} is missing")
    model, config, tree = _model(TLS_CASE)
    # a second tenant that holds no secret, so that it is stored
    extra = copy.deepcopy(model.tenants[next(iter(model.tenants))])
    extra.name = "zz_plain"
    extra.certificates.clear()
    extra.tls_servers.clear()
    for vs in extra.virtual_servers.values():
        vs.server_tls = None
    model.tenants["zz_plain"] = extra
    disk = DiskCache(tmp_path / "c")
    identity = Identity("c" * 40)
    expected = render_as3(copy.deepcopy(model), config, identity, tree)
    first = emit_as3(copy.deepcopy(model), config, identity, tree, disk)
    second = emit_as3(copy.deepcopy(model), config, identity, tree, disk)
    assert dump_json(first) == dump_json(second) == dump_json(expected)
    assert list(second["declaration"]) == list(expected["declaration"])
    assert disk.tenant_hits >= 1  # zz_plain the second time
    # damaged or swapped entries: misses, rendered and written again, the same bytes
    files = sorted(f for f in (tmp_path / "c").rglob("*") if f.is_file())
    assert files
    blobs = [f.read_bytes() for f in files]
    for i, f in enumerate(files):  # truncated, or one byte of the payload flipped
        mid = len(blobs[i]) // 2
        f.write_bytes(blobs[i][:-3] if i % 2 else blobs[i][:mid] + bytes([blobs[i][mid] ^ 1]) + blobs[i][mid + 1:])
    damaged = DiskCache(tmp_path / "c")
    third = emit_as3(copy.deepcopy(model), config, identity, tree, damaged)
    assert dump_json(third) == dump_json(expected) and list(third["declaration"]) == list(expected["declaration"])
    assert damaged.tenant_hits == 0 and damaged.rejected >= 1 and damaged.writes >= 1
    # the tenant with the private key was never written
    for f in (tmp_path / "c").rglob("*"):
        if f.is_file():
            assert b"PRIVATE KEY" not in f.read_bytes()


def test_user_templates_and_as3_configmaps_are_rendered_whole(make_repo: Any, tmp_path: Path) -> None:
    if not AS3_CM_CASE.is_dir():
        pytest.skip(f"{AS3_CM_CASE} is missing")
    repo = make_repo(AS3_CM_CASE)
    disk = DiskCache(tmp_path / "c")
    result = render(repo.path, "HEAD", cache=ParseCache(disk))  # a fresh cache: a whole-render miss
    assert dump_json(result.as3) == dump_json(render(repo.path, "HEAD").as3)
    assert getattr(disk, "tenant_hits", 0) == getattr(disk, "tenant_misses", 0) == 0
    # the repository's own templates: rendered whole as well
    folder = tmp_path / "templated"
    shutil.copytree(TLS_CASE, folder)
    with (folder / "as3-gitops.yaml").open("a") as fh:
        fh.write("templates: templates\n")
    (folder / "templates").mkdir()
    shutil.copy(REPO_ROOT / "templates" / "as3" / "pool.json.j2", folder / "templates" / "pool.json.j2")
    disk = DiskCache(tmp_path / "c2")
    result = render(folder, None, cache=ParseCache(disk))
    assert result.ok, result.findings
    assert getattr(disk, "tenant_hits", 0) == getattr(disk, "tenant_misses", 0) == 0


def test_every_model_field_is_in_the_tenant_key() -> None:
    """The key is the tenant's repr: a model field left out of it (repr=False) would make two
    different tenants one key. Then reuse is off; this test says so instead of a silent slow-down."""
    assert repr_is_complete()


def test_a_tenants_objects_come_out_in_the_order_assembly_puts_them() -> None:
    """A changed tenant is put together object by object in `SHARED_ORDER` (renderer.emit_reuse):
    the order tenant.json.j2 writes them, which a full render shows."""
    import dataclasses

    from renderer.emit_reuse import SHARED_ORDER
    from renderer.model import Tenant

    assert tuple(f.name for f in dataclasses.fields(Tenant) if f.name != "name") == SHARED_ORDER
    checked = 0
    for case in sorted(CASES.iterdir()):
        if not (case / "as3-gitops.yaml").is_file():
            continue
        model, config, tree = _model(case)
        if model.raw_tenants or model.override is not None or config.templates:
            continue
        expected = {name: [key for attr in SHARED_ORDER for key in getattr(tenant, attr)]
                    for name, tenant in model.tenants.items()}
        declaration = render_as3(model, config, Identity("d" * 40), tree)["declaration"]
        for name, keys in expected.items():
            assert [k for k in declaration[name]["Shared"] if k not in ("class", "template")] == keys, case
            checked += bool(keys)
    assert checked >= 10
