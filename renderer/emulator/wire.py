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
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise BodyError(str(err)) from err


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
