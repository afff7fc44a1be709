"""AS3 GET/DELETE/PATCH, optimistic locking, and every validation layer's status and body."""

from __future__ import annotations

import pytest

from emulator.helpers import DECLARE, Api, adc, http_tenant


def test_get_filters_tenants_and_reports_missing_or_non_tenant_names(api: Api) -> None:
    api.call("POST", DECLARE, adc({"T1": http_tenant(), "T2": http_tenant(), "Common": http_tenant()}))
    status, out = api.call("GET", DECLARE + "/T2")
    assert status == 200
    assert sorted(k for k in out if k.startswith(("T", "C")) and k != "class") == ["Common", "T2"]
    assert api.call("GET", DECLARE + "/T2,T9") == (
        404, {"code": 404, "message": "specified Tenant(s) 'T9' not found in declaration"})
    assert api.call("GET", DECLARE + "/schemaVersion") == (
        409, {"code": 409, "message": "specified Tenant name 'schemaVersion' matches non-Tenant property"})


def test_show_hash_key_is_honoured_as_compare_and_swap(api: Api) -> None:
    api.call("POST", DECLARE, adc({"T1": http_tenant()}))
    _, current = api.call("GET", DECLARE + "?showHash=true")
    key = current["T1"]["optimisticLockKey"]
    stale = adc({"T1": {**http_tenant(members=("192.0.1.7",)), "optimisticLockKey": "0" * 64}})
    status, out = api.call("POST", DECLARE, stale)
    assert status == 422
    assert out["results"][0]["response"] == "The hash you submitted does not match the hash on the current Tenant"
    fresh = adc({"T1": {**http_tenant(members=("192.0.1.7",)), "optimisticLockKey": key}})
    status, out = api.call("POST", DECLARE, fresh)
    assert status == 200 and out["results"][0]["message"] == "success"
    _, again = api.call("GET", DECLARE + "?showHash=true")
    assert again["T1"]["optimisticLockKey"] != key
    assert "optimisticLockKey" not in api.handle.control.state()["as3"]["tenants"]["T1"]


def test_filter_class_keeps_only_that_class(api: Api) -> None:
    api.call("POST", DECLARE, adc({"T1": http_tenant()}))
    _, out = api.call("GET", DECLARE + "?filterClass=Pool")
    assert sorted(out["T1"]["app"]) == ["class", "pool"]


def test_delete_one_tenant_then_everything(api: Api) -> None:
    api.call("POST", DECLARE, adc({"T1": http_tenant(), "T2": http_tenant()}))
    status, out = api.call("DELETE", DECLARE + "/T1")
    assert status == 200
    assert [(r["tenant"], r["message"]) for r in out["results"]] == [("T1", "success")]
    assert set(api.handle.control.state()["as3"]["tenants"]) == {"T2"}
    status, out = api.call("DELETE", DECLARE)
    assert status == 200
    assert [(r["tenant"], r["message"]) for r in out["results"]] == [("T2", "success")]
    assert out["declaration"]["updateMode"] == "complete"
    assert api.call("GET", DECLARE) == (204, None)


def test_patch_adds_a_member_and_deploys_selectively(api: Api) -> None:
    api.call("POST", DECLARE, adc({"T1": http_tenant(), "T2": http_tenant()}))
    ops = [{"op": "add", "path": "/T1/app/pool/members/0/serverAddresses/-", "value": "192.0.1.11"}]
    status, out = api.call("PATCH", DECLARE, ops)
    assert status == 200
    assert [(r["tenant"], r["message"]) for r in out["results"]] == [("T1", "success")]
    members = api.handle.control.state()["as3"]["tenants"]["T1"]["app"]["pool"]["members"]
    assert members[0]["serverAddresses"] == ["192.0.1.10", "192.0.1.11"]


