"""iControl REST L2/L3 over HTTP: vxlan profile, tunnel (+FDB), self IP, FDB records, ARP."""

from __future__ import annotations

import pytest

from emulator.helpers import Api

NET = "/mgmt/tm/net"
VER = "?ver=16.1.2"
PROFILE = {"name": "fl-vxlan", "partition": "Common", "defaultsFrom": "/Common/vxlan", "floodingType": "none",
           "port": 8472}
TUNNEL = {"name": "flannel_vxlan", "partition": "Common", "key": 1, "profile": "/Common/fl-vxlan",
          "localAddress": "10.0.20.245", "remoteAddress": "any", "secondaryAddress": "any"}
SELF = {"name": "flannel_self", "partition": "Common", "address": "10.244.255.245/16",
        "vlan": "/Common/flannel_vxlan", "allowService": "none", "trafficGroup": "/Common/traffic-group-local-only"}


def _tunnel(api: Api) -> None:
    assert api.call("POST", f"{NET}/tunnels/vxlan", PROFILE)[0] == 200
    assert api.call("POST", f"{NET}/tunnels/tunnel", TUNNEL)[0] == 200


def test_vxlan_profile_create_and_read_back(api: Api) -> None:
    status, created = api.call("POST", f"{NET}/tunnels/vxlan", PROFILE)
    assert status == 200
    link = f"https://localhost/mgmt/tm/net/tunnels/vxlan/~Common~fl-vxlan{VER}"
    assert api.call("GET", f"{NET}/tunnels/vxlan/~Common~fl-vxlan") == (200, created)
    assert created == {"kind": "tm:net:tunnels:vxlan:vxlanstate", "name": "fl-vxlan", "partition": "Common",
                       "fullPath": "/Common/fl-vxlan", "generation": created["generation"], "selfLink": link,
                       "defaultsFrom": "/Common/vxlan", "encapsulationType": "vxlan", "floodingType": "none",
                       "port": 8472,
                       "defaultsFromReference": {"link": f"https://localhost/mgmt/tm/net/tunnels/vxlan/~Common~vxlan{VER}"}}
    status, conflict = api.call("POST", f"{NET}/tunnels/vxlan", PROFILE)
    assert (status, conflict) == (409, {"code": 409, "message": "01020066:3: The requested VXLAN Profile "
                                        "(/Common/fl-vxlan) already exists in partition Common.",
                                        "errorStack": [], "apiError": 3})


def test_missing_object_is_404_with_mcpd_code(api: Api) -> None:
    assert api.call("GET", f"{NET}/self/~Common~nope") == (
        404, {"code": 404, "message": "01020036:3: The requested Self IP (/Common/nope) was not found.",
              "errorStack": [], "apiError": 3})


def test_creating_a_tunnel_creates_its_fdb_tunnel_with_defaults(api: Api) -> None:
    _tunnel(api)
    status, tunnel = api.call("GET", f"{NET}/tunnels/tunnel/~Common~flannel_vxlan")
    assert status == 200
    assert tunnel["kind"] == "tm:net:tunnels:tunnel:tunnelstate"
    assert (tunnel["autoLasthop"], tunnel["idleTimeout"], tunnel["mode"], tunnel["mtu"], tunnel["tos"]) == (
        "default", 300, "bidirectional", 0, "preserve")
    assert tunnel["key"] == 1 and tunnel["localAddress"] == "10.0.20.245"
    assert tunnel["profileReference"] == {
        "link": f"https://localhost/mgmt/tm/net/tunnels/vxlan/~Common~fl-vxlan{VER}"}
    status, fdb = api.call("GET", f"{NET}/fdb/tunnel/~Common~flannel_vxlan")
    assert status == 200
    assert fdb == {"kind": "tm:net:fdb:tunnel:tunnelstate", "name": "flannel_vxlan", "partition": "Common",
                   "fullPath": "/Common/flannel_vxlan", "generation": fdb["generation"],
                   "selfLink": f"https://localhost/mgmt/tm/net/fdb/tunnel/~Common~flannel_vxlan{VER}",
                   "recordsReference": {"link": "https://localhost/mgmt/tm/net/fdb/tunnel/~Common~flannel_vxlan"
                                                f"/records{VER}", "isSubcollection": True}}
    names = [i["name"] for i in api.call("GET", f"{NET}/fdb/tunnel")[1]["items"]]
    assert names == ["flannel_vxlan", "http-tunnel", "socks-tunnel"]


