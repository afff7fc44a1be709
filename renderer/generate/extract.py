"""A clean extraction of one commit into a temp folder, for generators to run in.

Written from the git objects themselves (the bytes `--ref` reads, no checkout, no smudge or
export filters, the repository and its index untouched): regular files with their executable
bit, then symlinks, and only those whose target stays inside the extraction; one that points
outside (absolute, or climbing out with `..`) is not made and gets a warning (GEN007), so a
generator can never read through it. Submodules are not extracted (git archive does not either).
The whole commit is extracted, not only the configuration folder, so `../../charts/web` from
`envs/prod` finds what a checkout would have.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from renderer.errors import Finding, Severity, SourceLocation

SYMLINK_MODE = 0o120000
TEMP_PREFIX = "as3-gitops-generate-"


def extract_commit(tree: Any, dest: Path, where: SourceLocation) -> list[Finding]:
    """Write every file of `tree`'s whole commit (a GitTree) under `dest`; warnings for refused symlinks.
    Trees are made on the way; submodules (gitlinks) are not in `commit_files`."""
    findings: list[Finding] = []
    links: list[tuple[str, bytes]] = []
    for path, mode, sha in tree.commit_files():
        if path.startswith("/") or ".." in path.split("/"):  # git refuses such trees; never trust it
            continue
        data = tree.read_keyed(path, sha)
        if mode == SYMLINK_MODE:
            links.append((path, data))
            continue
        target = dest.joinpath(*path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as out:  # x: never through anything already there
            out.write(data)
        if mode & 0o111:
            target.chmod(0o755)
    made = []
    for path, data in links:  # after the files: no file is ever written through a link
        link = os.fsdecode(data)
        target = dest.joinpath(*path.split("/"))
        if not posixpath.isabs(link):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(link, target)
            made.append((path, link, target))
        else:
            findings.append(_outside(path, link, where))
    # Checked once all exist: a link through another link (`a/l -> ..` then `m -> a/l/..`) can
    # leave although each target string alone looks harmless.
    root = os.path.realpath(dest)
    for path, link, target in made:
        real = os.path.realpath(target)
        if real != root and not real.startswith(root + os.sep):
            target.unlink()
            findings.append(_outside(path, link, where))
    return findings


@contextlib.contextmanager
def temp_folder() -> Iterator[Path]:
    """A private temp folder, removed afterwards with all a generator wrote there (read-only parts too)."""
    folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    try:
        yield folder
    finally:
        remove_tree(folder)


def _outside(path: str, link: str, where: SourceLocation) -> Finding:
    return Finding("GEN007", f"symlink {path} -> {link} points outside the repository; not extracted for "
                   "generate:", where, Severity.WARNING,
                   hint="make it a relative link that stays inside the repository")


def remove_tree(folder: Path) -> None:
    def make_writable(func: Any, path: str, *_exc: Any) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), stat.S_IRWXU)
            os.chmod(path, stat.S_IRWXU)
            func(path)

    if sys.version_info >= (3, 12):
        shutil.rmtree(folder, onexc=make_writable)
    else:
        shutil.rmtree(folder, onerror=make_writable)
