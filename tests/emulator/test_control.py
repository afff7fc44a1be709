"""The /_emulator/ control API: token, state dump and seeding, faults (HTTP 500, drops), clock."""

from __future__ import annotations

import pytest
import requests

from emulator.helpers import DECLARE, Api, adc, http_tenant
from renderer.emulator import Device, EmulatorConfig, EmulatorServer


def test_control_api_needs_the_token(bigip_emulator) -> None:
    response = requests.get(f"{bigip_emulator.url}/_emulator/state", timeout=10)
    assert response.status_code == 403
    assert "needs the X-Emulator-Token header" in response.text
    wrong = requests.get(f"{bigip_emulator.url}/_emulator/state", headers={"X-Emulator-Token": "x"}, timeout=10)
    assert wrong.status_code == 403
    assert "wrong X-Emulator-Token" in wrong.text  # a wrong token is not reported as a missing one


def test_control_api_is_absent_without_a_token() -> None:
    server = EmulatorServer(Device(EmulatorConfig(password="pw"))).start()
    try:
        response = requests.get(f"{server.url}/_emulator/state", headers={"X-Emulator-Token": ""}, timeout=10)
        assert response.status_code == 404
    finally:
        server.stop()


def test_seed_a_cis_configured_device_and_read_it_back(api: Api) -> None:
    seed = {"as3": {"declaration": adc({"kubernetes": http_tenant()})},
            "net": {"vxlan": {"/Common/fl-vxlan": {"name": "fl-vxlan", "partition": "Common", "port": 8472}},
                    "tunnels": {"/Common/flannel_vxlan": {"name": "flannel_vxlan", "partition": "Common",
                                                          "profile": "/Common/fl-vxlan"}},
                    "fdb": {"/Common/flannel_vxlan": [{"name": "0a:0a:c0:a8:c8:41", "endpoint": "10.1.1.1%0"}]},
                    "arps": {"/Common/10.244.1.5": {"name": "10.244.1.5", "partition": "Common",
                                                    "ipAddress": "10.244.1.5", "macAddress": "0a:0a:c0:a8:c8:41"}}}}
    state = api.handle.control.seed(seed)
    assert state["as3"]["tenants"] == {"kubernetes": http_tenant()}
    assert api.call("GET", DECLARE)[1]["kubernetes"] == http_tenant()
    records = api.call("GET", "/mgmt/tm/net/fdb/tunnel/~Common~flannel_vxlan/records")[1]["items"]
    assert [(r["name"], r["endpoint"]) for r in records] == [("0a:0a:c0:a8:c8:41", "10.1.1.1%0")]
    assert api.call("GET", "/mgmt/tm/net/arp/~Common~10.244.1.5")[0] == 200
    # a dumped state seeds back to itself
    dumped = api.handle.control.state()
    again = api.handle.control.seed({k: dumped[k] for k in ("as3", "net", "saveCount")})
    assert {k: again[k] for k in ("as3", "net", "saveCount")} == {k: dumped[k] for k in ("as3", "net", "saveCount")}


def test_bad_seed_and_bad_faults_are_400(bigip_emulator) -> None:
    control = bigip_emulator.control
    response = control.session.post(f"{bigip_emulator.url}/_emulator/state", json={"nope": 1}, timeout=10,
                                    verify=control.verify)
    assert response.status_code == 400
    assert response.json()["message"] == "unknown state section(s): nope"
    response = control.session.post(f"{bigip_emulator.url}/_emulator/faults", json=[{"kind": "meteor"}],
                                    timeout=10, verify=control.verify)
    assert response.status_code == 400
    assert response.json()["message"].startswith("faults[0]: kind must be one of busy, tenant-fail")


def test_http_500_fault_json_and_jetty_html(api: Api) -> None:
    api.handle.control.faults([{"kind": "http-500", "path": DECLARE, "method": "POST"},
                               {"kind": "http-500", "path": DECLARE, "html": True}])
    assert api.call("POST", DECLARE, adc({"T1": http_tenant()})) == (
        500, {"code": 500, "message": "An unexpected error occurred. See logs for details."})
    response = api.session.post(api.handle.url + DECLARE, json=adc({"T1": http_tenant()}), timeout=10,
                                verify=api.verify)
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/html")
    assert "AsyncContext timeout" in response.text
    assert api.handle.control.state()["as3"]["tenants"] == {}  # both refused before any work


def test_http_500_after_the_work_leaves_the_device_changed(api: Api) -> None:
    api.handle.control.faults([{"kind": "http-500", "path": DECLARE, "after": True}])
    assert api.call("POST", DECLARE, adc({"T1": http_tenant()}))[0] == 500
    assert api.handle.control.state()["as3"]["tenants"] == {"T1": http_tenant()}


@pytest.mark.parametrize("tls", [False, True])
def test_drop_connection_fault_closes_without_answer(bigip_emulator_factory, tls: bool) -> None:
    api = Api(bigip_emulator_factory(tls=tls))
    api.handle.control.faults([{"kind": "drop-connection", "path": "/mgmt/tm/net/arp", "times": 1}])
    with pytest.raises(requests.ConnectionError):
        api.session.get(api.handle.url + "/mgmt/tm/net/arp", timeout=10, verify=api.verify)
    assert api.call("GET", "/mgmt/tm/net/arp")[0] == 200
    log = api.handle.control.log()
    assert [(e["status"], e.get("faults")) for e in log] == [(None, ["drop-connection"]), (200, None)]


def test_faults_are_listed_consumed_and_cleared(bigip_emulator) -> None:
    control = bigip_emulator.control
    pending = control.faults([{"kind": "busy", "times": 2}, {"kind": "slow", "seconds": 1, "path": "/x"}])
    assert pending == [{"kind": "busy", "times": 2}, {"kind": "slow", "seconds": 1, "path": "/x", "times": 1}]
    control.clear_faults()
    assert control.pending_faults() == []


@pytest.mark.bigip_emulator(manual_clock=True)
def test_clock_can_be_advanced_over_http_with_a_manual_clock(bigip_emulator) -> None:
    start = bigip_emulator.clock.now()
    assert bigip_emulator.control.advance(30) == start + 30


def test_reset_returns_to_factory_state(api: Api) -> None:
    api.call("POST", DECLARE, adc({"T1": http_tenant()}))
    state = api.handle.control.reset()
    assert state["as3"]["tenants"] == {} and state["requestLog"] == [] and state["saveCount"] == 0
    assert sorted(state["net"]["tunnels"]) == ["/Common/http-tunnel", "/Common/socks-tunnel"]
