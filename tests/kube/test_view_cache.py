"""The per-file view cache (renderer/kube/view_cache.py) builds exactly the Cluster reading builds.

Every case repository is read three ways (no view cache; a first run that records and stores each
file; a second run that replays every file from the disk cache with stand-in documents) and the
Clusters are compared collection by collection, in order, with each view's document position, and
the findings in list order (not only sorted): indexing runs again at replay, so duplicates across
files come out as reading makes them.
"""

from __future__ import annotations

import io
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest

from renderer.cache import DiskCache
from renderer.config import load_config
from renderer.errors import Finding
from renderer.kube import view_cache
from renderer.kube.load import INDEX, Cluster, add_cluster_objects
from renderer.kube.objects import ObjectMeta
from renderer.source import InputBudget, ParseCache, WorkTree, load_documents

CASES = Path(__file__).resolve().parents[1] / "render" / "cases"


def _where(value: Any) -> Any:
    """The document position of a view (or of each view in a collection)."""
    if isinstance(value, list | tuple):
        return [_where(v) for v in value]
    if isinstance(value, dict):
        return {k: _where(v) for k, v in value.items()}
    meta = value if isinstance(value, ObjectMeta) else getattr(value, "meta", None)
    if meta is None:
        return None
    return meta.doc.path, meta.doc.index, meta.doc.line, meta.base, meta.location


def shape(cluster: Cluster) -> list[Any]:
    """Every collection of the cluster in order: the views (equal field by field) and where they are."""
    parts: list[Any] = []
    for name in ("ingresses", "ingress_classes", "services", "endpoints", "slices", "nodes", "secrets",
                 "configmaps", "routes", "marked", "block_affinities"):
        value = getattr(cluster, name)
        parts.append((name, list(value.items()) if isinstance(value, dict) else list(value), _where(value)))
    crds = cluster.crds
    for name in ("virtual_servers", "transport_servers", "tls_profiles", "policies", "ingress_links",
                 "external_dns", "rejected"):
        value = getattr(crds, name)
        parts.append((name, list(value.items()) if isinstance(value, dict) else list(value), _where(value)))
    parts.append(("seen", list(cluster.seen), _where(list(cluster.seen.values()))))
    parts.append(("members", [(n, shape(m)) for n, m in cluster.members_from]))
    return parts


def read(repo: Path, disk: DiskCache | None) -> tuple[list[Any], list[Finding], view_cache.ViewCache | None]:
    """What render's kube stage builds for `repo` (manifests marked, then each cluster's snapshot)."""
    tree = WorkTree(repo)
    config, _ = load_config(tree)
    parse = ParseCache(disk)
    views = view_cache.ViewCache(parse, disk) if disk is not None else None
    budget = InputBudget(config.limits)
    findings: list[Finding] = []
    manifests, problems = load_documents(tree, config.manifests, views or parse, budget)
    findings += problems
    cluster = Cluster()
    add_cluster_objects(cluster, manifests, findings, views=views)
    for spec in config.clusters:
        docs, problems = load_documents(tree, spec.snapshot, views or parse, budget)
        findings += problems
        member = Cluster(services=cluster.services, ingress_classes=cluster.ingress_classes)
        add_cluster_objects(member, docs, findings, mark=False, views=views)
        cluster.members_from.append((spec.name, member))
    if not config.clusters:
        docs, problems = load_documents(tree, config.snapshot, views or parse, budget)
        findings += problems
        add_cluster_objects(cluster, docs, findings, mark=False, views=views)
    return shape(cluster), findings, views


def _with_duplicates(tmp_path: Path, case: Path) -> Path:
    """The case, plus a copy of every manifest file under another name: duplicates across files."""
    repo = tmp_path / "repo"
    shutil.copytree(case, repo, ignore=shutil.ignore_patterns("expected"))
    for f in sorted((repo / "manifests").rglob("*.y*ml")):
        f.with_name("zz-copy-" + f.name).write_bytes(f.read_bytes())
    return repo


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if (p / "as3-gitops.yaml").is_file()))
@pytest.mark.parametrize("copies", [False, True], ids=["as-is", "duplicated"])
def test_replayed_views_build_the_cluster_reading_builds(tmp_path: Path, case: str, copies: bool) -> None:
    repo = _with_duplicates(tmp_path, CASES / case) if copies else CASES / case
    disk = DiskCache(tmp_path / "cache")
    plain, plain_findings, _ = read(repo, None)
    first, first_findings, recording = read(repo, disk)
    again, again_findings, replaying = read(repo, disk)
    assert recording is not None and replaying is not None
    assert recording.hits == 0 and recording.stores > 0
    assert replaying.hits == recording.stores and replaying.stores == 0  # every stored file replayed
    assert first == plain and first_findings == plain_findings
    assert again == plain and again_findings == plain_findings
    if copies:
        assert any(f.code == "K8S006" for f in again_findings)  # made again at replay, across files
    assert disk.rejected == 0


