"""Several devices (an HA pair): one AS3 declaration, one net section per device, one BIG-IP Node per device."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from renderer.bigip_node import bigip_node_yaml
from renderer.diff import Side, diff_declarations
from renderer.render import render
from renderer.validate.result import net_findings

CASE = Path(__file__).parent / "cases" / "ha-pair"


def test_each_device_gets_its_own_vtep_and_self_ip_and_the_others_vtep_in_its_fdb() -> None:
    result = render(CASE)
    assert result.ok
    a, b = result.net["devices"]["bigip-a"], result.net["devices"]["bigip-b"]
    assert (a["tunnel"]["localAddress"], b["tunnel"]["localAddress"]) == ("192.168.1.254", "192.168.1.253")
    assert (a["selfIP"]["address"], b["selfIP"]["address"]) == ("10.10.30.15/16", "10.10.31.15/16")
    assert a["floatingSelfIP"] == b["floatingSelfIP"] == {
        "name": "flannel_vxlan_floating", "address": "10.10.30.100/16", "vlan": "/Common/flannel_vxlan",
        "trafficGroup": "/Common/traffic-group-1", "allowService": "all"}
    # a device never has an FDB record for itself; it has one for its peer (as CIS does)
    assert "2c:c2:60:23:0c:58" not in {r["name"] for r in a["fdb"]["records"]}
    assert "2c:c2:60:23:0c:58" in {r["name"] for r in b["fdb"]["records"]}
    assert a["arps"] == b["arps"] and a["arps"]
    assert "devices" not in result.adc and result.sources["/net/bigip-b/fdb/ea:f9:46:be:69:41"]


def test_one_bigip_node_per_device() -> None:
    text, findings = bigip_node_yaml(render(CASE).config)
    nodes = list(yaml.safe_load_all(text))
    assert findings == []
    assert [(n["metadata"]["name"], n["spec"]["podCIDR"]) for n in nodes] == [
        ("bigip-a", "10.10.30.0/24"), ("bigip-b", "10.10.31.0/24")]


def test_diff_names_the_device_whose_network_changes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(CASE, repo, ignore=shutil.ignore_patterns("expected"))
    old = render(repo)
    cfg = repo / "as3-gitops.yaml"
    cfg.write_text(cfg.read_text().replace("selfIP: 10.10.31.15/16", "selfIP: 10.10.31.16/16"))
    new = render(repo)
    result = diff_declarations(Side.from_render(old, "base"), Side.from_render(new, "head"))
    assert [c.pointer for c in result.changes] == ["/net/bigip-b/selfIP"]
    assert dict(result.network_parts) == {"tunnel objects (bigip-b)": result.network_parts["tunnel objects (bigip-b)"]}


def test_an_invalid_device_section_is_reported_with_its_device() -> None:
    net = render(CASE).net
    net["devices"]["bigip-b"]["selfIP"]["address"] = "10.10.31.15"
    findings = net_findings(net, {}, None)
    assert [f.code for f in findings] == ["NET100"]
    assert "/devices/bigip-b/selfIP/address" in findings[0].message


def test_duplicate_device_names_and_sync_without_a_device_group_are_config_errors(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(CASE, repo, ignore=shutil.ignore_patterns("expected"))
    cfg = repo / "as3-gitops.yaml"
    cfg.write_text(cfg.read_text().replace("name: bigip-b", "name: bigip-a").replace(
        "configSync: {deviceGroup: failover-group, as3: sync}", "configSync: {as3: sync}"))
    result = render(repo)
    assert sorted((f.code, f.location.line) for f in result.findings) == [("TOPO020", 5), ("TOPO020", 10)]


def test_a_device_whose_flannel_node_is_missing_is_warned_about(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(CASE, repo, ignore=shutil.ignore_patterns("expected"))
    nodes = repo / "snapshot" / "nodes.yaml"
    nodes.write_text(nodes.read_text().replace("name: bigip-b\n", "name: bigip-b-old\n"))
    result = render(repo)
    assert [(f.code, f.message.split(":")[0]) for f in result.findings if f.code == "TOPO021"] == [
        ("TOPO021", "device bigip-b")]
