"""`ValidatorCache` reloads a schema whose content changed, even when its size and mtime did not.

The cache used to be keyed by path, mtime and size: a schema rewritten to the same size within one
timestamp tick (or with its mtime restored, as here) kept the old validator. The rewrite below
changes the ADC class's `const` ("ADC" -> "ADX", same byte count) and restores the mtime, so only
a content key sees it; the new validator must then reject the declaration the old one accepted.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from renderer.validate import ValidatorCache

from .conftest import schema_path

BODY = {"class": "ADC", "schemaVersion": "3.0.0", "id": "cache-test"}
MARK = b"Indicates this JSON document is an ADC declaration"


@pytest.fixture()
def schema_copy(tmp_path: Path) -> Path:
    source = schema_path()
    if not source.is_file():
        pytest.skip(f"official AS3 schema not found at {source} (set AS3_SCHEMA)")
    copy = tmp_path / "as3-schema.json"
    shutil.copyfile(source, copy)
    return copy


def _same_size_rewrite(path: Path) -> None:
    """Turn the ADC `const` into "ADX" in place: same size, mtime and atime restored."""
    before = os.stat(path)
    text = path.read_bytes()
    at = text.index(MARK)
    const = text.index(b'"ADC"', at)
    path.write_bytes(text[:const] + b'"ADX"' + text[const + 5:])
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_same_size_same_mtime_rewrite_reloads(schema_copy: Path) -> None:
    cache = ValidatorCache()
    first = cache.get(schema_copy)
    assert first.first_error(BODY) is None
    assert cache.get(schema_copy) is first  # unchanged content: the same validator
    _same_size_rewrite(schema_copy)
    second = cache.get(schema_copy)
    assert second is not first
    error = second.first_error(BODY)
    assert error is not None and "class" in error


def test_unreadable_schema_is_a_finding_not_a_traceback(tmp_path: Path) -> None:
    from renderer.errors import ValidateError

    with pytest.raises(ValidateError, match="cannot read the AS3 schema"):
        ValidatorCache().get(tmp_path / "missing.json")
