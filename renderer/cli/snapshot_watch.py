"""`as3-gitops snapshot watch`: the watch-and-sync daemon (see renderer.snapshot.watch).

Parses options, builds the stream, the git checkout, the BIG-IP client factory and the health
server, runs the loop until SIGTERM/SIGINT (or --max-runtime), and logs one line per event to
stderr. BIG-IP credentials are read exactly like `deploy` reads them and are never logged.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from pathlib import Path

import typer

from renderer.cli.deploy import _PROVIDER, _PWFILE, _client, _connection
from renderer.cli.snapshot import _ALL_SERVICES, _NAMESPACE, snapshot_app
from renderer.errors import UsageError


def _positive(**values: float) -> None:
    bad = [f"--{k.replace('_', '-')}" for k, v in values.items() if v <= 0]
    if bad:
        raise UsageError(f"{', '.join(bad)} must be positive")


@snapshot_app.command("watch")
def watch(
    remote: str = typer.Option(..., "--remote", metavar="URL",
                               help="The config repository to clone and push to (URL or path)."),
    branch: str = typer.Option("main", "--branch", metavar="NAME",
                               help="Branch the snapshot commits go to (and are deployed from)."),
    review_branch: str = typer.Option("snapshot/refresh", "--review-branch", metavar="NAME",
                                      help="Branch for changes outside snapshot.autoDeploy (force-pushed)."),
    workdir: Path | None = typer.Option(None, "--workdir", metavar="DIR",
                                        help="The watcher's own checkout (default: a temporary folder)."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", metavar="PATH", help="Kubeconfig file."),
    context: str | None = typer.Option(None, "--context", metavar="NAME", help="Kubeconfig context to use."),
    in_cluster: bool = typer.Option(False, "--in-cluster", help="Use the pod's service account."),
    namespace: list[str] | None = _NAMESPACE,
    all_services: bool = _ALL_SERVICES,
    debounce: float = typer.Option(2.0, "--debounce", metavar="SECONDS",
                                   help="Sync once the objects were quiet this long."),
    max_delay: float = typer.Option(10.0, "--max-delay", metavar="SECONDS",
                                    help="Sync at the latest this long after the first unsynced event."),
    resync: float = typer.Option(60.0, "--resync", metavar="SECONDS",
                                 help="Re-check the remote and the device this often without events."),
    retry: float = typer.Option(2.0, "--retry", metavar="SECONDS", help="First wait after a failure (doubles)."),
    takeover: float = typer.Option(120.0, "--takeover-after", metavar="SECONDS",
                                   help="Deploy a tip another watcher pushed only if it stays undeployed this long."),
    health: str | None = typer.Option(None, "--health", metavar="HOST:PORT",
                                      help="Serve /healthz, /readyz and /metrics here (e.g. 0.0.0.0:8080)."),
    host: str | None = typer.Option(None, "--host", metavar="URL",
                                    help="BIG-IP to deploy to (without it: push only, never deploy)."),
    ca_bundle: Path | None = typer.Option(None, "--ca-bundle", metavar="PEM", help="CA bundle for the BIG-IP."),
    insecure: bool = typer.Option(False, "--insecure", help="Do not verify the BIG-IP's TLS (warns)."),
    password_file: Path | None = _PWFILE,
    login_provider: str = _PROVIDER,
    timeout: float = typer.Option(900.0, "--timeout", metavar="SECONDS", help="Deadline of one deploy's apply."),
    busy_backoff: float = typer.Option(3.0, "--busy-backoff", metavar="SECONDS", help="First wait after a 503."),
    poll_interval: float = typer.Option(1.0, "--poll-interval", metavar="SECONDS", help="AS3 task poll interval."),
    watch_seconds: int = typer.Option(300, "--watch-timeout", metavar="SECONDS",
                                      help="Reopen each watch after this long (the API's timeoutSeconds)."),
    max_runtime: float | None = typer.Option(None, "--max-runtime", metavar="SECONDS",
                                             help="Stop by itself after this long (tests, one-off runs)."),
) -> int:
    """Watch Nodes/Endpoints/EndpointSlices; commit and push each settled change; deploy it within the policy."""
    from renderer.bigip.lease import DeployOptions
    from renderer.snapshot.capture import ClusterAccess
    from renderer.snapshot.gitsync import GitSync, GitTarget, redact
    from renderer.snapshot.health import HealthServer, parse_address
    from renderer.snapshot.metrics import Metrics
    from renderer.snapshot.plan import SnapshotOptions
    from renderer.snapshot.stream import ClusterStream, StreamTiming
    from renderer.snapshot.watch import Watcher, WatchOptions

    err = sys.stderr
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # its retry warnings repeat what the watcher logs
    _positive(debounce=debounce, max_delay=max_delay, resync=resync, retry=retry, timeout=timeout,
              busy_backoff=busy_backoff, poll_interval=poll_interval, watch_timeout=watch_seconds)
    if takeover < 0:
        raise UsageError("--takeover-after must not be negative")
    if in_cluster and (kubeconfig or context):
        raise UsageError("--in-cluster excludes --kubeconfig and --context")
    if not in_cluster and kubeconfig is None:
        kubeconfig = os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    address = parse_address(health) if health else None
    connect = None
    if host is not None:
        conn = _connection(host, password_file, login_provider, ca_bundle, insecure, busy_backoff, poll_interval, err)
        session = timeout + 300 + 60
        connect = lambda: _client(conn, session)  # noqa: E731 - one factory, used per cycle
    elif ca_bundle or insecure or password_file:
        raise UsageError("--ca-bundle, --insecure and --password-file need --host")
    temporary = workdir is None
    checkout = Path(tempfile.mkdtemp(prefix="as3-gitops-watch-")) if workdir is None else workdir
    git = GitSync(GitTarget(remote, branch, review_branch, checkout / "repo" if temporary else checkout))
    git.check_names()

    def log(line: str) -> None:
        err.write(f"watch: {line}\n")
        err.flush()

    access = ClusterAccess(kubeconfig=kubeconfig, context=context, in_cluster=in_cluster)
    namespaces = tuple(namespace) if namespace else None
    stream = ClusterStream(access, namespaces, StreamTiming(watch_seconds=watch_seconds,
                                                            backoff_first=min(retry, 1.0)), log)
    options = WatchOptions(snapshot=SnapshotOptions(all_services=all_services, namespaces=namespaces),
                           debounce=debounce, max_delay=max(max_delay, debounce), resync=resync,
                           retry_first=retry, takeover_after=takeover,
                           deploy=DeployOptions(timeout=timeout, rollback_timeout=300.0),
                           source=f"the Kubernetes API (watch, {socket.gethostname()})")
    metrics = Metrics()
    server = HealthServer(metrics, address).start() if address else None
    stop = threading.Event()
    restore = _signals(stop)
    timer = threading.Timer(max_runtime, stop.set) if max_runtime else None
    if timer:
        timer.daemon = True
        timer.start()
    where = f"deploying to {host} within snapshot.autoDeploy" if host else "push only (no --host)"
    log(f"watching the cluster; {redact(remote)} {branch} (review: {review_branch}); {where}"
        + (f"; health on {server.url}" if server else ""))
    try:
        Watcher(stream, git, options, connect, log, metrics).run(stop)
    finally:
        if timer:
            timer.cancel()
        restore()
        if server:
            server.stop()
        if temporary:
            shutil.rmtree(checkout, ignore_errors=True)
    log("stopped")
    return 0


def _signals(stop: threading.Event):
    """SIGTERM/SIGINT end the loop cleanly (the pod's terminationGracePeriod); only in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in saved:
        signal.signal(sig, lambda _s, _f: stop.set())

    def restore() -> None:
        for sig, handler in saved.items():
            signal.signal(sig, handler)

    return restore
