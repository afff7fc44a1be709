"""net.json rules: FDB per Ready node, ARP per pod IP, and the checks on flannel data."""

from __future__ import annotations

import copy
import importlib.resources
import json
import operator
from pathlib import Path

import jsonschema
import pytest
from net_repo import SERVICE_AND_INGRESS, node, write_repo

from renderer.render import render

CONFIG = """bigip:
  partition: k8s
vxlan:
  localAddress: 192.168.1.254
  selfIP: 10.244.30.15/16
"""
APP = SERVICE_AND_INGRESS + """---
apiVersion: v1
kind: Endpoints
metadata: {name: app, namespace: default}
subsets:
  - addresses: [{ip: 10.244.1.5, nodeName: n1}, {ip: 10.244.2.5, nodeName: n2}]
    ports: [{name: http, port: 8080}]
"""


def render_repo(tmp_path: Path, nodes: str, config: str = CONFIG):
    return render(write_repo(tmp_path, config, APP, nodes, "nodes.yaml"))


def codes(result, severity: str = "error") -> list[tuple[str, int]]:
    return [(f.code, f.location.line if f.location else 0) for f in result.findings if f.severity.value == severity]


TWO_NODES = node("n1", "AA:BB:CC:00:00:01", "192.168.1.11", "10.244.1.0/24") + \
    node("n2", "aa:bb:cc:00:00:02", "192.168.1.12", "10.244.2.0/24")


def test_fdb_record_per_node_and_arp_per_pod(tmp_path):
    result = render_repo(tmp_path, TWO_NODES)
    assert result.ok
    assert result.net["fdb"]["records"] == [{"name": "aa:bb:cc:00:00:01", "endpoint": "192.168.1.11"},
                                            {"name": "aa:bb:cc:00:00:02", "endpoint": "192.168.1.12"}]
    assert [a["ipAddress"] for a in result.net["arps"]] == ["10.244.1.5", "10.244.2.5"]


def test_malformed_backend_data_is_an_error_at_the_annotation(tmp_path):
    bad = TWO_NODES.replace("'{\"VtepMAC\":\"aa:bb:cc:00:00:02\"}'", "'{VtepMAC: nope'")
    result = render_repo(tmp_path, bad)
    assert codes(result) == [("NET010", 16)]


def test_invalid_mac_is_an_error(tmp_path):
    result = render_repo(tmp_path, TWO_NODES.replace("aa:bb:cc:00:00:02", "aa:bb:cc:00:00"))
    assert codes(result) == [("NET011", 16)]


def test_duplicate_vtep_mac_and_duplicate_public_ip_are_errors(tmp_path):
    dup_mac = TWO_NODES.replace("aa:bb:cc:00:00:02", "aa:bb:cc:00:00:01")
    assert codes(render_repo(tmp_path / "a", dup_mac)) == [("NET016", 16)]
    dup_ip = TWO_NODES.replace("192.168.1.12", "192.168.1.11")
    assert [c for c, _ in codes(render_repo(tmp_path / "b", dup_ip))] == ["NET017"]


def test_overlapping_pod_cidrs_including_the_bigip_node_are_errors(tmp_path):
    nodes = TWO_NODES + node("bigip", "2c:c2:60:23:0c:58", "192.168.1.254", "10.244.1.128/25")
    assert [c for c, _ in codes(render_repo(tmp_path, nodes))] == ["NET018"]


def test_self_ip_outside_the_bigip_podcidr_is_a_warning(tmp_path):
    nodes = TWO_NODES + node("bigip", "2c:c2:60:23:0c:58", "192.168.1.254", "10.244.31.0/24")
    result = render_repo(tmp_path, nodes)
    assert result.ok
    assert "NET019" in [c for c, _ in codes(result, "warning")]


def test_cluster_mode_without_vxlan_section_is_an_error(tmp_path):
    result = render_repo(tmp_path, TWO_NODES, config="bigip:\n  partition: k8s\n")
    assert [c for c, _ in codes(result)] == ["NET001"]


def test_not_ready_node_gets_no_fdb_record_and_its_pods_no_members(tmp_path):
    nodes = TWO_NODES.replace("spec: {podCIDR: 10.244.2.0/24}",
                              "spec: {podCIDR: 10.244.2.0/24}\nstatus:\n  conditions: [{type: Ready, status: \"False\"}]")
    result = render_repo(tmp_path, nodes)
    assert [r["name"] for r in result.net["fdb"]["records"]] == ["aa:bb:cc:00:00:01"]
    assert [a["ipAddress"] for a in result.net["arps"]] == ["10.244.1.5"]


def test_one_unmappable_node_does_not_block_other_arps(tmp_path):
    nodes = node("n1", "aa:bb:cc:00:00:01", "192.168.1.11", "10.244.1.0/24") + node("n2", None, "192.168.1.12",
                                                                                    "10.244.2.0/24")
    result = render_repo(tmp_path, nodes)
    assert result.ok
    assert [a["ipAddress"] for a in result.net["arps"]] == ["10.244.1.5"]
    warnings = [f.message for f in result.findings if f.code == "NET021"]
    assert warnings == ["pod IP 10.244.2.5 of Service default/app: node n2 has no VtepMAC; no ARP entry"]


