"""write_files: all-or-nothing replacement of the managed snapshot files."""

from __future__ import annotations

from pathlib import Path

import pytest

from renderer.snapshot.write import write_files


def test_failure_while_staging_leaves_every_file_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "endpoints.yaml").write_bytes(b"old\n")
    (tmp_path / "namespaces").write_text("in the way\n")
    with pytest.raises(FileExistsError):
        write_files(tmp_path, {"endpoints.yaml": b"new\n", "namespaces/shop.yaml": b"x\n"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["endpoints.yaml", "namespaces"]
    assert (tmp_path / "endpoints.yaml").read_bytes() == b"old\n"


def test_result_lists_written_removed_and_unchanged_files(tmp_path: Path) -> None:
    write_files(tmp_path, {"nodes.yaml": b"n\n", "namespaces/a.yaml": b"a\n", "namespaces/b.yaml": b"b\n"})
    (tmp_path / "notes.txt").write_text("user file\n")
    result = write_files(tmp_path, {"nodes.yaml": b"n\n", "namespaces/a.yaml": b"a2\n"})
    assert (result.written, result.removed, result.unchanged) == (
        ("namespaces/a.yaml",), ("namespaces/b.yaml",), ("nodes.yaml",))
    assert result.changed
    result = write_files(tmp_path, {"nodes.yaml": b"n\n"})
    assert (result.written, result.removed) == ((), ("namespaces/a.yaml",))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nodes.yaml", "notes.txt"]  # empty folder removed
    assert not write_files(tmp_path, {"nodes.yaml": b"n\n"}).changed
