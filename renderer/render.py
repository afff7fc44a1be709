"""render(): repository (working tree or git ref) -> AS3 + net declarations, with every finding.

The one entry point the commands share: validate, diff, plan and deploy all start here. It never
raises for bad input; the findings say what is wrong and where. Stages: source -> kube -> build
(model) -> emit (as3, net).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from renderer import render_memo
from renderer.as3 import Identity, as3_sources
from renderer.config import Config, load_config
from renderer.emit_reuse import emit_as3
from renderer.errors import Finding, Origin, Severity, sorted_findings
from renderer.gcpause import paused_gc
from renderer.generate import load_manifests
from renderer.kube import view_cache
from renderer.kube.load import Cluster, add_cluster_objects
from renderer.mapping import build_model, silent_findings
from renderer.mapping.ipam import load_allocations
from renderer.mapping.silent import ObjectCounts
from renderer.mapping.tenant_facts import StoredTenantError
from renderer.net import net_model_sources, render_net_model
from renderer.source import InputBudget, ParseCache, Tree, load_documents, open_tree
from renderer.templates_check import template_findings


@dataclass
class RenderResult:
    identity: str
    config: Config
    as3: dict[str, Any]
    net: dict[str, Any]
    findings: list[Finding]
    sources: dict[str, tuple[Origin, ...]] = field(default_factory=dict)
    counts: ObjectCounts | None = None  # F5 objects rendered / skipped (None: rendering did not get that far)
    generated: dict[str, bytes] = field(default_factory=dict)  # generate: pseudo-path -> its stream

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)

    @property
    def snapshot_roots(self) -> tuple[str, ...]:
        return self.config.snapshot

    @property
    def adc(self) -> dict[str, Any]:
        return self.as3.get("declaration", {})


def render(repo: str | Path, ref: str | None = None, *, cache: ParseCache | None = None,
           now: float | None = None, memo: bool = True, defer_tenants: bool = False) -> RenderResult:
    """Render the working tree of `repo`, or the commit `ref` of it (read from git objects).

    With a disk cache (`cache.disk`), a render whose every input is unchanged is read back
    (`renderer.render_memo`) and unchanged tenants are not emitted again (`renderer.emit_reuse`);
    `memo=False` uses the parse cache only. `defer_tenants` (for `diff` only): a tenant whose JSON
    comes from the cache is left there, a `renderer.emit_reuse.StoredTenant` in the declaration."""
    with open_tree(repo, ref) as tree:  # a GitTree's git process ends here, also on errors and ^C
        return render_tree(tree, cache=cache, now=now, memo=memo, defer_tenants=defer_tenants)


def render_stdin(repo: str | Path, data: bytes) -> RenderResult:
    """Render with the manifests read from a stream (`kustomize build . | as3-gitops render -`);
    as3-gitops.yaml and the snapshot come from the working tree of `repo`."""
    from renderer.source import StdinTree, WorkTree

    base = WorkTree(repo)
    config, _ = load_config(base)
    return render_tree(StdinTree(base, data, config.manifests))


def render_tree(tree: Tree, *, cache: ParseCache | None = None, now: float | None = None,
                memo: bool = True, defer_tenants: bool = False) -> RenderResult:
    """The pipeline with the cyclic GC paused: it makes almost no cyclic garbage, but with millions of
    parsed objects alive each full collection walks them all (a third of render time at 10k Ingresses)."""
    with paused_gc():
        disk = getattr(cache, "disk", None) if memo else None
        if disk is None or not render_memo.memoizable(tree):
            return _reusing(tree, cache=cache, now=now, reuse=disk, defer=defer_tenants)
        config, _ = load_config(tree)
        if config.generate:  # generate: commands read what they like (and need the real tree): no memo
            return _reusing(tree, cache=cache, now=now, reuse=disk, defer=defer_tenants)
        fields = render_memo.lookup(disk, tree, defer_tenants=defer_tenants)
        if fields is not None:  # the lookup checked the config file's bytes too: `config` is its render's
            return RenderResult(config=config, **fields)
        addressed = render_memo.content_addressed(tree)
        tracing = render_memo.TracingTree(tree, content_addressed=addressed)
        if not addressed:  # a working tree's files are keyed by path: an in-memory hit would read no
            cache = ParseCache(disk, remember=False)  # bytes, and the trace must see every file's bytes
        try:
            result = _render_tree(tracing, cache=cache, now=now, reuse=disk,  # type: ignore[arg-type]
                                  defer=defer_tenants)
        except StoredTenantError:  # not stored: this render's trace holds a failed attempt
            disk.reuse_restarts = getattr(disk, "reuse_restarts", 0) + 1
            return _render_tree(tree, cache=cache, now=now)
        render_memo.store(disk, tracing, result)
        return result


def _reusing(tree: Tree, *, cache: ParseCache | None, now: float | None, reuse: Any, defer: bool) -> RenderResult:
    """`_render_tree` reusing what `reuse` holds; a stored tenant whose model does not load when a
    stage needs it (a damaged entry: renderer.mapping.tenant_facts) makes it render without reuse."""
    try:
        return _render_tree(tree, cache=cache, now=now, reuse=reuse, defer=defer)
    except StoredTenantError:
        if reuse is not None:
            reuse.reuse_restarts = getattr(reuse, "reuse_restarts", 0) + 1
        return _render_tree(tree, cache=cache, now=now)


def _render_tree(tree: Tree, *, cache: ParseCache | None, now: float | None, reuse: Any = None,
                 defer: bool = False) -> RenderResult:
    """`reuse`: the DiskCache unchanged tenants' AS3 JSON comes from (renderer.emit_reuse), or None;
    `defer`: that JSON stays there (`render`'s `defer_tenants`)."""
    config, findings = load_config(tree)
    identity = Identity(tree.identity)
    if any(f.is_error for f in findings):
        return RenderResult(tree.identity, config, {}, {}, sorted_findings(findings))
    findings += template_findings(tree, config)
    if any(f.is_error for f in findings):
        return RenderResult(tree.identity, config, {}, {}, sorted_findings(findings))
    budget = InputBudget(config.limits)
    views = view_cache.for_render(tree, config, cache, reuse)
    if views is not None:
        cache = views  # type: ignore[assignment]  # stands for the parse cache while loading
    loaded = load_manifests(tree, config, cache, budget)
    findings += loaded.findings
    if loaded.generate_failed:  # never a render that silently lacks a generator's objects
        return RenderResult(tree.identity, config, {}, {}, sorted_findings(findings), generated=loaded.streams)
    manifests, loaded.documents = loaded.documents, []  # freed with `manifests` below
    snapshots = []
    for paths in [c.snapshot for c in config.clusters] or [config.snapshot]:
        snapshot, problems = load_documents(tree, paths, cache, budget)
        findings += problems
        snapshots.append(snapshot)
    if not manifests and not any(f.is_error for f in findings):
        findings.append(Finding("SRC003", f"no manifests found under {', '.join(config.manifests)}"
                                + (" nor from generate:" if config.generate else ""),
                                config.location, Severity.WARNING, hint="set paths.manifests in as3-gitops.yaml"))
    cluster = Cluster()
    add_cluster_objects(cluster, manifests, findings, views=views)
    manifest_services = set(cluster.services)
    if config.clusters:
        for spec, snapshot in zip(config.clusters, snapshots, strict=True):
            member = Cluster(services=cluster.services, ingress_classes=cluster.ingress_classes)
            add_cluster_objects(member, snapshot, findings, mark=False, views=views)
            findings += _snapshot_lint(member, manifest_services, config)
            cluster.members_from.append((spec.name, member))
    else:
        add_cluster_objects(cluster, snapshots[0], findings, mark=False, views=views)
        findings += _snapshot_lint(cluster, manifest_services, config)
    findings += _staleness(tree, config, now)
    allocations, problems = load_allocations(tree)
    findings += problems
    model, problems = build_model(cluster, config, allocations, reuse)
    findings += problems
    problems, counts = silent_findings(cluster, config, model, findings)
    findings += problems
    # The model keeps no reference to the documents: let them go before the declaration is built,
    # so the parsed manifests and the rendered JSON are never in memory together.
    del manifests, snapshots, snapshot, cluster, views
    as3 = emit_as3(model, config, identity, tree, reuse, defer)
    net = render_net_model(model, config, identity)
    sources = {**as3_sources(model), **net_model_sources(model)}
    return RenderResult(tree.identity, config, as3, net, sorted_findings(findings), sources, counts, loaded.streams)


def _snapshot_lint(cluster: Cluster, manifest_services: set[tuple[str, str]], config: Config) -> list[Finding]:
    """Snapshot Endpoints for a Service no manifest defines: probably a stale or foreign capture."""
    findings = []
    for key, eps in sorted(cluster.endpoints.items()):
        if key not in manifest_services:
            findings.append(Finding("SNAP002", f"snapshot has Endpoints {eps.meta.ident} but no manifest defines "
                                    "that Service", eps.meta.location, Severity.WARNING,
                                    hint="remove it from the snapshot, or add the Service"))
    for key, slices in sorted(cluster.slices.items()):
        if key not in manifest_services:
            findings.append(Finding("SNAP002", f"snapshot has EndpointSlices for Service {key[0]}/{key[1]} but no "
                                    "manifest defines that Service", slices[0].meta.location,
                                    Severity.WARNING, hint="remove them from the snapshot, or add the Service"))
    return findings


def _staleness(tree: Tree, config: Config, now: float | None) -> list[Finding]:
    if not config.snapshot_max_age:
        return []
    try:
        from renderer.snapshot import staleness_finding
    except ImportError:  # pragma: no cover - the snapshot package ships with the renderer
        return []
    finding = staleness_finding(tree, config, time.time() if now is None else now)
    return [finding] if finding else []
