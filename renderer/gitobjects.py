"""One git commit's objects read through the git binary: a tree listing and blob contents.

Why not GitPython: importing it costs about 3 MB and 0.4 CPU s per fresh process, and it reads the
objects through `git cat-file` processes anyway (its default object database), so the git binary
was already needed. Here one `git ls-tree -r -t -z -l` lists a tree (NUL-separated, so no quoting
and any path bytes; sizes included, so the size limit needs no object read) and one long-lived
`git cat-file --batch` process answers every blob read. Blobs are the raw objects: no smudge or
LFS filters (an LFS file is its pointer), as before. Paths are decoded like GitPython decoded them
(UTF-8 with surrogateescape: a non-UTF-8 name round-trips to the same bytes).

Never a hang: every git call has a deadline; a cat-file request that gets no whole answer within
`TIMEOUT` seconds kills the process, and a dead one fails the read. Both are a `GitReadError`
(exit 2 with what git said), never a wait without end. The process is closed by `close()` (the
trees are context managers), at garbage collection and at interpreter exit.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from renderer.errors import SourceError

TIMEOUT = 60.0  # seconds for one git call, or one blob request; local object reads take milliseconds
TREE, BLOB, GITLINK = "tree", "blob", "commit"


class GitReadError(SourceError):
    """git itself failed while reading a commit (missing binary, died, stuck, corrupt object)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One ls-tree entry: mode (octal int), type (tree/blob/commit), object id, size (blobs only)."""

    mode: int
    type: str
    sha: str
    size: int


def git_binary() -> str:
    found = shutil.which("git")
    if found is None:
        raise GitReadError("git: not found on PATH", hint="--ref, diff and a clean checkout are read through "
                           "the git binary: install git")
    return found


def run_git(args: Sequence[str], *, cwd: str | None = None) -> subprocess.CompletedProcess[bytes]:
    """`git args` with a deadline; the caller looks at the return code."""
    try:
        return subprocess.run([git_binary(), *args], cwd=cwd, capture_output=True, stdin=subprocess.DEVNULL,
                              timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired as err:
        raise GitReadError(f"git {args[-1] if args else ''}: no answer within {TIMEOUT:g} s",
                           hint="check the repository (a lock, a network file system)") from err
    except OSError as err:
        raise GitReadError(f"git: cannot run ({err.strerror or err})", hint="check the git installation") from err


def stderr_line(done: subprocess.CompletedProcess[bytes]) -> str:
    text = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return text[-1][:200] if text else f"exit status {done.returncode}"


def list_tree(git_dir: str, treeish: str, *, recursive_trees: bool = True) -> dict[str, Entry] | None:
    """Every entry below `treeish` (paths relative to it, trees too with `recursive_trees`), or None
    when `treeish` does not name a tree."""
    args = ["--git-dir", git_dir, "ls-tree", "-r", "-z", "-l", *(["-t"] if recursive_trees else []), treeish]
    done = run_git(args)
    if done.returncode != 0:
        return None
    entries: dict[str, Entry] = {}
    for record in done.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, sha, size = meta.split()
        entries[raw_path.decode("utf-8", "surrogateescape")] = Entry(
            int(mode, 8), kind.decode(), sha.decode(), int(size) if size != b"-" else 0)
    return entries


class _Watch:
    """What the watchdog thread shares with its reader (not the reader: the thread must not keep it alive)."""

    def __init__(self) -> None:
        self.busy_since = 0.0  # monotonic time of the request in flight, 0 when idle
        self.timed_out = False
        self.stop = threading.Event()


class BlobReader:
    """One `git cat-file --batch` process for one tree's reads, started on the first read."""

    def __init__(self, git_dir: str) -> None:
        self.git_dir = git_dir
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._watch = _Watch()
        self._finalizer: weakref.finalize | None = None

    def read(self, sha: str) -> tuple[str, bytes]:
        """(object type, content) of object `sha`; GitReadError when it is missing or git fails."""
        with self._lock:
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            self._watch.busy_since = time.monotonic()
            try:
                proc.stdin.write(sha.encode("ascii") + b"\n")
                proc.stdin.flush()
                parts = proc.stdout.readline().split()
                if len(parts) == 2 and parts[1] == b"missing":
                    raise GitReadError(f"git object {sha} is missing from the repository",
                                       hint="run `git fsck`; a shallow or partial clone may lack it")
                if len(parts) != 3:
                    raise self._failed()
                size = int(parts[2])
                data = proc.stdout.read(size + 1)
                if len(data) != size + 1:
                    raise self._failed()
            except (OSError, ValueError) as err:  # a broken pipe: git is gone
                raise self._failed() from err
            finally:
                self._watch.busy_since = 0.0
        return parts[1].decode(), data[:-1]

    def _failed(self) -> GitReadError:
        why = f"gave no answer within {TIMEOUT:g} s" if self._watch.timed_out else "stopped"
        self.close()
        return GitReadError(f"git cat-file {why} while reading the commit",
                            hint="check the repository with `git fsck`; run again")

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is not None:
            return self._proc
        try:
            proc = subprocess.Popen([git_binary(), "--git-dir", self.git_dir, "cat-file", "--batch"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError as err:
            raise GitReadError(f"git cat-file: cannot start ({err.strerror or err})") from err
        self._proc, self._watch = proc, _Watch()
        threading.Thread(target=_watchdog, args=(proc, self._watch), name="git-cat-file-watchdog",
                         daemon=True).start()
        self._finalizer = weakref.finalize(self, _shutdown, proc, self._watch)
        return proc

    def close(self) -> None:
        """End the process (stdin closed: git exits; killed if it does not within a second)."""
        proc, self._proc = self._proc, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if proc is not None:
            _shutdown(proc, self._watch)


def _watchdog(proc: subprocess.Popen[bytes], watch: _Watch) -> None:
    """Kill a cat-file that sits on a request past TIMEOUT: the blocked read then returns."""
    while not watch.stop.wait(min(1.0, TIMEOUT / 4)):
        since = watch.busy_since
        if since and time.monotonic() - since > TIMEOUT:
            watch.timed_out = True
            _kill(proc)
            return


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        proc.kill()


def _shutdown(proc: subprocess.Popen[bytes], watch: _Watch) -> None:
    watch.stop.set()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    try:
        proc.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.wait()


def committer_time(commit_object: bytes) -> int:
    """The committer timestamp (epoch s) of a raw commit object, as GitPython's committed_date."""
    for line in commit_object.split(b"\n"):
        if not line:
            break
        if line.startswith(b"committer "):
            return int(line.rsplit(b" ", 2)[-2])
    raise GitReadError("git commit object without a committer line")

