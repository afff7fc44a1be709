"""Validation one tenant at a time (renderer/validate/tenants.py) and its disk cache give exactly the
findings of the whole-declaration check.

Compared, error by error (pointer, keyword, message, text) and warning by warning: the filled-copy
path (`check_adc`), the per-tenant path without a cache, with a cold cache and with a warm one,
over F5's examples and a seeded loop of random edits of a rendered 50-Ingress declaration, each
edit aimed at one of AS3's checks (cross-tenant ones included: a server name with two addresses in
two tenants, pointers into /Common/Shared and into another tenant, path lengths, autoDelete,
property names, `scratch`, schema errors). A corrupt cache entry is a miss, never trusted.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from bench_package import bench_generate

from renderer.cache import DiskCache
from renderer.validate import As3Validator, validate_rendered
from renderer.validate import as3 as as3_module
from renderer.validate.tenants import TenantKeys, TenantStore, validator_fingerprint

from .conftest import EXAMPLES, schema_path


def _generate(folder: Path, size: int) -> Path:
    generate = bench_generate()
    repo = folder / "repo"
    generate.generate(repo, size)
    return repo


@pytest.fixture(scope="module")
def bench_adc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from renderer.render import render

    result = render(str(_generate(tmp_path_factory.mktemp("bench"), 50)))
    assert result.ok
    return result.adc


def _rows(check: Any) -> list[tuple]:
    return [(e.pointer, e.keyword, e.message, e.text, e.warning) for e in check.errors + check.warnings]


def _store(validator: As3Validator, folder: Path) -> TenantStore:
    return TenantStore(DiskCache(folder), TenantKeys(validator_fingerprint(), validator.schema_hash))


def _all_ways(validator: As3Validator, adc: dict[str, Any], folder: Path) -> list[tuple]:
    """The findings of every path; asserts they agree and that the input is not modified."""
    before = json.dumps(adc)
    whole = _rows(validator.check_adc(adc))
    per_tenant = _rows(validator.check_adc(adc, keep_filled=False))
    cold = _rows(validator.check_adc(adc, keep_filled=False, store=_store(validator, folder / "cold")))
    folder_warm = folder / "warm"
    warm_store = _store(validator, folder_warm)
    warm = _rows(validator.check_adc(adc, keep_filled=False, store=warm_store))
    assert json.dumps(adc) == before
    assert per_tenant == whole
    assert cold == whole
    assert warm == whole
    return whole


def test_per_tenant_equals_the_whole_check_on_f5_examples(as3_schema: dict[str, Any], tmp_path: Path) -> None:
    folder = EXAMPLES / "declarations"
    if not folder.is_dir():
        pytest.skip(f"reference data not found: {folder}")
    validator = As3Validator(as3_schema)
    count = 0
    for path in sorted(folder.glob("*.json")):
        body = json.loads(path.read_bytes())
        for item in body if isinstance(body, list) else [body]:
            adc = item.get("declaration") if isinstance(item, dict) and item.get("class") == "AS3" else item
            if isinstance(adc, dict) and adc.get("class") == "ADC":
                _all_ways(validator, adc, tmp_path)
                count += 1
    assert count >= 60


def _tenants(adc: dict[str, Any]) -> list[str]:
    return [k for k, v in adc.items() if isinstance(v, dict) and v.get("class") == "Tenant"]


def _items(adc: dict[str, Any], rng: random.Random, kind: str | None = None) -> list[tuple[str, str, dict]]:
    found = [(t, name, item) for t in _tenants(adc) for name, item in adc[t]["Shared"].items()
             if isinstance(item, dict) and (kind is None or item.get("class") == kind)]
    rng.shuffle(found)
    return found


def _edit(adc: dict[str, Any], rng: random.Random) -> str:
    """One random edit, aimed at one of AS3's checks; returns its name."""
    tenants = _tenants(adc)
    choice = rng.randrange(14)
    tenant = rng.choice(tenants)
    shared = adc[tenant]["Shared"]
    if choice == 0:  # one server name, two addresses, in two tenants
        pools = _items(adc, rng, "Pool")[:2]
        for i, (_t, _n, pool) in enumerate(pools):
            pool["members"][0]["servers"] = [{"name": "node-x", "address": f"10.9.9.{i + 1}"}]
            pool["members"][0].pop("serverAddresses", None)
        return "node"
    if choice == 1:  # a pointer into /Common/Shared (present or not)
        service = next((i for _t, _n, i in _items(adc, rng) if "pool" in i), None)
        if service is not None:
            service["pool"] = "/Common/Shared/common_pool"
        if rng.random() < 0.5:
            adc["Common"] = {"class": "Tenant", "Shared": {"class": "Application", "template": "shared",
                                                            "common_pool": {"class": "Pool"}}}
        return "common"
    if choice == 2:  # a pointer into another tenant, existing or not
        service = next((i for _t, _n, i in _items(adc, rng) if "pool" in i), None)
        if service is not None:
            service["pool"] = f"/{rng.choice([*tenants, 'nowhere'])}/Shared/x"
        return "cross"
    if choice == 3:  # a dangling pointer in its own tenant
        pools = _items(adc, rng, "Pool")
        if pools:
            del adc[pools[0][0]]["Shared"][pools[0][1]]
        return "dangling"
    if choice == 4:  # a path over 195 characters, or over 255
        shared["x" * rng.choice([180, 250])] = {"class": "Pool"}
        return "path"
    if choice == 5:  # autoDelete outside /Common
        shared["sa"] = {"class": "Service_Address", "virtualAddress": "10.1.1.1", "autoDelete": False}
        return "autoDelete"
    if choice == 6:  # a property AS3 does not know
        item = rng.choice(_items(adc, rng))[2]
        item["proflieHTTP"] = "x"
        return "name"
    if choice == 7:  # a schema error
        item = rng.choice(_items(adc, rng, "Pool"))[2]
        item["loadBalancingMode"] = "no-such-mode"
        return "schema"
    if choice == 8:  # scratch: AS3 skips its pointer processing
        adc["scratch"] = "x"
        return "scratch"
    if choice == 9:  # a duplicate in a set-like array
        pool = rng.choice(_items(adc, rng, "Pool"))[2]
        if pool.get("monitors"):
            pool["monitors"] = pool["monitors"] + pool["monitors"][:1]
        return "duplicate"
    if choice == 10:  # a tenant goes, or one is copied under a new name
        if rng.random() < 0.5 and len(tenants) > 1:
            del adc[tenant]
        else:
            adc[f"{tenant}_copy"] = copy.deepcopy(adc[tenant])
        return "tenant"
    if choice == 11:  # a value changes (a different cache key for that tenant only)
        pool = rng.choice(_items(adc, rng, "Pool"))[2]
        pool["remark"] = f"r{rng.randrange(1000)}"
        return "value"
    if choice == 12:  # an IPv6-like address AS3 accepts (a warning of ours)
        pool = rng.choice(_items(adc, rng, "Pool"))[2]
        for member in pool.get("members", []):
            if member.get("serverAddresses"):
                member["serverAddresses"] = ["1:2:3"]
        return "doubtful"
    adc["id"] = "bad id"
    return "id"


