"""The fast constructors of renderer/kube/objects.py make the same objects as the dataclasses do, and a
subset with packed addresses (as the view cache revives it) is the subset once read."""

from __future__ import annotations

import dataclasses

import pytest
from kube_docs import documents

from renderer.kube.objects import (
    EndpointAddress,
    EndpointPort,
    EndpointSubset,
    ObjectMeta,
    endpoint_address,
    object_meta,
    pack_addresses,
    packed_well_formed,
    unpack_addresses,
)


def _slots(obj: object) -> dict[str, object]:
    """Every slot, those left out of eq and repr (doc, base, _origin) included."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}  # type: ignore[arg-type]


def test_object_meta_is_the_dataclass_constructor():
    doc = documents("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n")[0]
    args = ("Service", "v1", "shop", "web", {"app": "web"}, {"a": "b"}, doc, ("items", 0))
    fast, slow = object_meta(*args), ObjectMeta(*args)
    assert type(fast) is ObjectMeta
    assert (fast, repr(fast), hash(fast.kind), _slots(fast)) == (slow, repr(slow), hash(slow.kind), _slots(slow))
    assert fast.doc is doc and fast.base == ("items", 0) and fast._origin is None
    assert fast.origin == slow.origin  # the lazily made Origin works on both
    assert [f.name for f in dataclasses.fields(ObjectMeta)] == [
        "kind", "api_version", "namespace", "name", "labels", "annotations", "doc", "base", "_origin"]


def test_endpoint_address_is_the_dataclass_constructor():
    for args in (("10.0.0.1", "n1", True), ("10.0.0.2", None, False)):
        fast, slow = endpoint_address(*args), EndpointAddress(*args)
        assert type(fast) is EndpointAddress
        assert (fast, repr(fast), hash(fast), _slots(fast)) == (slow, repr(slow), hash(slow), _slots(slow))
    assert [f.name for f in dataclasses.fields(EndpointAddress)] == ["ip", "node_name", "ready"]


def test_fast_objects_stay_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        endpoint_address("10.0.0.1", None, True).ip = "10.0.0.9"  # type: ignore[misc]


ADDRESSES = (EndpointAddress("10.0.0.1", "n1", True), EndpointAddress("10.0.0.2", None, False),
             EndpointAddress("fd00::3", "", True))


def _packed_subset(packed: tuple[str, str, str], ports: tuple[EndpointPort, ...]) -> EndpointSubset:
    """A subset as the view cache revives it: `addresses` unset, `_packed` set."""
    subset = object.__new__(EndpointSubset)
    EndpointSubset.ports.__set__(subset, ports)  # type: ignore[attr-defined]
    EndpointSubset._packed.__set__(subset, packed)  # type: ignore[attr-defined]
    return subset


def test_packed_addresses_unpack_into_the_same_addresses():
    packed = pack_addresses(ADDRESSES)
    assert packed is not None and packed_well_formed([packed])
    made = unpack_addresses(packed)
    assert made == ADDRESSES and [type(a.ready) for a in made] == [bool] * 3
    assert [_slots(a) for a in made] == [_slots(a) for a in ADDRESSES]


@pytest.mark.parametrize("addresses", [(), (EndpointAddress("10.0.0.1\n10.0.0.2", "n1", True),),
                                       (EndpointAddress("10.0.0.1", "n\n1", True),),
                                       (EndpointAddress("10.0.0.1", "\0", True),),
                                       (EndpointAddress("10.0.0.1", "n1", 1),)])  # type: ignore[arg-type]
def test_addresses_that_would_not_unpack_the_same_are_not_packed(addresses):
    assert pack_addresses(addresses) is None


@pytest.mark.parametrize("packed", [("10.0.0.1", "n1", "12"), ("10.0.0.1\n10.0.0.2", "n1", "11"),
                                    ("10.0.0.1", "n1\nn2", "1"), ("", "", ""), ("10.0.0.1", None, "1"),
                                    ("10.0.0.1", "n1")])
def test_packed_addresses_of_another_shape_are_refused(packed):
    assert not packed_well_formed([pack_addresses(ADDRESSES), packed])


def test_a_packed_subset_is_the_subset_once_read():
    ports = (EndpointPort("http", 8080, "TCP"),)
    eager = EndpointSubset(ADDRESSES, ports)
    lazy = _packed_subset(pack_addresses(ADDRESSES), ports)  # type: ignore[arg-type]
    assert type(lazy) is EndpointSubset
    assert lazy == eager and hash(lazy) == hash(eager) and repr(lazy) == repr(eager)
    lazy = _packed_subset(pack_addresses(ADDRESSES), ports)  # type: ignore[arg-type]
    first = lazy.addresses
    assert first == ADDRESSES and lazy.addresses is first  # made once
    assert _slots(lazy) == _slots(eager) and lazy._packed is None
    with pytest.raises(AttributeError):
        lazy.nothing  # noqa: B018
    with pytest.raises(dataclasses.FrozenInstanceError):
        lazy.addresses = ()  # type: ignore[misc]
    assert eager._packed is None and [f.name for f in dataclasses.fields(EndpointSubset)] == [
        "addresses", "ports", "_packed"]
