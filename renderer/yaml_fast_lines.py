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
from yaml.scanner import Scanner

from renderer.yaml_loader import _IMPLICIT, IMPLICIT_ANY, KubeLoader

DASH, KEY, VAL, START, END = range(5)
EMPTY = object()  # a key with no value on its line: null, or a node on the following lines
# Characters that cannot start a plain scalar in block context (PyYAML's check_plain), `-` apart.
_INDICATORS = frozenset("?:,[]{}#&*!|>'\"%@`")
# What makes the fast loop of yaml_fast hand a value or a `- ` line to line_tokens().
VALUE_SPECIAL = frozenset(_INDICATORS | {"-", " "})
DASH_SPECIAL = frozenset({"", " ", "-", "#"})
# Where a plain scalar inside a flow collection ends; it bails unless at `,`, `]`, `}` or the end.
_FLOW_STOP = frozenset(",[]{}:#'\"")
_FLOW_BAD_STOP = frozenset("[{:#'\"")
_MAX_FLOW_DEPTH = 10
_ESCAPES = {key: value for key, value in Scanner.ESCAPE_REPLACEMENTS.items() if key != "\t"}
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
# Plain scalar text -> its value (str, int, float, bool, None: immutable), for the scalars whose
# first character has resolvers (`team-0001`, `TCP`, `80` repeat); yaml_fast.parse() empties it
# after a large file. Plain key text -> the key, interned. Both bounded in size.
value_memo: dict[str, Any] = {}
key_memo: dict[str, Any] = {}


def resolve(text: str) -> Any:
    """A plain scalar as KubeLoader resolves and constructs it (PyYAML's implicit resolvers).

    One regex per first character (the alternation of that character's resolvers, in order) tells
    a string from the rest; only then are the resolvers tried one by one, as PyYAML does."""
    value = value_memo.get(text, value_memo)
    if value is not value_memo:
        return value
    if not IMPLICIT_ANY[text[:1]](text):
        if len(value_memo) < _MEMO_MAX:
            value_memo[text] = text
        return text
    for tag, regexp in _IMPLICIT[text[:1]]:
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
    if len(value_memo) < _MEMO_MAX:
        value_memo[text] = value
    return value


def key_of(text: str) -> Any:
    """A plain key as the lean constructor builds it: resolved like a value (`1`, `true`, `~` are
    not strings), a string interned. Memoized: yaml_fast's loop takes a key found in key_memo as
    one line_tokens() has already checked to be a plain key."""
    key = key_memo.get(text, key_memo)
    if key is not key_memo:
        return key
    if len(text) > _MAX_KEY:
        raise Bail
    key = resolve(text) if text[:1] in _IMPLICIT else text
    if key.__class__ is str:
        key = _intern(key)
    if len(key_memo) < _MEMO_MAX and text[0] != ".":  # yaml_fast's loop never sees `...` as a key
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
            return _escaped(text)
        return value, text[end + 1:]
    start = 1
    while True:
        end = text.find("'", start)
        if end < 0:
            raise Bail
        if text[end + 1:end + 2] != "'":
            return text[1:end].replace("''", "'"), text[end + 1:]
        start = end + 2


def _escaped(text: str) -> tuple[str, str]:
    """A double-quoted scalar with backslash escapes: the one-character ones of PyYAML's table
    (`\\n`, `\\"`, `\\\\`, ...); `\\x`, `\\u`, `\\U` and a line continuation bail."""
    chunks = []
    at = 1
    while True:
        quote = text.find('"', at)
        slash = text.find("\\", at)
        if quote < 0:
            raise Bail
        if slash < 0 or quote < slash:
            chunks.append(text[at:quote])
            return "".join(chunks), text[quote + 1:]
        chunks.append(text[at:slash])
        replacement = _ESCAPES.get(text[slash + 1:slash + 2])
        if replacement is None:
            raise Bail
        chunks.append(replacement)
        at = slash + 2


def _no_rest(rest: str) -> None:
    """After a quoted scalar or a flow collection only spaces and a comment may follow."""
    if rest and rest.strip(" ") and (rest[0] != " " or rest.lstrip(" ")[0] != "#"):
        raise Bail