def test_random_edits_give_the_same_findings_cold_warm_and_without_cache(
        as3_schema: dict[str, Any], bench_adc: dict[str, Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    validator = As3Validator(as3_schema)
    streamed = {"failing": 0}
    original = as3_module.check_by_tenant

    def counting(*args: Any) -> Any:
        found = original(*args)  # raises Fallback for what only the whole check may judge
        streamed["failing"] += any(found[k] for k in ("structure", "pointers", "final")) or not found["names_ok"]
        return found

    monkeypatch.setattr(as3_module, "check_by_tenant", counting)
    rng = random.Random(19)
    seen: dict[str, int] = {}
    failing = 0
    adc = copy.deepcopy(bench_adc)
    for _ in range(80):
        if rng.random() < 0.6:
            adc = copy.deepcopy(bench_adc)  # back to the render, else the edits pile up
        name = _edit(adc, rng)
        seen[name] = seen.get(name, 0) + 1
        failing += bool(_all_ways(validator, adc, tmp_path))
    assert len(seen) >= 12 and failing >= 30  # the edits reached the checks, and many fail
    assert streamed["failing"] >= 40  # (3 per-tenant runs each) errors found without the filled copy


def test_a_warm_cache_serves_the_unchanged_tenants(as3_schema: dict[str, Any], bench_adc: dict[str, Any],
                                                  tmp_path: Path) -> None:
    validator = As3Validator(as3_schema)
    store = _store(validator, tmp_path)
    first = _rows(validator.check_adc(bench_adc, keep_filled=False, store=store))
    assert first == [] and store.hits == 0 and store.misses == len(_tenants(bench_adc))
    edited = copy.deepcopy(bench_adc)
    tenant = _tenants(edited)[0]
    next(i for i in edited[tenant]["Shared"].values() if isinstance(i, dict))["remark"] = "changed"
    store = _store(validator, tmp_path)
    assert _rows(validator.check_adc(edited, keep_filled=False, store=store)) == []
    assert (store.hits, store.misses) == (len(_tenants(bench_adc)) - 1, 1)


def test_a_corrupt_cache_entry_is_ignored(as3_schema: dict[str, Any], bench_adc: dict[str, Any],
                                          tmp_path: Path) -> None:
    validator = As3Validator(as3_schema)
    broken = copy.deepcopy(bench_adc)
    pool = next(i for t in _tenants(broken) for i in broken[t]["Shared"].values()
                if isinstance(i, dict) and i.get("class") == "Pool")
    pool["members"][0]["servers"] = [{"name": "n", "address": "10.0.0.1"}]
    other = next(i for t in reversed(_tenants(broken)) for i in broken[t]["Shared"].values()
                 if isinstance(i, dict) and i.get("class") == "Pool")
    other["members"][0]["servers"] = [{"name": "n", "address": "10.0.0.2"}]
    expected = _rows(validator.check_adc(broken))
    assert [r[1] for r in expected] == ["as3:node"]
    _rows(validator.check_adc(broken, keep_filled=False, store=_store(validator, tmp_path)))
    entries = [f for f in (tmp_path / "parse-v1").rglob("*") if f.is_file()]
    assert entries
    for i, entry in enumerate(entries):  # flipped bytes, truncation, another entry's bytes
        data = entry.read_bytes()
        entry.write_bytes(data[:-1] + bytes([data[-1] ^ 1]) if i % 3 == 0 else data[: len(data) // 2]
                          if i % 3 == 1 else entries[0].read_bytes() if entry != entries[0] else b"")
    store = _store(validator, tmp_path)
    assert _rows(validator.check_adc(broken, keep_filled=False, store=store)) == expected
    assert store.hits == 0
    store = _store(validator, tmp_path)  # rewritten on the miss: now served
    assert _rows(validator.check_adc(broken, keep_filled=False, store=store)) == expected
    assert store.hits == len(_tenants(broken))


def test_render_validation_uses_the_cache_and_no_cache_bypasses_it(tmp_path: Path) -> None:
    """The CLI path: validate_rendered with the render's disk cache, then one file edited."""
    from renderer.render import render

    if not schema_path().is_file():
        pytest.skip(f"official AS3 schema not found at {schema_path()}")
    repo = _generate(tmp_path, 30)
    disk = DiskCache(tmp_path / "cache")
    assert validate_rendered(render(str(repo)), repo=repo, as3_schema=str(schema_path()), disk=disk) == []
    written = disk.writes
    assert written >= 2
    manifest = sorted((repo / "manifests").rglob("*.yaml"))[0]
    manifest.write_text(manifest.read_text().replace("balance: round-robin", "balance: least-connections-member"))
    result = render(str(repo))
    disk = DiskCache(tmp_path / "cache")
    assert validate_rendered(result, repo=repo, as3_schema=str(schema_path()), disk=disk) == \
        validate_rendered(result, repo=repo, as3_schema=str(schema_path())) == []
    assert disk.hits >= 1


def test_a_rendered_tenant_is_found_by_its_emit_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the render's cache, a tenant's verdict is keyed by the key its JSON was emitted under
    (no dump, no hash of the JSON); the findings are those without a cache, after an edit too. A
    declaration that is not the render's own objects (a copy) is keyed by content."""
    import copy as copy_module

    from renderer.render import render
    from renderer.source import ParseCache
    from renderer.validate import result as result_module

    if not schema_path().is_file():
        pytest.skip(f"official AS3 schema not found at {schema_path()}")
    repo = _generate(tmp_path, 30)
    seen: list[bool] = []
    real = TenantKeys.key
    monkeypatch.setattr(TenantKeys, "key", lambda self, name, tenant, content=None, emit_key=None: (
        seen.append(emit_key is not None), real(self, name, tenant, content, emit_key))[1])
    disk = DiskCache(tmp_path / "cache")
    first = render(str(repo), cache=ParseCache(disk, remember=False))
    assert result_module._emitted(first) and not result_module._emitted(copy_module.deepcopy(first))
    assert validate_rendered(first, repo=repo, as3_schema=str(schema_path()), disk=disk) == []
    assert seen and all(seen)
    manifest = sorted((repo / "manifests").rglob("*.yaml"))[0]
    manifest.write_text(manifest.read_text().replace("balance: round-robin", "balance: least-connections-member"))
    disk = DiskCache(tmp_path / "cache")
    second = render(str(repo), cache=ParseCache(disk, remember=False))
    seen.clear()
    warm = validate_rendered(second, repo=repo, as3_schema=str(schema_path()), disk=disk)
    assert warm == validate_rendered(render(str(repo)), repo=repo, as3_schema=str(schema_path())) == []
    assert seen and all(seen) and disk.hits >= 1


def test_a_value_orjson_refuses_takes_the_exact_path(as3_schema: dict[str, Any], tmp_path: Path) -> None:
    """An integer beyond 64 bits (JSON allows it) cannot be copied by orjson: the per-tenant path
    hands the declaration to the exact one instead of raising, with or without a cache."""
    member = {"servicePort": 2**70, "serverAddresses": ["10.0.0.1"]}
    adc = {"class": "ADC", "schemaVersion": "3.50.0", "id": "big",
           "T": {"class": "Tenant", "A": {"class": "Application", "p": {"class": "Pool", "members": [member]}}}}
    rows = _all_ways(As3Validator(as3_schema), adc, tmp_path)
    assert [(r[0], r[2]) for r in rows] == [("/T/A/p/members/0/servicePort", "should be <= 65535")]
    shell = {**adc, "label": 2**70}  # at the top level too
    del shell["T"]
    assert _all_ways(As3Validator(as3_schema), shell, tmp_path / "shell")
