"""A line-oriented fast path for the YAML manifests almost always are; anything else goes to KubeLoader.

PyYAML's C parser is fast, but its composer builds a Node with two Marks for every scalar, which our
constructor then walks in Python (renderer/yaml_loader.py): at 10k Ingresses that is most of the
render's parse time. Manifests and snapshots are block mappings and sequences of one-line scalars,
so this module reads such text line by line, straight into dicts and lists.

The contract (tests/render/test_yaml_fast.py enforces it against KubeLoader): `parse(text)` is
either BAIL (None) or exactly what KubeLoader gives, as `(document index, start line, data)` for
each document whose data is not None (what `renderer.source._parse_yaml` keeps): same values and
types, same key order, keys interned. Whatever is outside the subset below, or that this module
is unsure of, bails for the whole file, and the existing path gives its result, finding or error.

The subset: block mappings and sequences (`- key: value` compact items, sequences at their parent
key's indent), plain scalars, single- and double-quoted scalars on one line (one-character
escapes), one-line flow collections (`[a, "b"]`, `{k: v, k: [x]}`, `[]`, `{}`), literal block
scalars `|` and `|-` (no indentation indicator, no leading empty line), comments, `---`, `...`
before `---`, a BOM, CRLF line ends. It bails on tabs, anchors, aliases, tags, `?`/`:` keys,
directives, folded `>` scalars, merge keys, duplicate keys, multi-line plain, quoted or flow
scalars, hex and unicode escapes, nesting deeper than the lean constructor goes, and every error.
Scalars resolve through PyYAML's own resolver table and are constructed by KubeLoader's methods.
"""

from __future__ import annotations

from typing import Any

from yaml.reader import Reader

from renderer.yaml_fast_lines import (
    DASH,
    DASH_SPECIAL,
    EMPTY,
    END,
    KEY,
    START,
    VAL,
    VALUE_SPECIAL,
    Bail,
    flow,
    key_memo,
    line_tokens,
    resolve,
    value_memo,
)
from renderer.yaml_loader import _IMPLICIT, _MAX_FAST_DEPTH

BAIL = None
Parsed = list[tuple[int, int, Any]]
Token = tuple[int, int, Any, Any, int]

_NO_LIMIT = 1 << 30
_AFTER_END = -2  # below every column: after `...` any token but `---` bails
_NO_COLUMN = -3  # equal to no column
_NON_PRINTABLE = Reader.NON_PRINTABLE
# The ASCII characters Reader.NON_PRINTABLE accepts (tests/render/test_yaml_fast.py checks all 128):
# deleting them from ASCII text leaves nothing unless it holds one the reader refuses.
_PRINTABLE_ASCII = bytes([0x09, 0x0A, 0x0D, *range(0x20, 0x7F)])
_MEMO_KEEP = 20_000  # value_memo entries kept from one file to the next


def _slow(lines: list[str], n: int, queue: list[Token]) -> Token:
    """line_tokens() for line `n`: its first token; the others wait in `queue` (popped from the end)."""
    line_tokens(lines, n, queue.append)
    if not queue:  # pragma: no cover - a line with content gives a token
        raise Bail
    queue.reverse()
    return queue.pop()


