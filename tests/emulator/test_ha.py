"""Two emulated devices in a device group: sync status, failover status, config-sync, syncToGroup."""

from __future__ import annotations

import requests

DECLARE = "/mgmt/shared/appsvcs/declare"
ADC = {"class": "ADC", "schemaVersion": "3.56.0", "id": "x",
       "T1": {"class": "Tenant", "A": {"class": "Application", "template": "generic",
                                       "p": {"class": "Pool", "loadBalancingMode": "round-robin"}}}}


def _call(handle, method: str, path: str, body=None):
    reply = requests.request(method, handle.url + path, json=body, auth=(handle.username, handle.password), timeout=30)
    return reply.status_code, (reply.json() if reply.content else None)


def _status(handle, which: str) -> str:
    status, body = _call(handle, "GET", f"/mgmt/tm/cm/{which}")
    assert status == 200
    (entry,) = body["entries"].values()
    return entry["nestedStats"]["entries"]["status"]["description"]


def test_a_standalone_device_is_active_and_standalone(bigip_emulator) -> None:
    assert (_status(bigip_emulator, "sync-status"), _status(bigip_emulator, "failover-status")) == (
        "Standalone", "ACTIVE")


def test_writes_leave_changes_pending_until_a_config_sync(bigip_pair) -> None:
    pair = bigip_pair()
    a, b = pair["bigip-a"], pair["bigip-b"]
    assert [_status(h, "failover-status") for h in (a, b)] == ["ACTIVE", "STANDBY"]
    assert _status(a, "sync-status") == "In Sync"
    assert _call(a, "POST", DECLARE, {"class": "AS3", "action": "dry-run", "declaration": ADC})[0] == 200
    assert _status(b, "sync-status") == "Changes Pending"  # f5-appsvcs-extension#762
    status, _ = _call(a, "POST", "/mgmt/tm/cm", {"command": "run", "utilCmdArgs": "config-sync to-group failover-group"})
    assert status == 200 and _status(a, "sync-status") == "In Sync"
    assert _call(a, "POST", DECLARE, ADC)[0] == 200
    assert _status(a, "sync-status") == "Changes Pending" and b.control.state()["as3"]["tenants"] == {}
    assert _call(a, "POST", "/mgmt/tm/cm", {"command": "run", "utilCmdArgs": "config-sync to-group other"})[0] == 400
    _call(a, "POST", "/mgmt/tm/cm", {"command": "run", "utilCmdArgs": "config-sync to-group failover-group"})
    assert list(b.control.state()["as3"]["tenants"]) == ["T1"]
    assert _call(b, "GET", "/mgmt/tm/cm/device-group/~Common~failover-group")[1]["type"] == "sync-failover"


def test_sync_to_group_syncs_after_a_change_but_not_after_no_change(bigip_pair) -> None:
    pair = bigip_pair()
    a, b = pair["bigip-a"], pair["bigip-b"]
    body = {"class": "AS3", "syncToGroup": "/Common/failover-group", "declaration": ADC}
    assert _call(a, "POST", DECLARE, body)[0] == 200
    assert _status(a, "sync-status") == "In Sync" and list(b.control.state()["as3"]["tenants"]) == ["T1"]
    assert _call(a, "POST", DECLARE, body)[0] == 200  # no change: no sync, but pending (#222)
    assert _status(a, "sync-status") == "Changes Pending"


def test_failover_moves_the_active_device(bigip_pair) -> None:
    pair = bigip_pair()
    a, b = pair["bigip-a"], pair["bigip-b"]
    assert a.control.failover("bigip-b")["active"] == "bigip-b"
    assert [_status(h, "failover-status") for h in (a, b)] == ["STANDBY", "ACTIVE"]
