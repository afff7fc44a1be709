"""List + watch Nodes, Endpoints and EndpointSlices into an in-memory store (the `snapshot watch` input).

One thread per listing (the same listings `snapshot capture` reads, from `capture._listings`):
list with paging, then watch from the list's resourceVersion, applying ADDED/MODIFIED/DELETED to
the store. A watch that ends normally (the server's timeout) resumes from the last resourceVersion
seen; a `410 Gone` (the version was compacted away), any other API error or an unreachable server
drops back to a fresh list, after a backoff for errors. Objects stay raw JSON dicts, exactly what a
list returns, so `documents()` feeds the same normalizer as `snapshot capture`.

The store remembers when the first event not yet synced arrived (`dirty_since`) and when the last
one did (`last_event`), which is all the debounce and the lag metric need.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from renderer.snapshot.capture import ClusterAccess, _api_hint, _kubernetes, _Listing, _listings, _page, api_client
from renderer.source import Document, SourceFile

Key = tuple[str, str, str]  # (kind, namespace, name)
WATCH_RBAC_HINT = ("the account needs get, list and watch on nodes, endpoints and endpointslices "
                   "(see examples/snapshot-watch/rbac.yaml)")


@dataclass(frozen=True)
class StreamTiming:
    """How long a watch may stay open, read timeouts, and the error backoff (first, most)."""

    watch_seconds: int = 300
    connect_timeout: float = 10.0
    backoff_first: float = 1.0
    backoff_most: float = 60.0


class _Gone(Exception):
    """The watch's resourceVersion is too old (410): list again."""


class Store:
    """Raw objects per listing, with the timing of unsynced events; thread-safe."""

    def __init__(self, listings: list[tuple[_Listing, str | None]]):
        self._lock = threading.Condition()
        self._objects: dict[int, dict[Key, dict[str, Any]]] = {i: {} for i in range(len(listings))}
        self._listed: set[int] = set()
        self._listings = listings
        self.dirty_since: float | None = None  # monotonic time of the first unsynced event
        self.last_event: float | None = None
        self.events = 0
        self.relists = 0
        self.errors: dict[int, str] = {}  # listing -> the last error (cleared by a good list)

    def _touch(self) -> None:
        now = time.monotonic()
        if self.dirty_since is None:
            self.dirty_since = now
        self.last_event = now
        self.events += 1
        self._lock.notify_all()

    def replace(self, index: int, items: dict[Key, dict[str, Any]]) -> None:
        with self._lock:
            changed = self._objects[index] != items or index not in self._listed
            self._objects[index] = items
            self._listed.add(index)
            self.errors.pop(index, None)
            if changed:
                self._touch()

    def apply(self, index: int, kind: str, key: Key, obj: dict[str, Any] | None) -> None:
        """Store one event; only a change the snapshot can see (its normalized form) makes the store dirty,
        so Node heartbeats and other status noise never start a sync."""
        with self._lock:
            current = self._objects[index]
            if obj is None:
                if current.pop(key, None) is None:
                    return
            else:
                old = current.get(key)
                current[key] = obj
                if old is not None and _same(old, obj):
                    return
            self._touch()

    def fail(self, index: int, message: str) -> None:
        with self._lock:
            self.errors[index] = message
            self._lock.notify_all()

    @property
    def ready(self) -> bool:
        """Every listing was listed at least once and none is failing now."""
        with self._lock:
            return len(self._listed) == len(self._listings) and not self.errors

    def take(self) -> tuple[list[Document], float | None]:
        """Documents in `capture.fetch`'s shape, and the time of the first event they settle."""
        with self._lock:
            since, self.dirty_since = self.dirty_since, None
            docs = []
            for index, (listing, _ns) in enumerate(self._listings):
                items = [dict(o) for _k, o in sorted(self._objects[index].items())]
                body = {"apiVersion": listing.api_version, "kind": f"{listing.kind}List", "items": items}
                docs.append(Document(SourceFile(f"cluster:{listing.path}", ""), len(docs), 1, body))
            return docs, since

    def wait(self, timeout: float) -> None:
        with self._lock:
            self._lock.wait(timeout)


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    from renderer.snapshot.normalize import normalize

    if old == new:
        return True
    try:
        return normalize(old) == normalize(new)
    except Exception:  # an object the normalizer cannot read: let the sync's validation report it
        return False


