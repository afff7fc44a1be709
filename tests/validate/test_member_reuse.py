"""A changed tenant judged member by member (renderer/validate/members.py) finds exactly what the
whole-declaration check finds.

Each check below starts from a store that judged an earlier version of the declaration (so the
tenants' member tables are there) and compares, error by error and warning by warning, against
the filled-copy path without any cache: over seeded sequences of random edits aimed at AS3's
checks (test_tenant_cache._edit) and at what a member's result depends on (its pointers' targets
going, coming back or changing class; members added, removed, renamed, reordered; the
Application's own keys; a doubtful address). Counters prove that members were kept and others
judged again; a table of the wrong shape is a miss, never trusted.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from renderer.cache import DiskCache
from renderer.validate import As3Validator
from renderer.validate.members import TABLE_FORMAT, app_plan, plans_of, table_key
from renderer.validate.tenants import TenantKeys, TenantStore, validator_fingerprint

from .test_tenant_cache import _edit, _generate, _rows, _tenants


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from renderer.render import render

    result = render(str(_generate(tmp_path_factory.mktemp("bench"), 60)))
    assert result.ok
    return result.adc


def _store(validator: As3Validator, folder: Path) -> TenantStore:
    return TenantStore(DiskCache(folder), TenantKeys(validator_fingerprint(), validator.schema_hash))


def _members(adc: dict[str, Any], tenant: str, kind: str | None = None) -> list[str]:
    shared = adc[tenant]["Shared"]
    return [k for k, v in shared.items() if isinstance(v, dict) and (kind is None or v.get("class") == kind)]


def _member_edit(adc: dict[str, Any], rng: random.Random) -> str:
    """One random edit of what a member's result depends on; returns its name."""
    tenant = rng.choice(_tenants(adc))
    shared = adc[tenant]["Shared"]
    pools = _members(adc, tenant, "Pool")
    choice = rng.randrange(9)
    if choice == 0 and pools:  # a pointer's target goes (and the members pointing to it fail)
        del shared[rng.choice(pools)]
        return "target gone"
    if choice == 1 and pools:  # a target of another class under the pool's name
        shared[rng.choice(pools)] = {"class": "Monitor", "monitorType": "http"}
        return "target class"
    if choice == 2 and pools:  # a new member pointing to an existing pool, or to none
        shared["extra_service"] = {"class": "Service_HTTP", "virtualAddresses": ["10.7.7.7"],
                                   "pool": rng.choice([*pools, "no_such_pool"])}
        return "member added"
    if choice == 3:  # members in another order (the pointer errors' order follows)
        items = list(shared.items())
        rng.shuffle(items)
        shared.clear()
        shared.update(items)
        return "reordered"
    if choice == 4 and pools:  # a pool renamed: its old name dangles, the new one is unused
        old = rng.choice(pools)
        shared[old + "_renamed"] = shared.pop(old)
        return "renamed"
    if choice == 5:  # the Application's own keys
        shared["label"] = f"l{rng.randrange(100)}"
        return "app shell"
    if choice == 6 and pools:  # a member's content changes under the same name
        shared[rng.choice(pools)]["loadBalancingMode"] = rng.choice(["round-robin", "least-connections-member"])
        return "member value"
    if choice == 7 and pools:  # an address AS3 takes, that we warn about
        shared[rng.choice(pools)]["members"][0]["serverAddresses"] = [rng.choice(["1::2::3", "a::b::c"])]
        return "doubtful"
    if pools:  # a monitor reference that dangles
        shared[rng.choice(pools)]["monitors"] = [{"use": "no_such_monitor"}]
        return "monitor"
    return "none"


def _same(validator: As3Validator, adc: dict[str, Any], store: TenantStore) -> list[tuple]:
    """The findings with the store and without any cache, each as a new process would find them (the
    doubtful addresses a validator remembers are forgotten: a kept member must bring its own)."""
    before = json.dumps(adc)
    validator.doubtful.values.clear()
    streamed = _rows(validator.check_adc(adc, keep_filled=False, store=store))
    validator.doubtful.values.clear()
    whole = _rows(validator.check_adc(adc))
    assert json.dumps(adc) == before
    assert streamed == whole
    return whole


