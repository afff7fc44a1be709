"""Exit 4 ("in neither state") only after the device was compared with both the old and the new state.

A restore can fail although the device is fine: on its last read, or after the failed step's
writes had all landed. Then the truth is exit 3 (the device runs the old commit) or exit 0 (it
runs the new one), and the report says what failed.
"""

from __future__ import annotations

import json

import pytest

from bigip.deploy_harness import config_view, deploy_args, run_cli, two_tenant_repo
from bigip.test_deploy import assert_device_runs

DECLARE = "/mgmt/shared/appsvcs/declare"


pytestmark = pytest.mark.usefixtures("emulator_credentials")


def tenant_change(bigip_emulator, make_repo):
    """Deployed two-tenant repo, then a commit that moves tenant `second`'s VIP (network unchanged)."""
    repo = two_tenant_repo(make_repo)
    assert run_cli(deploy_args(repo, bigip_emulator, "--ref", "HEAD")).code == 0
    path = repo.path / "manifests" / "echo.yaml"
    sha = repo.commit({"manifests/echo.yaml": path.read_text().replace("192.168.1.252", "192.168.1.253")},
                      message="new VIP")
    return repo, sha


def test_a_failed_restore_with_the_device_in_the_new_state_is_deployed_not_exit_4(bigip_emulator, make_repo) -> None:
    repo, sha = tenant_change(bigip_emulator, make_repo)
    faults = [
        {"kind": "http-500", "path": DECLARE, "method": "GET", "times": 1},  # verify cannot read: roll back
        {"kind": "tenant-fail", "tenant": "second", "times": 1},  # and the rollback's re-post fails
    ]
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha),
                  hooks={"verify": lambda: bigip_emulator.control.faults(faults)})
    assert run.code == 0, run.err
    assert run.out == f"deployed {sha}: tenants second, network unchanged\n"
    assert "rollback: failed, but the device equals the render: counted as deployed" in run.err
    assert "failed  verify failed" not in run.err and "GET declare failed: HTTP 500" in run.err
    assert_device_runs(bigip_emulator, repo, sha)
    assert bigip_emulator.control.state()["ltm"]["dataGroups"] == {}  # one commit again: journal cleared


def test_a_failed_restore_with_the_device_in_the_old_state_is_exit_3(bigip_emulator, make_repo) -> None:
    repo, sha = tenant_change(bigip_emulator, make_repo)
    before = json.loads(config_view(bigip_emulator.control.state()))
    info = [{"kind": "http-500", "path": "/mgmt/shared/appsvcs/info", "times": 1}]  # the restore's last read
    run = run_cli(
        deploy_args(repo, bigip_emulator, "--ref", sha),
        hooks={
            "apply": lambda: bigip_emulator.control.faults([{"kind": "tenant-fail", "tenant": "second"}]),
            "rollback": lambda: bigip_emulator.control.faults(info),
        },
    )
    assert run.code == 3, run.err
    assert "rollback: the device equals the pre-deploy state after all" in run.err
    after = json.loads(config_view(bigip_emulator.control.state()))
    assert {k: v for k, v in after.items() if k != "saveCount"} == {k: v for k, v in before.items() if k != "saveCount"}


def test_a_mixed_device_is_exit_4_and_the_next_deploy_finishes_it(bigip_emulator, make_repo) -> None:
    repo, _ = tenant_change(bigip_emulator, make_repo)
    path = repo.path / "snapshot" / "echo-endpoints.yaml"
    both = repo.commit({"snapshot/echo-endpoints.yaml": path.read_text().replace("10.10.2.20", "10.10.2.21")},
                       message="and a pod: tenant and network change")
    faults = [{"kind": "tenant-fail", "tenant": "second", "times": 2}]  # apply fails, its restore too
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", both),
                  hooks={"apply": lambda: bigip_emulator.control.faults(faults)})
    assert run.code == 4, run.err
    assert "in neither the old nor the new state" in run.err
    assert "/Common/as3-gitops-journal" in bigip_emulator.control.state()["ltm"]["dataGroups"]
    again = run_cli(deploy_args(repo, bigip_emulator, "--ref", both))
    assert again.code == 0, again.err
    assert "deploy: journal: found an unfinished deploy from " in again.err
    assert_device_runs(bigip_emulator, repo, both)
    assert bigip_emulator.control.state()["ltm"]["dataGroups"] == {}