def _key(listing: _Listing, obj: dict[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    return (listing.kind, str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def _clean(listing: _Listing, obj: dict[str, Any]) -> dict[str, Any]:
    """Kind/apiVersion as list items get them in `capture.fetch`; resourceVersion is never compared."""
    out = dict(obj)
    out.setdefault("kind", listing.kind)
    out.setdefault("apiVersion", listing.api_version)
    meta = dict(out.get("metadata") or {})
    meta.pop("resourceVersion", None)
    meta.pop("managedFields", None)
    out["metadata"] = meta
    return out


class ClusterStream:
    """The watch threads; `start()`, then `stop()` ends them within about a second."""

    def __init__(self, access: ClusterAccess, namespaces: tuple[str, ...] | None = None,
                 timing: StreamTiming | None = None, log: Callable[[str], None] = lambda _m: None):
        self.access = access
        self.timing = timing or StreamTiming()
        self.listings = _listings(namespaces)
        self.store = Store(self.listings)
        self.log = log
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._responses: dict[int, Any] = {}
        self._api: Any = None

    def start(self) -> None:
        client, _config = _kubernetes()
        self._api = api_client(self.access)  # a bad kubeconfig is a usage error before any thread starts
        core, discovery = client.CoreV1Api(self._api), client.DiscoveryV1Api(self._api)
        for index, (listing, ns) in enumerate(self.listings):
            api = discovery if listing.kind == "EndpointSlice" else core
            thread = threading.Thread(target=self._run, args=(index, listing, ns, api), daemon=True,
                                      name=f"watch {listing.path}")
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for response in list(self._responses.values()):
            with contextlib.suppress(Exception):  # best effort: the response may be closed already
                response.shutdown()  # unblocks a read in progress (urllib3 2.3+)
        for thread in self._threads:
            thread.join(timeout=5)
        if self._api is not None:
            self._api.close()
        with self.store._lock:
            self.store._lock.notify_all()

    # --- one listing -----------------------------------------------------------------------------
    def _run(self, index: int, listing: _Listing, ns: str | None, api: Any) -> None:
        client, _config = _kubernetes()
        import urllib3

        failures = 0
        version: str | None = None
        while not self._stop.is_set():
            try:
                if version is None:
                    version = self._list(index, listing, ns, api)
                    self.store.relists += 1
                version = self._watch(index, listing, ns, api, version)
                failures = 0
            except _Gone:
                self.log(f"{listing.path}: resourceVersion expired (410 Gone): listing again")
                version = None
            except Exception as err:  # any failure, even an unexpected one: never a silently dead watch
                if self._stop.is_set():
                    break
                status = getattr(err, "status", None)
                if status == 410:  # some API servers answer an expired version with HTTP 410, not an event
                    self.log(f"{listing.path}: resourceVersion expired (HTTP 410 Gone): listing again")
                    version = None
                    continue
                if isinstance(err, client.exceptions.ApiException) and status:
                    message = f"{listing.path}: {status} {getattr(err, 'reason', '')}".rstrip()
                elif isinstance(err, urllib3.exceptions.HTTPError | OSError):
                    message = f"{listing.path}: cannot reach the Kubernetes API: {type(err).__name__}"
                else:
                    message = f"{listing.path}: unexpected answer from the Kubernetes API: {type(err).__name__}"
                hint = (WATCH_RBAC_HINT if status in (401, 403) else _api_hint(status)) if status else None
                message += f" ({hint})" if hint else ""
                self.store.fail(index, message)
                wait = min(self.timing.backoff_most, self.timing.backoff_first * 2 ** min(failures, 10))
                failures += 1
                self.log(f"{message}; retrying in {wait:.1f}s")
                version = None  # resume from a fresh list: events may have been missed
                self._stop.wait(wait)

    def _list(self, index: int, listing: _Listing, ns: str | None, api: Any) -> str:
        items: dict[Key, dict[str, Any]] = {}
        token: str | None = None
        version = ""
        while True:
            body = _page(api, listing, ns, token)
            version = str((body.get("metadata") or {}).get("resourceVersion") or version)
            for item in body["items"]:
                if isinstance(item, dict):
                    items[_key(listing, item)] = _clean(listing, item)
            token = (body.get("metadata") or {}).get("continue") or None
            if not token:
                break
        self.store.replace(index, items)
        return version

    def _watch(self, index: int, listing: _Listing, ns: str | None, api: Any, version: str) -> str:
        from kubernetes.watch.watch import iter_resp_lines

        kwargs: dict[str, Any] = {
            "watch": True, "resource_version": version, "allow_watch_bookmarks": True,
            "timeout_seconds": self.timing.watch_seconds, "_preload_content": False,
            "_request_timeout": (self.timing.connect_timeout, self.timing.watch_seconds + 30)}
        method = getattr(api, listing.method)
        response = method(ns, **kwargs) if listing.namespaced else method(**kwargs)
        self._responses[index] = response
        try:
            for line in iter_resp_lines(response):
                if self._stop.is_set():
                    break
                if not line.strip():
                    continue
                event = json.loads(line)
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise _Gone()
                    from kubernetes.client.exceptions import ApiException

                    raise ApiException(status=obj.get("code"), reason=obj.get("reason") or "watch error")
                new_version = (obj.get("metadata") or {}).get("resourceVersion")
                if new_version:
                    version = str(new_version)
                if kind in ("ADDED", "MODIFIED"):
                    self.store.apply(index, listing.kind, _key(listing, obj), _clean(listing, obj))
                elif kind == "DELETED":
                    self.store.apply(index, listing.kind, _key(listing, obj), None)
        finally:
            self._responses.pop(index, None)
            response.release_conn()
        return version
