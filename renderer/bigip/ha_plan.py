"""Deploy to several devices (an HA pair) atomically: every device runs the new commit, or all the old one.

The single-device plan (renderer.bigip.plan) made across devices, step by step on every device
before the next step starts anywhere:

1. preflight on each device (login, AS3 version, stored declaration, network, failover state);
   with a device group: exactly one ACTIVE device, and the group "In Sync" (else exit 3 unless
   --force: a pending change may be someone's hand edit that our sync would overwrite);
2. lease on each device; 3. nothing to do -> no write anywhere;
4. AS3 dry-run on every AS3 target: the active device (`configSync.as3: sync`) or every device (`each`);
5. network make-before-break on every device; 6. AS3 apply on the targets (with `syncToGroup`
   in sync mode); 7. verify every device; 8. prune every device, save on every device;
9. with a device group: one `config-sync to-group` from the active device, waited for "In Sync".

Changes Pending: AS3 leaves the group "Changes Pending" after a dry-run (f5-appsvcs-extension
#762), after a "no change" post (#222), and `syncToGroup` can sync before AS3 updates its own data
group (#898). So the last write of every deploy (and of every rollback, and of `--dry-run`) is an
explicit config-sync from the active device; a deploy ends with the group in sync or fails.

On any failure after the first write, every device is rolled back (AS3 on the targets, the
network on every device that was touched), the group synced again, and each device verified
against its pre-deploy state hash; if that fails, RestoreFailed names the objects per device.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from renderer.bigip import ha
from renderer.bigip import netstate as ns
from renderer.bigip import tenants as tn
from renderer.bigip.client import BigipClient
from renderer.bigip.deploy_report import DeployReport, run_step
from renderer.bigip.devlock import DeviceLock, LockOptions
from renderer.bigip.ha_lock import lock_and_journal, record_intents, release, unlock
from renderer.bigip.journal import Intent
from renderer.bigip.lease import DeployOptions, DeviceState, Rendered, check_intent, check_lease, read_device
from renderer.errors import DeviceError, RestoreFailed


@dataclass(frozen=True)
class HaOptions:
    device_group: str | None  # None: the devices do not sync (no config-sync, no sync-state check)
    as3: str = "sync"  # sync: AS3 once, to the active device, with syncToGroup | each: AS3 to every device


@dataclass
class Member:
    """One device of the deploy and what the steps learn about it."""

    name: str
    client: BigipClient
    rendered: Rendered  # the AS3 declaration and this device's net section
    role: str = ""
    before: DeviceState | None = None
    changed: list[str] = field(default_factory=list)
    posted: list[str] = field(default_factory=list)
    touched_net: bool = False
    net_attempted: bool = False
    as3_attempted: bool = False
    saved: bool = False
    lock: DeviceLock | None = None
    intent: Intent | None = None  # an unfinished deploy found in this device's journal
    journaled: bool = False  # our own intent is on this device

    @property
    def want_net(self) -> ns.NetState:
        return ns.desired_state(self.rendered.net)


def device_rendered(rendered: Rendered | None, name: str) -> Rendered | None:
    """A several-device render seen by one device: the same AS3, that device's net section."""
    if rendered is None:
        return None
    net = (rendered.net or {}).get("devices", {}).get(name) if rendered.net else None
    return Rendered(rendered.identity, rendered.as3, net)


