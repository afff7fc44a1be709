"""Kube views per source file, kept in the disk cache: an unchanged file is not read into views again.

Why: in a pull request run the head differs from main (whose render the cache holds) in a file or
two, yet every file's documents were loaded from the parse cache and every object read into its
typed view again (a tenth of a 10k-Ingress run). Reading an object is a function of its document
alone (renderer.kube.load `add_document`'s record); only indexing it (is it a duplicate of an
object of another file?) depends on the other files. So an entry holds, for one file, what reading
its objects left (the findings, the views, the F5 markers), and a hit replays that into the
Cluster with `load.replay_columns` (or `load.replay`), which indexes every view again: duplicate
findings across files, the order of every collection and of the findings come out exactly as
reading would make them (a file of one collection whose objects are all new goes in one step).

The key: the file's content id (its git blob id; a working tree's bytes are hashed into the same
id), its path (the views name it), the parse options (limits), and the code fingerprint of the whole
package (`render_memo.render_fingerprint`: readers, parser, this module). Only files whose parse
was clean (no finding, like the parse cache's rule) are kept, and never a file holding a Secret, or
secret material anywhere in the entry (`render_memo.holds_secrets`). An entry that does not decode
into the expected shape is a miss.

The views point at their `Document` (later stages read `doc.data`, `doc.source.text`, positions):
on a hit those are stand-ins (`LazyDocument`, `LazySource`) that know their path, index, line and
content id, and load their data and text from the parse cache (or the file) on first use, once per
file, so the documents nobody looks at are never loaded.

The views are stored as columns (`_columns`): each view class's objects of one depth are a group,
a column per field (plain data as it is, views as indexes into the objects made before, documents
as indexes), so a hit makes them with C loops (map over the slots' setters), not a Python call per
object; the classes are named by module and name and looked up among the view classes only, so a
tampered entry cannot name anything else. The fields of objects.LATER (an Ingress's rules, a
Service's ports, an Endpoints' subsets: a run reads them only for the Ingresses it builds) are a
marshalled part of their own, decoded when a stage first reads one of them (`_Later`; a part that
will not decode then has the object read again from its document). Reads holding what columns do
not (a finding, a custom resource refused) are stored as a pickle that can name only the view
classes and findings (`ViewUnpickler`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import marshal
import operator
import pickle
from collections import deque
from collections.abc import Callable, Iterable
from itertools import chain, repeat
from typing import Any

from renderer.errors import Finding, Severity, SourceLocation
from renderer.kube import crd, objects
from renderer.kube.load import Cluster, Columns, Read, add_document, read_again, replay, replay_columns
from renderer.source import Document, SourceFile

KIND = "kube-views"
FORMAT = 2  # 2: views as columns (`_columns`), the pickle only for what columns do not hold
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
    """One file of a hit: its stand-ins and the reads to replay (a pickle's list, or columns)."""

    __slots__ = ("docs", "reads", "source")

    def __init__(self, source: LazySource, docs: list[LazyDocument], reads: list[Read] | Columns) -> None:
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
            if fmt != FORMAT or type(size) is not int or type(places) is not list or \
                    type(views) not in (bytes, tuple):
                return None
            if digest is not None and stored_digest is not None and stored_digest != digest:
                return None
            if not (set(map(type, places)) <= {tuple} and set(map(len, places)) <= {2}
                    and set(map(type, chain.from_iterable(places))) <= {int}):  # (index, line) pairs
                return None
            source = LazySource(path, size, content, functools.partial(load, places))
            indexes, lines = zip(*places, strict=True) if places else ((), ())
            docs = list(map(LazyDocument, repeat(source), indexes, lines, range(len(places))))
            reads: list[Read] | Columns
            if type(views) is tuple:
                reads = _from_columns(views, docs)
            else:
                reads = ViewUnpickler(io.BytesIO(views), docs).load()
                if not _well_formed(reads):
                    return None
        except Exception:  # anything a corrupt entry makes the decoder raise is a miss
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
                    if type(stored.reads) is tuple:
                        replay_columns(cluster, *stored.reads, findings, mark)
                    else:
                        replay(cluster, stored.reads, findings, mark)  # type: ignore[arg-type]
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
            views: bytes | tuple = _columns(record, docs)
        except _NoColumns:
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
    return len(a) == len(b) and all(map(operator.is_, a, b))


def _holds_secret(doc: Document) -> bool:
    """A Secret anywhere in the document (also an item of a `kind: List`)."""
    data = doc.data
    if not isinstance(data, dict):
        return False
    if data.get("kind") == "Secret":
        return True
    items = data.get("items")
    return isinstance(items, list) and any(isinstance(i, dict) and i.get("kind") == "Secret" for i in items)


# --- the columns: each view class's objects one column per field, made without a Python call each ----

class _NoColumns(Exception):
    """The reads hold something columns do not (a finding, a Document of another file, a value that
    is neither plain data nor views): the file is stored as a pickle instead."""


_NONE_TYPE = type(None)
_SCALARS = frozenset({str, int, float, bool, bytes, _NONE_TYPE})
_NEW = object.__new__
# a column's kind: plain data ("p"), a view or None ("r"), a tuple of views ("s"), a document ("d"),
# or left for later ("l": objects.LATER, in the file's later part); refs are indexes into the table
# of objects made so far (0 is None), documents into the file's
_PLAIN, _REF, _REFS, _DOC, _LATER = "p", "r", "s", "d", "l"
# what reading makes as columns: every collection whose view carries its meta (not "crd_rejected")
_COLUMN_COLLECTIONS = frozenset({"ingress", "ingress_class", "service", "endpoints", "slice", "node", "secret",
                                 "configmap", "route", "block_affinity", "crd"})
Layout = tuple[tuple[str, ...], tuple[Any, ...], tuple[tuple[Any, Any], ...]]


@functools.cache
def _layouts() -> dict[type, Layout]:
    """View class -> (its stored fields, their slot setters, (setter, default) of its init=False fields).

    Only classes whose slots are exactly their fields, each stored or with a plain default (so
    setting them all makes the object its constructor makes: ObjectMeta's `_origin` starts None)."""
    found: dict[type, Layout] = {}
    for cls in _view_classes().values():
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)) or cls in (Finding, SourceLocation):
            continue
        fields = dataclasses.fields(cls)
        if not all("__slots__" in vars(klass) for klass in cls.__mro__[:-1]):  # an instance __dict__
            continue
        if {name for klass in cls.__mro__[:-1] for name in vars(klass)["__slots__"]} != {f.name for f in fields}:
            continue
        stored = tuple(f.name for f in fields if f.init)
        defaults = [f for f in fields if not f.init]
        if any(type(f.default) not in _SCALARS for f in defaults):
            continue
        found[cls] = (stored, tuple(_setter(cls, name) for name in stored),
                      tuple((_setter(cls, f.name), f.default) for f in defaults))
    return found


