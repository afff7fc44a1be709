"""The individual measurements. Each returns plain data; run.py repeats, interleaves and reports them.

Times are taken twice: wall clock (what a user waits) and CPU time of this process plus its
finished children (what the code costs, and much less disturbed by other work on a busy machine).
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[Sample, Any]:
    """Run fn once after a full collection (so earlier garbage is not billed to it)."""
    gc.collect()
    cpu0, wall0 = _cpu(), time.perf_counter()
    value = fn()
    return Sample(time.perf_counter() - wall0, _cpu() - cpu0), value


@contextlib.contextmanager
def captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """The CLI writes to sys.stdout/sys.stderr; keep its output out of the benchmark table."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        yield out, err
    finally:
        sys.stdout, sys.stderr = saved


# -- floor -------------------------------------------------------------------------------------------
def parse_files(files: list[Path]) -> list[Any]:
    """PyYAML's C loader over exactly the files the renderer reads: the floor's parse half."""
    docs: list[Any] = []
    for path in files:
        docs.extend(yaml.load_all(path.read_bytes().decode("utf-8"), Loader=yaml.CSafeLoader))
    return docs


def floor(files: list[Path], as3: dict[str, Any], net: dict[str, Any]) -> tuple[int, int]:
    """Parse + json.dumps of the rendered result (as the files render writes: sorted, indented)."""
    docs = parse_files(files)
    text = json.dumps(as3, indent=2, sort_keys=True) + json.dumps(net, indent=2, sort_keys=True)
    return len(docs), len(text)


# -- render, validate, diff --------------------------------------------------------------------------
def render_cli(repo: Path, out_dir: Path, schema: Path, cache_dir: Path | None = None) -> int:
    """`as3-gitops render REPO -o OUT --as3-schema S` in this process (no interpreter start);
    cold (`--no-cache`) unless `cache_dir` is given."""
    from renderer.cli import main

    cache = ["--cache-dir", str(cache_dir)] if cache_dir is not None else ["--no-cache"]
    with captured() as (_out, err):
        code = main(["render", str(repo), "-o", str(out_dir), "--as3-schema", str(schema), "--format", "text",
                     *cache])
    if code != 0:
        raise RuntimeError(f"render exited {code}: {err.getvalue()[-2000:]}")
    return code


def render_stages(repo: Path, schema: Path) -> tuple[dict[str, Sample], Any]:
    """The render CLI's steps timed one by one: render(), validation, JSON output."""
    from renderer.render import render
    from renderer.source import dump_json
    from renderer.validate import ValidatorCache, validate_rendered

    stages: dict[str, Sample] = {}
    stages["render() library"], result = timed(lambda: render(repo))
    cache = ValidatorCache()
    stages["validator load+compile"], _ = timed(lambda: cache.get(schema))
    stages["validate (jsonschema-rs + AS3 checks)"], findings = timed(
        lambda: validate_rendered(result, repo=repo, as3_schema=str(schema), cache=cache))
    if any(f.is_error for f in findings):
        raise RuntimeError(f"generated repository does not validate: {findings[0]}")
    stages["dump_json (orjson)"], _ = timed(lambda: (dump_json(result.as3), dump_json(result.net)))
    return stages, result


def stdlib_dump(data: Any) -> bytes:
    """What render would write with the standard library (ensure_ascii off: orjson writes UTF-8)."""
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def orjson_dump(data: Any) -> bytes:
    from renderer.source import dump_json

    return dump_json(data)


def validators(schema: Path) -> tuple[Any, Any]:
    """Our AS3 validator, and python-jsonschema's Draft7Validator for #/definitions/ADC with the same formats."""
    import jsonschema

    from renderer.validate import As3Validator
    from renderer.validate.formats import FORMATS

    ours = As3Validator.from_path(schema)
    checker = jsonschema.FormatChecker()
    for name, check in FORMATS.items():
        checker.checks(name)(check)
    wrapper = {"$ref": "#/definitions/ADC", "definitions": ours.definitions}
    return ours, jsonschema.Draft7Validator(wrapper, format_checker=checker)


