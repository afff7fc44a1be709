"""A scripted HTTP(S) server on 127.0.0.1 for client tests: answers from a FIFO script, logs requests.

It is not a BIG-IP (the emulator is): it only lets a test say "the next POST to /declare gets a
503", "this GET's connection drops", so the client's reaction to each wire case is tested alone.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str -> sent as is (e.g. HTML)
    drop: bool = False  # close the socket without any response


@dataclass
class Logged:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Script:
    rules: list[tuple[str, str, Answer]] = field(default_factory=list)
    log: list[Logged] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    password: str = "s3cret-Pa55"

    def add(self, method: str, path: str, *answers: Answer) -> None:
        for a in answers:
            self.rules.append((method, path, a))

    def take(self, method: str, path: str) -> Answer | None:
        for i, (m, p, a) in enumerate(self.rules):
            if m == method and path.startswith(p):
                del self.rules[i]
                return a
        return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        script = self.server.script
        script.log.append(Logged(self.command, self.path, dict(self.headers), body))
        answer = script.take(self.command, self.path) or self._default(body)
        if answer.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(answer.body, str):
            raw, ctype = answer.body.encode(), "text/html"
        elif answer.body is None:
            raw, ctype = b"", "application/json"
        else:
            raw, ctype = json.dumps(answer.body).encode(), "application/json"
        self.send_response(answer.status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _default(self, body: bytes) -> Answer:
        script = self.server.script
        if self.command == "POST" and self.path == "/mgmt/shared/authn/login":
            data = json.loads(body)
            if data.get("password") != script.password:
                return Answer(401, {"code": 401, "message": "Authentication failed."})
            token = f"TOKEN{len(script.tokens) + 1}"
            script.tokens.append(token)
            return Answer(200, {"token": {"token": token, "timeout": 1200}})
        if self.path.startswith("/mgmt/shared/authz/tokens/"):
            return Answer(200, {"timeout": 1200})
        if self.headers.get("X-F5-Auth-Token") not in script.tokens:
            return Answer(401, {"code": 401, "message": "X-F5-Auth-Token does not exist."})
        return Answer(404, {"code": 404, "message": "not scripted"})

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    script: Script


class ScriptedServer:
    def __init__(self, tls: ssl.SSLContext | None = None):
        self.script = Script()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.script = self.script
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        host, port = self._server.server_address[:2]
        self.url = f"{'https' if tls else 'http'}://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
