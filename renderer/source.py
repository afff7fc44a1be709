"""Parse the repository's YAML/JSON into located documents (the trees they come from: renderer/trees.py).

The fast path uses PyYAML's C loader and records only where each document starts. Precise
key-level positions are recovered lazily (`SourceFile.locate`), only for documents that have a
finding, by composing that one file again with marks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from renderer import yaml_fast
from renderer.errors import Finding, Severity, SourceError, SourceLocation
from renderer.gcpause import paused_gc
from renderer.gitobjects import GitReadError
from renderer.limits import DEFAULT_LIMITS, Limits
from renderer.trees import (
    STDIN_PATH,
    WORKING_TREE,
    GitTree,
    StdinTree,
    Tree,
    WorkTree,
    clean_head,
    confined_path,
    open_tree,
)
from renderer.yaml_guard import (
    alias_findings,
    duplicate_findings,
    json_duplicate_findings,
    loads_json_checked,
    yaml_hint,
)
from renderer.yaml_loader import KubeLoader
from renderer.yaml_splice import Previous

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# The trees moved to renderer/trees.py; importers of renderer.source keep finding them here.
__all__ = ["STDIN_PATH", "WORKING_TREE", "Document", "GitTree", "InputBudget", "KubeLoader", "ParseCache",
           "SourceFile", "StdinTree", "Tree", "WorkTree", "clean_head", "confined_path", "dump_json",
           "is_manifest", "load_documents", "open_tree", "parse_file"]


@dataclass
class SourceFile:
    """One manifest file: its text is kept so positions can be found again on the error path."""

    path: str
    text: str
    _nodes: list[yaml.Node] | None = field(default=None, repr=False)
    size: int = 0  # bytes read, for limits.max_total_bytes
    # the content's id ("git:<blob id>") when the parse went through the disk cache, else None
    _content: str | None = field(default=None, repr=False, compare=False)

    def _composed(self) -> list[yaml.Node]:
        if self._nodes is None:
            try:
                self._nodes = list(yaml.compose_all(self.text, Loader=KubeLoader))
            except yaml.YAMLError:
                self._nodes = []
        return self._nodes

    def locate(self, index: int, keys: Sequence[str | int], *, value: bool = True) -> SourceLocation | None:
        """Position of `keys` inside document `index`; the deepest key found if not all exist."""
        nodes = self._composed()
        if index >= len(nodes):
            return None
        node = nodes[index]
        mark = node.start_mark
        for key in keys:
            nxt = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if k.value == key:
                        nxt, mark = v, (v.start_mark if value else k.start_mark)
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                nxt = node.value[key]
                mark = nxt.start_mark
            if nxt is None:
                break
            node = nxt
        return SourceLocation(self.path, mark.line + 1, mark.column + 1)


class _once:
    """`functools.cached_property` without its lock (Python 3.11 takes one on every first access):
    the value is computed on first access and kept in the instance's `__dict__`, which attribute
    lookup finds first from then on. A render is single-threaded, and two threads computing one
    location would compute equal values."""

    def __init__(self, fn: Any) -> None:
        self._fn = fn
        self._name = fn.__name__
        self.__doc__ = fn.__doc__

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self._name] = self._fn(obj)
        return value


@dataclass
class Document:
    """One YAML/JSON document with where it starts."""

    source: SourceFile
    index: int
    line: int
    data: Any

    @property
    def path(self) -> str:
        return self.source.path

    @_once
    def location(self) -> SourceLocation:
        """Made once: every object's Origin asks for it (200,000 times for a 10k-Ingress repository)."""
        return SourceLocation(self.source.path, self.line, 1)

    def locate(self, *keys: str | int, value: bool = True) -> SourceLocation:
        """Location of a key path, found lazily; falls back to the document start. A JSON file is
        composed as YAML for this (JSON is flow YAML; what PyYAML cannot compose, such as a tab
        between tokens, falls back to the start)."""
        found = self.source.locate(self.index, keys, value=value)
        return found or self.location


