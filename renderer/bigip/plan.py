"""The deploy plan: preflight, lease, dry-run gate, make-before-break, apply, verify, prune, rollback.

"Atomic" here means: after `deploy` the device runs exactly the rendered commit, or exactly what
it ran before. AS3 only gives per-tenant transactions, and the FDB/ARP side has no declarative
API, so the plan buys atomicity with a dry-run of every changed tenant first, a network union
before AS3 moves pools (old and new pods reachable), a verify step, and on any failure a
compensating re-post of every changed tenant's previous body plus a one-transaction restore of
the network, verified against the pre-deploy state. If that restore fails, `RestoreFailed`
lists exactly which objects are in neither state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from renderer.bigip import netstate as ns
from renderer.bigip import tenants as tn
from renderer.bigip.client import BigipClient
from renderer.bigip.deploy_report import DeployReport, run_step
from renderer.bigip.devlock import DeviceLock, LockLost, LockOptions, iso
from renderer.bigip.journal import Intent, read_intent, wait_for_as3, write_intent
from renderer.bigip.lease import (
    DeployOptions,
    DeviceState,
    DriftDetected,
    Rendered,
    check_intent,
    check_lease,
    drift_of,
    read_device,
)
from renderer.bigip.rollback import clear_journal as _clear
from renderer.bigip.rollback import rollback
from renderer.errors import DeviceError, RestoreFailed

__all__ = ["DeployOptions", "DeviceState", "DriftDetected", "Rendered", "deploy", "drift_of", "read_device"]


class _Run:
    """One deploy: holds the state that steps and rollback share."""

    def __init__(
        self,
        client: BigipClient,
        new: Rendered,
        options: DeployOptions,
        progress: Callable[[str], None],
        render_commit: Callable[[str], Rendered | None],
    ):
        self.client = client
        self.render_commit = render_commit
        self.new = new
        self.options = options
        self.progress = progress
        self.report = DeployReport(commit=new.identity)
        self.new_adc = tn.adc_of(new.as3) or {}
        self.want_net = ns.desired_state(new.net)
        self.before: DeviceState | None = None
        self.changed: list[str] = []
        self.touched_net = False
        self.as3_attempted = False  # an apply POST was sent (its outcome may be unknown)
        self.net_attempted = False
        self.saved = False  # a post asked AS3 to save the configuration
        self.posted: list[str] = []
        self.seen_adc: dict[str, Any] | None = None  # what verify / prune last read back
        self.seen_net = ns.NetState()
        self.lock: DeviceLock | None = None
        self.intent: Intent | None = None  # an unfinished deploy found on the device
        self.journaled = False  # our own intent is on the device

    def step(self, name: str, fn: Callable[[], str]) -> None:
        run_step(self.report, self.progress, name, fn, self._check_lock)

    def _check_lock(self) -> None:
        if self.lock is not None:
            self.lock.check()

    def post(
        self,
        tenants: list[str],
        bodies: dict[str, Any],
        header: dict[str, Any],
        action: str,
        persist: bool,
        deadline: float,
        keys: dict[str, str],
    ) -> None:
        body = tn.declaration(
            header, {t: bodies.get(t) for t in tenants}, action=action, persist=persist, lock_keys=keys
        )
        self.as3_attempted = self.as3_attempted or action != "dry-run"
        self.saved = self.saved or persist
        # dry-runs are quick: sent synchronously (AS3 turns a slow one into a 202 itself)
        results = self.client.declare(body, tenants, deadline=deadline, asynchronous=action != "dry-run")
        failed = [r for r in results if not r.ok]
        if failed:
            raise DeviceError(f"AS3 {action} failed: " + " | ".join(r.describe() for r in failed))


def deploy(
    client: BigipClient,
    new: Rendered,
    render_commit: Callable[[str], Rendered | None],
    options: DeployOptions,
    progress: Callable[[str], None] = lambda _: None,
) -> DeployReport:
    """Run the whole sequence; returns the report, raising (with `.report` set) on failure."""
    run = _Run(client, new, options, progress, render_commit)
    try:
        try:
            _deploy(run)
        finally:
            if run.lock is not None:
                run.lock.release()
    except (DeviceError, RestoreFailed) as err:
        run.report.outcome = run.report.outcome or "failed"
        run.report.error = err.message
        _finish(run)
        err.report = run.report  # type: ignore[attr-defined]
        raise
    _finish(run)
    return run.report


def _finish(run: _Run) -> None:
    s = run.client.stats
    run.report.requests, run.report.writes = s.requests, s.writes
    run.report.bytes_sent, run.report.bytes_received = s.bytes_sent, s.bytes_received


def _deploy(run: _Run) -> None:
    client, new, opts, rep = run.client, run.new, run.options, run.report

    client.login()
    if not opts.dry_run:  # a dry-run writes nothing; `plan` and dry-runs never lock
        lock_opts = LockOptions(timeout=opts.lock_timeout, ttl=opts.lock_ttl, break_lock=opts.break_lock)
        run.lock = DeviceLock(client, f"deploy {new.identity}", lock_opts)
        run.step("lock", run.lock.acquire)

    def journal() -> str:
        run.intent = read_intent(client)
        if run.intent is None:
            return "no unfinished deploy"
        running = wait_for_as3(client, client.timing.clock() + opts.timeout)
        tasks = f"; waited for {running} AS3 task(s) it left running" if running else ""
        return f"found {run.intent.describe()}{tasks}"

    run.step("journal", journal)

    def preflight() -> str:
        run.before = read_device(client, new)
        rep.device_commit = tn.device_commit(run.before.adc)
        rep.state_hash_before = run.before.hash()
        owned = ", ".join(run.before.owned) or "none"
        return f"AS3 {run.before.info.get('version', '?')}, owned tenants: {owned}"

    run.step("preflight", preflight)
    before = run.before
    assert before is not None

    def lease() -> str:
        if run.intent is not None:
            found, forced = check_intent(before, new, run.render_commit, run.intent, opts.force)
            rep.recovered = found
            rep.forced = forced
            return found + ("; forced over: " + ", ".join(forced) if forced else "") + f"; converging to {new.identity}"
        _, forced = check_lease(before, new, run.render_commit, opts.force)
        rep.forced = forced
        if forced:
            return "forced over: " + ", ".join(forced)
        return f"device runs {rep.device_commit or 'nothing from as3-gitops'}"

    run.step("lease", lease)
    run.changed = tn.changed_tenants(list(before.owned), before.adc, run.new_adc)
    run.touched_net = before.net != run.want_net
    # After an interrupted deploy the device may equal the render while its remark names another
    # commit, or while the configuration was never saved: post (and save) once more in any case.
    recovering = run.intent is not None
    if not run.changed and not run.touched_net and not recovering:
        rep.outcome = "no change"
        rep.state_hash_after = rep.state_hash_before
        run.progress("no change")
        return
    posted = list(run.changed)
    if not posted:  # only the network changed: post one tenant so the device records the commit
        posted = [t for t in before.owned if t in tn.tenants_of(run.new_adc)][:1]
    run.posted = posted
    rep.tenants_changed = list(run.changed)
    rep.network_changed = run.touched_net
    keys = tn.lock_keys_of(before.adc)
    bodies = tn.tenants_of(run.new_adc)
    header = tn.header_of(run.new_adc)
    deadline = client.timing.clock() + opts.timeout

    def dry_run() -> str:
        run.post(posted, bodies, header, "dry-run", False, deadline, keys)
        return f"tenants {', '.join(posted)} pass"

    if posted:
        run.step("dry-run", dry_run)
    if opts.dry_run:
        rep.outcome = "dry-run"
        rep.state_hash_after = rep.state_hash_before
        return
    run.step("journal", lambda: _record_intent(run, deadline))
    union = ns.union(before.net, run.want_net)
    # Persist on the last write only: the apply itself when the network is unchanged, else a
    # final no-change post (AS3 saves the configuration even then) after the prune.
    persist_in_apply = opts.persist and not run.touched_net

    def make() -> str:
        run.net_attempted = True
        return f"{ns.apply_state(client, before.net, union, deadline)} command(s)"

    def apply() -> str:
        run.post(posted, bodies, header, "deploy", persist_in_apply, deadline, keys)
        return f"posted {', '.join(posted)}"

    def prune() -> str:
        sent = ns.apply_state(client, union, run.want_net, deadline)
        run.seen_net = ns.read_state(client, run.want_net)
        if run.seen_net != run.want_net:
            raise DeviceError("network verify after prune failed: FDB/ARP state differs from the render")
        return f"{sent} command(s)"

    def save() -> str:
        fresh = tn.lock_keys_of(client.get_declaration())
        run.post(posted[:1], bodies, header, "deploy", True, deadline, fresh)
        return "configuration saved"

    try:
        if run.touched_net:
            run.step("network (make)", make)
        if posted:
            run.step("apply", apply)
        run.step("verify", lambda: _verify(run, run.new_adc, union))
        if run.touched_net:
            run.step("network (prune)", prune)
            if opts.persist and posted:
                run.step("save", save)
    except LockLost as err:  # someone else holds the device now: rolling back would fight them
        if not (run.as3_attempted or run.net_attempted):
            raise  # nothing written but our journal, which the new holder reads: device unchanged
        rep.outcome = "lock lost"
        raise RestoreFailed(
            f"{err.message} in the middle of the deploy; not rolled back (that would undo the new holder's work)",
            hint="the journal on the device tells the next deploy where this one stopped: deploy again",
        ) from None
    except Exception as err:  # any failure after the first write, even a bug, must roll back
        cause = err if isinstance(err, DeviceError) else DeviceError(f"internal error ({type(err).__name__})")
        if not rollback(run, cause):
            raise
    if rep.outcome != "deployed":  # the normal end (not a failed step whose writes had all landed)
        rep.outcome = "deployed"
        owned = tn.tenants_of(run.seen_adc)  # read back by verify; the save post changes no tenant
        rep.state_hash_after = tn.state_hash(
            {t: owned[t] for t in before.owned if t in owned}, run.seen_net.as_dict()
        )
    run.step("journal", lambda: _clear(run))


def _verify(run: _Run, want_adc: dict[str, Any], want_net: ns.NetState) -> str:
    adc = run.client.get_declaration()
    bad = tn.changed_tenants(list(run.before.owned if run.before else ()), adc, want_adc)
    net = ns.read_state(run.client, want_net)
    run.seen_adc, run.seen_net = adc, net
    if bad or net != want_net:
        what = [f"tenant {t}" for t in bad] + (["network"] if net != want_net else [])
        raise DeviceError(f"verify failed: the device differs from the render in {', '.join(what)}")
    return "device equals the render"


def _record_intent(run: _Run, deadline: float) -> str:
    """Write our intent before the first write; after an interrupted deploy, keep its commits in it."""
    before, found = run.before, run.intent
    assert before is not None
    if found is not None:
        start = found.from_commit
        also = tuple(c for c in (*found.also, found.to_commit) if c not in (start, run.new.identity))
    else:
        start, also = run.report.device_commit, ()
    who = run.lock.me.who if run.lock is not None else "?"
    intent = Intent(start, run.new.identity, before.hash(), also, who, iso(time.time()))
    write_intent(run.client, intent, deadline)
    run.journaled = True
    return f"recorded the intent: from {start or 'nothing'} to {run.new.identity}"