def test_nodeport_mode_has_no_fdb_and_no_arps(tmp_path):
    result = render_repo(tmp_path, TWO_NODES, config="bigip:\n  partition: k8s\n  poolMemberType: nodeport\n")
    assert result.net["mode"] == "nodeport"
    assert result.net["fdb"]["records"] == [] and result.net["arps"] == []


def test_ipv6_pod_ip_is_rejected_in_cluster_mode(tmp_path):
    render_repo(tmp_path, TWO_NODES.replace("10.244.2.0/24", "fd00::/64"))
    repo = tmp_path / "repo"
    (repo / "manifests" / "app.yaml").write_text(APP.replace("10.244.2.5", "fd00::5"))
    result = render(repo)
    assert "NET020" in [c for c, _ in codes(result)]


@pytest.fixture(scope="module")
def net_schema() -> dict:
    return json.loads(importlib.resources.files("renderer.schemas").joinpath("net.schema.json").read_text())


@pytest.fixture(scope="module")
def valid_net() -> dict:
    root = Path(__file__).resolve().parents[2]
    return json.loads((root / "tests" / "render" / "hello-world-expected" / "net.json").read_text())


def test_net_schema_accepts_the_example(net_schema, valid_net):
    assert list(jsonschema.Draft7Validator(net_schema).iter_errors(valid_net)) == []


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda n: n["fdb"]["records"][0].pop("endpoint"), "'endpoint' is a required property"),
    (lambda n: n["fdb"]["records"][0].update(name="aa:bb:cc:dd:ee"), "does not match"),
    (lambda n: n["arps"][0].update(macAddress="AA:BB:CC:DD:EE:FF"), "does not match"),
    (lambda n: n.update(extra=1), "Additional properties are not allowed ('extra' was unexpected)"),
    (lambda n: n["tunnel"].update(vni=5), "Additional properties are not allowed ('vni' was unexpected)"),
])
def test_net_schema_rejects_bad_declarations(net_schema, valid_net, mutate, message):
    bad = copy.deepcopy(valid_net)
    mutate(bad)
    errors = [e.message for e in jsonschema.Draft7Validator(net_schema).iter_errors(bad)]
    assert any(message in e for e in errors), errors


def _ipaddress_int(text: str) -> int | None:
    import ipaddress

    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError:
        return None


@pytest.mark.parametrize("text", [
    "0.0.0.0", "255.255.255.255", "10.244.1.7", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "00.1.1.1",
    "256.1.1.1", "1.2.3.4\n", " 1.2.3.4", "1.2.3.4 ", "\u0661.2.3.4", "1..3.4", "+1.2.3.4", "1.2.3.-4",
    "0x1.2.3.4", "", "1.2.3.4%eth0", "::1", "1000.1.1.1"])
def test_ipv4_int_accepts_exactly_what_ipaddress_accepts(text: str) -> None:
    from renderer.mapping.members import ipv4_int

    assert ipv4_int(text) == _ipaddress_int(text)


def test_ipv4_int_agrees_with_ipaddress_on_random_octets() -> None:
    import random

    from renderer.mapping.members import ipv4_int

    rng = random.Random(19)
    octets = ["0", "1", "9", "10", "99", "100", "199", "200", "249", "250", "255", "256", "300", "00", "01", "a", ""]
    for _ in range(5000):
        text = ".".join(rng.choice(octets) for _ in range(rng.choice([3, 4, 4, 4, 5])))
        assert ipv4_int(text) == _ipaddress_int(text), text


def test_unique_origins_is_dict_fromkeys() -> None:
    from renderer.errors import Origin, SourceLocation
    from renderer.model import unique_origins

    a = Origin(SourceLocation("a.yaml", 1), "Service", "default", "a")
    a2 = Origin(SourceLocation("a.yaml", 1), "Service", "default", "a")  # equal, not the same object
    b = Origin(SourceLocation("b.yaml", 3), "Node", "", "b")
    for origins in ([], [a], [a, a2], [a, b], [b, a], [a, b, a2], [a, a2, b, b], (a, b)):
        got = unique_origins(origins)
        assert got == tuple(dict.fromkeys(origins))
        assert [id(o) for o in got] == [id(o) for o in dict.fromkeys(origins)]


MIXED_PODS = APP.replace(
    "[{ip: 10.244.1.5, nodeName: n1}, {ip: 10.244.2.5, nodeName: n2}]",
    "[{ip: 10.244.1.10, nodeName: n1}, {ip: 10.244.9.9}, {ip: 10.244.2.7}, {ip: 10.244.3.4, nodeName: n3},"
    " {ip: 10.244.2.6, nodeName: ghost}, {ip: 10.244.1.9, nodeName: n1}POD6]")
THREE_NODES = TWO_NODES + node("n3", None, "192.168.1.13", "10.244.3.0/24")


