"""The device-side deploy lock: one internal data-group on the BIG-IP that only one deploy can create.

Why a data-group: iControl REST has no compare-and-swap, but a create of an existing object fails
with 409, atomically, in mcpd. AS3 takes its own global lock the same way
(`/Common/appsvcs/____appsvcs_lock`, reference bigip-wire.md 2.10). Ours is `/Common/as3-gitops-lock`
and covers a whole deploy (tenants and network), not one AS3 request.

The object holds who (user@host, pid, CI run), what (the commit), when, and a random token in its
records, and the expiry in its `description`. The holder renews the expiry every ttl/4 from a
background thread; renewal PATCHes only the description, so a late renewal can never overwrite
another holder's identity. A waiter polls until `--lock-timeout`, then fails naming the holder.
An expired lock (its holder died: SIGKILL, a cancelled CI job) is taken over; so is any lock
with `--break-lock`. Taking over first creates `/Common/as3-gitops-lock-break` (again a create
that fails when it exists), so of several waiters exactly one may delete a given stale lock.

Expiry compares the holder's wall clock with the waiter's: hosts must keep time (NTP) to within
the ttl. One lock per device: a deploy to several devices takes their locks in a fixed order.
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from renderer.bigip.client import BigipClient, OutcomeUnknown
from renderer.errors import DeviceError

log = logging.getLogger(__name__)

DATA_GROUPS = "/mgmt/tm/ltm/data-group/internal"
LOCK = "/Common/as3-gitops-lock"
BREAK = "/Common/as3-gitops-lock-break"
BREAK_TTL = 30.0
_EXPIRES = re.compile(r"\bexpires (\d+(?:\.\d+)?)\b")


def dg_path(full_path: str) -> str:
    """`/Common/x` -> the object's iControl REST URL path (`.../~Common~x`)."""
    return f"{DATA_GROUPS}/{full_path.replace('/', '~')}"


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def whoami() -> str:
    """Who is deploying, for a waiter's message: user@host, pid, and the CI run when there is one."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    text = f"{user}@{socket.gethostname()} pid {os.getpid()}"
    run = os.environ.get("GITHUB_RUN_ID")
    if run:
        repo = os.environ.get("GITHUB_REPOSITORY", "")
        text += f", GitHub run {repo + ' ' if repo else ''}{run}"
    return text


@dataclass(frozen=True)
class Holder:
    """What the lock object says about its holder."""

    who: str
    what: str
    when: str
    token: str
    expires: float

    def describe(self) -> str:
        return f"{self.who} ({self.what}, since {self.when}, expires {iso(self.expires)})"

    def body(self) -> dict[str, Any]:
        records = [{"name": k, "data": v} for k, v in
                   (("token", self.token), ("what", self.what), ("when", self.when), ("who", self.who))]
        return {"name": LOCK.rsplit("/", 1)[1], "partition": LOCK.split("/")[1], "type": "string",
                "description": describe_expiry(self.expires), "records": records}

    @classmethod
    def of(cls, data: dict[str, Any]) -> Holder:
        """Tolerant of odd content (someone may have edited it): unknown fields read as `?`."""
        recs = {str(r.get("name")): str(r.get("data", "")) for r in data.get("records") or [] if isinstance(r, dict)}
        match = _EXPIRES.search(str(data.get("description", "")))
        expires = float(match.group(1)) if match else 0.0  # no readable expiry: stale
        return cls(recs.get("who", "?"), recs.get("what", "?"), recs.get("when", "?"), recs.get("token", ""), expires)


def describe_expiry(expires: float) -> str:
    return f"as3-gitops deploy lock; expires {expires:.3f} ({iso(expires)})"


class LockHeld(DeviceError):
    """Another deploy holds the device lock and did not release it within --lock-timeout (exit 3)."""

    def __init__(self, message: str, holder: Holder, hint: str):
        super().__init__(message, hint=hint)
        self.holder = holder


class LockLost(DeviceError):
    """The lock was taken from us (expired, or broken with --break-lock) while we deployed."""


@dataclass(frozen=True)
class LockOptions:
    timeout: float = 300.0  # how long to wait for another deploy
    ttl: float = 120.0  # expiry written into the lock, renewed every ttl/4
    break_lock: bool = False  # take over a lock even if it has not expired


class DeviceLock:
    """The lock on one device. `acquire()`, then the renewer runs until `release()`."""

    def __init__(self, client: BigipClient, what: str, options: LockOptions,
                 wall: Callable[[], float] = time.time, who: str | None = None):
        self.client = client
        self.options = options
        self.wall = wall
        now = wall()
        self.me = Holder(who or whoami(), what, iso(now), secrets.token_hex(8), now + options.ttl)
        self.held = False
        self.lost: str | None = None
        self.broke: Holder | None = None  # the lock we took over, if any
        self.waited_for: Holder | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- reading ------------------------------------------------------------------------------
    def read(self, client: BigipClient | None = None) -> Holder | None:
        data = (client or self.client).tm_get(dg_path(LOCK))
        return None if data is None else Holder.of(data)

    # -- acquiring ----------------------------------------------------------------------------
    def acquire(self) -> str:
        """Create the lock, waiting for (or taking over) another holder; returns a one-line detail."""
        timing = self.client.timing
        started = timing.clock()
        force = self.options.break_lock
        attempt = 0
        while True:
            self.me = Holder(self.me.who, self.me.what, iso(self.wall()), self.me.token,
                             self.wall() + self.options.ttl)
            if self._create(LOCK, self.me.body()):
                self.held = True
                self._start_renewing()
                return self._detail(timing.clock() - started)
            holder = self.read()
            if holder is None:  # released between our create and our read: try again at once
                continue
            if holder.token == self.me.token:  # our create landed although its answer was lost
                self.held = True
                self._start_renewing()
                return self._detail(timing.clock() - started)
            if force or holder.expires < self.wall():
                if self._break(holder):
                    self.broke, force = holder, False
                continue
            self.waited_for = holder
            waited = timing.clock() - started
            if waited >= self.options.timeout:
                raise LockHeld(
                    f"the device is locked by another deploy: {holder.describe()}; "
                    f"waited {waited:.0f} s (--lock-timeout {self.options.timeout:g})",
                    holder,
                    hint="let that deploy finish; if it is dead its lock expires at "
                    f"{iso(holder.expires)}, or run deploy --break-lock",
                )
            wait = timing.backoff(attempt, timing.poll_first, timing.poll_max)
            timing.sleep(max(0.0, min(wait, self.options.timeout - waited)))
            attempt += 1

    def _detail(self, waited: float) -> str:
        parts = [f"held until {iso(self.me.expires)}, renewed every {self.options.ttl / 4:g} s"]
        if self.waited_for is not None:
            parts.append(f"waited {waited:.1f} s for {self.waited_for.describe()}")
        if self.broke is not None:
            parts.append(f"took over the lock of {self.broke.describe()}")
        return "; ".join(parts)

    def _create(self, full_path: str, body: dict[str, Any]) -> bool:
        """True if we created the object, False if it exists; other answers are device failures."""
        try:
            reply = self.client.request("POST", DATA_GROUPS, body)
        except OutcomeUnknown:
            return False  # the caller reads the object back and recognises our token
        if reply.status == 200:
            return True
        if reply.status == 409:
            return False
        raise DeviceError(f"could not create {full_path} (the deploy lock): HTTP {reply.status} {reply.message()}",
                          hint="the user needs permission to create data-groups in /Common")

    def _break(self, stale: Holder) -> bool:
        """Delete the lock `stale` describes, if we win the right to; True when it is gone."""
        now = self.wall()
        marker = {"name": BREAK.rsplit("/", 1)[1], "partition": BREAK.split("/")[1], "type": "string",
                  "description": describe_expiry(now + BREAK_TTL),
                  "records": [{"name": "breaks", "data": stale.token}, {"name": "token", "data": self.me.token}]}
        if not self._create(BREAK, marker):
            data = self.client.tm_get(dg_path(BREAK))
            if data is not None and Holder.of(data).expires < now:  # a breaker died mid-way
                self.client.request("DELETE", dg_path(BREAK))
            return False
        try:
            current = self.read()
            if current is not None and current.token == stale.token:
                reply = self.client.request("DELETE", dg_path(LOCK))
                if reply.status not in (200, 404):
                    raise DeviceError(f"could not delete the stale lock: HTTP {reply.status} {reply.message()}")
            log.warning("took over the device lock of %s", stale.describe())
            return True
        finally:
            self.client.request("DELETE", dg_path(BREAK))

    # -- holding ------------------------------------------------------------------------------
    def _start_renewing(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew_loop, name="as3-gitops-lock-renewer", daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        twin = self.client.fork()  # its own HTTP session: requests sessions are not thread-safe
        try:
            while not self._stop.wait(self.options.ttl / 4):
                try:
                    self.renew(twin)
                except DeviceError as err:
                    log.warning("could not renew the device lock: %s", err.message)
                    if self.wall() >= self.me.expires:
                        self.lost = f"the lock expired while it could not be renewed ({err.message})"
                if self.lost:
                    return
        finally:
            twin.close_session()

    def renew(self, client: BigipClient | None = None) -> None:
        """Extend our expiry; notices when the lock is no longer ours."""
        client = client or self.client
        holder = self.read(client)
        if holder is None or holder.token != self.me.token:
            by = f" by {holder.describe()}" if holder is not None else ""
            self.lost = f"the device lock was taken over{by}"
            return
        expires = self.wall() + self.options.ttl
        reply = client.request("PATCH", dg_path(LOCK), {"description": describe_expiry(expires)})
        if reply.status == 404:
            self.lost = "the device lock was deleted"
        elif reply.status != 200:
            raise DeviceError(f"lock renewal: HTTP {reply.status} {reply.message()}")
        else:
            self.me = Holder(self.me.who, self.me.what, self.me.when, self.me.token, expires)

    def check(self) -> None:
        """Raise LockLost when the renewer found the lock gone (called between deploy steps)."""
        if self.lost:
            raise LockLost(self.lost, hint="another deploy may be running: check the device, then deploy again")

    def release(self) -> None:
        """Stop renewing and delete the lock if it is still ours (best effort: it expires anyway)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if not self.held:
            return
        self.held = False
        try:
            holder = self.read()
            if holder is not None and holder.token == self.me.token:
                self.client.request("DELETE", dg_path(LOCK))
        except DeviceError as err:
            log.warning("could not release the device lock (it expires at %s): %s", iso(self.me.expires),
                        err.message)
