"""The line tokenizer and scalars of renderer/yaml_fast.py: one line of YAML into tokens.

A token is (column, kind, key or value, value, line index): DASH for `- `, KEY for `key: value`
(value EMPTY when nothing follows the colon), VAL for a scalar alone, START/END for `---`/`...`.
Everything here raises Bail for what it does not handle with certainty; scalars resolve through
PyYAML's resolver table (`renderer.yaml_loader._IMPLICIT`) and are constructed by KubeLoader's
own methods, so `0755`, `1:30`, `yes`, `.inf` and `~` mean what KubeLoader makes of them.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from yaml.nodes import ScalarNode

from renderer.yaml_loader import _IMPLICIT, KubeLoader

DASH, KEY, VAL, START, END = range(5)
EMPTY = object()  # a key with no value on its line: null, or a node on the following lines
# Characters that cannot start a plain scalar in block context (PyYAML's check_plain), `-` apart.
_INDICATORS = frozenset("?:,[]{}#&*!|>'\"%@`")
# What makes the fast loop of yaml_fast hand a value or a `- ` line to line_tokens().
VALUE_SPECIAL = frozenset(_INDICATORS | {"-", " "})
DASH_SPECIAL = frozenset({"", " ", "-", "#"})
# Characters that make a one-line flow collection more than plain scalars and commas.
_FLOW_BAIL = re.compile(r"""[\[\]{}#&*!|>'"%@`?]""")
_MAX_KEY = 1000  # PyYAML refuses simple keys longer than 1024 characters
_MEMO_MAX = 50_000

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


class Bail(Exception):
    """The text is outside the subset: the caller parses it with KubeLoader."""


_ctor = KubeLoader("")
_CONSTRUCT = {_INT: _ctor.construct_yaml_int, _FLOAT: _ctor.construct_yaml_float,
              _BOOL: _ctor.construct_yaml_bool}
_ctor.dispose()
_intern = sys.intern
# Plain scalar text -> its value when that is not a string (int, float, bool, None: immutable),
# and plain key text -> the key, interned; both bounded in size.
_memo: dict[str, Any] = {}
key_memo: dict[str, Any] = {}


def resolve(text: str) -> Any:
    """A plain scalar as KubeLoader resolves and constructs it (PyYAML's implicit resolvers).

    One regex per first character (the alternation of that character's resolvers, in order) tells
    a string from the rest; only then are the resolvers tried one by one, as PyYAML does."""
    value = _memo.get(text, _memo)
    if value is not _memo:
        return value
    if not _ANY_IMPLICIT[text[0]](text):
        return text
    for tag, regexp in _IMPLICIT[text[0]]:
        if regexp.match(text):
            if tag == _NULL:
                value = None
            else:
                construct = _CONSTRUCT.get(tag)
                if construct is None:
                    raise Bail  # merge `<<`, value `=`, the `!&*` yaml tag
                value = construct(ScalarNode(tag, text))
            break
    else:  # pragma: no cover - the alternation matched, so one of its parts does
        raise Bail
    if len(_memo) < _MEMO_MAX:
        _memo[text] = value
    return value


def _alternation(resolvers: list[tuple[str, re.Pattern[str]]]) -> Any:
    parts = []
    for _tag, regexp in resolvers:
        flags = "x" if regexp.flags & re.VERBOSE else ""
        if regexp.flags & ~(re.VERBOSE | re.UNICODE):  # pragma: no cover - PyYAML's use no other flags
            raise ImportError("renderer.yaml_fast: a resolver regex with unexpected flags")
        parts.append(f"(?{flags}:{regexp.pattern})" if flags else f"(?:{regexp.pattern})")
    return re.compile("|".join(parts)).match


_ANY_IMPLICIT = {first: _alternation(resolvers) for first, resolvers in _IMPLICIT.items()}


def _key(text: str) -> Any:
    key = key_memo.get(text, key_memo)
    if key is not key_memo:
        return key
    if len(text) > _MAX_KEY:
        raise Bail
    key = resolve(text) if text[:1] in _IMPLICIT else text
    if key.__class__ is str:
        key = _intern(key)
    if len(key_memo) < _MEMO_MAX:
        key_memo[text] = key
    return key


def _quoted(text: str) -> tuple[str, str]:
    """A quoted scalar at the start of `text`: (its value, the rest of the line)."""
    if text[0] == '"':
        end = text.find('"', 1)
        if end < 0:
            raise Bail  # multi-line
        value = text[1:end]
        if "\\" in value:
            raise Bail  # escapes: KubeLoader decodes them
        return value, text[end + 1:]
    start = 1
    while True:
        end = text.find("'", start)
        if end < 0:
            raise Bail
        if text[end + 1:end + 2] != "'":
            return text[1:end].replace("''", "'"), text[end + 1:]
        start = end + 2


def _no_rest(rest: str) -> None:
    """After a quoted scalar or a flow collection only spaces and a comment may follow."""
    if rest and rest.strip(" ") and (rest[0] != " " or rest.lstrip(" ")[0] != "#"):
        raise Bail


def _flow_item(text: str) -> Any:
    text = text.strip(" ")
    if not text or text[0] in _INDICATORS or (text[0] == "-" and text[1:2] in ("", " ")):
        raise Bail
    return resolve(text) if text[0] in _IMPLICIT else text


_WORD = r"[A-Za-z0-9_.][A-Za-z0-9_./-]*"
_FLOW_MAP = re.compile(rf"\{{ *{_WORD}: +{_WORD} *(?:, *{_WORD}: +{_WORD} *)*\}}").fullmatch
_FLOW_SEQ = re.compile(rf"\[ *{_WORD} *(?:, *{_WORD} *)*\]").fullmatch
_FLOW_PAIR = re.compile(rf"({_WORD}): +({_WORD})").findall
_FLOW_WORD = re.compile(_WORD).findall


def flow(text: str) -> Any:
    """A one-line flow collection of plain scalars: `[a, b]`, `{k: v}`; anything richer bails.

    The common shape (words of `[A-Za-z0-9_./-]`, no comment) is split by two regexes."""
    if text[0] == "{":
        if _FLOW_MAP(text):
            mapping = {}
            memo = key_memo
            implicit = _IMPLICIT
            pairs = _FLOW_PAIR(text)
            for key, value in pairs:
                k = memo.get(key, memo)
                if k is memo:
                    k = _key(key)
                mapping[k] = resolve(value) if value[0] in implicit else value
            if len(mapping) != len(pairs):
                raise Bail
            return mapping
    elif _FLOW_SEQ(text):
        implicit = _IMPLICIT
        return [resolve(value) if value[0] in implicit else value for value in _FLOW_WORD(text)]
    return _flow_general(text)


def _flow_general(text: str) -> Any:
    if "#" in text:
        cut = text.find(" #")
        if cut >= 0:
            text = text[:cut].rstrip(" ")
    close = "]" if text[0] == "[" else "}"
    if text[-1] != close:
        raise Bail
    inner = text[1:-1]
    if not inner.strip(" "):
        return [] if close == "]" else {}
    if _FLOW_BAIL.search(inner):
        raise Bail
    items = inner.split(",")
    if close == "]":
        if ":" in inner:
            raise Bail
        return [_flow_item(item) for item in items]
    mapping = {}
    memo = key_memo
    for item in items:
        key, sep, value = item.partition(": ")
        if not sep or ":" in key:
            raise Bail
        key = key.strip(" ")
        k = memo.get(key, memo)
        if k is memo:
            if not key or key[0] in _INDICATORS or key[0] == "-":
                raise Bail
            k = _key(key)
        if ":" in value:
            raise Bail
        mapping[k] = _flow_item(value)
    if len(mapping) != len(items):
        raise Bail  # duplicate keys
    return mapping


def _value(text: str) -> Any:
    """The value after `key: ` or `- ` on one line (no leading spaces; trailing ones stripped)."""
    first = text[0]
    if first == "#":
        return EMPTY
    if first in _INDICATORS:
        if first in "'\"":
            value, rest = _quoted(text)
            _no_rest(rest)
            return value
        if first in "[{":
            return flow(text)
        raise Bail  # `|` is handled by the caller; `>`, tags, anchors, aliases, `?`, `:`...
    if first == "-" and (len(text) == 1 or text[1] == " "):
        raise Bail
    if "#" in text:
        cut = text.find(" #")
        if cut >= 0:
            text = text[:cut].rstrip(" ")
    if ": " in text or text[-1] == ":":
        raise Bail
    if first in _IMPLICIT:
        return resolve(text)
    return text


def _block(lines: list[str], at: int, parent: int, keep_break: bool) -> tuple[str, int]:
    """A literal block scalar whose header is on line `at` (a key at column `parent`).

    Returns the value and the index of the first line after it."""
    count = len(lines)
    first = at + 1
    if first >= count:
        raise Bail
    line = lines[first]
    body = line.lstrip(" ")
    indent = len(line) - len(body)
    if not body or indent <= parent:
        raise Bail  # a leading empty line, or an empty scalar
    prefix = " " * indent
    chunks = [line[indent:]]
    breaks = 0
    last = first
    i = first + 1
    while i < count:
        line = lines[i]
        if line.startswith(prefix) and len(line) > indent:
            chunks.append("\n" * (breaks + 1) + line[indent:])
            breaks = 0
            last = i
        elif not line.strip(" "):
            breaks += 1
        else:
            break
        i += 1
    value = "".join(chunks)
    if keep_break and last + 1 < count:  # the clip chomping keeps the last line break, if any
        value += "\n"
    return value, last + 1


def line_tokens(lines: list[str], n: int, append: Any) -> int:
    """Tokens of line `n` (any shape) passed to `append`; returns the index of the next line."""
    line = lines[n]
    content = line.lstrip(" ")
    if not content or content[0] == "#":
        return n + 1
    col = len(line) - len(content)
    content = content.rstrip(" ")
    first = content[0]
    if col == 0 and (first == "-" or first == ".") and content[:3] in ("---", "...") and \
            content[3:4] in ("", " "):
        rest = content[3:].lstrip(" ")
        if rest and rest[0] != "#":
            raise Bail  # content on the `---` line
        append((0, START if first == "-" else END, None, None, n))
        return n + 1
    while first == "-" and (len(content) == 1 or content[1] == " "):
        append((col, DASH, None, None, n))
        rest = content[1:].lstrip(" ")
        if not rest or rest[0] == "#":
            return n + 1
        col += len(content) - len(rest)
        content = rest
        first = rest[0]
    if first in _INDICATORS:
        if first != "'" and first != '"':
            append((col, VAL, _value(content), None, n))  # flow collections, or bail
            return n + 1
        key, rest = _quoted(content)
        if rest[:1] != ":" or rest[1:2] not in ("", " "):
            _no_rest(rest)
            append((col, VAL, key, None, n))
            return n + 1
        if len(content) - len(rest) > _MAX_KEY:
            raise Bail
        value_text = rest[1:].lstrip(" ")
        key = _intern(key)
    else:
        pos = content.find(": ")
        if pos < 0:
            if content[-1] != ":" or "#" in content:
                append((col, VAL, _value(content), None, n))
                return n + 1
            pos = len(content) - 1
        elif "#" in content:
            cut = content.find(" #")
            if 0 <= cut < pos:
                append((col, VAL, _value(content), None, n))
                return n + 1
        raw = content[:pos]
        if raw[-1] == " " or (first == "-" and raw[1:2] in ("", " ")):
            raise Bail
        key = _key(raw)
        value_text = content[pos + 2:].lstrip(" ")
    if not value_text:
        append((col, KEY, key, EMPTY, n))
    elif value_text[0] == "|":
        if value_text not in ("|", "|-"):
            raise Bail
        value, after = _block(lines, n, col, value_text == "|")
        append((col, KEY, key, value, n))
        return after
    else:
        append((col, KEY, key, _value(value_text), n))
    return n + 1


