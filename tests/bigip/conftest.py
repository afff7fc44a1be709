"""Fixtures of the deploy and plan tests against the BIG-IP emulator."""

from __future__ import annotations

import pytest


@pytest.fixture
def emulator_credentials(monkeypatch: pytest.MonkeyPatch, bigip_emulator) -> None:
    """BIGIP_USERNAME / BIGIP_PASSWORD of the test's emulator, as a CI job gets them from its secrets.

    A module uses it for all its tests with `pytestmark = pytest.mark.usefixtures("emulator_credentials")`
    (after the autouse _isolated_home, which clears BIGIP_PASSWORD)."""
    monkeypatch.setenv("BIGIP_USERNAME", bigip_emulator.username)
    monkeypatch.setenv("BIGIP_PASSWORD", bigip_emulator.password)
