"""Helpers for the emulator tests: an authenticated session bound to one emulator, small ADCs."""

from __future__ import annotations

import json
from typing import Any

import requests
from reference_data import reference

from renderer.emulator.pytest_plugin import EmulatorHandle

DECLARE = "/mgmt/shared/appsvcs/declare"


class Api:
    """Basic-auth session against the emulator; `call` returns (status, parsed JSON body or None)."""

    def __init__(self, handle: EmulatorHandle) -> None:
        self.handle = handle
        self.session = requests.Session()
        self.session.auth = (handle.username, handle.password)
        self.verify = handle.ca_bundle or True  # per request: REQUESTS_CA_BUNDLE would beat session.verify

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             data: bytes | None = None) -> tuple[int, Any]:
        response = self.session.request(method, self.handle.url + path, json=body, data=data,
                                        headers=headers, timeout=30, verify=self.verify)
        if not response.content:
            return response.status_code, None
        return response.status_code, response.json()


def example(rel: str) -> Any:
    return json.loads(reference("as3-examples", rel).read_text())


def adc(tenants: dict[str, Any], **meta: Any) -> dict[str, Any]:
    """A small ADC: tenants given as {name: {app: {obj: {...}}}} or full tenant dicts."""
    out: dict[str, Any] = {"class": "ADC", "schemaVersion": "3.56.0", "id": "test-1", **meta}
    out.update(tenants)
    return out


def http_tenant(address: str = "10.0.1.10", members: tuple[str, ...] = ("192.0.1.10",)) -> dict[str, Any]:
    return {"class": "Tenant", "app": {
        "class": "Application",
        "service": {"class": "Service_HTTP", "virtualAddresses": [address], "pool": "pool"},
        "pool": {"class": "Pool", "members": [{"servicePort": 80, "serverAddresses": list(members)}]},
    }}
