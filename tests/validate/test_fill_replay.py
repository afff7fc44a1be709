"""The fast paths give exactly the walk's results: replayed default filling (fill.py) against
Ajv.fill_defaults, and compiled is_valid (compiled.py) against the walk's own yes/no.

Compared: the filled declaration (sorted-key orjson bytes), the pointer sites in order, and
check_adc's errors in order with their messages, over F5's example declarations, the
hello-world render, a generated 50-Ingress benchmark render, targeted breakages of it, and
hypothesis-generated ones. The replaying validator is shared by all tests, so its recorded
programs meet many shapes (as in a long-running process).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
import pytest
from bench_package import bench_generate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_data import reference

from renderer.validate import As3Validator
from renderer.validate import ajv as ajv_module
from renderer.validate import fill as fill_module
from renderer.validate.ajv import Ajv, _Ctx
from renderer.validate.formats import FORMATS
from renderer.validate.jsonvalues import compile_simple

from .conftest import EXAMPLES, HELLO_WORLD, json_paths


@pytest.fixture(scope="module")
def replaying(as3_schema: dict[str, Any]) -> As3Validator:
    return As3Validator(as3_schema)


@pytest.fixture(scope="module")
def walking(as3_schema: dict[str, Any]) -> As3Validator:
    return As3Validator(as3_schema, replay=False)


@pytest.fixture(scope="module")
def bench_adc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from renderer.render import render

    # by path: `benchmarks` may name the tests/benchmarks folder on sys.path
    generate = bench_generate()
    repo = tmp_path_factory.mktemp("bench") / "repo"
    generate.generate(repo, 50)
    result = render(str(repo))
    assert result.ok
    return result.adc


def _dump(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def outcome(validator: As3Validator, adc: Any) -> tuple:
    """Everything the two implementations must agree on."""
    data = orjson.loads(orjson.dumps(adc))
    schema = validator.definitions["ADC"]
    if validator.filler is not None:
        sites = validator.filler.fill(schema, data)
    else:
        sites = validator.ajv.fill_defaults(schema, data)
    check = validator.check_adc(adc)
    return (_dump(data), [(s.pointer, s.value, s.target_schema) for s in sites],
            [(e.pointer, e.keyword, e.message) for e in check.errors], _dump(check.filled))


def assert_same(replaying: As3Validator, walking: As3Validator, adc: Any) -> tuple:
    fast, slow = outcome(replaying, adc), outcome(walking, adc)
    assert fast[0] == slow[0], "filled declarations differ"
    assert fast[1] == slow[1], "pointer sites differ"
    assert fast[2] == slow[2], "errors differ"
    assert fast[3] == slow[3]
    return fast


def _example_adcs() -> list[tuple[str, Any]]:
    rows = []
    for path in sorted((EXAMPLES / "declarations").glob("*.json")):
        body = json.loads(path.read_bytes())
        for i, item in enumerate(body if isinstance(body, list) else [body]):
            if isinstance(item, dict) and item.get("class") == "AS3":
                item = item.get("declaration")
            if isinstance(item, dict) and item.get("class") == "ADC":
                rows.append((f"{path.name}#{i}", item))
    return rows


def test_the_example_corpus_has_the_adc_declarations() -> None:
    reference("as3-examples", "declarations")
    assert len(_example_adcs()) >= 60


@pytest.mark.parametrize(("name", "adc"), _example_adcs() or [pytest.param(None, None, marks=pytest.mark.skip(
    reason=f"reference data not found: {EXAMPLES / 'declarations'}"), id="reference-missing")],
                         ids=[n for n, _ in _example_adcs()] or None)
def test_replayed_filling_equals_the_walk_on_f5_examples(replaying: As3Validator, walking: As3Validator,
                                                         name: str, adc: Any) -> None:
    assert_same(replaying, walking, adc)


def test_replayed_filling_equals_the_walk_on_the_hello_world_render(replaying: As3Validator,
                                                                   walking: As3Validator) -> None:
    from renderer.render import render

    result = render(str(HELLO_WORLD))
    filled, sites, errors, _ = assert_same(replaying, walking, result.adc)
    assert errors == [] and sites and len(filled) > len(orjson.dumps(result.adc))


def test_replayed_filling_equals_the_walk_on_the_benchmark_render(replaying: As3Validator,
                                                                 walking: As3Validator,
                                                                 bench_adc: dict[str, Any]) -> None:
    fresh = As3Validator(replaying.schema)
    calls = {"replays": 0}
    original = fresh.filler._replay

    def counting(*args: Any) -> bool:
        done = original(*args)
        calls["replays"] += done
        return done

    fresh.filler._replay = counting  # type: ignore[method-assign]
    fast, slow = outcome(fresh, bench_adc), outcome(walking, bench_adc)
    assert fast == slow
    assert fast[2] == [] and len(fast[1]) == 125
    assert calls["replays"] > 1000  # the members, monitors, pools and services were replayed, not walked


def _shared(adc: dict[str, Any], tenant: str = "tenant0") -> dict[str, Any]:
    return adc[tenant]["Shared"]


def _first(shared: dict[str, Any], cls: str) -> str:
    return next(k for k, v in shared.items() if isinstance(v, dict) and v.get("class") == cls)


def _breakages(adc: dict[str, Any]) -> list[tuple[str, Any]]:
    """Targeted changes that send replays down a different path halfway through a program."""
    shared = _shared(adc)
    pool, monitor, service = _first(shared, "Pool"), _first(shared, "Monitor"), _first(shared, "Service_HTTP")

    def member(i: int) -> list[Any]:
        return ["tenant0", "Shared", pool, "members", i]

    return [
        ("invalid member address", ([*member(1), "serverAddresses"], ["10.0.0.300"])),
        ("fqdn member", (member(2), {"addressDiscovery": "fqdn", "hostname": "a.example.com", "servicePort": 80})),
        ("member without port", (member(3), {"addressDiscovery": "static", "serverAddresses": ["10.9.9.9"]})),
        ("bigip member", (member(4), {"bigip": "/Common/n1", "servicePort": 80})),
        ("float port", ([*member(5), "servicePort"], 8080.0)),
        ("fractional port", ([*member(5), "servicePort"], 8080.5)),
        ("boolean port", ([*member(6), "servicePort"], True)),
        ("servers instead of addresses", (member(7), {"servers": [{"address": "10.1.1.1"}], "servicePort": 80})),
        ("member is a string", (member(0), "10.0.0.1")),
        ("member with monitors", ([*member(8), "monitors"], ["http"])),
        ("duplicate addresses", ([*member(9), "serverAddresses"], ["10.0.0.1", "10.0.0.1"])),
        ("dangling monitor pointer", (["tenant0", "Shared", pool, "monitors"], [{"use": "/tenant0/Shared/nope"}])),
        ("https monitor", (["tenant0", "Shared", monitor, "monitorType"], "https")),
        ("negative interval", (["tenant0", "Shared", monitor, "interval"], -1)),
        ("unknown pool property", (["tenant0", "Shared", pool, "colour"], "blue")),
        ("service address pair", (["tenant0", "Shared", service, "virtualAddresses"], [["10.1.1.1", "0.0.0.0"]])),
        ("service without class", (["tenant0", "Shared", service, "class"], None)),
        ("tenant with a default-bearing key", (["tenant0", "defaultRouteDomain"], 2)),
    ]


def _apply(adc: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(adc)
    node: Any = changed
    for token in path[:-1]:
        node = node[token]
    if value is None and isinstance(node, dict):
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return changed


@pytest.mark.parametrize("index", range(18))
def test_replayed_filling_equals_the_walk_on_broken_declarations(replaying: As3Validator, walking: As3Validator,
                                                                bench_adc: dict[str, Any], index: int) -> None:
    _name, (path, value) = _breakages(bench_adc)[index]
    assert_same(replaying, walking, _apply(bench_adc, path, value))


def test_replayed_filling_equals_the_walk_with_every_breakage_at_once(replaying: As3Validator,
                                                                     walking: As3Validator,
                                                                     bench_adc: dict[str, Any]) -> None:
    changed = bench_adc
    for _name, (path, value) in _breakages(bench_adc):
        changed = _apply(changed, path, value)
    errors = assert_same(replaying, walking, changed)[2]
    assert errors  # the schema or the pointer check rejects it, in the same words either way


def _small(adc: dict[str, Any]) -> dict[str, Any]:
    """tenant0 only, with a handful of objects: quick to walk, every class still present."""
    small = {k: v for k, v in adc.items() if not isinstance(v, dict)}
    shared = _shared(adc)
    keep = {}
    for cls in ("Pool", "Monitor", "Service_HTTP", "Endpoint_Policy"):
        names = [k for k, v in shared.items() if isinstance(v, dict) and v.get("class") == cls][:2]
        keep.update({k: shared[k] for k in names})
    small["tenant0"] = {**{k: v for k, v in adc["tenant0"].items() if k != "Shared"},
                        "Shared": {"class": "Application", "template": "shared", **keep}}
    return small




JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 70000) | st.floats(-2, 2, allow_nan=False).map(lambda f: round(f, 1))
    | st.sampled_from(["static", "fqdn", "http", "https", "10.0.0.1", "10.0.0.300", "", "/Common/x", "all",
                       "round-robin", "Pool", "Monitor", "tcp", "/tenant0/Shared/nope"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["use", "bigip", "servicePort", "serverAddresses", "class", "monitors", "x"]), inner,
        max_size=3),
    max_leaves=6,
)


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_replayed_filling_equals_the_walk_on_random_changes(replaying: As3Validator, walking: As3Validator,
                                                            bench_adc: dict[str, Any], data: st.DataObject) -> None:
    base = _small(bench_adc)
    paths = json_paths(base)
    changed = base
    for _ in range(data.draw(st.integers(1, 3))):
        path = list(data.draw(st.sampled_from(paths)))
        value = data.draw(JSON_VALUES)
        try:
            changed = _apply(changed, path, value)
        except (KeyError, IndexError, TypeError):  # an earlier change removed the path
            continue
    assert_same(replaying, walking, changed)


def test_budget_and_depth_limits_cut_the_replayed_filling_where_they_cut_the_walk(
        as3_schema: dict[str, Any], bench_adc: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for budget in (1, 700, 3000, 9000):
        monkeypatch.setattr(ajv_module, "FILL_BUDGET", budget)
        monkeypatch.setattr(fill_module, "FILL_BUDGET", budget)
        fast, slow = As3Validator(as3_schema), As3Validator(as3_schema, replay=False)
        fast.filler.fill(fast.definitions["ADC"], orjson.loads(orjson.dumps(bench_adc)))  # programs recorded
        assert outcome(fast, bench_adc) == outcome(slow, bench_adc), budget
    monkeypatch.setattr(ajv_module, "FILL_BUDGET", 2_000_000)
    monkeypatch.setattr(fill_module, "FILL_BUDGET", 2_000_000)
    for depth in (3, 6, 9):
        monkeypatch.setattr(ajv_module, "MAX_DEPTH", depth)
        monkeypatch.setattr(fill_module, "MAX_DEPTH", depth)
        fast, slow = As3Validator(as3_schema), As3Validator(as3_schema, replay=False)
        assert outcome(fast, bench_adc) == outcome(slow, bench_adc), depth


def test_the_defaults_walk_is_not_cut_by_the_per_check_budget(
        as3_schema: dict[str, Any], bench_adc: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A large declaration is filled to the end (a 10k-Ingress one needs about 5 million schema
    nodes): the defaults walk has its own, far higher limit than one is_valid check."""
    unpatched = As3Validator(as3_schema).check_adc(bench_adc)
    monkeypatch.setattr(ajv_module, "BUDGET", 20_000)  # below what filling bench_adc visits
    for replay in (True, False):
        patched = As3Validator(as3_schema, replay=replay).check_adc(bench_adc)
        assert orjson.dumps(patched.filled, option=orjson.OPT_SORT_KEYS) == \
            orjson.dumps(unpatched.filled, option=orjson.OPT_SORT_KEYS)
        assert patched.errors == unpatched.errors


