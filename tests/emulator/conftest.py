"""Fixtures for the emulator tests (the emulator fixtures come from the pytest plugin).

`api` runs each test twice: over plain HTTP and over HTTPS with a trustme certificate, with the
options of the test's `bigip_emulator` marker.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from emulator.helpers import Api
from renderer.emulator.pytest_plugin import EmulatorHandle


@pytest.fixture(params=["http", "https"])
def api(request: pytest.FixtureRequest, bigip_emulator_factory: Callable[..., EmulatorHandle]) -> Api:
    marker = request.node.get_closest_marker("bigip_emulator")
    options = {**(marker.kwargs if marker else {}), "tls": request.param == "https"}
    handle = bigip_emulator_factory(**options)
    assert handle.url.startswith(f"{request.param}://127.0.0.1:")
    return Api(handle)
