"""Basic auth and X-F5-Auth-Token tokens (`/mgmt/shared/authn/login`, `/mgmt/shared/authz/tokens/<t>`).

Tokens live 1200 s by default on the emulator clock; PATCH may set `timeout` up to 36000 s
(counted from the token's start); DELETE revokes. Users other than `admin` may hold at most 100
live tokens (the 101st login is refused with 400).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import itertools
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from renderer.emulator.clock import Clock
from renderer.emulator.wire import Request, Response, error

DEFAULT_TIMEOUT = 1200
MAX_TIMEOUT = 36000
MAX_TOKENS = 100
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_op_ids = itertools.count(1000)


@dataclass
class Token:
    token: str
    username: str
    start: float
    timeout: int
    address: str
    generation: int = 1

    def expires(self) -> float:
        return self.start + self.timeout

    def item(self) -> dict[str, Any]:
        """The token item, as `login` embeds it and GET/PATCH/DELETE return it."""
        start = datetime.fromtimestamp(self.start, tz=UTC)
        return {
            "token": self.token, "name": self.token, "userName": self.username,
            "authProviderName": "tmos",
            "user": {"link": f"https://localhost/mgmt/cm/system/authn/providers/tmos/1/users/{self.username}"},
            "timeout": self.timeout,
            "startTime": start.strftime("%Y-%m-%dT%H:%M:%S.") + f"{start.microsecond // 1000:03d}+0000",
            "address": self.address, "partition": "[All]", "generation": self.generation,
            "lastUpdateMicros": int(self.start * 1_000_000),
            "expirationMicros": int(self.expires() * 1_000_000),
            "kind": "shared:authz:tokens:authtokenitemstate",
            "selfLink": f"https://localhost/mgmt/shared/authz/tokens/{self.token}",
        }


def unauthorized(req: Request, message: str) -> Response:
    """401 in the restjavad error envelope."""
    return Response(401, {"code": 401, "message": message, "referer": req.client,
                          "restOperationId": next(_op_ids), "kind": ":resterrorresponse"})


class Auth:
    """Credentials of the one emulated user, plus the live tokens."""

    def __init__(self, clock: Clock, username: str, password: str) -> None:
        self._clock = clock
        self._username = username
        self._password = password
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def _valid(self, username: Any, password: Any) -> bool:
        if not isinstance(username, str) or not isinstance(password, str):
            return False
        same_user = hmac.compare_digest(username.encode(), self._username.encode())
        return same_user & hmac.compare_digest(password.encode(), self._password.encode())

    def _live(self, token: str) -> Token | None:
        """The token if it exists and has not expired; expired ones are forgotten."""
        item = self._tokens.get(token)
        if item is not None and self._clock.now() >= item.expires():
            del self._tokens[token]
            return None
        return item

    def expire(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def check(self, req: Request) -> Response | None:
        """None when the request is authenticated, else the 401 to send."""
        token = req.header("X-F5-Auth-Token")
        if token is not None:
            with self._lock:
                if self._live(token) is None:
                    return unauthorized(req, "X-F5-Auth-Token does not exist.")
            return None
        header = req.header("Authorization") or ""
        if header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return unauthorized(req, "Authentication failed.")
            if self._valid(user, password):
                return None
            return unauthorized(req, "Authentication failed.")
        return unauthorized(req, "Authorization failed: no user authentication header or token detected.")

    def login(self, req: Request, body: Any) -> Response:
        if not isinstance(body, dict) or not self._valid(body.get("username"), body.get("password")):
            return unauthorized(req, "Authentication failed.")
        with self._lock:
            now = self._clock.now()
            mine = [t for t in list(self._tokens) if self._live(t) and self._tokens[t].username == self._username]
            if self._username != "admin" and len(mine) >= MAX_TOKENS:
                return error(400, f"User {self._username} has reached maximum active login tokens")
            value = "".join(secrets.choice(_ALPHABET) for _ in range(26))
            token = Token(value, self._username, now, DEFAULT_TIMEOUT, req.client)
            self._tokens[value] = token
            item = token.item()
        link = f"https://localhost/mgmt/cm/system/authn/providers/tmos/1/{self._username}/login"
        return Response(200, {"username": self._username, "loginReference": {"link": link},
                              "loginProviderName": body.get("loginProviderName", "tmos"),
                              "token": item, "generation": 0, "lastUpdateMicros": 0})

    def token_resource(self, req: Request, value: str, body: Any) -> Response:
        """GET, PATCH `{"timeout": n}` or DELETE one token."""
        with self._lock:
            token = self._live(value)
            if token is None:
                return error(404, f"Token {value} does not exist.")
            if req.method == "GET":
                return Response(200, token.item())
            if req.method == "DELETE":
                del self._tokens[value]
                return Response(200, token.item())
            if req.method == "PATCH":
                timeout = body.get("timeout") if isinstance(body, dict) else None
                if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1:
                    return error(400, "timeout must be a positive integer")
                if timeout > MAX_TIMEOUT:
                    return error(400, f"Auth-token absolute timeout ({MAX_TIMEOUT} seconds) exceeded")
                token.timeout = timeout
                token.generation += 1
                return Response(200, token.item())
        return error(405, f"{req.method} method is not allowed on /mgmt/shared/authz/tokens")

    def count(self) -> int:
        with self._lock:
            return sum(1 for t in list(self._tokens) if self._live(t))