class _HaRun:
    def __init__(self, members: list[Member], options: DeployOptions, ha_options: HaOptions,
                 render_commit: Callable[[str], Rendered | None], progress: Callable[[str], None]):
        self.members = members
        self.options = options
        self.ha = ha_options
        self.render_commit = render_commit
        self.progress = progress
        self.report = DeployReport(commit=members[0].rendered.identity)
        self.new_adc = tn.adc_of(members[0].rendered.as3) or {}
        self.active: Member | None = None

    @property
    def lockers(self) -> list[Member]:
        """The devices whose own lock and journal this deploy takes (renderer.bigip.ha_lock)."""
        if self.ha.device_group and self.ha.as3 == "sync" and self.active is not None:
            return [self.active]
        return list(self.members)

    @property
    def targets(self) -> list[Member]:
        """The devices AS3 is posted to."""
        if self.ha.as3 == "sync" and self.active is not None:
            return [self.active]
        return list(self.members)

    def step(self, name: str, fn: Callable[[], str]) -> None:
        run_step(self.report, self.progress, name, fn, self._check_locks)

    def _check_locks(self) -> None:
        for m in self.lockers:
            if m.lock is not None:
                m.lock.check()

    def post(self, m: Member, tenants: list[str], bodies: dict[str, Any], header: dict[str, Any], action: str,
             persist: bool, deadline: float, sync: bool = False) -> None:
        keys = tn.lock_keys_of(m.client.get_declaration())
        body = tn.declaration(header, {t: bodies.get(t) for t in tenants}, action=action, persist=persist,
                              lock_keys=keys)
        if sync and self.ha.device_group and self.ha.as3 == "sync":
            body["syncToGroup"] = f"/Common/{self.ha.device_group}"
        m.as3_attempted = m.as3_attempted or action != "dry-run"
        m.saved = m.saved or persist
        results = m.client.declare(body, tenants, deadline=deadline, asynchronous=action != "dry-run")
        failed = [r for r in results if not r.ok]
        if failed:
            raise DeviceError(f"{m.name}: AS3 {action} failed: " + " | ".join(r.describe() for r in failed))

    def sync(self, deadline: float) -> str:
        if not self.ha.device_group or self.active is None:
            return "devices do not sync"
        ha.config_sync(self.active.client, self.ha.device_group, deadline)
        return f"config-sync from {self.active.name} to {self.ha.device_group}: In Sync"


def deploy_ha(members: list[Member], render_commit: Callable[[str], Rendered | None], options: DeployOptions,
              ha_options: HaOptions, progress: Callable[[str], None] = lambda _: None) -> DeployReport:
    """Run the whole sequence on every device; returns the report, raising (with `.report`) on failure."""
    run = _HaRun(members, options, ha_options, render_commit, progress)
    try:
        try:
            _deploy(run)
        finally:
            release(run)  # a failure keeps the journal (the next deploy reads it), never the lock
    except (DeviceError, RestoreFailed) as err:
        run.report.outcome = run.report.outcome or "failed"
        run.report.error = err.message
        err.report = run.report  # type: ignore[attr-defined]
        raise
    return run.report


def _topology(run: _HaRun) -> None:
    """Log in everywhere; find the active device; the group must be In Sync (read-only so far)."""
    for m in run.members:
        def role(m: Member = m) -> str:
            m.client.login()
            m.role = ha.failover_status(m.client) if run.ha.device_group else ha.ACTIVE
            return m.role

        run.step(f"failover state ({m.name})", role)
    active = [m for m in run.members if m.role == ha.ACTIVE]
    if run.ha.device_group and len(active) != 1:
        raise DeviceError(f"expected exactly one ACTIVE device, found {len(active)}: "
                          + ", ".join(f"{m.name} {m.role}" for m in run.members),
                          hint="fix the failover state (tmsh show cm failover-status) before deploying")
    run.active = active[0] if active else run.members[0]
    if run.ha.device_group:
        status = ha.sync_status(run.active.client)
        holder = DeviceLock(run.active.client, "", LockOptions()).read() if status != ha.IN_SYNC else None
        if holder is not None:  # another deploy holds the pair (its lock is a change): wait for it, it ends synced
            run.progress(f"device group {status}: {holder.describe()} holds the lock; its last write is a sync")
        elif status != ha.IN_SYNC:
            if not run.options.force:
                raise DeviceError(f"device group {run.ha.device_group} is {status!r}, not In Sync",
                                  hint="find out why (a change made by hand on one device?), sync or revert it; "
                                  "--force deploys anyway and syncs the active device's configuration over the group")
            run.report.forced.append(f"device group {status}")


def _preflight(run: _HaRun) -> None:
    for m in run.members:
        def read(m: Member = m) -> str:
            m.before = read_device(m.client, m.rendered)
            owned = ", ".join(m.before.owned) or "none"
            return f"{m.role}, AS3 {m.before.info.get('version', '?')}, owned tenants: {owned}"

        run.step(f"preflight ({m.name})", read)


