"""AS3 task records (`/mgmt/shared/appsvcs/task/<id>`): every non-GET declare gets one.

A record is `in progress` (code 0) until its work finishes; then it carries the synchronous
answer's `results` and `declaration`, or `[<error body>]` when that answer had no `results`.
At most 25 finished records are kept (oldest dropped first, on non-GET requests); running ones stay.
"""

from __future__ import annotations

import contextvars
import copy
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

MAX_RECORDS = 25
# The factory-reset event of the device generation a declare worker belongs to: after a reset the
# worker must not write into the new (empty) state, and its `slow` wait ends at once.
CANCEL: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("emulator_cancel", default=None)


def cancelled() -> bool:
    event = CANCEL.get()
    return event is not None and event.is_set()
SELF_LINK = "https://localhost/mgmt/shared/appsvcs/task/{}"


@dataclass
class Task:
    id: str
    declaration_id: str | None
    done: threading.Event = field(default_factory=threading.Event)
    status: int = 0
    body: Any = None

    def _placeholder(self, message: str) -> dict[str, Any]:
        item: dict[str, Any] = {"message": message, "tenant": "", "host": "", "runTime": 0, "code": 0}
        if self.declaration_id is not None:
            item["declarationId"] = self.declaration_id
        return {"id": self.id, "results": [item], "declaration": {}, "selfLink": SELF_LINK.format(self.id)}

    def submitted(self) -> dict[str, Any]:
        """The 202 body for `?async=true` and for a synchronous request that ran past the threshold."""
        return self._placeholder("Declaration successfully submitted")

    def record(self) -> dict[str, Any]:
        """What `GET /task/<id>` shows now."""
        if not self.done.is_set():
            return self._placeholder("in progress")
        body = copy.deepcopy(self.body)
        if isinstance(body, dict) and "results" in body:
            out = {"id": self.id, "results": body["results"], "declaration": body.get("declaration", {}),
                   "selfLink": SELF_LINK.format(self.id)}
            for extra in ("traces", "dryRun"):
                if extra in body:
                    out[extra] = body[extra]
            return out
        return {"id": self.id, "results": [body], "declaration": {}, "selfLink": SELF_LINK.format(self.id)}


class TaskStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: OrderedDict[str, Task] = OrderedDict()

    def create(self, declaration_id: str | None) -> Task:
        task = Task(str(uuid.uuid4()), declaration_id)
        with self._lock:
            self._tasks[task.id] = task
        return task

    def finish(self, task: Task, status: int, body: Any) -> None:
        task.status, task.body = status, body
        task.done.set()
        self.prune()

    def get(self, task_id: str) -> Task | None:
        with self._lock:
            return self._tasks.get(task_id)

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            tasks = list(self._tasks.values())
        return [t.record() for t in tasks]

    def prune(self) -> None:
        """Keep at most 25 finished records (oldest go first); unfinished ones are never dropped."""
        with self._lock:
            finished = [tid for tid, t in self._tasks.items() if t.done.is_set()]
            for tid in finished[: max(0, len(finished) - MAX_RECORDS)]:
                del self._tasks[tid]
