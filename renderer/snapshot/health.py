"""The watcher's probe and metrics endpoint: /healthz (liveness), /readyz (readiness), /metrics.

Plain http.server in a thread: it serves three small documents and must keep answering while
the watch loop is in the middle of a deploy. It reads `Metrics` only; it never changes state.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from renderer.errors import UsageError
from renderer.snapshot.metrics import Metrics


def parse_address(text: str) -> tuple[str, int]:
    """'127.0.0.1:8080' / ':8080' / '0.0.0.0:0' -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--health {text!r}: expected HOST:PORT, e.g. 0.0.0.0:8080 (port 0: any free port)")
    return host.strip("[]") or "0.0.0.0", int(port)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A probe that hung up early (timeout, pod shutdown) is not an error; the library never prints."""


class HealthServer:
    def __init__(self, metrics: Metrics, address: tuple[str, int]):
        self.metrics = metrics
        self.address = address
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HealthServer:
        metrics = self.metrics

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # probes every few seconds: no log
                pass

            def _send(self, code: int, body: bytes, content_type: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, metrics.prometheus().encode(), "text/plain; version=0.0.4")
                elif path in ("/healthz", "/readyz"):
                    ok = metrics.live() if path == "/healthz" else metrics.ready()
                    body = json.dumps({"ok": ok, **metrics.status()}, sort_keys=True).encode()
                    self._send(200 if ok else 503, body, "application/json")
                else:
                    self._send(404, b'{"ok": false, "error": "not found"}', "application/json")

        try:
            self._server = _Server(self.address, Handler)
        except OSError as err:
            raise UsageError(f"--health {self.address[0]}:{self.address[1]}: cannot listen: {err.strerror}") from err
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True, name="watch health")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
