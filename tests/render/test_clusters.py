"""Several clusters behind one BIG-IP: members from each (marked), configuration checks, clashes."""

from __future__ import annotations

import shutil
from pathlib import Path

from renderer.render import render

CASE = Path(__file__).parent / "cases" / "two-clusters"


def _copy(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(CASE, repo, ignore=shutil.ignore_patterns("expected"))
    return repo


def _errors(result) -> list[tuple[str, int]]:
    return [(f.code, f.location.line if f.location else 0) for f in result.findings if f.is_error]


def test_only_one_cluster_may_use_the_tunnel(tmp_path: Path) -> None:
    repo = _copy(tmp_path)
    cfg = repo / "as3-gitops.yaml"
    cfg.write_text(cfg.read_text().replace("network: static-routes", "network: vxlan"))
    assert _errors(render(repo)) == [("TOPO010", 12)]


def test_cluster_names_are_unique_and_paths_snapshot_is_refused_beside_clusters(tmp_path: Path) -> None:
    repo = _copy(tmp_path)
    cfg = repo / "as3-gitops.yaml"
    cfg.write_text(cfg.read_text().replace("name: west", "name: east") + "paths:\n  snapshot: [snapshot]\n")
    assert sorted(_errors(render(repo))) == [("TOPO010", 12), ("TOPO010", 16)]


def test_the_same_pod_address_in_two_clusters_is_an_error(tmp_path: Path) -> None:
    repo = _copy(tmp_path)
    eps = repo / "snapshot" / "west" / "endpoints.yaml"
    eps.write_text(eps.read_text().replace("10.20.1.5", "10.10.1.5"))
    result = render(repo)
    assert ("TOPO011", 1) in _errors(result)
    assert "is in cluster east and in cluster west" in next(f.message for f in result.findings if f.code == "TOPO011")


def test_overlapping_pod_subnets_across_static_clusters_are_an_error(tmp_path: Path) -> None:
    repo = _copy(tmp_path)
    cfg = repo / "as3-gitops.yaml"
    cfg.write_text(cfg.read_text() + "  - name: south\n    snapshot: [snapshot/south]\n    network: static-routes\n")
    shutil.copytree(repo / "snapshot" / "west", repo / "snapshot" / "south")
    nodes = repo / "snapshot" / "south" / "nodes.yaml"
    nodes.write_text(nodes.read_text().replace("172.16.0.", "172.17.0."))
    (repo / "snapshot" / "south" / "endpoints.yaml").unlink()
    result = render(repo)
    assert [c for c, _line in _errors(result)] == ["TOPO005", "TOPO005"]


def test_members_carry_their_cluster_only_with_several_clusters(tmp_path: Path) -> None:
    result = render(CASE)
    members = result.adc["kubernetes"]["Shared"]["ingress_default_vs_01_hello_world_svc_80"]["members"]
    assert [m["remark"] for m in members] == ["cluster east", "cluster east", "cluster west", "cluster west"]
    hello = render(Path(__file__).resolve().parents[2] / "examples" / "hello-world")
    assert all("remark" not in m for m in hello.adc["kubernetes"]["Shared"][
        "ingress_default_vs_01_hello_world_svc_80"]["members"])


def test_a_static_cluster_subnet_inside_the_vxlan_clusters_pod_network_is_an_error(tmp_path: Path) -> None:
    repo = _copy(tmp_path)
    nodes = repo / "snapshot" / "west" / "nodes.yaml"
    nodes.write_text(nodes.read_text().replace("10.20.2.0/24", "10.10.1.128/25"))
    eps = repo / "snapshot" / "west" / "endpoints.yaml"
    eps.write_text(eps.read_text().replace("10.20.2.9", "10.10.1.200"))
    result = render(repo)
    assert [c for c, _line in _errors(result)] == ["TOPO005"]
    assert "in the VXLAN cluster" in next(f.message for f in result.findings if f.code == "TOPO005")
