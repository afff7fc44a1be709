"""Crash-safe deploys: kill a real deploy (SIGKILL) at every request it makes, then deploy again.

The emulator's `hold` fault keeps the answer to request number k back (the device has already
done the work), the test sees the hold in the request log and kills the deploy process there,
exactly like a cancelled CI job. The next deploy, with no --force, must end with the device
exactly in the new commit, the lock released and the intent journal cleared, every time.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from bigip.deploy_harness import FAST, deploy_args, move_pod, run_cli, two_tenant_repo
from bigip.forking import ForkServer
from bigip.test_deploy import assert_device_runs
from renderer.render import render

JOURNAL = "/Common/as3-gitops-journal"


pytestmark = pytest.mark.usefixtures("emulator_credentials")


def restore(emulator: Any, baseline: dict[str, Any]) -> None:
    """Factory reset (cancels running AS3 tasks, releases holds), then the pre-deploy configuration."""
    emulator.control.reset()
    emulator.control.seed({k: baseline[k] for k in ("as3", "net", "ltm", "saveCount")})


def wait_for_hold(emulator: Any, deadline: float) -> bool:
    """True once the deploy's request is being held; False if the deploy ended before (it revoked its token)."""
    while time.monotonic() < deadline:
        if emulator.device.wait_held(0.05):
            return True
        log = emulator.device.request_log()
        if log and log[-1]["method"] == "DELETE" and log[-1]["path"].startswith("/mgmt/shared/authz/tokens/"):
            return emulator.device.wait_held(0.05)
    return False


@pytest.mark.slow
def test_a_deploy_killed_at_any_request_is_finished_by_the_next_deploy_without_force(
    bigip_emulator, make_repo, tmp_path: Path
) -> None:
    repo = two_tenant_repo(make_repo)
    assert run_cli(deploy_args(repo, bigip_emulator, "--ref", "HEAD")).code == 0
    path = repo.path / "snapshot" / "echo-endpoints.yaml"
    path.write_text(path.read_text().replace("ip: 10.10.2.20\n", "ip: 10.10.2.21\n"))
    new = move_pod(repo, "10.10.2.7", "10.10.2.8")  # both tenants and the network change
    baseline = bigip_emulator.control.state()
    expected = render(repo.path, new)
    # the killed deploy's lock expires 0.5 s after its last renewal, so the next deploy waits that long
    argv = deploy_args(repo, bigip_emulator, "--ref", new, "--lock-ttl", "0.5")
    server = ForkServer(repo.path)
    try:
        bigip_emulator.control.clear_log()
        pid = server.start(argv, tmp_path / "reference.log")
        assert server.wait(pid) == 0, (tmp_path / "reference.log").read_text()
        reference = bigip_emulator.control.log()
        total = len(reference)
        # the lock renewer's GET + PATCH pairs come and go with timing: a killed run may make fewer
        renewals = 2 * sum(1 for e in reference if e["method"] == "PATCH" and "as3-gitops-lock" in e["path"])
        assert total - renewals >= 20
        outcomes: dict[int, str] = {}
        failures: list[str] = []
        for index in range(1, total + 1):
            restore(bigip_emulator, baseline)
            bigip_emulator.control.clear_log()
            bigip_emulator.control.faults([{"kind": "hold", "at": index}])
            pid = server.start(argv, tmp_path / f"killed-{index}.log")
            reached = wait_for_hold(bigip_emulator, time.monotonic() + 30)
            os.kill(pid, signal.SIGKILL)
            status = server.wait(pid)
            bigip_emulator.control.release_holds()
            bigip_emulator.control.clear_faults()
            if not reached:  # the run made fewer requests this time (lock renewals vary): done
                assert os.WIFEXITED(status), f"request {index}: the deploy neither reached it nor ended"
                continue
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
            held = bigip_emulator.device.request_log()[index - 1]
            where = f"request {index}, {held['method']} {held['path']}"
            saves = bigip_emulator.control.state()["saveCount"]
            again = run_cli([*deploy_args(repo, bigip_emulator, "--ref", new), *FAST])
            if again.code != 0:
                failures.append(f"killed at {where}: {again.err}")
                continue
            state = bigip_emulator.control.state()
            assert_device_runs(bigip_emulator, repo, result=expected, state=state)
            assert state["ltm"]["dataGroups"] == {}, f"killed at {where}: lock or journal left"
            found = "deploy: journal: found an unfinished deploy" in again.err
            if found:
                assert state["saveCount"] > saves  # the recovered configuration is saved too
            outcomes[index] = "recovered" if found else again.out.split(":")[0]
    finally:
        server.close()
    assert not failures, "\n".join(failures)
    assert len(outcomes) >= total - renewals - 1, (total, renewals, sorted(outcomes))
    recovered = [i for i, o in outcomes.items() if o == "recovered"]
    assert len(recovered) >= 10, outcomes  # most kill points leave an intent the next deploy must finish
