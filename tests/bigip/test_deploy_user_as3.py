"""Deploying what AS3 ConfigMaps, the override ConfigMap and Routes render, against the BIG-IP emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from bigip.deploy_harness import deploy_args, run_cli
from renderer.bigip import tenants as tn
from renderer.render import render

CASES = Path(__file__).resolve().parents[1] / "render" / "cases"


pytestmark = pytest.mark.usefixtures("emulator_credentials")


@pytest.mark.parametrize("case", ["as3-configmap-discovery", "routes-tls"])
def test_deploy_makes_the_device_run_the_user_tenants(case: str, bigip_emulator, make_repo) -> None:
    repo = make_repo(CASES / case)
    sha = repo.commit(message="noop")
    run = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert run.code == 0, run.err
    result = render(repo.path, sha)
    device = bigip_emulator.control.state()["as3"]["tenants"]
    assert {k: tn.normalise(v) for k, v in device.items()} == {
        k: tn.normalise(v) for k, v in tn.tenants_of(result.adc).items()}
    if case == "as3-configmap-discovery":
        members = device["apps"]["shop"]["web_pool"]["members"]
        assert sorted(m["serverAddresses"][0] for m in members) == ["10.244.1.5", "10.244.2.5"]
    # a second deploy of the same commit changes nothing: the user tenants are ours (label as3-gitops)
    again = run_cli(deploy_args(repo, bigip_emulator, "--ref", sha))
    assert (again.code, again.out) == (0, f"no change: the device already runs {sha}\n")
