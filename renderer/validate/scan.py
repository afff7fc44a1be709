"""One pass over a declaration and its defaults-filled copy, for every check AS3 makes by walking.

AS3 walks the declaration once per check: for property names (on the declaration as sent), for
the arrays it treats as sets (on the declaration after Ajv filled in the defaults), for secrets.
We walk the two trees side by side, once: `o` is the object as sent, `f` the same object filled
(every key of `o` is in `f`; keys only in `f` are defaults and are seen by the set check only).

What the pass collects (`Scan`):
- `words`: every word that could be left in AS3's property-name list (propnames.py), a superset;
- `found`: per property AS3 checks for duplicates, the values AS3's search reaches: once it has
  found any of them it looks into only the first object of every array it meets further on;
  `exact` is False when that rule alone cannot say what it reaches (postchecks replays it then);
- `secrets`: the filled objects that carry both `ciphertext` and `protected`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The arrays AS3 checks for duplicates, in the order it checks them.
DUPLICATE_PROPS = ("rules", "doNotProxyHosts", "members", "certificates", "tcpOptions", "monitors",
                   "persistenceMethods", "iRules")
_DUPLICATE_SET = frozenset(DUPLICATE_PROPS)
# Keys whose insides AS3's property-name check does not look at.
NOT_LOOKED_INTO = frozenset({"metadata", "localZones", "forwardZones", "environmentVariables", "constants",
                             "verifiers"})
VALUE_WORDS = ("class", "template", "logLevel")


@dataclass
class Scan:
    words: list[Any] = field(default_factory=list)
    found: dict[str, list] = field(default_factory=dict)
    exact: bool = True
    secrets: list[dict] = field(default_factory=list)


def _first_container(values: list) -> int:
    for i, item in enumerate(values):
        if type(item) is dict or type(item) is list:
            return i
    return -1


def scan(original: Any, filled: Any, numeric: Any, classed: Any) -> Scan:
    """The pass; `numeric(key)` and `classed(value)` are propnames' rules for keys AS3 drops."""
    out = Scan()
    words = out.words
    known: set[str] = {"class", "constants", "$value"}  # decided: already a word, or never one
    every: dict[str, bool] = {}
    found = out.found
    secrets = out.secrets
    # Stacks of (object as sent or None for a default, filled object), by (seen by the name check,
    # on AS3's narrowed path); the name check sees only objects that were sent.
    stacks: dict[tuple[bool, bool], list[tuple[Any, Any]]] = {(n, p): [] for n in (True, False) for p in (True, False)}
    stacks[(True, True)].append((original, filled))
    pending = True
    while pending:
        pending = False
        for (names, first), stack in stacks.items():
            while stack:
                pending = True
                o, f = stack.pop()
                named = names and o is not None  # a default (no object sent): no names to check
                if type(f) is dict:
                    if named:
                        for key in o.keys() - known:
                            value = o[key]
                            if type(value) is dict and classed(value):
                                continue  # dropped here; another occurrence may still keep it
                            known.add(key)
                            if not numeric(key):
                                words.append(key)
                        for key in VALUE_WORDS:
                            if key in o:
                                words.append(o[key])
                    if not _DUPLICATE_SET.isdisjoint(f):
                        for prop in _DUPLICATE_SET.intersection(f):
                            every[prop] = every.get(prop, True) and first
                            if first:
                                found.setdefault(prop, []).append(f[prop])
                    if "ciphertext" in f and "protected" in f:
                        secrets.append(f)
                    if not named:
                        stack += [(None, v) for v in f.values() if type(v) is dict or type(v) is list]
                    elif NOT_LOOKED_INTO.isdisjoint(o):
                        stack += [(o.get(k), v) for k, v in f.items() if type(v) is dict or type(v) is list]
                    else:
                        for key, value in f.items():
                            if type(value) is dict or type(value) is list:
                                stacks[(key not in NOT_LOOKED_INTO, first)].append((o.get(key), value))
                elif type(f) is list:
                    pick = _first_container(f) if first else -1
                    sent_count = len(o) if named else 0
                    for i, value in enumerate(f):
                        if type(value) is dict or type(value) is list:
                            stacks[(names, i == pick)].append((o[i] if i < sent_count else None, value))
    leading = next((p for p in DUPLICATE_PROPS if p in every), None)
    out.exact = leading is None or every[leading]
    return out
