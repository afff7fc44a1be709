"""The device-side deploy lock against the emulator: wait, time out naming the holder, take over an
expired lock, --break-lock, renewal, loss detection, and `plan` never locking."""

from __future__ import annotations

import threading
import time

import pytest

from bigip.deploy_harness import (
    bookkeeping,
    config_view,
    deploy_args,
    move_pod,
    run_cli,
    two_tenant_repo,
    writes,
)
from renderer.bigip.client import BigipClient, Credentials, Timing
from renderer.bigip.devlock import LOCK, DeviceLock, Holder, LockOptions, dg_path, iso

DG = "/mgmt/tm/ltm/data-group/internal"


pytestmark = pytest.mark.usefixtures("emulator_credentials")


def client_for(emulator) -> BigipClient:
    return BigipClient(
        emulator.url,
        Credentials(emulator.username, emulator.password),
        verify=emulator.ca_bundle or True,
        timing=Timing(poll_first=0.02, poll_max=0.05, busy_first=0.05),
    )


def seed_lock(emulator, expires_in: float, who: str = "ci@runner-7 pid 4242", what: str = "deploy abc123") -> Holder:
    """Another deploy's lock, as that deploy would have created it."""
    now = time.time()
    holder = Holder(who, what, iso(now), "feedface00000000", now + expires_in)
    body = {k: v for k, v in holder.body().items() if k not in ("name", "partition")}
    emulator.control.seed({"ltm": {"dataGroups": {LOCK: body}}})
    return holder


def ready(emulator, make_repo):
    repo = two_tenant_repo(make_repo)
    assert run_cli(deploy_args(repo, emulator, "--ref", "HEAD")).code == 0
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    emulator.control.clear_log()
    return repo, sha


def test_a_live_lock_makes_the_deploy_wait_then_exit_3_naming_the_holder(bigip_emulator, make_repo) -> None:
    repo, sha = ready(bigip_emulator, make_repo)
    seed_lock(bigip_emulator, expires_in=600)
    before = config_view(bigip_emulator.control.state())
    started = time.monotonic()
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha, "--lock-timeout", "0.4"))
    elapsed = time.monotonic() - started
    assert run.code == 3
    assert "error: the device is locked by another deploy: ci@runner-7 pid 4242 (deploy abc123, since " in run.err
    assert "(--lock-timeout 0.4)" in run.err and "deploy --break-lock" in run.err
    assert 0.4 <= elapsed < 10
    state = bigip_emulator.control.state()
    assert config_view(state) == before  # nothing written, the other's lock untouched
    assert writes(state["requestLog"]) == []
    posts = [b for b in bookkeeping(state["requestLog"]) if b == f"POST {DG}"]
    assert len(posts) >= 2  # it tried again while waiting


def test_an_expired_lock_is_taken_over_without_any_option(bigip_emulator, make_repo) -> None:
    repo, sha = ready(bigip_emulator, make_repo)
    seed_lock(bigip_emulator, expires_in=-5)
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha, "--lock-timeout", "0"))
    assert run.code == 0, run.err
    assert "deploy: lock: held until " in run.err
    assert "took over the lock of ci@runner-7 pid 4242 (deploy abc123" in run.err
    state = bigip_emulator.control.state()
    assert state["ltm"]["dataGroups"] == {}  # released at the end; the break marker is gone too
    book = bookkeeping(state["requestLog"])
    assert book[:6] == [
        f"POST {DG}",  # 409: held
        f"GET {dg_path(LOCK)}",  # expired
        f"POST {DG}",  # the break marker: only one waiter may delete this stale lock
        f"GET {dg_path(LOCK)}",  # still the same stale holder?
        f"DELETE {dg_path(LOCK)}",
        f"DELETE {dg_path('/Common/as3-gitops-lock-break')}",
    ]
    assert book[6] == f"POST {DG}"  # ours


def test_break_lock_takes_over_a_live_lock(bigip_emulator, make_repo) -> None:
    repo, sha = ready(bigip_emulator, make_repo)
    seed_lock(bigip_emulator, expires_in=600)
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha, "--break-lock", "--lock-timeout", "0"))
    assert run.code == 0, run.err
    assert "took over the lock of ci@runner-7 pid 4242" in run.err
    assert bigip_emulator.control.state()["ltm"]["dataGroups"] == {}


