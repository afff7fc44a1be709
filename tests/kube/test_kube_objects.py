"""The fast constructors of renderer/kube/objects.py make the same objects as the dataclasses do."""

from __future__ import annotations

import dataclasses

import pytest
from kube_docs import documents

from renderer.kube.objects import EndpointAddress, ObjectMeta, endpoint_address, object_meta


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
