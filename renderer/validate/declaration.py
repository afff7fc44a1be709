"""`validate --declaration FILE`: judge a hand-written (or device-returned) AS3 file, errors at line:col.

The standard json module keeps no positions, so on the error path we scan the text once more
and record where each value starts, keyed by JSON pointer.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring
from pathlib import Path
from typing import Any

from renderer.errors import Finding, Severity, SourceLocation
from renderer.validate.as3 import As3Validator
from renderer.validate.result import code_of, message_of

_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null|NaN|-?Infinity")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def value_offsets(text: str) -> dict[str, int]:
    """Offset of every value in a JSON text, keyed by JSON pointer (the text must be valid JSON)."""
    out: dict[str, int] = {}
    # iterative scan: (pointer of the container, kind, index) frames; no recursion limit to hit
    stack: list[tuple[str, str, int]] = []
    idx = _WS.match(text, 0).end()  # type: ignore[union-attr]
    pointer = ""
    while True:
        out[pointer] = idx
        char = text[idx] if idx < len(text) else ""
        if char in "{[":
            kind = "object" if char == "{" else "array"
            idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]
            if text[idx] in "}]":
                idx += 1
            else:
                stack.append((pointer, kind, 0))
                if kind == "object":
                    key, idx = scanstring(text, idx + 1)
                    idx = _WS.match(text, idx).end() + 1  # type: ignore[union-attr]  # past ':'
                    pointer = f"{pointer}/{_escape(key)}"
                else:
                    pointer = f"{pointer}/0"
                idx = _WS.match(text, idx).end()  # type: ignore[union-attr]
                continue
        elif char == '"':
            _value, idx = scanstring(text, idx + 1)
        else:
            match = _SCALAR.match(text, idx)
            idx = match.end() if match else idx + 1
        # after a value: close containers or move to the next member
        while True:
            if not stack:
                return out
            idx = _WS.match(text, idx).end()  # type: ignore[union-attr]
            parent, kind, count = stack[-1]
            if text[idx] == ",":
                idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]
                stack[-1] = (parent, kind, count + 1)
                if kind == "object":
                    key, idx = scanstring(text, idx + 1)
                    idx = _WS.match(text, idx).end() + 1  # type: ignore[union-attr]
                    pointer = f"{parent}/{_escape(key)}"
                else:
                    pointer = f"{parent}/{count + 1}"
                idx = _WS.match(text, idx).end()  # type: ignore[union-attr]
                break
            stack.pop()
            idx += 1  # past '}' or ']'


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _locate(path: str, text: str, offsets: dict[str, int], pointer: str) -> SourceLocation:
    probe = pointer
    while probe and probe not in offsets:
        probe = probe.rsplit("/", 1)[0]
    line, col = _line_col(text, offsets.get(probe, 0))
    return SourceLocation(path, line, col)


def read_declaration(path: str) -> tuple[str, Any, list[Finding]]:
    """The file's text and parsed JSON, or a finding saying why it cannot be read."""
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        return "", None, [Finding("SRC004", f"cannot read the declaration ({err.strerror})", SourceLocation(path))]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "", None, [Finding("SRC002", "file is not valid UTF-8", SourceLocation(path, 1, 1))]
    if text.startswith("\ufeff"):  # JSON.parse refuses it, so AS3 answers 400 "cannot parse JSON POST payload"
        return text, None, [Finding("SRC001", "invalid JSON: the file starts with a UTF-8 byte order mark (BOM), "
                                    "which AS3's JSON parser refuses; save it without the BOM",
                                    SourceLocation(path, 1, 1))]
    try:
        return text, json.loads(text), []
    except json.JSONDecodeError as err:
        return text, None, [Finding("SRC001", f"invalid JSON: {err.msg}", SourceLocation(path, err.lineno, err.colno))]
    except RecursionError:
        return text, None, [Finding("SRC001", "invalid JSON: nesting too deep", SourceLocation(path, 1, 1))]
    except ValueError:  # an integer beyond Python's 4300-digit conversion limit (issue 15)
        long_number = re.search(r"[0-9]{4301,}", text)
        line, col = _line_col(text, long_number.start()) if long_number else (1, 1)
        return text, None, [Finding("SRC001", "invalid JSON: a number with more than 4,300 digits",
                                    SourceLocation(path, line, col), hint="AS3 numbers fit in 64 bits")]


def validate_declaration_file(path: str, validator: As3Validator) -> list[Finding]:
    """Every AS3 error in one declaration file, each at the line and column of the value at fault."""
    text, body, findings = read_declaration(path)
    if findings:
        return findings
    judgement = validator.judge(body, absolute=True)
    errors = judgement.errors + judgement.warnings
    if not errors:
        return []
    try:
        offsets = value_offsets(text)
    except (ValueError, IndexError):  # pragma: no cover - json.loads accepted the text
        offsets = {}
    result = []
    for error in errors:
        result.append(Finding(code_of(error), message_of(body, error), _locate(path, text, offsets, error.pointer),
                              severity=Severity.WARNING if error.warning else Severity.ERROR))
    return result
