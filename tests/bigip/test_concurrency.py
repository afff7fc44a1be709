"""Two deploys started at the same moment (a laptop and CI), 20 times, as two real CLI processes.

Each time the device must end in exactly one of the two commits, with the lock and the journal
gone, and each exit code must tell the truth: 0 means that commit was deployed (and, if the
other deploy also said 0, one of them ran after the other, on top of its result); 3 means this
deploy changed nothing and names the holder it waited for.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bigip.deploy_harness import deploy_args, move_pod, run_cli, two_tenant_repo
from bigip.forking import ForkServer
from bigip.test_deploy import assert_device_runs
from renderer.render import render

TRIALS = 20


pytestmark = pytest.mark.usefixtures("emulator_credentials")


def runs(emulator, result, state) -> bool:
    try:
        assert_device_runs(emulator, None, result=result, state=state)
    except AssertionError:
        return False
    return True


@pytest.mark.slow
def test_two_deploys_started_together_end_in_exactly_one_commit_and_exit_codes_tell_the_truth(
    bigip_emulator, make_repo, tmp_path: Path
) -> None:
    repo = two_tenant_repo(make_repo)
    base = repo.commit(message="base")
    assert run_cli(deploy_args(repo, bigip_emulator, "--ref", base)).code == 0
    first = move_pod(repo, "10.10.2.7", "10.10.2.8")
    second = move_pod(repo, "10.10.1.5", "10.10.1.9")
    baseline = bigip_emulator.control.state()
    renders = {sha: render(repo.path, sha) for sha in (first, second)}
    seen: dict[tuple[int, int], int] = {}
    server = ForkServer(repo.path)
    try:
        for trial in range(TRIALS):
            bigip_emulator.control.reset()
            bigip_emulator.control.seed({k: baseline[k] for k in ("as3", "net", "ltm", "saveCount")})
            wait = "0" if trial % 4 == 3 else "60"  # now and then one of them must give up at once
            pids, reports = {}, {}
            for sha in (first, second):
                reports[sha] = tmp_path / f"{trial}-{sha[:7]}.json"
                argv = deploy_args(repo, bigip_emulator, "--ref", sha, "--lock-timeout", wait,
                                   "--report", str(reports[sha]))
                pids[sha] = server.start(argv, tmp_path / f"{trial}-{sha[:7]}.log")
            codes = {sha: os.waitstatus_to_exitcode(server.wait(pid)) for sha, pid in pids.items()}
            logs = {sha: (tmp_path / f"{trial}-{sha[:7]}.log").read_text() for sha in pids}
            where = f"trial {trial}: {codes} {logs}"
            state = bigip_emulator.control.state()
            final = [sha for sha in (first, second) if runs(bigip_emulator, renders[sha], state)]
            assert len(final) == 1, where  # exactly one of the two commits, nothing mixed
            assert state["ltm"]["dataGroups"] == {}, where
            winner = final[0]
            other = second if winner == first else first
            assert codes[winner] == 0, where
            if codes[other] == 3:
                assert "the device is locked by another deploy" in logs[other], where
                assert f"deploy {winner}" in logs[other], where  # it names the holder
            else:
                assert codes[other] == 0, where
                # both deployed: the winner ran on top of the other's result
                ran_on = json.loads(reports[winner].read_text())["device_commit"]
                assert ran_on == other, where
                assert json.loads(reports[other].read_text())["device_commit"] == base, where
            seen[(codes[first], codes[second])] = seen.get((codes[first], codes[second]), 0) + 1
    finally:
        server.close()
    assert sum(seen.values()) == TRIALS
    assert any(0 in pair and 3 in pair for pair in seen), seen  # the lock turned one away at least once
