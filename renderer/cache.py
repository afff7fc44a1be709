"""A content-addressed on-disk cache of parsed manifest files, shared by runs and processes.

Why: a pull request changes one file of a large repository, but each run parsed every file again
(parsing is about half of render time). An entry holds what `parse_file` returned for one file
(its `SourceFile` fields, text included, and every `Document`'s fields) under a key made of

- the file's content id: its git blob id, given by git for files read from a ref and computed
  from the bytes for working-tree files, so both share entries (an edited file is a different key;
  the entry also keeps the SHA-256 of the bytes, which a working-tree hit must match too); the
  path is part of the key as well, because parsing depends on the suffix and positions name it;
- the tool fingerprint (`tool_fingerprint`): the version of as3-gitops, PyYAML and libyaml, the
  Python version (marshal's format) and a hash of the parsing modules' source, so an upgrade or an
  edited parser never meets an old entry;
- whatever else the parse is given (`ParseCache.get`'s further arguments, such as input limits).

Only clean parses are stored (no finding at all): a file with a duplicate key, a limit or a
warning is parsed again every time, so every check `parse_file` makes is reported exactly as
without the cache. A file that holds a Kubernetes Secret (alone or in a `kind: List`) or other
secret material (a private key, a passphrase: `render_memo.holds_secrets`) is never stored (its
data stays out of the folder CI uploads). `renderer.render_memo` keeps whole renders in the same folder.

Entries are `marshal` data (plain Python values; it keeps tuples, sets, bytes, non-string keys
and shared YAML aliases, which JSON cannot) behind a header with the SHA-256 of key and payload.
An entry whose header, checksum or key does not match is a miss (and is rewritten): a corrupt,
truncated or foreign file is never trusted. Writes go to a temp file in the same folder and are
moved into place with `os.replace`, so a concurrent reader sees the old entry, the new one or
none, never half of one. The folder is bounded (`max_bytes`): when it grows past the bound the
least recently used entries go first (a hit refreshes an entry's mtime).

The cache is an optimisation only: any OS error while reading or writing it is a miss, never a
failure of the render.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import marshal
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

import renderer
from renderer.errors import Finding
from renderer.source import Document, SourceFile
from renderer.yaml_splice import Previous

Parsed = tuple[SourceFile, list[Document], list[Finding]]

ENV_DIR = "AS3_GITOPS_CACHE_DIR"
ENV_MAX_MIB = "AS3_GITOPS_CACHE_MAX_MIB"
DEFAULT_MAX_MIB = 512
FORMAT = 1  # bump when the entry layout changes
MAGIC = b"AS3GC\x00\x01\n"
SUBDIR = f"parse-v{FORMAT}"
TEMP_PREFIX = ".tmp-"
STALE_TEMP_SECONDS = 3600  # a temp file this old belongs to a process that died mid-write
# The modules whose code decides what a parse returns: editing one changes every key.
PARSER_MODULES = ("source.py", "yaml_guard.py", "yaml_loader.py", "yaml_fast.py", "yaml_fast_lines.py", "limits.py",
                  "errors.py", "cache.py", "yaml_splice.py")
_SPLICED = (".yaml", ".yml")  # the files an edit is parsed by splicing into the last parse


@functools.cache
def tool_fingerprint() -> str:
    """What a parse depends on besides the file: versions and the parser's own source code."""
    digest = hashlib.sha256()
    for part in (renderer.__version__, yaml.__version__, str(getattr(yaml, "__with_libyaml__", False)),
                 sys.version, str(marshal.version), str(FORMAT)):
        digest.update(part.encode() + b"\0")
    package = Path(renderer.__file__).parent
    for name in PARSER_MODULES:
        try:
            digest.update(name.encode() + b"\0" + (package / name).read_bytes() + b"\0")
        except OSError:
            digest.update(name.encode() + b"\0missing\0")
    return digest.hexdigest()[:32]


