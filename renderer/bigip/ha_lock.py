"""The deploy lock and the intent journal for a deploy to several devices (renderer.bigip.devlock,
renderer.bigip.journal), on the devices that keep their own.

Devices that do not sync each get their lock and journal, taken in the configured order. A synced
pair has one: on its active device. The lock and the journal are /Common data-groups, which
config-sync copies over the group, so per-device copies would overwrite each other; every deploy
of a synced pair starts at its active device, and the journal reaches the peer with the sync (a
failover after a crash then finds it there too). Both are changes in /Common and leave the group
"Changes Pending": the journal is cleared and the lock released *before* the final config-sync.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from renderer.bigip import tenants as tn
from renderer.bigip.devlock import DeviceLock, LockOptions, iso
from renderer.bigip.journal import Intent, clear_intent, read_intent, wait_for_as3, write_intent

if TYPE_CHECKING:
    from renderer.bigip.ha_plan import Member
    from renderer.bigip.ha_plan import _HaRun as HaRun


def lock_and_journal(run: HaRun) -> None:
    """The deploy lock and the intent journal on every device that keeps its own: all devices when
    they do not sync; the active one when they do (the lock and journal are /Common data-groups,
    which config-sync copies, so per-device copies would overwrite each other; every deploy of a
    synced pair starts at its active device)."""
    opts = run.options
    for m in run.lockers:
        if not opts.dry_run:  # a dry-run writes nothing but the final sync; it takes no lock
            lock_opts = LockOptions(timeout=opts.lock_timeout, ttl=opts.lock_ttl, break_lock=opts.break_lock)
            m.lock = DeviceLock(m.client, f"deploy {m.rendered.identity}", lock_opts)
            run.step(f"lock ({m.name})", m.lock.acquire)

        def journal(m: Member = m) -> str:
            m.intent = read_intent(m.client)
            if m.intent is None:
                return "no unfinished deploy"
            running = wait_for_as3(m.client, m.client.timing.clock() + opts.timeout)
            tasks = f"; waited for {running} AS3 task(s)" if running else ""
            return f"found {m.intent.describe()}{tasks}"

        run.step(f"journal ({m.name})", journal)


def record_intents(run: HaRun, deadline: float) -> None:
    for m in run.lockers:
        def record(m: Member = m) -> str:
            assert m.before is not None
            start = m.intent.from_commit if m.intent else tn.device_commit(m.before.adc)
            also = tuple(c for c in (m.intent.commits() if m.intent else []) if c not in (start, m.rendered.identity))
            who = m.lock.me.who if m.lock is not None else "?"
            write_intent(m.client, Intent(start, m.rendered.identity, m.before.hash(), also, who, iso(time.time())),
                         deadline)
            m.journaled = True
            return f"recorded the intent: from {start or 'nothing'} to {m.rendered.identity}"

        run.step(f"journal ({m.name})", record)


def unlock(run: HaRun) -> None:
    """Clear our journal (only once the devices equal one commit again) and release the locks."""
    for m in run.lockers:
        if m.journaled or (m.intent is not None and not run.options.dry_run):
            run.step(f"journal ({m.name})", lambda m=m: clear_intent(m.client) or "cleared")
            m.journaled, m.intent = False, None
    release(run)


def release(run: HaRun) -> None:
    for m in run.lockers:
        if m.lock is not None:
            m.lock.release()
            m.lock = None