def test_random_edits_give_the_findings_of_the_whole_check(as3_schema: dict[str, Any], bench: dict[str, Any],
                                                            tmp_path: Path) -> None:
    validator = As3Validator(as3_schema)
    rng = random.Random(53)
    kept = judged = failing = 0
    seen: dict[str, int] = {}
    adc = copy.deepcopy(bench)
    for step in range(70):
        if rng.random() < 0.3:
            adc = copy.deepcopy(bench)  # back to the render, else the edits pile up
        name = _member_edit(adc, rng) if step % 3 else _edit(adc, rng)
        seen[name] = seen.get(name, 0) + 1
        store = _store(validator, tmp_path)  # a new process: the tables of the last run are on disk
        failing += bool(_same(validator, adc, store))
        kept += store.members_kept
        judged += store.members_judged
    assert len(seen) >= 15 and failing >= 25  # the edits reached the checks, and many fail
    assert kept > 2 * judged > 0  # most members were kept, the changed ones judged


def test_one_changed_pool_judges_it_and_the_members_pointing_to_it(as3_schema: dict[str, Any],
                                                                    bench: dict[str, Any], tmp_path: Path) -> None:
    validator = As3Validator(as3_schema)
    assert _same(validator, bench, _store(validator, tmp_path)) == []
    edited = copy.deepcopy(bench)
    tenant = _tenants(edited)[0]
    pool = _members(edited, tenant, "Pool")[0]
    users = [m for m in _members(edited, tenant) if f'"{pool}"' in json.dumps(edited[tenant]["Shared"][m])]
    assert users
    edited[tenant]["Shared"][pool]["remark"] = "changed"
    store = _store(validator, tmp_path)
    assert _same(validator, edited, store) == []
    assert store.members_judged == 1 + len(users)
    assert store.members_kept == len(_members(edited, tenant)) - 1 - len(users)
    del edited[tenant]["Shared"][pool]  # now the users' pointers dangle: found although they did not change
    store = _store(validator, tmp_path)
    rows = _same(validator, edited, store)
    assert {r[2] for r in rows} == {f"contains path to non-existent object {pool}"}
    assert store.members_judged == len(users)


def test_a_broken_table_is_not_trusted(as3_schema: dict[str, Any], bench: dict[str, Any],
                                                  tmp_path: Path) -> None:
    validator = As3Validator(as3_schema)
    store = _store(validator, tmp_path)
    _same(validator, bench, store)
    edited = copy.deepcopy(bench)
    tenant = _tenants(edited)[0]
    pool = _members(edited, tenant, "Pool")[0]
    del edited[tenant]["Shared"][pool]
    expected = _rows(validator.check_adc(edited))
    assert expected
    key = table_key(store.keys.prefix, tenant)
    table = store.disk.get(key)
    assert table is not None and table[0] == TABLE_FORMAT
    record = next(iter(table[1]["Shared"][1].values()))
    for broken in ((TABLE_FORMAT, {"Shared": ("x", {pool: ("h", -1, True, (None,) * 4, (), ())})}),
                   (TABLE_FORMAT, {"Shared": ("x", {pool: (*record[:5], (("name", None),))})}),
                   (TABLE_FORMAT, {"Shared": ("x", {pool: (*record[:4], ((pool, 3),), ())})}),
                   ("members-0", table[1]), (TABLE_FORMAT, []), None):
        store.disk.put(key, broken)
        assert _same(validator, edited, _store(validator, tmp_path)) == expected


def test_the_plan_of_the_official_schema_and_of_schemas_it_refuses(as3_schema: dict[str, Any]) -> None:
    validator = As3Validator(as3_schema)
    plans = plans_of(validator)
    assert plans is not None
    shared, app = plans.app("Shared"), plans.app("any_app")
    assert shared is not None and app is not None and shared.member_schema is app.member_schema
    assert {"class", "template", "enable", "label", "serviceMain", "ciphertext", "protected"} <= app.reserved
    assert plans.walk_order({"zeta": {}, "Shared": {}, "class": "Tenant"}) == ["class", "Shared", "zeta"]
    ajv = validator.ajv
    member = {"type": "object"}
    assert app_plan(ajv, {"type": "object", "additionalProperties": member}) is not None
    assert app_plan(ajv, {"anyOf": [{"additionalProperties": member}]}) is None  # a choice that may read members
    assert app_plan(ajv, {"allOf": [{"additionalProperties": member}, {"additionalProperties": {}}]}) is None
    assert app_plan(ajv, {"additionalProperties": member, "if": {"minProperties": 3}, "then": {}}) is None
    assert app_plan(ajv, {"additionalProperties": member, "patternProperties": {"^x": {}}}) is None
    plan = app_plan(ajv, {"additionalProperties": member, "required": ["a"],
                          "if": {"properties": {"b": {"const": 1}}}, "then": {"properties": {"c": {}}}})
    assert plan is not None and {"a", "b", "c"} <= plan.reserved


