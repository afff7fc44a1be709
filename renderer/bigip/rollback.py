"""Rollback after a failed deploy step: re-post the previous tenants, restore the network, verify.

Split from the plan because it is the one part that must be right when everything else went
wrong. Before claiming exit 4 ("in neither state") it reads the device once more and compares it
with both the old and the new state: a restore can fail on a read, or after the failed step's
writes had all landed, and then the truth is "rolled back" or "deployed".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from renderer.bigip import netstate as ns
from renderer.bigip import tenants as tn
from renderer.bigip.journal import clear_intent
from renderer.bigip.lease import read_device
from renderer.errors import DeviceError, RestoreFailed

if TYPE_CHECKING:
    from renderer.bigip.plan import _Run


def rollback(run: _Run, cause: DeviceError) -> bool:
    """Restore every posted tenant and the net state; verify; raise RestoreFailed if we cannot.

    Returns True when the restore failed but the device verifiably equals the render (deployed).

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
        # Verify against both states before claiming "neither": a restore can fail on a read, or
        # after the failed step's writes had all landed.
        neither, not_old, not_new = _differences(run)
        if not not_old:
            run.progress("rollback: the device equals the pre-deploy state after all")
        elif not not_new:
            rep.outcome = "deployed"
            rep.restored = []
            run.progress("rollback: failed, but the device equals the render: counted as deployed")
            return True
        else:
            rep.outcome = "restore failed"
            rep.differs, rep.not_restored = neither, not_old
            raise RestoreFailed(
                f"deploy failed ({cause.message}) and the restore failed too ({err.message}); "
                f"not restored: {', '.join(not_old)}; "
                f"in neither the old nor the new state: {', '.join(neither) or 'none (a mix of old and new)'}",
                hint="the device is in a mixed state: fix the cause, then deploy again (or restore a UCS backup)",
            ) from None
    rep.outcome = "rolled back"
    if run.intent is None:  # back in the state of the commit it ran; a recovered device keeps the journal
        try:
            clear_journal(run)
        except DeviceError as err:  # harmless: the next deploy finds the device at the journal's `from`
            run.progress(f"journal: could not clear it ({err.message})")
    return False


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


def _differences(run: _Run) -> tuple[list[str], list[str], list[str]]:
    """(objects in neither the old nor the new state, objects not in the old, objects not in the new)."""
    before = run.before
    assert before is not None
    try:
        now = run.client.get_declaration()
        net = ns.read_state(run.client, run.want_net)
    except DeviceError as err:
        unreadable = [f"(device unreadable: {err.message})"]
        return unreadable, unreadable, unreadable
    neither, not_old = tn.compare_objects(list(before.owned), now, before.adc, run.new_adc)
    _, not_new = tn.compare_objects(list(before.owned), now, run.new_adc, before.adc)
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
            if cur.get(key) != new.get(key):
                not_new.append(path)
            if cur.get(key) != old.get(key):
                not_old.append(path)
                if cur.get(key) != new.get(key):
                    neither.append(path)
    return neither, not_old, not_new


def clear_journal(run: _Run) -> str:
    clear_intent(run.client)
    return "cleared (the device runs one commit)"
