"""The watcher's own checkout of the config repository: fetch, reset to the remote, commit, push (gitpython).

The checkout belongs to the watcher: every cycle starts from the remote branch as last fetched
(`reset --hard`), writes the snapshot, and commits on top. A commit that could not be pushed
(remote unreachable) is therefore never stacked on: the next cycle rebuilds it from the newest
cluster state on the same base, which squashes every unpushed step into one commit. A push that
is rejected because the branch moved (another watcher, a merge) is not retried blindly: the
caller fetches and recomputes, so two watchers resolve to one commit, never to a merge.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from renderer.errors import UsageError

GIT_TIMEOUT_S = 60  # a hung remote must not hang the watcher
REMOTE = "origin"
# git's words for "the branch is not where you fetched it": a plain non-fast-forward, and a concurrent
# push that took the ref lock first ("[remote rejected] ... failed to update ref / cannot lock ref")
_MOVED = ("[rejected]", "non-fast-forward", "fetch first", "stale info", "[remote rejected]", "cannot lock ref",
          "failed to update ref")
_USERINFO = re.compile(r"(?<=://)[^/@]+@")


def redact(url: str) -> str:
    """The remote URL without a user/token part, for logs."""
    return _USERINFO.sub("***@", url)


class GitUnavailable(Exception):
    """The remote could not be reached (or git failed for another reason); the message is safe to log."""


class Push(Enum):
    PUSHED = "pushed"
    REJECTED = "rejected"  # the branch moved: fetch, recompute, try again


@dataclass(frozen=True)
class GitTarget:
    remote: str  # URL or path of the config repository
    branch: str  # snapshot commits the policy allows go here (and are deployed)
    review_branch: str | None  # the others go here, force-pushed, for a pull request
    workdir: Path


def _detail(err: Exception) -> str:
    lines = [ln.strip() for ln in (getattr(err, "stderr", "") or str(err)).strip().splitlines() if ln.strip()]
    text = lines[-1] if lines else type(err).__name__
    return redact(text.removeprefix("stderr: ").strip("'"))


class GitSync:
    def __init__(self, target: GitTarget):
        self.target = target
        self.repo = None

    @property
    def path(self) -> Path:
        return self.target.workdir

    def close(self) -> None:
        """End the git processes GitPython keeps for the repository (its object database readers):
        without this a stopped watcher leaves them running until the garbage collector finds them."""
        if self.repo is not None:
            self.repo.close()

    def _git(self):
        assert self.repo is not None, "prepare() first"
        return self.repo.git

    def check_names(self) -> None:
        """Branch names are checked before anything starts (exit 2)."""
        import git

        for name in (self.target.branch, self.target.review_branch):
            if name is None:
                continue
            try:
                git.Git().check_ref_format("--branch", name)
            except git.exc.GitCommandError as err:
                raise UsageError(f"{name!r} is not a valid branch name") from err
        if self.target.branch == self.target.review_branch:
            raise UsageError("--branch and --review-branch must differ",
                             hint="changes outside the policy go to the review branch for a pull request")

    def prepare(self) -> None:
        """Clone into the workdir, or reuse a checkout of the same remote there (a restart)."""
        import git

        workdir = self.path
        try:
            if (workdir / ".git").exists():
                self.repo = git.Repo(workdir)
                self.repo.git.remote("set-url", REMOTE, self.target.remote)
            else:
                if workdir.exists() and any(workdir.iterdir()):
                    raise UsageError(f"{workdir}: --workdir exists, is not empty and is not a git checkout",
                                     hint="point --workdir at an empty folder (an emptyDir volume in the pod)")
                workdir.mkdir(parents=True, exist_ok=True)
                self.repo = git.Repo.clone_from(self.target.remote, workdir, no_checkout=True,
                                                kill_after_timeout=GIT_TIMEOUT_S)
        except git.exc.GitCommandError as err:
            if self.repo is None and workdir.exists() and not (workdir / ".git").exists():
                shutil.rmtree(workdir / ".git", ignore_errors=True)
            raise GitUnavailable(f"cannot clone {redact(self.target.remote)}: {_detail(err)}") from err
        self._ensure_identity()
        self.fetch()

    def fetch(self) -> None:
        import git

        try:
            self._git().fetch(REMOTE, "--prune", f"+refs/heads/*:refs/remotes/{REMOTE}/*",
                              kill_after_timeout=GIT_TIMEOUT_S)
        except git.exc.GitCommandError as err:
            raise GitUnavailable(f"git fetch {redact(self.target.remote)}: {_detail(err)}") from err

    def remote_sha(self, branch: str) -> str | None:
        """The branch's tip as last fetched (None: no such branch)."""
        import git

        try:
            return self._git().rev_parse("--verify", "-q", f"refs/remotes/{REMOTE}/{branch}^{{commit}}") or None
        except git.exc.GitCommandError:
            return None

    def reset_to_base(self) -> str:
        """Check out the branch at its last fetched tip, discarding anything local; returns the sha."""
        import git

        base = self.remote_sha(self.target.branch)
        if base is None:
            raise GitUnavailable(f"the remote has no branch {self.target.branch!r}")
        git_ = self._git()
        try:
            git_.checkout("-q", "-f", "-B", self.target.branch, base)
            git_.reset("-q", "--hard", base)
            git_.clean("-q", "-fdx")
        except git.exc.GitCommandError as err:  # a full disk, a broken checkout: retried like a remote failure
            raise GitUnavailable(f"cannot reset the checkout {self.path} to {base[:12]}: {_detail(err)}") from err
        return base

    def _ensure_identity(self) -> None:
        """Commits need an author: without user.name/email (or GIT_AUTHOR_* / GIT_COMMITTER_*) set
        anywhere, give the watcher's own checkout one, instead of failing on the first commit."""
        import git

        try:
            self._git().var("GIT_COMMITTER_IDENT")
            self._git().var("GIT_AUTHOR_IDENT")
        except git.exc.GitCommandError:
            self._git().config("user.name", "as3-gitops snapshot watch")
            self._git().config("user.email", "as3-gitops-watch@localhost")

    def tree_of(self, ref: str, path: str) -> str | None:
        import git

        try:
            return self._git().rev_parse("--verify", "-q", f"{ref}:{path.strip('/')}") or None
        except git.exc.GitCommandError:
            return None

    def push(self, sha: str, branch: str, force: bool = False) -> Push:
        """Push `sha` to `branch`; REJECTED when the branch moved, GitUnavailable on any other failure."""
        import git

        spec = f"{'+' if force else ''}{sha}:refs/heads/{branch}"
        try:
            self._git().push("--porcelain", REMOTE, spec, kill_after_timeout=GIT_TIMEOUT_S)
        except git.exc.GitCommandError as err:
            text = f"{err.stdout or ''}\n{err.stderr or ''}"
            if any(sign in text for sign in _MOVED):
                return Push.REJECTED
            raise GitUnavailable(f"git push to {redact(self.target.remote)} {branch}: {_detail(err)}") from err
        self._git().update_ref(f"refs/remotes/{REMOTE}/{branch}", sha)
        return Push.PUSHED

    def has_commit(self, sha: str) -> bool:
        import git

        try:
            self._git().cat_file("-e", f"{sha}^{{commit}}")
        except git.exc.GitCommandError:
            return False
        return True