def _setter(cls: type, name: str) -> Any:
    """The slot's own setter (behind a LATER field's `_LaterSlot` too)."""
    found = getattr(cls, name)
    return getattr(found, "slot", found).__set__


def _plain(value: Any) -> bool:
    """Data marshal keeps as it is (no view, no document, no other class)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is tuple or kind is list or kind is set or kind is frozenset:
        return all(map(_plain, value))
    if kind is dict:
        return all(map(_plain, value)) and all(map(_plain, value.values()))
    return False


class _Graph:
    """Views to store, grouped by (depth, class): a group holds only objects of groups before it."""

    def __init__(self, doc_index: dict[int, int], later: dict[type, tuple[str, ...]]) -> None:
        self.layouts = _layouts()
        self.doc_index = doc_index
        self.later = later  # fields not visited here (LATER; empty: every field)
        self.depth: dict[int, int] = {}
        self.groups: dict[tuple[int, type], list[Any]] = {}
        self.table: dict[int, int] = {}
        self.strings: dict[str, str] = {}  # one object per distinct string: marshal writes the others as refs
        self.copies: dict[int, Any] = {}  # id of a plain container -> its copy (the views keep it alive)

    def visit(self, obj: Any) -> int:
        made = self.depth.get(id(obj))
        if made is not None:
            return made
        layout = self.layouts.get(type(obj))
        if layout is None:
            raise _NoColumns(type(obj).__name__)
        skip = self.later.get(type(obj), ())
        below = 0
        for name in layout[0]:
            if name not in skip:
                value = getattr(obj, name)
                if type(value) not in _SCALARS:  # a scalar holds no view (`value` gives 0)
                    below = max(below, self.value(value))
        self.depth[id(obj)] = below + 1
        self.groups.setdefault((below + 1, type(obj)), []).append(obj)
        return below + 1

    def value(self, value: Any) -> int:
        """The depth below a field's value (0 when it holds no view)."""
        kind = type(value)
        if kind in self.layouts:
            return self.visit(value)
        if kind is tuple and value and type(value[0]) in self.layouts:
            return max(map(self.visit, value))
        if isinstance(value, Document) and id(value) not in self.doc_index:
            raise _NoColumns("a document of another file")
        return 0

    def encode(self) -> tuple[Any, ...]:
        """The groups, each (module, class name, count, a column per field), in an order decoding can make."""
        ordered = sorted(self.groups.items(), key=lambda item: item[0][0])  # stable: first seen first
        for _, objs in ordered:
            for obj in objs:
                self.table[id(obj)] = len(self.table) + 1
        self.order = [cls for (_, cls), _ in ordered]
        self.members = [objs for _, objs in ordered]
        return tuple((cls.__module__, cls.__name__, len(objs),
                      tuple((_LATER, []) if name in self.later.get(cls, ()) else self.column(objs, name)
                            for name in self.layouts[cls][0])) for (_, cls), objs in ordered)

    def column(self, objs: list[Any], name: str) -> tuple[str, list[Any]]:
        """One field of a group's objects: its kind (the same for all, or no columns) and its values."""
        layouts, table = self.layouts, self.table
        values = list(map(operator.attrgetter(name), objs))
        if _SCALARS.issuperset(map(type, values)):  # scalars (None too): plain, what the loop below finds
            strings = self.strings
            return _PLAIN, [strings.setdefault(v, v) if type(v) is str else v for v in values]
        kinds = set()
        for value in values:
            kind = type(value)
            if value is None:
                kinds.add("none")
            elif kind is tuple and not value:
                kinds.add("empty")
            elif kind in layouts:
                kinds.add(_REF)
            elif kind is tuple and all(type(v) in layouts for v in value):
                kinds.add(_REFS)
            elif isinstance(value, Document):
                kinds.add(_DOC)
            elif _plain(value):
                kinds.add(_PLAIN)
            else:
                raise _NoColumns(f"{name}: a {kind.__name__}")
        definite = kinds - {"none", "empty"}
        if len(definite) > 1:
            raise _NoColumns(f"{name}: mixed")
        kind = definite.pop() if definite else _PLAIN
        if ("none" in kinds and kind not in (_PLAIN, _REF)) or ("empty" in kinds and kind not in (_PLAIN, _REFS)):
            raise _NoColumns(f"{name}: mixed")
        try:
            if kind == _REF:
                return kind, [0 if v is None else table[id(v)] for v in values]
            if kind == _REFS:
                return kind, [tuple([table[id(x)] for x in v]) for v in values]
            if kind == _DOC:
                return kind, [self.doc_index[id(v)] for v in values]
        except KeyError:  # a view of the other part (see _columns), or a document the later part cannot hold
            raise _NoColumns(f"{name}: shared") from None
        return kind, [self.canonical(v) for v in values]

    def canonical(self, value: Any) -> Any:
        """Plain data with each distinct string one object (containers copied; equal values as before):
        a file's thousand `kind: Endpoints` and label keys are stored once, decoded once."""
        kind = type(value)
        if kind is str:
            return self.strings.setdefault(value, value)
        if kind is not tuple and kind is not list and kind is not dict:
            return value
        copy = self.copies.get(id(value))  # a container held twice stays one
        if copy is None:
            copy = {self.canonical(k): self.canonical(v) for k, v in value.items()} if kind is dict else \
                kind(map(self.canonical, value))
            self.copies[id(value)] = copy
        return copy


