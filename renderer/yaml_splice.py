"""Parse an edited YAML file by parsing only the documents the edit touched, given its last parse.

Why: a pull request usually changes a line or two of a large file (one Ingress of a hundred, one
pod address in an endpoints snapshot). The disk cache holds the parse of that file's previous
version, so every document outside the edited lines is known already; reading the whole file
again was a tenth of a one-file pull request's run.

Why it is exact: in a YAML stream, a line that is exactly `---` always ends the document before it
and starts a new one, in any context (inside a block scalar it ends the scalar; inside a quoted or
flow scalar it is an error, which the edited part's own parse then reports by bailing). A
document's data depends on its own lines only, as long as the stream has no directives (`%`), no
`...` end markers and no line break other than `\\n`; its index depends only on how many documents
come before it. So the new file is: the documents of the unchanged lines before the edit (the old
parse's, as they were), the documents of the lines between the `---` before the edit and the `---`
after it (parsed again, alone), and the old parse's documents after that, their index and line
shifted by what the edit added.

`splice` returns exactly what `yaml_fast.parse(new_text)` (and so KubeLoader) gives, or None: a
text with anything outside those rules (tabs, CR, BOMs, other line breaks, a `%` or `...` line, a
`---` line with more on it), an old parse that does not fit its text, or an edited part the fast
path bails on. None means "parse the whole file", never a finding. tests/render/test_yaml_splice.py
checks it against whole parses over the shared corpora with many random edits.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from itertools import compress, count
from operator import ne
from typing import Any

Parsed = list[tuple[int, int, Any]]

_REFUSED = ("\r", "\t", "\ufeff", "\x85", "\u2028", "\u2029")
_MARKER = "---"
# a line starting with a directive, an end marker, or a `---` with more after it
_OTHER_MARKERS = re.compile(r"^(?:%|\.\.\.|---.)", re.MULTILINE)


def _boundaries(text: str, lines: list[str]) -> list[int] | None:
    """The (0-based) numbers of the lines that are exactly `---`; None when a line is a directive,
    an end marker or a `---` with something after it (those start or end documents too)."""
    if _OTHER_MARKERS.search(text):
        return None
    return list(compress(count(), map(_MARKER.__eq__, lines)))


def _has_document(lines: list[str]) -> bool:
    """Whether lines before the first `---` hold a document: anything but blank lines and comments."""
    return any((stripped := line.lstrip(" ")) and stripped[0] != "#" for line in lines)


def _fits(docs: Parsed, bounds: list[int], implicit: bool) -> bool:
    """Every document's index is the one its place gives: the documents before it, counted by the
    `---` lines before its first line (the first, implicit one if `implicit`)."""
    last = -1
    for index, line, _data in docs:
        chunk = bisect_left(bounds, line - 1)  # `---` lines above the document's first line
        if index != chunk - 1 + implicit or (chunk == 0 and not implicit) or index <= last:
            return False
        last = index
    return True


@dataclass
class Previous:
    """An earlier version of a file: its text and its documents as (index, start line, data), as
    the parse cache holds them; `used` tells the cache whether the splice made the new parse."""

    text: str
    docs: Parsed
    used: bool = False

    def splice(self, new_text: str, parse: Callable[[str], Parsed | None]) -> Parsed | None:
        found = splice(self.text, self.docs, new_text, parse)
        self.used = found is not None
        return found


def splice(old_text: str, old_docs: Parsed, new_text: str,
           parse: Callable[[str], Parsed | None]) -> Parsed | None:
    """The documents of `new_text` as (index, 1-based start line, data), from the parse of
    `old_text` (`old_docs`, what the same parser gave for it) and `parse` (yaml_fast.parse) of the
    edited part only; None when the splice cannot be shown to equal a whole parse."""
    if any(c in new_text or c in old_text for c in _REFUSED):
        return None
    old_lines, new_lines = old_text.split("\n"), new_text.split("\n")
    old_bounds, new_bounds = _boundaries(old_text, old_lines), _boundaries(new_text, new_lines)
    if old_bounds is None or new_bounds is None:
        return None
    old_implicit = _has_document(old_lines[:old_bounds[0]] if old_bounds else old_lines)
    if not _fits(old_docs, old_bounds, old_implicit):
        return None
    shortest = min(len(old_lines), len(new_lines))
    head = next(compress(count(), map(ne, old_lines, new_lines)), shortest)
    tail = min(next(compress(count(), map(ne, reversed(old_lines), reversed(new_lines))), shortest), shortest - head)
    delta = len(new_lines) - len(old_lines)
    # the edited part: from the last `---` in the equal head (or the top) to the first `---` in the
    # equal tail (or the end); the same lines of both texts lie outside it
    before = bisect_left(new_bounds, head)  # `---` lines in the equal head
    start = new_bounds[before - 1] if before else 0
    after = bisect_left(new_bounds, len(new_lines) - tail)
    end = new_bounds[after] if after < len(new_bounds) else len(new_lines)
    old_end = end - delta
    if start > old_end:  # pragma: no cover - the equal head and tail never overlap
        return None
    part = "\n".join(new_lines[start:end]) + ("\n" if end < len(new_lines) else "")
    parsed = parse(part)
    if parsed is None:
        return None
    if before:  # the part starts at a `---`: it is the document after `before` of them
        new_implicit = old_implicit
        first = before + new_implicit - 1  # the index of the part's first document
        # the part's own stream starts with `---`: its first document has index 0 there
        middle = [(first + index, start + line, data) for index, line, data in parsed]
        kept_head = [d for d in old_docs if d[1] - 1 < start]
    else:  # the part is the top of the file: its documents are the file's own
        new_implicit = _has_document(new_lines[:new_bounds[0]] if new_bounds else new_lines)
        middle = list(parsed)
        kept_head = []
    if old_end < len(old_lines):
        shift = (after - bisect_left(old_bounds, old_end)) + (new_implicit - old_implicit)
        kept_tail = [(index + shift, line + delta, data) for index, line, data in old_docs if line - 1 >= old_end]
    else:
        kept_tail = []
    docs = kept_head + middle + kept_tail
    if not _fits(docs, new_bounds, new_implicit):  # pragma: no cover - the arithmetic above is wrong
        return None
    return docs
