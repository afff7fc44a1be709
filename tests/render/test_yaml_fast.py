"""renderer/yaml_fast.py: BAIL, or exactly what KubeLoader gives for the same text.

Every comparison parses the text with both and compares the documents in a typed form: index,
start line (`node.start_mark.line + 1`), and each value with its type (`True` is not `1`, `1` is
not `1.0`) and each mapping's key order. When KubeLoader raises or finds duplicate keys, the fast
path must have bailed. Besides the property tests, a corpus test runs every YAML file we hold and
a test fails if the fast path stops firing on plain manifests.
"""

from __future__ import annotations

import functools
import math
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from bench_package import bench_generate
from fuzz_budget import fuzz_examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_data import SHARED, missing_reason

from renderer import yaml_fast
from renderer.source import parse_file
from renderer.yaml_fast import BAIL
from renderer.yaml_loader import _MAX_FAST_DEPTH, KubeLoader

REPO = Path(__file__).resolve().parents[2]
_ERROR = "error"


def _kube(text: str) -> list[tuple[int, int, Any]] | str:
    """What renderer.source._parse_yaml keeps from KubeLoader, or _ERROR."""
    loader = KubeLoader(text)
    loader.duplicate_keys = []
    docs = []
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            data = loader.construct_document(node)
            if data is not None:
                docs.append((index, node.start_mark.line + 1, data))
            index += 1
    except (yaml.YAMLError, ValueError, RecursionError):
        return _ERROR
    finally:
        loader.dispose()
    return _ERROR if loader.duplicate_keys else docs


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return ("map", [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [_typed(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def _docs(docs: list[tuple[int, int, Any]]) -> list[Any]:
    return [(index, line, _typed(data)) for index, line, data in docs]


def check(text: str) -> bool:
    """Assert the contract for `text`; True when the fast path answered."""
    fast = yaml_fast.parse(text)
    expected = _kube(text)
    if expected == _ERROR:
        assert fast is BAIL, f"KubeLoader refuses this text, the fast path gave {fast!r}"
        return False
    if fast is BAIL:
        return False
    assert _docs(fast) == _docs(expected)  # type: ignore[arg-type]
    return True


# --- edge cases: each either agrees with KubeLoader on the fast path, or bails -----------------

FAST = [
    "hello\n", "hello", "- a\n- b", "", "# only a comment\n", "---\n", "---\n---\n", "a: 1\n---\n",
    "a: |\n  x\n  y\n", "a: |\n  x", "a: |-\n  x\n\n  y\n\n", "a: |\n  x\n   \n  y\n    \n", "a: |\n  x\n\n\nb: 1",
    "a: |\n    indented\n  # not a comment\nb: 2\n", "- k: |\n    text\n  j: 1\n",
    "a: 1\n...\n", "a: 1\n...\n---\nb: 2\n", "---\n...\n", "--- # c\na: 1\n", "  a: 1\n  b: 2\n",
    "a:\n- 1\n- 2\nb: 3", "a:\n  - 1\n  - 2\nb: 3", "- a: 1\n  b: 2\n- c: 3", "- - a\n  - b\n- c",
    "a:\n  b:\n    c: d\ne: f", "a: 'it''s'", 'a: "x: y"', "a: x # c", "a: x#c", "a: 'x' # c",
    "x: [a, b]\ny: {c: d, e: 1}", "a: []\nb: {}", "a: [ ]\nb: { }", "a: [-1, .5, 0x1F]\nb: {x: a b, y: c}",
    "a: yes\nb: 0x1F\nc: 1_000\nd: 1:30\ne: .inf\nf: ~\ng: 0755\nh: -1\ni: 1e3\nj: 1.5e+3\nk: -.Inf\nl: .NaN",
    "a: No\nb: OFF\nc: on\nd: Null\ne: NULL\nf: 0b101\ng: +12\nh: 190:20:30\ni: 2001-12-14\nj: 1.",
    "1: a\n2.5: b\n~: c\nno: e\n", "a:\nb:\n", "-\n- \n-  a", "a: 1\r\nb: 2\r\n", "\ufeffa: 1\n",
    "a:\n -\n", "a:\n\n  b\n", "k: x:#c", "-1: a", "a: -#", "a: ---", "foo\n---\nbar\n", "a: 1\n  # c\nb: 2",
    "key:\n  value\n", "a: b   \nc:   \n", "a: \"\"\nb: ''\n", "a: 'x \"y\"'\nb: \"it's\"\n", "k: a [b] {c}, d\n",
    "url: http://example.com/x?y=1&z=2\n", "a: b&c*d\n", "é: ü\n", "a: 😀\n",
    "\"quoted key\": 1\n'single': 2\n", 'a: "x\\ny \\"q\\" \\\\ \\/ \\t \\0 \\N \\_"\n',
    "a: {b: {c: \"d\"}, e: [1, \"2\", 'x']}\nf: [[], [{}], {g: [h i]}] # c\n", "a: { b : c }\n", "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  spec:\n    containers:\n"
    "    - name: x\n      ports:\n      - containerPort: 80\n",
]

BAILS = {
    "tab": "a:\tb\n",
    "tab indent": "a:\n\tb: 1\n",
    "flow trailing comma": "a: [b, c, ]\n",
    "flow multi-line": "a: [b,\n  c]\n",
    "flow key without value": "a: {b, c: d}\n",
    "flow plain with a quote": "a: [it's]\n",
    "block folded": "a: >\n  x\n",
    "block keep": "a: |+\n  x\n",
    "block indicator": "a: |2\n  x\n",
    "block leading empty line": "a: |\n\n  x\n",
    "block item": "- |\n  x\n",
    "multi-line plain": "a: b\n  c\n",
    "multi-line single-quoted": "a: 'b\n  c'\n",
    "multi-line double-quoted": 'a: "b\n  c"\n',
    "hex escape": 'a: "\\x41"\n',
    "line continuation": 'a: "b\\\n  c"\n',
    "anchor": "a: &x 1\n",
    "alias": "b: *x\n",
    "tag": "a: !!str 1\n",
    "custom tag": "a: !x 1\n",
    "complex key": "? a\n: b\n",
    "directive": "%YAML 1.1\n---\na: 1\n",
    "duplicate keys": "a: 1\na: 2\n",
    "duplicate keys 1 and true": "1: a\ntrue: b\n",
    "duplicate flow keys": "a: {b: 1, b: 2}\n",
    "merge key": "<<: {a: 1}\n",
    "value key": "=: a\n",
    "odd indentation": "a:\n    b: 1\n  c: 2\n",
    "sequence after a key": "a: 1\n- b\n",
    "content on ---": "--- a: 1\n",
    "document after ...": "a: 1\n...\nb: 2\n",
    "... first": "...\n",
    "lone cr": "a: 1\rb: 2\n",
    "next line": "a: \x85b\n",
    "non-printable": "a: \x01\n",
    "mid-text BOM": "a: 1\n\ufeffb: 2\n",
    "too deep": "".join(f"{' ' * i}k{i}:\n" for i in range(_MAX_FAST_DEPTH + 5)) + " " * 200 + "x: 1\n",
    "key: value: value": "a: b: c\n",
    "trailing colon": "a: b:\n",
    "indicator start": "a: @x\n",
    "backquote": "a: `x`\n",
    "percent": "a: %x\n",
    "comment glued to a quote": "a: 'x'#c\n",
    "long key": "k" * 1100 + ": 1\n",
    "huge int": "a: " + "9" * 5000 + "\n",
    "syntax error": "a: [\n",
    "dash value": "a: - b\n",
}


@pytest.mark.parametrize("text", FAST)
def test_the_fast_path_agrees_on_edge_cases(text: str) -> None:
    assert check(text), f"the fast path bailed on {text!r}"


@pytest.mark.parametrize("text", list(BAILS.values()), ids=list(BAILS))
def test_the_fast_path_bails(text: str) -> None:
    assert yaml_fast.parse(text) is BAIL
    check(text)


def test_keys_are_interned_and_values_typed() -> None:
    docs = yaml_fast.parse("metadata: {name: a}\n---\nmetadata:\n  name: b\n  port: 80\n  on: yes\n")
    assert docs is not BAIL
    (_, _, first), (index, line, second) = docs
    a, b = next(iter(first["metadata"])), next(iter(second["metadata"]))
    assert a == b == "name" and a is b
    assert (index, line) == (1, 3)
    assert second["metadata"] == {"name": "b", "port": 80, True: True}


def test_parse_file_gives_the_same_documents_and_findings_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [b"kind: Service\nmetadata:\n  name: a\n---\n---\nkind: Pod\n", b"a: 1\na: 2\n", b"a: [\n",
             b"kind: Service\nmetadata:\n  name: a\n  name: b\n", b"\xef\xbb\xbfa: 1\n", b"a: 'x'\n...\n"]
    fast = [parse_file("m.yaml", text) for text in texts]
    monkeypatch.setattr(yaml_fast, "parse", lambda text: BAIL)
    slow = [parse_file("m.yaml", text) for text in texts]
    for (_, fdocs, fprob), (_, sdocs, sprob) in zip(fast, slow, strict=True):
        assert [(d.index, d.line, _typed(d.data)) for d in fdocs] == [(d.index, d.line, _typed(d.data)) for d in sdocs]
        assert [(f.code, f.message, f.location) for f in fprob] == [(f.code, f.message, f.location) for f in sprob]


# --- every YAML file we hold ---------------------------------------------------------------------

def _yaml_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
                  and ".venv" not in p.parts and ".git" not in p.parts)


def _run_corpus(files: list[Path]) -> tuple[int, int]:
    fast = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        try:
            fast += check(text)
        except AssertionError as err:
            raise AssertionError(f"{path}: {err}") from err
    return fast, len(files)


def test_repository_yaml_files() -> None:
    fast, total = _run_corpus(_yaml_files(REPO / "tests") + _yaml_files(REPO / "examples"))
    assert total > 100
    assert fast >= total * 0.6, f"only {fast} of {total} repository YAML files took the fast path"


def test_shared_yaml_files() -> None:
    if not (SHARED / "reference").is_dir():
        pytest.skip(missing_reason(SHARED / "reference"))
    fast, total = _run_corpus(_yaml_files(SHARED))
    assert total > 300
    assert fast >= total * 0.7, f"only {fast} of {total} ../shared YAML files took the fast path"


@pytest.fixture(scope="module")
def bench_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench")
    generate = bench_generate().generate
    generate(root / "ingress", 1000)
    generate(root / "all", 100, "all")
    return root


def test_generated_benchmark_repositories_take_the_fast_path(bench_repo: Path) -> None:
    """Every file of a generated 1k repository (and of the `all` mix) is on the fast path: the
    test that fails if a change makes the fast path bail on plain manifests."""
    files = _yaml_files(bench_repo)
    fast, total = _run_corpus(files)
    assert total > 40 and fast == total


# --- property tests ------------------------------------------------------------------------------

_words = st.sampled_from(["name", "app", "yes", "No", "on", "off", "~", "null", "true", "1", "-1", "0o7", "07",
                          "0x1F", "1_000", "1:30", ".5", "1e3", "+.inf", ".NaN", "2001-01-01", "a b", "x: y", "#x",
                          "a #b", "'q'", '"d"', "", " lead", "trail ", "-", "- a", "?", "[x]", "{y}", "it's",
                          "10.0.0.1", "app.kubernetes.io/name", "<<", "=", "|", ">", "&a", "*a", "!t", "%", "@",
                          "é", "k8s", "---", "...", "0", "1.0", "-0", "FALSE", "Yes"])
_scalars = st.one_of(_words, st.integers(-10**6, 10**6), st.booleans(), st.none(),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6))
_keys = st.one_of(_words, st.integers(0, 50), st.booleans())
_trees = st.recursive(_scalars, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                       st.dictionaries(_keys, kids, max_size=4)), max_leaves=20)


@settings(max_examples=fuzz_examples("AS3_GITOPS_FAST_YAML_EXAMPLES", 1), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_trees, min_size=1, max_size=3), st.sampled_from([2, 3, 4]), st.booleans(),
       st.sampled_from([20, 80, 10_000]), st.booleans())
