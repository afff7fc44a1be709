"""Kube views per source file, kept in the disk cache: an unchanged file is not read into views again.

Why: in a pull request run the head differs from main (whose render the cache holds) in a file or
two, yet every file's documents were loaded from the parse cache and every object read into its
typed view again (a tenth of a 10k-Ingress run). Reading an object is a function of its document
alone (renderer.kube.load `add_document`'s record); only indexing it (is it a duplicate of an
object of another file?) depends on the other files. So an entry holds, for one file, what reading
its objects left (the findings, the views, the F5 markers), and a hit replays that into the
Cluster with `load.replay`, which indexes every view again: duplicate findings across files, the
order of every collection and of the findings come out exactly as reading would make them.

The key: the file's content id (its git blob id; a working tree's bytes are hashed into the same
id), its path (the views name it), the parse options (limits), and the code fingerprint of the whole
package (`render_memo.render_fingerprint`: readers, parser, this module). Only files whose parse
was clean (no finding, like the parse cache's rule) are kept, and never a file holding a Secret, or
secret material anywhere in the entry (`render_memo.holds_secrets`). An entry that does not decode
into the expected shape is a miss.

The views point at their `Document` (later stages read `doc.data`, `doc.source.text`, positions):
on a hit those are stand-ins (`LazyDocument`, `LazySource`) that know their path, index, line and
content id, and load their data and text from the parse cache (or the file) on first use, once per
file, so the documents nobody looks at are never loaded. The views are stored as a pickle that can
name only the view classes and findings (`ViewUnpickler`: a tampered entry cannot run code).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import pickle
from collections.abc import Callable, Iterable
from typing import Any

from renderer.errors import Finding, Severity, SourceLocation
from renderer.kube import crd, objects
from renderer.kube.load import Cluster, Read, add_document, replay
from renderer.source import Document, SourceFile

KIND = "kube-views"
FORMAT = 1
Parsed = tuple[SourceFile, list[Document], list[Finding]]


class ViewCacheError(RuntimeError):
    """A stand-in document's file no longer parses into what its views were read from (a bug)."""


class LazySource(SourceFile):
    """A SourceFile whose text (and its documents' data) is loaded on first use.

    Nothing here points back at the documents or the cache: a file's stand-ins and views form no
    reference cycle, so reference counting frees them as it frees parsed files (render runs with
    the cyclic GC paused; a cycle per file would leave them all to one long collection)."""

    def __init__(self, path: str, size: int, content: str, load: Callable[[], tuple[str, list[Any]]]) -> None:
        self.path, self.size, self._content, self._nodes = path, size, content, None
        self._load: Callable[[], tuple[str, list[Any]]] | None = load
        self._data: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        if name == "text":
            self._loaded()
            return self.__dict__["text"]
        raise AttributeError(name)

    def _loaded(self) -> list[Any]:
        """The documents' data, in file order (the text is set on the way)."""
        load = self._load
        if load is not None:
            self.text, self._data = load()
            self._load = None
        return self._data


class LazyDocument(Document):
    """A Document whose data is loaded on first use (the whole file's documents at once)."""

    def __init__(self, source: LazySource, index: int, line: int, position: int) -> None:
        self.source, self.index, self.line = source, index, line
        self._position = position  # among the file's documents

    def __getattr__(self, name: str) -> Any:
        if name == "data":
            data = self.source._loaded()[self._position]
            self.data = data
            return data
        raise AttributeError(name)


def _load(parse: Any, path: str, key: str, loader: Callable[[], bytes], options: tuple,
          places: list[tuple[int, int]]) -> tuple[str, list[Any]]:
    """The text and documents' data of the parse the views were read from (the same content)."""
    src, parsed, problems = parse.get(path, key, loader, *options)
    if problems or [(d.index, d.line) for d in parsed] != places:
        raise ViewCacheError(f"{path}: parses into other documents than its stored views were read from")
    return src.text, [d.data for d in parsed]


