"""Real CIS users' files (../shared/reference/wild-manifests/): none produces nothing without a finding,
and every AS3 ConfigMap renders with its discovery pools filled.

Each file is rendered in a repository of its own, with the companions from the same source folder and
whatever the source repository did not have (Services, Endpoints, Secrets, a flannel Node) synthesized
by tests/render/wild_repo.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from wild_repo import WILD, companions, documents, pool_is_discovery, provenance

from renderer.render import render
from renderer.report import format_text

ROWS = provenance() if (WILD / "PROVENANCE.md").is_file() else {}
FILES = sorted(ROWS)
pytestmark = pytest.mark.skipif(not ROWS, reason=f"wild manifests not found at {WILD}")


def _render(tmp_path: Path, name: str):
    repo = tmp_path / "repo"
    from wild_repo import build_repo

    role = ROWS[name][0]
    build_repo(repo, WILD / name, companions(ROWS, name) if role == "f5" else [])
    return render(repo)


def test_the_wild_manifests_are_present() -> None:
    assert len([n for n, (role, _) in ROWS.items() if role == "f5"]) >= 60


@pytest.mark.parametrize("name", FILES)
def test_no_file_produces_nothing_without_a_finding(name: str, tmp_path: Path) -> None:
    result = _render(tmp_path, name)
    path = f"manifests/{Path(name).name}"
    contributed = any(o.location.path == path for origins in result.sources.values() for o in origins)
    own = [f for f in result.findings if f.location and f.location.path == path and f.severity.value != "info"]
    from renderer.kube.load import load_cluster
    from renderer.source import parse_file

    _src, docs, _problems = parse_file(path, (WILD / name).read_bytes())
    marked = load_cluster(docs)[0].marked
    if marked and not contributed:
        assert own, f"{name}: {len(marked)} F5 object(s), nothing rendered and no warning: " + "; ".join(
            format_text(f) for f in result.findings)
    # every marked object of the file: rendered, or a finding of its own in this file
    for meta, _marker in marked:
        rendered = any((o.kind, o.namespace, o.name) == (meta.kind, meta.namespace, meta.name)
                       for origins in result.sources.values() for o in origins)
        assert rendered or own, f"{name}: {meta.kind} {meta.ident} is silent"


AS3_FILES = [n for n in FILES if ROWS[n][0] == "f5" and any(
    d.get("kind") == "ConfigMap" and str(((d.get("metadata") or {}).get("labels") or {}).get("as3")) == "true"
    for d in documents(WILD / n))]


def test_the_as3_configmaps_are_found() -> None:
    assert len(AS3_FILES) >= 10


@pytest.mark.parametrize("name", AS3_FILES)
def test_every_as3_configmap_renders_with_its_discovery_pools_filled(name: str, tmp_path: Path,
                                                                    as3_schema_path: Path) -> None:
    result = _render(tmp_path, name)
    assert result.ok, [format_text(f) for f in result.findings if f.is_error]
    problems = list(jsonschema.Draft7Validator(json.loads(as3_schema_path.read_text())).iter_errors(result.as3))
    assert problems == [], [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in problems[:3]]
    adc = result.as3["declaration"]
    filled = 0
    for doc in documents(WILD / name):
        if doc.get("kind") != "ConfigMap" or "template" not in (doc.get("data") or {}):
            continue
        template = json.loads(doc["data"]["template"])
        declared = template.get("declaration", template)
        for tname, tenant in declared.items():
            if not (isinstance(tenant, dict) and tenant.get("class") == "Tenant"):
                continue
            for aname, app in tenant.items():
                for pname, pool in (app.items() if isinstance(app, dict) else ()):
                    if not pool_is_discovery(pool):
                        continue
                    members = adc[tname][aname][pname]["members"]
                    assert members and all(m["serverAddresses"] and m["serverAddresses"][0].startswith("10.244.1.")
                                           for m in members), (tname, aname, pname, members)
                    filled += 1
    assert filled >= 1