def test_random_documents_dumped_by_pyyaml(docs: list[Any], indent: int, sort_keys: bool, width: int,
                                           explicit: bool) -> None:
    try:
        text = yaml.safe_dump_all(docs, default_flow_style=False, indent=indent, sort_keys=sort_keys,
                                  width=width, explicit_start=explicit, allow_unicode=True)
    except (yaml.YAMLError, TypeError):
        return
    check(text)


@functools.lru_cache(maxsize=1)
def _manifests() -> list[str]:
    files = _yaml_files(REPO / "examples") + _yaml_files(REPO / "tests" / "render" / "cases")
    return [p.read_text(encoding="utf-8") for p in files[:80]]


_MUTATIONS = [" ", "  ", "#", " #", "'", '"', ":", ": ", "- ", "\t", "\n", "|", "{", "[", "]", "}", ",", "&", "*",
              "!", "?", "...", "---", "\r", "\ufeff", "\\", "''", "x"]


@settings(max_examples=fuzz_examples("AS3_GITOPS_FAST_YAML_EXAMPLES", 1), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**9), st.integers(1, 4))
def test_random_mutations_of_real_manifests(seed: int, edits: int) -> None:
    texts = _manifests()
    rng = random.Random(seed)
    text = rng.choice(texts)
    for _ in range(edits):
        where = rng.randrange(len(text) + 1)
        action = rng.randrange(4)
        if action == 0:  # insert
            text = text[:where] + rng.choice(_MUTATIONS) + text[where:]
        elif action == 1:  # delete
            text = text[:where] + text[where + rng.randint(1, 3):]
        elif action == 2:  # re-indent one line
            lines = text.split("\n")
            i = rng.randrange(len(lines))
            lines[i] = " " * rng.randint(0, 8) + lines[i].lstrip(" ")
            text = "\n".join(lines)
        else:  # replace a character
            text = text[:where] + rng.choice(_MUTATIONS) + text[where + 1:]
    check(text)


def test_the_ascii_printable_check_is_pyyamls() -> None:
    from yaml.reader import Reader
    for code in range(128):
        char = chr(code)
        refused = Reader.NON_PRINTABLE.search(char) is not None
        assert bool(char.encode("ascii").translate(None, yaml_fast._PRINTABLE_ASCII)) == refused, code
        if refused:
            assert yaml_fast.parse(f"a: x{char}y\n") is BAIL
