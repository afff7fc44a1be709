"""The lean YAML constructor (renderer/yaml_loader.py) gives exactly what PyYAML's generic one gives.

Every comparison loads the same text twice, once with `lean` off (SafeConstructor's machinery, as
before) and once with it on, and compares `repr` of the results (so `True` and `1`, `1` and `1.0`
differ) and the error raised, message and position included.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_data import SHARED

from renderer.source import parse_file
from renderer.yaml_loader import KubeLoader


def _load(text: str, lean: bool) -> tuple[str, str | None, list]:
    loader = KubeLoader(text)
    loader.duplicate_keys = []
    loader.lean = lean
    docs = []
    error = None
    try:
        while loader.check_node():
            docs.append(loader.construct_document(loader.get_node()))
    except (yaml.YAMLError, ValueError, RecursionError) as err:
        error = f"{type(err).__name__}: {err}"
    finally:
        loader.dispose()
    return repr(docs), error, [(repr(k), str(a), str(b)) for k, a, b in loader.duplicate_keys]


def _same(text: str) -> None:
    assert _load(text, True) == _load(text, False)


CASES = [
    "a: 1\nb: 1.5\nc: true\nd: ~\ne: null\nf: ''\ng: \"1\"\nh: yes\ni: off\nj: 0755\nk: 0x1F\nl: 1_000\nm: 1:30\n",
    "n: .inf\no: -.Inf\np: .nan\nq: 1e3\nr: 6.8523015e+5\ns: 2001-12-14t21:59:43.10-05:00\nt: 2002-12-14\n",
    "- 1\n- [a, b, {c: d}]\n- {}\n- []\n-\n- - nested\n",
    "1: int key\n2.5: float key\ntrue: bool key\n~: null key\n",
    "a: 1\na: 2\n",  # duplicate keys: recorded by the generic path
    "outer: {x: 1, x: 2}\nother: [ {y: 1}, {y: 2, y: 3} ]\n",
    "base: &b {x: 1}\nuse: *b\nmerged:\n  <<: *b\n  y: 2\n",  # anchors, alias, merge
    "<<: {a: 1}\nb: 2\n",  # a merge key without an anchor
    "? [a, b]\n: unhashable\n",
    "? {a: 1}\n: unhashable\n",
    "a: !!str 12\nb: !!int '7'\nc: !!float '1'\nd: !!binary aGVsbG8=\ne: !!timestamp 2001-12-14\n",
    "a: !custom x\n",
    "a: !!set {x, y}\nb: !!omap [{a: 1}]\nc: !!pairs [{a: 1}]\n",
    "=: value key\n",
    "a: 1\n---\n---\nb: 2\n...\n",
    "a: 9" + "9" * 5000 + "\n",  # beyond Python's int conversion limit: ValueError from both
    "a: [" * 150 + "]" * 150 + "\n",  # deeper than the lean path goes
    "a: [" * 3000 + "]" * 3000 + "\n",  # too deep for either
    "a: 'multi\n  line'\nb: |\n  block\n  text\nc: >\n  folded\n  text\n",
    "a: b: c\n",  # a syntax error
    "\ufeffa: 1\n",
    "a:\tb\n",
    "",
    "# only a comment\n",
    "-1: a\n+1: b\n0b101: c\n-0o17: d\n",
]


@pytest.mark.parametrize("text", CASES)
def test_lean_and_generic_constructors_agree(text: str) -> None:
    _same(text)


def test_the_lean_path_is_taken_and_a_failure_falls_back() -> None:
    loader = KubeLoader("a: [1, {b: c}]\n")
    loader.lean = True
    loader._build = None  # type: ignore[assignment,method-assign]  # calling it fails: the generic path answers
    try:
        assert loader.construct_document(loader.get_single_node()) == {"a": [1, {"b": "c"}]}
    finally:
        loader.dispose()
    loader = KubeLoader("a: [1, {b: c}]\n")
    loader.construct_yaml_map = None  # type: ignore[assignment,method-assign]  # the generic path would need it
    try:
        assert loader.construct_document(loader.get_single_node()) == {"a": [1, {"b": "c"}]}
    finally:
        loader.dispose()


def test_anchored_text_keeps_shared_objects() -> None:
    """With `&` and `*` in the text the loader takes the generic path: an alias is the same object."""
    _src, docs, problems = parse_file("m.yaml", b"a: &x {k: v}\nb: *x\n")
    assert not problems
    assert docs[0].data["a"] is docs[0].data["b"]
    for stream in ("a: &x {k: v}\nb: *x\n", b"a: &x {k: v}\nb: *x\n"):
        data = yaml.load(stream, Loader=KubeLoader)  # KubeLoader is a SafeLoader
        assert data["a"] is data["b"]
    assert KubeLoader("a: 1").lean and KubeLoader(b"a: 1").lean and not KubeLoader("a: &x 1\nb: *x").lean


def test_duplicate_keys_are_found_on_the_lean_path() -> None:
    _src, _docs, problems = parse_file("m.yaml", b"kind: Service\nmetadata:\n  name: a\n  name: b\n")
    assert [(f.code, f.location.line) for f in problems] == [("SRC006", 4)]


_scalars = st.one_of(
    st.sampled_from(["yes", "No", "on", "OFF", "~", "null", "1", "-1", "0o7", "07", "0x_1", "1_0", "1:2:3", ".5",
                     "1.", "+.inf", ".NaN", "1e5", "1.0e+5", "2001-01-01", "a b", "'q'", '"d"', "", "<<", "="]),
    st.text(alphabet="01:._-+aeEnx yYoO~", max_size=8),
)


def _render_yaml(value, indent: int = 0) -> str:  # type: ignore[no-untyped-def]
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "\n" + "".join(f"{pad}{k or 'k'!s}: {_render_yaml(v, indent + 1)}\n" for k, v in value.items())
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[" + ", ".join(_render_yaml(v, indent + 1).strip() or "x" for v in value) + "]"
    return str(value)


_trees = st.deferred(lambda: st.one_of(
    _scalars, st.lists(_trees, max_size=3), st.dictionaries(_scalars, _trees, max_size=3)))


@settings(max_examples=300, deadline=None)
@given(_trees)
def test_random_documents_agree(tree) -> None:  # type: ignore[no-untyped-def]
    _same(f"root: {_render_yaml(tree, 1)}\n")


def _corpus() -> list[Path]:
    roots = [Path(__file__).parents[2] / "examples", Path(__file__).parent / "cases",
             SHARED / "reference" / "cis-examples", SHARED / "reference" / "wild-manifests",
             SHARED / "reference" / "cis-fixtures"]
    return sorted(p for root in roots if root.is_dir() for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))


def test_every_yaml_file_of_the_corpus_agrees() -> None:
    files = _corpus()
    if len(files) < 50:
        pytest.skip(f"only {len(files)} YAML files found (../shared/reference absent?)")
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        assert _load(text, True) == _load(text, False), path


def test_keys_are_interned_on_the_lean_path() -> None:
    _src, docs, _problems = parse_file("m.yaml", b"metadata: {name: a}\n---\nmetadata: {name: b}\n")
    first, second = (next(iter(d.data["metadata"])) for d in docs)
    assert first == second == "name" and first is second
