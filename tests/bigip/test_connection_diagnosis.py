"""Issue 16 item 4: connection and TLS failures name the real cause, the host and the port.

Real sockets on 127.0.0.1: the plain-HTTP emulator behind an https:// URL, a port nobody listens
on, an HTTPS emulator with an untrusted certificate, and a host given without a scheme."""

from __future__ import annotations

import io
import socket
import sys

import pytest

from renderer.bigip.connection import endpoint, normalise_host
from renderer.cli import main

pytestmark = pytest.mark.usefixtures("emulator_credentials")


def _plan(make_repo, host: str, *extra: str) -> tuple[int, str]:
    from bigip.deploy_harness import HELLO

    repo = make_repo(HELLO)
    err = io.StringIO()
    saved = sys.stderr, sys.stdout
    sys.stderr, sys.stdout = err, io.StringIO()
    try:
        code = main(["plan", str(repo.path), "--host", host, *extra])
    finally:
        sys.stderr, sys.stdout = saved
    return code, err.getvalue()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_https_against_a_plain_http_port_says_it_does_not_speak_tls(bigip_emulator, make_repo) -> None:
    https = bigip_emulator.url.replace("http://", "https://")
    port = bigip_emulator.url.rsplit(":", 1)[1]
    for extra in ((), ("--insecure",)):  # the same cause, also when verification is off
        code, err = _plan(make_repo, https, *extra)
        assert code == 3
        assert f"127.0.0.1:{port} does not speak TLS" in err
        assert "TLS verification" not in err and "use --insecure" not in err


def test_a_host_without_a_scheme_is_https_and_the_cause_is_named(bigip_emulator, make_repo) -> None:
    bare = bigip_emulator.url.removeprefix("http://")
    code, err = _plan(make_repo, bare)
    assert code == 3
    assert f"{bare} does not speak TLS" in err
    assert f"use {bare} with http://" in err


def test_connection_refused_names_host_and_port(bigip_emulator, make_repo) -> None:
    port = _free_port()
    code, err = _plan(make_repo, f"http://127.0.0.1:{port}")
    assert code == 3
    assert f"connection to 127.0.0.1:{port} refused" in err


@pytest.mark.bigip_emulator(tls=True)
def test_an_untrusted_certificate_is_a_verification_failure(bigip_emulator, make_repo, monkeypatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    code, err = _plan(make_repo, bigip_emulator.url)
    assert code == 3
    assert f"the TLS certificate of {endpoint(bigip_emulator.url)} is not trusted" in err
    assert "--ca-bundle" in err


@pytest.mark.bigip_emulator(tls=True)
def test_requests_ca_bundle_from_the_environment_is_honoured(bigip_emulator, make_repo, monkeypatch) -> None:
    """Item 12: the client no longer ignores the environment (trust_env): REQUESTS_CA_BUNDLE names the CA."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bigip_emulator.ca_bundle)
    code, err = _plan(make_repo, bigip_emulator.url)
    assert code == 0, err


def test_normalise_host() -> None:
    assert normalise_host("10.0.0.1") == "https://10.0.0.1"
    assert normalise_host("::1") == "https://[::1]"
    assert normalise_host("http://h:8443") == "http://h:8443"
    assert endpoint("https://[::1]") == "[::1]:443"
    assert endpoint("http://u:secret@h:8080/x?y") == "h:8080"
