"""Commit the snapshot folder (gitpython), with a message that says what changed in the cluster.

Only the snapshot folder is committed (`git commit -- <folder>`), so other work in the checkout
is never swept in. Nothing is committed when the folder did not change: an unchanged cluster
leaves no commit and no branch behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from renderer.errors import UsageError
from renderer.snapshot.normalize import BLOCK_AFFINITY, ENDPOINTS, NODE, SLICE, normalize, object_key, raw_objects

_NOUNS = {NODE: ("node", "nodes"), ENDPOINTS: ("endpoints", "endpoints"),
          SLICE: ("endpointslice", "endpointslices"), BLOCK_AFFINITY: ("blockaffinity", "blockaffinities")}
MAX_LISTED = 50  # objects named in the message body; the diff has the rest


@dataclass(frozen=True)
class Changes:
    """Objects added, removed and changed between two snapshots, each as (kind, namespace, name)."""

    added: tuple[tuple[str, str, str], ...] = ()
    removed: tuple[tuple[str, str, str], ...] = ()
    changed: tuple[tuple[str, str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass
class CommitResult:
    sha: str | None  # None: nothing changed, nothing committed
    branch: str | None
    message: str = ""
    changes: Changes = field(default_factory=Changes)


def compare(old: Iterable[dict[str, Any]], new: Iterable[dict[str, Any]]) -> Changes:
    before = {object_key(o): o for o in old}
    after = {object_key(o): o for o in new}
    return Changes(
        added=tuple(sorted(after.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - after.keys())),
        changed=tuple(sorted(k for k in before.keys() & after.keys() if before[k] != after[k])),
    )


def _count(n: int, kind: str) -> str:
    singular, plural = _NOUNS[kind]
    return f"{n} {singular if n == 1 else plural}"


def subject(changes: Changes) -> str:
    """`snapshot: +2 endpoints, -1 node, ~3 endpointslices` (kinds in a fixed order)."""
    parts = []
    for kind in (NODE, ENDPOINTS, SLICE, BLOCK_AFFINITY):
        for sign, keys in (("+", changes.added), ("-", changes.removed), ("~", changes.changed)):
            n = sum(1 for k in keys if k[0] == kind)
            if n:
                parts.append(f"{sign}{_count(n, kind)}")
    return "snapshot: " + (", ".join(parts) if parts else "rewrite files (no object changed)")


def commit_message(changes: Changes, captured_at: str, source: str) -> str:
    """Subject, then the capture time (kept out of the files so they stay byte-identical), then names."""
    lines = [subject(changes), "", f"Captured at {captured_at} from {source}."]
    listed = [(sign, key) for sign, keys in (("+", changes.added), ("-", changes.removed), ("~", changes.changed))
              for key in keys]
    if listed:
        lines.append("")
        for sign, (kind, ns, name) in listed[:MAX_LISTED]:
            lines.append(f"{sign} {kind} {ns}/{name}" if ns else f"{sign} {kind} {name}")
        if len(listed) > MAX_LISTED:
            lines.append(f"... and {len(listed) - MAX_LISTED} more")
    return "\n".join(lines) + "\n"


def _repo(path: Path):
    import git

    try:
        repo = git.Repo(path, search_parent_directories=True)  # the config folder may be below the root
    except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError) as err:
        raise UsageError(f"{path}: not inside a git repository", hint="--commit needs a git checkout") from err
    if repo.bare:
        raise UsageError(f"{path}: is a bare repository", hint="run in a checkout")
    return repo


def check_target(repo_path: Path, root: str, branch: str | None) -> None:
    """Fail before capturing (exit 2) if the commit could not be made: no repo, bad or taken branch."""
    import git

    with _repo(repo_path) as repo:  # closed: GitPython's cat-file processes end here
        resolved = (repo_path / root).resolve()
        if not resolved.is_relative_to(Path(repo.working_tree_dir).resolve()):
            raise UsageError(f"paths.snapshot {root!r} is outside the repository", hint="use a path inside it")
        if branch is None:
            return
        try:
            repo.git.check_ref_format("--branch", branch)
        except git.exc.GitCommandError as err:
            raise UsageError(f"--branch {branch!r} is not a valid branch name") from err
        if branch in [h.name for h in repo.heads]:
            raise UsageError(f"branch {branch!r} already exists",
                             hint="pick a new name (e.g. with the date) or delete the old branch")


def previous_objects(repo_path: Path, root: str) -> list[dict[str, Any]]:
    """The snapshot objects committed at HEAD (empty for a new repository or folder)."""
    from renderer.source import GitTree, load_documents

    with _repo(repo_path) as repo:  # closed: GitPython's cat-file processes end here
        if not repo.head.is_valid():
            return []
        docs, _findings = load_documents(GitTree(repo_path, "HEAD"), [root])
        out = []
        for raw in raw_objects(docs):
            obj = normalize(raw.data)
            if obj is not None:
                out.append(obj)
        return out


def commit_snapshot(repo_path: Path, root: str, message: str, branch: str | None) -> tuple[str, str] | None:
    """Stage and commit `root` only; returns (sha, branch), or None when `root` has no change."""
    import git

    with _repo(repo_path) as repo:  # closed: GitPython's cat-file processes end here
        # git runs at the repository's root: name the folder from there (the config folder may be a subfolder)
        target = (repo_path / root).resolve().relative_to(Path(repo.working_tree_dir).resolve()).as_posix()
        try:
            repo.git.add("-A", "--", target)
            against = ["HEAD"] if repo.head.is_valid() else []
            staged = repo.git.diff("--cached", "--name-only", *against, "--", target)
            if not staged.strip():
                return None
            if branch:
                repo.git.switch("-c", branch)
            repo.git.commit("-q", "-m", message, "--", target)
        except git.exc.GitCommandError as err:
            detail = (err.stderr or "").strip().splitlines()
            raise UsageError(f"git commit failed: {detail[-1] if detail else err}",
                             hint="check `git status` and that user.name/user.email are set") from err
        on = "(detached HEAD)" if repo.head.is_detached else repo.active_branch.name
        return repo.head.commit.hexsha, on
