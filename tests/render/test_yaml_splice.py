"""renderer/yaml_splice.py: an edited file parsed from its last parse is exactly the whole parse.

The truth is `parse_file` without a previous version (the fast path, or KubeLoader when it bails):
for every edit, `splice` gives None or the same documents (index, start line, data, typed: `True`
is not `1`, key order counts). Edits are made at the level of lines, as a person edits a manifest
(change a value, add or drop lines, add, drop, split or join documents), on every multi-document
YAML file we hold and on generated benchmark files; a test fails if the splice stops firing on them.
Then the disk cache end to end: an edited file of a real git repository is spliced on its next
render (counted), with output byte-identical to a render without the cache.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from bench_package import bench_generate
from reference_data import SHARED, missing_reason

from renderer import yaml_fast
from renderer.cache import DiskCache
from renderer.render import render
from renderer.source import ParseCache, dump_json, parse_file
from renderer.yaml_splice import Previous, splice

REPO = Path(__file__).resolve().parents[2]


def _truth(text: str) -> list[tuple[int, int, str]] | None:
    """What a whole parse gives (None: findings), each document's data as its repr (typed, ordered)."""
    _src, docs, findings = parse_file("m.yaml", text.encode())
    return None if findings else [(d.index, d.line, repr(d.data)) for d in docs]


def _typed(docs: list[tuple[int, int, Any]] | None) -> list[tuple[int, int, str]] | None:
    return None if docs is None else [(index, line, repr(data)) for index, line, data in docs]


def _old_docs(text: str) -> list[tuple[int, int, Any]]:
    _src, docs, findings = parse_file("m.yaml", text.encode())
    assert not findings
    return [(d.index, d.line, d.data) for d in docs]


def check(old: str, new: str) -> bool:
    """The splice of `old` -> `new` is None or the whole parse of `new`; True when it fired."""
    got = splice(old, _old_docs(old), new, yaml_fast.parse)
    if got is None:
        return False
    assert _typed(got) == _truth(new), f"splice differs from the whole parse:\n--- old\n{old}\n--- new\n{new}"
    return True


DOCS = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n"


@pytest.mark.parametrize(("old", "new", "fires"), [
    (DOCS, DOCS.replace("name: b", "name: c"), True),  # the last document
    (DOCS, DOCS.replace("name: a", "name: c"), True),  # the first, implicit one
    ("---\n" + DOCS, "---\n" + DOCS.replace("name: a", "name: z"), True),  # the first, explicit one
    ("# top\n---\n" + DOCS, "# top\n# more\n---\n" + DOCS, True),  # comments only before the first `---`
    ("# top\n---\n" + DOCS, "x: 1\n---\n" + DOCS, True),  # the top becomes a document: later indexes move
    ("x: 1\n---\n" + DOCS, "# gone\n---\n" + DOCS, True),  # and back
    (DOCS, DOCS + "---\n---\nk: v\n", True),  # an empty (null) document counts in the indexes
    (DOCS + "---\nnull\n---\nk: v\n", DOCS + "---\nk: w\n", True),
    (DOCS, DOCS.replace("metadata:\n  name: a\n", "metadata:\n  name: a\n---\nmetadata:\n  name: a2\n"), True),
    ("a: |\n  text\n---\nb: 1\n", "a: |\n  other\n---\nb: 1\n", True),  # a literal block before `---`
    ("a: |+\n  text\n\n---\nb: 1\n", "a: |+\n  text\n\n\n---\nb: 2\n", False),  # `|+`: the fast path bails
    ("a: 1\n---\nb: 1", "a: 1\n---\nb: 2", True),  # no newline at the end
    (DOCS, DOCS.replace("---\n", ""), False),  # two documents joined: a duplicate key, a finding
    ("a: 1\n---\nb: [1, 2]\n---\nc: 3\n", "a: 1\n---\nb: [1, 2\n---\nc: 3\n", False),  # does not parse
    ("a: 1\n---\nb: 'x'\n", "a: 1\n---\nb: 'x\n", False),
])
def test_edge_cases_equal_the_whole_parse(old: str, new: str, fires: bool) -> None:
    assert check(old, new) is fires


