"""Every file of F5's customResource examples (CIS 2.20) either renders to AS3 that the official schema
and the AS3-exact validator accept, or is refused with a specific, documented finding; and no CIS custom
resource in them produces nothing without a finding saying why. The Services, Endpoints and Secrets the
examples assume are synthesized (tests/render/crd_support.py)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import yaml
from crd_support import supply

from renderer.render import render
from renderer.report import format_text
from renderer.validate import As3Validator

ROOT = Path(__file__).resolve().parents[3] / "shared" / "reference" / "cis-examples" / "v2.20" / "docs" / \
    "config_examples" / "customResource"
README = Path(__file__).resolve().parents[2] / "README.md"
CRD_KINDS = {"VirtualServer", "TransportServer", "IngressLink", "ExternalDNS", "TLSProfile", "Policy"}
CONFIG = """bigip:
  partition: kubernetes
vxlan:
  localAddress: 192.168.1.254
  selfIP: 10.244.30.15/16
ipam:
  Test: 10.10.10.0/24
  Dev: 10.20.0.0/24
  Prod: 10.30.0.0/24
"""


def _docs(path: Path) -> list[dict] | None:
    try:
        return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
    except yaml.YAMLError:
        return None


FILES = sorted(p for p in ROOT.rglob("*") if p.is_file()) if ROOT.is_dir() else []
CRD_FILES = [p for p in FILES if (docs := _docs(p)) and any(d.get("kind") in CRD_KINDS for d in docs)]


@functools.cache
def _validator(path: str) -> As3Validator:
    return As3Validator.from_path(path)


@functools.cache
def _documented_codes() -> frozenset[str]:
    return frozenset(re.findall(r"\| `?([A-Z][A-Z0-9]{1,3}\d{3})`? \|", README.read_text()))


def _render(example: Path, tmp: Path):
    repo = tmp / "repo"
    (repo / "manifests").mkdir(parents=True)
    (repo / "as3-gitops.yaml").write_text(CONFIG)
    (repo / "manifests" / "example.yaml").write_text(example.read_text())
    docs = _docs(example) or []
    extra = supply(docs)
    if extra:
        (repo / "manifests" / "zz-supplied.yaml").write_text(yaml.safe_dump_all(extra))
    from renderer.cli.ipam import allocate_repository

    allocate_repository(repo)
    return docs, render(repo)


def _silent(docs: list[dict], result) -> list[str]:
    """CIS custom resources (TLSProfile/Policy only where referenced) that no object came from and no
    finding mentions."""
    produced = {(o.kind, o.namespace, o.name) for origins in result.sources.values() for o in origins}
    mentioned = " ".join(f.message for f in result.findings)
    referenced = {d.get("spec", {}).get(k) for d in docs for k in ("tlsProfileName", "policyName")
                  if isinstance(d.get("spec"), dict)}
    out = []
    for d in docs:
        kind, meta = d.get("kind"), d.get("metadata") or {}
        if kind not in CRD_KINDS or (kind in ("TLSProfile", "Policy") and meta.get("name") not in referenced):
            continue
        ident = f"{meta.get('namespace') or 'default'}/{meta.get('name')}"
        if (kind, meta.get("namespace") or "default", meta.get("name")) not in produced and \
                f"{kind} {ident}" not in mentioned:
            out.append(f"{kind} {ident}")
    return out


@pytest.mark.skipif(not FILES, reason=f"CIS 2.20 customResource examples not found at {ROOT}")
def test_the_custom_resource_examples_are_present() -> None:
    assert len(CRD_FILES) >= 120


@pytest.mark.parametrize("example", CRD_FILES, ids=[str(p.relative_to(ROOT)) for p in CRD_FILES])
def test_custom_resource_example_renders_or_gets_a_documented_finding(example: Path, tmp_path: Path,
                                                                      as3_schema_path: Path) -> None:
    docs, result = _render(example, tmp_path)
    errors = [f for f in result.findings if f.is_error]
    if errors:
        undocumented = [format_text(f) for f in errors if f.code not in _documented_codes()]
        assert undocumented == []
        assert all(f.location is not None and f.location.line for f in errors)
        return
    assert _validator(str(as3_schema_path)).validate_adc(result.adc) == []
    assert _silent(docs, result) == []


@pytest.mark.skipif(not FILES, reason=f"CIS 2.20 customResource examples not found at {ROOT}")
def test_no_custom_resource_example_produces_nothing_without_a_finding(tmp_path: Path) -> None:
    silent = []
    for i, example in enumerate(CRD_FILES):
        docs, result = _render(example, tmp_path / str(i))
        silent += [f"{example.relative_to(ROOT)}: {what}" for what in _silent(docs, result)]
    assert silent == []