def _columns(record: list[Read], docs: list[Document], later: bool = True) -> tuple[Any, ...]:
    """The reads as (groups, reads, later part): groups of views as `_Graph.encode` makes them; the
    reads as four columns (meta, collection, view, marker); and the fields of objects.LATER as a
    marshalled part of their own (groups of the objects they hold, then each field's column), which
    `_Later` decodes when a stage first reads one. A LATER field holding a document or an object
    the rest also holds is not left for later (`later=False`: every field in the groups)."""
    doc_index = {id(doc): i for i, doc in enumerate(docs)}
    graph = _Graph(doc_index, objects.LATER if later else {})
    metas, collections, views, markers = [], [], [], []
    for made, added, meta, marker in record:
        if made or type(meta) is not objects.ObjectMeta or not (marker is None or type(marker) is str):
            raise _NoColumns("a finding, or not an object")
        graph.visit(meta)
        metas.append(meta)
        markers.append(marker)
        if added is None:
            collections.append(None)
            views.append(None)
            continue
        collection, view = added
        if collection not in _COLUMN_COLLECTIONS or getattr(view, "meta", None) is not meta:
            raise _NoColumns(f"collection {collection}")
        graph.visit(view)
        collections.append(collection)
        views.append(view)
    groups = graph.encode()
    table = graph.table
    reads = ([table[id(meta)] for meta in metas], collections,
             [0 if view is None else table[id(view)] for view in views], markers)
    part = None
    if later and any(cls in objects.LATER for cls in graph.order):
        held = _Graph({}, {})
        for cls, objs in zip(graph.order, graph.members, strict=True):
            for name in objects.LATER.get(cls, ()):
                for obj in objs:
                    held.value(getattr(obj, name))
        if held.depth.keys() & graph.depth.keys():
            return _columns(record, docs, later=False)
        try:
            held_groups = held.encode()
            fields = {g: tuple(held.column(objs, name) for name in objects.LATER[cls])
                      for g, (cls, objs) in enumerate(zip(graph.order, graph.members, strict=True))
                      if cls in objects.LATER}
        except _NoColumns:
            return _columns(record, docs, later=False)
        part = marshal.dumps((held_groups, fields), 4)
    return groups, reads, part


