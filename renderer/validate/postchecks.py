"""The checks AS3 3.56.0 makes on a declaration outside its JSON schema, in AS3's order.

Before the schema: the declaration `id` ("declaration lacks valid 'id' property"). After it, on
the declaration with its defaults filled: full paths over 255 characters, one node (server) name
with two addresses, duplicate values in the arrays AS3 treats as sets, a Secret whose `protected`
header is not JSON, paths over 195 characters, and `Service_Address` with `autoDelete: false`
outside /Common. Each is AS3's rule and message; the pointer says where in the declaration.

The duplicate search reproduces how AS3 looks for those arrays: once it has found any of them,
it looks into only the first object of every array it meets further on (a duplicate in the
second pool member's `monitors` is not found). scan.py gets that from its one pass in the
common case; `_replay_find` replays AS3's search exactly when the answer could differ.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import orjson

from renderer.validate.ajv import AjvError
from renderer.validate.scan import DUPLICATE_PROPS, Scan

__all__ = ["ItemChecks", "Scan", "checks_of", "final_errors", "fold_items", "id_errors", "item_checks",
           "late_text", "node_errors", "secret_errors", "structure_errors"]

MAX_PATH_LENGTH = 195
MAX_FULL_PATH = 255
_ID_RX = re.compile(r"[^\x00-\x20\x22'<>\x5c^`|\x7f]{0,255}\Z")
_INTEGRAL_FLOAT = re.compile(rb"[:\[,]-?[0-9]+(?:\.[0-9]+)?[eE]|[:\[,]-?[0-9]+\.0+[,\]}]")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _js_length(text: str) -> int:
    """String length as JavaScript counts it (UTF-16 code units)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def _classed(value: Any, name: str | None = None) -> bool:
    return isinstance(value, dict) and (value.get("class") == name if name else bool(value.get("class")))


def _apps(adc: dict[str, Any]):
    """(tenant, application, application object) for every Tenant/Application, in key order."""
    for tenant, body in adc.items():
        if _classed(body, "Tenant"):
            for app, items in body.items():
                if _classed(items, "Application"):
                    yield tenant, app, items


def id_errors(adc: Any) -> list[AjvError]:
    """AS3 checks the id before the schema (absent, "" , "generate" and null get a generated id)."""
    ident = adc.get("id") if isinstance(adc, dict) else None
    if isinstance(ident, str) and ident != "generate" and not _ID_RX.match(ident):
        return [AjvError("/id", "as3:id", "declaration lacks valid 'id' property",
                         text="declaration lacks valid 'id' property")]
    return []


class ItemChecks(NamedTuple):
    """What the checks after the schema find at one item (a key of an Application), alone: AS3
    reports the first full path, the last long path and the first autoDelete of all items in key
    order, and the node-name check reads every item's servers."""

    full: tuple[str, str] | None  # (pointer, text) of a full path over 255 characters
    late: tuple[str, str] | None  # (pointer, path) of a classed item's path over 195 characters
    auto: tuple[str, str] | None  # (pointer, text) of autoDelete false outside /Common
    servers: list[tuple[str, Any, str]]  # (name, address, pointer) of a Pool's member servers


_FULL_TEXT = "The path {} exceeds the 255 full path character limit"
_AUTO_TEXT = "Disabling auto-delete for service addresses in non-common tenants is not supported."


def item_checks(tenant: str, app: str, item: str, value: Any) -> ItemChecks:
    """The checks of one item of /tenant/app (filled)."""
    path = f"/{tenant}/{app}/{item}"
    length = _js_length(path)
    classed = _classed(value)
    cls = value.get("class") if classed else None
    if length <= MAX_PATH_LENGTH and cls != "Service_Address" and cls != "Pool":
        return _NOTHING  # the common case: nothing to note, no pointer to spell
    pointer = f"/{_escape(tenant)}/{_escape(app)}/{_escape(item)}"
    full = (pointer, _FULL_TEXT.format(path)) if length > MAX_FULL_PATH else None
    late = (pointer, path) if classed and length > MAX_PATH_LENGTH else None
    auto = None
    servers: list[tuple[str, Any, str]] = []
    if classed:
        if cls == "Service_Address" and tenant != "Common" and value.get("autoDelete") is False:
            auto = (pointer + "/autoDelete", _AUTO_TEXT)
        elif cls == "Pool":
            for m, member in enumerate(value.get("members") or ()):
                found = member.get("servers") if isinstance(member, dict) else None
                for s, server in enumerate(found if isinstance(found, list) else ()):
                    if isinstance(server, dict):
                        servers.append((str(server.get("name")), server.get("address"),
                                        f"{pointer}/members/{m}/servers/{s}"))
    return ItemChecks(full, late, auto, servers)