def test_a_partly_filled_run_leaves_nothing_behind_when_a_replay_is_abandoned(replaying: As3Validator,
                                                                             walking: As3Validator) -> None:
    # Same shape (keys, value types) as the members before it, but a different branch halfway:
    # the replay writes defaults, meets the different answer, and must undo them.
    members = [{"addressDiscovery": "static", "serverAddresses": [f"10.0.0.{i}"], "servicePort": 80}
               for i in range(1, 4)]
    members.append({"addressDiscovery": "fqdn", "serverAddresses": ["10.0.0.9"], "servicePort": 80})
    members.append({"addressDiscovery": "static", "serverAddresses": ["10.0.0.999"], "servicePort": 80})
    adc = {"class": "ADC", "schemaVersion": "3.50.0", "id": "undo",
           "T": {"class": "Tenant", "A": {"class": "Application", "template": "generic",
                                          "p": {"class": "Pool", "members": members}}}}
    filled = orjson.loads(assert_same(replaying, walking, adc)[0])
    assert "hostname" not in filled["T"]["A"]["p"]["members"][4]
    assert filled["T"]["A"]["p"]["members"][3]["addressFamily"] == "IPv4"


# -- compiled is_valid against the walk ------------------------------------------------------------

def _walk_says(ajv: Ajv, schema: Any, data: Any) -> bool:
    return next(iter(ajv._validate(schema, data, "", True, _Ctx(False, False))), None) is None


