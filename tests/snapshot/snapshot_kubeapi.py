"""A Kubernetes API stand-in: HTTPS on 127.0.0.1 (trustme CA), answering the list endpoints capture uses.

It serves list bodies in the API's own shape (`NodeList` etc., items without kind/apiVersion),
honours `limit`/`continue` paging, checks the bearer token, records every request, and can be told
to fail a path with a Kubernetes `Status` body.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme
import yaml

_ROUTES = [
    (re.compile(r"^/api/v1/nodes$"), "Node", "v1"),
    (re.compile(r"^/api/v1/endpoints$"), "Endpoints", "v1"),
    (re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/endpoints$"), "Endpoints", "v1"),
    (re.compile(r"^/apis/discovery\.k8s\.io/v1/endpointslices$"), "EndpointSlice", "discovery.k8s.io/v1"),
    (re.compile(r"^/apis/discovery\.k8s\.io/v1/namespaces/(?P<ns>[^/]+)/endpointslices$"), "EndpointSlice",
     "discovery.k8s.io/v1"),
]


def status_body(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "code": code, "kind": "Status", "message": message, "metadata": {},
            "reason": reason, "status": "Failure"}


class KubeAPI:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.ca = trustme.CA()
        self._cert = self.ca.issue_cert("127.0.0.1")
        self.token = "snapshot-test-token"
        self.objects: dict[str, list[dict[str, Any]]] = {"Node": [], "Endpoints": [], "EndpointSlice": []}
        self.resource_version = "905200"
        self.failures: dict[str, tuple[int, dict[str, Any]]] = {}
        self.requests: list[tuple[str, dict[str, list[str]], str | None]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- content ---------------------------------------------------------------------------------
    def load_kubectl_yaml(self, path: Path) -> None:
        """Serve the objects of a `kubectl get -o yaml` List (kind/apiVersion dropped, as the API lists them)."""
        data = yaml.safe_load(path.read_text())
        for kind in self.objects:
            self.objects[kind] = []
        for item in data["items"]:
            kind = item["kind"]
            body = {k: v for k, v in item.items() if k not in ("kind", "apiVersion")}
            self.objects[kind].append(body)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def write_kubeconfig(self, name: str = "kubeconfig", context: str = "test") -> Path:
        ca_pem = self.ca.cert_pem.bytes()
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "test-cluster", "cluster": {
                "server": self.url, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
            "users": [{"name": "test-user", "user": {"token": self.token}}],
            "contexts": [{"name": context, "context": {"cluster": "test-cluster", "user": "test-user"}}],
            "current-context": context,
        }
        target = self.workdir / name
        target.write_text(yaml.safe_dump(config))
        return target

    # --- server ----------------------------------------------------------------------------------
    def start(self) -> None:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                api.requests.append((parts.path, query, self.headers.get("Authorization")))
                scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
                if scheme.lower() != "bearer" or token != api.token:  # the auth scheme is case-insensitive
                    self._send(401, status_body(401, "Unauthorized", "Unauthorized"))
                    return
                if parts.path in api.failures:
                    code, body = api.failures[parts.path]
                    self._send(code, body)
                    return
                for rx, kind, version in _ROUTES:
                    match = rx.match(parts.path)
                    if match:
                        self._send(200, api.list_body(kind, version, match.groupdict().get("ns"), query))
                        return
                self._send(404, status_body(404, "NotFound", "the server could not find the requested resource"))

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(ctx)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def list_body(self, kind: str, version: str, namespace: str | None,
                  query: dict[str, list[str]]) -> dict[str, Any]:
        items = [o for o in self.objects[kind]
                 if namespace is None or o.get("metadata", {}).get("namespace") == namespace]
        start = int(query.get("continue", ["0"])[0] or 0)
        limit = int(query.get("limit", ["0"])[0] or 0)
        end = start + limit if limit else len(items)
        meta: dict[str, Any] = {"resourceVersion": self.resource_version}
        if end < len(items):
            meta["continue"] = str(end)
            meta["remainingItemCount"] = len(items) - end
        return {"apiVersion": version, "items": items[start:end], "kind": f"{kind}List", "metadata": meta}
