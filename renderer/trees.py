"""Where the repository's files come from: the working tree, one git commit, or a manifest stream.

Every tree answers the same questions (walk a folder, read a file by its content key, does a path
exist), so parsing, the caches and the render never know which one they read. Paths are confined
to the repository on every tree (`confined_path`; symlinks leaving it are refused on the working
tree), as --ref cannot leave it either. Split from renderer/source.py (which re-exports these).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Protocol, Self

from renderer.errors import SourceError, SourceLocation
from renderer.gitobjects import (
    BLOB,
    GITLINK,
    BlobReader,
    Entry,
    GitReadError,
    committer_time,
    list_tree,
    run_git,
    stderr_line,
)

WORKING_TREE = "working tree"
STDIN_PATH = "<stdin>"  # the manifest stream of `render -` / `validate -` (e.g. `kustomize build . |`)


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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to end (a GitTree ends its git process): every tree can be used in `with`."""

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


def _locate(repo_path: str | Path, ref: str) -> tuple[str, str, str] | None:
    """(git dir, the folder's prefix in the repository, the commit `ref` names), asked of git in one
    call (rev-parse prints its answers in the order asked); None when the folder is in no repository
    or `ref` names no commit (never an option: a ref starting with `-` names none)."""
    if not ref or ref.startswith("-"):
        return None
    done = run_git(["-C", str(repo_path), "rev-parse", "--absolute-git-dir", "--show-prefix", "--verify", "--quiet",
                    f"{ref}^{{commit}}"])
    lines = done.stdout.decode("utf-8", "surrogateescape").split("\n")
    if done.returncode != 0 or len(lines) < 3 or not lines[0] or not _HEX.fullmatch(lines[2]):
        return None
    return lines[0], lines[1], lines[2]


_HEX = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # a SHA-1 or SHA-256 object id


class GitTree:
    """Files of one commit, read from git objects: the working tree is never touched.

    Through the git binary (renderer/gitobjects.py): one tree listing, one `git cat-file --batch`
    process for the blobs. Content keys are the git blob ids (the parse cache and render memo key on
    them). Blobs are files and symlinks (a symlink's content is its target, as git stores it);
    submodules (gitlinks) exist but are neither walked nor read. Use it as a context manager, or
    `close()` it: that ends the cat-file process (also done at garbage collection and exit)."""

    def __init__(self, repo_path: str | Path, ref: str):
        located = _locate(repo_path, ref)
        if located is None:  # one of the two: say which
            found = run_git(["-C", str(repo_path), "rev-parse", "--absolute-git-dir", "--show-prefix"])
            if found.returncode != 0:
                raise SourceError(f"{repo_path}: not inside a git repository",
                                  hint="--ref needs the folder to be in a git repository")
            raise SourceError(f"{repo_path}: unknown git ref {ref!r}", hint="check `git log` for the ref")
        git_dir, prefix, self.identity = located
        self.git_dir = git_dir
        # the configuration folder may be any folder of a repository (a monorepo, envs/prod)
        self.prefix = prefix.rstrip("/")
        self.root_label = f"{repo_path}@{ref}"
        treeish = f"{self.identity}:{self.prefix}" if self.prefix else f"{self.identity}^{{tree}}"
        entries = list_tree(git_dir, treeish)
        if entries is None:
            raise SourceError(f"{repo_path}: folder {self.prefix!r} does not exist at {ref}",
                              hint="check the ref, or the folder name at that commit")
        self._entries = entries
        self._blobs = BlobReader(git_dir)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._blobs.close()

    def _entry(self, path: str) -> Entry | None:
        return self._entries.get(_norm(path))

    def read(self, path: str) -> bytes | None:
        entry = self._entry(path)
        if entry is None or entry.type != BLOB:
            return None
        return self._blob(path, entry.sha)

    def exists(self, path: str) -> bool:
        return self._entry(path) is not None

    def walk(self, root: str) -> Iterator[tuple[str, str]]:
        top = _norm(root)
        if top in ("", "."):
            blobs = [(path, e.sha) for path, e in self._entries.items() if e.type == BLOB]
        else:
            entry = self._entries.get(top)
            if entry is None or entry.type == GITLINK:
                return
            if entry.type == BLOB:
                yield top, entry.sha
                return
            below = top + "/"
            blobs = [(path, e.sha) for path, e in self._entries.items() if e.type == BLOB and path.startswith(below)]
        yield from sorted(blobs)

    def read_keyed(self, path: str, key: str) -> bytes:
        return self._blob(path, key)

    def _blob(self, path: str, key: str) -> bytes:
        kind, data = self._blobs.read(key)
        if kind != BLOB:
            raise GitReadError(f"{path}: git object {key} is a {kind}, not a file")
        return data

    def size(self, path: str, key: str) -> int:
        entry = self._entry(path)
        if entry is not None and entry.sha == key:
            return entry.size
        return len(self._blob(path, key))

    @functools.cached_property
    def committed_date(self) -> int:
        """The commit's committer time (epoch s): SOURCE_DATE_EPOCH for generate: commands."""
        return committer_time(self._blobs.read(self.identity)[1])

    def commit_files(self) -> list[tuple[str, int, str]]:
        """(path, mode, blob id) of every file and symlink of the whole commit (not only the
        configuration folder), for extracting it: generate: commands may read `../../charts`."""
        entries = list_tree(self.git_dir, f"{self.identity}^{{tree}}", recursive_trees=False) or {}
        return sorted((path, e.mode, e.sha) for path, e in entries.items() if e.type == BLOB)

    def last_change(self, paths: Sequence[str]) -> int | None:
        """Commit time (epoch s) of the newest commit touching `paths`, or None."""
        full = [f"{self.prefix}/{p}" if self.prefix else p for p in paths]
        done = run_git(["--git-dir", self.git_dir, "log", "-1", "--format=%ct", self.identity, "--", *full])
        if done.returncode != 0:
            raise GitReadError(f"git log: {stderr_line(done)}")
        out = done.stdout.strip()
        return int(out) if out else None


def confined_path(path: str) -> None:
    """Refuse a repository path that is absolute or climbs out with `..` (the same for every tree)."""
    pure = PurePosixPath(path.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (path[1:3] in (":/", ":\\") and path[:1].isalpha()):
        raise SourceError(f"{path}: paths must stay inside the repository (no absolute paths, no '..')",
                          location=SourceLocation(path), hint="write the path relative to the repository root")


def _norm(path: str) -> str:
    return PurePosixPath(path).as_posix().strip("/") if path not in ("", ".") else path


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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to end (a GitTree ends its git process): every tree can be used in `with`."""

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