ROOT = {"definitions": {
    "node": {"type": "object", "properties": {"c": {"$ref": "#/definitions/node"}}},
    "cls": {"allOf": [{"if": {"properties": {"class": {"const": "A"}}}, "then": {"required": ["a"]}},
                      {"if": {"properties": {"class": {"const": "B"}}}, "then": {"required": ["b"]}}]},
}}
SMALL_CASES: list[tuple[Any, list[Any]]] = [
    ({"type": ["string", "null"]}, ["x", None, 1, 1.0, True]),
    ({"type": "number", "maximum": 3, "exclusiveMinimum": 0}, [0, 3, 3.5, 1, True, "1"]),
    ({"type": "integer", "multipleOf": 0.1}, [1, 0.3, 7, 1.0, 1.5]),
    ({"multipleOf": 3, "minimum": 1.5, "exclusiveMaximum": 9}, [3, 9, 1, 6.0, -3]),
    ({"maxLength": 3, "minLength": 1, "pattern": "^a"}, ["", "ab", "abcd", "ba", 5]),
    ({"format": "f5ip"}, ["10.0.0.1", "10.0.0.1%2/24", "::1", "x", ""]),
    ({"items": [{"type": "integer"}, {"type": "string"}], "additionalItems": False}, [[1, "a"], [1], [1, "a", 2], ["a"]]),
    ({"items": [{"type": "integer"}], "additionalItems": {"type": "string"}}, [[1, "a", "b"], [1, 2]]),
    ({"items": {"minimum": 0}, "minItems": 1, "maxItems": 2, "uniqueItems": True}, [[], [1, 2], [1, 1.0], [1, 2, 3], [-1]]),
    ({"contains": {"const": 2}}, [[1, 2], [1], []]),
    ({"required": ["a"], "maxProperties": 2, "minProperties": 1}, [{}, {"a": 1}, {"a": 1, "b": 2, "c": 3}, []]),
    ({"dependencies": {"a": ["b"], "c": {"required": ["d"]}}}, [{"a": 1}, {"a": 1, "b": 2}, {"c": 1}, {"c": 1, "d": 2}]),
    ({"propertyNames": {"pattern": "^[a-z]+$"}}, [{"ab": 1}, {"A": 1}]),
    ({"properties": {"a": {"type": "integer"}}, "patternProperties": {"^x": {"type": "string"}},
      "additionalProperties": False}, [{"a": 1, "xy": "s"}, {"xy": 1}, {"b": 1}, {"a": "s"}]),
    ({"additionalProperties": {"type": "integer"}}, [{"a": 1}, {"a": "s"}]),
    ({"const": {"a": [1, True]}}, [{"a": [1, True]}, {"a": [1.0, True]}, {"a": [1, 1]}]),
    ({"enum": ["x", 1, None]}, ["x", 1.0, None, True, "y"]),
    ({"not": {"type": "string"}}, ["s", 1]),
    ({"anyOf": [{"type": "string"}, {"minimum": 5}]}, ["s", 6, 1]),
    ({"oneOf": [{"type": "integer"}, {"minimum": 5}]}, [1, 6, 4.5, "s"]),
    ({"$ref": "#/definitions/cls"}, [{"class": "A"}, {"class": "A", "a": 1}, {"class": "B", "a": 1}, {"class": "C"}, {}]),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}, [{"a": 1}, {"a": 1, "b": 1}, {"c": 1}, {}]),
    (True, [1]), (False, [1]), ({}, [1]),
    ({"allOf": [True, False]}, [1]),
]