def test_stand_in_documents_load_only_when_read(tmp_path: Path) -> None:
    repo = CASES / "fanout-health"
    disk = DiskCache(tmp_path / "cache")
    read(repo, disk)
    tree = WorkTree(repo)
    parse = ParseCache(disk)
    views = view_cache.ViewCache(parse, disk)
    docs, _ = load_documents(tree, ["manifests"], views)
    cluster = Cluster()
    findings: list[Finding] = []
    add_cluster_objects(cluster, docs, findings, views=views)
    assert views.hits == 2 and all(isinstance(d, view_cache.LazyDocument) for d in docs)
    assert all("data" not in d.__dict__ and "text" not in d.source.__dict__ for d in docs)
    ingress = cluster.ingresses[0]
    first_file = ingress.meta.doc.source
    assert ingress.meta.locate("spec", "rules", 0) == _plain_ingress(repo).meta.locate("spec", "rules", 0)
    assert "text" in first_file.__dict__  # loaded by the position lookup, with its documents' data
    assert all(d.source._load is None for d in docs if d.source is first_file)
    assert all(d.source._load is not None for d in docs if d.source is not first_file)  # the other file: not
    plain_docs, _ = load_documents(tree, ["manifests"], ParseCache())
    assert [d.data for d in docs] == [d.data for d in plain_docs]
    assert [(d.path, d.index, d.line, d.location) for d in docs] == \
        [(d.path, d.index, d.line, d.location) for d in plain_docs]
    assert [d.source.text for d in docs] == [d.source.text for d in plain_docs]


def _plain_ingress(repo: Path) -> Any:
    docs, _ = load_documents(WorkTree(repo), ["manifests"], ParseCache())
    cluster = Cluster()
    add_cluster_objects(cluster, docs, [])
    return cluster.ingresses[0]


def _entries(disk: DiskCache) -> list[Path]:
    return sorted(p for p in disk.dir.rglob("*") if p.is_file())


def _view_keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """path -> the view cache key the next reads use (recorded as they are made)."""
    keys: dict[str, str] = {}
    made = view_cache.ViewCache._key

    def key(self: view_cache.ViewCache, path: str, content: str, extra: str) -> str:
        keys[path] = made(self, path, content, extra)
        return keys[path]

    monkeypatch.setattr(view_cache.ViewCache, "_key", key)
    return keys


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return shutil.copy, (__file__, str(self.marker))


@pytest.mark.parametrize("damage", ["flipped-byte", "truncated", "not-a-tuple", "foreign-class", "wrong-shape",
                                    "wrong-view-type", "pickled-wrong-view-type", "bad-document-index",
                                    "other-format", "negative-index", "constructor-class", "short-column",
                                    "unknown-kind", "later-field-not-later", "later-without-part"])
