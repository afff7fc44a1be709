"""`as3-gitops deploy` and `as3-gitops plan`: post a rendered commit to a BIG-IP, or show what would change.

Only this module reads credentials (BIGIP_USERNAME / BIGIP_PASSWORD or --password-file) and
prints; the sequence itself lives in renderer.bigip.plan. The password is never printed: it is
only handed to the client, which sends it in the login body and nowhere else.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import typer

from renderer.bigip.connection import normalise_host
from renderer.cli.app import app, state
from renderer.cli.cache_option import CACHE_DIR, NO_CACHE, parse_cache
from renderer.cli.output import check_output_file
from renderer.errors import As3GitopsError, DeviceError, InvalidInput, RestoreFailed, UsageError
from renderer.fileio import write_atomic
from renderer.redact import has_userinfo, scrub_urls

EXIT_OK, EXIT_CHANGES, EXIT_INVALID = 0, 1, 2


@dataclass(frozen=True)
class Connection:
    host: str
    username: str
    password: str
    login_provider: str
    verify: bool | str
    busy_backoff: float
    poll_interval: float


def _credentials(password_file: Path | None) -> tuple[str, str]:
    username = os.environ.get("BIGIP_USERNAME", "")
    if password_file is not None:
        try:
            password = password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as err:
            raise UsageError(f"{password_file}: cannot read the password file ({err.strerror})") from None
    else:
        password = os.environ.get("BIGIP_PASSWORD", "")
    if not username or not password:
        raise UsageError(
            "BIG-IP credentials missing", hint="set BIGIP_USERNAME and BIGIP_PASSWORD (or --password-file)"
        )
    return username, password


def _connection(
    host: str,
    password_file: Path | None,
    login_provider: str,
    ca_bundle: Path | None,
    insecure: bool,
    busy_backoff: float,
    poll_interval: float,
    err: TextIO,
) -> Connection:
    host = normalise_host(host)  # no scheme: https://; a bare IPv6 address in brackets
    if has_userinfo(host):  # never echoed: the part before '@' may be a password
        raise UsageError("--host must not contain credentials (user:password@)",
                         hint="set BIGIP_USERNAME and BIGIP_PASSWORD, or use --password-file")
    if ca_bundle is not None and insecure:
        raise UsageError("--ca-bundle and --insecure exclude each other")
    if ca_bundle is not None and not ca_bundle.is_file():
        raise UsageError(f"{ca_bundle}: --ca-bundle file not found")
    if insecure:
        err.write(
            "warning: --insecure: the BIG-IP's TLS certificate is NOT verified; "
            "anyone on the path can read the credentials\n"
        )
    username, password = _credentials(password_file)
    verify: bool | str = False if insecure else (str(ca_bundle) if ca_bundle else True)
    return Connection(host, username, password, login_provider, verify, busy_backoff, poll_interval)


def _client(conn: Connection, session_seconds: float):
    from renderer.bigip.client import BigipClient, Credentials, Timing

    timing = Timing(
        busy_first=conn.busy_backoff,
        busy_max=conn.busy_backoff * 10,
        poll_first=conn.poll_interval,
        poll_max=conn.poll_interval * 5,
    )
    creds = Credentials(conn.username, conn.password, conn.login_provider)
    return BigipClient(conn.host, creds, verify=conn.verify, timing=timing, session_seconds=session_seconds)


def _render(repo: Path, ref: str | None, cache: Any = None):
    from renderer.bigip.plan import Rendered
    from renderer.render import render

    result = render(repo, ref, cache=cache)
    if not result.ok:
        raise InvalidInput(result.findings, side=ref or "working tree")
    warnings = [f for f in result.findings if not f.is_error]
    if warnings:  # e.g. a pool without ready endpoints: deployable, but worth a look
        from renderer.report import write_findings

        write_findings(warnings, sys.stderr, "text")
    return result, Rendered(result.identity, result.as3, result.net)


def _lease_renderer(repo: Path, cache: Any = None):
    """Render the commit the device claims to run; None when this repository cannot."""
    from renderer.bigip.plan import Rendered
    from renderer.render import render

    def render_commit(sha: str) -> Rendered | None:
        try:
            result = render(repo, sha, cache=cache)
        except As3GitopsError:
            return None
        return Rendered(result.identity, result.as3, result.net) if result.ok else None

    return render_commit


def _progress(err: TextIO, client: Any = None):
    """Step lines on stderr (none with -q); on a terminal, a live line while an AS3 task is polled."""
    from renderer.cli.app import state
    from renderer.cli.progress import StepProgress

    return StepProgress(err, quiet=state.verbosity < 0, client=client)


def _write_reports(report: Any, json_path: Path | None, md_path: Path | None, err: TextIO) -> bool:
    """Write the reports; a file that cannot be written is said on stderr (False), never a crash."""
    from renderer.bigip.deploy_report import write_json, write_markdown

    ok = True
    for path, writer in ((json_path, write_json), (md_path, write_markdown)):
        if path is not None and report is not None:
            buf = io.StringIO()
            writer(report, buf)
            try:
                write_atomic(path, scrub_urls(buf.getvalue()))  # no URL userinfo
            except OSError as problem:
                err.write(f"error: cannot write the report {path}: {problem.strerror or problem}\n")
                ok = False
    return ok


def device_net(device: Any, like: dict[str, Any] | None) -> dict[str, Any]:
    """The device's net state in the net declaration's shape (meta keys taken from `like`)."""
    data = device.net.as_dict()
    out = {k: v for k, v in (like or {}).items()
           if k not in ("vxlanProfile", "tunnel", "selfIP", "floatingSelfIP", "fdb", "arps", "routes")}
    out.update({k: v for k, v in data.items() if v is not None and k != "partition"})
    out["fdb"] = {**((like or {}).get("fdb") or {}), "records": data["fdb"]["records"]}
    return out


def _devices_of(repo: Path, ref: str | None, host: str | None) -> tuple[Any, ...]:
    """bigip.devices of the configuration at `ref`; --host is required exactly when there are none."""
    from renderer.config import load_config
    from renderer.source import open_tree

    config, _findings = load_config(open_tree(repo, ref))  # findings: reported by the render that follows
    devices = config.bigip.devices
    if devices and host:
        raise UsageError("--host and bigip.devices in as3-gitops.yaml exclude each other",
                         hint="the devices' hosts come from as3-gitops.yaml")
    if not devices and not host:
        raise UsageError("--host is required", hint="or list the devices under bigip.devices in as3-gitops.yaml")
    return devices


def _print_drift(err: Any, fmt: str, out: TextIO, environment: str) -> None:
    from renderer.bigip.tenants import adc_of, header_of
    from renderer.diff import Side, diff_declarations
    from renderer.diff_report import write_diff

    lease = err.lease
    if lease is None:
        return
    device_adc = {**header_of(adc_of(lease.as3)), **err.device.owned_adc()}
    result = diff_declarations(
        Side(as3=lease.as3, net=lease.net, label=f"git {lease.identity[:12]}"),
        Side(as3=device_adc, net=device_net(err.device, lease.net), label="device"),
    )
    out.write("drift: the device differs from the commit it runs (changes made outside git):\n")
    write_diff(result, out, fmt, environment=environment)


def _print_failure(report: Any, err: TextIO) -> None:
    rows = [("failed", f) for f in report.failures] + [("restored", r) for r in report.restored]
    rows += [("not restored", d) for d in report.not_restored] + [("in neither", d) for d in report.differs]
    if not rows:
        return
    width = max(len(k) for k, _ in rows)
    err.write(f"{'what'.ljust(width)}  detail\n")
    for kind, detail in rows:
        err.write(f"{kind.ljust(width)}  {detail}\n")


_REPO = typer.Argument(Path("."), help="Repository folder (a git repository).")
_HOST = typer.Option(None, "--host", metavar="URL", envvar="BIGIP_HOST",
                     help="BIG-IP management URL, e.g. https://10.0.0.1 (env BIGIP_HOST; not with bigip.devices "
                     "in as3-gitops.yaml)")
_REF = typer.Option(None, "--ref", metavar="REF", help="Git ref to deploy (default: the working tree).")
_PWFILE = typer.Option(None, "--password-file", metavar="FILE", help="Read the password from FILE.")
_PROVIDER = typer.Option("tmos", "--login-provider", metavar="NAME", help="loginProviderName for tokens.")
_CA = typer.Option(None, "--ca-bundle", metavar="PEM", help="CA bundle to verify the device's TLS certificate.")
_INSECURE = typer.Option(False, "--insecure", help="Do not verify TLS (warns).")
_BACKOFF = typer.Option(3.0, "--busy-backoff", metavar="SECONDS", help="First wait after a 503 busy (doubles).")
_POLL = typer.Option(1.0, "--poll-interval", metavar="SECONDS", help="First wait between AS3 task polls.")


@app.command("deploy")
def deploy_command(
    repo: Path = _REPO,
    host: str | None = _HOST,
    ref: str | None = _REF,
    dry_run: bool = typer.Option(False, "--dry-run", help="Stop after AS3's dry-run: no configuration write."),
    force: bool = typer.Option(False, "--force", help="Overwrite drift / adopt a device not deployed by us."),
    timeout: float = typer.Option(900.0, "--timeout", metavar="SECONDS", help="Deadline for the apply."),
    rollback_timeout: float = typer.Option(
        300.0, "--rollback-timeout", metavar="SECONDS", help="Time allowed for a rollback after a failure."
    ),
    report: Path | None = typer.Option(None, "--report", metavar="FILE", help="Write the JSON report."),
    report_markdown: Path | None = typer.Option(
        None, "--report-markdown", metavar="FILE", help="Write the report as markdown (for the job summary)."
    ),
    fmt: str = typer.Option("text", "--format", metavar="text|markdown|json", help="Format of a drift diff."),
    lock_timeout: float = typer.Option(
        300.0, "--lock-timeout", metavar="SECONDS", help="Wait this long for a device lock held by another deploy."
    ),
    lock_ttl: float = typer.Option(
        120.0, "--lock-ttl", metavar="SECONDS", help="Expiry of our device lock (renewed every quarter of it)."
    ),
    break_lock: bool = typer.Option(False, "--break-lock", help="Take over the device lock of a dead deploy."),
    password_file: Path | None = _PWFILE,
    login_provider: str = _PROVIDER,
    ca_bundle: Path | None = _CA,
    insecure: bool = _INSECURE,
    busy_backoff: float = _BACKOFF,
    poll_interval: float = _POLL,
    no_cache: bool = NO_CACHE,
    cache_dir: Path | None = CACHE_DIR,
) -> int:
    """Deploy the rendered commit: dry-run, network make-before-break, apply, verify, prune; roll back on failure."""
    from renderer.bigip.plan import DeployOptions, DriftDetected, deploy
    from renderer.diff_report import FORMATS

    out, err = sys.stdout, sys.stderr
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    if min(timeout, rollback_timeout, busy_backoff, poll_interval, lock_ttl) <= 0:
        raise UsageError(
            "--timeout, --rollback-timeout, --busy-backoff, --poll-interval and --lock-ttl must be positive"
        )
    if lock_timeout < 0:
        raise UsageError("--lock-timeout must be zero or positive")
    if break_lock and dry_run:
        raise UsageError("--break-lock and --dry-run exclude each other (a dry-run takes no lock)")
    check_output_file(report, "--report")
    check_output_file(report_markdown, "--report-markdown")
    devices = _devices_of(repo, ref, host)
    conn = _connection(host or "https://devices", password_file, login_provider, ca_bundle, insecure, busy_backoff,
                       poll_interval, err)
    cache = parse_cache(no_cache, cache_dir)
    result, rendered = _render(repo, ref, cache)
    options = DeployOptions(
        dry_run=dry_run,
        force=force,
        timeout=timeout,
        rollback_timeout=rollback_timeout,
        lock_timeout=lock_timeout,
        lock_ttl=lock_ttl,
        break_lock=break_lock,
    )
    if devices:
        from renderer.cli.deploy_devices import deploy_devices

        try:
            done = deploy_devices(conn, result, rendered, _lease_renderer(repo, cache), options, _progress(err),
                                  out, err)
        except (DeviceError, RestoreFailed) as failure:
            _write_reports(getattr(failure, "report", None), report, report_markdown, err)
            raise
        return EXIT_OK if _write_reports(done, report, report_markdown, err) else EXIT_INVALID
    with _client(conn, timeout + rollback_timeout) as client:
        try:
            progress = _progress(err, client)
            try:
                done = deploy(client, rendered, _lease_renderer(repo, cache), options, progress)
            finally:
                progress.stop()
        except (DeviceError, RestoreFailed) as failure:
            client.close()
            rep = getattr(failure, "report", None)
            _finish_stats(rep, client)
            _write_reports(rep, report, report_markdown, err)  # a report that fails never hides this failure
            if isinstance(failure, DriftDetected):
                _print_drift(failure, fmt, out, result.config.environment)
            elif rep is not None:
                _print_failure(rep, err)
            raise
        client.close()
    _finish_stats(done, client)
    reports_written = _write_reports(done, report, report_markdown, err)
    if done.failures:  # a failed step whose writes had all landed: the device equals the render
        _print_failure(done, err)
    if done.outcome == "no change":
        out.write(f"no change: the device already runs {rendered.identity}\n")
    elif done.outcome == "deployed" and done.device_commit == "working tree" and not (
            done.tenants_changed or done.network_changed):  # the lease became the commit (renderer.bigip.plan)
        out.write(f"recorded {rendered.identity}: the device ran a working-tree deploy equal to it; "
                  "its remark now names the commit\n")
    elif done.outcome == "dry-run":
        out.write(
            f"dry-run passed for {rendered.identity}: tenants {', '.join(done.tenants_changed) or 'none'}, "
            f"network {'changes' if done.network_changed else 'unchanged'}; nothing written\n"
        )
    else:
        out.write(
            f"deployed {rendered.identity}: tenants {', '.join(done.tenants_changed) or 'none'}, "
            f"network {'changed' if done.network_changed else 'unchanged'}\n"
        )
    return EXIT_OK if reports_written else EXIT_INVALID


def _finish_stats(report: Any, client: Any) -> None:
    """Count the token revoke too, so the report matches the device's request log."""
    if report is not None:
        s = client.stats
        report.requests, report.writes = s.requests, s.writes
        report.bytes_sent, report.bytes_received = s.bytes_sent, s.bytes_received


