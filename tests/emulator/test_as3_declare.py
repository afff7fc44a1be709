"""AS3 POST /declare over HTTP: per-tenant results, status codes, modes, dry-run, persist, history."""

from __future__ import annotations

import pytest

from emulator.helpers import DECLARE, Api, adc, http_tenant

pytestmark = pytest.mark.bigip_emulator(manual_clock=True)


def test_first_post_succeeds_with_exact_body_and_repost_is_no_change(api: Api) -> None:
    body = adc({"T1": http_tenant()})
    status, first = api.call("POST", DECLARE, body)
    assert status == 200
    assert first == {
        "results": [{"code": 200, "message": "success", "lineCount": 14, "host": "localhost", "tenant": "T1",
                     "runTime": 440, "declarationId": "test-1"}],
        "declaration": {**body, "updateMode": "selective",
                        "controls": {"archiveTimestamp": "2026-01-01T00:00:00.000Z"}},
    }
    status, again = api.call("POST", DECLARE, body)
    assert status == 200
    assert again["results"] == [{"code": 200, "message": "no change", "host": "localhost", "tenant": "T1",
                                 "runTime": 150, "declarationId": "test-1"}]
    assert api.call("GET", DECLARE) == (200, {**body, "updateMode": "selective",
                                              "controls": {"archiveTimestamp": "2026-01-01T00:00:00.000Z"}})


def test_tenants_run_in_key_order_with_common_first(api: Api) -> None:
    body = adc({"B": http_tenant(), "A": http_tenant("10.0.0.2"), "Common": http_tenant("10.0.0.3")})
    status, out = api.call("POST", DECLARE, body)
    assert status == 200
    assert [(r["tenant"], r["message"]) for r in out["results"]] == [
        ("Common", "success"), ("B", "success"), ("A", "success"), ("Common", "no change")]


def test_one_failed_tenant_gives_207_and_keeps_its_previous_version(api: Api) -> None:
    api.call("POST", DECLARE, adc({"T1": http_tenant(), "T2": http_tenant("10.0.0.2")}))
    api.handle.control.faults([{"kind": "tenant-fail", "tenant": "T2", "code": 422,
                                "response": "01070734:3: Configuration error: boom"}])
    changed = adc({"T1": http_tenant(members=("192.0.1.99",)), "T2": http_tenant("10.0.0.2", ("192.0.1.98",))})
    status, out = api.call("POST", DECLARE, changed)
    assert status == 207
    assert out["code"] == 207
    assert out["results"][0]["message"] == "success"
    assert out["results"][1] == {"code": 422, "message": "declaration failed", "host": "localhost",
                                 "tenant": "T2", "runTime": 410, "declarationId": "test-1",
                                 "response": "01070734:3: Configuration error: boom"}
    tenants = api.handle.control.state()["as3"]["tenants"]
    assert tenants["T1"] == changed["T1"]  # no cross-tenant rollback
    assert tenants["T2"] == http_tenant("10.0.0.2")  # the failed tenant keeps its previous version
    log = api.handle.control.log()
    assert log[-1]["faults"] == ["tenant-fail"]


def test_all_tenants_failing_gives_422_with_code(api: Api) -> None:
    api.handle.control.faults([{"kind": "tenant-fail", "times": 2}])
    status, out = api.call("POST", DECLARE, adc({"T1": http_tenant(), "T2": http_tenant()}))
    assert status == 422
    assert out["code"] == 422
    assert [r["message"] for r in out["results"]] == ["declaration failed", "declaration failed"]
    assert api.call("GET", DECLARE) == (204, None)


def test_as3_wrapper_and_tenant_path_filter(api: Api) -> None:
    wrapped = {"class": "AS3", "action": "deploy", "persist": True,
               "declaration": adc({"T1": http_tenant(), "T2": http_tenant()})}
    status, out = api.call("POST", DECLARE + "/T2,T9", wrapped)
    assert status == 200
    assert [r["tenant"] for r in out["results"]] == ["T2"]
    assert set(api.handle.control.state()["as3"]["tenants"]) == {"T2"}
    status, out = api.call("POST", DECLARE + "/T9", wrapped)
    assert status == 200
    assert [(r["tenant"], r["message"]) for r in out["results"]] == [("", "no change")]


def test_selective_keeps_absent_tenants_and_complete_deletes_them(api: Api) -> None:
    api.call("POST", DECLARE, adc({"T1": http_tenant(), "T2": http_tenant()}))
    api.call("POST", DECLARE, adc({"T1": http_tenant()}))
    assert set(api.handle.control.state()["as3"]["tenants"]) == {"T1", "T2"}
    status, out = api.call("POST", DECLARE, adc({"T1": http_tenant()}, updateMode="complete"))
    assert status == 200
    assert [(r["tenant"], r["message"]) for r in out["results"]] == [("T1", "no change"), ("T2", "success")]
    assert set(api.handle.control.state()["as3"]["tenants"]) == {"T1"}


