"""Clocks: the real one, and a manual one so tests can jump past 45 s, 120 s or 1200 s instantly.

Every timed behaviour of the emulator (token expiry, transaction expiry, the auto-async threshold,
the `slow` fault) reads time only through a `Clock`, never through `time` directly.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> None:
        """Block until `seconds` have passed on this clock (or `cancel` is set)."""

    def wait_until(self, event: threading.Event, deadline: float) -> bool:
        """Block until `event` is set (True) or this clock reaches `deadline` (False)."""


class SystemClock:
    """Wall time; used by the CLI."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> None:
        if cancel is None:
            time.sleep(max(0.0, seconds))
        else:
            cancel.wait(max(0.0, seconds))

    def wait_until(self, event: threading.Event, deadline: float) -> bool:
        return event.wait(max(0.0, deadline - time.time()))


class ManualClock:
    """Time that moves only when `advance()` is called; waits poll so set events end them at once."""

    _POLL = 0.005

    def __init__(self, start: float = 1767225600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start
        self._cond = threading.Condition()
        self._sleepers = 0

    def now(self) -> float:
        with self._cond:
            return self._now

    def advance(self, seconds: float) -> float:
        with self._cond:
            self._now += seconds
            self._cond.notify_all()
            return self._now

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> None:
        with self._cond:
            deadline = self._now + seconds
            self._sleepers += 1
            try:
                while self._now < deadline and not (cancel is not None and cancel.is_set()):
                    self._cond.wait(None if cancel is None else self._POLL)
            finally:
                self._sleepers -= 1

    def sleepers(self) -> int:
        """Threads now inside `sleep()`: tests wait for this before advancing past a `slow` fault."""
        with self._cond:
            return self._sleepers

    def wait_until(self, event: threading.Event, deadline: float) -> bool:
        while True:
            if event.is_set():
                return True
            with self._cond:
                if self._now >= deadline:
                    return event.is_set()
                self._cond.wait(self._POLL)


def iso_millis(epoch: float) -> str:
    """`2026-01-01T10:00:00.000Z`, the form AS3 uses for archiveTimestamp."""
    stamp = datetime.fromtimestamp(epoch, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"