_NOTHING = ItemChecks(None, None, None, [])  # never appended to: fold_items copies servers


def fold_items(checks: Iterable[ItemChecks]) -> ItemChecks:
    """The checks of items in AS3's order as one: the first full path, the last long path, the
    first autoDelete, every server."""
    full = late = auto = None
    servers: list[tuple[str, Any, str]] = []
    for one in checks:
        full = full or one.full
        late = one.late or late
        auto = auto or one.auto
        servers += one.servers
    return ItemChecks(full, late, auto, servers)


def checks_of(adc: dict[str, Any]) -> ItemChecks:
    """The item checks of every Tenant/Application item of a filled declaration, folded."""
    return fold_items(item_checks(tenant, app, item, value) for tenant, app, items in _apps(adc)
                      for item, value in items.items())


def _full_path(checks: ItemChecks) -> list[AjvError]:
    found = checks.full
    return [AjvError(found[0], "as3:path", found[1], text=found[1])] if found else []


def node_errors(servers: list[tuple[str, Any, str]]) -> list[AjvError]:
    """One server name, two addresses (AS3 keeps the first address it saw for a name)."""
    seen: dict[str, Any] = {}
    duplicates: list[str] = []
    where = ""
    for key, address, pointer in servers:
        if seen.get(key) and seen[key] != address:
            duplicates.append(key)
            where = where or pointer
        else:
            seen[key] = address
    if not duplicates:
        return []
    text = ("The node name must be unique throughout the declaration. "
            f"Duplicate node name '{','.join(duplicates)}' found.")
    return [AjvError(where, "as3:node", text, text=text)]


def _set_key(item: Any) -> Any:
    """Equal keys for items AS3 finds equal (`===` on scalars, deep equality on objects)."""
    if type(item) is str:
        return item
    if isinstance(item, bool):
        return ("boolean", item)
    if item is None:
        return ("null",)
    if isinstance(item, int | float):
        return ("number", item)
    raw = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
    if _INTEGRAL_FLOAT.search(raw):  # 80.0 and 80 are one number in JavaScript
        raw = orjson.dumps(_normal(item), option=orjson.OPT_SORT_KEYS)
    return ("object", raw)


