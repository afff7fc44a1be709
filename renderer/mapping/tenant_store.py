"""How a tenant's Ingress build is kept on disk (renderer.mapping.tenant_reuse): documents' digests,
the reads a build made of the cluster (recorded, packed, checked again), and the model as a pickle
that can name nothing but the model.

Why a module of its own: these are the parts whose exactness the reuse rests on (a digest must
change whenever a view could; a stored model must load as exactly the objects a build makes, and
must not be able to run code), and they are tested on their own.

A stored read that found one object also keeps its document's place (path, the file's content id,
index, first line, keys in a `kind: List`): equal places are the same bytes at the same place, so the
same document and digest. `checked` compares a whole table's places at once, at C speed (a hit
checks about 9,000 reads per 1,000 Ingresses), and asks for a digest only where a place differs.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import hashlib
import io
import operator
import pickle
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from renderer.errors import Origin, Severity, SourceLocation
from renderer.kube.load import Cluster
from renderer.kube.objects import ObjectMeta
from renderer.mapping.registry import Registry

TABLES = ("services", "endpoints", "slices", "nodes", "secrets")  # the Cluster tables a build may read
ONE = ("services", "endpoints", "nodes", "secrets")  # the tables whose values are one object each
DIGEST_KIND = "document-digests"
FORMAT = 1


class NoDigest(Exception):
    """A document with no digest (see `Digests`): the tenant is built, not stored."""


class Digests:
    """Digests of objects' documents: a digest of the document's lines, each file split once. With
    `disk`, a file parsed through the disk cache (its content id known) keeps its documents'
    digests there too, so an unchanged file is not hashed again (`flush` writes the new ones)."""

    def __init__(self, disk: Any = None) -> None:
        self._docs: dict[int, bytes] = {}
        self._files: dict[int, tuple[list[str], list[int]] | None] = {}
        self._stored: dict[int, tuple[str | None, dict[tuple[int, int], bytes], bool]] = {}
        self._keep: list[Any] = []  # what is keyed by id() here stays alive while we hold it
        self._disk = disk
        self.found: dict[tuple[str, Any], Any] = {}  # (table, key) -> what `current` found, this phase

    def meta(self, meta: ObjectMeta) -> bytes:
        doc = meta.doc
        found = self._docs.get(id(doc))
        if found is None:
            found = self._docs[id(doc)] = self._remembered(doc)
            self._keep.append(doc)
        return found + repr(meta.base).encode() if meta.base else found

    def _remembered(self, doc: Any) -> bytes:
        source = doc.source
        stored = self._stored.get(id(source))
        if stored is None:
            content = getattr(source, "_content", None)
            key = None if content is None or self._disk is None else \
                f"{DIGEST_KIND}\0{FORMAT}\0{_fingerprint()}\0{source.path}\0{content}"
            table = self._disk.get(key, digest_table) if key is not None else None
            stored = self._stored[id(source)] = (key, table or {}, False)
            self._keep.append(source)
        key, table, dirty = stored
        found = table.get((doc.index, doc.line))
        if found is None:
            found = table[(doc.index, doc.line)] = self._document(doc)
            if key is not None and not dirty:
                self._stored[id(source)] = (key, table, True)
        return found

    def flush(self) -> None:
        """Write the digest tables that gained entries."""
        for key, table, dirty in self._stored.values():
            if dirty and key is not None:
                self._disk.put(key, table)

    def _document(self, doc: Any) -> bytes:
        """A document's data is a function of its lines from its first token (`doc.line`) to the next
        document marker (`---` or `...` at column 0, which no content line can be); its views are a
        function of that data and of (path, line). A file with a directive (`%TAG` changes what the
        next document means) has no digest."""
        source = doc.source
        split = self._files.get(id(source), False)
        if split is False:
            text = source.text
            directive = text.startswith("%") or "\n%" in text
            split = None if directive else (text.split("\n"), _marker_lines(text))
            self._files[id(source)] = split
            self._keep.append(source)
        if split is None or doc.line < 1:
            raise NoDigest(f"{doc.path}: no digest")
        lines, markers = split
        start = doc.line - 1
        after = bisect.bisect_right(markers, start)
        end = markers[after] if after < len(markers) else len(lines)
        body = "\n".join(lines[start:end]).encode("utf-8", "surrogatepass")
        head = repr((doc.path, doc.index, doc.line)).encode("utf-8", "surrogatepass")
        return hashlib.blake2b(head + b"\0" + body, digest_size=16).digest()

    def value(self, table: str, value: Any) -> Any:
        """What a read found, as plain data: None, a document digest, or (slices) a tuple of them."""
        if value is None:
            return None
        if table == "slices":
            return tuple(self.meta(s.meta) for s in value)
        if table == "certificate_names":
            return value
        return self.meta(value.meta)


def _marker_lines(text: str) -> list[int]:
    """0-based numbers of the lines that are document markers (`---`/`...` then a space or the line's end)."""
    starts = []
    for mark in ("---", "..."):
        if text.startswith(mark):
            starts.append(0)
        pos = text.find("\n" + mark)
        while pos >= 0:
            starts.append(pos + 1)
            pos = text.find("\n" + mark, pos + 1)
    lines, line, at = [], 0, 0
    for start in sorted(starts):
        if text[start + 3:start + 4] in ("", " ", "\t", "\r", "\n"):
            line += text.count("\n", at, start)
            at = start
            lines.append(line)
    return lines


def _fingerprint() -> str:
    from renderer.render_memo import render_fingerprint

    return render_fingerprint()


def digest_table(value: Any) -> dict[tuple[int, int], bytes] | None:
    """A stored digest table, if well formed (else a miss)."""
    if not isinstance(value, dict) or not all(
            isinstance(k, tuple) and len(k) == 2 and isinstance(v, bytes) and len(v) == 16 for k, v in value.items()):
        return None
    return value


def dumps(tenant: Any, known: list[Origin]) -> bytes:
    """`tenant` pickled: a model object as its class called with its field values (a quarter of the
    bytes of pickle's default, a dict of slots per object, and faster to load), each Origin in
    `known` as its index there (see ModelUnpickler). Reducers in a dispatch table, so the pickler
    calls Python only for model objects, not for every string and tuple."""
    index = {id(o): i for i, o in reversed(list(enumerate(known)))}

    def origin(o: Origin) -> tuple[Any, ...]:
        at = index.get(id(o))
        return (known_origin, (at,)) if at is not None else (Origin, (o.location, o.kind, o.namespace, o.name))

    table: dict[type, Any] = {cls: _reducer(cls, fields) for cls, fields in _model_fields().items()}
    table[Origin] = origin
    table[SourceLocation] = lambda loc: (SourceLocation, (loc.path, loc.line, loc.column))
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = table  # type: ignore[assignment]
    pickler.dump(tenant)
    return out.getvalue()


def _reducer(cls: type, fields: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """`cls` called with the object's field values (fetched by one C-level attrgetter)."""
    get = operator.attrgetter(*fields) if fields else (lambda obj: ())
    if len(fields) == 1:
        return lambda obj: (cls, (get(obj),))
    return lambda obj: (cls, get(obj))


def known_origin(index: int) -> Origin:
    """Stands in a pickle for the known Origin at `index`; ModelUnpickler resolves it."""
    raise pickle.UnpicklingError("a known origin outside ModelUnpickler")


@functools.cache
def _model_fields() -> dict[type, tuple[str, ...]]:
    """Each model dataclass whose fields are all __init__ arguments, with their names in order."""
    from renderer import model

    classes = [c for c in vars(model).values()
               if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__module__ == model.__name__]
    return {c: tuple(f.name for f in dataclasses.fields(c)) for c in classes
            if all(f.init for f in dataclasses.fields(c))}


class ModelUnpickler(pickle.Unpickler):
    """Unpickles the model's own classes only (a tampered cache entry cannot run code), and the
    known Origins by index: `known` holds them, or with `of_objects` the objects (anything with a
    `meta`) whose Origins they are, each Origin then made only if the pickle holds it."""

    def __init__(self, file: io.BytesIO, known: Sequence[Any], *, of_objects: bool = False) -> None:
        super().__init__(file)
        self._known = known
        self._of_objects = of_objects

    def _known_origin(self, index: Any) -> Origin:
        if type(index) is not int or not 0 <= index < len(self._known):
            raise pickle.UnpicklingError(f"no known origin {index!r}")
        return self._known[index].meta.origin if self._of_objects else self._known[index]

    def find_class(self, module: str, name: str) -> Any:
        from renderer import model

        allowed = {("renderer.errors", "Origin"): Origin, ("renderer.errors", "SourceLocation"): SourceLocation,
                   ("renderer.errors", "Severity"): Severity}
        if (module, name) in allowed:
            return allowed[(module, name)]
        if (module, name) == (__name__, "known_origin"):
            return self._known_origin
        if module == "renderer.model":
            cls = getattr(model, name, None)
            if isinstance(cls, type) and cls.__module__ == model.__name__:
                return cls
        raise pickle.UnpicklingError(f"{module}.{name} is not a model class")


class Whole:
    """The key of a read of a whole table (iteration, len); its repr is stable (part of a key)."""

    def __repr__(self) -> str:
        return "<whole table>"


WHOLE = Whole()


class Recorded(Mapping):
    """A read-only view of one table that notes every key asked for (and whole-table reads)."""

    def __init__(self, inner: Mapping, name: str, reads: dict[tuple[str, Any], None]) -> None:
        self._inner, self._name, self._reads = inner, name, reads

    def __getitem__(self, key: Any) -> Any:
        self._reads[(self._name, key)] = None
        return self._inner[key]

    def get(self, key: Any, default: Any = None) -> Any:
        self._reads[(self._name, key)] = None
        return self._inner.get(key, default)

    def __contains__(self, key: object) -> bool:
        self._reads[(self._name, key)] = None
        return key in self._inner

    def __iter__(self) -> Iterator[Any]:
        self._reads[(self._name, WHOLE)] = None
        return iter(self._inner)

    def __len__(self) -> int:
        self._reads[(self._name, WHOLE)] = None
        return len(self._inner)


class Unrecorded(Exception):
    """The build asked the cluster for something no read is recorded of."""


class RecordingCluster:
    """The part of a `Cluster` the Ingress build reads, with every read noted. Any other attribute
    raises `Unrecorded`: the tenant-by-tenant build is then given up and the global build runs,
    instead of a build being reused whose inputs were not all recorded."""

    members_from: tuple = ()

    def __getattr__(self, name: str) -> Any:
        raise Unrecorded(name)

    def __init__(self, cluster: Cluster, reads: dict[tuple[str, Any], None]) -> None:
        for name in TABLES:
            setattr(self, name, Recorded(getattr(cluster, name), name, reads))

    def switch(self, reads: dict[tuple[str, Any], None]) -> None:
        """Note the reads from now on in `reads` (one Ingress's, in a pass over several)."""
        for name in TABLES:
            getattr(self, name)._reads = reads

    def endpoints_for(self, namespace: str, name: str) -> Any:
        return Cluster.endpoints_for(self, namespace, name)  # type: ignore[arg-type]


def origin_value(origin: Origin) -> tuple[Any, ...]:
    loc = origin.location
    return (loc.path, loc.line, loc.column, origin.kind, origin.namespace, origin.name)


def origin_of(value: Any) -> Origin:
    path, line, column, kind, namespace, name = value
    if not all(isinstance(v, str) for v in (path, kind, namespace, name)) or not isinstance(line, int):
        raise ValueError("not an origin")
    return Origin(SourceLocation(path, line, column), kind, namespace, name)


def current(cluster: Cluster, reg: Registry, table: str, key: Any, digests: Digests) -> Any:
    """What a read of `table` at `key` finds now, as digests; the same read asked again in one
    Ingress phase (every piece reads its members' Nodes) is answered from `digests.found`."""
    try:
        return digests.found[(table, key)]
    except KeyError:
        pass
    except TypeError:  # an unhashable key (a malformed entry): no memo
        return None
    source = reg.certificate_names if table == "certificate_names" else getattr(cluster, table)
    if key is WHOLE:
        found = tuple((k, digests.value(table, v)) for k, v in source.items())
    else:
        found = digests.value(table, source.get(key))
    digests.found[(table, key)] = found
    return found


def packed_reads(reads: list[tuple[str, Any, Any]]) -> list[tuple[str, Any, Any, bool]]:
    return [(table, "*" if key is WHOLE else key, found, key is WHOLE) for table, key, found in reads]


def checked_reads(packed: Any, cluster: Cluster, reg: Registry, digests: Digests) -> list[tuple[str, Any, Any]] | None:
    """Stored reads back, or None when one is malformed or finds something else now."""
    reads = []
    for table, key, found, whole in packed:
        if table not in (*TABLES, "certificate_names"):
            return None
        key = WHOLE if whole else key
        if current(cluster, reg, table, key, digests) != found:
            return None
        reads.append((table, key, found))
    return reads



# Where a view's document is: equal places (a file's path and content id, the document's index and
# first line, the keys to the object in a `kind: List`) mean equal documents, hence equal digests.
_PLACE = operator.attrgetter("meta.doc.source.path", "meta.doc.source._content", "meta.doc.index",
                             "meta.doc.line", "meta.base")


def _place(obj: Any) -> tuple[Any, ...] | None:
    """The place of `obj`'s document, or None (never equal to a place) when its file's content id is
    unknown (a file not parsed through the disk cache)."""
    try:
        place = _PLACE(obj)
    except AttributeError:  # a source that keeps no content id
        return None
    return place if isinstance(place[1], str) else None


_NOWHERE = object()  # the place of an object whose source keeps no content id: equal to no stored place


def _here(obj: Any) -> Any:
    try:
        return _PLACE(obj)
    except AttributeError:
        return _NOWHERE


def packed_checks(reads: list[tuple[str, Any, Any]], cluster: Cluster) -> dict[str, Any]:
    """A build's reads, kept for `checked`: reads that found something grouped by table (keys, the
    places of their documents (a tuple of them for EndpointSlices), their digests), reads that found
    nothing grouped by table (keys), the rest (whole tables, certificate names) one by one as
    `packed_reads`."""
    present: dict[str, tuple[list[Any], list[Any], list[Any]]] = {}
    absent: dict[str, list[Any]] = {}
    other = []
    for table, key, found in reads:
        if key is not WHOLE and table in TABLES:
            if found is None:
                absent.setdefault(table, []).append(key)
                continue
            obj = getattr(cluster, table).get(key)
            if obj is not None:
                keys, places, founds = present.setdefault(table, ([], [], []))
                keys.append(key)
                places.append(tuple(map(_place, obj)) if table == "slices" else _place(obj))
                founds.append(found)
                continue
        other.append((table, "*" if key is WHOLE else key, found, key is WHOLE))
    return {"present": [(table, *columns) for table, columns in present.items()],
            "absent": list(absent.items()), "other": other}


def checked(checks: Any, cluster: Cluster, reg: Registry, digests: Digests,
            moved: list[Any] | None = None) -> list[Any] | None:
    """Whether every read `packed_checks` kept finds the same now: the objects found (in a fixed
    order, for `Origins`), or None. A group of reads of one table is checked by C-level steps (the
    objects fetched by one itemgetter, their places compared as one list); only a read whose place
    differs has its document's digest compared (a file whose other documents changed). Raises
    NoDigest, KeyError, TypeError or ValueError on what a well-formed entry cannot hold. `moved`
    gets each object found alike whose place differs (its stored place is stale)."""
    found: list[Any] = []
    for table, keys, places, founds in checks["present"]:
        if table not in TABLES or not len(keys) == len(places) == len(founds):
            return None
        source = getattr(cluster, table)
        try:
            objs = operator.itemgetter(*keys)(source) if len(keys) != 1 else (source[keys[0]],)
        except KeyError:  # a read that found something finds nothing now
            return None
        slices = table == "slices"
        if slices:
            now = [tuple(map(_here, value)) for value in objs]
        else:
            try:
                now = list(map(_PLACE, objs))
            except AttributeError:
                now = [_here(obj) for obj in objs]
        if now != places:
            for obj, here, there, digest in zip(objs, now, places, founds, strict=True):
                if here != there:
                    if digests.value(table, obj) != digest:
                        return None
                    if moved is not None:
                        moved.append(obj)
        if slices:
            for value in objs:
                found.extend(value)
        else:
            found.extend(objs)
    for table, keys in checks["absent"]:
        if table not in TABLES:
            return None
        if any(map(getattr(cluster, table).__contains__, keys)):
            return None
    other = checked_reads(checks["other"], cluster, reg, digests)
    if other is None:
        return None
    for table, key, _ in other:
        if table == "certificate_names":
            continue
        source = getattr(cluster, table)
        for value in (source.values() if key is WHOLE else [source.get(key)]):
            if value is not None:
                found.extend(value if table == "slices" else [value])
    return found


def unpacked_reads(checks: Any) -> list[tuple[str, Any, Any]]:
    """The reads `packed_checks` kept, as (table, key, what it found), grouped as kept."""
    reads = [(table, key, found) for table, keys, _, founds in checks["present"]
             for key, found in zip(keys, founds, strict=True)]
    reads += [(table, key, None) for table, keys in checks["absent"] for key in keys]
    reads += [(table, WHOLE if whole else key, found) for table, key, found, whole in checks["other"]]
    return reads
