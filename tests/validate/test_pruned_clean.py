"""The clean verdict cut to the classes a declaration uses (renderer/validate/pruned.py) never says
yes where the whole schema says no, and says yes on every valid render (else validation would take
the slow exact path: same findings, but slower).

Compared on filled data: F5's example declarations, the hello-world render, a generated
50-Ingress render, and breakages of those aimed at the cut (a member of a class seen nowhere else,
a member without a class, a member that is not an object, a class changed to another one).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema_rs
import orjson
import pytest
from bench_package import bench_generate

from renderer.validate import As3Validator
from renderer.validate.pruned import member_classes

from .conftest import EXAMPLES, HELLO_WORLD


def _filled(validator: As3Validator, adc: Any) -> Any:
    data = orjson.loads(orjson.dumps(adc))
    validator.filler.fill(validator.definitions["ADC"], data)
    return data


@pytest.fixture(scope="module")
def whole(validator: As3Validator) -> Any:
    return jsonschema_rs.Draft7Validator(validator.clean_schema(None), formats=validator.formats,
                                         validate_formats=True)


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    from renderer.render import render

    repo = tmp_path_factory.mktemp("bench") / "repo"
    bench_generate().generate(repo, 50)
    out = []
    for path in (repo, HELLO_WORLD):
        result = render(str(path))
        assert result.ok
        out.append(result.adc)
    return out


def _examples() -> list[Any]:
    if not EXAMPLES.is_dir():
        pytest.skip(f"reference data not found: {EXAMPLES} (../shared is not part of this repository)")
    found = []
    for path in sorted(EXAMPLES.rglob("*.json")):
        try:
            body = json.loads(path.read_bytes())
        except ValueError:
            continue
        adc = body.get("declaration") if isinstance(body, dict) and body.get("class") == "AS3" else body
        if isinstance(adc, dict) and adc.get("class") == "ADC":
            found.append(adc)
    assert len(found) > 20
    return found


def _members(adc: dict) -> list[tuple[str, str, str]]:
    return [(t, a, m) for t, tenant in adc.items() if isinstance(tenant, dict) and tenant.get("class") == "Tenant"
            for a, app in tenant.items() if isinstance(app, dict) and app.get("class") == "Application"
            for m, member in app.items() if isinstance(member, dict) and "class" in member]


def _breakages(adc: dict) -> list[dict]:
    """Each aimed at what the cut relies on: the class of every Application member."""
    out = []
    members = _members(adc)
    for t, a, m in members[:3]:
        for change in ("other", "none", "scalar", "bogus", "shared"):
            broken = copy.deepcopy(adc)
            app = broken[t][a]
            if change == "other":  # a class no other member has: its branch must be compiled in
                app[m] = {**app[m], "class": "Service_UDP" if app[m]["class"] != "Service_UDP" else "Pool"}
            elif change == "none":
                app[m] = {k: v for k, v in app[m].items() if k != "class"}
            elif change == "scalar":
                app[m] = 5
            elif change == "bogus":
                app[m] = {**app[m], "class": "Servce_HTTP"}
            else:  # a member of Shared (Application_Shared is an Application too)
                broken[t]["Shared"] = {"class": "Application", "template": "shared",
                                       "extra": {**app[m], "class": "Service_TCP"}}
            out.append(broken)
    return out


def _agree(validator: As3Validator, whole: Any, adc: Any) -> bool:
    """The cut verdict (a fresh cache of compiled schemas, as in a new process) against the whole
    schema's; returns the cut verdict."""
    validator._rs.clear()
    data = _filled(validator, adc)
    cut = validator._clean_verdict(data)
    full = bool(whole.is_valid(data))
    assert not cut or full, "the cut schema accepted what the whole schema rejects"
    for tenant in (v for v in data.values() if isinstance(v, dict) and v.get("class") == "Tenant"):
        assert not validator.tenant_clean(tenant) or whole.is_valid(tenant)
    return cut


def test_valid_renders_are_clean_with_the_cut_schema(validator: As3Validator, whole: Any, renders: list[Any]) -> None:
    for adc in renders:
        assert _agree(validator, whole, adc)
        assert whole.is_valid(_filled(validator, adc))


def test_examples_agree(validator: As3Validator, whole: Any) -> None:
    """Equal, not only never a wrong yes: F5's examples use many classes, in Shared and /Common too."""
    clean = 0
    for adc in _examples():
        cut = _agree(validator, whole, adc)
        assert cut == bool(whole.is_valid(_filled(validator, adc)))
        clean += cut
    assert clean > 10


def test_breakages_never_pass_where_the_whole_schema_fails(validator: As3Validator, whole: Any,
                                                            renders: list[Any]) -> None:
    seen_failures = 0
    for adc in [*renders, *_examples()[:15]]:
        for broken in _breakages(adc):
            _agree(validator, whole, broken)
            seen_failures += not whole.is_valid(_filled(validator, broken))
    assert seen_failures > 10  # the breakages do break something


def test_classes_found_in_shared_and_common(validator: As3Validator) -> None:
    adc = {"class": "ADC", "Common": {"class": "Tenant", "Shared": {"class": "Application", "template": "shared",
                                                                    "p": {"class": "Pool"}}},
           "T": {"class": "Tenant", "Shared": {"class": "Application", "m": {"class": "Monitor"}},
                 "A": {"class": "Application", "s": {"class": "Service_HTTP"}, "label": "x"}}}
    assert member_classes(adc, validator.definitions) == {"Pool", "Monitor", "Service_HTTP"}
    assert member_classes(adc["T"], validator.definitions) == {"Monitor", "Service_HTTP"}


def test_the_compiled_schema_grows_with_the_classes_seen(validator: As3Validator, renders: list[Any]) -> None:
    """One process judging several declarations keeps one compiled cut schema, widened as needed."""
    validator._rs.clear()
    first = _filled(validator, renders[1])
    assert validator._clean_verdict(first)
    seen_first = validator._rs["__as3_gitops_walk"][0]
    assert validator._clean_verdict(_filled(validator, renders[0]))
    seen_both = validator._rs["__as3_gitops_walk"][0]
    assert seen_first <= seen_both
    assert validator._clean_verdict(first)
    assert validator._rs["__as3_gitops_walk"][0] == seen_both  # no recompile for a subset
