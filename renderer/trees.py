"""Where the repository's files come from: the working tree, one git commit, or a manifest stream.

Every tree answers the same questions (walk a folder, read a file by its content key, does a path
exist), so parsing, the caches and the render never know which one they read. Paths are confined
to the repository on every tree (`confined_path`; symlinks leaving it are refused on the working
tree), as --ref cannot leave it either. Split from renderer/source.py (which re-exports these).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from renderer.errors import SourceError, SourceLocation

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