def _documents(text: str) -> Parsed:
    """Read `text` line by line into documents: (index, start line, data) for non-null data.

    Each line gives tokens: DASH (`- `), KEY (key and value, or EMPTY), VAL (a scalar alone),
    START/END (`---`, `...`). The loop reads the common shapes (`key: plain`, `key: {flow}`,
    `key:`, `- key: ...`, with keys seen before as valid plain keys) itself; line_tokens() reads
    any other line (and empties the lines a block scalar took). The tokens drive a stack of open
    collections, each with the column it started at: a deeper token after `key:` or `- ` starts
    that slot's node; a token at an open collection's column continues it (a key ends a sequence
    at its parent key's column); anything else bails."""
    lines = text.split("\n")
    strip = " \n" in text or text[-1:] == " "
    memo = key_memo
    values = value_memo
    implicit = _IMPLICIT
    special = VALUE_SPECIAL
    docs: Parsed = []
    index = 0
    queue: list[Token] = []
    holder: list[Any] = [None]
    frames: list[tuple[int, Any, bool]] = []
    fcol, cont, is_map = -1, None, False  # the innermost open collection
    pcont: Any = holder  # where the next deeper node goes: container, key or index, column
    pkey: Any = 0
    pcol = -1
    pmap = False
    fast_col = _NO_COLUMN  # fcol while the innermost collection is a mapping with no open slot
    limit = _NO_LIMIT  # after a scalar alone on its line, the next token may not be deeper than this
    start = -1  # the document's first line, -1 while it has no token
    explicit = False
    for ln, line in enumerate(lines):
        content = line.lstrip(" ")
        if not content:
            continue
        first = content[0]
        if first == "#":
            continue
        col = len(line) - len(content)
        if strip:
            content = content.rstrip(" ")
        dash = first == "-"
        if dash and (content[1:2] != " " or content[2:3] in DASH_SPECIAL):
            col, kind, k, value, _ = _slow(lines, ln, queue)
        else:
            key, sep, value = (content[2:] if dash else content).partition(": ")
            if sep:  # memo keys never start with `.`: `...` at column 0 is read by line_tokens()
                k = memo.get(key, memo)
                v0 = value[0]
                if (v0 == "'" or v0 == '"') and value[-1] == v0 and len(value) > 1:
                    inner = value[1:-1]
                    if v0 in inner or ("\\" in inner and v0 == '"'):
                        k = memo  # `''` or escapes inside, or two scalars: line_tokens() reads it
                    else:
                        value = inner
                elif "#" in value or ": " in value or value[-1] == ":" or \
                        (v0 in special and v0 != "{" and v0 != "["):
                    k = memo
                elif k is memo:
                    pass
                elif v0 in implicit:
                    known = values.get(value, values)
                    value = resolve(value) if known is values else known
                elif v0 == "{" or v0 == "[":
                    value = flow(value)
            else:
                k = memo.get(key[:-1], memo) if key[-1] == ":" else memo
                value = EMPTY
            if k is memo:
                col, kind, k, value, _ = _slow(lines, ln, queue)
            elif dash:
                queue.append((col + 2, KEY, k, value, ln))
                kind = DASH
            else:
                kind = KEY
        while True:  # the line's tokens: (col, kind, k, value)
            # First the commonest: the next key of the innermost mapping (never deeper than
            # `limit`: after a scalar alone, fcol == limit).
            if col == fast_col and kind == KEY:
                if k in cont:
                    raise Bail  # duplicate keys: KubeLoader reports them
                if value is EMPTY:
                    cont[k] = None
                    pcont, pkey, pcol, pmap = cont, k, col, True
                    fast_col = _NO_COLUMN
                else:
                    cont[k] = value
            elif kind >= START:
                if start >= 0 or explicit:
                    if start >= 0 and holder[0] is not None:
                        docs.append((index, start + 1, holder[0]))
                    index += 1
                elif kind == END:
                    raise Bail  # `...` with no document before it
                explicit = kind == START
                holder = [None]
                frames = []
                fcol, cont, is_map = -1, None, False
                pcont, pkey, pcol, pmap = holder, 0, -1, False
                fast_col = _NO_COLUMN
                limit = _AFTER_END if kind == END else _NO_LIMIT  # after `...` only `---` may follow
                start = -1
            else:
                if col > limit:
                    raise Bail  # a multi-line scalar, a node after a scalar, a document after `...`
                limit = _NO_LIMIT
                if pcont is not None and (col > pcol or (col == pcol and pmap and kind == DASH)):
                    if start < 0:
                        start = ln
                    if kind == VAL:
                        pcont[pkey] = k
                        pcont = None
                        limit = pcol
                    else:  # a new collection in the open slot
                        frames.append((fcol, cont, is_map))
                        if len(frames) > _MAX_FAST_DEPTH:
                            raise Bail
                        if kind == KEY:
                            node: Any = {k: None if value is EMPTY else value}
                            fcol, cont, is_map = col, node, True
                            pcont[pkey] = node
                            if value is EMPTY:
                                pcont, pkey, pcol, pmap = node, k, col, True
                            else:
                                pcont = None
                        else:
                            node = [None]
                            fcol, cont, is_map = col, node, False
                            pcont[pkey] = node
                            pcont, pkey, pcol, pmap = node, 0, col, False
                else:
                    pcont = None  # an open slot keeps None
                    while col < fcol:
                        fcol, cont, is_map = frames.pop()
                    if kind == KEY:
                        if not is_map:
                            if col != fcol or not frames or frames[-1][0] != col or not frames[-1][2]:
                                raise Bail
                            fcol, cont, is_map = frames.pop()  # a key at the column of a sequence's parent
                        elif col != fcol:
                            raise Bail
                        if k in cont:
                            raise Bail
                        if value is EMPTY:
                            cont[k] = None
                            pcont, pkey, pcol, pmap = cont, k, col, True
                        else:
                            cont[k] = value
                    elif kind == DASH:
                        if is_map or col != fcol:
                            raise Bail
                        pcont, pkey, pcol, pmap = cont, len(cont), col, False
                        cont.append(None)
                    else:
                        raise Bail  # a scalar where a key or an item belongs
                fast_col = fcol if pcont is None and is_map else _NO_COLUMN
            if not queue:
                break
            col, kind, k, value, _ = queue.pop()
    if limit == _AFTER_END:
        return docs  # the last document ended with `...`
    if start >= 0 and holder[0] is not None:
        docs.append((index, start + 1, holder[0]))
    return docs


def parse(text: str) -> Parsed | None:
    """The documents of `text` as KubeLoader gives them, or BAIL (None) when outside the subset."""
    if text[:1] == "\ufeff":
        text = text[1:]
    if "\t" in text or "\ufeff" in text:
        return BAIL
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return BAIL
    if text.isascii():
        if text.encode("ascii").translate(None, _PRINTABLE_ASCII):
            return BAIL  # control characters: KubeLoader's reader refuses them
    elif "\x85" in text or "\u2028" in text or "\u2029" in text or _NON_PRINTABLE.search(text):
        return BAIL  # YAML line breaks that split() does not see, or characters the reader refuses
    try:
        return _documents(text)
    except (Bail, ValueError, RecursionError):  # ValueError: e.g. an int beyond Python's digit limit
        return BAIL
    except Exception:  # a bug of this fast path must not fail a render: the exact path decides
        return BAIL
    finally:
        if len(value_memo) > _MEMO_KEEP:
            value_memo.clear()
