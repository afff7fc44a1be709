"""A whole-render memo: a render whose every input is unchanged is read back from the disk cache.

Why: in a pull request run the base side is main's commit, which the runs on main rendered
before; rendering it again costs as much as the first time even with every file parsed already
(kube views, model and emit remain). This module makes that side a lookup.

How it stays provably the same: a render reads its repository only through the `Tree` it is
given, so `render.render_tree` hands the pipeline a `TracingTree` that records every call and
what it returned (a walk's (path, content id) list, a digest of every file's bytes, whether a
path exists, a size, the root label). A render is a deterministic function of those answers, of
the code (`render_fingerprint`: the source of every module, template and schema of the package,
and the versions of the libraries it calls) and of the tree's identity (the commit sha, which the
declaration carries). The entry is stored under a key made of the fingerprint, the tree's kind
and its identity, with the trace inside; a lookup replays the trace against the new tree, call by
call, and uses the entry only when every answer is the same: then the pipeline would have made
exactly the same calls, seen exactly the same bytes and produced exactly the same result. Any
other access to the tree (an attribute the tracer does not know, such as the git history the
snapshot staleness check reads) makes the render untraceable and it is not stored; so is a render
whose result depends on the clock (`snapshot.maxAge`), a render that raised, and one whose
declaration holds secret material (see `holds_secrets`).

The stored value is plain data (`marshal`, behind `DiskCache`'s checksum): the AS3 and net
declarations, the findings, the sources (a table of distinct origins, the pointers, and each
pointer's row numbers in flat arrays: `PackedSources`) and the counts. The configuration is not
stored: a hit reads it again with `load_config` (a part of the trace, so it is the same file).
Beside the result, the key each tenant was emitted under (`renderer.emit_reuse`): a hit hands
those on with the tenants it returns, so a diff against a render sharing them skips the compare.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from array import array
from collections.abc import Iterator, Mapping
from importlib import resources
from itertools import accumulate, chain
from typing import Any

import renderer
from renderer.errors import Finding, Origin, Severity, SourceLocation

FORMAT = 4  # bump when the entry layout changes
KIND = "render-memo"
# Bytes that mark secret material in a declaration (renderer.diff_values redacts the same keys).
SECRET_MARKERS = (b"privateKey", b"passphrase", b"ciphertext", b"PRIVATE KEY-----")
_LIBRARIES = ("PyYAML", "Jinja2", "MarkupSafe", "orjson")
_PACKAGES = ("renderer", "renderer.templates", "renderer.schemas")
# The sources' row numbers are native unsigned ints: an entry made on a machine of another byte
# order or int size (a cache folder CI carried over) is refused, not misread.
_ARRAY_CODE = "I"
_ARRAY_LAYOUT = f"{_ARRAY_CODE}{array(_ARRAY_CODE).itemsize}{sys.byteorder}"


@functools.cache
def render_fingerprint() -> str:
    """The code a render runs: every file of the renderer package, its templates and schemas, and
    the versions of Python and the libraries the pipeline calls. An edit anywhere is a new key."""
    import importlib.metadata  # email, zipfile, csv...: only a render with the disk cache asks

    digest = hashlib.sha256()
    digest.update(f"{FORMAT}\0{renderer.__version__}\0{sys.version}\0".encode())
    for name in _LIBRARIES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name}={version}\0".encode())
    for package in _PACKAGES:
        try:
            root = resources.files(package)
        except ModuleNotFoundError:
            digest.update(f"{package}: absent\0".encode())
            continue
        for rel, data in sorted(_files(root, "")):
            digest.update(f"{package}/{rel}\0".encode() + hashlib.sha256(data).digest())
    return digest.hexdigest()[:32]


def _files(node: Any, prefix: str) -> Iterator[tuple[str, bytes]]:
    for child in node.iterdir():
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            if child.name != "__pycache__":
                yield from _files(child, rel + "/")
        elif not child.name.endswith((".pyc", ".pyo")):
            yield rel, child.read_bytes()


class Untraceable(Exception):
    """The tree answered differently, or a call cannot be replayed: not the same render."""


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


class TracingTree:
    """A `Tree` that records every answer it gives (see the module docstring).

    `content_addressed`: the tree's content keys are git blob ids, so a file read by its key needs
    no digest (the walk that named the key is recorded already)."""

    def __init__(self, inner: Any, *, content_addressed: bool) -> None:
        self._inner = inner
        self._addressed = content_addressed
        self.trace: list[tuple[Any, ...]] = []
        self.opaque = False  # something was read that the trace does not cover
        self.identity = inner.identity
        self.tree_kind = type(inner).__name__
        self.place = _place(inner)

    @property
    def root_label(self) -> str:
        label = self._inner.root_label
        self.trace.append(("label", label))
        return label

    def _call(self, record: tuple[Any, ...], fn: Any, result_of: Any) -> Any:
        try:
            value = fn()
        except BaseException:
            self.opaque = True  # an error path: not worth a replay format of its own
            raise
        self.trace.append((*record, result_of(value)))
        return value

    def read(self, path: str) -> bytes | None:
        return self._call(("read", path), lambda: self._inner.read(path), _digest)

    def exists(self, path: str) -> bool:
        return self._call(("exists", path), lambda: self._inner.exists(path), bool)

    def walk(self, root: str) -> Iterator[tuple[str, str]]:
        found = self._call(("walk", root), lambda: list(self._inner.walk(root)), _walk_digest)
        return iter(found)

    def read_keyed(self, path: str, key: str) -> bytes:
        if self._addressed:
            return self._call(("keyed", path, key), lambda: self._inner.read_keyed(path, key), lambda _d: key)
        return self._call(("keyed", path, key), lambda: self._inner.read_keyed(path, key), _digest)

    def __getattr__(self, name: str) -> Any:
        if name == "size" and hasattr(self._inner, "size"):
            def size(path: str, key: str) -> int:
                return self._call(("size", path, key), lambda: self._inner.size(path, key), int)
            return size
        self.opaque = True  # e.g. GitTree.last_change: history is not in the trace
        return getattr(self._inner, name)


def _walk_digest(found: list[tuple[str, str]]) -> str:
    return hashlib.sha256(repr(found).encode("utf-8", "surrogatepass")).hexdigest()


_REPLAY = {
    "label": lambda tree, _args: tree.root_label,
    "read": lambda tree, args: _digest(tree.read(args[0])),
    "exists": lambda tree, args: bool(tree.exists(args[0])),
    "walk": lambda tree, args: _walk_digest(list(tree.walk(args[0]))),
    "size": lambda tree, args: int(tree.size(args[0], args[1])),
}


def replay(trace: Any, tree: Any, *, content_addressed: bool) -> bool:
    """True when `tree` gives every recorded answer again, in order."""
    if not isinstance(trace, list):
        return False
    try:
        for step in trace:
            op, *args, expected = step
            if op == "keyed":
                got = args[1] if content_addressed else _digest(tree.read_keyed(args[0], args[1]))
            elif op in _REPLAY:
                got = _REPLAY[op](tree, args)
            else:
                return False
            if got != expected:
                return False
    except Exception:  # any failure to answer is "not the same tree", never an error
        return False
    return True


def _place(tree: Any) -> str:
    """A working tree's folder (every working tree is "working tree": two checkouts would take
    turns in one entry); a commit needs none, its sha names its content wherever it is read."""
    from renderer.source import WorkTree

    return str(tree.root.resolve()) if isinstance(tree, WorkTree) else ""


def memo_key(tree: Any) -> str:
    if isinstance(tree, TracingTree):
        kind, place = tree.tree_kind, tree.place
    else:
        kind, place = type(tree).__name__, _place(tree)
    return "\0".join((KIND, render_fingerprint(), kind, tree.identity, place))


def holds_secrets(payload: bytes) -> bool:
    """Secret material (a private key, a passphrase) in the packed result: such a result is not
    stored, so the cache never holds a secret in clear (as3.json holds it; a cache that CI uploads
    must not)."""
    return any(marker in payload for marker in SECRET_MARKERS)


# --- packing a RenderResult into plain data and back --------------------------------------------

def _loc(loc: SourceLocation | None) -> tuple | None:
    return None if loc is None else (loc.path, loc.line, loc.column)


def _unloc(raw: tuple | None) -> SourceLocation | None:
    return None if raw is None else SourceLocation(*raw)


def pack(result: Any, kept: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`kept`: tenant -> the key the cache holds its JSON under; those are stored as their key."""
    counts = result.counts
    as3 = result.as3
    if kept:
        declaration = as3["declaration"]
        as3 = {**as3, "declaration": {name: kept.get(name, body) for name, body in declaration.items()}}
    return {
        "identity": result.identity,
        "as3": as3,
        "net": result.net,
        "findings": [(f.code, f.message, _loc(f.location), str(f.severity), f.hint) for f in result.findings],
        **_pack_sources(result.sources),
        "counts": None if counts is None else (counts.rendered, counts.skipped),
    }


