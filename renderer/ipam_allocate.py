"""The library side of `as3-gitops ipam allocate`: read the tree as render does, collect the IPAM
requests, keep the committed allocations and add the new ones (renderer.mapping.ipam)."""

from __future__ import annotations

from pathlib import Path

from renderer.config import load_config
from renderer.errors import Finding
from renderer.generate import load_manifests
from renderer.kube.load import Cluster, add_cluster_objects
from renderer.mapping.ipam import allocate, dump_allocations, load_allocations, requests
from renderer.source import open_tree


def allocate_tree(repo: str | Path, ref: str | None = None) -> tuple[bytes | None, list[Finding]]:
    """The new ipam-allocations.yaml text (None when the configuration, the committed allocations or
    the allocation itself has errors), and the findings."""
    tree = open_tree(repo, ref)
    config, findings = load_config(tree)
    if any(f.is_error for f in findings):
        return None, findings
    loaded = load_manifests(tree, config)
    if loaded.generate_failed:  # requests from a missing stream would look withdrawn
        return None, findings + loaded.findings
    manifests = loaded.documents
    cluster = Cluster()
    # manifest problems are render's to report; a resource it cannot read asks for no address
    add_cluster_objects(cluster, manifests, [])
    existing, problems = load_allocations(tree)
    findings += problems
    if any(f.is_error for f in findings):
        return None, findings
    allocs, problems = allocate(config, requests(cluster), existing)
    findings += problems
    if any(f.is_error for f in findings):
        return None, findings
    return dump_allocations(allocs), findings
