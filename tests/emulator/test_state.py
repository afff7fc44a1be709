"""Device state: JSON round trip, seed checks, and atomic --state file writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from emulator.helpers import Api, adc, http_tenant
from renderer.emulator.state import (
    DeviceState,
    StateError,
    load_state,
    read_state_file,
    state_to_json,
    write_state_file,
)


def test_missing_state_file_is_a_factory_device(tmp_path: Path) -> None:
    state = read_state_file(tmp_path / "none.json")
    assert state_to_json(state) == state_to_json(DeviceState())
    assert sorted(state.net.tunnels) == ["/Common/http-tunnel", "/Common/socks-tunnel"]


def test_state_round_trips_through_the_file(tmp_path: Path) -> None:
    state = load_state({"as3": {"declaration": adc({"T1": http_tenant()}, label="x")}, "saveCount": 3})
    path = tmp_path / "s.json"
    write_state_file(path, state)
    text = path.read_text()
    assert text.endswith("}\n") and json.loads(text)["as3"]["meta"]["label"] == "x"
    assert state_to_json(read_state_file(path)) == state_to_json(state)


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "s.json"
    write_state_file(path, DeviceState())
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_state_file(path, load_state({"saveCount": 9}))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


@pytest.mark.parametrize(("data", "message"), [
    ([], "state must be a JSON object"),
    ({"as3": {"declaration": {"class": "AS3"}}}, 'as3.declaration must be an ADC (an object with "class": "ADC")'),
    ({"net": {"arps": {"/Common/a": {"name": "b", "partition": "Common"}}}},
     "net.arps['/Common/a'] needs name and partition matching its key"),
    ({"net": {"fdb": {"/Common/nope": []}}}, "net.fdb has records for unknown tunnel(s): /Common/nope"),
    ({"saveCount": "1"}, "saveCount must be an integer"),
])
def test_bad_state_documents_are_refused(data: object, message: str) -> None:
    with pytest.raises(StateError) as err:
        load_state(data)
    assert str(err.value) == message


def test_device_writes_its_state_file_after_each_change(bigip_emulator_factory, tmp_path: Path) -> None:
    path = tmp_path / "device.json"
    api = Api(bigip_emulator_factory(state_file=path))
    assert not path.exists()
    api.call("POST", "/mgmt/tm/net/arp", {"name": "10.1.1.1", "ipAddress": "10.1.1.1", "macAddress": "02:00:00:00:00:01"})
    assert "/Common/10.1.1.1" in json.loads(path.read_text())["net"]["arps"]
    api.call("GET", "/mgmt/tm/net/arp")
    api.call("DELETE", "/mgmt/tm/net/arp/~Common~10.1.1.1")
    assert json.loads(path.read_text())["net"]["arps"] == {}
