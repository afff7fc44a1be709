"""`as3-gitops emulator`: option errors in-process, and the real command in a subprocess (HTTP and TLS)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

from renderer.cli import main

PASSWORD = "cli-Pa55word"


def test_missing_password_is_a_usage_error(capsys, monkeypatch) -> None:
    monkeypatch.delenv("BIGIP_PASSWORD", raising=False)
    assert main(["emulator", "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        "error: the emulator needs a password for its user\n"
        "  hint: set BIGIP_PASSWORD (the deploy command reads the same variable) or use --password-file\n")


def test_non_loopback_host_is_refused(capsys, monkeypatch) -> None:
    monkeypatch.setenv("BIGIP_PASSWORD", PASSWORD)
    assert main(["emulator", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        "error: refusing to listen on 0.0.0.0: not a loopback address (use --allow-remote)\n")


def test_tls_without_certificate_is_a_usage_error(capsys, monkeypatch) -> None:
    monkeypatch.setenv("BIGIP_PASSWORD", PASSWORD)
    assert main(["emulator", "--tls", "--port", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: --tls needs --cert and --key")


def test_broken_state_file_points_at_line_and_column(capsys, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BIGIP_PASSWORD", PASSWORD)
    state = tmp_path / "state.json"
    state.write_text('{\n  "as3": {,}\n}\n')
    assert main(["emulator", "--port", "0", "--state", str(state)]) == 2
    assert capsys.readouterr().err == (
        f"{state}:2:11: error: not a JSON state file (Expecting property name enclosed in double quotes)\n"
        "  hint: fix or delete the --state file\n")


class Running:
    """The emulator command in a subprocess; `url` is read from its first output line."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "renderer", "emulator", "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        assert line.startswith("BIG-IP emulator listening on "), line + self.proc.stderr.read()
        self.first_line = line
        self.url = line.split()[4]

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str]:
        self.proc.send_signal(sig)
        _, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, err


@pytest.fixture(autouse=True)
def interruptible_children() -> Any:
    """The tests stop the emulator with SIGINT, as Ctrl-C does. A shell starts a background job with
    SIGINT ignored, and an ignored signal stays ignored across exec: a suite run in the background
    (`.ci/run &`) started emulators that never saw it and hung in `stop()`. With a handler of our
    own here, the children start with the default action, as from a terminal."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.fixture
def env() -> dict[str, str]:
    """No AS3_SCHEMA (CI sets it): these tests check the emulator without schema validation."""
    return {**{k: v for k, v in os.environ.items() if k != "AS3_SCHEMA"}, "BIGIP_PASSWORD": PASSWORD}


def test_command_serves_persists_state_and_restores_it_after_restart(env, tmp_path: Path) -> None:
    state = tmp_path / "device.json"
    adc = {"class": "ADC", "schemaVersion": "3.56.0", "id": "cli",
           "T1": {"class": "Tenant", "A": {"class": "Application", "p": {"class": "Pool"}}}}
    run = Running("--state", str(state), "--control-token", "tok", env=env)
    try:
        assert run.url.startswith("http://127.0.0.1:")
        assert run.first_line.endswith(f"as user admin (control API on /_emulator/; state in {state})\n")
        response = requests.post(f"{run.url}/mgmt/shared/appsvcs/declare", json=adc, auth=("admin", PASSWORD),
                                 timeout=10)
        assert response.status_code == 200
        assert json.loads(state.read_text())["as3"]["tenants"]["T1"] == adc["T1"]
        assert [p.name for p in tmp_path.iterdir()] == ["device.json"]  # no temp files left behind
        log = requests.get(f"{run.url}/_emulator/state", headers={"X-Emulator-Token": "tok"}, timeout=10)
        assert [(e["method"], e["status"]) for e in log.json()["requestLog"]] == [("POST", 200)]
    finally:
        code, err = run.stop()
    assert (code, err) == (0, "emulator stopped\n")
    again = Running("--state", str(state), env=env)
    try:
        response = requests.get(f"{again.url}/mgmt/shared/appsvcs/declare", auth=("admin", PASSWORD), timeout=10)
        assert response.status_code == 200 and response.json()["T1"] == adc["T1"]
    finally:
        assert again.stop(signal.SIGTERM) == (0, "emulator stopped\n")  # `kill` stops it cleanly too


def test_command_serves_https_with_given_certificate(env, tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_path, key_path, ca_path = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    ca.cert_pem.write_to_path(str(ca_path))
    run = Running("--cert", str(cert_path), "--key", str(key_path), env=env)
    try:
        assert run.url.startswith("https://127.0.0.1:")
        response = requests.get(f"{run.url}/mgmt/shared/appsvcs/info", auth=("admin", PASSWORD),
                                verify=str(ca_path), timeout=10)
        assert response.status_code == 200 and response.json()["version"] == "3.56.0"
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{run.url}/mgmt/shared/appsvcs/info", verify=True, timeout=10)
    finally:
        assert run.stop()[0] == 0


def test_command_runs_an_ha_pair_in_one_process(env) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "renderer", "emulator", "--port", "0", "--devices",
                             "bigip-a,bigip-b", "--device-group", "failover-group"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("BIG-IP emulator bigip-a active listening on http://127.0.0.1:"), lines
        assert lines[1].startswith("BIG-IP emulator bigip-b standby listening on http://127.0.0.1:"), lines
        assert lines[2] == "device group failover-group: bigip-a, bigip-b\n"
        urls = [line.split()[6] for line in lines[:2]]
        assert urls[0] != urls[1]
        status = [requests.get(f"{u}/mgmt/tm/cm/failover-status", auth=("admin", PASSWORD), timeout=10).json()
                  for u in urls]
        assert [next(iter(s["entries"].values()))["nestedStats"]["entries"]["status"]["description"]
                for s in status] == ["ACTIVE", "STANDBY"]
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert (proc.returncode, err) == (0, "emulator stopped\n")


def test_devices_need_two_names(capsys, monkeypatch) -> None:
    monkeypatch.setenv("BIGIP_PASSWORD", PASSWORD)
    assert main(["emulator", "--port", "0", "--devices", "only-one"]) == 2
    assert "--devices needs two or more different names" in capsys.readouterr().err
