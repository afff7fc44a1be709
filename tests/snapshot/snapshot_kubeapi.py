"""A Kubernetes API stand-in: HTTPS on 127.0.0.1 (trustme CA), answering the list and watch endpoints.

It serves list bodies in the API's own shape (`NodeList` etc., items without kind/apiVersion),
honours `limit`/`continue` paging, checks the bearer token, records every request, and can be told
to fail a path with a Kubernetes `Status` body.

Watches (`?watch=true&resourceVersion=N`) stream the API's JSON-lines events over chunked HTTP/1.1:
every change made through `put`/`delete` after N, for the watched kind and namespace, ending after
`timeoutSeconds`. `compact()` makes older versions expire (an `ERROR` event with a 410 Status, as
etcd compaction does), `drop_watches()` breaks open streams mid-chunk, and `stop()`/`start()` on the
same port make the server unreachable and back. Each change records when it was made
(`event_times`), so tests measure the lag from the API event on.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import ssl
import threading
import time
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


_ROUTE_VERSIONS = (("Node", "v1"), ("Endpoints", "v1"), ("EndpointSlice", "discovery.k8s.io/v1"))


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
        self.events: list[tuple[int, str, str, dict[str, Any]]] = []  # (rv, type, kind, object)
        self.event_times: dict[int, float] = {}  # rv -> time.monotonic() of the change
        self.compacted_below = 0  # watches from an older resourceVersion get 410
        self._changed = threading.Condition()
        self._generation = 0  # drop_watches() / stop() end every open stream
        self._port = 0
        self._connections: set[Any] = set()  # open client sockets, closed by stop()
        self.failures: dict[str, tuple[int, dict[str, Any]]] = {}
        self.watch_failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}  # answered once each, watches only
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

    # --- changes (each one a watch event) ---------------------------------------------------------
    def _change(self, kind: str, type_: str, body: dict[str, Any]) -> int:
        with self._changed:
            rv = int(self.resource_version) + 1
            self.resource_version = str(rv)
            body.setdefault("metadata", {})["resourceVersion"] = str(rv)
            version = dict(_ROUTE_VERSIONS)[kind]
            self.events.append((rv, type_, kind, {"apiVersion": version, "kind": kind, **body}))
            self.event_times[rv] = time.monotonic()
            self._changed.notify_all()
            return rv

    def put(self, kind: str, obj: dict[str, Any]) -> int:
        """Create or replace an object (matched by namespace and name); returns its resourceVersion."""
        body = {k: v for k, v in json.loads(json.dumps(obj)).items() if k not in ("kind", "apiVersion")}
        meta = body["metadata"]
        with self._changed:
            items = self.objects[kind]
            for i, old in enumerate(items):
                if (old["metadata"].get("namespace"), old["metadata"]["name"]) == (meta.get("namespace"),
                                                                                    meta["name"]):
                    items[i] = body
                    return self._change(kind, "MODIFIED", body)
            items.append(body)
            return self._change(kind, "ADDED", body)

    def delete(self, kind: str, namespace: str | None, name: str) -> int:
        with self._changed:
            items = self.objects[kind]
            for i, old in enumerate(items):
                if (old["metadata"].get("namespace"), old["metadata"]["name"]) == (namespace, name):
                    del items[i]
                    return self._change(kind, "DELETED", old)
        raise KeyError(f"{kind} {namespace}/{name}")

    def find(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        for obj in self.objects[kind]:
            if (obj["metadata"].get("namespace"), obj["metadata"]["name"]) == (namespace, name):
                return json.loads(json.dumps(obj))
        raise KeyError(f"{kind} {namespace}/{name}")

    def compact(self) -> None:
        """Every resourceVersion up to now expires: open watches from older versions get 410 Gone."""
        with self._changed:
            self.compacted_below = int(self.resource_version) + 1
            self._changed.notify_all()

    def drop_watches(self) -> None:
        """Break every open watch stream (a load balancer idle cut, an API server restart)."""
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def watches(self) -> list[dict[str, list[str]]]:
        """The query of every watch request so far."""
        return [q for _p, q, _a in self.requests if q.get("watch", [""])[0] in ("true", "1")]

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
        """Serve (again: on the same port as before, after `stop()`)."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # chunked watch streams

            def setup(self) -> None:
                super().setup()
                api._connections.add(self.connection)

            def finish(self) -> None:
                api._connections.discard(self.connection)
                super().finish()

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
                watching = query.get("watch", [""])[0] in ("true", "1")
                if watching and api.watch_failures.get(parts.path):
                    code, body = api.watch_failures[parts.path].pop(0)
                    self._send(code, body)
                    return
                for rx, kind, version in _ROUTES:
                    match = rx.match(parts.path)
                    if match and watching:
                        self._watch(kind, match.groupdict().get("ns"), query)
                        return
                    if match:
                        self._send(200, api.list_body(kind, version, match.groupdict().get("ns"), query))
                        return
                self._send(404, status_body(404, "NotFound", "the server could not find the requested resource"))

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _watch(self, kind: str, namespace: str | None, query: dict[str, list[str]]) -> None:
                start = int(query.get("resourceVersion", ["0"])[0] or 0) or int(api.resource_version)
                ends = time.monotonic() + int(query.get("timeoutSeconds", ["1800"])[0])
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                with api._changed:
                    generation = api._generation
                sent = start
                while True:
                    with api._changed:
                        if api._generation != generation:
                            self.close_connection = True  # abrupt: no final chunk
                            return
                        if sent < api.compacted_below:  # as etcd compaction: the stream cannot go on
                            gone = status_body(410, "Expired", f"too old resource version: {sent} "
                                               f"({api.compacted_below})")
                            self._chunk(json.dumps({"type": "ERROR", "object": gone}).encode() + b"\n")
                            break
                        pending = [e for e in api.events if e[0] > sent and e[2] == kind and (
                            namespace is None or e[3]["metadata"].get("namespace") == namespace)]
                        if not pending:
                            left = ends - time.monotonic()
                            if left <= 0:
                                break
                            api._changed.wait(min(left, 0.2))
                            continue
                    for rv, type_, _kind, obj in pending:
                        self._chunk(json.dumps({"type": type_, "object": obj}).encode() + b"\n")
                        sent = rv
                self._chunk(b"")

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(ctx)
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._port = self._server.server_address[1]
        self._server.daemon_threads = True
        self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and break open watches; `start()` serves again on the same port."""
        self.drop_watches()
        if self._server is not None:
            self._server.shutdown()
            for conn in list(self._connections):  # kept-alive connections too: really unreachable
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

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
