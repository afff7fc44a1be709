"""AS3 pointers (`"pool": "web_pool"`, `{"use": "/T/A/obj"}`): resolve them as AS3 does after Ajv.

The schema only says a pointer is a string; whether the object exists is checked by AS3's
post-processing (f5PostProcess tag `pointer`), which turns a dangling pointer into the same 422
"declaration is invalid" response as a schema error, e.g.
`/T/A/svc/pool: contains path to non-existent object web_pool`. We reproduce that check so a
pool reference to a missing pool fails in the pull request, not on the device.
"""

from __future__ import annotations

import re
from typing import Any

from renderer.validate.ajv import Ajv, AjvError, PointerSite

_NAME = r"[A-Za-z_][0-9A-Za-z_.]{0,188}"
_APP_NAME = r"[A-Za-z_][0-9A-Za-z_.-]{0,188}[0-9A-Za-z_.]*"
# At application level the last name of a pointer needs two characters at least (AS3's pattern).
_APP_LAST = r"[A-Za-z_][0-9A-Za-z_.-]{0,188}[0-9A-Za-z_.]"
_TOKEN_RX = {
    False: re.compile(rf"^((@|[0-9]+)|(([0-9]*/)?((@|[0-9]+|{_NAME})/)*([0-9]+|{_NAME})))?#?\Z"),
    True: re.compile(rf"^((@|[0-9]+)|(([0-9]*/)?((@|[0-9]+|{_APP_NAME})/)*([0-9]+|{_APP_LAST})))?#?\Z"),
}
# Plain names joined by "/", each of 2-189 characters: both patterns accept all of these, fast.
_PLAIN_RX = re.compile(r"/?[A-Za-z_][0-9A-Za-z_.]{1,188}(?:/[A-Za-z_][0-9A-Za-z_.]{1,188})*")
_POLYMORPHIC = ("use", "copyFrom", "reuseFrom")


class PointerProblem(Exception):
    """A pointer that AS3 would refuse; the message is AS3's wording."""


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _own(node: Any, key: str) -> tuple[bool, Any]:
    """JavaScript's hasOwnProperty and lookup: arrays own their indices and `length`."""
    if isinstance(node, dict):
        return (key in node, node.get(key))
    if isinstance(node, list):
        if key == "length":
            return True, len(node)
        if key.isdigit() and str(int(key)) == key and int(key) < len(node):
            return True, node[int(key)]
    return False, None


def _parent(root: Any, tokens: list[str]) -> Any:
    node = root
    for token in tokens:
        key = _unescape(token)
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


def _app_level(src: list[str], root: Any) -> bool:
    """Whether AS3 checks the pointer at `src` against its application-level pattern.

    AS3 takes the default pattern for pointers at most three names deep and for a pointer held by
    an object of class Constants (the pointer tag's parentData, e.g. `{"use": "m", "class":
    "Constants"}`, which Pointer_Monitor admits). `src` starts with the empty token before the
    first "/": the walk starts after it (it used to look "" up at the top, so never saw Constants).
    """
    if len(src) <= 4:
        return False
    holder = _parent(root, src[1:-1])
    return not (isinstance(holder, dict) and holder.get("class") == "Constants")


def _absolute_elems(value: str, src: list[str], root: Any) -> list[str]:
    """The path from the declaration root that `value` names, written at `src`."""
    if src and src[-1] in _POLYMORPHIC:
        src = src[:-1]
    if len(src) < 2 or src[-1] == "":
        raise PointerProblem("cannot ascertain path property name")
    first = value[0]
    if first == "@":
        elems = src[:-1]
        node = root
        i = 1
        while i < len(elems):
            child = node.get(_unescape(elems[i])) if isinstance(node, dict) else None
            if not isinstance(child, dict) or "class" not in child:
                break
            node = child
            i += 1
        elems = elems[:i]
        rest = value[2:] if value.startswith("@/") else value[1:]
        return elems + (rest.split("/") if rest else [])
    if first.isdigit():
        digits = re.match(r"[0-9]+", value).group(0)  # type: ignore[union-attr]
        up = int(digits)
        if up >= len(src) or up > 99:
            raise PointerProblem("contains relative JSON pointer with too-big prefix")
        elems = src[: len(src) - up]
        rest = value[len(digits):]
        if rest:
            if not rest.startswith("/"):
                raise PointerProblem("contains invalid relative JSON pointer")
            elems = elems + rest[1:].split("/")
        return elems
    if first != "/":
        if len(src) < 4:
            raise PointerProblem("contains relative path valid only within /Tenant/Application")
        return src[:3] + value.split("/")
    return value.split("/")