def parse_file(path: str, data: bytes, limits: Limits = DEFAULT_LIMITS, *, previous: Previous | None = None
               ) -> tuple[SourceFile, list[Document], list[Finding]]:
    """Parse one manifest file into documents (YAML multi-document or JSON). `previous`: the text
    and documents of an earlier version of the file (the disk cache's), so that an edited YAML file
    is parsed only where it changed (`renderer.yaml_splice`); the result is the same either way."""
    if len(data) > limits.max_file_bytes:
        return SourceFile(path, "", size=len(data)), [], [_too_big(path, len(data), limits)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        loc = SourceLocation(path, data[: err.start].count(b"\n") + 1, 1)
        src = SourceFile(path, "")
        return src, [], [Finding("SRC002", "file is not valid UTF-8", loc, hint="save the file as UTF-8")]
    if "\x00" in text:
        src = SourceFile(path, "")
        return src, [], [Finding("SRC002", "file contains NUL bytes (binary?)", SourceLocation(path, 1, 1))]
    if path.endswith(".json") and text.startswith("\ufeff"):  # JSON forbids a BOM; Windows editors write one
        src, docs, problems = parse_file(path, data[3:], limits)
        bom = Finding("SRC010", "file starts with a UTF-8 byte-order mark; read without it",
                      SourceLocation(path, 1, 1), Severity.WARNING, hint="save the file as UTF-8 without BOM")
        return src, docs, [bom, *problems]
    src = SourceFile(path, text, size=len(data))
    if path.endswith(".json"):
        return src, *_parse_json(src)
    return src, *_parse_yaml(src, limits, previous)


def _too_big(path: str, size: int, limits: Limits) -> Finding:
    return Finding("LIM001", f"file is {size:,} bytes, more than the limit of {limits.max_file_bytes:,}",
                   SourceLocation(path, 1, 1), hint="split the file, or raise limits.maxFileMiB in as3-gitops.yaml")


def _parse_json(src: SourceFile) -> tuple[list[Document], list[Finding]]:
    try:
        data, duplicates = loads_json_checked(src.text)
    except json.JSONDecodeError as err:
        loc = SourceLocation(src.path, err.lineno, err.colno)
        return [], [Finding("SRC001", f"invalid JSON: {err.msg}", loc, hint="check commas and quotes")]
    except RecursionError:
        return [], [Finding("SRC001", "invalid JSON: nesting too deep", SourceLocation(src.path, 1, 1))]
    except ValueError as err:  # e.g. an integer beyond Python's 4300-digit conversion limit
        return [], [Finding("SRC001", f"invalid JSON: {err}", SourceLocation(src.path, 1, 1))]
    if duplicates:
        return [], json_duplicate_findings(src.path, src.text, duplicates, KubeLoader)
    return [Document(src, 0, 1, data)], []


def _parse_yaml(src: SourceFile, limits: Limits = DEFAULT_LIMITS, previous: Previous | None = None
                ) -> tuple[list[Document], list[Finding]]:
    docs: list[Document] = []
    too_many = alias_findings(src.path, src.text, limits, KubeLoader)
    if too_many:
        return docs, too_many
    with paused_gc():  # parsing allocates many small containers; cyclic GC passes only cost time here
        fast = previous.splice(src.text, yaml_fast.parse) if previous is not None else None
        if fast is None:
            fast = yaml_fast.parse(src.text)  # plain manifests, line by line; BAIL for anything else
        if fast is not yaml_fast.BAIL:
            return [Document(src, index, line, data) for index, line, data in fast], []
        return _parse_with_loader(src, docs)


def _parse_with_loader(src: SourceFile, docs: list[Document]) -> tuple[list[Document], list[Finding]]:
    """PyYAML's path (KubeLoader): every YAML the fast path hands back, with PyYAML's own findings."""
    loader = KubeLoader(src.text)
    loader.duplicate_keys = []
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            data = loader.construct_document(node)
            if data is not None:
                docs.append(Document(src, index, node.start_mark.line + 1, data))
            index += 1
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        col = mark.column + 1 if mark else 1
        problem = err.problem or "syntax error"
        context = f" ({err.context})" if err.context else ""
        return docs, [
            Finding("SRC001", f"invalid YAML: {problem}{context}", SourceLocation(src.path, line, col),
                    hint=yaml_hint(src.text, line))
        ]
    except yaml.YAMLError as err:
        return docs, [Finding("SRC001", f"invalid YAML: {err}", SourceLocation(src.path, 1, 1))]
    except RecursionError:
        return docs, [Finding("SRC001", "invalid YAML: nesting too deep", SourceLocation(src.path, 1, 1))]
    except ValueError as err:  # e.g. an integer beyond Python's 4300-digit conversion limit
        return docs, [Finding("SRC001", f"invalid YAML: {err}", SourceLocation(src.path, 1, 1))]
    finally:
        loader.dispose()
    if loader.duplicate_keys:
        return [], duplicate_findings(src.path, loader.duplicate_keys)
    return docs, []


def is_manifest(path: str) -> bool:
    return path.endswith(MANIFEST_SUFFIXES) or path == STDIN_PATH


class ParseCache:
    """Parsed files keyed by content (git blob id), so identical files on two refs parse once.

    `disk` (a `renderer.cache.DiskCache`) also keeps parses between runs; `remember=False` keeps
    nothing in memory (a single render lets its documents go before building the declaration)."""

    def __init__(self, disk: Any = None, *, remember: bool = True) -> None:
        self._by_key: dict[tuple[str, str], tuple[SourceFile, list[Document], list[Finding]]] = {}
        self.disk = disk
        self.remember = remember

    def get(self, path: str, key: str, loader, *options: Any) -> tuple[SourceFile, list[Document], list[Finding]]:
        """`options` are parse_file's further arguments (e.g. limits): their repr is part of the
        disk key, so a parse made under other options is never reused.

        A working tree's key is the path itself (WorkTree.walk): remembered by that, an edit between
        two renders would get the old parse. So such a file is read and remembered under its git
        blob id, the key a GitTree gives the same bytes (a file unchanged since a commit shares that
        commit's parse). Without `remember` nothing is kept and the bytes are not hashed here."""
        cache_key = (path, key)
        if key == path and self.remember:
            from renderer.cache import git_blob_id

            data = loader()
            cache_key, loader = (path, git_blob_id(data)), lambda: data
        hit = self._by_key.get(cache_key)
        if hit is None:
            if self.disk is not None:
                hit = self.disk.parse(path, key, loader,
                                      lambda data, previous=None: parse_file(path, data, *options, previous=previous),
                                      repr(options))
            else:
                hit = parse_file(path, loader(), *options)
            if self.remember:
                self._by_key[cache_key] = hit
        return hit


@dataclass
class InputBudget:
    """What one render may read in total (limits.max_total_bytes), shared by manifests and snapshot."""

    limits: Limits = DEFAULT_LIMITS
    used: int = 0


def load_documents(
    tree: Tree, roots: Sequence[str], cache: ParseCache | None = None, budget: InputBudget | None = None
) -> tuple[list[Document], list[Finding]]:
    """Every document under `roots` (files or folders), in path order, with parse findings.

    A path that leaves the repository, a file over the size limit or input past the total limit is a
    finding; the file is not parsed."""
    budget = budget or InputBudget()
    limits = budget.limits
    documents: list[Document] = []
    findings: list[Finding] = []
    seen: set[str] = set()
    try:
        for root in roots:
            for path, key in tree.walk(root):
                if path in seen or not is_manifest(path):
                    continue
                seen.add(path)
                try:
                    size = tree.size(path, key) if hasattr(tree, "size") else 0
                    if size > limits.max_file_bytes:
                        findings.append(_too_big(path, size, limits))
                        continue
                    if budget.used + size > limits.max_total_bytes:
                        findings.append(Finding(
                            "LIM002", f"the input passes the limit of {limits.max_total_bytes:,} bytes in total here",
                            SourceLocation(path, 1, 1), hint="raise limits.maxTotalMiB in as3-gitops.yaml"))
                        return documents, findings
                    if cache is not None:
                        src, docs, problems = cache.get(path, key, lambda p=path, k=key: tree.read_keyed(p, k), limits)
                    else:
                        src, docs, problems = parse_file(path, tree.read_keyed(path, key), limits)
                except GitReadError:
                    raise  # git itself failed: the whole read is void (exit 2 with git's reason)
                except SourceError as err:
                    findings.append(err.as_finding("SRC005"))
                    continue
                budget.used += max(size, src.size)
                documents.extend(docs)
                findings.extend(problems)
    except GitReadError:
        raise
    except SourceError as err:  # the configured root itself leaves the repository
        findings.append(err.as_finding("SRC005"))
    return documents, findings


def dump_json(data: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, 2-space indent, trailing newline."""
    import orjson

    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
    except TypeError:  # e.g. ints beyond 64 bits from hostile input: fall back to the stdlib
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
