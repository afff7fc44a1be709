"""Typed reading of one object's fields, shared by the per-kind readers (renderer/kube/<kind>.py).

A field of the wrong type becomes a finding, never an exception. `one` is the cheap call for the
common case (one key, the right type or absent); it falls back to the careful walk of `get`, so a
malformed field gets exactly the finding `get` would give.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from renderer.errors import Finding
from renderer.source import Document

Keys = Sequence[str | int]

_ARTICLE = {"str": "a string", "int": "an integer", "dict": "a mapping", "list": "a list",
            "int/str": "a number or a name", "bool": "true or false"}


_ONLY_STR = frozenset({str})


class Reader:
    """Typed access to one object's fields; wrong types become findings, not exceptions."""

    __slots__ = ("base", "doc", "findings", "what")

    def __init__(self, doc: Document, base: tuple[str | int, ...], findings: list[Finding], what: str):
        self.doc = doc
        self.base = base
        self.findings = findings
        self.what = what

    def bad(self, keys: Keys, message: str, code: str = "K8S002") -> None:
        """A finding at `keys` (from the object's root) of this object."""
        self.findings.append(Finding(code, f"{self.what}: {message}", self.doc.locate(*self.base, *keys)))

    def one(self, obj: Any, key: str, typ: type, default: Any = None, at: tuple[str | int, ...] = ()) -> Any:
        """`get(obj, (key,), typ, default, at=at)` without its walk when the value is absent or exactly `typ`."""
        value = obj.get(key) if isinstance(obj, dict) else None
        if value is None:
            return default
        if type(value) is typ:
            return value
        return self.get(obj, (key,), typ, default, at=at)

    def get(self, obj: Any, keys: Keys, typ: type | tuple[type, ...], default: Any = None,
            *, required: bool = False, at: tuple[str | int, ...] = ()) -> Any:
        """The value at `keys` inside `obj`, which sits at `at` in the object (for the finding's
        position and its dotted path: a nested field's finding points at the field, not the document)."""
        value = obj
        for key in keys:
            if isinstance(value, dict) and isinstance(key, str):
                if key not in value:
                    value = None
                    break
                value = value[key]
            elif isinstance(value, list) and isinstance(key, int) and key < len(value):
                value = value[key]
            else:
                value = None
                break
        if value is None:
            if required:
                self.bad((*at, *keys[:-1]) if len(keys) > 1 or at else keys, f"missing {dotted((*at, *keys))}")
            return default
        if typ is int and isinstance(value, bool):
            value = None
        if not isinstance(value, typ):
            names = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
            self.bad((*at, *keys), f"{dotted((*at, *keys))} must be {_ARTICLE.get(names, names)}")
            return default
        return value


def dotted(keys: Keys) -> str:
    """A field path as people write it: `spec.rules[0].http.paths`."""
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else f".{key}" if out else str(key)
    return out


def plain_strings(raw: dict) -> bool:
    """True when every key and value is a str: the map `string_map` would copy unchanged, with no finding."""
    return {*map(type, raw), *map(type, raw.values())} <= _ONLY_STR  # no Python-level loop: every object asks


def string_map(reader: Reader, obj: Any, keys: Sequence[str]) -> dict[str, str]:
    raw = reader.get(obj, keys, dict, {})
    if plain_strings(raw):
        return dict(raw)
    out: dict[str, str] = {}
    for k, v in raw.items():
        if not isinstance(k, str) or isinstance(v, (dict, list)):
            reader.bad([*keys, str(k)], f"{'.'.join(keys)} values must be strings")
            continue
        # Kubernetes stores annotations and labels as strings; YAML may have typed them.
        out[k] = "true" if v is True else "false" if v is False else "" if v is None else str(v)
    return out


def port_number(r: Reader, obj: Any, keys: Sequence[str], where: tuple[str | int, ...],
                required: bool = False) -> int | None:
    """A port as Kubernetes accepts it: an integer from 1 to 65535 (a finding, not a crash, for 10**30)."""
    if len(keys) == 1 and isinstance(obj, dict):  # the common cases, with no finding to make
        port = obj.get(keys[0])
        if type(port) is int and 1 <= port <= 65535:
            return port
        if port is None and not required:
            return None
    port = r.get(obj, keys, int, required=required, at=where)
    if port is not None and not 1 <= port <= 65535:
        r.bad([*where, *keys], f"{dotted((*where, *keys))} must be from 1 to 65535")
        return None
    return port
