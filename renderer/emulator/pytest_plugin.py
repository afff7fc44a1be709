"""pytest fixtures that start the BIG-IP emulator on 127.0.0.1 (a free port) in a thread.

Enable with `pytest_plugins = ["renderer.emulator.pytest_plugin"]` (tests/conftest.py does).

    def test_deploy(bigip_emulator):
        auth = (bigip_emulator.username, bigip_emulator.password)
        verify = bigip_emulator.ca_bundle or True
        requests.post(f"{bigip_emulator.url}/mgmt/shared/appsvcs/declare", json=adc, auth=auth, verify=verify)
        bigip_emulator.control.faults([{"kind": "busy", "times": 1}])   # next declare gets 503
        assert bigip_emulator.control.state()["as3"]["tenants"]["kubernetes"]

Options, with a marker on the test (all optional):

    @pytest.mark.bigip_emulator(tls=True, manual_clock=True, async_threshold=45.0,
                                as3_schema=path, seed={...}, username="admin", password="...")

- `tls`: HTTPS with a certificate from a trustme CA; `.ca_bundle` is the CA's PEM path (else None).
- `manual_clock`: time moves only by `.clock.advance(s)` or `.control.advance(s)`; the clock
  starts at 2026-01-01T00:00:00Z. Default: the system clock. Before advancing past a `slow`
  fault, wait until `.clock.sleepers() == 1` (the request is inside its slow part); the
  auto-async threshold counts from the request's arrival.
- `as3_schema`: validate AS3 bodies with the official schema (one validator per path per session).
- `seed`: a state document loaded before the test (see `control.py`).
- `max_body_bytes`, `max_json_depth`, `max_connections`, `request_seconds`: the HTTP limits
  (`EmulatorConfig`, server.py).

`bigip_emulator_factory(**same options)` starts more devices in one test. The yielded handle has
`.url`, `.username`, `.password`, `.ca_bundle`, `.control` (ControlClient), and for in-process
use `.device`, `.clock` and `.server`. Pass `verify=handle.ca_bundle or True` on every requests
call: `REQUESTS_CA_BUNDLE` in the environment silently overrides `Session.verify`.
"""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from renderer.emulator.clock import Clock, ManualClock, SystemClock
from renderer.emulator.device import Device, EmulatorConfig
from renderer.emulator.server import EmulatorServer
from renderer.emulator.state import load_state

DEFAULT_PASSWORD = "emulator-Pa55word"


class ControlClient:
    """A tiny client for /_emulator/ (state, seeding, faults, log, clock); raises on HTTP errors."""

    def __init__(self, url: str, token: str, verify: str | bool) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["X-Emulator-Token"] = token
        self.verify = verify  # passed per request: REQUESTS_CA_BUNDLE would override session.verify

    def _call(self, method: str, route: str, body: Any = None) -> Any:
        response = self.session.request(method, f"{self.url}/_emulator/{route}", json=body, timeout=30,
                                        verify=self.verify)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict[str, Any]:
        return self._call("GET", "state")

    def seed(self, state: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "state", state)

    def reset(self) -> dict[str, Any]:
        return self._call("DELETE", "state")

    def faults(self, faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self._call("POST", "faults", faults)

    def pending_faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def log(self) -> list[dict[str, Any]]:
        return self.state()["requestLog"]

    def clear_log(self) -> None:
        self._call("DELETE", "log")

    def release_holds(self) -> int:
        return self._call("DELETE", "holds")["released"]

    def advance(self, seconds: float) -> float:
        return self._call("POST", "clock", {"advance": seconds})["now"]

    def ha(self) -> dict[str, Any]:
        """The device group of an HA pair: active device, devices with unsynced changes, syncs."""
        return self._call("GET", "ha")

    def failover(self, to: str) -> dict[str, Any]:
        return self._call("POST", "ha", {"failover": to})

    def mark_pending(self) -> dict[str, Any]:
        """A change made by hand on this device: the group shows "Changes Pending"."""
        return self._call("POST", "ha", {"pending": True})

    def close(self) -> None:
        self.session.close()


@dataclass
class EmulatorHandle:
    url: str
    username: str
    password: str
    ca_bundle: str | None
    control: ControlClient
    device: Device
    clock: Clock
    server: EmulatorServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "bigip_emulator(**options): options for the bigip_emulator fixture")


@pytest.fixture(scope="session")
def _bigip_emulator_session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Expensive things shared by all emulators of a session: the trustme CA, schema validators."""
    return {"dir": tmp_path_factory.mktemp("bigip-emulator"), "ca": None, "validators": {}}


def _tls(shared: dict[str, Any]) -> tuple[ssl.SSLContext, str]:
    import trustme

    if shared["ca"] is None:
        ca = trustme.CA()
        bundle = Path(shared["dir"]) / "ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        shared["ca"] = (ca, ca.issue_cert("127.0.0.1", "localhost"), str(bundle))
    _ca, cert, bundle = shared["ca"]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    return context, bundle


def _validator(shared: dict[str, Any], path: str | Path | None) -> Any:
    if path is None:
        return None
    key = str(Path(path).resolve())
    if key not in shared["validators"]:
        from renderer.validate import As3Validator

        shared["validators"][key] = As3Validator.from_path(key)
    return shared["validators"][key]


@pytest.fixture
def bigip_emulator_factory(_bigip_emulator_session: dict[str, Any]) -> Iterator[Callable[..., EmulatorHandle]]:
    started: list[EmulatorHandle] = []

    def start(tls: bool = False, manual_clock: bool = False, async_threshold: float = 45.0,
              as3_schema: str | Path | None = None, seed: dict[str, Any] | None = None,
              username: str = "admin", password: str = DEFAULT_PASSWORD,
              state_file: str | Path | None = None, **limits: Any) -> EmulatorHandle:
        clock: Clock = ManualClock() if manual_clock else SystemClock()
        token = secrets.token_hex(16)
        config = EmulatorConfig(username=username, password=password, control_token=token,
                                async_threshold=async_threshold,
                                state_file=Path(state_file) if state_file else None, **limits)
        device = Device(config, clock=clock, validator=_validator(_bigip_emulator_session, as3_schema))
        if seed is not None:
            device.state = load_state(seed, base=device.state)
        context, bundle = _tls(_bigip_emulator_session) if tls else (None, None)
        server = EmulatorServer(device, "127.0.0.1", 0, context).start()
        control = ControlClient(server.url, token, bundle or True)
        handle = EmulatorHandle(server.url, username, password, bundle, control, device, clock, server)
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.control.close()
        handle.server.stop()


@pytest.fixture
def bigip_pair(bigip_emulator_factory: Callable[..., EmulatorHandle]) -> Callable[..., dict[str, EmulatorHandle]]:
    """`bigip_pair(names=("bigip-a", "bigip-b"), group="failover-group", **options)`: devices on their own
    ports; with a `group` they form a sync-failover device group (the first is active)."""
    from renderer.emulator.ha import DeviceGroup

    def start(names: tuple[str, ...] = ("bigip-a", "bigip-b"), group: str | None = "failover-group",
              **options: Any) -> dict[str, EmulatorHandle]:
        handles = {name: bigip_emulator_factory(**options) for name in names}
        if group is not None:
            DeviceGroup(group, {name: h.device for name, h in handles.items()})
        return handles

    return start


@pytest.fixture
def bigip_emulator(request: pytest.FixtureRequest,
                   bigip_emulator_factory: Callable[..., EmulatorHandle]) -> EmulatorHandle:
    marker = request.node.get_closest_marker("bigip_emulator")
    return bigip_emulator_factory(**(marker.kwargs if marker else {}))
