"""Golden files: every folder under cases/ is a repository; its expected/ holds as3.json, net.json
and findings.txt. Regenerate with `pytest --update-golden` and review the diff like code."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from renderer.render import render_tree
from renderer.report import format_text
from renderer.source import WorkTree, dump_json

CASES = Path(__file__).parent / "cases"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REPO_CASES = sorted(p for p in CASES.iterdir() if p.is_dir())


def render(case: Path):
    """The folder as files (identity "working tree"): a case inside this clean checkout would
    otherwise be rendered as the commit and its golden id would change with every commit."""
    return render_tree(WorkTree(case))


def _expected_files(case: Path) -> dict[str, bytes]:
    result = render(case)
    files = {"findings.txt": "".join(format_text(f) + "\n" for f in result.findings).encode()}
    if result.ok:
        files["as3.json"] = dump_json(result.as3)
        files["net.json"] = dump_json(result.net)
    return files


def _compare(case: Path, expected_dir: Path, update: bool) -> None:
    actual = _expected_files(case)
    if update:
        expected_dir.mkdir(exist_ok=True)
        for old in expected_dir.iterdir():
            old.unlink()
        for name, data in actual.items():
            (expected_dir / name).write_bytes(data)
    stored = {p.name: p.read_bytes() for p in sorted(expected_dir.iterdir())}
    assert sorted(stored) == sorted(actual), "expected/ holds different files; run pytest --update-golden"
    for name, data in actual.items():
        assert data.decode() == stored[name].decode(), f"{case.name}/{name} differs from the golden file"


@pytest.mark.parametrize("case", REPO_CASES, ids=[p.name for p in REPO_CASES])
def test_case_renders_to_its_golden_files(case: Path, update_golden: bool) -> None:
    _compare(case, case / "expected", update_golden)


def test_hello_world_example_renders_to_its_golden_files(update_golden: bool) -> None:
    _compare(EXAMPLES / "hello-world", Path(__file__).parent / "hello-world-expected", update_golden)


def test_custom_resources_example_renders_to_its_golden_files(update_golden: bool) -> None:
    _compare(EXAMPLES / "custom-resources", Path(__file__).parent / "custom-resources-expected", update_golden)


@pytest.mark.parametrize("case", [*REPO_CASES, EXAMPLES / "hello-world", EXAMPLES / "custom-resources"],
                         ids=lambda p: p.name)
def test_rendered_declaration_is_valid_for_the_official_as3_schema(case: Path, as3_schema_path: Path) -> None:
    result = render(case)
    assert result.ok, [format_text(f) for f in result.findings if f.is_error]
    schema = json.loads(as3_schema_path.read_text())
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(result.as3))
    assert errors == [], [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5]]


@pytest.mark.parametrize("case", [*REPO_CASES, EXAMPLES / "hello-world", EXAMPLES / "custom-resources"],
                         ids=lambda p: p.name)
def test_net_declaration_matches_net_schema(case: Path) -> None:
    import importlib.resources

    schema = json.loads(importlib.resources.files("renderer.schemas").joinpath("net.schema.json").read_text())
    result = render(case)
    assert list(jsonschema.Draft7Validator(schema).iter_errors(result.net)) == []