@pytest.mark.parametrize(("schema", "values"), SMALL_CASES, ids=[json.dumps(s)[:40] for s, _ in SMALL_CASES])
def test_compiled_is_valid_answers_as_the_walk(schema: Any, values: list[Any]) -> None:
    judge = Ajv(ROOT, FORMATS)
    for value in values:
        assert judge.is_valid(schema, value) == _walk_says(judge, schema, value), value


def test_compiled_is_valid_stops_at_the_walks_depth_limit() -> None:
    judge = Ajv(ROOT, FORMATS)
    for levels in (50, 99, 100, 101, 300):
        data: dict[str, Any] = {}
        node = data
        for _ in range(levels):
            node["c"] = {}
            node = node["c"]
        schema = {"$ref": "#/definitions/node"}
        assert judge.is_valid(schema, data) == _walk_says(judge, schema, data) == (levels < 100)


def _is_valid_calls(validator: As3Validator, adc: Any) -> list[tuple[Any, Any]]:
    """(schema node, value) for every is_valid the walk makes while filling and explaining `adc`."""
    seen: list[tuple[Any, Any]] = []
    ajv = validator.ajv
    original = ajv.is_valid

    def spy(schema: Any, data: Any) -> bool:
        seen.append((schema, copy.deepcopy(data)))
        return original(schema, data)

    ajv.is_valid = spy  # type: ignore[method-assign]
    try:
        data = orjson.loads(orjson.dumps(adc))
        ajv.fill_defaults(validator.definitions["ADC"], data)
        ajv.errors(validator.definitions["ADC"], data)
    finally:
        del ajv.is_valid
    return seen


