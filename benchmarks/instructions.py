"""`python -m benchmarks.instructions`: the instructions one command executes, counted by callgrind.

Why: CPU seconds on a shared 2-core machine vary by a third between runs of the same code, so the
A/B of a change that saves a few percent needs another measure. callgrind counts the instructions
the CPU executes, the same to a few hundredths of a percent for the same code and inputs, whatever
the neighbours do. Only the command is counted: the child process starts with instrumentation off
(the imports, warming the cache and the other set-up run at valgrind's lighter speed) and turns it
on and off around the command through callgrind's client requests, which a small C helper built
here with the system compiler makes callable from ctypes. Child processes (git) are not counted.

Instructions are not seconds (a cache miss costs more than an add): compare two counts of one
scenario, before and after a change, not one scenario with another. Needs valgrind, its headers
(`valgrind/callgrind.h`) and a C compiler; without them it says so and exits 2.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

LABEL = "as3-gitops-timed"
_HELPER = f"""#include <valgrind/callgrind.h>
void as3_gitops_start(void) {{ CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; CALLGRIND_TOGGLE_COLLECT; }}
void as3_gitops_stop(void) {{ CALLGRIND_TOGGLE_COLLECT; CALLGRIND_DUMP_STATS_AT("{LABEL}");
                             CALLGRIND_STOP_INSTRUMENTATION; }}
"""
# scenario -> what the timed command is, and what the cache holds before it (as the benchmark's rows)
SCENARIOS = {
    "render": "as3-gitops render of the head, --no-cache",
    "diff": "as3-gitops diff base..head, --no-cache",
    "pr": "the PR diff: the base's whole render in the cache (a run on main left it)",
    "pr-both": "the PR diff in pr.yml's order: the base validated and the head rendered before",
    "rerender": "render of the head, the cache as deploy.yml's run on the base leaves it",
    "validate": "our AS3-exact validation of the head's render (the validator loaded and used once)",
}


class InstructionsError(Exception):
    """A missing tool or a bad option: said on stderr, exit 2."""


def build_helper(folder: Path) -> Path:
    """The C helper as a shared library in `folder`."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise InstructionsError("no C compiler (cc or gcc) on PATH: the callgrind helper is built with it")
    source, library = folder / "callgrind_helper.c", folder / "callgrind_helper.so"
    source.write_text(_HELPER)
    done = subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", str(library), str(source)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InstructionsError(f"building the callgrind helper failed (are valgrind's headers installed?): "
                                f"{done.stderr.strip()[-300:]}")
    return library


def counted(out_file: Path) -> int:
    """The instruction count of the part the helper dumped (its trigger names LABEL). callgrind
    writes a dump made on request to `<out_file>.<n>` and the one at exit to `out_file`."""
    count = None
    for part in sorted(out_file.parent.glob(out_file.name + "*")):
        trigger = ""
        for line in part.read_text(errors="replace").splitlines():
            if line.startswith("desc: Trigger:"):
                trigger = line
            elif line.startswith("summary:") and LABEL in trigger:
                count = int(line.split()[1])
    if count is None:
        raise InstructionsError(f"{out_file}: no dump labelled {LABEL} (did the command run?)")
    return count


def _setup_and_command(args: argparse.Namespace) -> Any:
    """In the child: prepare what the scenario's cache holds, and return the command to count."""
    from benchmarks import measure

    repo, schema, cache, out = Path(args.repo), Path(args.as3_schema), Path(args.cache), Path(args.out)
    if args.scenario == "render":
        return lambda: measure.render_cli(repo, out, schema)
    if args.scenario == "diff":
        return lambda: measure.diff_cli(repo, args.base, args.head)
    if args.scenario == "pr":
        measure.warm_cache(repo, args.base, cache, memo=True)
        return lambda: measure.diff_cli(repo, args.base, args.head, cache)
    if args.scenario == "pr-both":
        measure.warm_cache(repo, args.base, cache, memo=True, schema=schema)
        measure.render_cli(repo, out, schema, cache)
        return lambda: measure.diff_cli(repo, args.base, args.head, cache)
    if args.scenario == "rerender":
        measure.warm_cache(repo, args.base, cache, memo=True, schema=schema)
        return lambda: measure.render_cli(repo, out, schema, cache)
    from renderer.render import render
    from renderer.validate import As3Validator, validate_result

    validator = As3Validator.from_path(schema)
    result = render(repo, args.head, memo=False)
    validate_result(result, validator)  # compiled once, as the benchmark's row finds it
    return lambda: validate_result(result, validator)


