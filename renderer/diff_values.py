"""Value-level keyed comparison and secret redaction, shared by the declaration diff.

Lists get stable keys before they are compared (address lists as sets, pool members by
address:port, anything with unique `name`s by name), so reordering never shows as a change.
Every value that leaves this module is redacted: private keys and passphrases become
`<redacted, sha256:xxxxxxxx>`, so no writer can leak them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import orjson

ADDED, CHANGED, REMOVED = "added", "changed", "removed"
SET_LISTS = frozenset({"serverAddresses", "virtualAddresses"})
ORDERED_KEYED = frozenset({"rules"})  # Endpoint_Policy rules: first-match, so order is meaningful
SECRET_KEYS = frozenset({"privateKey", "passphrase", "ciphertext"})


@dataclass(frozen=True)
class PropertyChange:
    """One property inside an object: `path` like `members[10.244.1.5:8080].servicePort`."""

    path: str
    kind: str
    old: Any = None
    new: Any = None


# --- redaction -------------------------------------------------------------------------------


def canonical(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # ints beyond 64 bits
        return json.dumps(value, sort_keys=True).encode()


def fingerprint(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()[:8]


def redact(value: Any, key: str | None = None) -> Any:
    """Replace private keys and passphrases (by key name or PEM content) with a short hash."""
    if key in SECRET_KEYS or (isinstance(value, str) and "PRIVATE KEY-----" in value):
        return f"<redacted, sha256:{fingerprint(value)}>"
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


# --- keyed comparison ------------------------------------------------------------------------


def keyed(key: str | None, items: list) -> dict[str, Any] | None:
    """Give list items stable keys (set element, member address, rule name) or None (positional)."""
    if key in SET_LISTS and all(isinstance(i, str | int | float) for i in items):
        return {str(i): i for i in items}
    if not all(isinstance(i, dict) for i in items):
        return None
    if key == "members":
        out: dict[str, Any] = {}
        for member in items:
            addresses = member.get("serverAddresses")
            if not isinstance(addresses, list) or not addresses:
                addresses = [member.get("hostname") or member.get("bigip") or fingerprint(member)]
            body = {k: v for k, v in member.items() if k != "serverAddresses"}
            for address in addresses:
                port = member.get("servicePort")
                name = f"{address}:{port}" if port is not None else str(address)
                while name in out:
                    name += "+"
                out[name] = body
        return out
    names = [i.get("name") for i in items]
    if all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
        return dict(zip(names, items, strict=True))  # type: ignore[arg-type]
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def diff_values(path: str, key: str | None, old: Any, new: Any, out: list[PropertyChange]) -> None:
    """Append the property changes between `old` and `new` (found at `path`) to `out`."""
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict) and key not in SECRET_KEYS:
        for k in sorted(old.keys() | new.keys()):
            sub = _join(path, k)
            if k not in new:
                out.append(PropertyChange(sub, REMOVED, old=redact(old[k], k)))
            elif k not in old:
                out.append(PropertyChange(sub, ADDED, new=redact(new[k], k)))
            else:
                diff_values(sub, k, old[k], new[k], out)
        return
    if isinstance(old, list) and isinstance(new, list):
        old_keyed, new_keyed = keyed(key, old), keyed(key, new)
        if old_keyed is not None and new_keyed is not None:
            for k in sorted(old_keyed.keys() | new_keyed.keys()):
                sub = f"{path}[{k}]"
                if k not in new_keyed:
                    out.append(PropertyChange(sub, REMOVED, old=redact(old_keyed[k], key)))
                elif k not in old_keyed:
                    out.append(PropertyChange(sub, ADDED, new=redact(new_keyed[k], key)))
                else:
                    diff_values(sub, None, old_keyed[k], new_keyed[k], out)
            if key in ORDERED_KEYED:
                common = old_keyed.keys() & new_keyed.keys()
                old_order = [k for k in old_keyed if k in common]
                new_order = [k for k in new_keyed if k in common]
                if old_order != new_order:
                    out.append(PropertyChange(f"{path} (order)", CHANGED, old=old_order, new=new_order))
            return
    out.append(PropertyChange(path, CHANGED, old=redact(old, key), new=redact(new, key)))


def expand(kind: str, obj: Any) -> tuple[PropertyChange, ...]:
    """The properties of a whole added/removed object, keyed lists one line per entry."""
    if not isinstance(obj, dict):
        value = redact(obj)
        return (PropertyChange("", kind, old=value if kind == REMOVED else None,
                               new=value if kind == ADDED else None),)
    out: list[PropertyChange] = []
    for k in sorted(obj):
        if k == "class":  # already in the change's header
            continue
        value = obj[k]
        by_key = keyed(k, value) if isinstance(value, list) else None
        entries = [(f"{k}[{ek}]", ev) for ek, ev in by_key.items()] if by_key else [(k, value)]
        for path, v in entries:
            shown = redact(v, k)
            out.append(PropertyChange(path, kind, old=shown if kind == REMOVED else None,
                                      new=shown if kind == ADDED else None))
    return tuple(out)
