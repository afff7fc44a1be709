"""The smaller CIS behaviours of issue 13: each matches CIS, or is refused with a hint saying what CIS did."""

from __future__ import annotations

import shutil
from pathlib import Path

from renderer.render import render

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello-world"


def _hello(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(HELLO, repo)
    for rel, (old, new) in edits.items():
        path = repo / rel
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))
    return repo


TLS = """spec:
  tls:
  - secretName: {secret}
  ingressClassName: f5"""


def test_http_port_equal_to_https_port_gives_one_https_virtual(tmp_path: Path) -> None:
    repo = _hello(tmp_path, {"manifests/vs-01.yaml": ("spec:\n  ingressClassName: f5", TLS.format(
        secret="/Common/clientssl"))})
    (repo / "manifests" / "vs-01.yaml").write_text((repo / "manifests" / "vs-01.yaml").read_text().replace(
        'http-port: "80"', 'http-port: "443"'))
    result = render(repo)
    assert result.ok, result.findings
    assert [f.code for f in result.findings if f.severity.value == "warning"] == ["ING014"]
    shared = result.as3["declaration"]["kubernetes"]["Shared"]
    assert shared["ingress_192_168_1_250_443"]["class"] == "Service_HTTPS"
    assert "ingress_192_168_1_250_80" not in shared


def test_secret_name_with_a_partition_but_no_leading_slash_is_a_profile(tmp_path: Path) -> None:
    repo = _hello(tmp_path, {"manifests/vs-01.yaml": ("spec:\n  ingressClassName: f5", TLS.format(
        secret="Common/clientssl"))})
    result = render(repo)
    assert result.ok, result.findings
    vs = result.as3["declaration"]["kubernetes"]["Shared"]["ingress_192_168_1_250_443"]
    assert vs["serverTLS"] == [{"bigip": "/Common/clientssl"}]


def test_old_f5schemadb_versions_are_read_with_the_v017_rules(tmp_path: Path) -> None:
    repo = _hello(tmp_path, {"manifests/vs-02-configmap.yaml": ("bigip-virtual-server_v0.1.7.json",
                                                                 "bigip-virtual-server_v0.1.2.json")})
    assert render(repo).ok


def test_a_port_without_bind_address_renders_the_pool_only_with_a_warning(tmp_path: Path) -> None:
    text = (HELLO / "manifests" / "vs-02-configmap.yaml").read_text()
    start = text.index('"bindAddr"')
    end = text.index("\n", start)
    repo = _hello(tmp_path, {"manifests/vs-02-configmap.yaml": (text[start:end + 1], "")})
    result = render(repo)
    text2 = (repo / "manifests" / "vs-02-configmap.yaml").read_text()
    assert "bindAddr" not in text2
    assert [f.code for f in result.findings if not f.is_error] == ["CM009"]
    shared = result.as3["declaration"]["kubernetes"]["Shared"]
    assert "cfgmap_default_vs_02_hello_world_svc" in shared and "default_vs_02" not in shared