def _pack_sources(sources: Mapping[str, tuple[Origin, ...]]) -> dict[str, Any]:
    """The distinct origins as rows, and the pointers with their origins' row numbers as two flat
    arrays (how many per pointer, then every row number): bytes that marshal copies and a lookup
    checks with `max` and `sum`, instead of 13,000 tuples built and walked one by one.

    The rows are distinct by object identity: the model shares one Origin per Kubernetes object, so
    this is nearly the distinct origins without hashing 50,000 nested dataclasses (equal copies
    only cost a row each). Every origin is alive in `sources`, so an id names one object here."""
    per_pointer = list(sources.values())
    flat = list(chain.from_iterable(per_pointer))
    ids = list(map(id, flat))
    by_id = dict(zip(ids, flat, strict=True))  # id -> its object, in first-seen order
    row_of = dict(zip(by_id, range(len(by_id)), strict=True))
    rows = list(by_id.values())
    return {
        "origins": [(None if (loc := o.location) is None else (loc.path, loc.line, loc.column), o.kind,
                     o.namespace, o.name) for o in rows],  # `_loc` inlined: 30,000 rows at 10k Ingresses
        "sources": (_ARRAY_LAYOUT, list(sources), array(_ARRAY_CODE, map(len, per_pointer)).tobytes(),
                    array(_ARRAY_CODE, map(row_of.__getitem__, ids)).tobytes()),
    }


