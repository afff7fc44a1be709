"""iControl REST transactions over HTTP: enlist, commit all-or-none, failure body, idle expiry."""

from __future__ import annotations

import pytest

from emulator.helpers import Api

TXN = "/mgmt/tm/transaction"
NET = "/mgmt/tm/net"
PROFILE = {"name": "fl-vxlan", "defaultsFrom": "/Common/vxlan", "floodingType": "none", "port": 8472}
TUNNEL = {"name": "flannel_vxlan", "key": 1, "profile": "/Common/fl-vxlan", "localAddress": "10.0.20.245"}


def _start(api: Api) -> int:
    status, body = api.call("POST", TXN, {})
    assert status == 200
    return body["transId"]


def _enlist(api: Api, trans_id: int, method: str, path: str, body: object = None) -> tuple[int, object]:
    return api.call(method, path, body, headers={"X-F5-REST-Coordination-Id": str(trans_id)})


@pytest.mark.bigip_emulator(manual_clock=True)
def test_create_enlist_commit_applies_everything(api: Api) -> None:
    status, txn = api.call("POST", TXN, {})
    assert status == 200
    trans_id = txn["transId"]
    assert txn == {"transId": trans_id, "state": "STARTED", "timeoutSeconds": 120, "asyncExecution": False,
                   "validateOnly": False, "executionTimeout": 300, "executionTime": 0, "failureReason": "",
                   "kind": "tm:transactionstate",
                   "selfLink": f"https://localhost/mgmt/tm/transaction/{trans_id}?ver=16.1.2"}
    status, cmd = _enlist(api, trans_id, "POST", f"{NET}/tunnels/vxlan", PROFILE)
    assert status == 200
    assert cmd == {"method": "POST", "uri": "https://localhost/mgmt/tm/net/tunnels/vxlan", "body": PROFILE,
                   "evalOrder": 1, "commandId": 1, "kind": "tm:transaction:commandsstate",
                   "selfLink": f"https://localhost/mgmt/tm/transaction/{trans_id}/commands/1?ver=16.1.2"}
    _enlist(api, trans_id, "POST", f"{NET}/tunnels/tunnel", TUNNEL)
    # queued, not run; GETs do not see it
    assert api.call("GET", f"{NET}/tunnels/vxlan/~Common~fl-vxlan")[0] == 404
    assert [c["commandId"] for c in api.call("GET", f"{TXN}/{trans_id}/commands")[1]["items"]] == [1, 2]
    status, done = api.call("PATCH", f"{TXN}/{trans_id}", {"state": "VALIDATING"})
    assert status == 200 and done["state"] == "COMPLETED"
    assert api.call("GET", f"{NET}/tunnels/tunnel/~Common~flannel_vxlan")[0] == 200
    assert api.call("GET", f"{NET}/fdb/tunnel/~Common~flannel_vxlan")[0] == 200
    log = [(e["method"], e["path"], e.get("transaction")) for e in api.handle.control.log()]
    assert log[:3] == [("POST", TXN, None), ("POST", f"{NET}/tunnels/vxlan", str(trans_id)),
                       ("POST", f"{NET}/tunnels/tunnel", str(trans_id))]


def test_a_failing_command_fails_the_commit_and_applies_nothing(api: Api) -> None:
    api.call("POST", f"{NET}/arp", {"name": "10.244.1.5", "ipAddress": "10.244.1.5", "macAddress": "0a:0a:0a:0a:0a:01"})
    before = api.handle.control.state()["net"]
    trans_id = _start(api)
    _enlist(api, trans_id, "POST", f"{NET}/tunnels/vxlan", PROFILE)
    _enlist(api, trans_id, "DELETE", f"{NET}/arp/~Common~10.244.1.5")
    _enlist(api, trans_id, "POST", f"{NET}/arp", {"name": "10.244.1.9"})  # no ipAddress/macAddress
    status, body = api.call("PATCH", f"{TXN}/{trans_id}", {"state": "VALIDATING"})
    assert status == 400
    assert body == {"code": 400, "message": "transaction failed:01070734:3: Configuration error: ARP entry "
                                            "(/Common/10.244.1.9) requires ipAddress.",
                    "errorStack": [], "apiError": 2}
    after = api.handle.control.state()["net"]
    assert after == before
    status, txn = api.call("GET", f"{TXN}/{trans_id}")
    assert txn["state"] == "FAILED" and txn["failureReason"].startswith("01070734:3:")


