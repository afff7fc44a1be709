"""The password never shows: outputs, reports (JSON and markdown), exceptions and logs are grepped."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bigip.deploy_harness import change_member_by_hand, deploy_args, move_pod, run_cli, two_tenant_repo
from renderer.bigip.client import BigipClient, Credentials, Timing
from renderer.bigip.plan import DeployOptions, Rendered, deploy
from renderer.errors import DeviceError, RestoreFailed
from renderer.render import render

PASSWORD = "Zq9-very-Secret-pw-77"


@pytest.mark.bigip_emulator(tls=True, password=PASSWORD)
def test_password_is_in_no_output_report_exception_or_log(
    bigip_emulator, make_repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("BIGIP_USERNAME", bigip_emulator.username)
    pwfile = tmp_path / "pw"
    pwfile.write_text(PASSWORD + "\n")
    repo = two_tenant_repo(make_repo)
    texts: list[str] = []

    def cli(*extra: str, hooks=None) -> int:
        reports = [tmp_path / f"r{len(texts)}.json", tmp_path / f"r{len(texts)}.md"]
        args = [
            *deploy_args(repo, bigip_emulator, *extra),
            "--password-file",
            str(pwfile),
            "--report",
            str(reports[0]),
            "--report-markdown",
            str(reports[1]),
        ]
        run = run_cli(args, hooks)
        texts.extend([run.out, run.err, *(p.read_text() for p in reports if p.exists())])
        return run.code

    assert cli("--ref", "HEAD") == 0
    sha = move_pod(repo, "10.10.2.7", "10.10.2.8")
    fault = [{"kind": "tenant-fail", "tenant": "kubernetes", "times": 2}]
    assert cli("--ref", sha, hooks={"apply": lambda: bigip_emulator.control.faults(fault)}) == 4
    assert cli("--ref", sha) == 0  # the journal it left lets the next deploy converge
    change_member_by_hand(bigip_emulator, repo)
    assert cli("--ref", sha) == 3  # drift: the refusal prints a diff
    assert cli("--ref", sha, "--force") == 0
    wrong = tmp_path / "wrong"
    wrong.write_text("not-" + PASSWORD)
    run = run_cli([*deploy_args(repo, bigip_emulator, "--ref", sha), "--password-file", str(wrong)])
    assert run.code == 3 and "login as 'admin' failed: HTTP 401" in run.err
    texts += [run.out, run.err]

    # the library's exceptions and reports, straight from the source
    client = BigipClient(
        bigip_emulator.url,
        Credentials(bigip_emulator.username, PASSWORD),
        verify=bigip_emulator.ca_bundle,
        timing=Timing(busy_first=0.05, poll_first=0.02),
    )
    result = render(repo.path, "HEAD~1")
    bigip_emulator.control.faults(
        [{"kind": "http-500", "path": "/mgmt/shared/appsvcs/declare", "method": "POST", "html": True, "times": 3}]
    )
    with pytest.raises((DeviceError, RestoreFailed)) as info:
        deploy(
            client,
            Rendered(result.identity, result.as3, result.net),
            lambda sha: None,
            DeployOptions(force=True, rollback_timeout=5),
        )
    client.close()
    err = info.value
    texts += [str(err), repr(err), err.hint or "", repr(client._credentials), repr(err.report)]  # type: ignore[attr-defined]
    # issue 15: a password inside --host is refused without being repeated, in output and reports
    args = deploy_args(repo, bigip_emulator, "--ref", sha)
    with_userinfo = bigip_emulator.url.replace("://", f"://admin:{PASSWORD}@", 1)
    args = [with_userinfo if a == bigip_emulator.url else a for a in args]
    assert with_userinfo in args
    reports = [tmp_path / "host.json", tmp_path / "host.md"]
    run = run_cli([*args, "--password-file", str(pwfile), "--report", str(reports[0]),
                   "--report-markdown", str(reports[1])])
    assert run.code == 2 and "--host must not contain credentials" in run.err
    texts += [run.out, run.err, *(p.read_text() for p in reports if p.exists())]
    # ... and the library shows URLs without userinfo in its messages (here: TLS refused, no CA given)
    client = BigipClient(with_userinfo, Credentials(bigip_emulator.username, PASSWORD), verify=True,
                         timing=Timing(busy_first=0.05, poll_first=0.02))
    with pytest.raises(DeviceError) as info:
        client.login()
    client.close()
    # the message names the host and port (renderer/bigip/connection.py), never the userinfo
    assert bigip_emulator.url.split("://", 1)[1] in str(info.value) and "@" not in str(info.value)
    texts += [str(info.value), repr(info.value), info.value.hint or "", client.url]
    texts.append(caplog.text)

    assert len(texts) > 15
    leaks = [t for t in texts if PASSWORD in t]
    assert leaks == []


@pytest.mark.bigip_emulator(tls=True)
def test_insecure_warns_and_skips_verification(bigip_emulator, make_repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIGIP_USERNAME", bigip_emulator.username)
    monkeypatch.setenv("BIGIP_PASSWORD", bigip_emulator.password)
    repo = two_tenant_repo(make_repo)
    run = run_cli(["deploy", str(repo.path), "--host", bigip_emulator.url, "--insecure", "--ref", "HEAD"])
    assert run.code == 0, run.err
    assert run.err.startswith("warning: --insecure: the BIG-IP's TLS certificate is NOT verified; ")


@pytest.mark.bigip_emulator(tls=True)
def test_tls_is_verified_by_default(bigip_emulator, make_repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIGIP_USERNAME", bigip_emulator.username)
    monkeypatch.setenv("BIGIP_PASSWORD", bigip_emulator.password)
    repo = two_tenant_repo(make_repo)
    run = run_cli(["deploy", str(repo.path), "--host", bigip_emulator.url, "--ref", "HEAD"])
    assert run.code == 3
    assert f"error: the TLS certificate of {bigip_emulator.url.removeprefix('https://')} is not trusted" in run.err
    assert bigip_emulator.control.state()["requestLog"] == []


def test_missing_credentials_is_a_usage_error(bigip_emulator, make_repo) -> None:
    repo = make_repo()
    run = run_cli(["deploy", str(repo.path), "--host", bigip_emulator.url])
    assert run.code == 2
    assert run.err == (
        "error: BIG-IP credentials missing\n  hint: set BIGIP_USERNAME and BIGIP_PASSWORD (or --password-file)\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "yaml"], "error: --format 'yaml' is not one of text, markdown, json\n"),
        (
            ["--timeout", "0"],
            "error: --timeout, --rollback-timeout, --busy-backoff, --poll-interval and --lock-ttl must be positive\n",
        ),
        (["--insecure", "--ca-bundle", "x.pem"], "error: --ca-bundle and --insecure exclude each other\n"),
    ],
)
def test_bad_options_are_usage_errors(args, message, bigip_emulator, make_repo, monkeypatch) -> None:
    monkeypatch.setenv("BIGIP_USERNAME", "admin")
    monkeypatch.setenv("BIGIP_PASSWORD", "pw")
    run = run_cli(["deploy", str(make_repo().path), "--host", bigip_emulator.url, *args])
    assert (run.code, run.err) == (2, message)
    assert bigip_emulator.control.state()["requestLog"] == []