def test_compiled_is_valid_answers_as_the_walk_on_every_question_a_declaration_asks(
        as3_schema: dict[str, Any], bench_adc: dict[str, Any]) -> None:
    reference("as3-examples", "declarations")
    validator = As3Validator(as3_schema, replay=False)
    broken = bench_adc
    for _name, (path, value) in _breakages(bench_adc):
        broken = _apply(broken, path, value)
    adcs = [adc for _, adc in _example_adcs()] + [_small(bench_adc), _small(broken)]
    questions: dict[tuple[int, bytes], tuple[Any, Any]] = {}
    for adc in adcs:
        for schema, value in _is_valid_calls(validator, adc):
            questions[(id(schema), _dump(value))] = (schema, value)
    assert len(questions) > 2000
    answers = {True: 0, False: 0}
    for schema, value in questions.values():
        fast = validator.ajv.is_valid(schema, value)
        assert fast == _walk_says(validator.ajv, schema, value), (json.dumps(schema)[:200], value)
        simple = compile_simple(schema)
        if simple is not None:
            assert simple(value) == fast
        answers[fast] += 1
    assert answers[True] > 100 and answers[False] > 100



# -- remembered format answers -------------------------------------------------------------------

ADDRESS_LIKE = st.text(alphabet="0123456789./%:abcdef \n", max_size=24)
EDGES = ["1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.4\n",
         "1.2.3.4/24", "1.2.3.4/33", "1.2.3.4%2", "::1", "fe80::1%3/64", "", " 1.2.3.4", "1.2.3.04", "1..3.4",
         "\u0661.\u0662.\u0663.\u0664", "10.128.0.2"]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(value=ADDRESS_LIKE | st.sampled_from(EDGES))
def test_the_fast_f5ip_check_answers_as_is_f5ip(value: str) -> None:
    from renderer.validate.formatmemo import fast_f5ip, memo_formats
    from renderer.validate.formats import is_f5ip

    formats = memo_formats()
    assert fast_f5ip(value) == is_f5ip(value)
    assert formats["f5ip"](value) == is_f5ip(value) == formats["f5ip"](value)
    for name, check in FORMATS.items():
        assert formats[name](value) == bool(check(value)), name


def test_forgetting_programs_changes_nothing(as3_schema: dict[str, Any], bench_adc: dict[str, Any],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fill_module, "MAX_SHAPES", 7)
    monkeypatch.setattr(fill_module, "MAX_PROGRAMS", 1)
    fast, slow = As3Validator(as3_schema), As3Validator(as3_schema, replay=False)
    for adc in (bench_adc, _small(bench_adc), bench_adc):
        assert outcome(fast, adc) == outcome(slow, adc)
    assert len(fast.filler._programs) + len(fast.filler._seen_once) <= 7


# -- compiled programs (replaycode.py) against the interpreter ---------------------------------------