def test_the_summary_equals_the_whole_tenant_ones(as3_schema: dict[str, Any], bench: dict[str, Any],
                                                  tmp_path: Path) -> None:
    """Field by field (the walk's budget spent included), against tenants.tenant_summary, for
    each tenant after an edit of one member of each, from the tables of the unedited render."""
    from renderer.validate import tenants as tenants_module
    from renderer.validate.members import tenant_by_members

    validator = As3Validator(as3_schema)
    _same(validator, bench, _store(validator, tmp_path))
    edited = copy.deepcopy(bench)
    for i, tenant in enumerate(_tenants(edited)):
        pools = _members(edited, tenant, "Pool")
        if i % 2:
            del edited[tenant]["Shared"][pools[0]]
        else:
            edited[tenant]["Shared"][pools[-1]]["members"][0]["serverAddresses"] = ["1::2::3"]  # AS3 takes it, we warn
    outline = {k: (tenants_module.PLACEHOLDER if k in _tenants(edited) else v) for k, v in edited.items()}
    shell = json.loads(json.dumps(outline))
    validator.filler.fill(validator.definitions["ADC"], shell)
    store = _store(validator, tmp_path)
    for tenant in _tenants(edited):
        whole_ctx, member_ctx = validator.filler.context(), validator.filler.context()
        whole = tenants_module.tenant_summary(validator, tenant, edited[tenant], shell, whole_ctx)
        parts = tenant_by_members(validator, tenant, edited[tenant], shell, member_ctx, store)
        assert parts is not None and parts == whole
        assert validator.filler.budget_left(member_ctx) == validator.filler.budget_left(whole_ctx)
    assert store.members_kept > 5 * store.members_judged > 0


def test_kept_members_keep_their_findings_and_what_they_read_outside(as3_schema: dict[str, Any],
                                                                     bench: dict[str, Any], tmp_path: Path) -> None:
    """Findings of members that did not change (long paths, a server name with two addresses, a
    doubtful address), and pointers that read outside their
    Application (into /Common/Shared, from another Application into Shared): after an edit
    elsewhere in the tenant, and after the target outside changed, as without a cache."""
    validator = As3Validator(as3_schema)
    adc = copy.deepcopy(bench)
    first, second, third = _tenants(adc)[:3]
    shared = adc[first]["Shared"]
    pools = _members(adc, first, "Pool")
    shared["p" * 185] = {"class": "Pool"}
    for tenant, address in ((first, "10.9.9.1"), (third, "10.9.9.2")):
        pool = adc[tenant]["Shared"][(pools if tenant == first else _members(adc, tenant, "Pool"))[-1]]
        pool["members"][0]["servers"] = [{"name": "node-x", "address": address}]
        pool["members"][0].pop("serverAddresses", None)
    adc[third]["Shared"][_members(adc, third, "Pool")[0]]["members"][0]["serverAddresses"] = ["1::2::3"]
    adc["Common"] = {"class": "Tenant", "Shared": {"class": "Application", "template": "shared",
                                                    "common_pool": {"class": "Pool"}}}
    outside = adc[second]["Shared"]
    target = _members(adc, second, "Pool")[0]
    service = next(v for v in outside.values() if isinstance(v, dict) and v.get("class") == "Service_HTTP")
    service["pool"] = "/Common/Shared/common_pool"
    adc[second]["A"] = {"class": "Application", "svc": {"class": "Service_TCP", "virtualPort": 81,
                                                       "virtualAddresses": ["10.8.8.8"], "pool": f"/{second}/Shared/{target}"}}
    rows = _same(validator, adc, _store(validator, tmp_path))
    assert {r[1] for r in rows} >= {"as3:path", "as3:node"} and any(r[4] for r in rows)
    for tenant in (first, second, third):  # a change elsewhere in each: the members above are kept
        adc[tenant]["Shared"][_members(adc, tenant, "Pool")[3]]["remark"] = "elsewhere"
    store = _store(validator, tmp_path)
    assert _same(validator, adc, store) == rows and store.members_kept > 0
    del adc["Common"]["Shared"]["common_pool"]  # the targets outside go; the tenant itself is as it was
    assert _same(validator, adc, _store(validator, tmp_path)) != rows
    del outside[target]
    assert _same(validator, adc, _store(validator, tmp_path)) != rows


