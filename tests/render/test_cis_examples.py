"""Every official CIS example manifest renders (with the Services it references supplied), and what it
renders is valid for the official AS3 schema.

The customResource examples (CIS 2.20): every file either renders to AS3 that the official schema and
the AS3-exact validator accept, or is refused with a specific, documented finding; and no CIS custom
resource in them produces nothing without a finding saying why. The Services, Endpoints and Secrets the
examples assume are synthesized (tests/render/crd_support.py)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from crd_support import supply

from renderer.cli.ipam import allocate_repository
from renderer.kube.naming import is_dns1123_label, name_problem
from renderer.render import render
from renderer.report import format_text
from renderer.validate import As3Validator

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "reference" / "cis-examples"
FILES = sorted(p for p in EXAMPLES.rglob("*") if p.suffix in (".yaml", ".yml", ".json")) if EXAMPLES.is_dir() else []

CONFIG = """bigip:
  partition: kubernetes
  defaultIngressIP: 10.0.0.100
  routeVirtualAddress: 10.0.0.200
vxlan:
  localAddress: 192.168.1.254
  selfIP: 10.244.30.15/16
"""


def _documents(path: Path) -> list[dict]:
    text = path.read_text()
    # JSON files are read as JSON, as the renderer reads them (some upstream ones indent with tabs, which YAML refuses)
    loaded = [json.loads(text)] if path.suffix == ".json" else yaml.safe_load_all(text)
    docs = [d for d in loaded if isinstance(d, dict)]
    out = []
    for d in docs:
        out.extend(d["items"] if d.get("kind", "").endswith("List") and isinstance(d.get("items"), list) else [d])
    return out


def _referenced_services(docs: list[dict]) -> set[tuple[str, str, object]]:
    refs = set()
    for d in docs:
        ns = d.get("metadata", {}).get("namespace", "default")
        if d.get("kind") == "Ingress":
            spec = d.get("spec", {})
            backends = [spec.get("defaultBackend") or spec.get("backend")]
            backends += [p.get("backend") for r in spec.get("rules", []) for p in (r.get("http") or {}).get("paths", [])]
            for b in filter(None, backends):
                if "service" in b:
                    port = b["service"].get("port", {})
                    refs.add((ns, b["service"]["name"], port.get("number", port.get("name"))))
                else:
                    refs.add((ns, b["serviceName"], b["servicePort"]))
        if d.get("kind") == "Route" and isinstance(d.get("spec"), dict):
            target = (d["spec"].get("port") or {}).get("targetPort", 80)
            for to in [d["spec"].get("to") or {}, *(d["spec"].get("alternateBackends") or [])]:
                if to.get("name"):
                    refs.add((ns, to["name"], target))
        if d.get("kind") == "ConfigMap" and str(d.get("data", {}).get("schema", "")).startswith("f5schemadb://"):
            backend = json.loads(d["data"]["data"])["virtualServer"]["backend"]
            refs.add((ns, backend["serviceName"], backend["servicePort"]))
    return refs


def _parses(path: Path) -> bool:
    try:
        _documents(path)
    except (yaml.YAMLError, ValueError):
        return False
    return True


def _is_manifest(path: Path) -> bool:
    docs = _documents(path)
    return bool(docs) and all("kind" in d and "apiVersion" in d for d in docs)


BROKEN = [p for p in FILES if not _parses(p)]
# Upstream examples with a real mistake: the finding we expect, at the line the mistake is on.
UPSTREAM_MISTAKES = {
    # a trailing comma after the last pool of the AS3 template: CIS skips the ConfigMap (invalid JSON)
    "hubmode-cmap.yaml": [("ACM001", "manifests/hubmode-cmap.yaml", 74)],
    # `termination: reencrypt` is indented under spec, not spec.tls: the Route has TLS without a termination
    "route-path-based-ab-deploy.yaml": [("K8S002", "manifests/route-path-based-ab-deploy.yaml", 16)],
    "route-with-ab-waf.yaml": [("K8S002", "manifests/route-with-ab-waf.yaml", 19)],
}
CRD_KINDS = {"VirtualServer", "TransportServer", "IngressLink", "ExternalDNS", "TLSProfile", "Policy"}


# the customResource folder is walked by the custom-resource tests below (they need synthesized
# Services/Endpoints/Secrets and IPAM ranges, and may rightly end in a documented finding)
MANIFESTS = [p for p in FILES if p not in BROKEN and _is_manifest(p) and "customResource" not in p.parts]


@pytest.mark.parametrize("example", BROKEN or [pytest.param(None, marks=pytest.mark.skip(
    reason=f"reference data not found: {EXAMPLES}"), id="reference-missing")],
                         ids=[p.name for p in BROKEN] or None)
def test_broken_upstream_example_is_a_clean_yaml_error(example: Path, tmp_path: Path) -> None:
    """Two v1.14 docs examples are not valid YAML (indented top level); we say where, not crash."""
    repo = tmp_path / "repo"
    (repo / "manifests").mkdir(parents=True)
    (repo / "as3-gitops.yaml").write_text(CONFIG)
    (repo / "manifests" / example.name).write_text(example.read_text())
    result = render(repo)
    assert [(f.code, f.location.path, f.location.line) for f in result.findings if f.is_error] == [
        ("SRC001", f"manifests/{example.name}", 2)]


@pytest.mark.skipif(not FILES, reason=f"reference data not found: CIS examples not found at {EXAMPLES}")
def test_the_reference_examples_are_present() -> None:
    assert len(MANIFESTS) >= 40


@pytest.mark.parametrize("example", MANIFESTS or [pytest.param(None, marks=pytest.mark.skip(
    reason=f"reference data not found: {EXAMPLES}"), id="reference-missing")],
                         ids=[str(p.relative_to(EXAMPLES)) for p in MANIFESTS] or None)
def test_cis_example_renders_without_errors(example: Path, tmp_path: Path, as3_schema_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "manifests").mkdir(parents=True)
    (repo / "as3-gitops.yaml").write_text(CONFIG)
    (repo / "manifests" / example.name).write_text(example.read_text())
    docs = _documents(example)
    defined = {(d.get("metadata", {}).get("namespace", "default"), d["metadata"]["name"])
               for d in docs if d.get("kind") == "Service"}
    extra = []
    for ns, name, port in sorted(_referenced_services(docs), key=str):
        if (ns, name) in defined:
            continue
        port_entry = {"port": port, "name": "http"} if isinstance(port, int) else {"port": 80, "name": port}
        extra.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
                      "spec": {"ports": [port_entry]}})
    extra.append({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                  "metadata": {"name": "f5", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
                  "spec": {"controller": "f5.com/cntr-ingress-svcs"}})
    (repo / "manifests" / "zz-supplied.yaml").write_text(yaml.safe_dump_all(extra))
    secret_names = {t.get("secretName") for d in docs if d.get("kind") == "Ingress" for t in d["spec"].get("tls", [])}
    secrets = [{"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                "metadata": {"name": s, "namespace": "default"},
                "stringData": {"tls.crt": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
                               "tls.key": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"}}
               for s in sorted(filter(None, secret_names))
               if not any(d.get("kind") == "Secret" and d["metadata"]["name"] == s for d in docs)]
    if secrets:
        (repo / "manifests" / "zz-secrets.yaml").write_text(yaml.safe_dump_all(secrets))
    result = render(repo)
    if example.name in UPSTREAM_MISTAKES:
        found = [(f.code, f.location.path, f.location.line) for f in result.findings if f.is_error and f.location]
        assert found == UPSTREAM_MISTAKES[example.name]
        return
    errors = [format_text(f) for f in result.findings if f.is_error]
    # Some CIS examples reference Services named like `myService1`: the API server refuses such a
    # name (Services are DNS labels), so the Service we supply is refused (NAME010) and the
    # backend is then missing (ING020, or the Route's own code); nothing else may fail.
    refused = sorted({name for _ns, name, _port in _referenced_services(docs) if not is_dns1123_label(name)} |
                     {d["metadata"]["name"] for d in docs if name_problem(d.get("kind", ""), d["metadata"]["name"])})
    if refused:
        assert errors and all(
            ("[NAME010]" in e) or any(n in e for n in refused) for e in errors), errors
        assert any("[NAME010]" in e for e in errors)
        return
    assert errors == []
    schema = json.loads(as3_schema_path.read_text())
    problems = list(jsonschema.Draft7Validator(schema).iter_errors(result.as3))
    assert problems == [], [e.message[:300] for e in problems[:3]]


# --- customResource (CIS 2.20) ---

ROOT = Path(__file__).resolve().parents[3] / "shared" / "reference" / "cis-examples" / "v2.20" / "docs" / \
    "config_examples" / "customResource"
README = Path(__file__).resolve().parents[2] / "README.md"
CRD_CONFIG = """bigip:
  partition: kubernetes