def test_a_corrupt_or_foreign_entry_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    repo = CASES / "fanout-health"
    disk = DiskCache(tmp_path / "cache")
    keys = _view_keys(monkeypatch)
    plain = read(repo, None)[:2]
    stored = read(repo, disk)[2]
    assert stored is not None and stored.stores > 1
    key = keys["manifests/ingress.yaml"]
    file = disk._file(key)
    blob = file.read_bytes()
    good = disk.get(key)
    assert good is not None
    marker = tmp_path / "ran"
    fmt, digest, size, places, views = good
    if damage == "flipped-byte":
        file.write_bytes(blob[:-5] + bytes([blob[-5] ^ 1]) + blob[-4:])
    elif damage == "truncated":
        file.write_bytes(blob[: len(blob) // 2])
    elif damage == "not-a-tuple":
        disk.put(key, {"views": views})
    elif damage == "foreign-class":
        disk.put(key, (fmt, digest, size, places, pickle.dumps([_Evil(marker)])))
    elif damage == "wrong-shape":
        disk.put(key, (fmt, digest, size, places, pickle.dumps([(("not a finding",), None, None, None)])))
    elif damage == "wrong-view-type":  # an ObjectMeta where an Ingress belongs
        docs, _ = load_documents(WorkTree(repo), ["manifests/ingress.yaml"], ParseCache())
        groups, (metas, collections, refs, markers), part = views
        bad = [m if c == "ingress" else r for m, c, r in zip(metas, collections, refs, strict=True)]
        assert bad != refs
        disk.put(key, (fmt, digest, size, places, (groups, (metas, collections, bad, markers), part)))
    elif damage == "pickled-wrong-view-type":  # the same, in a pickled entry
        docs, _ = load_documents(WorkTree(repo), ["manifests/ingress.yaml"], ParseCache())
        reads = [((), None if c is None else (c, v), m, mk)
                 for c, v, m, mk in zip(*view_cache._from_columns(views, docs), strict=True)]  # type: ignore[arg-type]
        bad = [(made, ("ingress", m) if added and added[0] == "ingress" else added, m, mk)
               for made, added, m, mk in reads]
        assert bad != reads
        disk.put(key, (fmt, digest, size, places, view_cache._dumps(bad, docs)))
    elif damage in ("negative-index", "constructor-class", "short-column", "unknown-kind", "later-field-not-later",
                    "later-without-part"):
        groups, reads, part = views
        at = next(i for i, g in enumerate(groups) if g[1] == ("ObjectMeta" if damage == "negative-index" else
                                                               "Ingress"))
        module, name, n, columns = groups[at]
        columns = list(columns)
        if damage == "negative-index":  # Python would take it from the end of the file's documents
            doc = next(i for i, (kind, _) in enumerate(columns) if kind == "d")
            columns[doc] = ("d", [-1] * n)
        elif damage == "constructor-class":
            name = "object_meta"
        elif damage == "short-column":
            columns[1] = (columns[1][0], columns[1][1][:-1])
        elif damage == "unknown-kind":
            columns[1] = ("x", columns[1][1])
        elif damage == "later-field-not-later":  # class_annotation is always read: never left for later
            columns[1] = ("l", [])
        else:
            part = None
        bad = list(groups)
        bad[at] = (module, name, n, tuple(columns))
        disk.put(key, (fmt, digest, size, places, (tuple(bad), reads, part)))
    elif damage == "bad-document-index":
        disk.put(key, (fmt, digest, size, [], views))  # the views name documents the entry does not have
    else:
        disk.put(key, (fmt + 1, digest, size, places, views))
    shape_, findings, views_used = read(repo, disk)
    assert views_used is not None
    assert (shape_, findings) == plain
    assert views_used.hits == stored.stores - 1 and views_used.stores == 1  # this one read and stored again
    assert not marker.exists()
    assert disk.get(key) is not None and disk.get(key)[4] == views  # the rewritten entry is the good one


def test_every_collection_has_its_view_type() -> None:
    assert set(view_cache._COLLECTIONS) == set(INDEX)


SECRET = """apiVersion: v1
kind: Secret
metadata: {name: tls, namespace: default}
type: kubernetes.io/tls
stringData: {tls.crt: crt-TOKEN-7f3a9, tls.key: key-TOKEN-7f3a9}
"""
LISTED = """apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: plain, namespace: default}
  data: {a: b}
- apiVersion: v1
  kind: Secret
  metadata: {name: listed, namespace: default}
  stringData: {password: list-TOKEN-7f3a9}
"""
KEYED = """apiVersion: v1
kind: ConfigMap
metadata: {name: holds-a-key, namespace: default}
data:
  key.pem: |
    -----BEGIN PRIVATE KEY-----
    cm-TOKEN-7f3a9
    -----END PRIVATE KEY-----
"""


def test_a_file_holding_a_secret_is_never_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(CASES / "fanout-health", repo, ignore=shutil.ignore_patterns("expected"))
    (repo / "manifests" / "secret.yaml").write_text(SECRET)
    (repo / "manifests" / "listed.yaml").write_text(LISTED)
    (repo / "manifests" / "keyed.yaml").write_text(KEYED)
    disk = DiskCache(tmp_path / "cache")
    keys = _view_keys(monkeypatch)
    plain = read(repo, None)[:2]
    for _ in range(2):
        shape_, findings, _views = read(repo, disk)
        assert (shape_, findings) == plain
    for path in ("manifests/secret.yaml", "manifests/listed.yaml", "manifests/keyed.yaml"):
        assert not disk._file(keys[path]).exists(), path
    assert disk._file(keys["manifests/ingress.yaml"]).exists()  # the others are stored
    # None of the three files' secret values is anywhere in the folder: the parse cache refuses them
    # as well (a Secret alone or inside a List, and a private key in a ConfigMap)
    stored = b"".join(p.read_bytes() for p in _entries(disk))
    for token in (b"key-TOKEN-7f3a9", b"crt-TOKEN-7f3a9", b"list-TOKEN-7f3a9", b"cm-TOKEN-7f3a9"):
        assert token not in stored, token


def test_reads_holding_what_the_unpickler_refuses_are_not_stored() -> None:
    """A value no view class names (here a datetime, as `!!timestamp` makes) is refused when stored,
    never written as an entry that every later run would reject."""
    import datetime

    docs, _ = load_documents(WorkTree(CASES / "fanout-health"), ["manifests/services.yaml"], ParseCache())
    cluster = Cluster()
    record: list[Any] = []
    from renderer.kube.load import add_document

    for doc in docs:
        add_document(cluster, doc, [], True, record)
    assert view_cache.ViewUnpickler(io.BytesIO(view_cache._dumps(record, docs)), docs).load() == record
    made, (collection, service), meta, marker = next(r for r in record if r[1] and r[1][0] == "service")
    odd = object.__new__(type(service))
    for name in service.__slots__:
        object.__setattr__(odd, name, getattr(service, name))
    object.__setattr__(odd, "type", datetime.datetime(2026, 1, 1))
    with pytest.raises(pickle.PicklingError):
        view_cache._dumps([(made, (collection, odd), meta, marker)], docs)
    with pytest.raises(KeyError):  # a view of a document of another file
        view_cache._dumps(record, docs[1:])


def test_replayed_files_are_freed_by_reference_counting(tmp_path: Path) -> None:
    """No reference cycle through a stand-in: render runs with the cyclic GC paused, so a cycle per file
    would keep every replayed file alive until one long collection."""
    import gc
    import weakref

    repo = CASES / "fanout-health"
    disk = DiskCache(tmp_path / "cache")
    read(repo, disk)
    gc.collect()
    gc.disable()
    try:
        views = view_cache.ViewCache(ParseCache(disk), disk)
        docs, _ = load_documents(WorkTree(repo), ["manifests"], views)
        cluster = Cluster()
        add_cluster_objects(cluster, docs, [], views=views)
        assert views.hits == 2 and cluster.ingresses
        docs[0].data  # noqa: B018 - loaded, as a later stage would
        refs = [weakref.ref(docs[0].source), weakref.ref(docs[0]), weakref.ref(docs[-1].source)]
        del views, docs, cluster
        assert [r() for r in refs] == [None, None, None]
    finally:
        gc.enable()


SLICE_WITHOUT_SERVICE = """apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: stray, namespace: default}
addressType: IPv4
endpoints:
- addresses: [10.1.0.9]
"""


def test_plain_files_are_stored_as_columns_and_others_as_a_pickle(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Columns hold the reads of a file without findings; a file whose reading made one (here an
    EndpointSlice without its Service label) is pickled. Both replay into what reading builds."""
    repo = tmp_path / "repo"
    shutil.copytree(CASES / "fanout-health", repo, ignore=shutil.ignore_patterns("expected"))
    (repo / "snapshot" / "stray.yaml").write_text(SLICE_WITHOUT_SERVICE)
    disk = DiskCache(tmp_path / "cache")
    keys = _view_keys(monkeypatch)
    plain = read(repo, None)[:2]
    assert any(f.code == "K8S005" for f in plain[1])
    first = read(repo, disk)
    again = read(repo, disk)
    assert first[:2] == plain and again[:2] == plain and again[2] is not None and again[2].hits == first[2].stores
    stored = {path: disk.get(key)[4] for path, key in keys.items()}  # type: ignore[index]
    assert type(stored["snapshot/stray.yaml"]) is bytes
    assert type(stored["manifests/ingress.yaml"]) is tuple and type(stored["snapshot/endpoints.yaml"]) is tuple


def _replayed(repo: Path, disk: DiskCache, paths: list[str], mark: bool) -> Cluster:
    views = view_cache.ViewCache(ParseCache(disk), disk)
    docs, _ = load_documents(WorkTree(repo), paths, views)
    cluster = Cluster()
    add_cluster_objects(cluster, docs, [], mark=mark, views=views)
    assert views.hits == len({d.path for d in docs})
    return cluster


def _read_plain(repo: Path, paths: list[str], mark: bool) -> Cluster:
    docs, _ = load_documents(WorkTree(repo), paths, ParseCache())
    cluster = Cluster()
    add_cluster_objects(cluster, docs, [], mark=mark)
    return cluster


def _left(view: Any) -> bool:
    """Whether `view` still has its LATER fields unset (left for later)."""
    return type(view)._later.__get__(view) is not None


def test_later_fields_are_made_when_first_read(tmp_path: Path) -> None:
    """A replayed Ingress's rules, a Service's ports, an Endpoints' subsets are made when a stage reads
    them: equal to what reading makes, and the other views of the file stay as they are."""
    repo = CASES / "fanout-health"
    disk = DiskCache(tmp_path / "cache")
    read(repo, disk)
    cluster = _replayed(repo, disk, ["manifests", "snapshot"], True)
    plain = _read_plain(repo, ["manifests", "snapshot"], True)
    views = [*cluster.ingresses, *cluster.services.values(), *cluster.endpoints.values()]
    assert len(views) > 3 and all(map(_left, views))
    for name in ("default_backend", "rules", "tls"):
        assert getattr(cluster.ingresses[0], name) == getattr(plain.ingresses[0], name)
    assert not _left(cluster.ingresses[0]) and all(map(_left, views[1:]))
    assert cluster.services == plain.services and cluster.endpoints == plain.endpoints  # read field by field
    assert cluster.ingresses == plain.ingresses and not any(map(_left, views))


def test_a_later_part_that_will_not_decode_reads_the_objects_again(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The part is decoded only when a field of it is read: if it does not decode into its shape then,
    the object is read again from its document (the same values), never a wrong or failed view."""
    repo = CASES / "fanout-health"
    disk = DiskCache(tmp_path / "cache")
    keys = _view_keys(monkeypatch)
    read(repo, disk)
    key = keys["manifests/ingress.yaml"]
    fmt, digest, size, places, (groups, reads, part) = disk.get(key)  # type: ignore[misc]
    assert type(part) is bytes
    disk.put(key, (fmt, digest, size, places, (groups, reads, part[: len(part) // 2])))
    again: list[Any] = []
    original = view_cache.read_again
    monkeypatch.setattr(view_cache, "read_again", lambda view, names: again.append(view) or original(view, names))
    cluster = _replayed(repo, disk, ["manifests"], True)
    plain = _read_plain(repo, ["manifests"], True)
    assert all(map(_left, cluster.ingresses))
    assert cluster.ingresses == plain.ingresses and again == cluster.ingresses


TWICE = """apiVersion: v1
kind: Service
metadata: {name: twice, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: twice, namespace: default}
spec: {ports: [{port: 81}]}
"""


@pytest.mark.parametrize("kind", ["Service", "Ingress"])
def test_a_file_holding_one_object_twice_replays_its_duplicate(tmp_path: Path, kind: str) -> None:
    """A replayed file is indexed in one step only when its objects are new: one named twice in the
    file is a duplicate at replay too (the first one kept, a finding for the second)."""
    repo = tmp_path / "repo"
    shutil.copytree(CASES / "fanout-health", repo, ignore=shutil.ignore_patterns("expected"))
    if kind == "Service":
        (repo / "manifests" / "twice.yaml").write_text(TWICE)
    else:
        ingress = (repo / "manifests" / "ingress.yaml").read_text()
        (repo / "manifests" / "twice.yaml").write_text(ingress + "\n---\n" + ingress)
    disk = DiskCache(tmp_path / "cache")
    plain = read(repo, None)[:2]
    assert sum(f.code == "K8S006" for f in plain[1]) == (1 if kind == "Service" else 2)
    first = read(repo, disk)
    again = read(repo, disk)
    assert again[2] is not None and again[2].hits == first[2].stores  # type: ignore[union-attr]
    assert first[:2] == plain and again[:2] == plain


def test_a_stored_file_keeps_each_distinct_string_once(tmp_path: Path) -> None:
    """Equal strings of a file's views are one object in the entry (marshal stores the others as refs,
    decoded once): replayed Services share their `kind`, unlike those reading makes."""
    repo = CASES / "fanout-health"
    disk = DiskCache(tmp_path / "cache")
    read(repo, disk)
    cluster = _replayed(repo, disk, ["manifests/services.yaml"], True)
    plain = _read_plain(repo, ["manifests/services.yaml"], True)
    metas = [s.meta for s in cluster.services.values()]
    assert len(metas) == 2 and list(cluster.services.items()) == list(plain.services.items())
    assert len({id(m.kind) for m in metas}) == 1 and len({id(m.namespace) for m in metas}) == 1
    assert len({id(s.meta.kind) for s in plain.services.values()}) == 2