def test_tunnel_with_unknown_profile_is_refused(api: Api) -> None:
    status, body = api.call("POST", f"{NET}/tunnels/tunnel", TUNNEL)
    assert status == 400
    assert body["message"] == "01020036:3: The requested VXLAN Profile (/Common/fl-vxlan) was not found."


def test_self_ip_name_with_slash_uses_tilde_url(api: Api) -> None:
    _tunnel(api)
    body = {**SELF, "name": "10.244.255.245/16"}
    status, created = api.call("POST", f"{NET}/self", body)
    assert status == 200
    assert created["selfLink"] == f"https://localhost/mgmt/tm/net/self/~Common~10.244.255.245~16{VER}"
    assert created["addressSource"] == "from-user" and created["floating"] == "disabled"
    assert api.call("GET", f"{NET}/self/~Common~10.244.255.245~16")[1]["fullPath"] == "/Common/10.244.255.245/16"


def test_tunnel_used_by_a_self_ip_cannot_be_deleted(api: Api) -> None:
    _tunnel(api)
    api.call("POST", f"{NET}/self", SELF)
    status, body = api.call("DELETE", f"{NET}/tunnels/tunnel/~Common~flannel_vxlan")
    assert status == 400
    assert body["message"] == ("01070734:3: Configuration error: Tunnel (/Common/flannel_vxlan) is referenced "
                               "by Self IP (/Common/flannel_self).")
    assert api.call("DELETE", f"{NET}/self/~Common~flannel_self") == (200, None)
    assert api.call("DELETE", f"{NET}/tunnels/tunnel/~Common~flannel_vxlan") == (200, None)
    assert api.call("GET", f"{NET}/fdb/tunnel/~Common~flannel_vxlan")[0] == 404


def test_fdb_patch_replaces_all_records_and_endpoints_come_back_with_route_domain(api: Api) -> None:
    _tunnel(api)
    url = f"{NET}/fdb/tunnel/~Common~flannel_vxlan"
    first = {"records": [{"name": "0a:0a:c0:a8:c8:41", "endpoint": "192.168.200.65"},
                         {"name": "0a:0a:c0:a8:c8:42", "endpoint": "192.168.200.66"}]}
    assert api.call("PATCH", url, first)[0] == 200
    api.call("PATCH", url, {"records": [{"name": "0a:0a:c0:a8:c8:43", "endpoint": "192.168.200.67%0"}]})
    status, records = api.call("GET", f"{url}/records")
    assert status == 200
    assert records["kind"] == "tm:net:fdb:tunnel:records:recordscollectionstate"
    assert [(r["name"], r["endpoint"], r["kind"]) for r in records["items"]] == [
        ("0a:0a:c0:a8:c8:43", "192.168.200.67%0", "tm:net:fdb:tunnel:records:recordsstate")]
    expanded = api.call("GET", f"{url}?expandSubcollections=true")[1]["recordsReference"]["items"]
    assert [r["endpoint"] for r in expanded] == ["192.168.200.67%0"]
    assert api.call("PATCH", url, {"records": {}})[0] == 200
    assert api.call("GET", f"{url}/records")[1]["items"] == []


def test_fdb_record_without_endpoint_is_refused_and_nothing_changes(api: Api) -> None:
    _tunnel(api)
    url = f"{NET}/fdb/tunnel/~Common~flannel_vxlan"
    api.call("PATCH", url, {"records": [{"name": "0a:0a:c0:a8:c8:41", "endpoint": "192.168.200.65"}]})
    status, body = api.call("PATCH", url, {"records": [{"name": "02:00:00:00:00:01"}]})
    assert status == 400
    assert body["message"] == ("01070734:3: Configuration error: The tunnel FDB record (/Common/flannel_vxlan "
                               "02:00:00:00:00:01) has an empty entry.")
    assert [r["name"] for r in api.call("GET", f"{url}/records")[1]["items"]] == ["0a:0a:c0:a8:c8:41"]


