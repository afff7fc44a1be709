"""One capture, from listed objects to the files to write: validate, normalize, filter, lay out.

`capture` (kubernetes client) and `normalize` (kubectl output) differ only in where the raw
documents come from; everything after that is here, so both give the same bytes for the same
cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from renderer.config import Config, load_config
from renderer.errors import Finding, InvalidInput, Severity, SourceLocation, UsageError
from renderer.snapshot.normalize import KINDS, NODE, normalize, raw_objects, select
from renderer.snapshot.write import layout_files
from renderer.source import Document, WorkTree


@dataclass(frozen=True)
class SnapshotOptions:
    all_services: bool = False
    namespaces: tuple[str, ...] | None = None  # None: every namespace


@dataclass
class SnapshotPlan:
    """What a capture would write: objects, file bytes, the folder, and what was noticed on the way."""

    root: str  # paths.snapshot[0], relative to the repository
    layout: str
    objects: list[dict[str, Any]]
    files: dict[str, bytes]
    findings: list[Finding] = field(default_factory=list)
    services: set[tuple[str, str]] | None = None  # the Services kept (None: all)

    def count(self, kind: str) -> int:
        return sum(1 for obj in self.objects if obj["kind"] == kind)


def repo_config(repo: Path) -> Config:
    """as3-gitops.yaml of the working tree; errors stop the capture (exit 2)."""
    config, findings = load_config(WorkTree(repo))
    if any(f.is_error for f in findings):
        raise InvalidInput(findings)
    if config.clusters:
        raise UsageError("as3-gitops.yaml lists several clusters (clusters:): snapshot capture/normalize cannot tell "
                         "which cluster's folder to write", location=config.location,
                         hint="capture each cluster with kubectl get nodes,endpoints,endpointslices -A -o yaml "
                         "into its own folder and commit it (a --cluster option is not there yet)")
    if not config.snapshot:
        raise UsageError("paths.snapshot is empty: there is no folder to write the snapshot to",
                         location=config.location, hint="set paths.snapshot: [snapshot] in as3-gitops.yaml")
    return config


def referenced_services(repo: Path, config: Config) -> set[tuple[str, str]]:
    """(namespace, name) of every Service an F5 Ingress or ConfigMap in the manifests (files and
    `generate:` output, from the working tree) uses.

    Broken manifests stop the capture: a partial reference set would silently drop endpoints.
    """
    from renderer.generate import load_manifests
    from renderer.kube.load import load_cluster
    from renderer.mapping import referenced_services as build_referenced

    loaded = load_manifests(WorkTree(repo), config)  # generate: runs too: its Services count
    docs, findings = loaded.documents, loaded.findings
    cluster, kube_findings = load_cluster(docs)
    findings += kube_findings
    if any(f.is_error for f in findings):
        raise InvalidInput(findings, side="manifests (use --all-services to capture without reading them)")
    return set(build_referenced(cluster, config))


def validate(documents: list[Document]) -> list[Finding]:
    """The same checks rendering will apply to the snapshot, so a bad capture fails now, not later."""
    from renderer.kube.load import load_cluster

    _cluster, findings = load_cluster(documents, snapshot=True)
    return findings


def plan_snapshot(documents: list[Document], config: Config, services: set[tuple[str, str]] | None,
                  options: SnapshotOptions) -> SnapshotPlan:
    """Normalize and filter the listed objects; raise InvalidInput on errors (nothing is written)."""
    findings = validate(documents)
    if any(f.is_error for f in findings):
        raise InvalidInput(findings)
    normalized = []
    ignored: dict[str, int] = {}
    for raw in raw_objects(documents):
        obj = normalize(raw.data)
        if obj is None:
            kind = str(raw.data.get("kind", "?"))
            ignored[kind] = ignored.get(kind, 0) + 1
            continue
        normalized.append(obj)
    if ignored:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(ignored.items()))
        where = documents[0].location if documents else None
        findings.append(Finding("SNAP011", f"ignored objects of kinds the snapshot does not hold: {kinds}",
                                where, Severity.INFO, hint=f"the snapshot holds {', '.join(KINDS)}"))
    if not any(obj["kind"] == NODE for obj in normalized):
        where = documents[0].location if documents else SourceLocation("<input>")
        raise InvalidInput([*findings, Finding(
            "SNAP010", "no Nodes in the input: refusing to write an empty snapshot", where,
            hint="a cluster always has Nodes; check that kubectl/the API call succeeded")])
    namespaces = set(options.namespaces) if options.namespaces is not None else None
    objects = select(normalized, services=services, namespaces=namespaces)
    return SnapshotPlan(root=config.snapshot[0], layout=config.snapshot_layout, objects=objects,
                        files=layout_files(objects, config.snapshot_layout), findings=findings,
                        services=services)
