"""Auth over real HTTPS: basic auth, token login/use/extend/revoke/expiry, the 100-token cap."""

from __future__ import annotations

import pytest
import requests

from emulator.helpers import Api

LOGIN = "/mgmt/shared/authn/login"
INFO = "/mgmt/shared/appsvcs/info"


def _login(handle, username=None, password=None) -> requests.Response:
    body = {"username": username or handle.username, "password": password or handle.password,
            "loginProviderName": "tmos"}
    return requests.post(handle.url + LOGIN, json=body, verify=handle.ca_bundle or True, timeout=10)


def _with_token(handle, token: str, method: str = "GET", path: str = INFO, **kw) -> requests.Response:
    return requests.request(method, handle.url + path, headers={"X-F5-Auth-Token": token},
                            verify=handle.ca_bundle or True, timeout=10, **kw)


def test_basic_auth_is_accepted(api: Api) -> None:
    assert api.call("GET", INFO) == (200, {"version": "3.56.0", "release": "10", "schemaCurrent": "3.56.0",
                                           "schemaMinimum": "3.0.0"})


def test_wrong_password_and_missing_credentials_get_401_envelope(bigip_emulator) -> None:
    bad = requests.get(bigip_emulator.url + INFO, auth=("admin", "nope"), timeout=10)
    assert bad.status_code == 401
    body = bad.json()
    assert body["code"] == 401 and body["message"] == "Authentication failed."
    assert body["kind"] == ":resterrorresponse" and body["referer"] == "127.0.0.1"
    assert isinstance(body["restOperationId"], int)
    none = requests.get(bigip_emulator.url + INFO, timeout=10)
    assert none.status_code == 401
    assert none.json()["message"].startswith("Authorization failed: no user authentication header")


@pytest.mark.bigip_emulator(manual_clock=True)
def test_token_login_gives_1200s_token_that_expires_on_the_clock(bigip_emulator) -> None:
    response = _login(bigip_emulator)
    assert response.status_code == 200
    body = response.json()
    token = body["token"]
    assert body["username"] == "admin" and body["loginProviderName"] == "tmos"
    assert token["timeout"] == 1200 and token["userName"] == "admin"
    assert token["kind"] == "shared:authz:tokens:authtokenitemstate"
    assert token["token"] == token["name"] and len(token["token"]) == 26
    assert token["selfLink"] == f"https://localhost/mgmt/shared/authz/tokens/{token['token']}"
    assert token["expirationMicros"] - token["lastUpdateMicros"] == 1200 * 1_000_000
    assert _with_token(bigip_emulator, token["token"]).status_code == 200
    bigip_emulator.clock.advance(1199)
    assert _with_token(bigip_emulator, token["token"]).status_code == 200
    bigip_emulator.clock.advance(1)
    expired = _with_token(bigip_emulator, token["token"])
    assert expired.status_code == 401
    assert expired.json()["message"] == "X-F5-Auth-Token does not exist."


@pytest.mark.bigip_emulator(manual_clock=True)
def test_patch_extends_token_up_to_36000s_and_delete_revokes(bigip_emulator) -> None:
    token = _login(bigip_emulator).json()["token"]["token"]
    path = f"/mgmt/shared/authz/tokens/{token}"
    extended = _with_token(bigip_emulator, token, "PATCH", path, json={"timeout": 3600})
    assert extended.status_code == 200
    assert extended.json()["timeout"] == 3600 and extended.json()["generation"] == 2
    too_long = _with_token(bigip_emulator, token, "PATCH", path, json={"timeout": 36001})
    assert too_long.status_code == 400
    assert too_long.json() == {"code": 400, "message": "Auth-token absolute timeout (36000 seconds) exceeded"}
    bigip_emulator.clock.advance(3000)
    assert _with_token(bigip_emulator, token).status_code == 200
    deleted = _with_token(bigip_emulator, token, "DELETE", path)
    assert deleted.status_code == 200 and deleted.json()["token"] == token
    assert _with_token(bigip_emulator, token).status_code == 401
    logged = [e["path"] for e in bigip_emulator.control.log()]
    assert "/mgmt/shared/authz/tokens/***" in logged
    assert not any(token in p for p in logged)  # token values are credentials: never logged


def test_login_with_wrong_password_is_401(bigip_emulator) -> None:
    response = _login(bigip_emulator, password="wrong")
    assert response.status_code == 401
    assert response.json()["message"] == "Authentication failed."


@pytest.mark.bigip_emulator(username="deployer")
def test_a_non_admin_user_gets_at_most_100_tokens(bigip_emulator) -> None:
    for _ in range(100):
        assert _login(bigip_emulator).status_code == 200
    refused = _login(bigip_emulator)
    assert refused.status_code == 400
    assert refused.json() == {"code": 400, "message": "User deployer has reached maximum active login tokens"}


def test_admin_is_exempt_from_the_token_cap(bigip_emulator) -> None:
    for _ in range(101):
        assert _login(bigip_emulator).status_code == 200
    assert bigip_emulator.control.state()["tokens"] == 101


def test_token_expire_fault_makes_the_next_token_request_401(bigip_emulator) -> None:
    token = _login(bigip_emulator).json()["token"]["token"]
    bigip_emulator.control.faults([{"kind": "token-expire"}])
    assert _with_token(bigip_emulator, token).status_code == 401
    fresh = _login(bigip_emulator).json()["token"]["token"]
    assert _with_token(bigip_emulator, fresh).status_code == 200
    log = bigip_emulator.control.log()
    assert [(e["method"], e["path"], e["status"], e.get("faults")) for e in log] == [
        ("POST", LOGIN, 200, None), ("GET", INFO, 401, ["token-expire"]),
        ("POST", LOGIN, 200, None), ("GET", INFO, 200, None)]