class PackedSources(Mapping[str, tuple[Origin, ...]]):
    """`RenderResult.sources` of a stored render, made into Origins only for the pointers asked for:
    a diff reads the origins of the few objects that changed, not of all 100,000 ARPs.

    Built from untrusted data (unpack catches what the constructor raises); `well_formed` checks
    the rest, each check one C-level pass (`map`, `max`, `sum`) instead of a Python loop."""

    def __init__(self, rows: list[tuple], packed: tuple) -> None:
        layout, pointers, counts, flat = packed if type(packed) is tuple else ()  # else: ValueError
        if type(counts) is not bytes or type(flat) is not bytes:
            raise TypeError("row numbers are not bytes")
        self._rows = rows
        self._pointers = pointers
        self._counts = array(_ARRAY_CODE, counts)  # bytes of a wrong length: ValueError
        self._flat = array(_ARRAY_CODE, flat)
        self._layout = layout
        self._position = dict(zip(pointers, range(len(pointers)), strict=True))  # unhashable: TypeError
        self._starts: list[int] | None = None
        self._made: dict[int, Origin] = {}

    def well_formed(self) -> bool:
        """Every row a 4-tuple, every pointer a distinct string with its origin count, every row
        number in range: what the old per-element walk guaranteed."""
        rows, pointers, flat = self._rows, self._pointers, self._flat
        return (self._layout == _ARRAY_LAYOUT and type(rows) is list and type(pointers) is list
                and set(map(type, rows)) <= {tuple} and set(map(len, rows)) <= {4}
                and set(map(type, pointers)) <= {str} and len(self._position) == len(pointers)
                and len(self._counts) == len(pointers) and sum(self._counts) == len(flat)
                and (not flat or max(flat) < len(rows)))

    def _origin(self, i: int) -> Origin:
        made = self._made.get(i)
        if made is None:
            loc, kind, ns, name = self._rows[i]
            made = self._made[i] = Origin(_unloc(loc), kind, ns, name)
        return made

    def __getitem__(self, pointer: str) -> tuple[Origin, ...]:
        at = self._position[pointer]
        if self._starts is None:
            self._starts = list(accumulate(self._counts, initial=0))
        start = self._starts[at]
        return tuple(self._origin(i) for i in self._flat[start:start + self._counts[at]])

    def __iter__(self) -> Iterator[str]:
        return iter(self._pointers)

    def __len__(self) -> int:
        return len(self._pointers)