class _Stored:
    """One file of a hit: its stand-ins and the reads to replay."""

    __slots__ = ("docs", "reads", "source")

    def __init__(self, source: LazySource, docs: list[LazyDocument], reads: list[Read]) -> None:
        self.source, self.docs, self.reads = source, docs, reads


class ViewCache:
    """Stands for the parse cache while documents are loaded (`get`), then for reading them into a
    Cluster (`add_objects`). One per render; `parse` is the ParseCache it wraps."""

    def __init__(self, parse: Any, disk: Any) -> None:
        self.parse = parse
        self.disk = disk
        self._hits: dict[tuple[str, str, str], tuple[_Stored, Parsed]] = {}
        self._by_source: dict[int, _Stored] = {}
        self._pending: dict[int, tuple[str, SourceFile, list[Document], bytes | None]] = {}
        self.hits = self.misses = self.stores = 0

    # --- loading ---------------------------------------------------------------------------------

    def get(self, path: str, key: str, loader: Callable[[], bytes], *options: Any) -> Parsed:
        """ParseCache.get's answer; on a hit, stand-ins whose views `add_objects` replays."""
        from renderer.cache import git_blob_id  # only a render with the disk cache gets here

        data = digest = None
        if key == path:  # a working tree: the content id comes from the bytes
            data = loader()
            digest = hashlib.sha256(data).digest()
            blob_id = git_blob_id(data)
            loader = functools.partial(_same, data)
        else:
            blob_id = key
        content = f"git:{blob_id}"
        extra = repr(options)
        memo = self._hits.get((path, content, extra))
        if memo is not None:
            return memo[1]
        entry = self._key(path, content, extra)
        stored = self.disk.get(entry, lambda value: self._revive(path, content, value, digest,
                                                               functools.partial(_load, self.parse, path, key,
                                                                                 loader, options)))
        if stored is not None:
            self.hits += 1
            parsed: Parsed = (stored.source, list(stored.docs), [])
            self._hits[(path, content, extra)] = (stored, parsed)
            self._by_source[id(stored.source)] = stored
            return parsed
        self.misses += 1
        src, docs, problems = self.parse.get(path, key, loader, *options)
        if not problems and not any(map(_holds_secret, docs)):
            self._pending[id(src)] = (entry, src, docs, digest)
        return src, docs, problems

    def _key(self, path: str, content: str, extra: str) -> str:
        from renderer.render_memo import render_fingerprint

        return "\0".join((KIND, str(FORMAT), render_fingerprint(), content, path, extra))

    def _revive(self, path: str, content: str, value: Any, digest: bytes | None,
                load: Callable[[list[tuple[int, int]]], tuple[str, list[Any]]]) -> _Stored | None:
        """The stored file back, with stand-in documents; None unless every part has its shape."""
        try:
            fmt, stored_digest, size, places, views = value
            if fmt != FORMAT or type(size) is not int or type(places) is not list or type(views) is not bytes:
                return None
            if digest is not None and stored_digest is not None and stored_digest != digest:
                return None
            at = [(index, line) for index, line in places]
            if not all(type(index) is int and type(line) is int for index, line in at):
                return None
            source = LazySource(path, size, content, functools.partial(load, at))
            docs = [LazyDocument(source, index, line, i) for i, (index, line) in enumerate(at)]
            reads = ViewUnpickler(io.BytesIO(views), docs).load()
        except Exception:  # anything a corrupt entry makes the unpickler raise is a miss
            return None
        if not _well_formed(reads):
            return None
        return _Stored(source, docs, reads)

    # --- reading ---------------------------------------------------------------------------------

    def add_objects(self, cluster: Cluster, documents: Iterable[Document], findings: list[Finding],
                    mark: bool) -> None:
        """`load.add_cluster_objects` for documents loaded through `get`: a stored file replayed,
        a file to keep read and recorded (and stored), any other document read."""
        docs = list(documents)
        i = 0
        while i < len(docs):
            source = docs[i].source
            stored = self._by_source.get(id(source))
            whole = stored.docs if stored is not None else None
            pending = self._pending.get(id(source)) if stored is None else None
            if pending is not None:
                whole = pending[2]
            n = len(whole) if whole is not None else 0
            if whole is not None and n and len(docs) - i >= n and _same_objects(docs[i:i + n], whole):
                if stored is not None:
                    replay(cluster, stored.reads, findings, mark)
                else:
                    record: list[Read] = []
                    for doc in whole:
                        add_document(cluster, doc, findings, mark, record)
                    self._store(pending, record)  # type: ignore[arg-type]
                i += n
                continue
            add_document(cluster, docs[i], findings, mark)
            i += 1

    def _store(self, pending: tuple[str, SourceFile, list[Document], bytes | None], record: list[Read]) -> None:
        from renderer.render_memo import holds_secrets

        entry, src, docs, digest = pending
        self._pending.pop(id(src), None)
        if any(meta is not None and meta.kind == "Secret" for _, _, meta, _ in record):
            return
        try:
            views = _dumps(record, docs)
        except (pickle.PicklingError, KeyError, TypeError, ValueError, AttributeError, RecursionError):
            return
        value = (FORMAT, digest, src.size, [(d.index, d.line) for d in docs], views)
        if self.disk.put(entry, value, refuse=holds_secrets):
            self.stores += 1


