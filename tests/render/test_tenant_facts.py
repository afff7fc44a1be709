"""renderer/mapping/tenant_facts.py: a stored tenant's facts say what its model says, and a
`LazyTenant` is its Tenant in everything but when it loads.

For every golden case's tenants: the facts taken from the model (as tenant_reuse stores them,
through marshal) give the same member columns, pool Services, origin keys and sources as the model,
the silent check and the ARPs read the same from either; the lazy tenant loads on the first access
to a dict, applies what `Registry.finish` deferred, and equals, prints and pickles as the model.
"""

from __future__ import annotations

import marshal
import pickle
from pathlib import Path
from types import SimpleNamespace as NS
from typing import Any

import pytest
from test_emit_reuse import _model

from renderer.as3 import as3_sources
from renderer.mapping.silent import model_has_objects, model_origins
from renderer.mapping.tenant_facts import (
    LazyTenant,
    StoredTenantError,
    facts_from,
    member_columns,
    pool_services,
    tenant_facts,
)
from renderer.mapping.tenant_store import origin_value
from renderer.model import TENANT_DICTS, Tenant

CASES = Path(__file__).resolve().parent / "cases"


def _cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "as3-gitops.yaml").is_file()) if CASES.is_dir() else []


def _stored(tenant: Tenant, every_other_known: bool = False) -> tuple[LazyTenant, list[Any]]:
    """`tenant` as tenant_reuse keeps it: facts through marshal, the model behind a loader. The
    known objects are stand-ins holding the tenant's Origins (with `every_other_known`, every other
    Origin is left out of them, so it is stored by value)."""
    origins = {id(o): o for attr in TENANT_DICTS for obj in getattr(tenant, attr).values() for o in obj.origins}
    held = list(origins.values())[::2] if every_other_known else list(origins.values())
    known = [NS(meta=NS(origin=o)) for o in held]
    index = {id(o): i for i, o in enumerate(held)}
    raw = marshal.loads(marshal.dumps(tenant_facts(tenant, lambda o: index[id(o)] if id(o) in index
                                                   else origin_value(o))))
    facts = facts_from(raw, known)
    assert facts is not None
    loads: list[Any] = []
    return LazyTenant.stored(tenant.name, lambda: loads.append(1) or tenant, facts), loads


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
@pytest.mark.parametrize("every_other_known", [False, True])
def test_facts_answer_as_the_model_does(case: Path, every_other_known: bool) -> None:
    model, _config, _tree = _model(case)
    for name, tenant in model.tenants.items():
        lazy, loads = _stored(tenant, every_other_known)
        assert member_columns(lazy) == member_columns(tenant)
        assert pool_services(lazy) == pool_services(tenant)
        assert lazy.stored_facts().has_objects == bool(tenant.virtual_servers or tenant.pools)
        lazy_model = type(model)({name: lazy}, model.network)
        real_model = type(model)({name: tenant}, model.network)
        assert model_origins(lazy_model) == model_origins(real_model)
        assert model_has_objects(lazy_model) == model_has_objects(real_model)
        assert list(as3_sources(lazy_model).items()) == list(as3_sources(real_model).items())  # in order too
        assert loads == [], "a fact loaded the model"


def test_the_facts_of_every_case_were_looked_at() -> None:
    assert len(_cases()) >= 10


def _one_case_tenant() -> Tenant:
    for case in _cases():
        model, _config, _tree = _model(case)
        for tenant in model.tenants.values():
            if tenant.virtual_servers and tenant.pools:
                return tenant
    pytest.skip("no golden case with a virtual server")


def test_a_lazy_tenant_loads_on_first_access_and_then_is_its_tenant() -> None:
    tenant = _one_case_tenant()
    lazy, loads = _stored(tenant)
    vs_name = next(iter(tenant.virtual_servers))
    before = tenant.virtual_servers[vs_name].translate_address
    assert lazy.later(lambda t: setattr(t.virtual_servers[vs_name], "translate_address", not before))
    assert loads == [] and lazy.stored_facts() is not None
    assert lazy.pools is tenant.pools and loads == [1]  # loaded once, for every dict
    assert lazy.virtual_servers is tenant.virtual_servers and loads == [1]
    assert tenant.virtual_servers[vs_name].translate_address is (not before)  # the deferred setting, applied
    assert lazy.stored_facts() is None and not lazy.later(lambda t: None)  # loaded: consumers read the model
    assert lazy == tenant and tenant == lazy and repr(lazy) == repr(tenant)
    assert pickle.loads(pickle.dumps(lazy)) == tenant and type(pickle.loads(pickle.dumps(lazy))) is Tenant


def test_a_model_that_does_not_load_is_a_stored_tenant_error() -> None:
    tenant = _one_case_tenant()
    lazy, _ = _stored(tenant)

    def broken() -> Tenant:
        raise pickle.UnpicklingError("refused")

    lazy._load = broken
    with pytest.raises(StoredTenantError):
        _ = lazy.pools
    other, _ = _stored(tenant)
    other._load = lambda: Tenant("someone-else")
    with pytest.raises(StoredTenantError):
        _ = other.virtual_servers


@pytest.mark.parametrize("damage", ["groups", "keys", "refs", "members", "counts", "value"])
def test_malformed_facts_are_refused(damage: str) -> None:
    tenant = _one_case_tenant()
    raw = tenant_facts(tenant, origin_value)
    if damage == "groups":
        raw["groups"] = raw["groups"][:-1]
    elif damage == "keys":
        raw["origin_keys"] = [[("only", "two")]] * len(TENANT_DICTS)
    elif damage == "refs":
        names, counts, refs = raw["groups"][0]
        raw["groups"][0] = (names, counts, [5] * len(refs))  # no known object 5
    elif damage == "members":
        raw["members"] = (raw["members"][0] + ["10.0.0.1"], *raw["members"][1:])
    elif damage == "counts":
        names, counts, refs = raw["groups"][0]
        raw["groups"][0] = (names, [c + 1 for c in counts], refs)
    else:  # an origin by value that makes no Origin (its line is not a number)
        names, counts, refs = raw["groups"][0]
        raw["groups"][0] = (names, counts, [("m.yaml", "one", None, "Ingress", "ns", "n"), *refs[1:]])
    assert facts_from(raw, []) is None
    assert facts_from(tenant_facts(tenant, origin_value), []) is not None
