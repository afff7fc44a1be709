"""RFC 6902 JSON Patch (add, remove, replace, move, copy) the way AS3's PATCH uses it.

`test` is refused by AS3 before this runs. Two error classes mirror AS3's two answers:
`InvalidPatchOperation` (422, the op itself is malformed) and `PatchFailed` (400, the op does not
fit the document, e.g. `replace` of a property the base declaration does not have).
"""

from __future__ import annotations

import copy
from typing import Any

OPS = ("add", "remove", "replace", "move", "copy")


class InvalidPatchOperation(ValueError):
    pass


class PatchFailed(ValueError):
    pass


def split_pointer(pointer: Any) -> list[str]:
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        raise InvalidPatchOperation(f"path must be a JSON pointer: {pointer!r}")
    if pointer == "":
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def check_operation(op: Any) -> None:
    """Structural checks that need no document."""
    if not isinstance(op, dict):
        raise InvalidPatchOperation("each patch operation must be an object")
    if op.get("op") not in OPS:
        raise InvalidPatchOperation(f"unknown op {op.get('op')!r}")
    split_pointer(op.get("path"))
    if op["op"] in ("add", "replace") and "value" not in op:
        raise InvalidPatchOperation(f"op '{op['op']}' needs a value")
    if op["op"] in ("move", "copy"):
        split_pointer(op.get("from"))


def _index(container: list[Any], token: str, allow_end: bool) -> int:
    if allow_end and token == "-":
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchFailed(f"invalid array index {token!r}")
    index = int(token)
    limit = len(container) + (1 if allow_end else 0)
    if index >= limit:
        raise PatchFailed(f"array index {index} out of range")
    return index


def _parent(doc: Any, parts: list[str], pointer: str) -> Any:
    node = doc
    for token in parts[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, False)]
        else:
            raise PatchFailed(f"path {pointer} does not exist")
    return node


def _get(doc: Any, pointer: str) -> Any:
    parts = split_pointer(pointer)
    if not parts:
        return doc
    parent = _parent(doc, parts, pointer)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, False)]
    raise PatchFailed(f"path {pointer} does not exist")


def _remove(doc: Any, pointer: str) -> Any:
    parts = split_pointer(pointer)
    if not parts:
        raise PatchFailed("cannot remove the whole document")
    parent = _parent(doc, parts, pointer)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, False))
    raise PatchFailed(f"path {pointer} does not exist")


def _add(doc: Any, pointer: str, value: Any, replace: bool = False) -> Any:
    parts = split_pointer(pointer)
    if not parts:
        return value
    parent = _parent(doc, parts, pointer)
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchFailed(f"path {pointer} does not exist")
        parent[last] = value
    elif isinstance(parent, list):
        if replace:
            parent[_index(parent, last, False)] = value
        else:
            parent.insert(_index(parent, last, True), value)
    else:
        raise PatchFailed(f"path {pointer} does not exist")
    return doc


def apply_patch(document: Any, operations: list[dict[str, Any]]) -> Any:
    """A patched deep copy of `document`; the input is never changed."""
    doc = copy.deepcopy(document)
    for op in operations:
        check_operation(op)
        kind, path = op["op"], op["path"]
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "replace":
            doc = _add(doc, path, copy.deepcopy(op["value"]), replace=True)
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "move":
            doc = _add(doc, path, _remove(doc, op["from"]))
        else:  # copy
            doc = _add(doc, path, copy.deepcopy(_get(doc, op["from"])))
    return doc
