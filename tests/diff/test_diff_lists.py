"""The diff's shortcuts for long keyed lists (ARPs, FDB records, routes) report exactly what the
full keyed comparison reports: on random lists with duplicates, entries without a name and items
that are not dicts, and on the case where trimming the equal head and tail would be wrong."""

from __future__ import annotations

import random
from typing import Any

import pytest

from renderer import diff
from renderer.diff import Side

_MISSING = object()


def _full(old: Any, new: Any) -> list[diff.Change]:
    """The keyed comparison without the shortcuts: every name of both sides, one by one."""
    ctx = diff._Context(Side(None, None), Side(None, None))
    old_e, new_e = diff._entries(old, "ipAddress"), diff._entries(new, "ipAddress")
    names = [k for k in old_e.keys() | new_e.keys() if old_e.get(k, _MISSING) != new_e.get(k, _MISSING)]
    return diff._compare_named(ctx, diff.NETWORK, old_e, new_e, lambda ip: f"/net/arps/{ip}", "ARP", names=names)


def _fast(old: Any, new: Any) -> list[diff.Change]:
    ctx = diff._Context(Side(None, None), Side(None, None))
    return diff._list_changes(ctx, old, new, "ipAddress", lambda ip: f"/net/arps/{ip}", "ARP")


def _arp(ip: str, mac: str) -> dict[str, Any]:
    return {"name": f"k8s-{ip}", "ipAddress": ip, "macAddress": mac}


def _random_list(rng: random.Random, base: list[Any], odd: bool) -> list[Any]:
    """`base` with a few entries added, removed, changed or duplicated somewhere; with `odd`, maybe
    an entry without a name or an item that is not a dict."""
    out = list(base)
    for _ in range(rng.randrange(4)):
        at = rng.randrange(len(out) + 1)
        what = rng.choice(["add", "remove", "change", "duplicate"] + (["nameless", "junk"] if odd else []))
        if what == "add":
            out.insert(at, _arp(f"10.0.0.{rng.randrange(40)}", rng.choice("ab")))
        elif what == "remove" and out:
            del out[min(at, len(out) - 1)]
        elif what == "change" and out:
            i = min(at, len(out) - 1)
            out[i] = {**out[i], "macAddress": "z"} if isinstance(out[i], dict) else out[i]
        elif what == "duplicate" and out:
            out.insert(at, out[rng.randrange(len(out))])
        elif what == "nameless":
            out.insert(at, {"macAddress": rng.choice("ab")})
        elif what == "junk":
            out.insert(at, rng.choice(["x", 7, None]))
    return out


@pytest.mark.parametrize("few", [diff._FEW_NAMES, 0])  # the middle's names searched one by one, or by one pass
def test_list_changes_equal_the_full_keyed_comparison_on_random_lists(few: int, monkeypatch: pytest.MonkeyPatch
                                                                       ) -> None:
    monkeypatch.setattr(diff, "_FEW_NAMES", few)
    rng = random.Random(20261202)
    for trial in range(3000):
        base = [_arp(f"10.0.0.{i}", rng.choice("ab")) for i in sorted(rng.sample(range(40), rng.randrange(12)))]
        odd = trial % 3 == 0
        old, new = _random_list(rng, base, odd), _random_list(rng, base, odd)
        assert _fast(old, new) == _full(old, new), (old, new)


def test_a_duplicate_name_in_the_equal_head_still_loses_to_its_later_entry() -> None:
    a, b, c = _arp("10.0.0.1", "a"), _arp("10.0.0.2", "b"), _arp("10.0.0.3", "c")
    old = [a, b, {**a, "macAddress": "late"}, c]  # 10.0.0.1 is "late" on the old side
    new = [a, b, c]
    changes = _fast(old, new)
    assert [(ch.kind, ch.name) for ch in changes] == [(diff.CHANGED, "10.0.0.1")]
    assert changes == _full(old, new)


def test_entries_named_by_position_are_never_trimmed() -> None:
    """An item that is not a dict is named `#<index>`: the same item one place later is another
    name, so equal tails do not mean equal names and every name is compared."""
    one = _arp("10.0.0.1", "a")
    old = ["x", one]
    new = [_arp("10.0.0.0", "a"), "x", one]
    changes = _fast(old, new)
    assert [(ch.kind, ch.name) for ch in changes] == [
        (diff.REMOVED, "#0"), (diff.ADDED, "#1"), (diff.ADDED, "10.0.0.0")]
    assert changes == _full(old, new)


def test_differing_keys_are_the_keys_whose_values_differ() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        old = {f"k{rng.randrange(8)}": rng.choice([1, 2, None, [1], {"a": 1}]) for _ in range(rng.randrange(6))}
        new = {f"k{rng.randrange(8)}": rng.choice([1, 2, None, [1], {"a": 1}]) for _ in range(rng.randrange(6))}
        expected = {k for k in old.keys() | new.keys() if old.get(k, _MISSING) != new.get(k, _MISSING)}
        assert diff._differing_keys(old, new) == expected
