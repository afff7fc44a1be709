"""Static-route mode: one route per node pod subnet, per CIS's --orchestration-cni rules, and the checks."""

from __future__ import annotations

from pathlib import Path

from net_repo import SERVICE_AND_INGRESS, write_repo

from renderer.render import render


def _repo(tmp_path: Path, config: str, snapshot: str) -> Path:
    return write_repo(tmp_path, config, SERVICE_AND_INGRESS, snapshot, "cluster.yaml")


def _node(name: str, ip: str, cidr: str | None = None, annotations: str = "{}", ready: str = "True") -> str:
    spec = f"spec: {{podCIDR: {cidr}}}\n" if cidr else ""
    return f"""---
apiVersion: v1
kind: Node
metadata: {{name: {name}, annotations: {annotations}}}
{spec}status:
  addresses: [{{type: InternalIP, address: {ip}}}]
  conditions: [{{type: Ready, status: "{ready}"}}]
"""


def _endpoints(*ips: str) -> str:
    addrs = ", ".join(f"{{ip: {ip}}}" for ip in ips)
    return f"""---
apiVersion: v1
kind: Endpoints
metadata: {{name: app, namespace: default}}
subsets:
  - addresses: [{addrs}]
    ports: [{{name: http, port: 8080}}]
"""


STATIC = "bigip:\n  partition: k8s\n  network: static-routes\n"


def _codes(result) -> list[tuple[str, str, int]]:
    return [(f.code, f.location.path if f.location else "", f.location.line if f.location else 0)
            for f in result.findings]


def test_one_route_per_ready_node_named_as_cis_does(tmp_path: Path) -> None:
    snap = (_node("n1", "192.168.0.1", "10.244.1.0/24") + _node("n2", "192.168.0.2", "10.244.2.0/24")
            + _node("n3", "192.168.0.3", "10.244.3.0/24", ready="False") + _endpoints("10.244.1.5"))
    result = render(_repo(tmp_path, STATIC, snap))
    assert result.ok and result.findings == []
    assert result.net["routes"] == {"partition": "Common", "records": [
        {"name": "k8s-n1-192.168.0.1", "network": "10.244.1.0/24", "gw": "192.168.0.1", "description": "as3-gitops"},
        {"name": "k8s-n2-192.168.0.2", "network": "10.244.2.0/24", "gw": "192.168.0.2", "description": "as3-gitops"},
    ]}
    assert "tunnel" not in result.net and result.net["fdb"] == {"records": []} and result.net["arps"] == []
    assert result.sources["/net/routes/k8s-n1-192.168.0.1"][0].name == "n1"


def test_static_routes_need_no_vxlan_section(tmp_path: Path) -> None:
    result = render(_repo(tmp_path, STATIC, _node("n1", "192.168.0.1", "10.244.1.0/24")))
    assert "NET001" not in [f.code for f in result.findings]


def test_overlapping_pod_subnets_are_an_error_at_the_node(tmp_path: Path) -> None:
    snap = _node("n1", "192.168.0.1", "10.244.0.0/16") + _node("n2", "192.168.0.2", "10.244.2.0/24")
    result = render(_repo(tmp_path, STATIC, snap))
    assert not result.ok
    assert ("TOPO005", "snapshot/cluster.yaml", 2) in _codes(result)


def test_pod_outside_every_routed_subnet_is_warned_about(tmp_path: Path) -> None:
    snap = _node("n1", "192.168.0.1", "10.244.1.0/24") + _endpoints("10.244.1.5", "10.99.0.1")
    result = render(_repo(tmp_path, STATIC, snap))
    assert result.ok
    warned = [f for f in result.findings if f.code == "TOPO006"]
    assert len(warned) == 1 and "10.99.0.1" in warned[0].message
    assert (warned[0].location.path, warned[0].location.line) == ("manifests/app.yaml", 1)


def test_cilium_reads_its_annotation_and_ignores_spec_pod_cidr(tmp_path: Path) -> None:
    config = STATIC + "staticRoutes: {cni: cilium-k8s}\n"
    snap = (_node("c1", "172.16.0.1", "10.99.1.0/24", "{io.cilium.network.ipv4-pod-cidr: 10.20.1.0/24}")
            + _node("c2", "172.16.0.2", "10.99.2.0/24") + _endpoints("10.20.1.5"))
    result = render(_repo(tmp_path, config, snap))
    assert [r["network"] for r in result.net["routes"]["records"]] == ["10.20.1.0/24"]
    assert [f.code for f in result.findings] == ["TOPO002"]


def test_ovn_annotation_that_is_not_json_is_an_error(tmp_path: Path) -> None:
    config = STATIC + "staticRoutes: {cni: ovn-k8s}\n"
    ann = "{k8s.ovn.org/node-subnets: '{\"default\":', k8s.ovn.org/node-primary-ifaddr: '{\"ipv4\":\"10.1.0.3/24\"}'}"
    result = render(_repo(tmp_path, config, _node("o1", "10.1.0.3", None, ann) + _endpoints("10.128.0.5")))
    assert not result.ok
    bad = [f for f in result.findings if f.is_error]
    assert [(f.code, f.location.line) for f in bad] == [("TOPO004", 4)]


def test_unshared_routes_go_to_the_partition_as_in_cis(tmp_path: Path) -> None:
    config = STATIC + "staticRoutes: {shared: false}\n"
    result = render(_repo(tmp_path, config, _node("n1", "192.168.0.1", "10.244.1.0/24")))
    assert result.net["routes"]["partition"] == "k8s"


def test_unknown_cni_is_a_config_error(tmp_path: Path) -> None:
    config = STATIC + "staticRoutes: {cni: weave}\n"
    result = render(_repo(tmp_path, config, _node("n1", "192.168.0.1", "10.244.1.0/24")))
    assert [(f.code, f.location.line) for f in result.findings] == [("CFG003", 4)]
