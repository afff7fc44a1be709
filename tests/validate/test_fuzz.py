"""Property: whatever happens to the manifests, validate never crashes, exits 0 or 2, and every
error names a file. Mutations: delete keys, swap types, random annotation strings, truncation,
binary garbage, huge values, deep nesting. Runs the CLI in-process (renderer.cli.main); 400 examples
in the suite's hypothesis profile, 4,000 in the deep one (tests/conftest.py), or
AS3_GITOPS_FUZZ_EXAMPLES; derandomized so CI runs are reproducible.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from fuzz_budget import fuzz_examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renderer.cli import main

from .conftest import HELLO_WORLD, json_paths, schema_path

EXAMPLES = fuzz_examples("AS3_GITOPS_FUZZ_EXAMPLES", 4)
FILES = sorted(p.relative_to(HELLO_WORLD).as_posix() for p in HELLO_WORLD.rglob("*.yaml"))
ORIGINALS = {rel: (HELLO_WORLD / rel).read_bytes() for rel in FILES}




def _replace(node: Any, path: tuple, value: Any, delete: bool = False) -> None:
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value


NEST_MARK = "__deeply_nested__"


def _nest(depth: int) -> str:
    """Flow-style YAML nested `depth` levels deep (built as text: dumpers recurse)."""
    return '{"a": [' * depth + '"x"' + "]}" * depth


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True),
    st.text(max_size=40), st.just("x" * 100_000), st.just("192.168.1.999"), st.just("-1"),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
ANNOTATION_KEYS = st.sampled_from([
    "virtual-server.f5.com/ip", "virtual-server.f5.com/http-port", "virtual-server.f5.com/balance",
    "virtual-server.f5.com/health", "virtual-server.f5.com/partition", "virtual-server.f5.com/ballance",
    "virtual-server.f5.com/https-port", "virtual-server.f5.com/rewrite-target-url", "kubernetes.io/ingress.class",
])


@st.composite
def mutation(draw: st.DrawFn) -> tuple[str, bytes]:
    """(file, new content) for one file of hello-world."""
    rel = draw(st.sampled_from(FILES))
    raw = ORIGINALS[rel]
    kind = draw(st.sampled_from(["delete", "swap", "annotation", "truncate", "garbage", "huge", "nest"]))
    if kind == "truncate":
        return rel, raw[: draw(st.integers(0, len(raw)))]
    if kind == "garbage":
        at = draw(st.integers(0, len(raw)))
        return rel, raw[:at] + draw(st.binary(min_size=1, max_size=64)) + raw[at:]
    docs = [d for d in yaml.load_all(raw, Loader=yaml.CSafeLoader) if d is not None]
    index = draw(st.integers(0, len(docs) - 1))
    doc = docs[index]
    paths = json_paths(doc)
    if kind == "annotation":
        meta = doc.setdefault("metadata", {})
        notes = meta.setdefault("annotations", {}) if isinstance(meta, dict) else {}
        if isinstance(notes, dict):
            notes[draw(ANNOTATION_KEYS)] = draw(st.one_of(st.text(max_size=60), st.just('[{"interval": "x"}]')))
    elif kind == "nest":
        _replace(doc, draw(st.sampled_from(paths)), NEST_MARK)
    elif kind == "huge":
        _replace(doc, draw(st.sampled_from(paths)), draw(st.sampled_from([10**30, "9" * 5000, -(10**30), 1e308])))
    else:
        path = draw(st.sampled_from(paths))
        _replace(doc, path, draw(SCALARS), delete=(kind == "delete"))
    text = yaml.dump_all(docs, Dumper=yaml.CSafeDumper, sort_keys=False, width=1_000_000)
    if kind == "nest":
        text = text.replace(NEST_MARK, _nest(draw(st.integers(50, 3000))), 1)
    return rel, text.encode()


@pytest.fixture(scope="module")
def fuzz_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not schema_path().is_file():
        pytest.skip(f"official AS3 schema not found at {schema_path()} (set AS3_SCHEMA)")
    repo = tmp_path_factory.mktemp("fuzz") / "repo"
    shutil.copytree(HELLO_WORLD, repo)
    return repo


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(change=mutation())
def test_mutated_manifests_never_crash_validate(fuzz_repo: Path, change: tuple[str, bytes],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AS3_SCHEMA", str(schema_path()))
    rel, content = change
    for name, original in ORIGINALS.items():
        (fuzz_repo / name).write_bytes(content if name == rel else original)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(fuzz_repo), "--format", "json"])
    assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue(), err.getvalue()
    assert code in (0, 2), (code, err.getvalue())
    findings = json.loads(out.getvalue())
    errors = [f for f in findings if f["severity"] == "error"]
    assert (code == 2) == bool(errors)
    assert all(f["file"] for f in errors), errors
