"""Atomic file writes: a reader (or a crash) never sees a half-written file.

Temp files are made in the target's folder (so os.replace is a rename on one file system) and
removed again if anything fails.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path


def _stage(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write one file (str is written as UTF-8 with the newlines given)."""
    write_all_atomic({path: data})


def write_all_atomic(files: Mapping[Path, bytes | str]) -> None:
    """Write every file or none: all are staged as temp files before the first is moved into place, and
    a target that cannot be replaced (a folder in its place, a permission) puts the earlier ones back."""
    staged: list[tuple[Path, Path]] = []
    replaced: list[tuple[Path, Path | None]] = []  # (target, backup of its old content or None)
    try:
        for path in files:
            if path.is_dir():
                raise IsADirectoryError(errno.EISDIR, "a folder is in the way", str(path))
        for path, data in files.items():
            staged.append((_stage(path, data.encode("utf-8") if isinstance(data, str) else data), path))
        for tmp, path in staged:
            backup = _backup(path)
            try:
                os.replace(tmp, path)
            except BaseException:
                if backup is not None:
                    backup.unlink(missing_ok=True)
                raise
            replaced.append((path, backup))
    except BaseException:
        for path, backup in reversed(replaced):
            if backup is not None:
                os.replace(backup, path)
            else:
                path.unlink(missing_ok=True)
        raise
    finally:
        for tmp, _path in staged:
            tmp.unlink(missing_ok=True)
        for _path, backup in replaced:
            if backup is not None:
                backup.unlink(missing_ok=True)


def _backup(path: Path) -> Path | None:
    """A second name for the file now at `path` (a hard link, else a copy), so it can be put back."""
    if not path.is_file():
        return None
    backup = path.with_name(f".{path.name}.{os.getpid()}.bak")
    backup.unlink(missing_ok=True)
    try:
        os.link(path, backup)
    except OSError:
        shutil.copy2(path, backup)
    return backup
