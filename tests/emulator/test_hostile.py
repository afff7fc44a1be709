"""Hostile and unlucky requests get an answer (400/413/503 with an AS3-style body), never a closed
socket, a traceback or a thread held forever; a factory reset cancels running AS3 tasks."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from typing import Any

import pytest

from emulator.helpers import Api, adc, http_tenant

AUTH = "Basic " + base64.b64encode(b"admin:emulator-Pa55word").decode()
ENDPOINTS = [
    ("POST", "/mgmt/shared/appsvcs/declare"),
    ("POST", "/mgmt/shared/appsvcs/declare?async=true"),
    ("PATCH", "/mgmt/shared/appsvcs/declare"),
    ("POST", "/mgmt/shared/appsvcs/settings"),
    ("POST", "/mgmt/tm/net/arp"),
    ("PATCH", "/mgmt/tm/net/fdb/tunnel/~Common~http-tunnel"),
    ("POST", "/mgmt/tm/ltm/data-group/internal"),
    ("POST", "/mgmt/tm/transaction"),
    ("POST", "/mgmt/shared/authn/login"),
]


def raw(handle: Any, data: bytes, read_timeout: float = 10.0) -> tuple[int, dict[str, Any] | None, float]:
    """Send bytes on a fresh plain-HTTP connection; (status, JSON body, seconds until the answer)."""
    host, port = handle.url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=read_timeout) as conn:
        conn.sendall(data)
        chunks = []
        while True:
            try:
                piece = conn.recv(65536)
            except TimeoutError:
                break
            if not piece:
                break
            chunks.append(piece)
            text = b"".join(chunks)
            head, _, body = text.partition(b"\r\n\r\n")
            if b"content-length:" in head.lower():
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                if len(body) >= length:
                    break
    elapsed = time.monotonic() - started
    text = b"".join(chunks)
    if not text:
        return 0, None, elapsed
    head, _, body = text.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, json.loads(body) if body.strip() else None, elapsed


def request(method: str, path: str, body: bytes, extra: str = "") -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\n"
            f"Content-Type: application/json\r\n{extra}")
    if "Content-Length" not in extra and "Transfer-Encoding" not in extra:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def as3_style(body: Any, status: int) -> bool:
    return isinstance(body, dict) and body.get("code") == status and isinstance(body.get("message"), str)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_deep_nesting_and_huge_integers_are_400_on_every_endpoint(bigip_emulator, method: str, path: str) -> None:
    for body in (b"[" * 1000 + b"]" * 1000, b'{"a":' * 1000 + b"1" + b"}" * 1000, b"1" * 5000,
                 b'{"class": "ADC", "x": ' + b"9" * 4301 + b"}"):
        status, reply, _ = raw(bigip_emulator, request(method, path, body))
        assert status == 400 and as3_style(reply, 400), (body[:20], status, reply)
    text = json.dumps(raw(bigip_emulator, request(method, path, b"[" * 70 + b"]" * 70))[1])
    assert "deeper than the limit of 64" in text


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_null_or_scalar_body_is_never_a_500(bigip_emulator, method: str, path: str) -> None:
    for body in (b"null", b'"text"', b"5", b"[]"):
        status, reply, _ = raw(bigip_emulator, request(method, path, body))
        assert 200 <= status < 500, (body, status, reply)
        assert isinstance(reply, dict | list)
    tasks = Api(bigip_emulator).call("GET", "/mgmt/shared/appsvcs/task")[1]["items"]
    assert not [t for t in tasks if any(r.get("code") == 500 for r in t["results"])]


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "12, 13", "99999999999999999999999"])
def test_a_bad_content_length_is_a_400_and_the_connection_closes(bigip_emulator, length: str) -> None:
    status, reply, _ = raw(bigip_emulator, request("POST", "/mgmt/tm/net/arp", b"{}", f"Content-Length: {length}\r\n"))
    assert status == 400 and as3_style(reply, 400) and "Content-Length" in reply["message"]


@pytest.mark.parametrize("chunk", [b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n", b"-1\r\n", b"1" * 40 + b"\r\n"])
def test_a_bad_chunk_size_is_a_400(bigip_emulator, chunk: bytes) -> None:
    status, reply, _ = raw(bigip_emulator, request("POST", "/mgmt/tm/net/arp", chunk, "Transfer-Encoding: chunked\r\n"))
    assert status == 400 and as3_style(reply, 400)


@pytest.mark.bigip_emulator(max_body_bytes=1000)
def test_an_oversized_body_is_a_413_without_reading_it(bigip_emulator) -> None:
    big = request("POST", "/mgmt/shared/appsvcs/declare", b"", "Content-Length: 50000000\r\n")
    status, reply, elapsed = raw(bigip_emulator, big)  # the 50 MB never come: answered from the headers
    assert status == 413 and as3_style(reply, 413) and elapsed < 5
    chunked = b"400\r\n" + b"x" * 1024 + b"\r\n400\r\n" + b"x" * 1024 + b"\r\n0\r\n\r\n"
    status, reply, _ = raw(bigip_emulator, request("POST", "/mgmt/tm/net/arp", chunked, "Transfer-Encoding: chunked\r\n"))
    assert status == 413 and as3_style(reply, 413)
    assert bigip_emulator.control.log() == []  # never reached the device


@pytest.mark.bigip_emulator(request_seconds=0.5)
def test_a_slow_request_is_cut_off_and_frees_its_thread(bigip_emulator) -> None:
    before = threading.active_count()
    host, port = bigip_emulator.url.removeprefix("http://").split(":")
    conns = []
    for _ in range(3):  # slow-loris: headers promise 100 bytes, 10 arrive
        conn = socket.create_connection((host, int(port)), timeout=10)
        conn.sendall(request("POST", "/mgmt/tm/net/arp", b"", "Content-Length: 100\r\n") + b"0123456789")
        conns.append(conn)
    started = time.monotonic()
    for conn in conns:
        assert conn.recv(1024) == b""  # closed by the server
        conn.close()
    assert time.monotonic() - started < 5
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert threading.active_count() <= before
    assert Api(bigip_emulator).call("GET", "/mgmt/shared/appsvcs/info")[0] == 200  # still serving


@pytest.mark.bigip_emulator(max_connections=2)
def test_connections_beyond_the_limit_get_a_503_at_once(bigip_emulator) -> None:
    host, port = bigip_emulator.url.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(2)]
    time.sleep(0.2)  # both accepted and holding their slot
    try:
        status, reply, elapsed = raw(bigip_emulator, request("GET", "/mgmt/shared/appsvcs/info", b""))
        assert status == 503 and as3_style(reply, 503) and elapsed < 5
    finally:
        for conn in idle:
            conn.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if raw(bigip_emulator, request("GET", "/mgmt/shared/appsvcs/info", b""))[0] == 200:
            break
        time.sleep(0.05)
    else:
        pytest.fail("slots were not given back")


@pytest.mark.bigip_emulator(manual_clock=True)
def test_factory_reset_cancels_a_running_task(bigip_emulator) -> None:
    api = Api(bigip_emulator)
    bigip_emulator.control.faults([{"kind": "slow", "seconds": 600}])
    status, body = api.call("POST", "/mgmt/shared/appsvcs/declare?async=true", adc({"T1": http_tenant()}))
    assert status == 202
    deadline = time.monotonic() + 5
    while bigip_emulator.clock.sleepers() != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert bigip_emulator.clock.sleepers() == 1  # the task is inside its slow part, holding AS3's lock
    bigip_emulator.control.reset()
    deadline = time.monotonic() + 5
    while bigip_emulator.clock.sleepers() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert bigip_emulator.clock.sleepers() == 0  # cancelled, without the clock moving
    time.sleep(0.1)
    assert bigip_emulator.control.state()["as3"]["tenants"] == {}  # it wrote nothing into the new state
    status, body = api.call("POST", "/mgmt/shared/appsvcs/declare", adc({"T2": http_tenant()}))
    assert status == 200, body  # AS3's lock was given back
