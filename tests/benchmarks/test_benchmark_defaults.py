"""Issue 16 item 15: a trial `python -m benchmarks` does not overwrite the tracked results, and the
YAML-alternatives check runs without its optional candidates."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from benchmarks.run import parse_args

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_default_output_is_not_the_tracked_results_file() -> None:
    assert parse_args([]).output == Path("out") / "benchmark-results.json"
    tracked = subprocess.run(["git", "ls-files", "out"], cwd=REPO_ROOT, capture_output=True, text=True).stdout
    assert tracked == ""  # out/ is ignored, never committed


def test_yaml_alternatives_skips_a_candidate_that_is_not_installed() -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.yaml_alternatives"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    if importlib.util.find_spec("yaml_rs") is None:
        assert "yaml-rs: not installed (pip install yaml-rs); skipped" in proc.stdout