@app.command("plan")
def plan_command(
    repo: Path = _REPO,
    host: str | None = _HOST,
    ref: str | None = _REF,
    fmt: str = typer.Option("text", "--format", metavar="text|markdown|json", help="Output format."),
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 when the device differs from the render."),
    password_file: Path | None = _PWFILE,
    login_provider: str = _PROVIDER,
    ca_bundle: Path | None = _CA,
    insecure: bool = _INSECURE,
    no_cache: bool = NO_CACHE,
    cache_dir: Path | None = CACHE_DIR,
) -> int:
    """Show the diff device -> rendered (read-only: never writes to the device)."""
    from renderer.bigip.plan import read_device
    from renderer.diff import Side, diff_declarations
    from renderer.diff_report import FORMATS, write_diff

    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    out, err = sys.stdout, sys.stderr
    devices = _devices_of(repo, ref, host)
    conn = _connection(host or "https://devices", password_file, login_provider, ca_bundle, insecure, 3.0, 1.0, err)
    result, rendered = _render(repo, ref, parse_cache(no_cache, cache_dir))
    if devices:
        from renderer.cli.deploy_devices import plan_devices

        side, others = plan_devices(conn, result, rendered)
        for name in others:
            err.write(f"warning: device {name} runs a different AS3 declaration than the one compared\n")
        diff = diff_declarations(side, Side.from_render(result, rendered.identity[:12]))
        code = EXIT_CHANGES if exit_code and (diff.has_changes or others) else EXIT_OK
        state.exit_if_pipe_closes = code
        write_diff(diff, out, fmt, environment=result.config.environment)
        return code
    with _client(conn, 600) as client:
        client.login()
        device = read_device(client, rendered)
    from renderer.bigip.tenants import header_of

    device_adc = {**header_of(result.adc), **device.owned_adc()}
    diff = diff_declarations(
        Side(as3=device_adc, net=device_net(device, result.net), label="device"),
        Side.from_render(result, rendered.identity[:12]),
    )
    state.exit_if_pipe_closes = EXIT_CHANGES if exit_code and diff.has_changes else EXIT_OK
    write_diff(diff, out, fmt, environment=result.config.environment)
    return state.exit_if_pipe_closes
