"""Dependency hygiene: every third-party module the package imports is declared in pyproject.toml,
and no private module (`typer._click`, `foo._internal`) of another project is imported, because a
private module may be missing in any version inside the declared range. The declared lower bounds
themselves are exercised by `.ci/lowest` (all direct dependencies at their minimum)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "renderer"


def _imports() -> dict[str, list[str]]:
    """Top-level imported module -> where (file:line), for absolute imports in renderer/."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    return {re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in specs}


def test_no_private_module_of_another_project_is_imported() -> None:
    private = {name: where for name, where in _imports().items()
               if name.split(".")[0] != "renderer" and any(part.startswith("_") for part in name.split(".")[1:])}
    assert private == {}


def test_every_imported_third_party_distribution_is_declared() -> None:
    dists = importlib.metadata.packages_distributions()
    declared = _declared()
    missing = {}
    for name, where in _imports().items():
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top in ("renderer", "benchmarks"):
            continue
        owners = {d.lower().replace("_", "-") for d in dists.get(top, [top])}
        if not owners & declared:
            missing[top] = where
    assert missing == {}


def test_the_click_exception_class_is_found_without_a_private_import() -> None:
    import typer

    from renderer.cli import CLICK_EXCEPTION

    assert issubclass(typer.BadParameter, CLICK_EXCEPTION)
    assert CLICK_EXCEPTION.__name__ == "ClickException"


def test_ci_installs_and_tests_the_lowest_declared_versions() -> None:
    lowest = (ROOT / ".ci" / "lowest").read_text()
    assert "--resolution lowest-direct" in lowest and "pytest" in lowest
    assert "bash .ci/lowest" in (ROOT / ".ci" / "run").read_text()


def test_ci_walks_the_readme_in_a_fresh_clone() -> None:
    """Issue 16, done-when: the README's set-up line and emulator walkthrough run as written (.ci/readme-walk)."""
    walk = (ROOT / ".ci" / "readme-walk").read_text()
    assert "git clone" in walk and 'blocks[0].splitlines()[0]' in walk and "Trying it without a BIG-IP" in walk
    assert "bash .ci/readme-walk" in (ROOT / ".ci" / "run").read_text()
    assert "## Trying it without a BIG-IP" in (ROOT / "README.md").read_text()