def test_a_lock_released_while_waiting_lets_the_deploy_run(bigip_emulator, make_repo) -> None:
    repo, sha = ready(bigip_emulator, make_repo)
    seed_lock(bigip_emulator, expires_in=600)

    def release_once_waiting() -> None:
        """Release the lock when the deploy makes its second attempt to create it (it found the lock
        held and waited once), however long the deploy took to get there on a busy machine."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            log = bigip_emulator.device.request_log()  # ready() cleared it: only this deploy's requests
            if sum(1 for e in log if e["method"] == "POST" and e["path"].split("?")[0] == DG) >= 2:
                break
            time.sleep(0.01)
        bigip_emulator.control.seed({"ltm": {"dataGroups": {}}})

    releaser = threading.Thread(target=release_once_waiting)
    releaser.start()
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha, "--lock-timeout", "30"))
    releaser.join()
    assert run.code == 0, run.err
    assert "waited " in run.err and " s for ci@runner-7 pid 4242 (deploy abc123" in run.err


def test_the_holder_renews_its_lock_and_notices_when_it_is_taken(bigip_emulator) -> None:
    client = client_for(bigip_emulator)
    client.login()
    lock = DeviceLock(client, "deploy one", LockOptions(ttl=0.4, timeout=0), who="first")
    lock.acquire()
    first = lock.read()
    assert first is not None and first.who == "first" and first.what == "deploy one"
    deadline = time.monotonic() + 5  # polled, not one fixed sleep: a loaded machine may run the renewer late
    renewed = lock.read()
    while not (renewed is not None and renewed.expires > first.expires) and time.monotonic() < deadline:
        time.sleep(0.02)
        renewed = lock.read()
    assert renewed is not None and renewed.expires > first.expires  # the renewer thread moved it
    other_client = client_for(bigip_emulator)
    other_client.login()
    other = DeviceLock(other_client, "deploy two", LockOptions(break_lock=True, timeout=0), who="second")
    other.acquire()
    deadline = time.monotonic() + 5
    while lock.lost is None and time.monotonic() < deadline:
        time.sleep(0.02)
    # seen either mid-way (deleted by the breaker) or after (held by "second")
    # the renewer may read the lock just before the breaker deletes it: its PATCH then meets a 404
    assert lock.lost is not None, "the renewer never noticed"
    assert lock.lost.startswith("the device lock was taken over") or lock.lost == "the device lock was deleted", \
        lock.lost
    with pytest.raises(Exception, match=r"taken over|was deleted"):
        lock.check()
    lock.release()  # not ours any more: left alone
    current = other.read()
    assert current is not None and current.who == "second"
    other.release()
    assert other.read() is None
    client.close()
    other_client.close()


def test_losing_the_lock_mid_deploy_stops_without_rolling_back(bigip_emulator, make_repo) -> None:
    repo, sha = ready(bigip_emulator, make_repo)

    def steal() -> None:
        thief_client = client_for(bigip_emulator)
        thief_client.login()
        thief = DeviceLock(thief_client, "deploy thief", LockOptions(break_lock=True, timeout=0), who="thief")
        before = len(bigip_emulator.control.state()["requestLog"])
        thief.acquire()
        thief._stop.set()  # keep the lock, stop renewing: the test ends before it matters
        # the victim's renewer (every 0.1 s) reads the lock after the thief's last write and notices;
        # wait for that read rather than a fixed time, which a loaded machine can outlast
        log = bigip_emulator.control.state()["requestLog"]
        written = max(i for i in range(before, len(log)) if log[i]["method"] != "GET")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            later = bigip_emulator.control.state()["requestLog"][written + 1:]
            if any(e["method"] == "GET" and e["path"].endswith("as3-gitops-lock") for e in later):
                break
            time.sleep(0.02)
        time.sleep(0.1)  # its answer handled

    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha, "--lock-ttl", "0.4"), hooks={"verify": steal})
    assert run.code == 4
    # seen mid-takeover ("deleted", or "taken over") or after it ("taken over by thief (...)")
    assert "error: the device lock was taken over" in run.err or "error: the device lock was deleted" in run.err
    assert "not rolled back" in run.err
    state = bigip_emulator.control.state()
    assert "/Common/as3-gitops-journal" in state["ltm"]["dataGroups"]  # the next deploy will know
    assert "deploy: rollback..." not in run.err


def test_plan_reads_without_locking_even_while_a_deploy_holds_the_lock(bigip_emulator, make_repo) -> None:
    repo, sha = ready(bigip_emulator, make_repo)
    seed_lock(bigip_emulator, expires_in=600)
    tls = ["--ca-bundle", bigip_emulator.ca_bundle] if bigip_emulator.ca_bundle else []
    run = run_cli(["plan", str(repo.path), "--host", bigip_emulator.url, *tls, "--ref", sha])
    assert run.code == 0, run.err
    assert bookkeeping(bigip_emulator.control.state()["requestLog"]) == []
    dry = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha, "--dry-run"))
    assert dry.code == 0, dry.err  # a dry-run writes nothing, so it takes no lock either
    assert [b for b in bookkeeping(bigip_emulator.control.state()["requestLog"]) if "lock" in b] == []
