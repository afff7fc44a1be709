"""HTTP client for one BIG-IP: token auth, AS3 declare/task, iControl REST, retries inside a deadline.

Why a hand-written loop instead of urllib3's Retry: what may be retried depends on the request.
A GET can be repeated after a dropped connection; a POST to /declare cannot, because the device
may have applied it (the outcome is unknown and the caller must roll back). A 503 "configuration
operation in progress" is retried for every method, since AS3 refused it before doing anything.
All waiting goes through an injectable `Timing` so tests run the fault matrix in seconds.

Nothing secret leaves this module: the password is only in the login body, never in an
exception, a log line or the request log.
"""

from __future__ import annotations

import copy
import logging
import random
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
import requests
import urllib3

from renderer.bigip.connection import connection_problem, tls_problem
from renderer.errors import DeviceError
from renderer.redact import without_userinfo

log = logging.getLogger(__name__)

AS3 = "/mgmt/shared/appsvcs"
TOKEN_MAX_SECONDS = 36000


@dataclass(frozen=True)
class Credentials:
    """Login for the device; `password` never appears in repr() or messages."""

    username: str
    password: str = field(repr=False)
    login_provider: str = "tmos"


@dataclass
class Timing:
    """Every wait the client makes; tests inject small numbers and a fake sleep if they like."""

    connect_timeout: float = 10.0
    read_timeout: float = 75.0  # above AS3's 45 s auto-async threshold
    busy_first: float = 3.0  # CIS waits 3 s after a 503
    busy_max: float = 30.0
    poll_first: float = 1.0
    poll_max: float = 5.0
    jitter: float = 0.25  # +/- fraction of each wait
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int, first: float, most: float) -> float:
        base = min(most, first * (2**attempt))
        return max(0.0, base * (1 + self.rng.uniform(-self.jitter, self.jitter)))


class OutcomeUnknown(DeviceError):
    """A write was sent but no answer came back: the device may or may not have applied it."""


class DeadlineExceeded(DeviceError):
    """The operation did not finish before --timeout."""


@dataclass(frozen=True)
class Reply:
    status: int
    data: Any  # parsed JSON, or None when the body is empty or not JSON
    text: str

    def message(self) -> str:
        """A one-line description of an error body, JSON or HTML (never the request)."""
        if isinstance(self.data, dict):
            code = self.data.get("code")
            msg = self.data.get("message") or ""
            errors = self.data.get("errors")
            parts = [f"code {code}" if code is not None and code != self.status else "", str(msg)]
            if errors:
                parts.append("; ".join(map(str, errors)))
            return " ".join(p for p in parts if p).strip() or _clip(self.text)
        title = re.search(r"<title>(.*?)</title>", self.text, re.I | re.S)
        if title:
            return f"non-JSON (HTML) body: {_clip(title.group(1))}"
        return f"non-JSON body: {_clip(self.text)}" if self.text.strip() else "empty body"


def _clip(text: str, limit: int = 200) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 3] + "..."


@dataclass(frozen=True)
class TenantResult:
    tenant: str
    code: int | str
    message: str
    response: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 200

    def describe(self) -> str:
        extra = f": {self.response}" if self.response else ""
        return f"{self.tenant or '(declaration)'}: {self.code} {self.message}{extra}"


@dataclass
class Stats:
    requests: int = 0
    writes: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0


