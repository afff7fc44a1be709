"""The keyed diff engine on hand-made declarations: keys, sets, ignored metadata, notes, redaction."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from renderer.diff import (
    ADDED,
    CHANGED,
    REMOVED,
    Counts,
    PropertyChange,
    Side,
    diff_declarations,
)
from renderer.diff_values import fingerprint
from renderer.errors import Origin, SourceLocation

KEY_PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"


def member(ip: str, port: int = 9000) -> dict[str, Any]:
    return {"addressDiscovery": "static", "servicePort": port, "serverAddresses": [ip]}


def pool(*ips: str, balance: str = "round-robin") -> dict[str, Any]:
    return {"class": "Pool", "loadBalancingMode": balance, "members": [member(ip) for ip in ips]}


def vs(ip: str, port: int = 80) -> dict[str, Any]:
    return {"class": "Service_HTTP", "virtualAddresses": [ip], "virtualPort": port, "snat": "auto"}


def as3(tenants: dict[str, dict[str, Any]], **adc: Any) -> dict[str, Any]:
    decl: dict[str, Any] = {"class": "ADC", "schemaVersion": "3.56.0", "id": "urn:a", "label": "as3-gitops",
                            "remark": "commit a"}
    decl.update(adc)
    for name, objects in tenants.items():
        decl[name] = {"class": "Tenant", "Shared": {"class": "Application", "template": "shared", **objects}}
    return {"class": "AS3", "action": "deploy", "persist": True, "declaration": decl}


def net(records: list[tuple[str, str]], arps: list[tuple[str, str]]) -> dict[str, Any]:
    return {"class": "Net", "mode": "cluster",
            "fdb": {"tunnel": "flannel_vxlan", "records": [{"name": m, "endpoint": e} for m, e in records]},
            "arps": [{"name": f"k8s-{ip}", "ipAddress": ip, "macAddress": mac} for ip, mac in arps]}


def side(decl: dict | None, network: dict | None = None, **kw: Any) -> Side:
    return Side(as3=decl, net=network, label=kw.pop("label", "x"), **kw)


def test_identical_sides_have_no_changes() -> None:
    decl = as3({"kubernetes": {"p": pool("10.0.0.1")}})
    result = diff_declarations(side(decl), side(copy.deepcopy(decl)))
    assert not result.has_changes
    assert result.changes == ()
    assert result.totals == Counts(0, 0, 0)


def test_reordered_members_and_addresses_are_no_change() -> None:
    old = as3({"kubernetes": {"p": pool("10.0.0.1", "10.0.0.2", "10.0.0.3"),
                              "v": {**vs("1.2.3.4"), "virtualAddresses": ["1.2.3.4", "1.2.3.5"]}}})
    new = as3({"kubernetes": {"p": pool("10.0.0.3", "10.0.0.1", "10.0.0.2"),
                              "v": {**vs("1.2.3.4"), "virtualAddresses": ["1.2.3.5", "1.2.3.4"]}}})
    assert not diff_declarations(side(old), side(new)).has_changes


def test_one_added_member_is_one_keyed_property_change() -> None:
    old = as3({"kubernetes": {"p": pool("10.0.0.1", "10.0.0.2")}})
    new = as3({"kubernetes": {"p": pool("10.0.0.3", "10.0.0.1", "10.0.0.2")}})
    result = diff_declarations(side(old), side(new))
    (change,) = result.changes
    assert (change.kind, change.cls, change.pointer) == (CHANGED, "Pool", "/kubernetes/Shared/p")
    assert change.properties == (
        PropertyChange("members[10.0.0.3:9000]", ADDED, new={"addressDiscovery": "static", "servicePort": 9000}),
    )
    assert change.snapshot_only  # only members changed: the snapshot moved
    assert result.tenants == {"kubernetes": Counts(0, 1, 0)}


def test_metadata_that_changes_every_commit_is_ignored() -> None:
    old = as3({"kubernetes": {"p": pool("10.0.0.1")}}, controls={"class": "Controls", "archiveTimestamp": "a"})
    new = as3({"kubernetes": {"p": pool("10.0.0.1")}}, id="urn:b", remark="commit b", label="other",
              controls={"class": "Controls", "archiveTimestamp": "b"})
    new["$schema"] = "https://example.invalid/schema.json"
    new["declaration"]["$schema"] = "https://example.invalid/schema.json"
    assert not diff_declarations(side(old), side(new)).has_changes


def test_adc_settings_are_compared_and_wrapper_or_bare_adc_are_the_same() -> None:
    old = as3({"kubernetes": {"p": pool("10.0.0.1")}})
    bare = copy.deepcopy(old["declaration"])
    assert not diff_declarations(side(old), side(bare)).has_changes
    bare["schemaVersion"] = "3.57.0"
    result = diff_declarations(side(old), side(bare))
    (change,) = result.changes
    assert (change.scope, change.name, change.kind) == ("declaration", "schemaVersion", CHANGED)
    assert change.properties == (PropertyChange("", CHANGED, old="3.56.0", new="3.57.0"),)
    assert result.declaration == Counts(0, 1, 0)


def test_policy_rules_are_keyed_by_name_and_their_order_matters() -> None:
    rule_a = {"name": "a", "conditions": [], "actions": [{"type": "forward"}]}
    rule_b = {"name": "b", "conditions": [], "actions": [{"type": "forward"}]}
    policy = {"class": "Endpoint_Policy", "strategy": "first-match", "rules": [rule_a, rule_b]}
    old = as3({"kubernetes": {"pol": policy}})
    reordered = as3({"kubernetes": {"pol": {**policy, "rules": [rule_b, rule_a]}}})
    (change,) = diff_declarations(side(old), side(reordered)).changes
    assert change.properties == (PropertyChange("rules (order)", CHANGED, old=["a", "b"], new=["b", "a"]),)
    rule_c = {"name": "c", "conditions": [], "actions": []}
    added = as3({"kubernetes": {"pol": {**policy, "rules": [rule_a, rule_c, rule_b]}}})
    (change,) = diff_declarations(side(old), side(added)).changes
    assert change.properties == (PropertyChange("rules[c]", ADDED, new=rule_c),)


def test_vip_change_is_remove_plus_add_with_a_traffic_note() -> None:
    old = as3({"kubernetes": {"ingress_1_2_3_4_80": vs("1.2.3.4")}})
    new = as3({"kubernetes": {"ingress_1_2_3_5_80": vs("1.2.3.5")}})
    result = diff_declarations(side(old), side(new))
    removed, added = result.changes
    assert (removed.kind, removed.name, added.kind, added.name) == (
        REMOVED, "ingress_1_2_3_4_80", ADDED, "ingress_1_2_3_5_80")
    assert removed.notes == ("traffic to the old VIP 1.2.3.4:80 stops; new VIP in this tenant: 1.2.3.5:80",)
    assert added.notes == ()


def test_vs_removed_while_its_vip_is_still_served_has_no_traffic_note() -> None:
    old = as3({"kubernetes": {"a": vs("1.2.3.4")}})
    new = as3({"kubernetes": {"b": vs("1.2.3.4")}})
    removed, _added = diff_declarations(side(old), side(new)).changes
    assert removed.notes == ()


def test_emptied_and_missing_tenants_are_deleted_tenants() -> None:
    old = as3({"kubernetes": {"p": pool("10.0.0.1")}, "team_b": {"v": vs("1.2.3.4"), "p": pool("10.0.0.2")},
               "team_c": {"p": pool("10.0.0.3")}})
    new = as3({"kubernetes": {"p": pool("10.0.0.1")}, "team_b": {}})
    result = diff_declarations(side(old), side(new))
    assert result.deleted_tenants == ("team_b", "team_c")
    assert result.tenants == {"team_b": Counts(0, 0, 2), "team_c": Counts(0, 0, 1)}
    assert [c.kind for c in result.changes] == [REMOVED] * 3


def test_new_tenant_is_reported_as_new() -> None:
    old = as3({"kubernetes": {"p": pool("10.0.0.1")}})
    new = as3({"kubernetes": {"p": pool("10.0.0.1")}, "team_b": {"p": pool("10.0.0.2")}})
    result = diff_declarations(side(old), side(new))
    assert result.added_tenants == ("team_b",)
    assert result.tenants == {"team_b": Counts(1, 0, 0)}


def test_fdb_endpoint_with_route_domain_zero_equals_plain_address() -> None:
    rendered = net([("aa:aa:aa:aa:aa:01", "192.168.1.10")], [("10.10.1.5", "aa:aa:aa:aa:aa:01")])
    device = net([("aa:aa:aa:aa:aa:01", "192.168.1.10%0")], [("10.10.1.5", "aa:aa:aa:aa:aa:01")])
    assert not diff_declarations(side(None, device), side(None, rendered)).has_changes
    moved = net([("aa:aa:aa:aa:aa:01", "192.168.1.11")], [("10.10.1.5", "aa:aa:aa:aa:aa:01")])
    (change,) = diff_declarations(side(None, device), side(None, moved)).changes
    assert (change.cls, change.name, change.pointer) == ("FDB record", "aa:aa:aa:aa:aa:01",
                                                         "/net/fdb/aa:aa:aa:aa:aa:01")
    assert change.properties == (PropertyChange("endpoint", CHANGED, old="192.168.1.10", new="192.168.1.11"),)


def test_arps_and_fdb_records_compare_as_sets_with_network_counts() -> None:
    old = net([("m1", "192.168.1.10"), ("m2", "192.168.1.11")], [("10.10.1.5", "m1"), ("10.10.2.7", "m2")])
    new = net([("m2", "192.168.1.11"), ("m1", "192.168.1.10")],
              [("10.10.2.8", "m2"), ("10.10.2.7", "m2"), ("10.10.1.5", "m1")])
    result = diff_declarations(side(None, old), side(None, new))
    (change,) = result.changes
    assert (change.kind, change.cls, change.name, change.snapshot_only) == (ADDED, "ARP", "10.10.2.8", True)
    assert result.network == Counts(1, 0, 0)
    assert result.network_parts == {"ARPs": Counts(1, 0, 0)}


def test_tunnel_settings_are_network_objects() -> None:
    old = {**net([], []), "tunnel": {"name": "flannel_vxlan", "key": 1}}
    new = {**net([], []), "tunnel": {"name": "flannel_vxlan", "key": 2}}
    (change,) = diff_declarations(side(None, old), side(None, new)).changes
    assert (change.scope, change.cls, change.name) == ("network", "tunnel", "flannel_vxlan")
    assert change.properties == (PropertyChange("key", CHANGED, old=1, new=2),)


def test_private_key_and_passphrase_are_redacted_in_changes() -> None:
    cert = {"class": "Certificate", "certificate": "-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n",
            "privateKey": KEY_PEM, "passphrase": {"ciphertext": "c2VjcmV0", "protected": "eyJhbGciOiJkaXIifQ"}}
    rotated_key = KEY_PEM.replace("MIIEv", "MIIEw")
    rotated = {**cert, "privateKey": rotated_key, "passphrase": {"ciphertext": "bmV3", "protected": "x"}}
    result = diff_declarations(side(as3({"t": {"c": cert}})), side(as3({"t": {"c": rotated}})))
    (change,) = result.changes
    assert change.properties == (
        PropertyChange("passphrase", CHANGED, old=f"<redacted, sha256:{fingerprint(cert['passphrase'])}>",
                       new=f"<redacted, sha256:{fingerprint(rotated['passphrase'])}>"),
        PropertyChange("privateKey", CHANGED, old=f"<redacted, sha256:{fingerprint(KEY_PEM)}>",
                       new=f"<redacted, sha256:{fingerprint(rotated_key)}>"),
    )
    added = diff_declarations(side(as3({"t": {}})), side(as3({"t": {"c": cert}})))
    assert "MIIEv" not in repr(added.changes) and "c2VjcmV0" not in repr(added.changes)


def test_pem_private_key_under_any_name_is_redacted() -> None:
    old = as3({"t": {"d": {"class": "Data_Group", "records": [{"key": "k", "value": "v"}]}}})
    new = as3({"t": {"d": {"class": "Data_Group", "records": [{"key": "k", "value": KEY_PEM}]}}})
    (change,) = diff_declarations(side(old), side(new)).changes
    assert "PRIVATE KEY" not in repr(change)
    assert change.properties[0].new == [{"key": "k", "value": f"<redacted, sha256:{fingerprint(KEY_PEM)}>"}]


def test_sources_and_snapshot_only_come_from_origins() -> None:
    def origin(path: str, kind: str, name: str) -> Origin:
        return Origin(SourceLocation(path, 1, 1), kind, "default", name)

    old = as3({"k": {"p": pool("10.0.0.1"), "m": {"class": "Monitor", "interval": 5}}})
    new = as3({"k": {"p": pool("10.0.0.1", balance="ratio-member"), "m": {"class": "Monitor", "interval": 6}}})
    sources = {"/k/Shared/p": (origin("manifests/vs-01.yaml", "Ingress", "vs-01"),
                               origin("snapshot/endpoints.yaml", "Endpoints", "svc")),
               "/k/Shared/m": (origin("snapshot/x.yaml", "Endpoints", "svc"),)}
    result = diff_declarations(side(old, sources=sources, snapshot_roots=("./snapshot/",)),
                               side(new, sources=sources, snapshot_roots=("snapshot",)))
    monitor, pool_change = result.changes
    assert [str(o) for o in pool_change.sources] == ["manifests/vs-01.yaml: Ingress default/vs-01",
                                                     "snapshot/endpoints.yaml: Endpoints default/svc"]
    assert not pool_change.snapshot_only  # balance comes from the manifest
    assert monitor.snapshot_only  # every origin is under a snapshot root ("./snapshot/" normalised)
    assert not result.snapshot_only


def test_nothing_on_one_side_means_everything_added() -> None:
    new = as3({"kubernetes": {"p": pool("10.0.0.1"), "v": vs("1.2.3.4")}})
    result = diff_declarations(side(None, None, label="device"), side(new, net([("m", "1.1.1.1")], [])))
    assert result.totals == Counts(5, 0, 0)
    assert result.base_label == "device"
    assert [(c.cls, c.name) for c in result.changes] == [
        ("Pool", "p"), ("Service_HTTP", "v"), ("fdb", "fdb"), ("mode", "mode"), ("FDB record", "m")]


# --- properties: order never matters where the issue says it must not ----------------------------

_ip = st.builds(lambda a, b: f"10.{a}.0.{b}", st.integers(0, 3), st.integers(1, 6))


@settings(max_examples=60, deadline=None)
@given(st.lists(_ip, min_size=1, max_size=8, unique=True), st.randoms(use_true_random=False))
def test_any_permutation_of_members_addresses_and_net_entries_is_no_change(ips, rnd) -> None:
    shuffled = list(ips)
    rnd.shuffle(shuffled)
    old = side(as3({"t": {"p": pool(*ips), "v": {**vs("1.2.3.4"), "virtualAddresses": ips}}}),
               net([(f"m{i}", ip) for i, ip in enumerate(ips)], [(ip, "m0") for ip in ips]))
    new = side(as3({"t": {"p": pool(*shuffled), "v": {**vs("1.2.3.4"), "virtualAddresses": shuffled}}}),
               net([(f"m{ips.index(ip)}", f"{ip}%0") for ip in shuffled], [(ip, "m0") for ip in shuffled]))
    assert not diff_declarations(old, new).has_changes


@settings(max_examples=60, deadline=None)
@given(st.lists(_ip, max_size=6, unique=True), st.lists(_ip, max_size=6, unique=True))
def test_member_changes_are_exactly_the_set_difference(before, after) -> None:
    result = diff_declarations(side(as3({"t": {"p": pool(*before)}})), side(as3({"t": {"p": pool(*after)}})))
    props = [p for c in result.changes for p in c.properties if p.path.startswith("members[")]
    assert {p.path for p in props if p.kind == ADDED} == {f"members[{ip}:9000]" for ip in set(after) - set(before)}
    assert {p.path for p in props if p.kind == REMOVED} == {f"members[{ip}:9000]" for ip in set(before) - set(after)}


def test_device_default_update_mode_is_no_change_but_complete_is() -> None:
    rendered = as3({"t": {"p": pool("10.0.0.1")}})
    device = copy.deepcopy(rendered["declaration"])
    device.update(updateMode="selective", controls={"archiveTimestamp": "2026-01-01T10:00:00.000Z"})
    assert not diff_declarations(side(device), side(rendered)).has_changes
    device["updateMode"] = "complete"
    (change,) = diff_declarations(side(device), side(rendered)).changes
    assert (change.name, change.properties) == (
        "updateMode", (PropertyChange("", CHANGED, old="complete", new="selective"),))