_WORD = r"([A-Za-z0-9_.][A-Za-z0-9_./-]*)"
_FLOW_SHORT = 6  # the one-regex shapes hold up to this many items
_FLOW_MAP = re.compile(rf"\{{ *{_WORD}: +{_WORD}" + rf"(?: *, *{_WORD}: +{_WORD})?" * (_FLOW_SHORT - 1)
                       + r" *\}").fullmatch
_FLOW_SEQ = re.compile(rf"\[ *{_WORD}" + rf"(?: *, *{_WORD})?" * (_FLOW_SHORT - 1) + r" *\]").fullmatch


def flow(text: str) -> Any:
    """A one-line flow collection: `[a, b]`, `{k: v, k: [x]}`; anything richer bails.

    The commonest shape (up to six words of `[A-Za-z0-9_./-]`, no comment) is one regex."""
    implicit = _IMPLICIT
    if text[0] == "{":
        match = _FLOW_MAP(text)
        if match:
            mapping = {}
            memo = key_memo
            parts = iter(match.groups())
            pairs = 0
            for key, value in zip(parts, parts, strict=True):
                if key is None:
                    break
                k = memo.get(key, memo)
                if k is memo:
                    k = key_of(key)
                mapping[k] = resolve(value) if value[0] in implicit else value
                pairs += 1
            if len(mapping) != pairs:
                raise Bail  # duplicate keys
            return mapping
    else:
        match = _FLOW_SEQ(text)
        if match:
            return [resolve(value) if value[0] in implicit else value for value in match.groups() if value]
    return _flow_general(text)


def _flow_general(text: str) -> Any:
    """A flow collection on one line, nested ones and quoted scalars included; a comment may follow."""
    value, at = _flow_node(text, 0, 0)
    _no_rest(text[at:])
    return value


def _flow_node(text: str, at: int, depth: int) -> tuple[Any, int]:
    """The flow collection starting at text[at] (`[` or `{`): (value, index after it)."""
    if depth > _MAX_FLOW_DEPTH:
        raise Bail
    close = "]" if text[at] == "[" else "}"
    items: Any = [] if close == "]" else {}
    at = _skip(text, at + 1)
    if text[at:at + 1] == close:
        return items, at + 1
    while True:
        if close == "]":
            value, at = _flow_scalar_or_node(text, at, depth)
            items.append(value)
        else:
            if text[at:at + 1] in ("[", "{"):
                raise Bail  # a collection as a key
            key, at = _flow_scalar(text, at, is_key=True)
            if text[at:at + 2] != ": ":
                raise Bail  # `{a}`, `{"a":b}`, `{a :b}`...
            key = _intern(key) if key.__class__ is str else key
            if key in items:
                raise Bail  # duplicate keys
            items[key], at = _flow_scalar_or_node(text, _skip(text, at + 2), depth)
        at = _skip(text, at)
        sep = text[at:at + 1]
        if sep == close:
            return items, at + 1
        if sep != ",":
            raise Bail
        at = _skip(text, at + 1)
        if text[at:at + 1] in (close, ""):
            raise Bail  # a trailing comma


def _skip(text: str, at: int) -> int:
    while text[at:at + 1] == " ":
        at += 1
    return at


def _flow_scalar_or_node(text: str, at: int, depth: int) -> tuple[Any, int]:
    if text[at:at + 1] in ("[", "{"):
        return _flow_node(text, at, depth + 1)
    return _flow_scalar(text, at, is_key=False)


def _flow_scalar(text: str, at: int, *, is_key: bool) -> tuple[Any, int]:
    """A quoted or plain scalar inside a flow collection; a plain one holds no `:` and no `#`."""
    first = text[at:at + 1]
    if first in ("'", '"'):
        value, rest = _quoted(text[at:])
        return value, len(text) - len(rest)
    end = at
    while end < len(text) and text[end] not in _FLOW_STOP:
        end += 1
    plain = text[at:end].rstrip(" ")
    stop = text[end:end + 1]
    if not plain or plain[0] in _INDICATORS or (plain[0] == "-" and plain[1:2] in ("", " ")) or \
            (stop in _FLOW_BAD_STOP and not (is_key and stop == ":")):
        raise Bail
    if is_key:
        return key_of(plain), end
    return (resolve(plain) if plain[0] in _IMPLICIT else plain), end


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
    lines[first:last + 1] = [""] * (last + 1 - first)  # read: yaml_fast's loop skips them as empty
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
        key = key_of(raw)
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


