"""The repository's `benchmarks` package for tests: it is not installed with the renderer.

It is registered in sys.modules from its folder (never by putting the repository root on
sys.path, so no test picks up top-level folders by accident); benchmarks/generate.py imports
the package itself, so it must be the real one.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
_INIT = REPO_ROOT / "benchmarks" / "__init__.py"


def register() -> None:
    """Make `import benchmarks` load this repository's folder (once per process)."""
    current = sys.modules.get("benchmarks")
    if current is not None and getattr(current, "__file__", None) == str(_INIT):
        return
    spec = importlib.util.spec_from_file_location("benchmarks", _INIT,
                                                  submodule_search_locations=[str(_INIT.parent)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["benchmarks"] = module
    spec.loader.exec_module(module)


def bench_generate() -> ModuleType:
    """benchmarks/generate.py, the synthetic repository generator."""
    register()
    return importlib.import_module("benchmarks.generate")


def synthetic_repo(repo: Any, monkeypatch: Any, size: int, per_file: int) -> Any:
    """`repo` (a conftest GitRepo) holding the synthetic repository of `size` Ingresses, `per_file`
    documents a file, committed once."""
    gen = bench_generate()
    monkeypatch.setattr(gen, "PER_FILE", per_file)
    gen.generate(repo.path, size)
    repo.commit(message="synthetic")
    return repo