def _deploy(run: _HaRun) -> None:
    rep, opts = run.report, run.options
    _topology(run)
    lock_and_journal(run)
    _preflight(run)
    for m in run.members:
        def lease(m: Member = m) -> str:
            def commit_for(sha: str, name: str = m.name) -> Rendered | None:
                return device_rendered(run.render_commit(sha), name)

            assert m.before is not None
            if m.intent is not None:
                found, forced = check_intent(m.before, m.rendered, commit_for, m.intent, opts.force)
                rep.forced += [f"{m.name}: {f}" for f in forced]
                return found
            commit, forced = check_lease(m.before, m.rendered, commit_for, opts.force)
            rep.forced += [f"{m.name}: {f}" for f in forced]
            return f"device runs {commit or 'nothing from as3-gitops'}"

        run.step(f"lease ({m.name})", lease)
    first = run.members[0].before
    assert first is not None and run.active is not None and run.active.before is not None
    rep.device_commit = tn.device_commit(run.active.before.adc)
    rep.state_hash_before = _hash(run, lambda m: m.before)
    for m in run.members:
        assert m.before is not None
        m.touched_net = m.before.net != m.want_net
    for m in run.targets:
        assert m.before is not None
        m.changed = tn.changed_tenants(list(m.before.owned), m.before.adc, run.new_adc)
    touched = [m for m in run.members if m.touched_net]
    recovering = any(m.intent is not None for m in run.lockers)
    if not any(m.changed for m in run.targets) and not touched and not recovering:
        rep.outcome = "no change"
        rep.state_hash_after = rep.state_hash_before
        run.progress("no change")
        _end(run, run.active.client.timing.clock() + opts.timeout)
        return
    for m in run.targets:
        assert m.before is not None
        m.posted = list(m.changed) or [t for t in m.before.owned if t in tn.tenants_of(run.new_adc)][:1]
    rep.tenants_changed = sorted({t for m in run.targets for t in m.changed})
    rep.network_changed = bool(touched)
    bodies, header = tn.tenants_of(run.new_adc), tn.header_of(run.new_adc)
    deadline = run.active.client.timing.clock() + opts.timeout
    for m in run.targets:
        if m.posted:
            run.step(f"dry-run ({m.name})", lambda m=m: run.post(m, m.posted, bodies, header, "dry-run", False,
                                                                  deadline) or f"tenants {', '.join(m.posted)} pass")
    if opts.dry_run:
        _end(run, deadline)  # a dry-run leaves Changes Pending (#762): sync
        rep.outcome = "dry-run"
        rep.state_hash_after = rep.state_hash_before
        return
    try:
        record_intents(run, deadline)
        _write(run, bodies, header, deadline)
    except Exception as err:  # any failure after the first write, even a bug, rolls every device back
        cause = err if isinstance(err, DeviceError) else DeviceError(f"internal error ({type(err).__name__})")
        _rollback(run, cause)
        raise
    rep.outcome = "deployed"
    rep.state_hash_after = _hash(run, lambda m: read_device(m.client, m.rendered))


def _write(run: _HaRun, bodies: dict[str, Any], header: dict[str, Any], deadline: float) -> None:
    unions = {m.name: ns.union(m.before.net, m.want_net) for m in run.members if m.before is not None}
    for m in run.members:
        if m.touched_net:
            def make(m: Member = m) -> str:
                m.net_attempted = True
                assert m.before is not None
                return f"{ns.apply_state(m.client, m.before.net, unions[m.name], deadline)} command(s)"

            run.step(f"network make ({m.name})", make)
    for m in run.targets:
        if m.posted:
            run.step(f"apply ({m.name})", lambda m=m: run.post(m, m.posted, bodies, header, "deploy", False, deadline,
                                                                sync=True) or f"posted {', '.join(m.posted)}")
    for m in run.members:
        run.step(f"verify ({m.name})", lambda m=m: _verify(run, m, unions[m.name]))
    for m in run.members:
        if m.touched_net:
            def prune(m: Member = m) -> str:
                sent = ns.apply_state(m.client, unions[m.name], m.want_net, deadline)
                if ns.read_state(m.client, m.want_net) != m.want_net:
                    raise DeviceError(f"{m.name}: network verify after prune failed")
                return f"{sent} command(s)"

            run.step(f"network prune ({m.name})", prune)
    if run.options.persist:
        # AS3 saves the configuration (even on "no change") of the device it runs on only, and the
        # network changed on every device: one persisting post per device. Each of them is an AS3
        # write and so leaves the group Changes Pending, which the sync below clears.
        tenants = (run.active.posted if run.active else []) or list(tn.tenants_of(run.new_adc))[:1]
        for m in run.members:
            if tenants:
                run.step(f"save ({m.name})", lambda m=m: run.post(m, m.posted or tenants, bodies, header, "deploy",
                                                                  True, deadline) or "configuration saved")
    _end(run, deadline)