def default_dir(environ: Mapping[str, str] | None = None) -> Path:
    """$AS3_GITOPS_CACHE_DIR, else $XDG_CACHE_HOME/as3-gitops, else ~/.cache/as3-gitops."""
    env = os.environ if environ is None else environ
    if env.get(ENV_DIR):
        return Path(env[ENV_DIR])
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG spec: a relative value is ignored
        return Path(xdg) / "as3-gitops"
    return Path.home() / ".cache" / "as3-gitops"


def default_max_bytes(environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    try:
        mib = float(env.get(ENV_MAX_MIB, DEFAULT_MAX_MIB))
    except ValueError:
        mib = DEFAULT_MAX_MIB
    return max(0, int(mib * 1024 * 1024))


class DiskCache:
    """Entries under `root/parse-v1/ab/<sha256 of the key>`; see the module docstring."""

    def __init__(self, root: str | Path | None = None, max_bytes: int | None = None) -> None:
        self.root = Path(root) if root is not None else default_dir()
        self.dir = self.root / SUBDIR
        self.max_bytes = default_max_bytes() if max_bytes is None else max_bytes
        self._total: int | None = None  # bytes in the folder, counted at the first write
        self.hits = self.misses = self.writes = self.rejected = 0
        # what renderer.render_memo and renderer.emit_reuse found (whole renders, tenants' JSON)
        self.memo_hits = self.memo_misses = self.memo_stores = self.tenant_hits = self.tenant_misses = 0
        # what renderer.mapping.tenant_reuse took from here: whole tenants' Ingress builds, one-Ingress pieces
        self.tenant_builds_reused = self.ingress_pieces_reused = 0
        self.objects_reused = 0  # renderer.emit_reuse: objects of a changed tenant whose JSON an earlier build gave
        self.parses_spliced = 0  # edited files parsed only where they changed (renderer.yaml_splice)
        self.reuse_restarts = 0  # renders started again without reuse: a stored tenant's model did not load

    def entry_key(self, path: str, cid: str, extra: str = "") -> str:
        return "\0".join((tool_fingerprint(), cid, path, extra))

    def parse(self, path: str, key: str, loader: Callable[[], bytes],
              parse: Callable[[bytes, Previous | None], Parsed], extra: str = "") -> Parsed:
        """`parse(loader())`, or the stored result of the same parse.

        `key` is the tree's content key: a git blob id names the content already (and a hit then
        does not even read the blob); a working tree gives the path, so the bytes are hashed, into
        the same git blob id (a file unchanged since the last commit hits what a `--ref` run
        stored, and the other way round). Every entry also holds the SHA-256 of the bytes it was
        parsed from: a working-tree hit, which has the bytes, must match it too.

        On a miss, `parse` is also given the last stored parse of the same path (`_previous`), from
        which an edited YAML file is parsed only where it changed (`renderer.yaml_splice`)."""
        data = None if key != path else loader()
        blob_id = key if data is None else git_blob_id(data)
        digest = None if data is None else hashlib.sha256(data).digest()
        entry = self.entry_key(path, f"git:{blob_id}", extra)
        hit = self.get(entry, lambda stored: _unpack(path, stored, digest))
        if hit is not None:
            hit[0]._content = f"git:{blob_id}"
            return hit
        if data is None:
            data = loader()
            digest = hashlib.sha256(data).digest()
        previous = self._previous(path, blob_id, extra)
        src, docs, findings = parse(data, previous)
        if previous is not None and previous.used:
            self.parses_spliced += 1
        # Only clean parses (every finding of a parse is made again on every run), and never a file
        # holding a Secret: its data (keys, tokens) must not sit in a cache folder CI uploads.
        if not findings and not any(_is_secret(doc.data) for doc in docs):
            from renderer.render_memo import holds_secrets

            src._content = f"git:{blob_id}"  # a file whose parse is kept may have its digests kept too
            packed = _pack(path, src, docs, digest)
            # nor secret material elsewhere (a Route's TLS key, a PEM in a ConfigMap)
            if packed is not None and self.put(entry, packed, refuse=holds_secrets) and path.endswith(_SPLICED):
                self._write(self._last_key(path, extra), blob_id)  # the next edit of this file starts from here
        return src, docs, findings

    @staticmethod
    def _last_key(path: str, extra: str) -> str:
        """The pointer to the last stored parse of `path`: no content id, so never a parse's key."""
        return "\0".join((tool_fingerprint(), "last", path, extra))

    def _previous(self, path: str, blob_id: str, extra: str) -> Previous | None:
        """The last stored parse of another version of the YAML file at `path` (same options), for
        `renderer.yaml_splice`; None when there is none. Neither lookup counts as a hit or a miss."""
        if not path.endswith(_SPLICED):
            return None
        last, _ = self._read(self._last_key(path, extra), lambda value: value if type(value) is str else None)
        if last is None or last == blob_id:
            return None
        hit, _ = self._read(self.entry_key(path, f"git:{last}", extra), lambda stored: _unpack(path, stored, None))
        if hit is None:
            return None
        src, docs, _ = hit
        return Previous(src.text, [(doc.index, doc.line, doc.data) for doc in docs])

    def _file(self, key: str) -> Path:
        name = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return self.dir / name[:2] / name

    def get(self, key: str, check: Callable[[Any], Any | None] | None = None) -> Any | None:
        """The stored value for `key` (passed through `check`, which returns None to refuse it), or
        None: missing, unreadable, corrupt, someone else's or refused."""
        value, there = self._read(key, check)
        if value is None:
            self.rejected += there
            self.misses += 1
            return None
        self.hits += 1
        return value

    def _read(self, key: str, check: Callable[[Any], Any | None] | None = None) -> tuple[Any | None, bool]:
        """`get` without counting: the value (None: missing or refused) and whether a file was there."""
        file = self._file(key)
        try:
            blob = file.read_bytes()
        except OSError:
            return None, False
        value = _decode(blob, key)
        if value is not None and check is not None:
            value = check(value)
        if value is None:
            return None, True
        with contextlib.suppress(OSError):
            os.utime(file)  # recently used: evicted last
        return value, True

    def touch(self, key: str) -> bool:
        """Whether an entry for `key` is there (marked recently used), without reading it: its `get`
        may still miss. Why: a diff names a tenant's JSON by its key and reads only those it compares."""
        try:
            os.utime(self._file(key))
        except OSError:
            return False
        return True

    def put(self, key: str, value: Any, *, refuse: Callable[[bytes], bool] | None = None) -> bool:
        """Store `value` (plain data) for `key`; False when it cannot be marshalled or written, or
        when `refuse` (given the marshalled bytes, e.g. to look for secret material) says no."""
        if not self._write(key, value, refuse):
            return False
        self.writes += 1
        return True

    def _write(self, key: str, value: Any, refuse: Callable[[bytes], bool] | None = None) -> bool:
        """`put` without counting a write (the pointers `_previous` follows are not entries of their own)."""
        try:
            header, payload = _encode_parts(key, value)
        except (ValueError, TypeError):  # e.g. a datetime from an explicit !!timestamp tag
            return False
        if refuse is not None and refuse(payload):  # the header is a digest and the key: no value in it
            return False
        file = self._file(key)
        tmp = None
        try:
            file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=file.parent)
            with os.fdopen(fd, "wb") as out:
                out.write(header)
                out.write(payload)
            os.replace(tmp, file)
            tmp = None
        except OSError:
            return False
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        self._account(len(header) + len(payload))
        return True

    def _account(self, added: int) -> None:
        if self._total is None:
            self._total = sum(size for _, size, _ in self._entries())
        else:
            self._total += added
        if self._total > self.max_bytes:
            self.trim()

    def _entries(self) -> list[tuple[float, int, Path]]:
        """(mtime, size, path) of every file under the cache folder; vanished files are skipped."""
        found = []
        try:
            buckets = list(self.dir.iterdir())
        except OSError:
            return []
        for bucket in buckets:
            try:
                names = list(bucket.iterdir())
            except OSError:
                continue
            for file in names:
                try:
                    st = file.stat()
                except OSError:
                    continue
                found.append((st.st_mtime, st.st_size, file))
        return found

    def trim(self) -> int:
        """Delete least recently used entries (and dead temp files) until the folder is at most
        90% of the bound; returns the bytes left. Safe while other processes read or write."""
        entries = self._entries()
        now = time.time()
        kept = []
        for mtime, size, file in entries:
            if file.name.startswith(TEMP_PREFIX):
                if now - mtime > STALE_TEMP_SECONDS:
                    _unlink(file)
                continue  # another process may be writing it
            kept.append((mtime, size, file))
        total = sum(size for _, size, _ in kept)
        target = int(self.max_bytes * 0.9)
        for _mtime, size, file in sorted(kept, key=lambda e: (e[0], e[2].name)):
            if total <= target:
                break
            if _unlink(file):
                total -= size
        self._total = total
        return total


