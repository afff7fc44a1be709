"""render(normalize(raw kubectl output)) == render(raw kubectl output): normalizing loses nothing rendering reads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from snapshot_helpers import FIXTURES, KUBECTL_ALL

from renderer.render import render
from renderer.snapshot.plan import SnapshotOptions
from renderer.snapshot.run import parse_kubectl, take_snapshot


def _repo_pair(tmp_path: Path, raw: bytes) -> tuple[Path, Path]:
    raw_repo, normalized_repo = tmp_path / "raw", tmp_path / "normalized"
    for repo in (raw_repo, normalized_repo):
        shutil.copytree(FIXTURES / "repo", repo)
    (raw_repo / "snapshot").mkdir()
    (raw_repo / "snapshot" / "kubectl.yaml").write_bytes(raw)
    take_snapshot(normalized_repo, lambda _o: (parse_kubectl("kubectl.yaml", raw), "kubectl"), SnapshotOptions())
    return raw_repo, normalized_repo


def _ipv4_only() -> bytes:
    """The fixture without its IPv6 EndpointSlice (cluster mode renders IPv4 pod networks only)."""
    data = yaml.safe_load(KUBECTL_ALL.read_text())
    data["items"] = [i for i in data["items"] if i.get("addressType") != "IPv6"]
    return yaml.safe_dump(data).encode()


def _errors(result) -> list[tuple[str, str]]:
    return [(f.code, f.message) for f in result.findings if f.is_error]


@pytest.mark.parametrize("member_type", ["cluster", "nodeport"])
def test_rendering_the_normalized_snapshot_equals_rendering_raw_kubectl_output(tmp_path: Path,
                                                                                member_type: str) -> None:
    raw_repo, normalized_repo = _repo_pair(tmp_path, _ipv4_only())
    if member_type == "nodeport":
        for repo in (raw_repo, normalized_repo):
            config = repo / "as3-gitops.yaml"
            config.write_text(config.read_text().replace("  partition: kubernetes\n",
                                                         "  partition: kubernetes\n  poolMemberType: nodeport\n"))
            for name, port in (("shop.yaml", "8080"), ("monitoring.yaml", "9090")):
                svc = repo / "manifests" / name
                svc.write_text(svc.read_text().replace(f"      targetPort: {port}\n",
                                                       f"      targetPort: {port}\n      nodePort: 3{port[:4]}\n"))
    from_raw, from_normalized = render(raw_repo), render(normalized_repo)
    assert from_raw.ok and from_normalized.ok
    assert from_normalized.as3 == from_raw.as3
    assert from_normalized.net == from_raw.net
    # the render is not trivially empty: pool members and FDB records come from the snapshot
    text = repr(from_normalized.as3)
    assert ("10.244.1.12" in text) if member_type == "cluster" else ("38080" in text)
    if member_type == "cluster":
        assert [r["endpoint"] for r in from_normalized.net["fdb"]["records"]] == ["192.168.1.11", "192.168.1.12"]
        assert [a["ipAddress"] for a in from_normalized.net["arps"]] == [
            "10.244.1.5", "10.244.1.12", "10.244.2.7", "10.244.2.30"]


def test_round_trip_holds_when_a_node_goes_not_ready_and_an_endpoint_moves(tmp_path: Path) -> None:
    data = yaml.safe_load(_ipv4_only())
    for item in data["items"]:
        if item["metadata"]["name"] == "worker-2":
            ready = [c for c in item["status"]["conditions"] if c["type"] == "Ready"]
            ready[0]["status"] = "False"
        for subset in item.get("subsets", []):
            for addr in subset.get("addresses", []):
                if addr["ip"] == "10.244.1.12":
                    addr["ip"] = "10.244.1.99"
        for endpoint in item.get("endpoints", []):
            endpoint["addresses"] = ["10.244.1.99" if a == "10.244.1.12" else a for a in endpoint["addresses"]]
    raw_repo, normalized_repo = _repo_pair(tmp_path, yaml.safe_dump(data).encode())
    from_raw, from_normalized = render(raw_repo), render(normalized_repo)
    assert from_normalized.as3 == from_raw.as3
    assert from_normalized.net == from_raw.net
    # worker-2 is not Ready: its FDB record is gone in both; the moved pod's ARP follows it
    assert [r["endpoint"] for r in from_normalized.net["fdb"]["records"]] == ["192.168.1.11"]
    assert "10.244.1.99" in [a["ipAddress"] for a in from_normalized.net["arps"]]


def test_round_trip_holds_for_dual_stack_slices_including_the_findings(tmp_path: Path) -> None:
    raw_repo, normalized_repo = _repo_pair(tmp_path, KUBECTL_ALL.read_bytes())
    from_raw, from_normalized = render(raw_repo), render(normalized_repo)
    assert from_normalized.as3 == from_raw.as3
    assert from_normalized.net == from_raw.net
    assert _errors(from_normalized) == _errors(from_raw) == [
        ("NET020", "pod IP fd00:10:244:1::c of Service shop/web is IPv6; cluster mode supports IPv4 pod networks only"),
        ("NET020", "pod IP fd00:10:244:2::7 of Service shop/web is IPv6; cluster mode supports IPv4 pod networks only"),
    ]


@pytest.mark.parametrize("case", ["static-routes-calico", "static-routes-cilium-shared", "static-routes-ovn"])
def test_static_route_annotations_and_block_affinities_survive_normalizing(tmp_path: Path, case: str) -> None:
    source = Path(__file__).resolve().parents[1] / "render" / "cases" / case
    items = [doc for f in sorted((source / "snapshot").glob("*.yaml")) for doc in yaml.safe_load_all(f.read_text())]
    for item in items:  # what kubectl adds and the snapshot drops
        meta = item["metadata"]
        meta["annotations"] = {**meta.get("annotations", {}), "node.alpha.kubernetes.io/ttl": "0"}
        meta["resourceVersion"] = "123"
    raw = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}).encode()
    raw_repo, normalized_repo = tmp_path / "raw", tmp_path / "normalized"
    for repo in (raw_repo, normalized_repo):
        shutil.copytree(source, repo, ignore=shutil.ignore_patterns("snapshot", "expected"))
        (repo / "snapshot").mkdir()
    (raw_repo / "snapshot" / "kubectl.yaml").write_bytes(raw)
    take_snapshot(normalized_repo, lambda _o: (parse_kubectl("kubectl.yaml", raw), "kubectl"), SnapshotOptions())
    written = {p.name for p in (normalized_repo / "snapshot").iterdir()}
    assert ("blockaffinities.yaml" in written) == (case == "static-routes-calico")
    from_raw, from_normalized = render(raw_repo), render(normalized_repo)
    assert from_raw.ok and from_normalized.ok
    assert from_normalized.net == from_raw.net and from_raw.net["routes"]["records"]
    assert "node.alpha.kubernetes.io/ttl" not in (normalized_repo / "snapshot" / "nodes.yaml").read_text()


def test_capture_refuses_a_repository_with_several_clusters(tmp_path: Path) -> None:
    from renderer.errors import UsageError

    repo = tmp_path / "repo"
    shutil.copytree(Path(__file__).resolve().parents[1] / "render" / "cases" / "two-clusters", repo)
    with pytest.raises(UsageError, match="several clusters"):
        take_snapshot(repo, lambda _o: (parse_kubectl("kubectl.yaml", b"{}"), "kubectl"), SnapshotOptions())
    assert not (repo / "snapshot" / "nodes.yaml").exists()