def test_empty_tenant_deletes_it(api: Api) -> None:
    api.call("POST", DECLARE, adc({"T1": http_tenant(), "T2": http_tenant()}))
    status, out = api.call("POST", DECLARE, adc({"T2": {"class": "Tenant"}}))
    assert status == 200 and out["results"][0]["message"] == "success"
    assert set(api.handle.control.state()["as3"]["tenants"]) == {"T1"}
    _, out = api.call("POST", DECLARE, adc({"T2": {"class": "Tenant"}}))
    assert out["results"][0]["message"] == "no change"


@pytest.mark.parametrize("variant", ["action", "controls", "query"])
def test_dry_run_writes_nothing_and_flags_results(api: Api, variant: str) -> None:
    body = adc({"T1": http_tenant()})
    path = DECLARE
    if variant == "action":
        body = {"class": "AS3", "action": "dry-run", "declaration": body}
    elif variant == "controls":
        body["controls"] = {"class": "Controls", "dryRun": True}
    else:
        path += "?controls.dryRun=true"
    status, out = api.call("POST", path, body)
    assert status == 200
    assert out["dryRun"] is True
    assert out["results"] == [{"code": 200, "message": "success", "lineCount": 14, "host": "localhost",
                               "tenant": "T1", "runTime": 440, "declarationId": "test-1", "dryRun": True}]
    state = api.handle.control.state()
    assert state["as3"]["tenants"] == {} and state["as3"]["history"] == [] and state["saveCount"] == 0


def test_persist_counts_config_saves_even_on_no_change(api: Api) -> None:
    body = adc({"T1": http_tenant()})
    api.call("POST", DECLARE, body)
    api.call("POST", DECLARE, body)
    api.call("POST", DECLARE, {"class": "AS3", "persist": False, "declaration": body})
    assert api.handle.control.state()["saveCount"] == 2


def test_history_age_list_limit_and_redeploy(api: Api) -> None:
    for members in (("192.0.1.1",), ("192.0.1.2",), ("192.0.1.3",)):
        api.handle.clock.advance(1)
        api.call("POST", DECLARE, {"class": "AS3", "historyLimit": 2,
                                   "declaration": adc({"T1": http_tenant(members=members)})})
    status, ages = api.call("GET", DECLARE + "?age=list")
    assert status == 200
    assert ages == [
        {"name": "____appsvcs_declaration-1767225603000", "timestamp": 1767225603000,
         "date": "2026-01-01T00:00:03.000Z", "age": 0},
        {"name": "____appsvcs_declaration-1767225602000", "timestamp": 1767225602000,
         "date": "2026-01-01T00:00:02.000Z", "age": 1}]
    _, older = api.call("GET", DECLARE + "?age=1")
    assert older["T1"] == http_tenant(members=("192.0.1.2",))
    assert api.call("GET", DECLARE + "?age=5") == (404, {"code": 404, "message": "declaration with age 5 not found"})
    status, out = api.call("POST", DECLARE, {"class": "AS3", "action": "redeploy", "redeployAge": 1})
    assert status == 200 and out["results"][0]["message"] == "success"
    assert api.handle.control.state()["as3"]["tenants"]["T1"] == http_tenant(members=("192.0.1.2",))


def test_id_generate_becomes_autogen_uuid(api: Api) -> None:
    _, out = api.call("POST", DECLARE, adc({"T1": http_tenant()}, id="generate"))
    decl_id = out["results"][0]["declarationId"]
    assert decl_id.startswith("autogen_") and len(decl_id) == len("autogen_") + 36
    assert out["declaration"]["id"] == decl_id


def test_trace_response_returns_the_four_trace_parts(api: Api) -> None:
    tenant = {**http_tenant(), "controls": {"class": "Controls", "traceResponse": True}}
    _, out = api.call("POST", DECLARE, adc({"T1": tenant}))
    assert sorted(out["traces"]) == ["T1Current", "T1Desired", "T1Diff", "T1Script"]
    assert [d["kind"] for d in out["traces"]["T1Diff"]] == ["N", "N", "N", "N"]
    assert out["traces"]["T1Desired"]["/T1/app/pool"]["command"] == "ltm pool"
    assert len(out["traces"]["T1Script"].splitlines()) == out["results"][0]["lineCount"]
