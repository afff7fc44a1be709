"""Snapshot objects -> files: one per kind or one per namespace, written atomically.

The files are the reviewable artifact, so their bytes depend only on the objects: multi-document
YAML, sorted keys, block style, no timestamps. Files this module manages but no longer needs
(a namespace that lost its last Endpoints, the other layout's files after a layout switch) are
removed, because rendering reads every file under paths.snapshot and stale copies would clash.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from renderer.errors import UsageError
from renderer.fileio import write_all_atomic
from renderer.snapshot.normalize import BLOCK_AFFINITY, CLUSTER_SCOPED, ENDPOINTS, NODE, SLICE, object_key

PER_KIND = "per-kind"
PER_NAMESPACE = "per-namespace"
LAYOUTS = (PER_KIND, PER_NAMESPACE)
KIND_FILES = {NODE: "nodes.yaml", ENDPOINTS: "endpoints.yaml", SLICE: "endpointslices.yaml",
              BLOCK_AFFINITY: "blockaffinities.yaml"}
NAMESPACE_DIR = "namespaces"  # per-namespace files live here; nodes.yaml stays at the top
HEADER = b"# Cluster endpoint snapshot written by `as3-gitops snapshot`; refresh it instead of editing.\n"


@dataclass(frozen=True)
class WriteResult:
    written: tuple[str, ...]  # paths (relative to the snapshot folder) whose bytes changed
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


class _Dumper(yaml.SafeDumper):
    """Pure-Python SafeDumper (same bytes everywhere); lists indented under their key like kubectl."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def dump_objects(objects: Iterable[dict[str, Any]]) -> bytes:
    """Multi-document YAML, keys sorted, one `---` per object, with the header line first."""
    text = yaml.dump_all(list(objects), Dumper=_Dumper, sort_keys=True, default_flow_style=False,
                         explicit_start=True, allow_unicode=True, width=1 << 16)
    return HEADER + text.encode("utf-8")


def layout_files(objects: Iterable[dict[str, Any]], layout: str) -> dict[str, bytes]:
    """Relative path -> file bytes for every non-empty file of the layout."""
    if layout not in LAYOUTS:
        raise UsageError(f"unknown snapshot layout {layout!r}", hint=f"use one of {', '.join(LAYOUTS)}")
    groups: dict[str, list[dict[str, Any]]] = {}
    for obj in sorted(objects, key=object_key):
        if layout == PER_KIND or obj["kind"] in CLUSTER_SCOPED:
            path = KIND_FILES[obj["kind"]]
        else:
            path = f"{NAMESPACE_DIR}/{obj['metadata']['namespace']}.yaml"
        groups.setdefault(path, []).append(obj)
    return {path: dump_objects(objs) for path, objs in sorted(groups.items())}


def managed_files(root: Path) -> list[str]:
    """Files under `root` this module owns (either layout); other files are left alone."""
    found = [name for name in KIND_FILES.values() if (root / name).is_file()]
    ns_dir = root / NAMESPACE_DIR
    if ns_dir.is_dir():
        found += [f"{NAMESPACE_DIR}/{p.name}" for p in ns_dir.glob("*.yaml") if p.is_file()]
    return sorted(found)


def write_files(root: Path, files: dict[str, bytes]) -> WriteResult:
    """Make the managed files under `root` exactly `files`; untouched files keep their mtime.

    Every new file is written to a temp file first; only when all of them exist are they moved
    into place (os.replace), so a failure (disk full, a path in the way) changes nothing.
    """
    changed = {rel: data for rel, data in sorted(files.items())
               if not ((root / rel).is_file() and (root / rel).read_bytes() == data)}
    write_all_atomic({root / rel: data for rel, data in changed.items()})
    removed = [rel for rel in managed_files(root) if rel not in files]
    for rel in removed:
        (root / rel).unlink()
    ns_dir = root / NAMESPACE_DIR
    if ns_dir.is_dir() and not any(ns_dir.iterdir()):
        ns_dir.rmdir()
    unchanged = tuple(rel for rel in sorted(files) if rel not in changed)
    return WriteResult(tuple(changed), tuple(removed), unchanged)