def _normal(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def has_duplicates(values: list) -> bool:
    seen = set()
    for item in values:
        key = _set_key(item)
        if key in seen:
            return True
        seen.add(key)
    return False


def _first_container(values: list) -> int:
    for i, item in enumerate(values):
        if isinstance(item, dict | list):
            return i
    return len(values)


def _replay_find(adc: Any) -> dict[str, list]:
    """AS3's search, property by property, with its shared "found" flag (recursive order)."""
    found: dict[str, list] = {}
    flag = [False]

    def find(node: Any, prop: str) -> None:
        stack = [iter(node.items() if isinstance(node, dict) else enumerate(node))]
        kinds = [isinstance(node, list)]
        while stack:
            try:
                key, value = next(stack[-1])
            except StopIteration:
                stack.pop()
                kinds.pop()
                if stack and kinds[-1] and flag[0]:
                    stack[-1] = iter(())  # an array stops after an object once anything was found
                continue
            if not kinds[-1] and key == prop:
                found.setdefault(prop, []).append(value)
                flag[0] = True
            if isinstance(value, dict | list):
                stack.append(iter(value.items() if isinstance(value, dict) else enumerate(value)))
                kinds.append(isinstance(value, list))

    for prop in DUPLICATE_PROPS:
        find(adc, prop)
    return found


def _duplicate_errors(adc: Any, found: dict[str, list], no_duplicates: Callable[[list], bool]) -> list[AjvError]:
    arrays = [values for prop in DUPLICATE_PROPS for values in found.get(prop, ()) if type(values) is list]
    if no_duplicates(arrays):  # one call answers for all of them (the common case)
        return []
    for prop in DUPLICATE_PROPS:
        for values in found.get(prop, ()):
            if isinstance(values, list) and has_duplicates(values):
                text = f"declaration has duplicate values in {prop}"
                return [AjvError(_pointer_of(adc, values) or "", "as3:duplicate", text, text=text)]
    return []


def _pointer_of(root: Any, target: Any) -> str | None:
    """The JSON pointer of the object `target` (by identity) inside `root` (error path only)."""
    todo: list[tuple[Any, str]] = [(root, "")]
    while todo:
        node, pointer = todo.pop()
        if node is target:
            return pointer
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        todo += [(v, f"{pointer}/{_escape(str(k))}") for k, v in items if isinstance(v, dict | list)]
    return None


def _node_base64(text: str) -> bytes:
    """Node's Buffer.from(text, 'base64'): both alphabets, other characters skipped, stop at '='."""
    clean = "".join(c for c in text.split("=", 1)[0] if c.isascii() and (c.isalnum() or c in "+/-_"))
    clean = clean.replace("-", "+").replace("_", "/")
    clean = clean[: len(clean) - (len(clean) % 4 == 1)]
    try:
        return base64.b64decode(clean + "=" * (-len(clean) % 4))
    except (binascii.Error, ValueError):
        return b""


def _js_parse_error(text: str) -> str | None:
    """V8's JSON.parse message for text it refuses (positions as Python's parser finds them)."""
    def no_constants(name: str) -> Any:
        raise ValueError(name)

    try:
        json.loads(text, parse_constant=no_constants)
        return None
    except json.JSONDecodeError as err:
        pos = err.pos
    except (ValueError, RecursionError):
        pos = next((i for i, c in enumerate(text) if c in "NI-"), 0)
    for literal in ("null", "true", "false"):  # V8 blames the first character that leaves the literal
        if text.startswith(literal[0], pos):
            step = 0
            while step < len(literal) and text.startswith(literal[step], pos + step):
                step += 1
            pos += step
            break
    if pos >= len(text) or not text.strip():
        return "Unexpected end of JSON input"
    char = text[pos]
    if char.isdigit() or char == "-":
        return f"Unexpected number in JSON at position {pos}"
    if char == '"':
        return f"Unexpected string in JSON at position {pos}"
    return f"Unexpected token {char} in JSON at position {pos}"


def _secret_errors(adc: Any, secrets: list[Any]) -> list[AjvError]:
    errors = []
    for secret in secrets:
        protected = secret.get("protected")
        if not isinstance(protected, str):
            continue
        problem = _js_parse_error(_node_base64(protected).decode("utf-8", "replace"))
        if problem:
            errors.append(AjvError(_pointer_of(adc, secret) or "", "f5PostProcess(secret)",
                                   f"Error parsing 'protected' property: {problem}"))
    return errors


def _late_path(checks: ItemChecks) -> list[AjvError]:
    """Paths over 195 characters: AS3 reports the last one it meets."""
    last = checks.late
    if last is None:
        return []
    text = late_text(last[1])
    return [AjvError(last[0], "as3:path", text, text=text)]


def late_text(path: str) -> str:
    return f"Path {path} is longer than {MAX_PATH_LENGTH} characters"


def _auto_delete(checks: ItemChecks) -> list[AjvError]:
    found = checks.auto
    return [AjvError(found[0], "as3:autoDelete", found[1], text=found[1])] if found else []


def structure_errors(filled: Any, scanned: Scan, no_duplicates: Callable[[list], bool]) -> list[AjvError]:
    """After the schema, before AS3's pointer processing: full paths, node names, duplicates."""
    if not isinstance(filled, dict):
        return []
    found = scanned.found if scanned.exact else _replay_find(filled)
    checks = checks_of(filled)
    return _full_path(checks) + node_errors(checks.servers) + _duplicate_errors(filled, found, no_duplicates)


def secret_errors(filled: Any, scanned: Scan) -> list[AjvError]:
    """Secrets whose `protected` header AS3 cannot parse (skipped, as in AS3, with `scratch`)."""
    if not isinstance(filled, dict) or "scratch" in filled:
        return []
    return _secret_errors(filled, scanned.secrets)


def _all_dicts(root: Any) -> list[dict]:
    out, todo = [], [root]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            out.append(node)
            todo += list(node.values())
        elif isinstance(node, list):
            todo += node
    return out


def final_errors(filled: Any) -> list[AjvError]:
    """AS3's checks after post-processing: paths over 195 characters, autoDelete outside /Common."""
    if not isinstance(filled, dict):
        return []
    checks = checks_of(filled)
    return _late_path(checks) + _auto_delete(checks)