def diff_cli(repo: Path, base: str, head: str, cache_dir: Path | None = None) -> str:
    """`as3-gitops diff REPO --base B --head H` in this process; returns the text diff. Without the
    disk cache unless `cache_dir` is given."""
    from renderer.cli.diff import DiffOptions, run

    out, err = io.StringIO(), io.StringIO()
    code = run(DiffOptions(repo, base, head, "text", False, 60000, None, None, no_cache=cache_dir is None,
                           cache_dir=cache_dir), out, err)
    if code != 0:
        raise RuntimeError(f"diff exited {code}: {err.getvalue()[-2000:]}")
    return out.getvalue()


# -- peak RSS in fresh processes ---------------------------------------------------------------------
_RSS_SCRIPTS = {
    "interpreter + renderer imports": """
import renderer.cli, renderer.render, renderer.validate
""",
    "holding the parsed documents": """
import yaml
from pathlib import Path
files = [Path(p) for p in FILES]
docs = []
for path in files:
    docs.extend(yaml.load_all(path.read_bytes().decode("utf-8"), Loader=yaml.CSafeLoader))
""",
    "render CLI (render + validate + write)": """
import io, sys
from renderer.cli import main
sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
code = main(["render", REPO, "-o", OUT, "--as3-schema", SCHEMA, "--no-cache"])
sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
assert code == 0, code
""",
}


# VmHWM is the high-water mark of this process's own memory map. getrusage's ru_maxrss is not used:
# Linux carries the pre-exec high-water mark over execve, so a child started by this (large)
# process would report the parent's peak.
_PEAK = """
import resource
peak = None
try:
    with open("/proc/self/status") as fh:
        peak = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak)
"""


def peak_rss(what: str, repo: Path, files: list[Path], schema: Path) -> int:
    """Peak RSS (bytes) of a fresh Python process doing `what` (VmHWM, KiB)."""
    with tempfile.TemporaryDirectory(prefix="bench-rss-") as tmp:
        prelude = (f"REPO = {str(repo)!r}\nOUT = {tmp!r}\nSCHEMA = {str(schema)!r}\n"
                   f"FILES = {[str(f) for f in files]!r}\n")
        tail = _PEAK
        code = prelude + _RSS_SCRIPTS[what] + tail
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                              cwd=os.getcwd())
        if proc.returncode != 0:
            raise RuntimeError(f"peak RSS run {what!r} failed: {proc.stderr[-2000:]}")
        return int(proc.stdout.strip().splitlines()[-1]) * 1024


RSS_RUNS = tuple(_RSS_SCRIPTS)


def warm_cache(repo: Path, ref: str, cache_dir: Path, memo: bool = False, schema: Path | None = None) -> None:
    """A fresh cache holding what a run on `ref` leaves behind (the PR case: main was rendered
    before, the pull request changes a few files): its parses, with `memo` the whole render
    (`renderer.render_memo`), and with `schema` every tenant's validation verdict, as deploy.yml's
    validate and deploy steps on main leave them."""
    import shutil

    from renderer.cache import DiskCache
    from renderer.render import render
    from renderer.source import ParseCache

    shutil.rmtree(cache_dir, ignore_errors=True)
    disk = DiskCache(cache_dir)
    result = render(repo, ref, cache=ParseCache(disk, remember=False), memo=memo)
    if not result.ok:
        raise RuntimeError(f"render of {ref} failed: {result.findings[:3]}")
    if schema is not None:
        from renderer.validate.result import validate_rendered

        findings = validate_rendered(result, repo=repo, as3_schema=str(schema), disk=disk)
        if any(f.is_error for f in findings):
            raise RuntimeError(f"validation of {ref} failed: {findings[:3]}")
    # What this process keeps of that render (the tenants' keys, holding the declaration alive)
    # would be freed inside the next timed command; the run on `ref` was another process.
    from renderer.emit_reuse import forget_keys

    forget_keys()
