"""`python -m benchmarks.instructions`: callgrind's count of one command, the same run after run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import instructions

REPO_ROOT = Path(__file__).resolve().parents[2]


def _part(trigger: str, summary: int) -> str:
    return f"version: 1\ncreator: callgrind\npart: 1\ndesc: Trigger: {trigger}\nevents: Ir\nsummary: {summary}\n"


def test_the_count_is_the_labelled_dump_of_all_the_files(tmp_path: Path) -> None:
    out = tmp_path / "callgrind-pr-0.out"
    out.write_text(_part("Program termination", 2**64 - 5))  # the dump at exit: zeroed, then wrapped
    (tmp_path / "callgrind-pr-0.out.1").write_text(_part(f"Client Request: {instructions.LABEL}", 1234))
    (tmp_path / "callgrind-other-0.out.1").write_text(_part(f"Client Request: {instructions.LABEL}", 99))
    assert instructions.counted(out) == 1234
    (tmp_path / "callgrind-pr-0.out.1").unlink()
    with pytest.raises(instructions.InstructionsError, match="no dump labelled"):
        instructions.counted(out)


def test_bad_options_exit_2_with_a_message() -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.instructions", "--size", "2"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == "instructions: error: --size must be at least 3 and --repeat at least 1\n"


def test_two_counted_runs_agree(tmp_path: Path, as3_schema_path: Path) -> None:
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed")
    try:
        instructions.build_helper(tmp_path)
    except instructions.InstructionsError as err:
        pytest.skip(str(err))
    counts = instructions.count(12, "pr", as3_schema_path, tmp_path, repeat=2)
    assert min(counts) > 1_000_000
    assert (max(counts) - min(counts)) / min(counts) < 0.01, counts
    # and it counts the scenario's command: a cold diff (both sides parsed, built, emitted) does more
    # than the diff whose base the cache holds
    (cold,) = instructions.count(12, "diff", as3_schema_path, tmp_path)
    assert cold > 1.1 * max(counts), (cold, counts)  # 1.3 x at this size, where fixed costs weigh most
