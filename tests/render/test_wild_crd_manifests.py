"""The CIS custom-resource files users wrote (shared/reference/wild-manifests, see its PROVENANCE.md)
render: each author's folder is one repository (their TLSProfile / Policy files next to the
VirtualServers that name them), with the Services, Endpoints and Secrets they assume synthesized."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from crd_support import supply

from renderer.cli.ipam import allocate_repository
from renderer.render import render
from renderer.report import format_text
from renderer.validate import As3Validator

WILD = Path(__file__).resolve().parents[3] / "shared" / "reference" / "wild-manifests"
CONFIG = """bigip:
  partition: kubernetes
vxlan:
  localAddress: 192.168.1.254
  selfIP: 10.244.30.15/16
ipam:
  Test: 10.10.10.0/24
  Prod: 10.20.0.0/24
  Dev: 10.30.0.0/24
  default: 10.40.0.0/24
  prod: 10.50.0.0/24
  Default: 10.60.0.0/24
"""
# Mistakes in the users' own files, refused as the API server would refuse or drop them; every
# other custom resource of the folder still renders.
USER_ERRORS = {
    "leonseng": [("CRD002", "manifests/externaldns.yaml", 12)],  # pools[].name: not in the ExternalDNS CRD
    "skenderidis": [("CRD001", "manifests/vs-with-policy-xff.yaml", 14)],  # pools: a mapping, not a list
}
REFUSED = {"leonseng": {("ExternalDNS", "exdns")}, "skenderidis": {("VirtualServer", "xff-policy-vs")}}


def _docs(path: Path) -> list[dict]:
    try:
        return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
    except yaml.YAMLError:
        return []


def _is_cis(doc: dict) -> bool:
    api = str(doc.get("apiVersion", ""))
    lb = doc.get("kind") == "Service" and (doc.get("spec") or {}).get("type") == "LoadBalancer" and any(
        k.startswith("cis.f5.com/") for k in ((doc.get("metadata") or {}).get("annotations") or {}))
    return api.startswith("cis.f5.com/") or lb


def _crd_files() -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for path in sorted(WILD.rglob("*.y*ml")) if WILD.is_dir() else []:
        if any(_is_cis(d) for d in _docs(path)):
            out.setdefault(path.parent.name, []).append(path)
    return out


FOLDERS = _crd_files()


@pytest.mark.skipif(not FOLDERS, reason=f"wild manifests not found at {WILD}")
def test_the_wild_crd_files_are_present() -> None:
    assert sum(len(v) for v in FOLDERS.values()) >= 16


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_wild_crd_files_render_with_synthesized_services(folder: str, tmp_path: Path,
                                                         as3_schema_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "manifests").mkdir(parents=True)
    (repo / "as3-gitops.yaml").write_text(CONFIG)
    docs: list[dict] = []
    for path in FOLDERS[folder]:
        (repo / "manifests" / path.name).write_text(path.read_text())
        docs += _docs(path)
    (repo / "manifests" / "zz-supplied.yaml").write_text(yaml.safe_dump_all(supply(docs)))
    allocate_repository(repo)
    result = render(repo)
    errors = [f for f in result.findings if f.is_error]
    assert [(f.code, f.location.path, f.location.line) for f in errors] == USER_ERRORS.get(folder, []), \
        [format_text(f) for f in errors]
    produced = {(o.kind, o.name) for origins in result.sources.values() for o in origins}
    cis = [(d["kind"], d["metadata"]["name"]) for d in docs if _is_cis(d)]
    unused = {(d["kind"], d["metadata"]["name"]) for d in docs if d.get("kind") in ("TLSProfile", "Policy")}
    assert [c for c in cis if c not in produced and c not in REFUSED.get(folder, set()) | unused] == []
    if not errors:
        assert As3Validator.from_path(as3_schema_path).validate_adc(result.adc) == []