def _same(data: bytes) -> bytes:
    return data


def _same_objects(a: list[Document], b: list[Document]) -> bool:
    return all(x is y for x, y in zip(a, b, strict=True))


def _holds_secret(doc: Document) -> bool:
    """A Secret anywhere in the document (also an item of a `kind: List`)."""
    data = doc.data
    if not isinstance(data, dict):
        return False
    if data.get("kind") == "Secret":
        return True
    items = data.get("items")
    return isinstance(items, list) and any(isinstance(i, dict) and i.get("kind") == "Secret" for i in items)


# --- the pickle: view classes and findings only, documents by index ----------------------------------

@functools.cache
def _view_classes() -> dict[tuple[str, str], type]:
    """Every frozen dataclass of renderer.kube.objects and renderer.kube.crd, and the finding types."""
    found: dict[tuple[str, str], type] = {}
    for module in (objects, crd):
        for name, cls in vars(module).items():
            if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == module.__name__:
                found[(module.__name__, name)] = cls
    for cls in (Finding, SourceLocation, Severity):
        found[(cls.__module__, cls.__name__)] = cls
    found[(objects.__name__, "object_meta")] = objects.object_meta  # type: ignore[assignment]
    found[(objects.__name__, "endpoint_address")] = objects.endpoint_address  # type: ignore[assignment]
    return found


def _reduce(cls: type, names: tuple[str, ...], obj: Any) -> tuple[Any, ...]:
    return cls, tuple([getattr(obj, name) for name in names])


@functools.cache
def _dispatch() -> dict[type, Callable[[Any], tuple[Any, ...]]]:
    """A view as its class called with its field values; ObjectMeta and EndpointAddress through their
    fast constructors (objects.py), which make the same objects."""
    table: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
    for cls in _view_classes().values():
        if isinstance(cls, type) and dataclasses.is_dataclass(cls):
            fields = dataclasses.fields(cls)
            if all(f.init for f in fields):
                table[cls] = functools.partial(_reduce, cls, tuple(f.name for f in fields))
    table[objects.ObjectMeta] = lambda m: (objects.object_meta, (m.kind, m.api_version, m.namespace, m.name,
                                                                 m.labels, m.annotations, m.doc, m.base))
    table[objects.EndpointAddress] = lambda a: (objects.endpoint_address, (a.ip, a.node_name, a.ready))
    return table