def resolve(value: str, pointer: str, root: dict[str, Any]) -> Any:
    """The object `value` points to from the property at JSON pointer `pointer`; raises PointerProblem."""
    src = pointer.split("/")
    if value == "#" or (_PLAIN_RX.fullmatch(value) is None and not _TOKEN_RX[_app_level(src, root)].match(value)):
        raise PointerProblem("contains an invalid path (invalid character)")
    elems = _absolute_elems(value.removesuffix("#"), src, root)
    leaf = elems.pop()
    if len(elems) < 2:
        raise PointerProblem("contains invalid path (cross-/T/A)")
    node: Any = root
    if len(elems) < 3:
        if leaf == "@":
            leaf = src[1]
        elif leaf not in (src[1], "Common"):
            raise PointerProblem("contains invalid path (Tenant without application)")
        if not isinstance(node, dict) or _unescape(leaf) not in node:
            raise PointerProblem(f"contains path to non-existent object {leaf}")
        return node[_unescape(leaf)]
    for i in range(1, len(elems)):
        token = elems[i]
        if token == "@":
            if i >= len(src):
                raise PointerProblem("contains path with too many @ tokens")
            token = src[i]
        owned, child = _own(node, _unescape(token))
        if not owned or not isinstance(child, dict | list):  # objects and arrays may be walked through
            raise PointerProblem(f"contains path to non-existent object {token}")
        node = child
        same = i < len(src) and token == src[i]
        if (i == 1 and token != "Common" and not same) or (i == 2 and token != "Shared" and not same):
            raise PointerProblem(
                "must contain path pointing into same Application (or /same-Tenant/Shared or /Common/Shared)"
            )
    owned, target = _own(node, _unescape(leaf))
    if not owned:
        raise PointerProblem(f"contains path to non-existent object {leaf}")
    return target  # any value: a string or an array is checked against the target schema as is


def site_error(ajv: Ajv, site: PointerSite, root: dict[str, Any]) -> AjvError | None:
    """AS3's verdict on one pointer site (resolved in `root`, the filled declaration), or None."""
    try:
        target = resolve(site.value, site.pointer, root)
    except PointerProblem as err:
        return AjvError(site.pointer, "f5PostProcess(pointer)", str(err))
    return target_error(ajv, site, target)


def target_error(ajv: Ajv, site: PointerSite, target: Any) -> AjvError | None:
    """AS3's verdict on what a pointer site resolved to (`resolve`): of the required type, or not."""
    if site.target_schema is not None and not ajv.is_valid(site.target_schema, target):
        return AjvError(site.pointer, "f5PostProcess(pointer)",
                        f"AS3 pointer {site.value} does not point to required object type")
    return None


def checked_sites(sites: list[PointerSite], seen: set[str]) -> list[PointerSite]:
    """The sites AS3 resolves: strings, not empty, each pointer once (`seen` is shared)."""
    out = []
    for site in sites:
        if not isinstance(site.value, str) or site.value == "" or site.pointer in seen:
            continue
        seen.add(site.pointer)
        out.append(site)
    return out


def check_pointers(ajv: Ajv, adc: dict[str, Any], sites: list[PointerSite]) -> list[AjvError]:
    """AS3's post-validation pointer check over the sites the schema walk recorded."""
    if "scratch" in adc:  # AS3 skips pointer processing for declarations with `scratch`
        return []
    errors = (site_error(ajv, site, adc) for site in checked_sites(sites, set()))
    return [error for error in errors if error is not None]
