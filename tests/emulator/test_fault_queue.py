"""Fault scheduling over HTTP(S): `nth` queues a fault for a later matching occasion, `times` repeats
it, and `path`/`method` narrow every kind (tenant-fail and transaction-fail included)."""

from __future__ import annotations

import pytest
import requests

from emulator.helpers import DECLARE, Api, adc, http_tenant

INFO = "/mgmt/shared/appsvcs/info"
TXN = "/mgmt/tm/transaction"
PROFILE = {"name": "fl-vxlan", "defaultsFrom": "/Common/vxlan", "floodingType": "none", "port": 8472}


def _statuses(api: Api, count: int, path: str = INFO) -> list[int]:
    return [api.call("GET", path)[0] for _ in range(count)]


def test_nth_lets_earlier_matches_pass_and_times_repeats_it(api: Api) -> None:
    api.handle.control.faults([{"kind": "http-500", "path": INFO, "nth": 3, "times": 2}])
    assert _statuses(api, 1) == [200]
    assert api.handle.control.pending_faults() == [  # `nth` counts down while it waits
        {"kind": "http-500", "path": INFO, "times": 2, "nth": 2}]
    assert _statuses(api, 1) == [200]
    assert api.handle.control.pending_faults() == [{"kind": "http-500", "path": INFO, "times": 2}]
    assert _statuses(api, 3) == [500, 500, 200]
    assert api.handle.control.pending_faults() == []
    log = api.handle.control.log()
    assert [e.get("faults") for e in log if e["path"] == INFO] == [
        None, None, ["http-500"], ["http-500"], None]


def test_requests_that_do_not_match_are_not_counted(api: Api) -> None:
    api.handle.control.faults([{"kind": "http-500", "path": INFO, "method": "GET", "nth": 2}])
    assert api.call("GET", "/mgmt/tm/net/arp")[0] == 200  # other path
    assert api.call("POST", INFO, {})[0] != 500  # other method
    assert _statuses(api, 3) == [200, 500, 200]


def test_a_waiting_fault_counts_occasions_another_fault_answered(api: Api) -> None:
    api.handle.control.faults([{"kind": "http-500", "path": INFO},
                               {"kind": "drop-connection", "path": INFO, "nth": 2}])
    assert api.call("GET", INFO)[0] == 500  # the first fault; the second counts it
    with pytest.raises(requests.ConnectionError):
        api.session.get(api.handle.url + INFO, timeout=10, verify=api.verify)
    assert api.call("GET", INFO)[0] == 200


def test_busy_on_the_second_declare_only(api: Api) -> None:
    api.handle.control.faults([{"kind": "busy", "nth": 2}])
    assert api.call("POST", DECLARE, adc({"T1": http_tenant()}))[0] == 200
    status, body = api.call("POST", DECLARE, adc({"T1": http_tenant("10.0.1.11")}))
    assert status == 503 and "Configuration operation in progress" in body["message"]
    assert api.call("POST", DECLARE, adc({"T1": http_tenant("10.0.1.11")}))[0] == 200


def test_tenant_fail_takes_path_method_and_nth(api: Api) -> None:
    """The README's fields work for tenant-fail too: `path` is the declare request's path."""
    api.handle.control.faults([{"kind": "tenant-fail", "path": f"{DECLARE}/T2", "method": "POST",
                                "response": "01070734:3: injected"}])
    both = adc({"T1": http_tenant(), "T2": http_tenant("10.0.1.11")})
    status, body = api.call("POST", DECLARE, both)  # path /declare: the fault does not match
    assert status == 200 and [r["code"] for r in body["results"]] == [200, 200]
    changed = adc({"T2": http_tenant("10.0.1.12")})
    status, body = api.call("POST", f"{DECLARE}/T2", changed)
    assert status == 422
    assert [(r["tenant"], r["code"], r["response"]) for r in body["results"]] == [
        ("T2", 422, "01070734:3: injected")]
    assert api.handle.control.state()["as3"]["tenants"]["T2"] == http_tenant("10.0.1.11")

    api.handle.control.faults([{"kind": "tenant-fail", "nth": 2}])  # the second tenant applied fails
    three = adc({"T1": http_tenant("10.0.1.20"), "T2": http_tenant("10.0.1.21"), "T3": http_tenant("10.0.1.22")})
    status, body = api.call("POST", DECLARE, three)
    assert status == 207
    assert [(r["tenant"], r["code"]) for r in body["results"]] == [("T1", 200), ("T2", 422), ("T3", 200)]


def test_transaction_fail_and_token_expire_take_path_and_nth(api: Api) -> None:
    def commit() -> int:
        status, txn = api.call("POST", TXN, {})
        assert status == 200
        trans_id = txn["transId"]
        api.call("POST", "/mgmt/tm/net/tunnels/vxlan", {**PROFILE, "name": f"p{trans_id}"},
                 headers={"X-F5-REST-Coordination-Id": str(trans_id)})
        return api.call("PATCH", f"{TXN}/{trans_id}", {"state": "VALIDATING"})[0]

    api.handle.control.faults([{"kind": "transaction-fail", "path": TXN, "method": "PATCH", "nth": 2}])
    assert [commit(), commit(), commit()] == [200, 400, 200]
    api.handle.control.faults([{"kind": "transaction-fail", "path": "/elsewhere"}])
    assert commit() == 200
    api.handle.control.clear_faults()

    _status, body = api.call("POST", "/mgmt/shared/authn/login",
                            {"username": api.handle.username, "password": api.handle.password,
                             "loginProviderName": "tmos"})
    token = body["token"]["token"]
    api.handle.control.faults([{"kind": "token-expire", "path": "/mgmt/tm/net/arp", "nth": 2}])

    def with_token(path: str) -> int:
        return requests.get(api.handle.url + path, headers={"X-F5-Auth-Token": token}, timeout=10,
                            verify=api.verify).status_code

    assert [with_token(INFO), with_token("/mgmt/tm/net/arp"), with_token("/mgmt/tm/net/arp")] == [200, 200, 401]


@pytest.mark.parametrize("bad, message", [
    ({"kind": "busy", "nth": 0}, "faults[0]: nth must be a positive integer"),
    ({"kind": "busy", "nth": True}, "faults[0]: nth must be a positive integer"),
    ({"kind": "busy", "times": "2"}, "faults[0]: times must be a positive integer"),
    ({"kind": "tenant-fail", "path": 7}, "faults[0]: path must be a string"),
    ({"kind": "token-expire", "tenant": "T1"}, "faults[0]: unknown field(s) for token-expire: tenant"),
])
def test_bad_scheduling_fields_are_400(bigip_emulator, bad: dict, message: str) -> None:
    control = bigip_emulator.control
    response = control.session.post(f"{bigip_emulator.url}/_emulator/faults", json=[bad], timeout=10,
                                    verify=control.verify)
    assert response.status_code == 400 and response.json()["message"] == message
    assert control.pending_faults() == []
