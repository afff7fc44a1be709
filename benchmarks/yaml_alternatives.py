"""Could a faster YAML parser replace PyYAML's C loader? Speed and, first, identical objects.

Run it in any environment that has PyYAML and the candidates (they are not project dependencies):

    python -m venv /tmp/yamlalt && /tmp/yamlalt/bin/pip install pyyaml yaml-rs rapidyaml
    PYTHONPATH=. /tmp/yamlalt/bin/python benchmarks/yaml_alternatives.py tests examples BENCH_REPO

The reference is `renderer.source.KubeLoader` (YAML 1.1 as Kubernetes reads it). A candidate is
acceptable only with zero differences on every file given and on the YAML 1.1 scalar cases below.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import yaml

from renderer.source import KubeLoader

# Scalars whose YAML 1.1 meaning (what Kubernetes' decoder and PyYAML use) differs from YAML 1.2's.
SCALAR_CASES = """\
yes_: yes
no_: no
on_: on
off_: off
y_: y
true_title: True
octal: 0755
octal12: 0o755
hex: 0x1F
underscore: 1_000
sexagesimal: 1:30
float_exp: 1e3
inf: .inf
tilde: ~
empty:
date: 2001-12-14
timestamp: 2001-12-14t21:59:43.10-05:00
dup: first
dup: last
"""


def reference(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=KubeLoader))


def _yaml_rs(text: str) -> list[Any]:
    """yaml-rs returns one object for one document and a list for several: a one-document list and
    a stream of documents look alike, so the stream is split on document markers first."""
    import yaml_rs

    policy = yaml_rs.DuplicateKeyPolicy.LastWins
    docs = [yaml_rs.loads(part, parse_datetime=False, duplicate_key_policy=policy)
            for part in _split_documents(text)]
    return [d for d in docs if d is not None]


def _split_documents(text: str) -> list[str]:
    """Split a stream at `---` lines (enough for manifests: no `---` inside block scalars here)."""
    parts, current = [], []
    for line in text.splitlines(keepends=True):
        if line.rstrip() == "---" or line.startswith("--- "):
            parts.append("".join(current))
            current = [line[4:]] if line.startswith("--- ") else []
        else:
            current.append(line)
    parts.append("".join(current))
    return parts


CANDIDATES = {"yaml-rs": _yaml_rs}
MODULES = {"yaml-rs": "yaml_rs"}  # what each candidate imports; a missing one is skipped, with a note


def same(a: Any, b: Any) -> bool:
    """Equal including types (True != 1, 1 != 1.0, '1' != 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def corpus(roots: list[str]) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        path = Path(root)
        files += [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
    return files


def compare(files: list[Path]) -> None:
    texts = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
            want = [d for d in reference(text) if d is not None]
        except (UnicodeDecodeError, yaml.YAMLError):
            continue  # files PyYAML rejects are error-path cases, not parse-speed cases
        texts.append((path, text, want))
    print(f"{len(texts)} files PyYAML parses; scalar cases: {len(SCALAR_CASES.splitlines())} lines")
    import importlib.util

    for name, parse in CANDIDATES.items():
        if importlib.util.find_spec(MODULES[name]) is None:
            print(f"{name}: not installed (pip install {name}); skipped")
            continue
        differing, failing = [], []
        for path, text, want in texts:
            try:
                got = parse(text)
            except Exception as err:  # a candidate's own error types: recorded, not raised
                failing.append(f"{path}: {type(err).__name__}: {str(err)[:80]}")
                continue
            if not same(want, got):
                differing.append(str(path))
        scalar_want, scalar_got = reference(SCALAR_CASES)[0], parse(SCALAR_CASES)[0]
        scalar_diff = {k: (scalar_want[k], scalar_got.get(k) if isinstance(scalar_got, dict) else None)
                       for k in scalar_want if not isinstance(scalar_got, dict) or not same(scalar_want[k],
                                                                                            scalar_got.get(k))}
        t0 = time.process_time()
        for _path, text, _want in texts:
            reference(text)
        t_ref = time.process_time() - t0
        t0 = time.process_time()
        for _path, text, _want in texts:
            try:
                parse(text)
            except Exception:  # a candidate that failed above is timed on the files it takes
                continue
        t_cand = time.process_time() - t0
        print(f"{name}: {len(differing)} files differ, {len(failing)} fail, scalar differences: {scalar_diff}")
        print(f"  time: PyYAML CSafeLoader {t_ref:.2f} s cpu, {name} {t_cand:.2f} s cpu")
        for line in (differing[:5] + failing[:5]):
            print(f"  e.g. {line}")


if __name__ == "__main__":
    compare(corpus(sys.argv[1:] or ["tests", "examples"]))
