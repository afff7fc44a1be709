"""Read the repository (working tree or any git ref) and parse its YAML/JSON into located documents.

The fast path uses PyYAML's C loader and records only where each document starts. Precise
key-level positions are recovered lazily (`SourceFile.locate`), only for documents that have a
finding, by composing that one file again with marks.
"""

from __future__ import annotations

import functools
import gc
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import yaml

from renderer.errors import Finding, Severity, SourceError, SourceLocation
from renderer.limits import DEFAULT_LIMITS, Limits
from renderer.yaml_guard import (
    alias_findings,
    duplicate_findings,
    json_duplicate_findings,
    loads_json_checked,
    yaml_hint,
)
from renderer.yaml_loader import KubeLoader

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
WORKING_TREE = "working tree"


class Tree(Protocol):
    """A snapshot of the repository's files: the working tree or one git commit."""

    identity: str
    root_label: str

    def read(self, path: str) -> bytes | None: ...

    def walk(self, root: str) -> Iterator[tuple[str, str]]:
        """Yield (path, content key) for every file under `root` (a file or folder), sorted."""
        ...

    def read_keyed(self, path: str, key: str) -> bytes: ...

    def exists(self, path: str) -> bool: ...


class WorkTree:
    """Files on disk under `root`."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise SourceError(f"{root}: not a directory", hint="pass the repository folder")
        self.identity = WORKING_TREE
        self.root_label = str(self.root)
        self._real_root = self.root.resolve()

    def _abs(self, path: str) -> Path:
        """The file for `path`, refused (SourceError) when it leaves the repository, as --ref cannot."""
        confined_path(path)
        p = self.root / path
        try:
            real = p.resolve()
        except (OSError, RuntimeError) as err:  # a symlink loop
            raise SourceError(f"{path}: cannot be resolved ({err.__class__.__name__})",
                              location=SourceLocation(path), hint="remove the symlink loop") from err
        if real != self._real_root and not real.is_relative_to(self._real_root):
            raise SourceError(f"{path}: is a symlink that points outside the repository; not read",
                              location=SourceLocation(path),
                              hint="keep manifests, snapshot, templates and as3-gitops.yaml inside the repository")
        return p

    def read(self, path: str) -> bytes | None:
        p = self._abs(path)
        return p.read_bytes() if p.is_file() else None

    def size(self, path: str, key: str) -> int:
        return self._abs(path).stat().st_size

    def exists(self, path: str) -> bool:
        return self._abs(path).exists()

    def walk(self, root: str) -> Iterator[tuple[str, str]]:
        base = self._abs(root)
        try:
            is_file, is_dir = base.is_file(), base.is_dir()
        except OSError:  # e.g. a configured path longer than the OS allows: nothing is there
            return
        if is_file:
            yield _norm(root), _norm(root)
            return
        if not is_dir:
            return
        found = sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if self._wanted(p))
        for rel in found:
            yield rel, rel

    def _wanted(self, p: Path) -> bool:
        """Files, and symlinks that leave the repository (so reading them reports SRC005, not silence)."""
        if not p.is_symlink():
            return p.is_file()
        try:
            real = p.resolve()
        except (OSError, RuntimeError):
            return True  # a loop: reported when read
        return p.is_file() or not real.is_relative_to(self._real_root)

    def read_keyed(self, path: str, key: str) -> bytes:
        return self._abs(path).read_bytes()


class GitTree:
    """Files of one commit, read from git objects: the working tree is never touched."""

    def __init__(self, repo_path: str | Path, ref: str):
        import git  # gitpython; imported here so working-tree renders do not pay for it

        try:  # the configuration folder may be any folder of a repository (a monorepo, envs/prod)
            self.repo = git.Repo(repo_path, search_parent_directories=True)
        except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError) as err:
            raise SourceError(f"{repo_path}: not inside a git repository",
                              hint="--ref needs the folder to be in a git repository") from err
        try:
            self.commit = self.repo.commit(ref)
        except (git.exc.BadName, ValueError) as err:
            raise SourceError(f"{repo_path}: unknown git ref {ref!r}", hint="check `git log` for the ref") from err
        self.identity = self.commit.hexsha
        self.root_label = f"{repo_path}@{ref}"
        self.prefix = _folder_in_repo(self.repo, repo_path)
        self._tree = self.commit.tree
        if self.prefix:
            try:
                self._tree = self._tree / self.prefix
            except KeyError:
                raise SourceError(f"{repo_path}: folder {self.prefix!r} does not exist at {ref}",
                                  hint="check the ref, or the folder name at that commit") from None

    def _entry(self, path: str):
        try:
            return self._tree / path
        except KeyError:
            return None

    def read(self, path: str) -> bytes | None:
        entry = self._entry(path)
        if entry is None or entry.type != "blob":
            return None
        return entry.data_stream.read()

    def exists(self, path: str) -> bool:
        return self._entry(path) is not None

    def walk(self, root: str) -> Iterator[tuple[str, str]]:
        entry = self._entry(_norm(root)) if _norm(root) not in ("", ".") else self._tree
        if entry is None:
            return
        if entry.type == "blob":
            yield _norm(root), entry.hexsha
            return
        cut = len(self.prefix) + 1 if self.prefix else 0  # paths stay relative to the configuration folder
        blobs = [(item.path[cut:], item.hexsha) for item in entry.traverse() if item.type == "blob"]
        yield from sorted(blobs)

    def read_keyed(self, path: str, key: str) -> bytes:
        return self.repo.odb.stream(bytes.fromhex(key)).read()

    def size(self, path: str, key: str) -> int:
        return self.repo.odb.info(bytes.fromhex(key)).size

    def last_change(self, paths: Sequence[str]) -> int | None:
        """Commit time (epoch s) of the newest commit touching `paths`, or None."""
        full = [f"{self.prefix}/{p}" if self.prefix else p for p in paths]
        commits = list(self.repo.iter_commits(self.commit, paths=full, max_count=1))
        return commits[0].committed_date if commits else None


def confined_path(path: str) -> None:
    """Refuse a repository path that is absolute or climbs out with `..` (the same for every tree)."""
    pure = PurePosixPath(path.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (path[1:3] in (":/", ":\\") and path[:1].isalpha()):
        raise SourceError(f"{path}: paths must stay inside the repository (no absolute paths, no '..')",
                          location=SourceLocation(path), hint="write the path relative to the repository root")


def _norm(path: str) -> str:
    return PurePosixPath(path).as_posix().strip("/") if path not in ("", ".") else path


def _folder_in_repo(repo: Any, folder: str | Path) -> str:
    """The configuration folder's path inside the repository ('' for its root or a bare repository)."""
    if repo.working_tree_dir is None:
        return ""
    rel = Path(folder).resolve().relative_to(Path(repo.working_tree_dir).resolve()).as_posix()
    return "" if rel == "." else rel


