"""`python -m benchmarks`: generate the synthetic repositories, measure, print a table, write results.json.

All measurements of one invocation run in one process (peak RSS in fresh child processes), and the
repetitions are interleaved (floor, render, diff, validate; floor, render, ...), so a burst of
other work on the machine hits every metric alike and the ratios hold.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import measure
from benchmarks.checks import count_mismatches, diff_problems
from benchmarks.generate import MIXES, apply_change, commit_all, generate, git, manifest_files
from benchmarks.report import (
    DIFF_WARM,
    PR_BOTH,
    PR_WARM,
    RENDER_MEMO,
    RENDER_PR_WARM,
    RENDER_WARM,
    Results,
    machine,
    print_table,
    write_results,
)

HERE = Path(__file__).resolve().parent
DEFAULT_SCHEMA = HERE.parent.parent / "shared" / "reference" / "as3-schema" / "as3-schema.json"
PY_JSONSCHEMA_MAX = 1000  # python-jsonschema takes seconds per 1,000 applications: only the small sizes


class BenchmarkError(Exception):
    """The benchmark cannot produce meaningful numbers (bad option, broken render)."""


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(s) for s in text.split(",") if s.strip()})
    except ValueError:
        raise BenchmarkError(f"--sizes {text!r}: expected numbers separated by commas") from None
    if not sizes or sizes[0] < 3:
        raise BenchmarkError("--sizes: every size must be at least 3")
    return sizes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="Ingress counts, comma separated (default 1000,10000)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per timing; the median is reported")
    # Not the tracked benchmarks/results.json: a trial run must not overwrite the recorded figures.
    parser.add_argument("--output", type=Path, default=Path("out") / "benchmark-results.json",
                        help="where to write the results (default out/benchmark-results.json)")
    parser.add_argument("--as3-schema", type=Path, default=Path(os.environ.get("AS3_SCHEMA") or DEFAULT_SCHEMA),
                        help="the official AS3 schema (default: $AS3_SCHEMA, else shared/reference)")
    parser.add_argument("--work", type=Path, default=None, help="keep the generated repositories in this folder")
    parser.add_argument("--profile", type=Path, default=None,
                        help="also write cProfile statistics of render and diff at the largest size here")
    parser.add_argument("--no-deploy", action="store_true", help="skip the deploy measurement")
    parser.add_argument("--mix", choices=MIXES, default="ingress",
                        help="ingress: Ingresses only (default); crd: 30%% CIS VirtualServers, 10%% TransportServers; "
                        "all: crd plus 10%% OpenShift Routes, 10%% AS3 ConfigMap Applications")
    parser.add_argument("--no-watch", action="store_true", help="skip the snapshot-watch lag measurement")
    return parser.parse_args(argv)


def _prepare(work: Path, size: int, mix: str = "ingress") -> dict[str, Any]:
    repo = work / f"repo-{size}"
    if repo.exists():
        shutil.rmtree(repo)
    sample, exp = measure.timed(lambda: generate(repo, size, mix))
    base = commit_all(repo, f"{size} Ingresses")
    change = apply_change(repo, size)
    head = commit_all(repo, "one annotation, one pod")
    files = manifest_files(repo)
    return {"repo": repo, "expected": exp, "base": base, "head": head, "change": change, "files": files,
            "generate_s": sample.wall, "bytes": sum(f.stat().st_size for f in files)}


def measure_size(size: int, work: Path, schema: Path, repeat: int, results: Results, mix: str = "ingress") -> None:
    prep = _prepare(work, size, mix)
    repo, files, exp = prep["repo"], prep["files"], prep["expected"]
    out_dir = work / f"out-{size}"
    stages, result = measure.render_stages(repo, schema)  # also the warm-up (imports, template compile)
    problems = count_mismatches(exp, result.as3, result.net)
    if problems:
        raise BenchmarkError(f"size {size}: the render does not match the generator: {'; '.join(problems)}")
    ours, python_validator = measure.validators(schema)
    adc = result.as3["declaration"]
    filled = ours.check_adc(adc).filled
    from renderer.validate import validate_result

    rows: dict[str, list[measure.Sample]] = {}
    cache_dir = work / f"cache-{size}"  # the warm rows' parse cache (never the user's)

    def add(name: str, fn: Any) -> Any:
        sample, value = measure.timed(fn)
        rows.setdefault(name, []).append(sample)
        return value

    for _ in range(repeat):
        add("floor: CSafeLoader parse + json.dumps", lambda: measure.floor(files, result.as3, result.net))
        add("render (CLI: render, validate, write)", lambda: measure.render_cli(repo, out_dir, schema))  # cold
        text = add("diff (CLI, two commits)", lambda: measure.diff_cli(repo, prep["base"], prep["head"]))
        issues = diff_problems(text, prep["change"])
        if issues:
            raise BenchmarkError(f"size {size}: {'; '.join(issues)}")
        measure.warm_cache(repo, prep["base"], cache_dir)  # not timed: the parses an earlier run left
        warm = add(DIFF_WARM, lambda: measure.diff_cli(repo, prep["base"], prep["head"], cache_dir))
        if warm != text:
            raise BenchmarkError(f"size {size}: the diff with the parse cache differs from the one without")
        measure.warm_cache(repo, prep["head"], cache_dir)  # every file parsed, no whole render kept
        add(RENDER_WARM, lambda: measure.render_cli(repo, out_dir, schema, cache_dir))
        measure.warm_cache(repo, prep["base"], cache_dir, memo=True)  # main's run left its render
        warm = add(PR_WARM, lambda: measure.diff_cli(repo, prep["base"], prep["head"], cache_dir))
        if warm != text:
            raise BenchmarkError(f"size {size}: the diff with the render memo differs from the one without")
        measure.warm_cache(repo, prep["base"], cache_dir, memo=True, schema=schema)  # deploy.yml validates
        add(RENDER_PR_WARM, lambda: measure.render_cli(repo, out_dir, schema, cache_dir))
        add(RENDER_MEMO, lambda: measure.render_cli(repo, out_dir, schema, cache_dir))
        warm = add(PR_BOTH, lambda: measure.diff_cli(repo, prep["base"], prep["head"], cache_dir))
        if warm != text:
            raise BenchmarkError(f"size {size}: the diff from two cached renders differs from the one without")
        add("validate: jsonschema-rs verdict only", lambda: ours._verdict("ADC", filled))
        if size <= PY_JSONSCHEMA_MAX:  # larger sizes: our validate is in the render stages, measured once
            findings = add("validate: ours (AS3-exact, official schema)", lambda: validate_result(result, ours))
            if any(f.is_error for f in findings):
                raise BenchmarkError(f"size {size}: validation failed: {findings[0]}")
            valid = add("validate: python jsonschema Draft7Validator", lambda: python_validator.is_valid(filled))
            if not valid:
                raise BenchmarkError(f"size {size}: python jsonschema rejects what jsonschema-rs accepts")
        add("output: json.dumps(indent=2, sort_keys=True)", lambda: measure.stdlib_dump(result.as3))
        add("output: orjson (dump_json)", lambda: measure.orjson_dump(result.as3))
    identical = measure.stdlib_dump(result.as3) == measure.orjson_dump(result.as3)
    rss = {what: measure.peak_rss(what, repo, files, schema) for what in measure.RSS_RUNS}
    results.add_size(size, prep, stages, rows, rss, identical, result)


def profile(work: Path, size: int, schema: Path, folder: Path) -> dict[str, str]:
    """cProfile of one render CLI run and one diff run; writes .pstats and the top functions as text."""
    folder.mkdir(parents=True, exist_ok=True)
    repo = work / f"repo-{size}"
    base, head = git(repo, "rev-parse", "HEAD~1"), git(repo, "rev-parse", "HEAD")
    written = {}
    for name, fn in (("render", lambda: measure.render_cli(repo, work / "out-profile", schema)),
                     ("diff", lambda: measure.diff_cli(repo, base, head))):
        prof = cProfile.Profile()
        prof.runcall(fn)
        stats_path = folder / f"{name}-{size}.pstats"
        prof.dump_stats(stats_path)
        text = io.StringIO()
        stats = pstats.Stats(prof, stream=text)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
        (folder / f"{name}-{size}.txt").write_text(text.getvalue())
        written[name] = str(stats_path)
    return written


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
        sizes = _sizes(args.sizes)
        if args.repeat < 1:
            raise BenchmarkError("--repeat must be at least 1")
        schema = args.as3_schema
        if not schema.is_file():
            raise BenchmarkError(f"{schema}: AS3 schema not found (set AS3_SCHEMA or pass --as3-schema)")
        started = time.perf_counter()
        command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
        results = Results(machine(), command.strip(), args.repeat)
        with tempfile.TemporaryDirectory(prefix="as3-gitops-bench-") as tmp:
            work = args.work or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            for size in sizes:
                print(f"size {size}: generating and measuring ({args.repeat} repetitions)...", file=sys.stderr)
                measure_size(size, work, schema, args.repeat, results, args.mix)
            if not args.no_deploy:
                print("deploy: one-endpoint change against the emulator...", file=sys.stderr)
                from benchmarks.deploy import measure_deploy

                results.deploy = measure_deploy(work, schema)
            if not args.no_watch:
                print("watch: rollout lag, API event to verified device state...", file=sys.stderr)
                from benchmarks.watch import measure_watch

                results.watch = measure_watch(work)
            if args.profile is not None:
                print(f"profiling render and diff at size {sizes[-1]}...", file=sys.stderr)
                results.profiles = profile(work, sizes[-1], schema, args.profile)
        results.total_s = time.perf_counter() - started
        results.finish()
        print_table(results, sys.stdout)
        write_results(results, args.output)
        print(f"wrote {args.output}", file=sys.stderr)
    except BenchmarkError as err:
        print(f"benchmark: error: {err}", file=sys.stderr)
        return 2
    return 0