def _indexes(values: Iterable[Any]) -> None:
    """Refs are indexes from 0 up: a negative one (which Python would count from the end) is corrupt."""
    if min(values, default=0) < 0:
        raise ValueError("a negative index")


def _make_groups(groups: Any, table: list[Any], docs: list[Any]) -> list[tuple[type, int, int, bool]]:
    """Make the stored groups' objects onto `table`, group by group with C loops (map over slot
    setters); (class, first index, count, has later fields) of each. Raises on anything not in its shape."""
    classes, layouts = _view_classes(), _layouts()
    get = table.__getitem__
    made_groups = []
    for module, name, n, columns in groups:
        cls = classes[(module, name)]
        names, setters, defaults = layouts[cls]  # a KeyError for a constructor or a finding type
        if type(n) is not int or len(columns) != len(setters):
            raise ValueError("a group of another shape")
        later = objects.LATER.get(cls, ())
        kinds = [kind for kind, _ in columns]
        left = {field for field, kind in zip(names, kinds, strict=True) if kind == _LATER}
        if left and left != set(later):
            raise ValueError("fields left for later that are not LATER's")
        objs = list(map(_NEW, repeat(cls, n)))
        for setter, default in defaults:
            deque(map(setter, objs, repeat(default, n)), 0)
        for setter, (kind, values) in zip(setters, columns, strict=True):
            if kind == _LATER:
                continue
            if len(values) != n:
                raise ValueError("a column of another length")
            if kind == _PLAIN:
                made: Iterable[Any] = values
            elif kind == _REF:
                _indexes(values)
                made = map(get, values)
            elif kind == _REFS:
                _indexes(chain.from_iterable(values))
                made = map(tuple, map(functools.partial(map, get), values))
            elif kind == _DOC:
                _indexes(values)
                made = map(docs.__getitem__, values)
            else:
                raise ValueError(f"a column of kind {kind!r}")
            deque(map(setter, objs, made), 0)
        made_groups.append((cls, len(table), n, bool(left)))
        table += objs
    return made_groups