def clean_head(folder: str | Path) -> str | None:
    """HEAD's sha when `folder` is inside a git repository and nothing under it differs from HEAD
    (no modified, staged, deleted or untracked file; ignored files do not count), else None.
    Like `git describe --dirty`: a clean checkout is its commit, only a dirty one is "working tree"."""
    import subprocess

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None

    head = git("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if not head or not Path(folder).is_dir():
        return None
    status = git("status", "--porcelain", "--untracked-files=all", "--", ".")
    return head.strip() if status == "" else None


def open_tree(repo: str | Path, ref: str | None) -> Tree:
    """`ref` read from git objects; without it the working tree, or HEAD when that is clean."""
    if ref:
        return GitTree(repo, ref)
    tree = WorkTree(repo)  # checks that the folder exists
    head = clean_head(repo)
    return GitTree(repo, head) if head else tree


@dataclass
class SourceFile:
    """One manifest file: its text is kept so positions can be found again on the error path."""

    path: str
    text: str
    _nodes: list[yaml.Node] | None = field(default=None, repr=False)
    size: int = 0  # bytes read, for limits.max_total_bytes

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

    @functools.cached_property
    def location(self) -> SourceLocation:
        """Made once: every object's Origin asks for it (200,000 times for a 10k-Ingress repository)."""
        return SourceLocation(self.source.path, self.line, 1)

    def locate(self, *keys: str | int, value: bool = True) -> SourceLocation:
        """Location of a key path, found lazily; falls back to the document start."""
        if self.path.endswith(".json"):
            return self.location
        found = self.source.locate(self.index, keys, value=value)
        return found or self.location


def parse_file(path: str, data: bytes, limits: Limits = DEFAULT_LIMITS
               ) -> tuple[SourceFile, list[Document], list[Finding]]:
    """Parse one manifest file into documents (YAML multi-document or JSON)."""
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
    return src, *_parse_yaml(src, limits)


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


def _parse_yaml(src: SourceFile, limits: Limits = DEFAULT_LIMITS) -> tuple[list[Document], list[Finding]]:
    docs: list[Document] = []
    too_many = alias_findings(src.path, src.text, limits, KubeLoader)
    if too_many:
        return docs, too_many
    loader = KubeLoader(src.text)
    loader.duplicate_keys = []
    loader.lean = "&" not in src.text or "*" not in src.text  # no anchor, or no alias: no shared nodes
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the loader allocates many small containers; cyclic GC passes only cost time here
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
        if gc_was_enabled:
            gc.enable()
    if loader.duplicate_keys:
        return [], duplicate_findings(src.path, loader.duplicate_keys)
    return docs, []


STDIN_PATH = "<stdin>"  # the manifest stream of `render -` / `validate -` (e.g. `kustomize build . |`)


def is_manifest(path: str) -> bool:
    return path.endswith(MANIFEST_SUFFIXES) or path == STDIN_PATH


class StdinTree:
    """The repository's files, except that the manifests are one YAML stream read from stdin.

    as3-gitops.yaml, the snapshot and templates still come from `base` (the working tree): only
    `paths.manifests` is replaced. There is no commit: the identity is "working tree"."""

    def __init__(self, base: WorkTree, data: bytes, manifest_roots: Sequence[str]):
        self.base = base
        self.data = data
        self.roots = {_norm(r) for r in manifest_roots}
        self.identity = WORKING_TREE
        self.root_label = f"{base.root_label} (manifests from stdin)"

    def read(self, path: str) -> bytes | None:
        return self.data if path == STDIN_PATH else self.base.read(path)

    def exists(self, path: str) -> bool:
        return path == STDIN_PATH or self.base.exists(path)

    def walk(self, root: str) -> Iterator[tuple[str, str]]:
        if _norm(root) in self.roots:
            yield STDIN_PATH, STDIN_PATH
            return
        yield from self.base.walk(root)

    def read_keyed(self, path: str, key: str) -> bytes:
        return self.data if path == STDIN_PATH else self.base.read_keyed(path, key)


class ParseCache:
    """Parsed files keyed by content (git blob sha), so identical files on two refs parse once.

    `disk` (a `renderer.cache.DiskCache`) also keeps parses between runs; `remember=False` keeps
    nothing in memory (a single render lets its documents go before building the declaration)."""

    def __init__(self, disk: Any = None, *, remember: bool = True) -> None:
        self._by_key: dict[tuple[str, str], tuple[SourceFile, list[Document], list[Finding]]] = {}
        self.disk = disk
        self.remember = remember

    def get(self, path: str, key: str, loader, *options: Any) -> tuple[SourceFile, list[Document], list[Finding]]:
        """`options` are parse_file's further arguments (e.g. limits): their repr is part of the
        disk key, so a parse made under other options is never reused."""
        cache_key = (path, key)
        hit = self._by_key.get(cache_key)
        if hit is None:
            if self.disk is not None:
                hit = self.disk.parse(path, key, loader, lambda data: parse_file(path, data, *options),
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
                except SourceError as err:
                    findings.append(err.as_finding("SRC005"))
                    continue
                budget.used += max(size, src.size)
                documents.extend(docs)
                findings.extend(problems)
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