def _dumps(record: list[Read], docs: list[Document]) -> bytes:
    """The reads pickled; PicklingError when they hold anything the unpickler would refuse (say a
    datetime in a custom resource's spec), so no entry is written that could never be read."""
    out = io.BytesIO()
    _ViewPickler(out, {id(doc): i for i, doc in enumerate(docs)}).dump(record)
    return out.getvalue()


class _ViewPickler(pickle.Pickler):
    def __init__(self, out: io.BytesIO, index: dict[int, int]) -> None:
        super().__init__(out, protocol=pickle.HIGHEST_PROTOCOL)
        self._index = index
        self._reducers = _dispatch()
        self._named = {id(v) for v in _view_classes().values()}

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, Document):
            return self._index[id(obj)]  # KeyError for a document of another file: not stored
        return None

    def reducer_override(self, obj: Any) -> Any:
        """Views and findings by their reducers; Severity and the classes the unpickler names as
        themselves; anything else is not stored.
        (Plain str, int, float, bytes, list, tuple, dict, set never reach here.)"""
        reduce = self._reducers.get(type(obj))
        if reduce is not None:
            return reduce(obj)
        if type(obj) is Severity or id(obj) in self._named:  # a member; a class or constructor, by name
            return NotImplemented
        raise pickle.PicklingError(f"a view holds a {type(obj).__name__}")


class ViewUnpickler(pickle.Unpickler):
    """Unpickles view classes and findings only, and this file's documents by index."""

    def __init__(self, file: io.BytesIO, docs: list[LazyDocument]) -> None:
        super().__init__(file)
        self._docs = docs

    def persistent_load(self, pid: Any) -> Any:
        if type(pid) is not int or not 0 <= pid < len(self._docs):
            raise pickle.UnpicklingError(f"no document {pid!r}")
        return self._docs[pid]

    def find_class(self, module: str, name: str) -> Any:
        found = _view_classes().get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not a view class")
        return found


def _well_formed(reads: Any) -> bool:
    """Every read a (findings, (collection, view) or None, meta or None, marker or None) tuple."""
    if type(reads) is not list:
        return False
    meta_type = objects.ObjectMeta
    for read in reads:
        if type(read) is not tuple or len(read) != 4:
            return False
        made, added, meta, marker = read
        if type(made) is not tuple or not all(type(f) is Finding for f in made):
            return False
        if meta is None:
            if added is not None or marker is not None:
                return False
            continue
        if type(meta) is not meta_type or not (marker is None or type(marker) is str):
            return False
        if added is not None:
            if type(added) is not tuple or len(added) != 2:
                return False
            collection, view = added
            expected = _COLLECTIONS.get(collection) if type(collection) is str else None
            if expected is None or not isinstance(view, expected) or (
                    view is not meta and getattr(view, "meta", None) is not meta):
                return False
    return True


# collection (load.INDEX) -> the view type its reader makes
_COLLECTIONS: dict[str, type | tuple[type, ...]] = {
    "ingress": objects.Ingress, "ingress_class": objects.IngressClass, "service": objects.Service,
    "endpoints": objects.Endpoints, "slice": objects.EndpointSlice, "node": objects.Node,
    "secret": objects.Secret, "configmap": objects.ConfigMap, "route": objects.Route,
    "block_affinity": objects.BlockAffinity, "crd": tuple(crd.VIEW.values()), "crd_rejected": objects.ObjectMeta,
}


def for_render(tree: Any, config: Any, cache: Any, reuse: Any) -> ViewCache | None:
    """The view cache of one render, or None: only with the disk cache of a memoized render (`reuse`),
    for the repository's own files (a working tree or a commit; not a stdin stream), and not with
    `generate:` (its streams are read as they come)."""
    disk = getattr(cache, "disk", None)
    if disk is None or reuse is None or config.generate:
        return None
    kind = getattr(tree, "tree_kind", None) or type(tree).__name__  # a render_memo.TracingTree names its tree's
    if kind not in ("GitTree", "WorkTree"):
        return None
    return ViewCache(cache, disk)
