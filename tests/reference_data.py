"""Reference data (../shared, which is not part of this repository) in tests.

Every skip for missing reference data says one of REFERENCE_SKIP_PHRASES, so a run outside our
machines is green with the reasons listed, while CI, which has the data, turns such a skip into a
failure (tests/conftest.py, pytest_runtest_makereport)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE_MISSING = "reference data not found"
REFERENCE_SKIP_PHRASES = (REFERENCE_MISSING, "official AS3 schema not found", "CIS examples not found")


def reference_path(*parts: str) -> Path:
    return SHARED.joinpath("reference", *parts)


def missing_reason(path: Path) -> str:
    return f"{REFERENCE_MISSING}: {path} (../shared is not part of this repository)"


def reference(*parts: str) -> Path:
    """A path under ../shared/reference; the test is skipped with the reason when it is absent."""
    path = reference_path(*parts)
    if not path.exists():
        pytest.skip(missing_reason(path))
    return path


def reference_required() -> bool:
    """CI=true (set by .ci/run) makes missing reference data a failure, unless the runner has none
    (GitHub's ci.yml sets AS3_GITOPS_REFERENCE=optional and its skip list shows what did not run)."""
    return os.environ.get("CI", "").lower() == "true" and os.environ.get("AS3_GITOPS_REFERENCE") != "optional"