def _is_secret(data: Any) -> bool:
    """A Secret, or a `kind: List` holding one (kubectl get -o yaml of several kinds)."""
    if not isinstance(data, dict):
        return False
    items = data.get("items")
    return data.get("kind") == "Secret" or (isinstance(items, list) and any(map(_is_secret, items)))


def _unlink(file: Path) -> bool:
    try:
        file.unlink()
    except FileNotFoundError:
        return True  # another process evicted it
    except OSError:
        return False
    return True


def _encode(key: str, value: Any) -> bytes:
    """The whole entry for `key` (what `put` writes, in one piece)."""
    return b"".join(_encode_parts(key, value))


def _encode_parts(key: str, value: Any) -> tuple[bytes, bytes]:
    """The entry's header (magic, checksum, key) and its payload, kept apart: the payload (tens of
    MB for a whole render) is hashed and written as it is, never copied into one blob."""
    key_bytes = key.encode("utf-8", "surrogatepass")
    payload = marshal.dumps(value, 4)
    key_part = len(key_bytes).to_bytes(4, "big") + key_bytes
    check = hashlib.sha256(key_part)
    check.update(payload)
    return MAGIC + check.digest() + key_part, payload


def _decode(blob: bytes, key: str) -> Any | None:
    """The value of an entry `_encode` made for `key`, or None. Slices are memoryviews: checking and
    loading a large entry copies none of its bytes."""
    head = len(MAGIC)
    if len(blob) < head + 36 or not blob.startswith(MAGIC):
        return None
    view = memoryview(blob)
    check = view[head:head + 32]
    body = view[head + 32:]
    if hashlib.sha256(body).digest() != check:
        return None
    key_len = int.from_bytes(body[:4], "big")
    key_bytes = key.encode("utf-8", "surrogatepass")
    if body[4:4 + key_len] != key_bytes:
        return None
    try:
        return marshal.loads(body[4 + key_len:])
    except (ValueError, EOFError, TypeError):
        return None


