"""`as3-gitops snapshot capture|normalize`: write the cluster endpoint snapshot into the repository."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

import typer

from renderer.cli.app import app
from renderer.errors import UsageError
from renderer.report import resolve_format, write_findings

snapshot_app = typer.Typer(
    help="Capture Nodes, Endpoints and EndpointSlices into the snapshot files (paths.snapshot).",
    no_args_is_help=True,
)
app.add_typer(snapshot_app, name="snapshot")

_NAMESPACE = typer.Option(None, "--namespace", "-n", metavar="NS",
                          help="Only Endpoints/EndpointSlices of this namespace (repeatable). Nodes are always taken.")
_ALL_NAMESPACES = typer.Option(False, "--all-namespaces", "-A", help="Every namespace (the default).")
_ALL_SERVICES = typer.Option(False, "--all-services",
                             help="Keep the endpoints of every Service, not only those the manifests reference.")
_COMMIT = typer.Option(False, "--commit", help="Commit the snapshot folder if it changed.")
_BRANCH = typer.Option(None, "--branch", metavar="NAME",
                       help="With --commit: create this branch for the commit (only when something changed).")


def _options(namespace: list[str] | None, all_namespaces: bool, all_services: bool, commit: bool,
             branch: str | None):
    from renderer.snapshot.plan import SnapshotOptions

    if namespace and all_namespaces:
        raise UsageError("--namespace and --all-namespaces exclude each other")
    if branch and not commit:
        raise UsageError("--branch needs --commit")
    return SnapshotOptions(all_services=all_services, namespaces=tuple(namespace) if namespace else None)


def _report(outcome, out: TextIO, err: TextIO) -> None:
    plan = outcome.plan
    write_findings(plan.findings, err, resolve_format("auto"))
    counts = ", ".join(f"{plan.count(kind)} {noun}" for kind, noun in
                       (("Node", "nodes"), ("Endpoints", "endpoints"), ("EndpointSlice", "endpointslices")))
    scope = "all Services" if plan.services is None else f"{len(plan.services)} referenced Service(s)"
    out.write(f"snapshot: {counts} ({scope}) -> {plan.root}/ ({plan.layout})\n")
    written = outcome.written
    if written is not None:
        for rel in written.written:
            out.write(f"  wrote {plan.root}/{rel}\n")
        for rel in written.removed:
            out.write(f"  removed {plan.root}/{rel}\n")
        if not written.changed:
            out.write("  files unchanged\n")
    if outcome.commit is not None:
        if outcome.commit.sha is None:
            out.write("nothing changed: no commit\n")
        else:
            subject = outcome.commit.message.splitlines()[0]
            out.write(f"committed {outcome.commit.sha[:12]} on {outcome.commit.branch}: {subject}\n")


@snapshot_app.command("capture")
def capture(
    repo: Path = typer.Argument(Path("."), help="Repository folder (with as3-gitops.yaml)."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", metavar="PATH",
                                          help="Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)."),
    context: str | None = typer.Option(None, "--context", metavar="NAME", help="Kubeconfig context to use."),
    in_cluster: bool = typer.Option(False, "--in-cluster", help="Use the pod's service account (in a CronJob)."),
    namespace: list[str] | None = _NAMESPACE,
    all_namespaces: bool = _ALL_NAMESPACES,
    all_services: bool = _ALL_SERVICES,
    commit: bool = _COMMIT,
    branch: str | None = _BRANCH,
) -> int:
    """Read the cluster through the Kubernetes API and write the snapshot files."""
    from renderer.snapshot.capture import ClusterAccess, fetch
    from renderer.snapshot.run import take_snapshot

    options = _options(namespace, all_namespaces, all_services, commit, branch)
    if in_cluster and (kubeconfig or context):
        raise UsageError("--in-cluster excludes --kubeconfig and --context")
    if not in_cluster and kubeconfig is None:
        kubeconfig = os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    access = ClusterAccess(kubeconfig=kubeconfig, context=context, in_cluster=in_cluster)
    outcome = take_snapshot(repo, lambda opts: fetch(access, opts.namespaces), options, commit=commit,
                            branch=branch)
    _report(outcome, sys.stdout, sys.stderr)
    return 0


@snapshot_app.command("normalize")
def normalize(
    file: str = typer.Argument("-", metavar="[FILE|-]",
                               help="`kubectl get nodes,endpoints,endpointslices -A -o yaml` output; - for stdin."),
    repo: Path = typer.Option(Path("."), "--repo", "-C", help="Repository folder (with as3-gitops.yaml)."),
    namespace: list[str] | None = _NAMESPACE,
    all_namespaces: bool = _ALL_NAMESPACES,
    all_services: bool = _ALL_SERVICES,
    stdout: bool = typer.Option(False, "--stdout", help="Print the normalized objects instead of writing files."),
    commit: bool = _COMMIT,
    branch: str | None = _BRANCH,
) -> int:
    """Normalize kubectl output (air-gapped or kubectl-only capture) and write the snapshot files."""
    from renderer.snapshot.run import parse_kubectl, take_snapshot
    from renderer.snapshot.write import dump_objects

    options = _options(namespace, all_namespaces, all_services, commit, branch)
    if stdout and commit:
        raise UsageError("--stdout and --commit exclude each other")
    if file == "-":
        if sys.stdin.isatty():
            raise UsageError("normalize reads kubectl output from stdin, which is a terminal",
                             hint="kubectl get nodes,endpoints,endpointslices -A -o yaml | as3-gitops snapshot "
                             "normalize -   (or pass the file name)")
        label, data = "<stdin>", sys.stdin.buffer.read()
    else:
        try:
            label, data = file, Path(file).read_bytes()
        except OSError as err:
            raise UsageError(f"{file}: cannot read: {err.strerror}") from err

    def load(_opts):
        return parse_kubectl(label, data), f"kubectl output ({label})"

    outcome = take_snapshot(repo, load, options, write=not stdout, commit=commit, branch=branch)
    if stdout:
        write_findings(outcome.plan.findings, sys.stderr, resolve_format("auto"))
        sys.stdout.write(dump_objects(outcome.plan.objects).decode("utf-8"))
        return 0
    _report(outcome, sys.stdout, sys.stderr)
    return 0