def test_a_tenant_that_needs_the_whole_way_is_filled_once(as3_schema: dict[str, Any], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """An Application with a pointer in its own keys (an AS3 template's serviceMain) cannot be split:
    with nothing kept, the one fill of the tenant gives its summary, as without a cache."""
    from renderer.validate import fill

    validator = As3Validator(as3_schema)
    app = {"class": "Application", "template": "http",
           "serviceMain": {"class": "Service_HTTP", "virtualAddresses": ["10.0.1.10"], "pool": "web_pool"},
           "web_pool": {"class": "Pool", "members": [{"servicePort": 80, "serverAddresses": ["192.0.2.10"]}]}}
    adc = {"class": "ADC", "schemaVersion": "3.50.0", "id": "one", "T": {"class": "Tenant", "A": app}}
    calls: list[str] = []
    real = fill.Filler.fill_tenant
    monkeypatch.setattr(fill.Filler, "fill_tenant", lambda self, schema, data, path, ctx: (
        calls.append(path), real(self, schema, data, path, ctx))[1])
    for pool in ("web_pool", "no_pool"):
        app["serviceMain"]["pool"] = pool
        calls.clear()
        store = _store(validator, tmp_path)
        rows = _rows(validator.check_adc(adc, keep_filled=False, store=store))
        assert calls == ["/T"] and store.members_kept == 0
        assert rows == _rows(validator.check_adc(adc))
    assert [r[2] for r in rows] == ["contains path to non-existent object no_pool"]


def test_a_tenant_that_stops_splitting_is_filled_twice_once(as3_schema: dict[str, Any], bench: dict[str, Any],
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kept members, then a pointer that leaves its Application: that run fills the partial tenant
    and then the whole one; it empties the table, so the next run fills the tenant once."""
    from renderer.validate import fill

    validator = As3Validator(as3_schema)
    adc = copy.deepcopy(bench)
    tenant = _tenants(adc)[0]
    _same(validator, adc, _store(validator, tmp_path))
    pool = _members(adc, tenant, "Pool")[0]
    adc[tenant]["A"] = {"class": "Application", "svc": {"class": "Service_TCP", "virtualPort": 81,
                                                       "virtualAddresses": ["10.8.8.8"], "pool": f"/{tenant}/Shared/{pool}"}}
    calls: list[str] = []
    real = fill.Filler.fill_tenant
    monkeypatch.setattr(fill.Filler, "fill_tenant", lambda self, schema, data, path, ctx: (
        calls.append(path), real(self, schema, data, path, ctx))[1])
    for remark, fills in (("one", 2), ("two", 1)):
        adc[tenant]["Shared"][pool]["remark"] = remark
        calls.clear()
        store = _store(validator, tmp_path)
        rows = _rows(validator.check_adc(adc, keep_filled=False, store=store))
        assert calls.count(f"/{tenant}") == fills
        assert rows == _rows(validator.check_adc(adc))


def test_a_kept_member_keeps_its_failing_property_name(as3_schema: dict[str, Any], bench: dict[str, Any],
                                                       tmp_path: Path) -> None:
    """A member the schema accepts but whose property name AS3's word check refuses (`proflieSSE`:
    Service_HTTP takes extra properties): kept while another member changes, its verdict comes from
    its record, and the declaration is still refused for that word."""
    validator = As3Validator(as3_schema)
    edited = copy.deepcopy(bench)
    tenant = _tenants(edited)[0]
    service = _members(edited, tenant, "Service_HTTP")[0]
    edited[tenant]["Shared"][service]["proflieSSE"] = {"bigip": "/Common/x"}
    message = "Invalid data property: proflieSSE"
    assert message in {r[2] for r in _same(validator, edited, _store(validator, tmp_path))}
    pool = _members(edited, tenant, "Pool")[-1]
    assert f'"{pool}"' not in json.dumps(edited[tenant]["Shared"][service])  # the service is not its user
    users = [m for m in _members(edited, tenant) if f'"{pool}"' in json.dumps(edited[tenant]["Shared"][m])]
    edited[tenant]["Shared"][pool]["remark"] = "changed"
    store = _store(validator, tmp_path)
    assert message in {r[2] for r in _same(validator, edited, store)}
    # judged again: the pool and its users only, so the service's verdict is the one it kept
    assert store.members_judged == 1 + len(users)
    assert store.members_kept == len(_members(edited, tenant)) - 1 - len(users)
