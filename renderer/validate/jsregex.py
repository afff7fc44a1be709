"""Schema `pattern`s judged the way JavaScript (and so AS3's Ajv) reads them, with Python's `re`.

Two differences matter for AS3 schemas: Python's `$` also matches before a final "\\n", where
JavaScript's `$` (no multiline flag) matches only at the very end, so `"/Common/x\\n"` passes a
`^...$` pattern in Python and fails in AS3; and Python's `\\d` / `\\w` match any Unicode digit or
letter, JavaScript's only ASCII ones (and the two `\\s` differ: Python's takes \\x1c-\\x1f and \\x85,
not \\ufeff). `js_pattern` rewrites those tokens (outside and inside
character classes) and compiles the result; everything else in AS3's patterns means the same in
both dialects.
"""

from __future__ import annotations

import re

# JavaScript's \s: WhiteSpace and LineTerminator (ECMA-262). Python's also takes \x1c-\x1f and \x85
# and leaves out \ufeff.
_JS_SPACE = r"\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_OUTSIDE = {"d": "[0-9]", "D": "[^0-9]", "w": "[A-Za-z0-9_]", "W": "[^A-Za-z0-9_]", "s": f"[{_JS_SPACE}]",
            "S": f"[^{_JS_SPACE}]"}
_INSIDE = {"d": "0-9", "w": "A-Za-z0-9_", "s": _JS_SPACE}


def js_source(pattern: str) -> str:
    """`pattern` rewritten so that Python's `re` gives JavaScript's answer."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            table = _INSIDE if in_class else _OUTSIDE
            out.append(table.get(nxt, char + nxt))
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
            out.append(char)
        elif char == "[":
            in_class = True
            out.append(char)
            if pattern.startswith("^", i + 1):  # a leading ^ and ] stay literal parts of the class
                out.append("^")
                i += 1
            if pattern.startswith("]", i + 1):
                out.append("\\]")
                i += 1
        elif char == "$":
            out.append(r"\Z")
        else:
            out.append(char)
        i += 1
    return "".join(out)


def js_pattern(pattern: str) -> re.Pattern[str] | None:
    """The compiled JavaScript-equivalent pattern, or None when Python cannot compile it."""
    try:
        return re.compile(js_source(pattern))
    except re.error:
        return None
