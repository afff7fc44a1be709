"""The BIG-IP client against a scripted HTTP(S) server on 127.0.0.1: auth, retries, AS3 replies."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator

import pytest
import trustme

from bigip.scripted import Answer, ScriptedServer
from renderer.bigip.client import (
    BigipClient,
    Credentials,
    DeadlineExceeded,
    OutcomeUnknown,
    TenantResult,
    Timing,
)
from renderer.errors import DeviceError

PASSWORD = "s3cret-Pa55"
DECLARE = "/mgmt/shared/appsvcs/declare"
TASK = "/mgmt/shared/appsvcs/task/"


def fast_timing(waits: list[float] | None = None) -> Timing:
    def sleep(seconds: float) -> None:
        if waits is not None:
            waits.append(seconds)
        time.sleep(min(seconds, 0.01))

    return Timing(
        connect_timeout=2,
        read_timeout=5,
        busy_first=0.5,
        busy_max=4,
        poll_first=0.05,
        poll_max=0.2,
        jitter=0.25,
        sleep=sleep,
        rng=random.Random(7),
    )


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    yield srv
    srv.close()


def make_client(server: ScriptedServer, waits: list[float] | None = None, **kw) -> BigipClient:
    kw.setdefault("session_seconds", 60)
    return BigipClient(server.url, Credentials("admin", PASSWORD), timing=fast_timing(waits), **kw)


def calls(server: ScriptedServer) -> list[str]:
    return [f"{e.method} {e.path.split('?')[0]}" for e in server.script.log]


def ok_results(*tenants: str) -> dict:
    return {"results": [{"code": 200, "message": "success", "tenant": t} for t in tenants], "declaration": {}}


def test_login_uses_token_extends_it_for_long_runs_and_revokes_it_on_close(server: ScriptedServer) -> None:
    server.script.add("GET", "/mgmt/shared/appsvcs/info", Answer(200, {"version": "3.56.0"}))
    with make_client(server, session_seconds=3000) as client:
        assert client.as3_info() == {"version": "3.56.0"}
    assert calls(server) == [
        "POST /mgmt/shared/authn/login",
        "PATCH /mgmt/shared/authz/tokens/TOKEN1",
        "GET /mgmt/shared/appsvcs/info",
        "DELETE /mgmt/shared/authz/tokens/TOKEN1",
    ]
    login = json.loads(server.script.log[0].body)
    assert login["loginProviderName"] == "tmos"
    assert json.loads(server.script.log[1].body) == {"timeout": 3600}
    assert server.script.log[2].headers["X-F5-Auth-Token"] == "TOKEN1"


def test_short_run_does_not_extend_the_token(server: ScriptedServer) -> None:
    with make_client(server, session_seconds=300) as client:
        client.login()
    assert calls(server) == ["POST /mgmt/shared/authn/login", "DELETE /mgmt/shared/authz/tokens/TOKEN1"]


def test_expired_token_is_renewed_once_and_the_request_repeated(server: ScriptedServer) -> None:
    expired = Answer(401, {"code": 401, "message": "X-F5-Auth-Token does not exist."})
    server.script.add("GET", "/mgmt/tm/net/arp", expired, Answer(200, {"items": []}))
    with make_client(server, session_seconds=60) as client:
        client.login()
        assert client.tm_get("/mgmt/tm/net/arp") == {"items": []}
    assert calls(server) == [
        "POST /mgmt/shared/authn/login",
        "GET /mgmt/tm/net/arp",
        "POST /mgmt/shared/authn/login",
        "GET /mgmt/tm/net/arp",
        "DELETE /mgmt/shared/authz/tokens/TOKEN2",
    ]
    assert server.script.log[3].headers["X-F5-Auth-Token"] == "TOKEN2"


def test_wrong_password_is_a_device_error_without_the_password(server: ScriptedServer) -> None:
    client = BigipClient(server.url, Credentials("admin", "wrong-Secret-99"), timing=fast_timing())
    with pytest.raises(DeviceError) as info:
        client.login()
    assert str(info.value) == "login as 'admin' failed: HTTP 401 Authentication failed."
    assert "wrong-Secret-99" not in repr(info.value) + str(info.value.hint) + repr(client._credentials)


def test_busy_twice_then_success_waits_with_growing_jittered_backoff(server: ScriptedServer) -> None:
    busy = Answer(
        503,
        {
            "code": 503,
            "message": "Error: Configuration operation in progress on device localhost, please try again in 2 minutes",
        },
    )
    server.script.add("POST", DECLARE, busy, busy, Answer(200, ok_results("T1")))
    waits: list[float] = []
    with make_client(server, waits) as client:
        results = client.declare({"class": "AS3"}, ["T1"], deadline=time.monotonic() + 30)
    assert results == [TenantResult("T1", 200, "success")]
    assert calls(server).count("POST /mgmt/shared/appsvcs/declare/T1") == 3
    assert len(waits) == 2
    assert 0.375 <= waits[0] <= 0.625 and 0.75 <= waits[1] <= 1.25


def test_busy_until_the_deadline_gives_up(server: ScriptedServer) -> None:
    busy = Answer(503, {"code": 503, "message": "Error: Configuration operation in progress"})
    server.script.add("POST", DECLARE, *[busy] * 10)
    with make_client(server) as client, pytest.raises(DeadlineExceeded) as info:
        client.declare({"class": "AS3"}, ["T1"], deadline=time.monotonic() + 0.3)
    assert info.value.message.startswith("device busy (HTTP 503) until the deadline")


def test_async_submit_is_polled_until_the_task_finishes(server: ScriptedServer) -> None:
    running = {"id": "abc", "results": [{"code": 0, "message": "in progress", "tenant": ""}], "declaration": {}}
    server.script.add(
        "POST",
        DECLARE,
        Answer(202, {**running, "results": [{"code": 0, "message": "Declaration successfully submitted"}]}),
    )
    server.script.add(
        "GET",
        TASK + "abc",
        Answer(200, running),
        Answer(200, running),
        Answer(200, {"id": "abc", **ok_results("T1", "T2")}),
    )
    with make_client(server) as client:
        results = client.declare({"class": "AS3"}, ["T1", "T2"], deadline=time.monotonic() + 10)
    assert [r.describe() for r in results] == ["T1: 200 success", "T2: 200 success"]
    assert calls(server)[1:-1] == ["POST /mgmt/shared/appsvcs/declare/T1,T2"] + ["GET " + TASK + "abc"] * 3
    assert server.script.log[1].path.endswith("?async=true")


def test_a_202_from_a_synchronous_call_is_followed_like_an_async_submit(server: ScriptedServer) -> None:
    running = {"id": "slow-1", "results": [{"code": 0, "message": "in progress"}]}
    server.script.add("POST", DECLARE, Answer(202, running))
    server.script.add("GET", TASK + "slow-1", Answer(200, {"id": "slow-1", **ok_results("T1")}))
    with make_client(server) as client:
        assert client.declare({}, ["T1"], deadline=time.monotonic() + 10)[0].ok


def test_partial_failure_207_reports_each_tenant(server: ScriptedServer) -> None:
    body = {
        "code": 207,
        "results": [
            {"code": 200, "message": "success", "tenant": "T1"},
            {"code": 422, "message": "declaration failed", "tenant": "T2", "response": "01070734:3: bad"},
        ],
    }
    server.script.add("POST", DECLARE, Answer(207, body))
    with make_client(server) as client:
        results = client.declare({}, ["T1", "T2"], deadline=time.monotonic() + 10)
    assert [r.ok for r in results] == [True, False]
    assert results[1].describe() == "T2: 422 declaration failed: 01070734:3: bad"


def test_invalid_declaration_422_carries_the_schema_error(server: ScriptedServer) -> None:
    body = {
        "code": 422,
        "errors": ["/T1/app/svc: should have required property 'virtualAddresses'"],
        "message": "declaration is invalid",
        "tenant": ["T1"],
    }
    server.script.add("POST", DECLARE, Answer(422, body))
    with make_client(server) as client:
        (result,) = client.declare({}, ["T1"], deadline=time.monotonic() + 10)
    assert result.describe() == (
        "T1: 422 declaration is invalid: /T1/app/svc: should have required property 'virtualAddresses'"
    )


def test_html_500_body_becomes_a_readable_failure(server: ScriptedServer) -> None:
    html = "<html><head><title>Error 500 AsyncContext timeout</title></head><body><pre>x</pre></body></html>"
    server.script.add("POST", DECLARE, Answer(500, html))
    with make_client(server) as client:
        (result,) = client.declare({}, ["T1"], deadline=time.monotonic() + 10)
    assert not result.ok
    assert result.describe() == "(declaration): 500 HTTP 500: non-JSON (HTML) body: Error 500 AsyncContext timeout"


def test_etimedout_code_in_a_task_result_is_a_failure(server: ScriptedServer) -> None:
    server.script.add("POST", DECLARE, Answer(202, {"id": "t9", "results": []}))
    server.script.add(
        "GET",
        TASK + "t9",
        Answer(
            200,
            {
                "id": "t9",
                "results": [{"code": "ETIMEDOUT", "message": "connect ETIMEDOUT 10.0.0.1:443", "tenant": "T1"}],
            },
        ),
    )
    with make_client(server) as client:
        (result,) = client.declare({}, ["T1"], deadline=time.monotonic() + 10)
    assert not result.ok
    assert result.describe() == "T1: ETIMEDOUT connect ETIMEDOUT 10.0.0.1:443: device reported ETIMEDOUT"


def test_dropped_connection_on_post_is_an_unknown_outcome_and_not_repeated(server: ScriptedServer) -> None:
    server.script.add("POST", DECLARE, Answer(drop=True))
    with make_client(server) as client, pytest.raises(OutcomeUnknown) as info:
        client.declare({}, ["T1"], deadline=time.monotonic() + 10)
    assert "connection lost before an answer" in info.value.message
    assert calls(server).count("POST /mgmt/shared/appsvcs/declare/T1") == 1


def test_dropped_connection_while_polling_is_retried(server: ScriptedServer) -> None:
    server.script.add("POST", DECLARE, Answer(202, {"id": "p1", "results": []}))
    server.script.add("GET", TASK + "p1", Answer(drop=True), Answer(200, {"id": "p1", **ok_results("T1")}))
    with make_client(server) as client:
        assert client.declare({}, ["T1"], deadline=time.monotonic() + 10)[0].ok
    assert calls(server).count("GET " + TASK + "p1") == 2


def test_task_still_running_at_the_deadline_raises(server: ScriptedServer) -> None:
    running = {"id": "r", "results": [{"code": 0, "message": "in progress"}]}
    server.script.add("POST", DECLARE, Answer(202, running))
    server.script.add("GET", TASK + "r", *[Answer(200, running)] * 50)
    with make_client(server) as client, pytest.raises(DeadlineExceeded) as info:
        client.declare({}, ["T1"], deadline=time.monotonic() + 0.2)
    assert info.value.message == "AS3 task r still running at the deadline"


def test_stats_count_requests_writes_and_bytes(server: ScriptedServer) -> None:
    server.script.add("GET", "/mgmt/tm/net/arp", Answer(200, {"items": []}))
    client = make_client(server)
    client.tm_get("/mgmt/tm/net/arp")
    assert (client.stats.requests, client.stats.writes) == (2, 1)
    assert client.stats.bytes_received == len(json.dumps({"token": {"token": "TOKEN1", "timeout": 1200}})) + len(
        json.dumps({"items": []})
    )


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[ScriptedServer]:
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    srv = ScriptedServer(tls=ctx)
    yield srv
    srv.close()


def test_tls_is_verified_by_default_and_an_unknown_ca_is_refused(tls_server: ScriptedServer) -> None:
    client = make_client(tls_server)
    with pytest.raises(DeviceError) as info:
        client.login()
    where = tls_server.url.removeprefix("https://")
    assert info.value.message.startswith(f"the TLS certificate of {where} is not trusted by ")
    assert "--ca-bundle" in (info.value.hint or "")


def test_ca_bundle_makes_tls_work(tls_server: ScriptedServer, ca: trustme.CA, tmp_path) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with make_client(tls_server, verify=str(bundle)) as client:
        client.login()
    assert calls(tls_server)[0] == "POST /mgmt/shared/authn/login"


def test_insecure_skips_verification_without_a_python_warning(tls_server: ScriptedServer) -> None:
    with make_client(tls_server, verify=False) as client:
        client.login()  # filterwarnings=error would fail on urllib3's InsecureRequestWarning
    assert calls(tls_server) == ["POST /mgmt/shared/authn/login", "DELETE /mgmt/shared/authz/tokens/TOKEN1"]
