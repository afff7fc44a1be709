"""`model_origins`: the (kind, namespace, name) of every origin anywhere in the model, whichever
object holds it and whether Origins are shared objects or merely equal."""

from __future__ import annotations

from types import SimpleNamespace as NS

from renderer.errors import Origin, SourceLocation
from renderer.mapping.silent import model_origins
from renderer.model import Arp, FdbRecord, Model, Network, Override, RawTenant, Tenant

GROUPS = ("virtual_servers", "pools", "monitors", "policies", "certificates", "tls_servers", "irules", "data_groups",
          "declared")


def _o(kind: str, name: str, path: str = "a.yaml", namespace: str = "default") -> Origin:
    return Origin(SourceLocation(path, 1), kind, namespace, name)


def test_every_holder_of_origins_counts_and_equal_origins_are_one_key() -> None:
    shared = _o("Service", "shared")
    tenants = {}
    for t in ("t1", "t2"):
        groups = {g: {"x": NS(origins=[_o("Kind", f"{t}-{g}"), shared])} for g in GROUPS}
        groups["pools"]["empty"] = NS(origins=[])
        tenants[t] = Tenant(t, **groups)
    raw = {"r": RawTenant("r", {}, [_o("ConfigMap", "as3")])}
    network = Network("cluster", [FdbRecord("aa:bb:cc:00:00:01", "192.0.2.1", [_o("Node", "n1", namespace="")])],
                      [Arp("10.0.0.1", "m", [shared, _o("Node", "n2", namespace="")]),
                       Arp("10.0.0.2", "m", [_o("Service", "shared", "elsewhere.yaml"),  # equal key, other object
                                             _o("Endpoints", "shared")])])
    model = Model(tenants, network, raw, Override({}, _o("ConfigMap", "override")))
    expected = {("Kind", "default", f"{t}-{g}") for t in ("t1", "t2") for g in GROUPS} | {
        ("Service", "default", "shared"), ("ConfigMap", "default", "as3"), ("Node", "", "n1"), ("Node", "", "n2"),
        ("Endpoints", "default", "shared"), ("ConfigMap", "default", "override")}
    assert model_origins(model) == expected
    model.override = None
    assert model_origins(model) == expected - {("ConfigMap", "default", "override")}
