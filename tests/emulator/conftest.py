"""Fixtures for the emulator tests (the emulator fixtures come from the pytest plugin)."""

from __future__ import annotations

import pytest

from emulator.helpers import Api
from renderer.bigip.emulator.pytest_plugin import EmulatorHandle


@pytest.fixture
def api(bigip_emulator: EmulatorHandle) -> Api:
    return Api(bigip_emulator)
