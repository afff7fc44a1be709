"""Net state as data: union for make-before-break, and the iControl REST commands between two states."""

from __future__ import annotations

from renderer.bigip import netstate as ns

NET = {
    "class": "Net",
    "partition": "Common",
    "vxlanProfile": {"name": "fl-vxlan", "port": 8472, "floodingType": "none"},
    "tunnel": {"name": "flannel_vxlan", "key": 1, "profile": "/Common/fl-vxlan", "localAddress": "192.168.1.254"},
    "selfIP": {
        "name": "flannel_vxlan_self",
        "address": "10.10.30.15/16",
        "vlan": "/Common/flannel_vxlan",
        "allowService": "all",
    },
    "fdb": {"tunnel": "flannel_vxlan", "records": [{"name": "AA:00:00:00:00:01", "endpoint": "192.168.1.10"}]},
    "arps": [{"name": "k8s-10.10.1.5", "ipAddress": "10.10.1.5", "macAddress": "aa:00:00:00:00:01"}],
}


def with_(records: list[tuple[str, str]], arps: list[tuple[str, str]]) -> ns.NetState:
    net = {
        **NET,
        "fdb": {"tunnel": "flannel_vxlan", "records": [{"name": m, "endpoint": e} for m, e in records]},
        "arps": [{"name": f"k8s-{ip}", "ipAddress": ip, "macAddress": m} for ip, m in arps],
    }
    return ns.desired_state(net)


def test_desired_state_normalises_mac_case_and_route_domain_suffix() -> None:
    a = ns.desired_state(NET)
    b = ns.desired_state(
        {
            **NET,
            "fdb": {
                "tunnel": "flannel_vxlan",
                "records": [{"name": "aa:00:00:00:00:01", "endpoint": "192.168.1.10%0"}],
            },
        }
    )
    assert a == b
    assert a.records == (("aa:00:00:00:00:01", "192.168.1.10"),)


def test_union_keeps_old_and_new_records_and_arps_new_wins_a_clash() -> None:
    old = with_(
        [("aa:00:00:00:00:01", "192.168.1.10")],
        [("10.10.1.5", "aa:00:00:00:00:01"), ("10.10.1.9", "aa:00:00:00:00:01")],
    )
    new = with_(
        [("bb:00:00:00:00:02", "192.168.1.11")],
        [("10.10.1.9", "bb:00:00:00:00:02"), ("10.10.2.7", "bb:00:00:00:00:02")],
    )
    u = ns.union(old, new)
    assert u.records == (("aa:00:00:00:00:01", "192.168.1.10"), ("bb:00:00:00:00:02", "192.168.1.11"))
    assert [(ip, m) for ip, _, m in u.arps] == [
        ("10.10.1.5", "aa:00:00:00:00:01"),
        ("10.10.1.9", "bb:00:00:00:00:02"),
        ("10.10.2.7", "bb:00:00:00:00:02"),
    ]


def test_first_deploy_creates_objects_then_records_in_a_second_transaction() -> None:
    txs = ns.plan_transactions(ns.NetState(manages_fdb=True), ns.desired_state(NET))
    assert [[c.describe() for c in tx] for tx in txs] == [
        ["POST /mgmt/tm/net/tunnels/vxlan", "POST /mgmt/tm/net/tunnels/tunnel", "POST /mgmt/tm/net/self"],
        ["PATCH /mgmt/tm/net/fdb/tunnel/~Common~flannel_vxlan", "POST /mgmt/tm/net/arp"],
    ]
    assert txs[0][0].body == {"name": "fl-vxlan", "port": 8472, "floodingType": "none", "partition": "Common"}
    assert txs[1][0].body == {"records": [{"name": "aa:00:00:00:00:01", "endpoint": "192.168.1.10"}]}


def test_arp_changes_are_deletes_mac_patches_and_creates_in_one_transaction() -> None:
    cur = with_(
        [("aa:00:00:00:00:01", "192.168.1.10")],
        [("10.10.1.5", "aa:00:00:00:00:01"), ("10.10.1.6", "aa:00:00:00:00:01")],
    )
    new = with_(
        [("aa:00:00:00:00:01", "192.168.1.10")],
        [("10.10.1.5", "bb:00:00:00:00:02"), ("10.10.1.7", "aa:00:00:00:00:01")],
    )
    txs = ns.plan_transactions(cur, new)
    assert [[(c.method, c.path, c.body) for c in tx] for tx in txs] == [
        [
            ("DELETE", "/mgmt/tm/net/arp/~Common~k8s-10.10.1.6", None),
            ("PATCH", "/mgmt/tm/net/arp/~Common~k8s-10.10.1.5", {"macAddress": "bb:00:00:00:00:02"}),
            (
                "POST",
                "/mgmt/tm/net/arp",
                {
                    "name": "k8s-10.10.1.7",
                    "partition": "Common",
                    "ipAddress": "10.10.1.7",
                    "macAddress": "aa:00:00:00:00:01",
                },
            ),
        ]
    ]