vxlan:
  localAddress: 192.168.1.254
  selfIP: 10.244.30.15/16
ipam:
  Test: 10.10.10.0/24
  Dev: 10.20.0.0/24
  Prod: 10.30.0.0/24
"""


def _crd_docs(path: Path) -> list[dict] | None:
    try:
        return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
    except yaml.YAMLError:
        return None


CR_FILES = sorted(p for p in ROOT.rglob("*") if p.is_file()) if ROOT.is_dir() else []
CRD_FILES = [p for p in CR_FILES if (docs := _crd_docs(p)) and all("kind" in d and "apiVersion" in d for d in docs)]


@functools.cache
def _validator(path: str) -> As3Validator:
    return As3Validator.from_path(path)


@functools.cache
def _documented_codes() -> frozenset[str]:
    return frozenset(re.findall(r"\| `?([A-Z][A-Z0-9]{1,3}\d{3})`? \|", README.read_text()))


def _render(example: Path, tmp: Path):
    repo = tmp / "repo"
    (repo / "manifests").mkdir(parents=True)
    (repo / "as3-gitops.yaml").write_text(CRD_CONFIG)
    (repo / "manifests" / "example.yaml").write_text(example.read_text())
    docs = _crd_docs(example) or []
    extra = supply(docs)
    if extra:
        (repo / "manifests" / "zz-supplied.yaml").write_text(yaml.safe_dump_all(extra))
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
        lb = kind == "Service" and (d.get("spec") or {}).get("type") == "LoadBalancer" and any(
            k.startswith("cis.f5.com/") for k in (meta.get("annotations") or {}))
        if (kind not in CRD_KINDS and not lb) or (kind in ("TLSProfile", "Policy") and meta.get("name") not in referenced):
            continue
        ident = f"{meta.get('namespace') or 'default'}/{meta.get('name')}"
        if (kind, meta.get("namespace") or "default", meta.get("name")) not in produced and \
                f"{kind} {ident}" not in mentioned:
            out.append(f"{kind} {ident}")
    return out


@pytest.mark.skipif(not CR_FILES, reason=f"CIS 2.20 customResource examples not found at {ROOT}")
def test_the_custom_resource_examples_are_present() -> None:
    assert len(CRD_FILES) >= 170


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


@pytest.mark.skipif(not CR_FILES, reason=f"CIS 2.20 customResource examples not found at {ROOT}")
def test_no_custom_resource_example_produces_nothing_without_a_finding(tmp_path: Path) -> None:
    silent = []
    for i, example in enumerate(CRD_FILES):
        docs, result = _render(example, tmp_path / str(i))
        silent += [f"{example.relative_to(ROOT)}: {what}" for what in _silent(docs, result)]
    assert silent == []