@pytest.mark.parametrize("compile_after", [0, 10**9], ids=["compiled-at-once", "interpreted-only"])
def test_compiled_and_interpreted_programs_fill_as_the_walk(as3_schema: dict[str, Any], walking: As3Validator,
                                                            bench_adc: dict[str, Any], compile_after: int,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Every program compiled on its first replay, and none ever: the same fill, sites and errors as the
    walk on the benchmark render and on every breakage (replays abandoned halfway, then undone)."""
    monkeypatch.setattr(fill_module, "COMPILE_AFTER", compile_after)
    fast = As3Validator(as3_schema)
    adcs = [bench_adc] + [_apply(bench_adc, path, value) for _name, (path, value) in _breakages(bench_adc)]
    for adc in [*adcs, bench_adc]:
        assert outcome(fast, adc) == outcome(walking, adc)
    programs = [p for found in fast.filler._programs.values() for p in found]
    if compile_after:
        assert programs and all(p[3] is None for p in programs)
    else:
        assert sum(callable(p[3]) for p in programs) >= 5  # members, monitors, pools, services, policies


def test_a_compiled_program_stops_and_is_undone_at_the_first_different_answer(as3_schema: dict[str, Any],
                                                                              walking: As3Validator,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fill_module, "COMPILE_AFTER", 0)
    members = [{"addressDiscovery": "static", "serverAddresses": [f"10.0.0.{i}"], "servicePort": 80}
               for i in range(1, 6)]
    members.insert(3, {"addressDiscovery": "fqdn", "serverAddresses": ["10.0.0.9"], "servicePort": 80})
    members.append({"addressDiscovery": "static", "serverAddresses": ["10.0.0.999"], "servicePort": 80})
    adc = {"class": "ADC", "schemaVersion": "3.50.0", "id": "undo",
           "T": {"class": "Tenant", "A": {"class": "Application", "template": "generic",
                                          "p": {"class": "Pool", "members": members}}}}
    fast = As3Validator(as3_schema)
    filled = orjson.loads(assert_same(fast, walking, adc)[0])
    assert "hostname" not in filled["T"]["A"]["p"]["members"][4]
    assert filled["T"]["A"]["p"]["members"][3]["addressFamily"] == "IPv4"
    assert any(callable(p[3]) for found in fast.filler._programs.values() for p in found)


def test_programs_with_unexpected_path_tokens_are_left_to_the_interpreter() -> None:
    from renderer.validate.replaycode import OBSERVE, compile_ops

    assert compile_ops(((OBSERVE, (1.5,), len, 0),), fill_module._values, lambda *a: None, object()) is None
    run = compile_ops(((OBSERVE, ("a", 0), len, 2),), fill_module._values, lambda *a: None, object())
    assert run is not None and run({"a": ["xy"]}, "", 0, fill_module._Ctx()) is True
    assert run({"a": ["xyz"]}, "", 0, fill_module._Ctx()) is False


VALUE_CASES = [1, 1.0, True, False, 0, 0.0, None, "1", "", "static", float("nan"), -0.0, 2**70, [1], {"a": 1}]


@pytest.mark.parametrize("recorded", [*VALUE_CASES, "absent"], ids=repr)
def test_a_compiled_values_check_answers_as_the_tuple_comparison(recorded: Any) -> None:
    """The VALUES op compiled key by key gives what `_values(node, keys) != expected` gives."""
    from renderer.validate.replaycode import VALUES, compile_ops

    keys = ("k", "other")
    source = {"other": "x"} if recorded == "absent" else {"k": recorded, "other": "x"}
    expected = fill_module._values(source, keys)
    run = compile_ops(((VALUES, (), keys, expected),), fill_module._values, lambda *a: None, fill_module._MISSING)
    assert run is not None
    for live in [*VALUE_CASES, "absent"]:
        data = {"other": "x"} if live == "absent" else {"k": live, "other": "x"}
        assert run(data, "", 0, fill_module._Ctx()) is (fill_module._values(data, keys) == expected), (recorded, live)
    assert run({"k": recorded, "other": "y"} if recorded != "absent" else {"other": "y"}, "", 0,
               fill_module._Ctx()) is False


def test_compiled_programs_are_bounded(as3_schema: dict[str, Any], walking: As3Validator, bench_adc: dict[str, Any],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fill_module, "COMPILE_AFTER", 0)
    monkeypatch.setattr(fill_module, "MAX_COMPILED", 2)
    fast = As3Validator(as3_schema)
    assert outcome(fast, bench_adc) == outcome(walking, bench_adc)
    programs = [p for found in fast.filler._programs.values() for p in found]
    assert sum(p[3] is not None for p in programs) == 2 and len(programs) > 2