@pytest.mark.parametrize("new", [
    DOCS.replace("---\n", "--- # a comment\n"),  # a `---` with more on the line starts a document too
    DOCS.replace("---\n", "...\n---\n"),  # an end marker
    "%YAML 1.1\n---\n" + DOCS,  # a directive
    DOCS.replace("name: b", "name: b\r"),  # other line ends
    DOCS.replace("name: b", "name: b\u2028x"),
    DOCS.replace("  name: b", "\tname: b"),
    "\ufeff" + DOCS,
])
def test_what_the_rules_do_not_cover_is_parsed_whole(new: str) -> None:
    assert splice(DOCS, _old_docs(DOCS), new, yaml_fast.parse) is None


def test_an_old_parse_that_does_not_fit_its_text_is_not_used() -> None:
    docs = _old_docs(DOCS)
    assert splice(DOCS, [(5, line, data) for _, line, data in docs], DOCS.replace("name: b", "name: c"),
                  yaml_fast.parse) is None
    assert splice(DOCS, docs[1:] + docs[:1], DOCS.replace("name: b", "name: c"), yaml_fast.parse) is None


def test_the_part_parsed_again_is_only_the_edited_documents() -> None:
    parts: list[str] = []

    def spy(text: str) -> Any:
        parts.append(text)
        return yaml_fast.parse(text)

    many = "".join(f"---\nkind: Service\nmetadata:\n  name: s{i}\n" for i in range(50))
    assert splice(many, _old_docs(many), many.replace("name: s20\n", "name: t20\n"), spy) is not None
    assert parts == ["---\nkind: Service\nmetadata:\n  name: t20\n"]


# --- line-level edits of every multi-document file we hold ------------------------------------------

def _yaml_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
                  and ".venv" not in p.parts and ".git" not in p.parts)


