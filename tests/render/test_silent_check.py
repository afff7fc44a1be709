"""`check_silent` walks the model's origins in batches only until every marked object is found: the
counts are those of the one-object-at-a-time rule over all origins, and the network (100,000 ARPs at
10k Ingresses) is read only for an object no tenant names."""

from __future__ import annotations

import random
from types import SimpleNamespace as NS

import pytest

from renderer.errors import Origin, SourceLocation
from renderer.mapping.silent import check_silent, model_origins
from renderer.model import Arp, Model, Network, Tenant

GROUPS = ("virtual_servers", "pools", "monitors", "policies", "certificates", "tls_servers", "irules", "data_groups",
          "declared")


def _o(kind: str, name: str) -> Origin:
    return Origin(SourceLocation(f"{kind}.yaml", 1), kind, "" if kind == "Node" else "default", name)


class _Unread(list):
    """ARPs that fail the test when anything reads them."""

    def __iter__(self):
        raise AssertionError("the network was read")


def _meta(kind: str, name: str) -> NS:
    return NS(kind=kind, namespace="" if kind == "Node" else "default", name=name)


def _model(groups: dict[str, list[Origin]], arps: list[Arp]) -> Model:
    tenant = Tenant("t", **{g: {f"{g}{i}": NS(origins=[o]) for i, o in enumerate(groups.get(g, []))} for g in GROUPS})
    return Model({"t": tenant}, Network("cluster", [], arps))


def test_the_network_is_not_read_when_the_tenants_name_every_object() -> None:
    model = _model({"virtual_servers": [_o("Ingress", "a")], "pools": [_o("Service", "s")]},
                   _Unread([Arp("10.0.0.1", "m", [_o("Service", "s"), _o("Node", "n1")])]))
    out, counts = check_silent([], [_meta("Ingress", "a"), _meta("Service", "s"), _meta("Ingress", "a")], model, [])
    assert (out, counts.rendered, counts.skipped) == ([], 2, 0)


def test_an_object_only_an_arp_names_is_rendered_and_one_nobody_names_is_skipped() -> None:
    model = _model({"virtual_servers": [_o("Ingress", "a")]},
                   [Arp("10.0.0.1", "m", [_o("Service", "s"), _o("Node", "n1")])])
    _out, counts = check_silent([], [_meta("Node", "n1"), _meta("Ingress", "a"), _meta("Ingress", "gone")], model, [])
    assert (counts.rendered, counts.skipped) == (2, 1)


@pytest.mark.parametrize("seed", range(3))
def test_counts_are_the_rule_over_all_origins(seed: int) -> None:
    rng = random.Random(seed)
    kinds = ["Ingress", "Service", "Node", "ConfigMap"]
    for _ in range(200):
        pick = lambda: _o(rng.choice(kinds), f"x{rng.randrange(6)}")  # noqa: E731
        groups = {g: [pick() for _ in range(rng.randrange(3))] for g in rng.sample(GROUPS, 3)}
        model = _model(groups, [Arp(f"10.0.0.{i}", "m", [pick(), pick()]) for i in range(rng.randrange(3))])
        metas = [_meta(rng.choice(kinds), f"x{rng.randrange(6)}") for _ in range(rng.randrange(8))]
        keys = list(dict.fromkeys((m.kind, m.namespace, m.name) for m in metas))
        named = model_origins(model)
        _out, counts = check_silent([], metas, model, [])
        assert (counts.rendered, counts.skipped) == (sum(k in named for k in keys), sum(k not in named for k in keys))
