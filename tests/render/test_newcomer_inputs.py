"""Issue 16 items 8 and 9: `templates:` mistakes are errors, not a silent fallback to the built-in
templates; a JSON manifest with a UTF-8 byte-order mark is read (with a warning)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from render.test_inputs import CONFIG, NODE, SVC, build, ingress

from renderer.render import render
from renderer.templates_check import builtin_names

ROOT = Path(__file__).resolve().parents[2]


def codes(result) -> list[tuple[str, str, str]]:
    return [(f.code, f.severity.value, str(f.location)) for f in result.findings]


def test_a_missing_templates_folder_is_an_error_at_the_key(tmp_path: Path) -> None:
    result = build(tmp_path, {"manifests/a.yaml": ingress("a")}, config=CONFIG + "templates: tempaltes\n")
    assert not result.ok
    assert ("CFG006", "error", "as3-gitops.yaml:4:12") in codes(result)


def test_a_template_file_that_overrides_nothing_is_an_error_with_did_you_mean(tmp_path: Path) -> None:
    result = build(tmp_path, {"manifests/a.yaml": ingress("a"), "tpl/pool.j2": "x"}, config=CONFIG + "templates: tpl\n")
    assert not result.ok
    [finding] = [f for f in result.findings if f.code == "CFG007"]
    assert str(finding.location) == "tpl/pool.j2:1:1"
    assert finding.hint == "did you mean pool.json.j2?"


def test_the_builtin_names_are_the_files_of_templates_as3_and_the_readme_lists_them() -> None:
    on_disk = tuple(sorted(p.name for p in (ROOT / "templates" / "as3").glob("*.j2")))
    assert builtin_names() == on_disk
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Templates", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    assert sorted(set(re.findall(r"`([a-z]+\.json\.j2)`", section))) == sorted(on_disk)


def test_a_json_manifest_with_a_utf8_bom_is_read_with_a_warning(tmp_path: Path) -> None:
    plain = build(tmp_path / "plain", {"manifests/a.json": "{}"})  # the same repository without the file's content
    doc = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
           "metadata": {"name": "a", "namespace": "default", "annotations": {
               "kubernetes.io/ingress.class": "f5", "virtual-server.f5.com/ip": "10.0.0.1"}},
           "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}}
    repo = tmp_path / "bom"
    for rel, text in {"as3-gitops.yaml": CONFIG, "manifests/svc.yaml": SVC, "snapshot/node.yaml": NODE}.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    (repo / "manifests" / "a.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(doc, indent=2).encode())
    result = render(repo)
    assert result.ok, [str(f.message) for f in result.findings]
    assert "ingress_10_0_0_1_80" in result.adc["k8s"]["Shared"]
    [bom] = [f for f in result.findings if f.code == "SRC010"]
    assert (bom.severity.value, str(bom.location)) == ("warning", "manifests/a.json:1:1")
    assert plain is not None


def _hints(result, code: str) -> list[str]:
    return [f.hint or "" for f in result.findings if f.code == code]


def test_least_connections_suggests_the_member_variant_cis_users_mean(tmp_path: Path) -> None:
    result = build(tmp_path, {"manifests/a.yaml": ingress("a", extra="    virtual-server.f5.com/balance: least-connections\n")})
    assert _hints(result, "ANN002") == ["did you mean 'least-connections-member'?"]


def test_ssl_redirect_under_the_f5_prefix_suggests_the_ingress_kubernetes_io_key(tmp_path: Path) -> None:
    result = build(tmp_path, {"manifests/a.yaml": ingress("a", extra='    virtual-server.f5.com/ssl-redirect: "true"\n')})
    assert _hints(result, "ANN001") == ["did you mean 'ingress.kubernetes.io/ssl-redirect'?"]


def test_an_unknown_config_key_gets_did_you_mean(tmp_path: Path) -> None:
    result = build(tmp_path, {"manifests/a.yaml": ingress("a")}, config=CONFIG + "enviroment: prod\n")
    [hint] = _hints(result, "CFG002")
    assert hint.startswith("did you mean 'environment'? known keys here: ")