def test_transaction_fail_fault_fails_an_otherwise_good_commit(api: Api) -> None:
    api.handle.control.faults([{"kind": "transaction-fail",
                                "response": "01070320:3: Snatpool mysnatpool is still referenced by a virtual server."}])
    trans_id = _start(api)
    _enlist(api, trans_id, "POST", f"{NET}/tunnels/vxlan", PROFILE)
    status, body = api.call("PATCH", f"{TXN}/{trans_id}", {"state": "VALIDATING"})
    assert (status, body["message"]) == (
        400, "transaction failed:01070320:3: Snatpool mysnatpool is still referenced by a virtual server.")
    assert "/Common/fl-vxlan" not in api.handle.control.state()["net"]["vxlan"]
    assert api.handle.control.log()[-1]["faults"] == ["transaction-fail"]


def test_fdb_of_a_tunnel_created_in_the_same_transaction_does_not_exist_yet(api: Api) -> None:
    trans_id = _start(api)
    _enlist(api, trans_id, "POST", f"{NET}/tunnels/vxlan", PROFILE)
    _enlist(api, trans_id, "POST", f"{NET}/tunnels/tunnel", TUNNEL)
    _enlist(api, trans_id, "PATCH", f"{NET}/fdb/tunnel/~Common~flannel_vxlan",
            {"records": [{"name": "0a:0a:c0:a8:c8:41", "endpoint": "192.168.200.65"}]})
    status, body = api.call("PATCH", f"{TXN}/{trans_id}", {"state": "VALIDATING"})
    assert status == 400
    assert body["message"] == ("transaction failed:01020036:3: The requested FDB tunnel (/Common/flannel_vxlan) "
                               "was not found.")


@pytest.mark.bigip_emulator(manual_clock=True)
def test_uncommitted_transaction_expires_after_120s(api: Api) -> None:
    trans_id = _start(api)
    _enlist(api, trans_id, "POST", f"{NET}/tunnels/vxlan", PROFILE)
    api.handle.clock.advance(119)
    assert api.call("GET", f"{TXN}/{trans_id}")[1]["state"] == "STARTED"
    api.handle.clock.advance(1)
    status, body = api.call("PATCH", f"{TXN}/{trans_id}", {"state": "VALIDATING"})
    assert (status, body["message"]) == (404, f"Transaction {trans_id} does not exist.")
    assert _enlist(api, trans_id, "POST", f"{NET}/tunnels/vxlan", PROFILE)[0] == 404
    assert "/Common/fl-vxlan" not in api.handle.control.state()["net"]["vxlan"]


def test_validate_only_commit_checks_without_applying(api: Api) -> None:
    trans_id = _start(api)
    _enlist(api, trans_id, "POST", f"{NET}/tunnels/vxlan", PROFILE)
    status, body = api.call("PATCH", f"{TXN}/{trans_id}", {"state": "VALIDATING", "validateOnly": True})
    assert status == 200 and body["state"] == "COMPLETED" and body["validateOnly"] is True
    assert "/Common/fl-vxlan" not in api.handle.control.state()["net"]["vxlan"]


def test_removing_a_command_before_commit(api: Api) -> None:
    trans_id = _start(api)
    _enlist(api, trans_id, "POST", f"{NET}/tunnels/vxlan", PROFILE)
    _enlist(api, trans_id, "POST", f"{NET}/arp", {"name": "bad"})
    assert api.call("DELETE", f"{TXN}/{trans_id}/commands/2") == (200, None)
    assert api.call("PATCH", f"{TXN}/{trans_id}", {"state": "VALIDATING"})[0] == 200
    assert "/Common/fl-vxlan" in api.handle.control.state()["net"]["vxlan"]