def test_equal_states_need_no_commands() -> None:
    assert ns.plan_transactions(ns.desired_state(NET), ns.desired_state(NET)) == []


def test_rollback_of_a_first_deploy_deletes_entries_then_objects_in_reverse_order() -> None:
    empty = ns.NetState(manages_fdb=True)
    txs = ns.plan_transactions(ns.desired_state(NET), empty)
    assert [[c.describe() for c in tx] for tx in txs] == [
        [
            "PATCH /mgmt/tm/net/fdb/tunnel/~Common~flannel_vxlan",
            "DELETE /mgmt/tm/net/arp/~Common~k8s-10.10.1.5",
            "DELETE /mgmt/tm/net/self/~Common~flannel_vxlan_self",
            "DELETE /mgmt/tm/net/tunnels/tunnel/~Common~flannel_vxlan",
            "DELETE /mgmt/tm/net/tunnels/vxlan/~Common~fl-vxlan",
        ]
    ]


def test_changed_tunnel_field_is_patched_alone() -> None:
    cur = ns.desired_state({**NET, "tunnel": {**NET["tunnel"], "localAddress": "192.168.1.200"}})
    objects, entries = ns.net_commands(cur, ns.desired_state(NET))
    assert [(c.method, c.path, c.body) for c in objects] == [
        ("PATCH", "/mgmt/tm/net/tunnels/tunnel/~Common~flannel_vxlan", {"localAddress": "192.168.1.254"})
    ]
    assert entries == []


def test_entries_without_their_keys_are_skipped_not_a_crash() -> None:
    state = ns.desired_state(
        {
            **NET,
            "fdb": {"tunnel": "flannel_vxlan", "records": [{"endpoint": "1.2.3.4"}, "x"]},
            "arps": [{"name": "k8s-10.10.1.9", "ipAddress": "10.10.1.9"}, *NET["arps"]],
        }
    )
    assert state.records == ()
    assert state.arps == (("10.10.1.5", "k8s-10.10.1.5", "aa:00:00:00:00:01"),)


def _routes(*rows: tuple[str, str, str]) -> ns.NetState:
    return ns.desired_state({"class": "Net", "partition": "Common", "fdb": {"records": []}, "arps": [],
                             "routes": {"partition": "Common", "records": [
                                 {"name": n, "network": net, "gw": gw, "description": "as3-gitops"}
                                 for n, net, gw in rows]}})


def test_route_union_keeps_old_routes_except_where_a_new_route_takes_the_subnet() -> None:
    old = _routes(("k8s-a-1.1.1.1", "10.1.0.0/24", "1.1.1.1"), ("k8s-b-1.1.1.2", "10.2.0.0/24", "1.1.1.2"))
    new = _routes(("k8s-a-1.1.1.1", "10.1.0.0/24", "1.1.1.1"), ("k8s-c-1.1.1.3", "10.2.0.0/24", "1.1.1.3"),
                  ("k8s-d-1.1.1.4", "10.4.0.0/24", "1.1.1.4"))
    assert [r[0] for r in ns.union(old, new).routes] == ["k8s-a-1.1.1.1", "k8s-c-1.1.1.3", "k8s-d-1.1.1.4"]
    assert [r[0] for r in ns.union(new, old).routes] == ["k8s-a-1.1.1.1", "k8s-b-1.1.1.2", "k8s-d-1.1.1.4"]


def test_route_commands_delete_first_then_create_then_patch_the_gateway() -> None:
    old = _routes(("k8s-a", "10.1.0.0/24", "1.1.1.1"), ("k8s-b", "10.2.0.0/24", "1.1.1.2"),
                  ("k8s-c", "10.3.0.0/24", "1.1.1.3"))
    new = _routes(("k8s-a", "10.1.0.0/24", "1.1.1.9"), ("k8s-b", "10.2.9.0/24", "1.1.1.2"),
                  ("k8s-d", "10.4.0.0/24", "1.1.1.4"))
    _objects, entries = ns.net_commands(old, new)
    assert [c.describe() for c in entries] == [
        "DELETE /mgmt/tm/net/route/~Common~k8s-b",
        "DELETE /mgmt/tm/net/route/~Common~k8s-c",
        "PATCH /mgmt/tm/net/route/~Common~k8s-a",
        "POST /mgmt/tm/net/route",
        "POST /mgmt/tm/net/route",
    ]
    assert entries[2].body == {"gw": "1.1.1.9", "description": "as3-gitops"}
    assert [c.body["name"] for c in entries[3:]] == ["k8s-b", "k8s-d"]
    assert ns.net_commands(new, new) == ([], [])


def test_only_our_routes_count_in_common_but_every_k8s_route_in_a_partition() -> None:
    assert ns.owns_route({"name": "k8s-a", "description": "as3-gitops"}, "Common")
    assert not ns.owns_route({"name": "k8s-a", "description": "bigip.example.com_cluster1"}, "Common")
    assert ns.owns_route({"name": "k8s-a", "description": "bigip.example.com"}, "kubernetes")
    assert not ns.owns_route({"name": "default", "description": "as3-gitops"}, "Common")
