"""Every object an iRule of ours names literally (`/<tenant>/<app>/<name>`: a data group, a pool) is
declared: BIG-IP checks literal names when it saves an iRule, and AS3's pointer check does not look
into iRule text. Judged on every golden declaration (they cover each mapping that writes iRules)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
GOLDEN = sorted([*HERE.glob("cases/*/expected/as3.json"), *HERE.glob("*-expected/as3.json")])
# a path of three names, not inside a longer word or path (URLs and HTTP paths in strings are not names)
_PATH = re.compile(r"(?<![\w/.:-])/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)(?![\w/.-])")


def unresolved(adc: dict[str, Any]) -> list[str]:
    """`<iRule path>: <name>` for each literal /tenant/app/name in iRule text that the declaration
    lacks (names in other partitions, /Common included, are the device's and not judged)."""
    tenants = {k: v for k, v in adc.items() if isinstance(v, dict) and v.get("class") == "Tenant"}
    declared = {f"/{t}/{a}/{o}" for t, tv in tenants.items() for a, av in tv.items()
                if isinstance(av, dict) and av.get("class") == "Application" for o in av}
    out = []
    for t, tv in tenants.items():
        for a, av in tv.items():
            for o, ov in (av.items() if isinstance(av, dict) and av.get("class") == "Application" else ()):
                text = ov.get("iRule") if isinstance(ov, dict) and ov.get("class") == "iRule" else None
                for m in _PATH.finditer(text if isinstance(text, str) else ""):
                    if m.group(1) in tenants and m.group(0) not in declared:
                        out.append(f"/{t}/{a}/{o}: {m.group(0)}")
    return out


def test_the_check_finds_a_name_that_is_not_declared() -> None:
    adc = {"class": "ADC", "T": {"class": "Tenant", "Shared": {
        "class": "Application", "dg": {"class": "Data_Group"},
        "r": {"class": "iRule", "iRule": "when X { class match a equals /T/Shared/dg; pool /T/Shared/nope;"
                                          " HTTP::redirect https://h/T/Shared/x; log /Common/Shared/y }"}}}}
    assert unresolved(adc) == ["/T/Shared/r: /T/Shared/nope"]


@pytest.mark.parametrize("path", GOLDEN, ids=[str(p.relative_to(HERE).parent) for p in GOLDEN])
def test_golden_irules_name_only_declared_objects(path: Path) -> None:
    adc = json.loads(path.read_text())["declaration"]
    assert unresolved(adc) == []
