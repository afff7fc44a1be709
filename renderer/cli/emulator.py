"""`as3-gitops emulator`: run the BIG-IP emulator on a loopback address until Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from renderer.cli.app import app
from renderer.errors import SourceLocation, UsageError

if TYPE_CHECKING:
    import ssl

    from renderer.emulator import EmulatorServer


@dataclass(frozen=True)
class EmulatorOptions:
    host: str
    port: int
    tls: bool | None
    cert: Path | None
    key: Path | None
    username: str
    password: str | None
    password_file: Path | None
    state: Path | None
    as3_schema: str | None
    control_token: str | None
    allow_remote: bool
    async_threshold: float
    max_body_mb: float = 64.0
    max_connections: int = 64
    request_seconds: float = 30.0


def _password(opts: EmulatorOptions) -> str:
    if opts.password_file is not None:
        try:
            return opts.password_file.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise UsageError(f"cannot read --password-file: {err.strerror}",
                             location=SourceLocation(str(opts.password_file))) from err
    if opts.password:
        return opts.password
    raise UsageError("the emulator needs a password for its user",
                     hint="set BIGIP_PASSWORD (the deploy command reads the same variable) or use --password-file")


def _context(opts: EmulatorOptions) -> ssl.SSLContext | None:
    import ssl

    from renderer.emulator import server_context

    wants_tls = opts.tls if opts.tls is not None else bool(opts.cert and opts.key)
    if not wants_tls:
        return None
    if not (opts.cert and opts.key):
        raise UsageError("--tls needs --cert and --key (the emulator does not make certificates)",
                         hint="run with --no-tls, or make a certificate, e.g. with openssl or mkcert")
    try:
        return server_context(str(opts.cert), str(opts.key))
    except (OSError, ssl.SSLError) as err:
        raise UsageError(f"cannot load --cert/--key: {err}", location=SourceLocation(str(opts.cert))) from err


def build_server(opts: EmulatorOptions) -> EmulatorServer:
    """Check the options and make a ready (not yet serving) emulator (imports lazily: fast CLI start)."""
    from renderer.emulator import BindRefused, Device, EmulatorConfig, EmulatorServer
    from renderer.emulator.state import StateError
    from renderer.errors import ValidateError

    if opts.async_threshold <= 0:
        raise UsageError("--async-threshold must be more than 0 seconds")
    if opts.max_body_mb <= 0 or opts.max_connections < 1 or opts.request_seconds <= 0:
        raise UsageError("--max-body-mb, --max-connections and --request-seconds must be positive")
    schema = opts.as3_schema or os.environ.get("AS3_SCHEMA") or None
    config = EmulatorConfig(username=opts.username, password=_password(opts), control_token=opts.control_token,
                            state_file=opts.state, as3_schema=Path(schema) if schema else None,
                            async_threshold=opts.async_threshold, max_body_bytes=int(opts.max_body_mb * 1024 * 1024),
                            max_connections=opts.max_connections, request_seconds=opts.request_seconds)
    context = _context(opts)
    try:
        device = Device(config)
    except StateError as err:
        where = SourceLocation(err.path or str(opts.state), err.line, err.column)
        raise UsageError(err.message, location=where, hint="fix or delete the --state file") from err
    except ValidateError as err:
        raise UsageError(err.message, hint=err.hint) from err
    try:
        return EmulatorServer(device, opts.host, opts.port, context, allow_remote=opts.allow_remote)
    except BindRefused as err:
        raise UsageError(str(err)) from err
    except OSError as err:
        raise UsageError(f"cannot listen on {opts.host}:{opts.port}: {err.strerror}") from err


@app.command("emulator")
def emulator_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback only, see --allow-remote)."),
    port: int = typer.Option(8443, "--port", help="TCP port (0: any free port; the URL line shows it)."),
    tls: bool | None = typer.Option(None, "--tls/--no-tls",
                                    help="HTTPS with --cert/--key. Default: HTTPS when both are given."),
    cert: Path | None = typer.Option(None, "--cert", help="PEM certificate (chain) for HTTPS."),
    key: Path | None = typer.Option(None, "--key", help="PEM private key for HTTPS."),
    username: str = typer.Option("admin", "--username", envvar="BIGIP_USERNAME", help="The emulated user."),
    password: str | None = typer.Option(None, "--password", envvar="BIGIP_PASSWORD", show_default=False,
                                        help="The user's password (prefer the BIGIP_PASSWORD variable)."),
    password_file: Path | None = typer.Option(None, "--password-file", help="Read the password from this file."),
    state: Path | None = typer.Option(None, "--state", help="Keep device state in this JSON file across restarts."),
    as3_schema: str | None = typer.Option(None, "--as3-schema",
                                          help="Official AS3 schema: validate declarations as AS3 does "
                                               "(default: $AS3_SCHEMA; none: no schema validation)."),
    control_token: str | None = typer.Option(None, "--control-token", envvar="EMULATOR_CONTROL_TOKEN",
                                             show_default=False,
                                             help="Enable /_emulator/ (state, faults); requests must send "
                                                  "X-Emulator-Token with this value."),
    allow_remote: bool = typer.Option(False, "--allow-remote", help="Allow a non-loopback --host."),
    async_threshold: float = typer.Option(45.0, "--async-threshold",
                                          help="Seconds before a synchronous declare answers 202."),
    max_body_mb: float = typer.Option(64.0, "--max-body-mb", help="Larger request bodies get 413."),
    max_connections: int = typer.Option(64, "--max-connections", help="More connections at once get 503."),
    request_seconds: float = typer.Option(30.0, "--request-seconds",
                                          help="Time to send one request (and idle keep-alive time)."),
    devices: str | None = typer.Option(None, "--devices", metavar="NAME,NAME",
                                       help="Run several devices (an HA pair), one port each from --port up."),
    device_group: str | None = typer.Option(None, "--device-group", metavar="NAME",
                                            help="With --devices: put them in this sync-failover device group "
                                                 "(the first is active)."),
) -> int:
    """Run a BIG-IP emulator (AS3 + iControl REST) to try render -> diff -> deploy without a device."""
    opts = EmulatorOptions(host, port, tls, cert, key, username, password, password_file, state, as3_schema,
                           control_token, allow_remote, async_threshold, max_body_mb, max_connections,
                           request_seconds)
    if devices is not None or device_group is not None:
        return _run_several(opts, devices, device_group)
    server = build_server(opts)
    extras = []
    if server.device.validator is not None:
        extras.append("AS3 schema validation on")
    if opts.control_token:
        extras.append("control API on /_emulator/")
    if opts.state:
        extras.append(f"state in {opts.state}")
    note = f" ({'; '.join(extras)})" if extras else ""
    sys.stdout.write(f"BIG-IP emulator listening on {server.url} as user {opts.username}{note}\n")
    sys.stdout.write("press Ctrl-C to stop\n")
    sys.stdout.flush()
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)  # `kill` stops it as cleanly as Ctrl-C
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.stderr.write("emulator stopped\n")
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
    return 0


def _run_several(opts: EmulatorOptions, devices: str | None, device_group: str | None) -> int:
    """Several devices in one process, each on its own port, optionally in one device group."""
    from dataclasses import replace

    from renderer.emulator.ha import DeviceGroup

    names = [n.strip() for n in (devices or "").split(",") if n.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        raise UsageError("--devices needs two or more different names, e.g. --devices bigip-a,bigip-b")
    if opts.state is not None:
        raise UsageError("--state keeps one device; it cannot be combined with --devices")
    servers = []
    try:
        for i, name in enumerate(names):
            servers.append((name, build_server(replace(opts, port=opts.port + i if opts.port else 0))))
        if device_group:
            DeviceGroup(device_group, {name: server.device for name, server in servers})
        for name, server in servers:
            role = "" if not device_group else (" active" if name == names[0] else " standby")
            sys.stdout.write(f"BIG-IP emulator {name}{role} listening on {server.url} as user {opts.username}\n")
        if device_group:
            sys.stdout.write(f"device group {device_group}: {', '.join(names)}\n")
        sys.stdout.write("press Ctrl-C to stop\n")
        sys.stdout.flush()
        for _name, server in servers[1:]:
            server.start()
        previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
        try:
            servers[0][1].serve_forever()
        except KeyboardInterrupt:
            sys.stderr.write("emulator stopped\n")
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        for _name, server in servers:
            server.stop()
    return 0


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