class BigipClient:
    """One session to one device. Use as a context manager so the token is revoked at the end."""

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        verify: bool | str = True,
        timing: Timing | None = None,
        session_seconds: float = 900.0,
    ):
        self.url = without_userinfo(url).rstrip("/")  # shown in messages; credentials come from `credentials`
        self._credentials = credentials
        self.timing = timing or Timing()
        self.session_seconds = session_seconds
        self.stats = Stats()
        self._session = requests.Session()
        # The environment is honoured (HTTPS_PROXY/NO_PROXY, REQUESTS_CA_BUNDLE when no --ca-bundle or
        # --insecure is given); an explicit verify is passed with every request, because requests lets
        # REQUESTS_CA_BUNDLE override Session.verify. No ~/.netrc: the auth below is a no-op.
        self._session.verify = verify
        self._session.auth = _no_netrc
        self._token: str | None = None
        self.pending_task: str | None = None  # an AS3 task polled until a failure cut it short
        # Called (task id, seconds since the first poll) before each wait while an AS3 task runs.
        self.on_poll: Callable[[str, float], None] | None = None
        self._shared_token: str | None = None  # set on a fork(): the parent's token

    # -- session ---------------------------------------------------------------------------

    def __enter__(self) -> BigipClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def login(self) -> None:
        """Get a token; extend it when the run may outlive the default 1200 s."""
        body = {
            "username": self._credentials.username,
            "password": self._credentials.password,
            "loginProviderName": self._credentials.login_provider,
        }
        reply = self._send("POST", "/mgmt/shared/authn/login", body, auth=False, retry_io=True)
        token = (reply.data or {}).get("token", {}) if isinstance(reply.data, dict) else {}
        if reply.status != 200 or not isinstance(token, dict) or not token.get("token"):
            raise DeviceError(
                f"login as {self._credentials.username!r} failed: HTTP {reply.status} {reply.message()}",
                hint="check BIGIP_USERNAME / BIGIP_PASSWORD and the login provider",
            )
        self._token = str(token["token"])
        lifetime = token.get("timeout", 1200)
        wanted = min(TOKEN_MAX_SECONDS, int(self.session_seconds) + 600)
        if isinstance(lifetime, int) and lifetime < wanted:
            self._send("PATCH", f"/mgmt/shared/authz/tokens/{self._token}", {"timeout": wanted}, retry_io=True)

    def close(self) -> None:
        """Revoke the token (best effort: a failure here must not hide the deploy's result)."""
        token, self._token = self._token, None
        if token:
            try:
                self._raw(
                    "DELETE",
                    f"/mgmt/shared/authz/tokens/{token}",
                    None,
                    {"X-F5-Auth-Token": token},
                    self.timing.connect_timeout,
                )
                self.stats.requests += 1
            except requests.RequestException:
                log.warning("could not revoke the auth token; it expires on its own")
        self._session.close()

    def fork(self) -> BigipClient:
        """A twin for another thread (the lock renewer): same device, credentials, TLS settings and
        current token, its own HTTP session (a requests.Session is not thread-safe) and counters.
        Close it with `close_session()`: the token belongs to this client, which revokes it."""
        twin = copy.copy(self)
        twin._session = requests.Session()
        twin._session.verify = self._session.verify
        twin._session.trust_env = self._session.trust_env
        twin._session.auth = self._session.auth
        twin._session.proxies = dict(self._session.proxies)
        twin.stats = Stats()
        twin.pending_task = None
        twin.on_poll = None  # progress belongs to the deploy, not to the lock renewer
        twin._shared_token = self._token
        return twin

    def close_session(self) -> None:
        """Close a forked twin: its HTTP session, and its token only if it had to log in on its own
        (after a 401); the shared token belongs to the parent, which revokes it."""
        if self._token is not None and self._shared_token is not None and self._token != self._shared_token:
            self.close()
            return
        self._session.close()

    # -- raw requests ----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        deadline: float | None = None,
    ) -> Reply:
        """One logical request: renews the token on 401, retries 503 busy (and I/O errors for GET)."""
        attempt = 0
        while True:
            reply = self._send(method, path, body, headers=headers, retry_io=method == "GET", deadline=deadline)
            if reply.status != 503:
                return reply
            wait = self.timing.backoff(attempt, self.timing.busy_first, self.timing.busy_max)
            if deadline is not None and self.timing.clock() + wait > deadline:
                raise DeadlineExceeded(f"device busy (HTTP 503) until the deadline: {reply.message()}")
            log.info("device busy, retrying in %.1f s", wait)
            self.timing.sleep(wait)
            attempt += 1

    def _send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        retry_io: bool = False,
        deadline: float | None = None,
    ) -> Reply:
        renewed = False
        attempt = 0
        while True:
            hdrs = {"Content-Type": "application/json", **(headers or {})}
            if auth:
                if self._token is None:
                    self.login()
                hdrs["X-F5-Auth-Token"] = self._token or ""
            data = orjson.dumps(body) if body is not None else None
            try:
                resp = self._raw(method, path, data, hdrs, self.timing.read_timeout)
                raw = resp.content
            except requests.exceptions.SSLError as err:
                message, hint = tls_problem(err, self.url, self._session.verify)
                raise DeviceError(message, hint=hint) from None
            except requests.RequestException as err:
                self._count(method, data, b"")
                kind = type(err).__name__
                if retry_io and (deadline is None or self.timing.clock() < deadline) and attempt < 5:
                    wait = self.timing.backoff(attempt, self.timing.poll_first, self.timing.poll_max)
                    log.info("%s %s: %s, retrying in %.1f s", method, _safe(path), kind, wait)
                    self.timing.sleep(wait)
                    attempt += 1
                    continue
                cause = connection_problem(err, self.url)
                if method == "GET" or not auth:
                    raise DeviceError(f"{method} {_safe(path)}: {cause}") from None
                raise OutcomeUnknown(
                    f"{method} {_safe(path)}: connection lost before an answer ({cause}); "
                    "the device may have applied it"
                ) from None
            self._count(method, data, raw)
            reply = Reply(resp.status_code, _parse(raw), raw.decode("utf-8", "replace"))
            if reply.status == 401 and auth and not renewed:
                log.info("auth token rejected (expired?); logging in again")
                self._token = None
                renewed = True
                continue
            return reply

    def _raw(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str], read_timeout: float
    ) -> requests.Response:
        with warnings.catch_warnings():
            if self._session.verify is False:  # the CLI warns once, in words
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            return self._session.request(
                method,
                self.url + path,
                data=data,
                headers=headers,
                timeout=(self.timing.connect_timeout, read_timeout),
                verify=None if self._session.verify is True else self._session.verify,
            )

    def _count(self, method: str, sent: bytes | None, received: bytes) -> None:
        self.stats.requests += 1
        if method != "GET":
            self.stats.writes += 1
        self.stats.bytes_sent += len(sent or b"")
        self.stats.bytes_received += len(received)

    # -- AS3 ---------------------------------------------------------------------------------

    def as3_info(self) -> dict[str, Any]:
        reply = self.request("GET", f"{AS3}/info")
        if reply.status != 200 or not isinstance(reply.data, dict):
            raise DeviceError(
                f"AS3 is not available on {self.url}: GET /info gave HTTP {reply.status} {reply.message()}",
                hint="install the AS3 extension (f5-appsvcs) on the BIG-IP",
            )
        return reply.data

    def get_declaration(self) -> dict[str, Any] | None:
        """The stored AS3 declaration with per-tenant lock keys, or None when nothing is deployed."""
        reply = self.request("GET", f"{AS3}/declare?showHash=true")
        if reply.status == 204 or (reply.status == 200 and not reply.data):
            return None
        if reply.status != 200 or not isinstance(reply.data, dict):
            raise DeviceError(f"GET declare failed: HTTP {reply.status} {reply.message()}")
        return reply.data

    def declare(
        self, body: dict[str, Any], tenants: list[str], *, deadline: float, asynchronous: bool = True
    ) -> list[TenantResult]:
        """POST a declaration for `tenants` and wait for per-tenant results.

        Asynchronous posts answer 202 at once; synchronous ones may still turn into a 202 after
        AS3's 45 s threshold. Both are polled the same way.
        """
        path = f"{AS3}/declare/{','.join(quote(t, safe='') for t in tenants)}"
        path += "?async=true" if asynchronous else ""
        attempt = 0
        while True:
            reply = self.request("POST", path, body, deadline=deadline)
            if reply.status == 202 and isinstance(reply.data, dict) and reply.data.get("id"):
                self.pending_task = str(reply.data["id"])
                results = self._wait_task(self.pending_task, deadline)
                self.pending_task = None
            else:
                results = _results_of(reply)
            busy = [r for r in results if r.code == 503]
            if not busy:
                return results
            wait = self.timing.backoff(attempt, self.timing.busy_first, self.timing.busy_max)
            if self.timing.clock() + wait > deadline:
                raise DeadlineExceeded(f"device busy (503 in the task) until the deadline: {busy[0].message}")
            self.timing.sleep(wait)
            attempt += 1

    def settle(self, deadline: float) -> None:
        """Wait for an AS3 task we gave up on (e.g. at --timeout): it may still change the device."""
        task, self.pending_task = self.pending_task, None
        if task is not None:
            self._wait_task(task, deadline)

    def _wait_task(self, task_id: str, deadline: float) -> list[TenantResult]:
        path = f"{AS3}/task/{quote(task_id, safe='')}"
        attempt = 0
        started = self.timing.clock()
        while True:
            if self.timing.clock() > deadline:
                raise DeadlineExceeded(f"AS3 task {task_id} still running at the deadline")
            reply = self.request("GET", path, deadline=deadline)
            if reply.status != 200 or not isinstance(reply.data, dict):
                raise OutcomeUnknown(f"AS3 task {task_id}: HTTP {reply.status} {reply.message()}")
            results = reply.data.get("results") or []
            first = results[0] if results and isinstance(results[0], dict) else {}
            if not (first.get("code") in (0, None) and first.get("message") in ("in progress", "pending")):
                return _results_of(Reply(200, reply.data, reply.text))
            wait = min(
                self.timing.backoff(attempt, self.timing.poll_first, self.timing.poll_max),
                max(0.0, deadline - self.timing.clock()),
            )
            log.debug("AS3 task %s in progress; next poll in %.1f s", task_id, wait)
            if self.on_poll is not None:
                self.on_poll(task_id, self.timing.clock() - started)
            self.timing.sleep(wait)
            attempt += 1

    # -- iControl REST -------------------------------------------------------------------------

    def tm_get(self, path: str) -> dict[str, Any] | None:
        """GET a /mgmt/tm object or collection; None on 404."""
        reply = self.request("GET", path)
        if reply.status == 404:
            return None
        if reply.status != 200 or not isinstance(reply.data, dict):
            raise DeviceError(f"GET {_safe(path)}: HTTP {reply.status} {reply.message()}")
        return reply.data


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _no_netrc(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Session auth that adds nothing: with it set, requests does not read ~/.netrc."""
    return request


def _safe(path: str) -> str:
    """Paths never carry secrets except a token in the token URL: hide it."""
    return re.sub(r"(/authz/tokens/)[^/?]+", r"\1<token>", path)


def _results_of(reply: Reply) -> list[TenantResult]:
    """Per-tenant results of a declare reply or finished task; anything else becomes one failure."""
    data = reply.data
    if reply.status in (200, 207, 422) and isinstance(data, dict) and isinstance(data.get("results"), list):
        out = []
        for item in data["results"]:
            if not isinstance(item, dict):
                continue
            code = item.get("code", 0)
            errors = item.get("errors")
            response = str(item.get("response") or "")
            if errors:
                response = "; ".join(map(str, errors))
            if isinstance(code, str) and not code.isdigit():
                response = response or f"device reported {code}"
            elif isinstance(code, str):
                code = int(code)
            tenant = item.get("tenant", "")
            if isinstance(tenant, list):
                tenant = ",".join(map(str, tenant))
            out.append(TenantResult(str(tenant), code, str(item.get("message", "")), response))
        if out:
            return out
    if isinstance(data, dict) and (data.get("message") or data.get("errors")):
        tenant = data.get("tenant", "")
        tenant = ",".join(map(str, tenant)) if isinstance(tenant, list) else str(tenant or "")
        errors = data.get("errors")
        detail = "; ".join(map(str, errors)) if errors else ""
        return [TenantResult(tenant, _code(data, reply.status), str(data.get("message") or ""), detail)]
    return [TenantResult("", _code(data, reply.status), f"HTTP {reply.status}", reply.message())]


def _code(data: Any, status: int) -> int | str:
    code = data.get("code") if isinstance(data, dict) else None
    if isinstance(code, str) and not code.isdigit():
        return code  # e.g. "ETIMEDOUT"
    return status