@pytest.mark.parametrize(("ops", "status", "message"), [
    ([{"op": "test", "path": "/T1", "value": 1}], 422, "invalid patch - op 'test' is not supported"),
    ([{"op": "jump", "path": "/T1"}], 422, "InvalidPatchOperationError: unknown op 'jump'"),
    ([{"op": "replace", "path": "/T1/app/pool/label", "value": "x"}], 400,
     "patch operation failed - see logs for details. path /T1/app/pool/label does not exist"),
])
def test_patch_errors(api: Api, ops: list, status: int, message: str) -> None:
    api.call("POST", DECLARE, adc({"T1": http_tenant()}))
    assert api.call("PATCH", DECLARE, ops) == (status, {"code": status, "message": message})


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), [
    ("GET", "/mgmt/shared/appsvcs/bogus", None, 400, "Bad Request: Invalid path"),
    ("GET", DECLARE + "/T1/x", None, 400, "Bad Request: Invalid path"),
    ("GET", DECLARE + "?verbose=true", None, 400, 'unrecognized URL query parameter "verbose"'),
    ("GET", DECLARE + "?async=true", None, 400,
     'query param "async" is not allowed for method=GET or action=retrieve.'),
    ("POST", DECLARE, {"class": "AS3", "action": "deploy"}, 400, 'for action "deploy", a declaration is required.'),
    ("POST", DECLARE, {"class": "AS3", "action": "remove", "patchBody": []}, 400,
     "patchBody is valid only with action 'patch'"),
    ("POST", DECLARE, {"class": "AS3", "action": "deploy", "retrieveAge": 1, "declaration": adc({})}, 400,
     'retrieveAge value is not allowed for action "deploy". use only with "retrieve"'),
    ("POST", DECLARE, {"class": "AS3", "action": "remove", "redeployAge": 1}, 400,
     'redeployAge is valid only with action "redeploy"'),
    ("POST", DECLARE + "/T1", {"class": "AS3", "action": "redeploy"}, 400,
     'action "redeploy" is not allowed for URI /mgmt/shared/appsvcs/declare/T1'),
    ("POST", DECLARE, {"class": "AS3", "historyLimit": 1, "declaration": adc({})}, 422,
     "Invalid request: /historyLimit: should be >= 2"),
    ("POST", DECLARE, adc({"bad name": http_tenant()}), 422, "Invalid data property: bad name"),
    ("PATCH", DECLARE, [{"op": "replace", "path": "/updateMode", "value": "complete"}], 422,
     "invalid patch - updateMode must be selective"),
    ("POST", DECLARE + "/T1/applications", {}, 400, "per-application deployments are not emulated"),
    ("PUT", DECLARE, {}, 405, "PUT method is not allowed on /mgmt/shared/appsvcs/declare"),
])
def test_request_errors_have_as3_status_and_message(api: Api, method: str, path: str, body: object,
                                                    status: int, message: str) -> None:
    assert api.call(method, path, body) == (status, {"code": status, "message": message})


def test_unparseable_json_is_400(api: Api) -> None:
    status, body = api.call("POST", DECLARE, data=b"{not json", headers={"Content-Type": "application/json"})
    assert status == 400
    assert body["code"] == 400 and body["message"].startswith("cannot parse JSON POST payload (")


def test_retrieve_action_returns_the_declaration(api: Api) -> None:
    api.call("POST", DECLARE, adc({"T1": http_tenant()}))
    status, out = api.call("POST", DECLARE, {"class": "AS3", "action": "retrieve"})
    assert status == 200 and out["T1"] == http_tenant()


def test_multi_declaration_array_reports_items(api: Api) -> None:
    items = [{"class": "AS3", "declaration": adc({"T1": http_tenant()})},
             {"class": "AS3", "declaration": adc({"T1": http_tenant()})}]
    status, out = api.call("POST", DECLARE, items)
    assert status == 207
    assert out["code"] == 207
    assert out["items"][0]["results"][0]["message"] == "success"
    assert out["items"][1]["code"] == 422
    assert out["items"][1]["message"].startswith("Error(s): 'Invalid/Duplicate': another request exists")


def test_schema_validation_reports_first_error_as_as3_does(bigip_emulator_factory, as3_schema_path) -> None:
    handle = bigip_emulator_factory(as3_schema=as3_schema_path)
    api = Api(handle)
    tenant = http_tenant()
    del tenant["app"]["service"]["virtualAddresses"]
    status, out = api.call("POST", DECLARE, adc({"T0": http_tenant(), "T1": tenant}))
    assert status == 422
    assert out == {"code": 422, "errors": ["/T1/app/service: should have required property 'virtualAddresses'"],
                   "message": "declaration is invalid", "host": "localhost", "tenant": ["T1"],
                   "declarationId": "test-1"}
    assert handle.control.state()["as3"]["tenants"] == {}
    status, out = api.call("POST", DECLARE, adc({"T1": http_tenant()}))
    assert status == 200 and out["results"][0]["message"] == "success"


def test_settings_read_and_partial_update(api: Api) -> None:
    status, settings = api.call("GET", "/mgmt/shared/appsvcs/settings")
    assert status == 200 and settings["burstHandlingEnabled"] is False
    status, updated = api.call("POST", "/mgmt/shared/appsvcs/settings", {"burstHandlingEnabled": True})
    assert status == 200 and updated == {**settings, "burstHandlingEnabled": True}
    assert api.call("POST", "/mgmt/shared/appsvcs/settings", {"burstHandlingEnabled": "yes"}) == (
        422, {"code": 422, "message": "declaration is invalid", "errors": ["/burstHandlingEnabled: should be boolean"]})


def test_get_show_full_fills_schema_defaults(bigip_emulator_factory, as3_schema_path) -> None:
    api = Api(bigip_emulator_factory(as3_schema=as3_schema_path))
    api.call("POST", DECLARE, adc({"T1": http_tenant()}))
    _, base = api.call("GET", DECLARE)
    _, full = api.call("GET", DECLARE + "?show=full")
    assert "virtualPort" not in base["T1"]["app"]["service"]
    assert full["T1"]["app"]["service"]["virtualPort"] == 80
    assert full["T1"]["app"]["pool"]["loadBalancingMode"] == "round-robin"
