"""Fixtures for the validate tests: one As3Validator per session (loading the schema is the slow part)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from renderer.validate import As3Validator

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
EXAMPLES = SHARED / "reference" / "as3-examples"
HELLO_WORLD = REPO_ROOT / "examples" / "hello-world"


def schema_path() -> Path:
    return Path(os.environ.get("AS3_SCHEMA") or SHARED / "reference" / "as3-schema" / "as3-schema.json")


@pytest.fixture(scope="session")
def validator() -> As3Validator:
    path = schema_path()
    if not path.is_file():
        pytest.skip(f"official AS3 schema not found at {path} (set AS3_SCHEMA)")
    return As3Validator.from_path(path)


@pytest.fixture(scope="module")
def as3_schema() -> dict[str, Any]:
    """The official schema's parsed JSON, for tests that build their own validators."""
    path = schema_path()
    if not path.is_file():
        pytest.skip(f"official AS3 schema not found at {path} (set AS3_SCHEMA)")
    return json.loads(path.read_bytes())


def json_paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key/index path inside a JSON/YAML value (for mutation tests)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += json_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += json_paths(value, (*prefix, i))
    return out
