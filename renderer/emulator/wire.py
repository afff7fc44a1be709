"""The emulator's own request/response values, independent of the HTTP server that carries them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

JSON_TYPE = "application/json; charset=UTF-8"


class BodyError(ValueError):
    """The request body is not valid JSON; the message is the parser's."""


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # the raw request target: path plus query string
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    client: str = "127.0.0.1"
    max_depth: int = 64

    @property
    def path(self) -> str:
        """The URL path with %-escapes decoded (AS3 treats %2C as a comma)."""
        return unquote(urlsplit(self.target).path)

    @property
    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.target).query, keep_blank_values=True)

    @property
    def query(self) -> dict[str, str]:
        return dict(self.query_pairs)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        if not self.body.strip():
            raise BodyError("Unexpected end of JSON input")
        depth = nesting(self.body, self.max_depth)
        if depth > self.max_depth:
            raise BodyError(f"JSON nesting {depth} deeper than the limit of {self.max_depth}")
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise BodyError(str(err)) from err
        except (ValueError, RecursionError) as err:  # e.g. an integer of more than 4,300 digits
            raise BodyError(f"JSON value out of range: {err}") from err


_KEEP = bytes(range(256)).translate(None, b"[]{}")  # every byte but the brackets
_SQUARE = bytes.maketrans(b"{}", b"[]")


def nesting(body: bytes, limit: int = 10_000) -> int:
    """The deepest array/object nesting of a JSON text (strings skipped), at most `limit` + 1.

    Python's parser recurses and ~1,000 levels end in RecursionError, so depth is checked before
    parsing. Every step is a C-speed bytes operation: strings out, brackets kept, then each pass
    removes the innermost `[]` pairs, so the number of passes is the depth."""
    if b"\\" in body:  # escaped backslashes, then escaped quotes, cannot end a string
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    text = b"".join(body.split(b'"')[0::2]).translate(_SQUARE, _KEEP)
    depth = 0
    while text and depth <= limit:
        shorter = text.replace(b"[]", b"")
        if len(shorter) == len(text):  # unbalanced brackets: the parser will say where
            break
        text, depth = shorter, depth + 1
    return depth


@dataclass
class Response:
    status: int
    body: Any = None  # JSON data; bytes are sent as they are
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering (drop-connection fault)
    fault: str | None = None  # the injected fault that produced or shaped this response

    def payload(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")


def error(status: int, message: str, **extra: Any) -> Response:
    """`{"code": status, "message": ...}`, the shape AS3 and restjavad share for plain errors."""
    return Response(status, {"code": status, "message": message, **extra})


def tm_error(status: int, message: str, api_error: int = 3) -> Response:
    """An mcpd-style /mgmt/tm error body."""
    return Response(status, {"code": status, "message": message, "errorStack": [], "apiError": api_error})
