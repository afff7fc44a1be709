"""How a stored tenant's reads are checked (renderer.mapping.tenant_store.checked) and whose Origins a
reused model holds: each test fails without the mechanism it names."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from test_tenant_reuse import check, three_tenants, write

from renderer.errors import Origin
from renderer.mapping import tenant_reuse
from renderer.render import render
from renderer.source import dump_json


def _origins(value: Any, into: list[Origin]) -> list[Origin]:
    if isinstance(value, Origin):
        into.append(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _origins(getattr(value, f.name), into)
    elif isinstance(value, dict):
        for item in value.values():
            _origins(item, into)
    elif isinstance(value, list | tuple):
        for item in value:
            _origins(item, into)
    return into


def test_a_reused_model_holds_this_renders_origin_objects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not equal copies: the very Origins of this render's objects (Origins are shared by identity)."""
    root = write(tmp_path / "repo", three_tenants())
    check(root, tmp_path / "cache")
    write(root, three_tenants(t2=("10.244.1.5", "10.244.2.77")))  # a new render: t1 and t3 reused
    seen: list[tuple[Any, list[Any], Any]] = []
    real = tenant_reuse._unpack

    def spy(raw: Any, name: str, group: list[Any], cluster: Any, *args: Any) -> Any:
        part = real(raw, name, group, cluster, *args)
        if part is not None:
            seen.append((part, group, cluster))
        return part

    monkeypatch.setattr(tenant_reuse, "_unpack", spy)
    assert check(root, tmp_path / "cache").tenant_builds_reused == 2
    assert len(seen) == 2
    for part, group, cluster in seen:
        mine = {id(ing.meta.origin) for ing in group}
        for table in (cluster.services, cluster.endpoints, cluster.nodes):
            mine.update(id(obj.meta.origin) for obj in table.values())
        facts = part.tenant.stored_facts()  # not loaded yet: its facts name the same Origins
        assert facts is not None
        stored = [o for _, lists in facts.origin_groups() for origins in lists for o in origins]
        assert stored and all(id(o) in mine for o in stored)
        held = _origins(part.tenant, [])  # loads the model
        assert held and all(id(o) in mine for o in held) and part.tenant.stored_facts() is None
        assert {id(o) for o in held} == {id(o) for o in stored}


def test_a_file_whose_other_documents_changed_is_checked_by_digest(tmp_path: Path) -> None:
    """t1's documents share a file with t3's: when t3's Endpoints change, the file's content id (so
    every place in it) changes, and t1's reads are still found unchanged by their digests."""
    t = three_tenants()
    root = write(tmp_path / "repo", {"both": t["t1"] + t["t3"], "t2": t["t2"]})
    check(root, tmp_path / "cache")
    moved = three_tenants(t3=("10.244.1.5", "10.244.2.88"))
    write(root, {"both": t["t1"] + moved["t3"], "t2": t["t2"]})
    assert check(root, tmp_path / "cache").tenant_builds_reused == 2  # t1 and t2


SLICE = """apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-t1-x1, namespace: ns-t1, labels: {kubernetes.io/service-name: web-t1}}
addressType: IPv4
endpoints: [{addresses: [10.244.1.9], nodeName: n1}]
ports: [{name: http, port: 8080}]
"""


def test_a_read_that_found_nothing_and_finds_something_now_is_a_miss(tmp_path: Path) -> None:
    """t1's build looked for EndpointSlices of its Services and found none: one added (slices win
    over Endpoints) must rebuild t1, though none of t1's files changed."""
    root = write(tmp_path / "repo", three_tenants())
    check(root, tmp_path / "cache")
    write(root, {**three_tenants(), "slices": SLICE})
    assert check(root, tmp_path / "cache").tenant_builds_reused == 2  # t2 and t3
    assert "10.244.1.9" in dump_json(render(root).as3).decode()



def _cluster(text: str, content: str | None) -> Any:
    from renderer.kube.load import load_cluster
    from renderer.source import parse_file

    src, docs, findings = parse_file("manifests/t1.yaml", text.encode())
    assert not findings
    src._content = content
    return load_cluster(docs)[0]


@pytest.mark.parametrize("content", [None, "git:same"])
def test_a_place_without_a_content_id_is_never_taken_as_equal(content: str | None) -> None:
    """Places stand for documents only with the file's content id: without one (a file not parsed
    through the disk cache) every read is checked by its digest, so a changed Endpoints at the same
    path, index and line is a miss; with one, the place alone decides (the content id names the bytes)."""
    from renderer.mapping.registry import Registry
    from renderer.mapping.tenant_store import Digests, checked, current, packed_checks

    text = three_tenants()["t1"]
    before = _cluster(text, content)
    key = ("ns-t1", "web-t1")
    reads = [(table, key, current(before, Registry(), table, key, Digests())) for table in ("services", "endpoints")]
    reads.append(("slices", key, None))
    checks = packed_checks(reads, before)
    assert [len(keys) for _, keys, *_ in checks["present"]] == [1, 1] and checks["absent"] == [("slices", [key])]
    same = _cluster(text, content)
    assert checked(checks, same, Registry(), Digests()) == [same.services[key], same.endpoints[key]]
    moved = _cluster(text.replace("10.244.2.5", "10.244.2.6"), content)
    got = checked(checks, moved, Registry(), Digests())
    assert got is None if content is None else got is not None
