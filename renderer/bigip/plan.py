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
from renderer.bigip.deploy_report import DeployReport, Step
from renderer.bigip.lease import (
    DeployOptions,
    DeviceState,
    DriftDetected,
    Rendered,
    check_lease,
    drift_of,
    read_device,
)
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

    def step(self, name: str, fn: Callable[[], str]) -> None:
        started = time.monotonic()
        self.progress(f"{name}...")
        try:
            detail = fn()
        except Exception as err:
            self.report.steps.append(Step(name, "failed", time.monotonic() - started, _message(err)))
            self.progress(f"{name}: failed: {_message(err)}")
            raise
        self.report.steps.append(Step(name, "ok", time.monotonic() - started, detail))
        self.progress(f"{name}: {detail}")

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
        _deploy(run)
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

    def preflight() -> str:
        client.login()
        run.before = read_device(client, new)
        rep.device_commit = tn.device_commit(run.before.adc)
        rep.state_hash_before = run.before.hash()
        owned = ", ".join(run.before.owned) or "none"
        return f"AS3 {run.before.info.get('version', '?')}, owned tenants: {owned}"

    run.step("preflight", preflight)
    before = run.before
    assert before is not None

    def lease() -> str:
        _, forced = check_lease(before, new, run.render_commit, opts.force)
        rep.forced = forced
        if forced:
            return "forced over: " + ", ".join(forced)
        return f"device runs {rep.device_commit or 'nothing from as3-gitops'}"

    run.step("lease", lease)
    run.changed = tn.changed_tenants(list(before.owned), before.adc, run.new_adc)
    run.touched_net = before.net != run.want_net
    if not run.changed and not run.touched_net:
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
    except Exception as err:  # any failure after the first write, even a bug, must roll back
        cause = err if isinstance(err, DeviceError) else DeviceError(f"internal error ({type(err).__name__})")
        _rollback(run, cause)
        raise
    rep.outcome = "deployed"
    owned = tn.tenants_of(run.seen_adc)  # read back by verify; the save post changes no tenant
    rep.state_hash_after = tn.state_hash({t: owned[t] for t in before.owned if t in owned}, run.seen_net.as_dict())


def _verify(run: _Run, want_adc: dict[str, Any], want_net: ns.NetState) -> str:
    adc = run.client.get_declaration()
    bad = tn.changed_tenants(list(run.before.owned if run.before else ()), adc, want_adc)
    net = ns.read_state(run.client, want_net)
    run.seen_adc, run.seen_net = adc, net
    if bad or net != want_net:
        what = [f"tenant {t}" for t in bad] + (["network"] if net != want_net else [])
        raise DeviceError(f"verify failed: the device differs from the render in {', '.join(what)}")
    return "device equals the render"


def _rollback(run: _Run, cause: DeviceError) -> None:
    """Restore every posted tenant and the net state; verify; raise RestoreFailed if we cannot.

    Order mirrors make-before-break: AS3 first (pools go back to members the union still
    reaches), then the network, then one save if any write asked AS3 to persist.
    """
    client, before, rep, posted = run.client, run.before, run.report, run.posted
    assert before is not None
    rep.failures.append(cause.message)
    deadline = client.timing.clock() + run.options.rollback_timeout
    old_bodies = before.tenants
    header = tn.header_of(before.adc) if before.adc else tn.header_of(run.new_adc)

    def restore() -> str:
        restored = []
        if posted and run.as3_attempted:
            # always re-post, even if the device looks unchanged: a timed-out task may still land
            client.settle(deadline)
            _repost(run, posted, old_bodies, header, deadline)
            restored += [f"tenant {t}" for t in posted]
        if run.net_attempted:
            current = ns.read_state(client, run.want_net)
            if current != before.net:
                ns.apply_state(client, current, before.net, deadline)
                restored.append("network")
        if run.saved and posted:
            keys = tn.lock_keys_of(client.get_declaration())
            run.post(posted[:1], old_bodies, header, "deploy", True, deadline, keys)
        rep.restored = restored
        after = read_device(client, run.new)
        if after.hash() != before.hash():
            raise DeviceError("the device differs from the pre-deploy state after the restore")
        rep.state_hash_after = after.hash()
        return "restored " + ", ".join(restored) if restored else "nothing had changed"

    try:
        run.step("rollback", restore)
    except DeviceError as err:
        rep.outcome = "restore failed"
        rep.differs, rep.not_restored = _differences(run)
        raise RestoreFailed(
            f"deploy failed ({cause.message}) and the restore failed too ({err.message}); "
            f"not restored: {', '.join(rep.not_restored) or 'none'}; "
            f"in neither the old nor the new state: {', '.join(rep.differs) or 'none'}",
            hint="the device is in a mixed state: fix the cause, then deploy again (or restore a UCS backup)",
        ) from None
    rep.outcome = "rolled back"


def _repost(run: _Run, tenants: list[str], bodies: dict[str, Any], header: dict[str, Any], deadline: float) -> None:
    """Re-post previous bodies with fresh lock keys; a key that moved under us (a task whose
    outcome we never saw landed meanwhile) is read again, a few times, instead of failing the restore."""
    for attempt in range(3):
        keys = tn.lock_keys_of(run.client.get_declaration())
        try:
            run.post(tenants, bodies, header, "deploy", False, deadline, keys)
            return
        except DeviceError as err:
            if attempt == 2 or "hash you submitted does not match" not in err.message:
                raise


def _differences(run: _Run) -> tuple[list[str], list[str]]:
    """(objects in neither the old nor the new state, objects not back in the old state)."""
    before = run.before
    assert before is not None
    try:
        now = run.client.get_declaration()
        net = ns.read_state(run.client, run.want_net)
    except DeviceError as err:
        return [f"(device unreadable: {err.message})"], []
    neither, not_old = tn.compare_objects(list(before.owned), now, before.adc, run.new_adc)
    old_net, new_net = before.net, run.want_net
    parts: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
        (f"/net/{label}", {0: cur}, {0: old}, {0: new})
        for label, cur, old, new in (
            ("vxlanProfile", net.profile, old_net.profile, new_net.profile),
            ("tunnel", net.tunnel, old_net.tunnel, new_net.tunnel),
            ("selfIP", net.self_ip, old_net.self_ip, new_net.self_ip),
        )
    ]
    parts.append(("/net/fdb", dict(net.records), dict(old_net.records), dict(new_net.records)))
    parts.append(("/net/arps", *({ip: (n, m) for ip, n, m in st.arps} for st in (net, old_net, new_net))))
    parts.append(("/net/routes", *({r[0]: r[1:] for r in st.routes} for st in (net, old_net, new_net))))
    for prefix, cur, old, new in parts:
        for key in sorted(set(cur) | set(old) | set(new), key=str):
            path = prefix if key == 0 else f"{prefix}/{key}"
            if cur.get(key) != old.get(key):
                not_old.append(path)
                if cur.get(key) != new.get(key):
                    neither.append(path)
    return neither, not_old


def _message(err: BaseException) -> str:
    return getattr(err, "message", None) or type(err).__name__