def _from_columns(stored: tuple[Any, ...], docs: list[LazyDocument]) -> Columns:
    """The reads `_columns` stored, as `load.replay_columns` takes them; raises on anything not in
    its shape (the caller's miss). Fields left for later get their `_later` (a `_Later` of the file)."""
    groups, (meta_refs, collections, view_refs, markers), part = stored
    table: list[Any] = [None]
    made = _make_groups(groups, table, docs)
    if any(left for *_, left in made):
        if type(part) is not bytes:
            raise ValueError("fields left for later and no part to read them from")
        later = _Later(part)
        for g, (cls, start, n, left) in enumerate(made):
            if left:
                deque(map(cls._later.__set__, table[start:start + n],  # type: ignore[attr-defined]
                          zip(repeat(functools.partial(later.values, g)), range(n))), 0)
    get = table.__getitem__
    n = len(meta_refs)
    if not (len(collections) == len(view_refs) == len(markers) == n):
        raise ValueError("read columns of other lengths")
    _indexes(meta_refs)
    _indexes(view_refs)
    metas = list(map(get, meta_refs))
    views = list(map(get, view_refs))
    if not set(map(type, metas)) <= {objects.ObjectMeta} or not set(map(type, markers)) <= {str, _NONE_TYPE}:
        raise ValueError("a meta or marker of another type")
    for collection, kind in set(zip(collections, map(type, views), strict=True)):
        if collection is None:
            if kind is not _NONE_TYPE:
                raise ValueError("a view in no collection")
        elif collection not in _COLUMN_COLLECTIONS or not issubclass(kind, _COLLECTIONS[collection]):
            raise ValueError(f"a {kind.__name__} in {collection!r}")
    if None in collections:
        pairs = [(v, m) for c, v, m in zip(collections, views, metas, strict=True) if c is not None]
        held, owners = [v for v, _ in pairs], [m for _, m in pairs]
    else:
        held, owners = views, metas
    if not all(map(operator.is_, map(_META, held), owners)):
        raise ValueError("a view of another object's meta")
    return collections, views, metas, markers


_META = operator.attrgetter("meta")


class _Later:
    """The LATER fields of one file's views, decoded when a stage first reads one of them.

    The part was checked with the entry (DiskCache's checksum) but not decoded; should it not decode
    into its shape, the view's object is read again from its document instead (`load.read_again`:
    the same values, reading being a function of the document). Holds no view: no reference cycle."""

    __slots__ = ("_fields", "_part", "_table")

    def __init__(self, part: bytes) -> None:
        self._part: bytes | None = part
        self._table: list[Any] | None = None
        self._fields: Any = None

    def values(self, group: int, view: Any, row: int) -> tuple[Any, ...]:
        """The LATER fields of `view`, the `row`th object of `group` (objects._read_later's source)."""
        names = objects.LATER[type(view)]
        try:
            if self._table is None:
                part, self._part = self._part, None
                if part is None:
                    raise ValueError("the part did not decode")
                held_groups, fields = marshal.loads(part)
                table: list[Any] = [None]
                _make_groups(held_groups, table, [])
                self._table, self._fields = table, fields
            columns = self._fields[group]
            if len(columns) != len(names):
                raise ValueError("fields of another count")
            return tuple(_one(self._table, kind, values[row]) for kind, values in columns)
        except Exception:  # any shape the part should not have: read the object again
            return read_again(view, names)


def _one(table: list[Any], kind: str, value: Any) -> Any:
    """One stored field value of the later part."""
    if kind == _PLAIN:
        return value
    if kind == _REF:
        _indexes((value,))
        return table[value]
    if kind == _REFS:
        _indexes(value)
        return tuple(map(table.__getitem__, value))
    raise ValueError(f"a column of kind {kind!r}")


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
    """A view as its class called with its field values (the init=False ones, a `_later`, start as the
    constructor sets them); ObjectMeta and EndpointAddress through their fast constructors
    (objects.py), which make the same objects."""
    table: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
    for cls in _view_classes().values():
        if isinstance(cls, type) and dataclasses.is_dataclass(cls):
            table[cls] = functools.partial(_reduce, cls, tuple(f.name for f in dataclasses.fields(cls) if f.init))
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
