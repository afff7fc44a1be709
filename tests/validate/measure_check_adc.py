"""Measure As3Validator.check_adc on the benchmark declaration, now and at a git revision.

Not a test (pytest does not collect it): a reproducible measurement for BENCHMARKS.md.

    /work/venv/bin/python tests/validate/measure_check_adc.py --size 1000 --baseline cc2f48d

Generates the synthetic repository (benchmarks/generate.py), renders it once, writes the ADC to
a temporary file, then times check_adc in a fresh process per code tree (this checkout and
`git archive <baseline> renderer`), each run on a fresh validator (nothing cached), CPU seconds,
median of --repeat runs. Also prints a digest of everything check_adc returns (the filled
declaration as sorted-key orjson bytes, the errors) and of the pointer sites, so the trees can
be compared for identical results.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SCHEMA = REPO.parent / "shared" / "reference" / "as3-schema" / "as3-schema.json"

# Runs inside the child process: PYTHONPATH decides which `renderer` is imported.
CHILD = r"""
import gc, hashlib, json, statistics, sys, time
import orjson
from renderer.validate.as3 import As3Validator
schema_path, adc_path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
adc = orjson.loads(open(adc_path, "rb").read())
times, verdicts = [], []
for _ in range(repeat):
    validator = As3Validator.from_path(schema_path)
    gc.collect()
    start = time.process_time()
    check = validator.check_adc(adc)
    times.append(time.process_time() - start)
start = time.process_time()
validator._verdict("ADC", check.filled)
verdict = time.process_time() - start
warm = []  # body_errors on a warm validator: what `validate` costs per declaration in one process
for _ in range(repeat):
    gc.collect()
    start = time.process_time()
    validator.body_errors(adc)
    warm.append(time.process_time() - start)
filled = orjson.dumps(check.filled, option=orjson.OPT_SORT_KEYS)
errors = json.dumps([[e.pointer, e.keyword, e.message] for e in check.errors])
fresh = As3Validator.from_path(schema_path)
copy = orjson.loads(orjson.dumps(adc))
filler = getattr(fresh, "filler", None)
sites = filler.fill(fresh.definitions["ADC"], copy) if filler else fresh.ajv.fill_defaults(fresh.definitions["ADC"], copy)
site_text = json.dumps([[s.pointer, s.value if isinstance(s.value, str) else None,
                         json.dumps(s.target_schema, sort_keys=True)] for s in sites])
print(json.dumps({
    "check_adc_s": statistics.median(times), "runs": times, "verdict_s": verdict,
    "body_errors_warm_s": statistics.median(warm),
    "filled_bytes": len(filled), "filled_sha256": hashlib.sha256(filled).hexdigest(),
    "errors": len(check.errors), "errors_sha256": hashlib.sha256(errors.encode()).hexdigest(),
    "sites": len(sites), "sites_sha256": hashlib.sha256(site_text.encode()).hexdigest(),
}))
"""


def _render_adc(size: int, work: Path) -> Path:
    sys.path.insert(0, str(REPO))
    import orjson

    from benchmarks.generate import generate
    from renderer.render import render

    repo = work / "repo"
    generate(repo, size)
    result = render(str(repo))
    path = work / f"adc-{size}.json"
    path.write_bytes(orjson.dumps(result.adc))
    return path


def _tree_at(revision: str, work: Path) -> Path:
    """`renderer/` as of `revision`, unpacked into work/<revision>/."""
    target = work / revision
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision, "renderer"],
                             check=True, capture_output=True).stdout
    target.mkdir()
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def _measure(tree: Path, schema: Path, adc: Path, repeat: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(schema), str(adc), str(repeat)],
                         check=True, capture_output=True, text=True, env=env, cwd=tree).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000, help="Ingress count (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tree; the median is reported")
    parser.add_argument("--baseline", default=None, help="git revision to compare with (e.g. cc2f48d)")
    parser.add_argument("--as3-schema", type=Path, default=Path(os.environ.get("AS3_SCHEMA") or DEFAULT_SCHEMA))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        adc = _render_adc(args.size, work)
        print(f"ADC for {args.size} Ingresses: {adc.stat().st_size} bytes")
        rows = {"this checkout": _measure(REPO, args.as3_schema, adc, args.repeat)}
        if args.baseline:
            rows[args.baseline] = _measure(_tree_at(args.baseline, work), args.as3_schema, adc, args.repeat)
    for name, row in rows.items():
        print(f"{name:>15}: check_adc {row['check_adc_s']:.3f} s (runs {', '.join(f'{t:.3f}' for t in row['runs'])}),"
              f" body_errors (warm) {row['body_errors_warm_s']:.3f} s,"
              f" jsonschema-rs verdict {row['verdict_s']:.3f} s, filled {row['filled_bytes']} bytes"
              f" sha256 {row['filled_sha256'][:16]}, errors {row['errors']} sha256 {row['errors_sha256'][:16]},"
              f" sites {row['sites']} sha256 {row['sites_sha256'][:16]}")
    if args.baseline:
        now, then = rows["this checkout"], rows[args.baseline]
        same = all(now[k] == then[k] for k in ("filled_sha256", "errors_sha256", "sites_sha256"))
        print(f"speed-up {then['check_adc_s'] / now['check_adc_s']:.1f} x; results identical: {same}")


if __name__ == "__main__":
    main()
