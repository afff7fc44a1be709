"""Make the repository's `benchmarks` package importable (it is not installed with the renderer).

It is registered in sys.modules from its folder instead of putting the repository root on
sys.path, so no other test can pick up top-level folders by accident.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

if "benchmarks" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "benchmarks", REPO_ROOT / "benchmarks" / "__init__.py",
        submodule_search_locations=[str(REPO_ROOT / "benchmarks")])
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["benchmarks"] = _module
    _spec.loader.exec_module(_module)