def _end(run: _HaRun, deadline: float) -> None:
    """Journal cleared, locks released, then the config-sync: the last write, so the group ends In Sync
    (taking the lock and writing the journal are /Common changes too)."""
    unlock(run)
    run.step("sync", lambda: run.sync(deadline))


def _verify(run: _HaRun, m: Member, want_net: ns.NetState) -> str:
    net = ns.read_state(m.client, want_net)
    if net != want_net:
        raise DeviceError(f"verify failed on {m.name}: the network differs from the render")
    if m in run.targets:
        assert m.before is not None
        bad = tn.changed_tenants(list(m.before.owned), m.client.get_declaration(), run.new_adc)
        if bad:
            raise DeviceError(f"verify failed on {m.name}: tenant(s) {', '.join(bad)} differ from the render")
    return "device equals the render"


def _hash(run: _HaRun, state_of: Callable[[Member], DeviceState | None]) -> str:
    """One hash over every device's state, in device order."""
    parts = []
    for m in run.members:
        state = state_of(m)
        parts.append(f"{m.name}={state.hash() if state else '?'}")
    return "sha256:" + hashlib.sha256(" ".join(parts).encode()).hexdigest()


def _rollback(run: _HaRun, cause: DeviceError) -> None:
    """AS3 back on the targets (synced), the network back on every touched device, one sync, verify."""
    rep = run.report
    rep.failures.append(cause.message)
    assert run.active is not None
    deadline = run.active.client.timing.clock() + run.options.rollback_timeout

    def restore() -> str:
        restored = []
        for m in run.targets:
            if m.posted and m.as3_attempted and m.before is not None:
                m.client.settle(deadline)
                header = tn.header_of(m.before.adc) if m.before.adc else tn.header_of(run.new_adc)
                run.post(m, m.posted, m.before.tenants, header, "deploy", m.saved, deadline, sync=True)
                restored.append(f"{m.name}: tenants {', '.join(m.posted)}")
        for m in run.members:
            if m.net_attempted and m.before is not None:
                current = ns.read_state(m.client, m.want_net)
                if current != m.before.net:
                    ns.apply_state(m.client, current, m.before.net, deadline)
                    restored.append(f"{m.name}: network")
        differs = [m.name for m in run.members if m.before is not None
                   and read_device(m.client, m.rendered).hash() != m.before.hash()]
        if differs:
            raise DeviceError(f"after the restore {', '.join(differs)} differ(s) from the pre-deploy state")
        unlock(run)  # the devices equal their old commit again: the journal has done its job
        run.sync(deadline)
        rep.restored = restored
        rep.state_hash_after = rep.state_hash_before
        return "restored " + "; ".join(restored) if restored else "nothing had changed"

    try:
        run.step("rollback", restore)
    except DeviceError as err:
        rep.outcome = "restore failed"
        for m in run.members:
            neither, not_old = _differences(run, m)
            rep.differs += [f"{m.name}: {d}" for d in neither]
            rep.not_restored += [f"{m.name}: {d}" for d in not_old]
        raise RestoreFailed(
            f"deploy failed ({cause.message}) and the restore failed too ({err.message}); "
            f"not restored: {', '.join(rep.not_restored) or 'none'}; "
            f"in neither the old nor the new state: {', '.join(rep.differs) or 'none'}",
            hint="the devices are in a mixed state: fix the cause, then deploy again (or restore UCS backups)",
        ) from None
    rep.outcome = "rolled back"


def _differences(run: _HaRun, m: Member) -> tuple[list[str], list[str]]:
    """One device's (in neither state, not back in the old state), by the single-device rules."""
    from types import SimpleNamespace

    from renderer.bigip.rollback import _differences as single_device_differences

    view = SimpleNamespace(before=m.before, client=m.client, want_net=m.want_net, new_adc=run.new_adc)
    neither, not_old, _not_new = single_device_differences(view)  # type: ignore[arg-type]
    return neither, not_old
