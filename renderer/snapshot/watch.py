"""`snapshot watch`: keep the snapshot (and, within the policy, the BIG-IP) in step with the cluster.

The loop waits until the watched objects settle (`debounce` seconds without an event, or
`max_delay` after the first one during a long burst), then runs one cycle:

1. fetch the remote, reset the checkout to the branch tip, write the snapshot with the code of
   `snapshot capture` (`take_snapshot`: same references, normalizer, layout, bytes);
2. commit it if it changed (message: which Services moved);
3. without a BIG-IP: push to the branch. With one: read which commit the device runs and ask
   the policy (`renderer.snapshot.policy`); inside it, push to the branch and deploy that pushed
   commit with the normal deploy (`renderer.bigip.plan.deploy`: lease, dry-run, make-before-break,
   verify, rollback); outside it, force-push the review branch and deploy nothing.

Failures never lose the cluster state (it lives in the stream's store): the cycle is retried
with exponential backoff, and the next cycle recomputes everything from the remote and the
store, so a restart, a lost push race or an unreachable remote all resolve the same way.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from renderer.bigip import tenants as tn
from renderer.bigip.lease import DeployOptions, Rendered
from renderer.errors import As3GitopsError, DeviceError, InvalidInput, RestoreFailed
from renderer.snapshot.commit import commit_snapshot, compare, previous_objects
from renderer.snapshot.gitsync import GitSync, GitUnavailable, Push
from renderer.snapshot.metrics import Metrics
from renderer.snapshot.moves import watch_message
from renderer.snapshot.plan import SnapshotOptions
from renderer.snapshot.policy import evaluate, is_ancestor
from renderer.snapshot.run import take_snapshot
from renderer.snapshot.stream import ClusterStream

MAX_PUSH_RACES = 5  # rejected pushes in a row before the cycle backs off


@dataclass(frozen=True)
class WatchOptions:
    snapshot: SnapshotOptions = field(default_factory=SnapshotOptions)
    debounce: float = 2.0
    max_delay: float = 10.0
    resync: float = 60.0  # re-check without events: the remote moved, the device is behind
    retry_first: float = 2.0
    retry_most: float = 300.0
    takeover_after: float = 120.0  # deploy a tip another watcher pushed only when it stays undeployed
    deploy: DeployOptions = field(default_factory=DeployOptions)
    source: str = "the Kubernetes API (watch)"


class _Retry(Exception):
    """End this cycle and run the next one after the backoff."""


class Watcher:
    """The watch loop; `connect` makes a BIG-IP client (None: no device, push only)."""

    def __init__(self, stream: ClusterStream, git: GitSync, options: WatchOptions,
                 connect: Callable[[], Any] | None = None, log: Callable[[str], None] = lambda _m: None,
                 metrics: Metrics | None = None):
        self.stream, self.git, self.options, self.connect, self.log = stream, git, options, connect, log
        self.metrics = metrics or Metrics()
        self.pushed: set[str] = set()  # commits this watcher pushed to the branch
        self.behind_since: dict[str, float] = {}  # tip -> when we first saw the device behind it
        self._renders: dict[str, Rendered | None] = {}
        self._pending_since: float | None = None  # first event not yet on the device / remote
        self._failures = 0
        self._next_cycle: float | None = None  # a retry or resync is due then
        self._prepared = False
        self._verified: tuple[str | None, float] = (None, 0.0)  # (commit the device ran, when we saw it)

    # --- the loop --------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Until `stop` is set; starts and stops the stream itself."""
        self.stream.start()
        try:
            while not stop.is_set():
                self._tick()
                self.stream.store.wait(0.05)
        finally:
            self.stream.stop()
            self.git.close()

    def _tick(self) -> None:
        store, now = self.stream.store, time.monotonic()
        self.metrics.update(heartbeat=now, listed=store.ready)
        self.metrics.set_count(events=store.events, relists=store.relists)
        if store.errors:
            self.metrics.update(last_error=sorted(store.errors.values())[0])
        if not store.ready:  # keep the last good state until every watch is listed again
            return
        if not self._prepared:
            if self._next_cycle is not None and now < self._next_cycle:
                return
            try:
                self.git.prepare()
            except GitUnavailable as err:
                self._fail(str(err), "git")
                return
            self._prepared = True
            self.metrics.update(git_ok=True)
            self._next_cycle = now  # first cycle right away: resume from a fresh list
        dirty = store.dirty_since is not None
        settled = dirty and store.last_event is not None and (
            now - store.last_event >= self.options.debounce or now - store.dirty_since >= self.options.max_delay)
        due = self._next_cycle is not None and now >= self._next_cycle
        if not settled and not due:
            return
        documents, since = store.take()
        if since is not None and (self._pending_since is None or since < self._pending_since):
            self._pending_since = since
        budget = self.options.deploy.timeout + self.options.deploy.rollback_timeout + 60
        self.metrics.update(busy_until=now + budget)
        try:
            self._cycle(documents)
        except _Pending as wait:
            self._next_cycle = wait.at
            return
        except (_Retry, GitUnavailable) as err:
            self._fail(str(err), "sync")
            return
        finally:
            self.metrics.update(busy_until=0.0)
        self._failures = 0
        self.metrics.count("syncs")
        self._next_cycle = time.monotonic() + self.options.resync
        self.metrics.update(last_sync=time.time(), last_error=None)

    def _fail(self, message: str, what: str) -> None:
        wait = min(self.options.retry_most, self.options.retry_first * 2 ** min(self._failures, 16))
        self._failures += 1
        self._next_cycle = time.monotonic() + wait
        self.metrics.count(f"{what}_errors")
        self.metrics.update(last_error=message, last_sync_result="error")
        self.log(f"{message}; retrying in {wait:.1f}s")

    def _delivered(self, result: str) -> None:
        """The cluster state is where it goes (device, or remote branch): the lag ends here."""
        self.metrics.update(last_sync_result=result)
        if self._pending_since is not None:
            lag = time.monotonic() - self._pending_since
            self.metrics.lag(lag)
            self._pending_since = None
            self.log(f"{result} (lag {lag:.2f}s)")

    # --- one cycle -------------------------------------------------------------------------------
    def _cycle(self, documents: list[Any]) -> None:
        for _race in range(MAX_PUSH_RACES):
            try:
                self.git.fetch()
                self.metrics.update(git_ok=True)
            except GitUnavailable as err:  # keep going on the last fetched state; the push will tell
                self.metrics.update(git_ok=False)
                self.log(f"{err} (using the last fetched state)")
            base = self.git.reset_to_base()
            sha, message = self._commit(documents, base)
            if not self._publish(sha, base, message):
                continue  # lost a push race: recompute on the new tip
            return
        raise _Retry(f"{MAX_PUSH_RACES} pushes in a row were rejected (the branch keeps moving)")

    def _commit(self, documents: list[Any], base: str) -> tuple[str | None, str]:
        """Write the snapshot on `base`; the new commit's sha (None: the snapshot equals `base`'s)."""
        repo = self.git.path
        try:
            outcome = take_snapshot(repo, lambda _o: (documents, self.options.source), self.options.snapshot,
                                    write=True, commit=False)
        except As3GitopsError as err:
            self.metrics.count("invalid")
            raise _Retry(f"the snapshot cannot be written from {base[:12]}: {_first_line(err)}") from err
        root = outcome.plan.root
        old = previous_objects(repo, root)
        changes = compare(old, outcome.plan.objects)
        captured = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        message = watch_message(old, outcome.plan.objects, changes, captured, self.options.source)
        made = commit_snapshot(repo, root, message, None)
        if made is None:
            return None, ""
        self.metrics.count("commits")
        self.metrics.update(last_commit=made[0])
        return made[0], message

    def _publish(self, sha: str | None, base: str, message: str) -> bool:
        """Push/deploy per the policy; False when a push lost a race (the caller recomputes)."""
        branch, subject = self.git.target.branch, message.split("\n", 1)[0]
        if self.connect is None:
            if sha is None:
                self._delivered("unchanged")
                return True
            if not self._push(sha, branch, force=False):
                return False
            self.log(f"pushed {sha[:12]} to {branch}: {subject}")
            self._delivered("pushed")
            return True
        target = sha or base
        if sha is None and target == self._verified[0] and time.monotonic() - self._verified[1] < self.options.resync:
            self._delivered("device up to date")  # nothing new since the device was read: no BIG-IP request
            return True
        device = self._device_commit()
        if device == target:
            self._verified = (target, time.monotonic())
            self.behind_since.clear()
        if device == target:
            self._delivered("device up to date")
            return True
        verdict = evaluate(self._config_policy(target), self.git.path, device, target,
                           self._snapshot_roots(target), self._as3(device), self._as3(target))
        if not verdict.allowed:
            return self._to_review(sha, subject, verdict.reasons)
        if sha is not None:
            if not self._push(sha, branch, force=False):
                return False
            self.log(f"pushed {sha[:12]} to {branch}: {subject}")
        elif target not in self.pushed:
            first = self.behind_since.setdefault(target, time.monotonic())
            if time.monotonic() - first < self.options.takeover_after:
                at = first + self.options.takeover_after
                self.log(f"the device runs {str(device)[:12]}, behind {target[:12]} (pushed by another "
                         f"watcher); taking over in {at - time.monotonic():.0f}s if it stays behind")
                raise _Pending(at)
        self._deploy(target)
        return True

    def _push(self, sha: str, branch: str, force: bool) -> bool:
        try:
            result = self.git.push(sha, branch, force=force)
        except GitUnavailable as err:
            self.metrics.update(git_ok=False)
            raise _Retry(f"{err} (the commit stays local and is rebuilt on the next try)") from err
        self.metrics.update(git_ok=True)
        if result is Push.REJECTED:
            self.metrics.count("push_races")
            self.log(f"push to {branch} rejected: the branch moved; fetching and recomputing")
            return False
        self.metrics.count("pushes")
        if not force:
            self.pushed.add(sha)
        return True

    def _to_review(self, sha: str | None, subject: str, reasons: tuple[str, ...]) -> bool:
        review = self.git.target.review_branch
        why = "; ".join(reasons)
        if sha is None or review is None:
            self._delivered("outside the policy, nothing new to push")
            self.log(f"not deploying: {why}")
            return True
        root = self._snapshot_roots(sha)[0]
        if self.git.tree_of(f"refs/remotes/origin/{review}", root) == self.git.tree_of(sha, root):
            self._delivered("outside the policy, review branch already up to date")
            return True
        self._push(sha, review, force=True)
        self.metrics.count("review_pushes")
        self.log(f"outside the autoDeploy policy ({why}): pushed {sha[:12]} to {review} for review: {subject}")
        self._delivered("pushed for review")
        return True

    # --- the device ------------------------------------------------------------------------------
    def _device_commit(self) -> str | None:
        assert self.connect is not None
        try:
            with self.connect() as client:
                client.login()
                commit = tn.device_commit(client.get_declaration())
        except DeviceError as err:
            raise _Retry(f"cannot read the BIG-IP: {err.message}") from err
        self.metrics.update(device_commit=commit)
        return commit

    def _deploy(self, sha: str) -> None:
        from renderer.bigip.plan import deploy

        assert self.connect is not None
        rendered = self._render(sha)
        if rendered is None:
            raise _Retry(f"commit {sha[:12]} does not render")
        def lease_render(device: str) -> Rendered | None:
            """The lease check asks for the device's commit: the moment to refuse going backwards
            (another watcher deployed a newer commit while this one waited, e.g. for the device lock)."""
            if device != sha and self.git.has_commit(device) and not is_ancestor(self.git.path, device, sha):
                raise _Superseded(f"the device moved on to {device[:12]}, which {sha[:12]} does not contain")
            return self._render(device)

        self.metrics.count("deploys")
        try:
            with self.connect() as client:
                report = deploy(client, rendered, lease_render, self.options.deploy,
                                lambda line: self.log(f"deploy {sha[:12]}: {line}"))
        except _Superseded as err:
            self.log(f"not deploying {sha[:12]}: {err.message}; re-checking")
            raise _Pending(time.monotonic()) from err
        except (DeviceError, RestoreFailed) as err:
            outcome = getattr(getattr(err, "report", None), "outcome", None) or "failed"
            self.metrics.count("deploy_failures")
            self.metrics.update(last_deploy=time.time(), last_deploy_result=outcome, last_deploy_commit=sha)
            raise _Retry(f"deploy of {sha[:12]} {outcome}: {err.message}") from err
        self.metrics.update(last_deploy=time.time(), last_deploy_result=report.outcome, last_deploy_commit=sha,
                            device_commit=sha)
        self._verified = (sha, time.monotonic())
        self.behind_since.clear()
        self._delivered(f"deployed {sha[:12]} ({report.outcome})")

    def _render(self, sha: str) -> Rendered | None:
        if sha not in self._renders:
            from renderer.render import render

            try:
                result = render(self.git.path, sha)
            except As3GitopsError:
                self._renders[sha] = None
            else:
                self._renders[sha] = Rendered(result.identity, result.as3, result.net) if result.ok else None
            if len(self._renders) > 16:
                self._renders.pop(next(iter(self._renders)))
        return self._renders[sha]

    def _as3(self, sha: str | None) -> dict[str, Any] | None:
        if sha is None or sha == tn.WORKING_TREE or not self.git.has_commit(sha):
            return None
        rendered = self._render(sha)
        return rendered.as3 if rendered else None

    def _config(self, sha: str):
        from renderer.config import load_config
        from renderer.source import GitTree

        config, findings = load_config(GitTree(self.git.path, sha))
        if any(f.is_error for f in findings):
            raise _Retry(f"as3-gitops.yaml at {sha[:12]} is invalid")
        return config

    def _config_policy(self, sha: str):
        return self._config(sha).snapshot_auto_deploy

    def _snapshot_roots(self, sha: str) -> tuple[str, ...]:
        return self._config(sha).snapshot


class _Superseded(DeviceError):
    """Raised from the lease check, before any write: the device already runs a newer commit."""


class _Pending(Exception):
    """Not an error: waiting for another watcher's deploy (see `takeover_after`) until `at`."""

    def __init__(self, at: float):
        super().__init__("waiting for another watcher")
        self.at = at


def _first_line(err: As3GitopsError) -> str:
    if isinstance(err, InvalidInput) and err.findings:
        return str(err.findings[0])
    return err.message