@pytest.mark.parametrize("ipv6", [False, True], ids=["all-ipv4", "with-an-ipv6-pod"])
def test_arps_are_sorted_numerically_and_found_by_node_name_or_pod_cidr(tmp_path, ipv6):
    """Pods on a named node with a VtepMAC take the short path; the others (no nodeName, a node not
    in the snapshot, a node without VtepMAC, no node at all) the long one. With an IPv6 pod the
    addresses are no longer all dotted quads and are sorted by the general key: same order."""
    render_repo(tmp_path, THREE_NODES)
    repo = tmp_path / "repo"
    (repo / "manifests" / "app.yaml").write_text(MIXED_PODS.replace("POD6", ", {ip: 'fd00::5', nodeName: n1}"
                                                                    if ipv6 else ""))
    result = render(repo)
    n1, n2 = "aa:bb:cc:00:00:01", "aa:bb:cc:00:00:02"
    assert [(a["ipAddress"], a["macAddress"]) for a in result.net["arps"]] == [
        ("10.244.1.9", n1), ("10.244.1.10", n1), ("10.244.2.6", n2), ("10.244.2.7", n2)]
    assert [f.message for f in result.findings if f.code in ("NET020", "NET021")] == [
        *(["pod IP fd00::5 of Service default/app is IPv6; cluster mode supports IPv4 pod networks only"]
          if ipv6 else []),
        "pod IP 10.244.3.4 of Service default/app: node n3 has no VtepMAC; no ARP entry",
        "pod IP 10.244.9.9 of Service default/app: no node runs it (no nodeName, no podCIDR); no ARP entry"]
    assert [(o.kind, o.name) for o in result.sources["/net/arps/10.244.2.7"]] == [("Service", "app"), ("Node", "n2")]
    assert [(o.kind, o.name) for o in result.sources["/net/arps/10.244.1.10"]] == [("Service", "app"), ("Node", "n1")]


def test_net_sources_of_an_arp_are_its_distinct_origins() -> None:
    """The usual ARP (a Service and a Node) skips the dedup; two origins of one kind, equal or not,
    and any other count still go through it."""
    from renderer.errors import Origin, SourceLocation
    from renderer.model import Arp, Network, unique_origins
    from renderer.net import net_sources

    svc = Origin(SourceLocation("a.yaml", 1), "Service", "default", "a")
    svc2 = Origin(SourceLocation("a.yaml", 1), "Service", "default", "a")  # equal, not the same object
    other = Origin(SourceLocation("b.yaml", 1), "Service", "default", "b")
    n1 = Origin(SourceLocation("nodes.yaml", 1), "Node", "", "n1")
    cases = [[svc, n1], [n1, svc], [svc, svc2], [svc, svc], [svc, other], [svc], [], [svc, n1, svc2]]
    arps = [Arp(f"10.0.0.{i}", "aa:bb:cc:00:00:01", origins) for i, origins in enumerate(cases)]
    sources = net_sources(Network("cluster", [], arps))
    for i, origins in enumerate(cases):
        got = sources[f"/net/arps/10.0.0.{i}"]
        assert [id(o) for o in got] == [id(o) for o in unique_origins(origins)], origins
    assert [len(sources[f"/net/arps/10.0.0.{i}"]) for i in range(len(cases))] == [2, 2, 1, 1, 2, 1, 0, 2]
    usual = [Arp(f"10.0.1.{i}", "aa:bb:cc:00:00:01", [svc if i % 2 else other, n1]) for i in range(6)]
    sources = net_sources(Network("cluster", [], usual))  # every ARP a Service and a Node: the C-level path
    assert list(sources) == [f"/net/arps/10.0.1.{i}" for i in range(6)]
    assert all(sources[f"/net/arps/{a.ip}"] == tuple(a.origins) and all(map(operator.is_, sources[f"/net/arps/{a.ip}"],
                                                                              a.origins)) for a in usual)


def test_unique_origins_each_is_unique_origins_of_each_list() -> None:
    """The whole-group dedup (as3_sources): pairs of one kind, equal copies, longer lists with a
    repeated key, and groups where every list is already distinct (the C-level path)."""
    import random

    from renderer.errors import Origin, SourceLocation
    from renderer.model import unique_origins, unique_origins_each

    a = Origin(SourceLocation("a.yaml", 1), "Service", "default", "a")
    a2 = Origin(SourceLocation("a.yaml", 1), "Service", "default", "a")  # equal, not the same object
    a3 = Origin(SourceLocation("other.yaml", 1), "Service", "default", "a")  # same key, not equal
    b = Origin(SourceLocation("b.yaml", 3), "Node", "", "b")
    c = Origin(SourceLocation("c.yaml", 1), "Ingress", "default", "c")
    pool = [a, a2, a3, b, c]
    rng = random.Random(5)
    groups = [[[a, b], [c, a]], [[a], [b], []], [[a, b, c], [c, b]], [[a, a2], [a, b]], [[a, a3]], [[a, b, a2]]]
    groups += [[rng.sample(pool, rng.randrange(5)) for _ in range(rng.randrange(1, 5))] for _ in range(300)]
    for lists in groups:
        got = unique_origins_each(lists)
        assert [[id(o) for o in t] for t in got] == [[id(o) for o in unique_origins(o)] for o in lists], lists
        assert all(type(t) is tuple for t in got)