def _child(args: argparse.Namespace) -> int:
    command = _setup_and_command(args)
    command()  # the command's own imports and compiled templates, as the benchmark's process has them
    if args.scenario in ("pr", "pr-both", "rerender"):
        command = _setup_and_command(args)  # and the cache again as the scenario wants it
    helper = ctypes.CDLL(args.helper)
    helper.as3_gitops_start()
    command()
    helper.as3_gitops_stop()
    return 0


def _prepare(work: Path, size: int) -> tuple[Path, str, str]:
    from benchmarks.run import _prepare as prepare

    prep = prepare(work, size)
    return prep["repo"], prep["base"], prep["head"]


def count(size: int, scenario: str, schema: Path, work: Path, repeat: int = 1) -> list[int]:
    """The scenario's instruction count at `size`, once per repetition (each in a new valgrind child)."""
    if shutil.which("valgrind") is None:
        raise InstructionsError("valgrind not on PATH (Debian: apt-get install valgrind)")
    helper = build_helper(work)
    repo, base, head = _prepare(work, size)
    counts = []
    for i in range(repeat):
        out_file = work / f"callgrind-{scenario}-{i}.out"
        for stale in work.glob(out_file.name + "*"):  # an earlier run's dumps in a kept --work folder
            stale.unlink()
        cache, out = work / f"cache-{i}", work / f"out-{i}"
        shutil.rmtree(cache, ignore_errors=True)
        child = [sys.executable, "-m", "benchmarks.instructions", "--child", "--scenario", scenario,
                 "--repo", str(repo), "--base", base, "--head", head, "--as3-schema", str(schema),
                 "--cache", str(cache), "--out", str(out), "--helper", str(helper)]
        env = {**os.environ, "PYTHONHASHSEED": "0"}  # one iteration order of sets and dicts of strings
        done = subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
                               "--dump-line=no", f"--callgrind-out-file={out_file}", *child],
                              capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parent.parent,
                              check=False)
        if done.returncode != 0:
            raise InstructionsError(f"the counted run failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")
        counts.append(counted(out_file))
    return counts


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from benchmarks.run import DEFAULT_SCHEMA

    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000, help="Ingresses of the synthetic repository (default 1000)")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="pr",
                        help="; ".join(f"{k}: {v}" for k, v in SCENARIOS.items()))
    parser.add_argument("--repeat", type=int, default=1, help="counted runs, each in a new process (default 1)")
    parser.add_argument("--as3-schema", type=Path, default=Path(os.environ.get("AS3_SCHEMA") or DEFAULT_SCHEMA))
    parser.add_argument("--work", type=Path, default=None, help="keep the repository and callgrind files here")
    for hidden in ("--repo", "--base", "--head", "--cache", "--out", "--helper"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
        if args.child:
            return _child(args)
        if args.size < 3 or args.repeat < 1:
            raise InstructionsError("--size must be at least 3 and --repeat at least 1")
        if not args.as3_schema.is_file():
            raise InstructionsError(f"{args.as3_schema}: AS3 schema not found (set AS3_SCHEMA or pass --as3-schema)")
        with tempfile.TemporaryDirectory(prefix="as3-gitops-instructions-") as tmp:
            work = args.work or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            counts = count(args.size, args.scenario, args.as3_schema.resolve(), work.resolve(), args.repeat)
    except InstructionsError as err:
        print(f"instructions: error: {err}", file=sys.stderr)
        return 2
    spread = (max(counts) - min(counts)) / min(counts) * 100 if len(counts) > 1 else 0.0
    print(f"{args.scenario} at {args.size}: {' '.join(f'{c:,}' for c in counts)} instructions"
          + (f" (spread {spread:.3f}%)" if len(counts) > 1 else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
