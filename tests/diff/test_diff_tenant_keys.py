"""Tenants emitted under one key on both sides (renderer.emit_reuse) are equal without a compare."""

from __future__ import annotations

from typing import Any

from renderer.diff import Side, diff_declarations


class NoCompare(dict):
    """A tenant that must not be compared value by value."""

    def __eq__(self, other: Any) -> bool:
        raise AssertionError("compared")

    __hash__ = None  # type: ignore[assignment]


def _tenant(port: int) -> dict[str, Any]:
    return {"class": "Tenant", "app": {"class": "Application",
                                       "vs": {"class": "Service_HTTP", "virtualPort": port,
                                              "virtualAddresses": ["10.0.0.1"]}}}


def _side(tenants: dict[str, Any], keys: dict[str, str]) -> Side:
    return Side(as3={"class": "ADC", "schemaVersion": "3.0.0", **tenants}, net={}, tenant_keys=keys)


def test_one_key_on_both_sides_skips_the_compare() -> None:
    old = _side({"a": NoCompare(_tenant(80)), "b": _tenant(80)}, {"a": "ka", "b": "kb"})
    new = _side({"a": NoCompare(_tenant(80)), "b": _tenant(81)}, {"a": "ka", "b": "kb2"})
    result = diff_declarations(old, new)  # "a" compared would raise
    assert set(result.tenants) == {"b"}
    assert [c.name for c in result.changes] == ["vs"]


def test_a_changed_tenant_is_reported_whatever_keys_one_side_lacks() -> None:
    for old_keys, new_keys in (({"a": "k1"}, {"a": "k2"}), ({"a": "k1"}, {}), ({}, {"a": "k1"}), ({}, {})):
        result = diff_declarations(_side({"a": _tenant(80)}, old_keys), _side({"a": _tenant(81)}, new_keys))
        assert set(result.tenants) == {"a"}, (old_keys, new_keys)
        assert result.changes[0].properties[0].path == "virtualPort"