def unpack(value: Any) -> dict[str, Any] | None:
    """The RenderResult fields (all but the configuration), or None when `value` is not a packed result."""
    from renderer.mapping.silent import ObjectCounts

    try:
        sources = PackedSources(value["origins"], value["sources"])
        findings = [Finding(code, message, _unloc(loc), Severity(sev), hint)
                    for code, message, loc, sev, hint in value["findings"]]
        counts = value["counts"]
        fields = {
            "identity": value["identity"], "as3": value["as3"], "net": value["net"], "findings": findings,
            "sources": sources, "counts": None if counts is None else ObjectCounts(*counts),
        }
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError):
        return None
    if not (isinstance(fields["as3"], dict) and isinstance(fields["net"], dict)
            and isinstance(fields["identity"], str) and sources.well_formed()):
        return None
    return fields


# --- lookup and store ---------------------------------------------------------------------------

def memoizable(tree: Any) -> bool:
    """Only the repository's own trees: a stdin stream has no content key to replay."""
    from renderer.source import GitTree, WorkTree

    return type(tree) in (GitTree, WorkTree)


def content_addressed(tree: Any) -> bool:
    from renderer.source import GitTree

    return isinstance(tree, GitTree)


def _shape(value: Any) -> Any | None:
    if isinstance(value, dict) and value.get("format") == FORMAT and isinstance(value.get("trace"), list):
        return value
    return None


def _string_map(value: Any) -> bool:
    return type(value) is dict and set(map(type, value)) <= {str} and set(map(type, value.values())) <= {str}


def lookup(disk: Any, tree: Any, *, defer_tenants: bool = False) -> dict[str, Any] | None:
    """The stored RenderResult fields of a render of `tree` whose every input is unchanged, or None.

    A tenant stored as its key is read from its own entry (left there, as a
    `renderer.emit_reuse.StoredTenant`, with `defer_tenants`); one that is gone is a miss."""
    from renderer.emit_reuse import forget_keys, note_keys

    forget_keys()
    stored = disk.get(memo_key(tree), _shape)
    fields = None
    if stored is not None and replay(stored["trace"], tree, content_addressed=content_addressed(tree)):
        fields = unpack(stored.get("result"))
    keys, kept = (stored.get("tenants"), stored.get("kept")) if stored is not None else (None, None)
    declaration = fields["as3"].get("declaration") if fields is not None else None
    if (fields is None or fields["identity"] != tree.identity or not _string_map(keys) or not _string_map(kept)
            or not isinstance(declaration, dict)
            or not _restore(disk, declaration, kept, defer_tenants)):
        disk.memo_misses = getattr(disk, "memo_misses", 0) + 1
        return None
    note_keys(declaration, keys, set(kept))
    disk.memo_hits = getattr(disk, "memo_hits", 0) + 1
    return fields


def _restore(disk: Any, declaration: dict[str, Any], kept: dict[str, str], defer: bool) -> bool:
    """Put the tenants stored as their key back into `declaration`; False when one is not there."""
    from renderer.emit_reuse import stored_tenant

    for name, key in kept.items():
        if declaration.get(name) != key:
            return False
        body = stored_tenant(disk, key, defer)
        if body is None:
            return False
        declaration[name] = body
    return True


def store(disk: Any, tracing: TracingTree, result: Any) -> bool:
    """Keep `result` for the next render of the same inputs; False when it must not be kept.

    A tenant whose JSON the cache holds already (`renderer.emit_reuse` read or stored it under its
    key) is stored as that key: most of a declaration, written and checked for secrets once."""
    if tracing.opaque or result.config.snapshot_max_age or getattr(result, "generated", None):
        # history, the clock or a command decided part of it
        return False
    from renderer.emit_reuse import tenant_keys

    declaration = result.as3.get("declaration") if isinstance(result.as3, dict) else None
    keys = tenant_keys(declaration) if isinstance(declaration, dict) else {}
    kept = tenant_keys(declaration, kept=True) if isinstance(declaration, dict) else {}
    value = {"format": FORMAT, "trace": tracing.trace, "result": pack(result, kept), "tenants": keys,
             "kept": kept}
    stored = disk.put(memo_key(tracing), value, refuse=holds_secrets)
    if stored:
        disk.memo_stores = getattr(disk, "memo_stores", 0) + 1
    return stored
