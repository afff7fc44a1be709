"""HTTP(S) plumbing: a threading stdlib server that hands each request to `Device.handle`.

TLS handshakes run in the per-connection thread, so a stalled client never blocks the accept
loop. The server refuses non-loopback bind addresses unless `allow_remote` is set.

Hostile or unlucky input never ends in a closed socket without an answer or a traceback: a bad
Content-Length or chunk size is a 400, a body over `max_body_bytes` a 413 (not read), JSON nested
deeper than `max_json_depth` or with a >4,300-digit integer a 400 (wire.py), all with an AS3-style
`{"code", "message"}` body. At most `max_connections` connections are served at once (more get a
503 at once); reading a request, and waiting on an idle keep-alive connection, ends after
`request_seconds` (a watchdog shuts slow sockets down).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import re
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from renderer.emulator.device import Device
from renderer.emulator.wire import Request, Response, error

log = logging.getLogger(__name__)


class BindRefused(ValueError):
    """The bind address is not loopback and remote access was not allowed."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _BadRequest(Exception):
    """The request's framing is broken (length, chunks) or too large: answer it and close."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")
_LENGTH = re.compile(r"[0-9]{1,19}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "as3-gitops-emulator"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid the 40 ms delayed-ACK stall
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # the request log is the device's
        return

    def setup(self) -> None:
        self.timeout = self.server.device.config.request_seconds  # per socket read
        super().setup()

    def handle_one_request(self) -> None:
        """One request; reading it (headers and body) must finish within `request_seconds`."""
        self.server.arm(self.connection)
        try:
            super().handle_one_request()
        except OSError:  # the client went away (or the watchdog cut a slow one off)
            self.close_connection = True
        finally:
            self.server.disarm(self.connection)

    def _body(self) -> bytes:
        limit = self.server.device.config.max_body_bytes
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1025)
                size_text = line.split(b";")[0].strip()
                if not _CHUNK_SIZE.fullmatch(size_text):
                    raise _BadRequest(400, f"bad chunk size {size_text[:40]!r}")
                size = int(size_text, 16)
                if size == 0:
                    while self.rfile.readline(1025) not in (b"\r\n", b"\n", b""):
                        pass  # trailer fields
                    return b"".join(chunks)
                total += size
                if total > limit:
                    raise _BadRequest(413, f"request body larger than {limit} bytes")
                data = self.rfile.read(size)
                if len(data) < size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                    raise _BadRequest(400, "truncated or malformed chunk")
                chunks.append(data)
        values = self.headers.get_all("Content-Length") or []
        if not values:
            return b""
        if len(set(values)) != 1 or not _LENGTH.fullmatch(values[0].strip()):
            raise _BadRequest(400, f"bad Content-Length {', '.join(values)[:40]!r}")
        length = int(values[0])
        if length > limit:
            raise _BadRequest(413, f"request body of {length} bytes is larger than {limit} bytes")
        data = self.rfile.read(length)
        if len(data) < length:
            raise _BadRequest(400, f"body ended after {len(data)} of {length} bytes")
        return data

    def _serve(self) -> None:
        try:
            body = self._body()
        except _BadRequest as bad:
            self.close_connection = True
            self._send(error(bad.status, bad.message), head=False)
            return
        self.server.disarm(self.connection)  # read in time: processing may take as long as it takes
        req = Request(method=self.command, target=self.path,
                      headers={k.lower(): v for k, v in self.headers.items()},
                      body=body, client=self.client_address[0],
                      max_depth=self.server.device.config.max_json_depth)
        response = self.server.device.handle(req)
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(response, head=self.command == "HEAD")

    def _send(self, response: Response, head: bool) -> None:
        payload = response.payload()
        self.send_response(response.status)
        if response.status != 204:
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if response.status != 204 and not head:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=UTF-8\r\n"
         b"Connection: close\r\nContent-Length: %d\r\n\r\n")


class _Server(ThreadingHTTPServer):
    """Threads per connection, at most `max_connections` at once; a watchdog ends slow reads."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], device: Device, context: ssl.SSLContext | None) -> None:
        self.device = device
        self.context = context
        self.slots = threading.BoundedSemaphore(device.config.max_connections)
        self._deadlines: dict[Any, float] = {}
        self._armed = threading.Lock()
        self._watching = threading.Event()
        super().__init__(address, _Handler)
        self._watchdog = threading.Thread(target=self._watch, name="bigip-emulator-watchdog", daemon=True)
        self._watchdog.start()

    def arm(self, conn: Any) -> None:
        with self._armed:
            self._deadlines[conn] = time.monotonic() + self.device.config.request_seconds

    def disarm(self, conn: Any) -> None:
        with self._armed:
            self._deadlines.pop(conn, None)

    def _watch(self) -> None:
        while not self._watching.wait(0.25):
            now = time.monotonic()
            with self._armed:
                late = [c for c, t in self._deadlines.items() if t < now]
                for conn in late:
                    del self._deadlines[conn]
            for conn in late:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):  # full: answer at once instead of queueing a thread
            body = json.dumps({"code": 503, "message": "too many connections to the emulator"}).encode()
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                if self.context is None:
                    request.sendall(_BUSY % len(body) + body)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """No traceback on stderr: a client that went away is normal; anything else is logged."""
        err = sys.exc_info()[1]
        if not isinstance(err, OSError):
            log.error("emulator: unexpected error serving %s", client_address, exc_info=True)

    def server_close(self) -> None:
        self._watching.set()
        super().server_close()

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.context is None:
            super().finish_request(request, client_address)
            return
        try:
            request.settimeout(self.device.config.request_seconds)
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


class EmulatorServer:
    """A running (or ready) emulator: `start()` in a thread, or `serve_forever()` in the caller."""

    def __init__(self, device: Device, host: str = "127.0.0.1", port: int = 0,
                 context: ssl.SSLContext | None = None, allow_remote: bool = False) -> None:
        if not allow_remote and not is_loopback(host):
            raise BindRefused(f"refusing to listen on {host}: not a loopback address (use --allow-remote)")
        self.device = device
        self._server = _Server((host, port), device, context)
        self._thread: threading.Thread | None = None
        self.scheme = "https" if context is not None else "http"
        bound_host, bound_port = self._server.server_address[:2]
        self.host = host if host == "localhost" else str(bound_host)
        self.port = int(bound_port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="bigip-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()


def server_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