def _edit(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        action = rng.randrange(8)
        if action == 0:  # change a value
            key, sep, _value = lines[i].partition(": ")
            lines[i] = key + (sep or ": ") + rng.choice(["x", "1", "true", "'q'", "[a, b]", "{}", "~", "|", "- y"])
        elif action == 1:  # drop a line
            del lines[i]
        elif action == 2:  # copy a line elsewhere
            lines.insert(rng.randrange(len(lines) + 1), lines[i])
        elif action == 3:  # a new document
            lines[i:i] = ["---", "kind: ConfigMap", "metadata:", f"  name: n{rng.randrange(99)}"]
        elif action == 4:  # drop or add a `---`
            if lines[i] == "---":
                del lines[i]
            else:
                lines.insert(i, "---")
        elif action == 5:  # a comment or a blank line
            lines.insert(i, rng.choice(["# note", "", "  # indented note"]))
        elif action == 6:  # re-indent
            lines[i] = " " * rng.randint(0, 6) + lines[i].lstrip(" ")
        else:  # the end of the file
            lines.append(rng.choice(["", "---", "extra: 1", "---", "kind: X"]))
        if not lines:
            lines = [""]
    return "\n".join(lines)


def _benign(rng: random.Random, text: str) -> str:
    """One scalar value changed to another plain word: the edit of most pull requests."""
    lines = text.split("\n")
    values = [i for i, line in enumerate(lines) if ": " in line and line.rstrip()[-1:].isalnum() and "#" not in line]
    if values:
        i = rng.choice(values)
        key, _sep, _value = lines[i].partition(": ")
        lines[i] = f"{key}: edited{rng.randrange(99)}"
    return "\n".join(lines)


def _corpus(files: list[Path], seed: int, per_file: int, edit: Any = _edit) -> tuple[int, int]:
    rng = random.Random(seed)
    fired = tried = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if "\n---" not in text or _truth(text) is None:
            continue
        for _ in range(per_file):
            new = edit(rng, text)
            tried += 1
            try:
                fired += check(text, new)
            except AssertionError as err:
                raise AssertionError(f"{path}: {err}") from err
    return fired, tried


def test_edits_of_the_repository_yaml_files() -> None:
    files = _yaml_files(REPO / "examples") + _yaml_files(REPO / "tests" / "render" / "cases")
    fired, tried = _corpus(files, 1, 6)
    assert tried > 100 and fired >= tried * 0.2, (fired, tried)  # many random edits do not parse
    fired, tried = _corpus(files, 1, 2, _benign)
    assert fired >= tried * 0.8, (fired, tried)


def test_edits_of_the_shared_yaml_files() -> None:
    if not (SHARED / "reference").is_dir():
        pytest.skip(missing_reason(SHARED / "reference"))
    files = _yaml_files(SHARED)
    fired, tried = _corpus(files, 2, 10)
    assert tried > 300 and fired >= tried * 0.2, (fired, tried)
    fired, tried = _corpus(files, 2, 2, _benign)
    assert fired >= tried * 0.8, (fired, tried)


def test_edits_of_generated_benchmark_files(tmp_path: Path) -> None:
    bench_generate().generate(tmp_path / "all", 40, "all")
    files = _yaml_files(tmp_path / "all")
    fired, tried = _corpus(files, 3, 25)
    assert tried > 100 and fired >= tried * 0.2, (fired, tried)
    fired, tried = _corpus(files, 3, 5, _benign)
    assert fired == tried, (fired, tried)  # every file of the benchmark is on the fast path


def test_previous_records_whether_it_was_used() -> None:
    previous = Previous(DOCS, _old_docs(DOCS))
    assert previous.splice(DOCS.replace("name: b", "name: c"), yaml_fast.parse) is not None and previous.used
    assert previous.splice("%YAML 1.1\n---\n" + DOCS, yaml_fast.parse) is None and not previous.used


# --- the disk cache, end to end ---------------------------------------------------------------------

def _outputs(repo: Path, ref: str, disk: DiskCache | None) -> tuple:
    result = render(repo, ref, cache=ParseCache(disk, remember=False) if disk else None, memo=False)
    return dump_json(result.as3), dump_json(result.net), [(f.code, f.message, f.location) for f in result.findings]


def test_an_edited_file_is_spliced_on_the_next_render_with_the_same_output(make_repo: Any, tmp_path: Path) -> None:
    bench = bench_generate()
    repo = make_repo()
    bench.generate(repo.path, 30)
    base = repo.commit(message="base")
    ingresses = sorted((repo.path / "manifests" / "ingresses").glob("*.yaml"))[0]
    text = ingresses.read_text()
    repo.write({str(ingresses.relative_to(repo.path)): text.replace("balance: ", "balance: x-", 1)})
    edited = repo.commit(message="one balance")
    repo.write({str(ingresses.relative_to(repo.path)): text.replace("  name: ", "  name: moved-", 1)})
    renamed = repo.commit(message="a name, on the lines of the first edit")

    disk = DiskCache(tmp_path / "cache")
    assert _outputs(repo.path, base, disk) == _outputs(repo.path, base, None)
    assert disk.parses_spliced == 0
    for ref, spliced in ((edited, 1), (renamed, 2), (base, 2)):  # base: its parse is stored, a hit
        assert _outputs(repo.path, ref, disk) == _outputs(repo.path, ref, None)
        assert disk.parses_spliced == spliced
    # the working tree (keyed by path, hashed into the same ids) starts from the last stored parse too
    repo.write({str(ingresses.relative_to(repo.path)): text.replace("balance: ", "balance: y-", 1)})
    work = DiskCache(tmp_path / "cache")
    result = render(repo.path, None, cache=ParseCache(work, remember=False), memo=False)
    plain = render(repo.path, None, memo=False)
    assert (dump_json(result.as3), dump_json(result.net)) == (dump_json(plain.as3), dump_json(plain.net))
    assert work.parses_spliced == 1
