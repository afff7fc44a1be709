"""HTTP(S) plumbing: a threading stdlib server that hands each request to `Device.handle`.

TLS handshakes run in the per-connection thread, so a stalled client never blocks the accept
loop. The server refuses non-loopback bind addresses unless `allow_remote` is set.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from renderer.emulator.device import Device
from renderer.emulator.wire import Request


class BindRefused(ValueError):
    """The bind address is not loopback and remote access was not allowed."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "as3-gitops-emulator"
    timeout = 60  # idle keep-alive connections end after this many seconds
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid the 40 ms delayed-ACK stall
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # the request log is the device's
        return

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        req = Request(method=self.command, target=self.path,
                      headers={k.lower(): v for k, v in self.headers.items()},
                      body=self._body(), client=self.client_address[0])
        response = self.server.device.handle(req)
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = response.payload()
        self.send_response(response.status)
        if response.status != 204:
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if response.status != 204 and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], device: Device, context: ssl.SSLContext | None) -> None:
        self.device = device
        self.context = context
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.context is None:
            super().finish_request(request, client_address)
            return
        try:
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