def _fields(cls: type, skip: str) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.name != skip and not f.name.startswith("_"))


def git_blob_id(data: bytes) -> str:
    """The id git gives these bytes as a blob (`git hash-object`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _pack(path: str, src: SourceFile, docs: list[Document], digest: bytes) -> tuple | None:
    """Plain data for one parse: the field names (checked on the way back) and their values."""
    if src.path != path or any(doc.source is not src for doc in docs):
        return None
    src_names, doc_names = _fields(SourceFile, ""), _fields(Document, "source")
    return (digest, src_names, tuple(getattr(src, name) for name in src_names), doc_names,
            [tuple(getattr(doc, name) for name in doc_names) for doc in docs])


def _unpack(path: str, stored: Any, digest: bytes | None) -> Parsed | None:
    """The parse back from `_pack`'s data; None unless every part has the expected shape (and the
    content digest matches, when the caller has the bytes)."""
    try:
        stored_digest, src_names, src_values, doc_names, rows = stored
        if digest is not None and stored_digest != digest:
            return None
        if (src_names != _fields(SourceFile, "") or doc_names != _fields(Document, "source")
                or not isinstance(rows, list) or len(src_values) != len(src_names)):
            return None
        src = SourceFile(**dict(zip(src_names, src_values, strict=True)))
        if src.path != path or not isinstance(src.text, str):
            return None
        docs = [Document(src, **dict(zip(doc_names, row, strict=True))) for row in rows]
    except (TypeError, ValueError):
        return None
    return src, docs, []
