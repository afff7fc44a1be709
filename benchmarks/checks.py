"""Correctness of what was measured: the generated repository must render to exactly what it encodes.

A benchmark of a render that silently dropped half the Ingresses would be fast and worthless, so
every run compares the rendered counts with `generate.expected()` before timing anything.
"""

from __future__ import annotations

from typing import Any

from benchmarks.generate import Change, Expected

DIFF_PLAN = "Plan: 1 to add, 2 to change, 1 to destroy."


def rendered_counts(as3: dict[str, Any], net: dict[str, Any]) -> dict[str, int]:
    """Objects in a rendered AS3 + net declaration, counted by kind."""
    counts = {"tenants": 0, "virtual_servers": 0, "pools": 0, "members": 0, "monitors": 0, "policies": 0}
    adc = as3.get("declaration", {})
    for tenant in adc.values():
        if not isinstance(tenant, dict) or tenant.get("class") != "Tenant":
            continue
        counts["tenants"] += 1
        for app in tenant.values():
            if not isinstance(app, dict) or app.get("class") != "Application":
                continue
            for obj in app.values():
                kind = obj.get("class") if isinstance(obj, dict) else None
                if kind in ("Service_HTTP", "Service_HTTPS", "Service_TCP"):
                    counts["virtual_servers"] += 1
                elif kind == "Pool":
                    counts["pools"] += 1
                    counts["members"] += sum(len(m.get("serverAddresses", [])) for m in obj.get("members", []))
                elif kind == "Monitor":
                    counts["monitors"] += 1
                elif kind == "Endpoint_Policy":
                    counts["policies"] += 1
    counts["fdb_records"] = len(net.get("fdb", {}).get("records", []))
    counts["arps"] = len(net.get("arps", []))
    return counts


def count_mismatches(expected: Expected, as3: dict[str, Any], net: dict[str, Any]) -> list[str]:
    """`pools: rendered 11990, expected 12000` for every count that differs (empty when all agree)."""
    got = rendered_counts(as3, net)
    want = expected.as_dict()
    return [f"{key}: rendered {value}, expected {want[key]}" for key, value in got.items() if value != want[key]]


def diff_problems(text: str, change: Change) -> list[str]:
    """The diff must show exactly the two changes the head commit made."""
    wanted = [DIFF_PLAN, f'"{change.balance[0]}" -> "{change.balance[1]}"', f"+ members[{change.pod[1]}:8080]",
              f"- members[{change.pod[0]}:8080]", f"+ ARP {change.pod[1]}", f"- ARP {change.pod[0]}"]
    return [f"diff output lacks {w!r}" for w in wanted if w not in text]