def test_fdb_records_one_by_one(api: Api) -> None:
    _tunnel(api)
    url = f"{NET}/fdb/tunnel/~Common~flannel_vxlan/records"
    status, rec = api.call("POST", url, {"name": "0a:0a:c0:a8:c8:41", "endpoint": "192.168.200.65"})
    assert status == 200 and rec["endpoint"] == "192.168.200.65%0"
    assert api.call("POST", url, {"name": "0a:0a:c0:a8:c8:41", "endpoint": "192.168.200.65"})[0] == 409
    assert api.call("DELETE", f"{url}/0a:0a:c0:a8:c8:41") == (200, None)
    assert api.call("GET", f"{url}/0a:0a:c0:a8:c8:41")[0] == 404


def test_arp_create_filter_patch_mac_and_ip_is_immutable(api: Api) -> None:
    arp = {"name": "10.244.1.5", "partition": "Common", "ipAddress": "10.244.1.5",
           "macAddress": "0a:0a:c0:a8:c8:41"}
    status, created = api.call("POST", f"{NET}/arp", arp)
    assert status == 200
    assert created == {"kind": "tm:net:arp:arpstate", "name": "10.244.1.5", "partition": "Common",
                       "fullPath": "/Common/10.244.1.5", "generation": created["generation"],
                       "selfLink": f"https://localhost/mgmt/tm/net/arp/~Common~10.244.1.5{VER}",
                       "ipAddress": "10.244.1.5", "macAddress": "0a:0a:c0:a8:c8:41"}
    api.call("POST", f"{NET}/arp", {**arp, "name": "10.9.9.9", "partition": "Other", "ipAddress": "10.9.9.9"})
    status, listing = api.call("GET", f"{NET}/arp?$filter=partition+eq+Common")
    assert status == 200 and listing["kind"] == "tm:net:arp:arpcollectionstate"
    assert [i["fullPath"] for i in listing["items"]] == ["/Common/10.244.1.5"]
    url = f"{NET}/arp/~Common~10.244.1.5"
    status, patched = api.call("PATCH", url, {"macAddress": "0a:0a:c0:a8:c8:99"})
    assert status == 200 and patched["macAddress"] == "0a:0a:c0:a8:c8:99"
    assert patched["generation"] > created["generation"]
    status, body = api.call("PATCH", url, {"ipAddress": "10.244.1.6"})
    assert status == 400
    assert "ipAddress of ARP entry (/Common/10.244.1.5) cannot be modified" in body["message"]
    assert api.call("DELETE", url) == (200, None)
    assert api.call("GET", url)[0] == 404


@pytest.mark.parametrize("path", [f"{NET}/vlan", "/mgmt/tm/ltm/pool"])
def test_unsupported_uris_are_404(api: Api, path: str) -> None:
    status, body = api.call("GET", path)
    assert status == 404 and body["code"] == 404


ROUTE = {"name": "k8s-worker-1-192.168.1.10", "partition": "Common", "network": "10.10.1.0/24",
         "gw": "192.168.1.10", "description": "as3-gitops"}


def test_route_create_filter_patch_delete(api: Api) -> None:
    status, created = api.call("POST", f"{NET}/route", ROUTE)
    assert status == 200
    assert created["kind"] == "tm:net:route:routestate" and created["fullPath"] == "/Common/k8s-worker-1-192.168.1.10"
    assert (created["network"], created["gw"], created["description"]) == ("10.10.1.0/24", "192.168.1.10", "as3-gitops")
    assert api.call("POST", f"{NET}/route", ROUTE)[0] == 409
    assert api.call("POST", f"{NET}/route", {"name": "k8s-x", "network": "10.9.0.0/24"})[0] == 400  # no gw
    other = {**ROUTE, "partition": "kubernetes", "name": "k8s-other"}
    assert api.call("POST", f"{NET}/route", other)[0] == 200
    status, listed = api.call("GET", f"{NET}/route?$filter=partition+eq+kubernetes")
    assert status == 200 and [i["name"] for i in listed["items"]] == ["k8s-other"]
    path = f"{NET}/route/~Common~k8s-worker-1-192.168.1.10"
    status, patched = api.call("PATCH", path, {"gw": "192.168.1.99"})
    assert status == 200 and patched["gw"] == "192.168.1.99" and patched["network"] == "10.10.1.0/24"
    assert api.call("DELETE", path)[0] == 200
    assert api.call("GET", path)[0] == 404
