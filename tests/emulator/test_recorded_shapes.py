"""The four AS3 responses recorded in F5's examples, against what the emulator answers for the same request.

"Same shape": every key the recording has is in our answer with a value of the same JSON type
(recursively, lists element by element); our answer may add only keys newer AS3 versions add
(`declarationId` in results, `updateMode`), or, for `show=full`, more schema defaults.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from emulator.helpers import DECLARE, Api, example

NEWER_KEYS = {"declarationId", "updateMode"}


def shape_problems(recorded: Any, ours: Any, path: str = "", extra_ok: bool = False) -> list[str]:
    if isinstance(recorded, dict):
        if not isinstance(ours, dict):
            return [f"{path}: expected an object"]
        problems = [f"{path}/{k}: missing" for k in recorded if k not in ours]
        if not extra_ok:
            problems += [f"{path}/{k}: unexpected" for k in ours if k not in recorded and k not in NEWER_KEYS]
        for key in recorded:
            if key in ours:
                problems += shape_problems(recorded[key], ours[key], f"{path}/{key}", extra_ok)
        return problems
    if isinstance(recorded, list):
        if not isinstance(ours, list) or len(ours) != len(recorded):
            return [f"{path}: expected a list of {len(recorded)}"]
        return [p for i, (r, o) in enumerate(zip(recorded, ours, strict=True))
                for p in shape_problems(r, o, f"{path}/{i}", extra_ok)]
    if type(recorded) is not type(ours):
        return [f"{path}: {type(ours).__name__} instead of {type(recorded).__name__}"]
    return []


def _seed_base(api: Api, declaration: dict[str, Any]) -> None:
    api.handle.control.seed({"as3": {"declaration": declaration}})


def test_simple_http_application_with_show_full(bigip_emulator_factory, as3_schema_path) -> None:
    api = Api(bigip_emulator_factory(as3_schema=as3_schema_path))
    recorded = example("userguide/example-simple-http-application-full.json")
    status, ours = api.call("POST", DECLARE + "?show=full", example("userguide/example-simple-http-application.json"))
    assert status == 200
    assert shape_problems(recorded["results"], ours["results"]) == []
    assert shape_problems(recorded["declaration"], ours["declaration"], extra_ok=True) == []
    assert set(ours) == set(recorded)


@pytest.fixture
def patched_pool_response(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    recorded = example("userguide/example-add-new-server-to-pool-via-patch-full.json")
    base = copy.deepcopy(recorded["declaration"])
    base["Sample_04"]["ApplicationA"]["web_pool"]["members"][0]["serverAddresses"].remove("192.0.1.172")
    _seed_base(api, base)
    status, ours = api.call("PATCH", DECLARE, example("userguide/example-add-new-server-to-pool-via-patch.json"))
    assert status == 200
    return recorded, ours


def test_patch_adding_a_pool_member_matches_recording(patched_pool_response) -> None:
    recorded, ours = patched_pool_response
    assert shape_problems(recorded, ours) == []
    assert ours["declaration"]["Sample_04"] == recorded["declaration"]["Sample_04"]


def test_patch_adding_an_application_matches_recording(api: Api) -> None:
    recorded = example("results/example-add-application-to-tenant-via-patch-full.json")
    # The published file has the ADC's top-level keys beside results/declaration (see PROVENANCE.txt);
    # the tenant sits in `declaration`. Rebuild the device's base declaration from both parts.
    meta = {k: v for k, v in recorded.items() if k not in ("results", "declaration")}
    tenant = copy.deepcopy(recorded["declaration"]["Sample_non_http_01"])
    del tenant["NewAPP"]
    _seed_base(api, {**meta, "Sample_non_http_01": tenant})
    status, ours = api.call("PATCH", DECLARE, example("declarations/example-add-application-to-tenant-via-patch.json"))
    assert status == 200
    assert shape_problems(recorded["results"], ours["results"]) == []
    assert shape_problems(recorded["declaration"], {"Sample_non_http_01": ours["declaration"]["Sample_non_http_01"]}) == []
    for key, value in meta.items():  # the stray top-level keys are in our declaration, same types
        assert shape_problems(value, ours["declaration"][key]) == [], key
    assert ours["declaration"]["Sample_non_http_01"] == recorded["declaration"]["Sample_non_http_01"]


def test_trace_response_matches_recording(api: Api) -> None:
    recorded = example("results/example-traceresponse-output.json")
    status, ours = api.call("POST", DECLARE, example("declarations/example-trace-response.json"))
    assert status == 200
    assert shape_problems(recorded["results"], ours["results"]) == []
    assert shape_problems(recorded["declaration"], ours["declaration"]) == []
    # traces: the same four parts; entries with the same fields (the emulator's tmsh is a stand-in)
    tenant = "trace_tenant"
    assert sorted(ours["traces"]) == sorted(recorded["traces"])
    for part in ("Desired", "Current"):
        assert isinstance(ours["traces"][tenant + part], dict)
        for entry in ours["traces"][tenant + part].values():
            assert sorted(entry) == ["command", "ignore", "properties"]
    assert sorted(next(iter(recorded["traces"][tenant + "Desired"].values()))) == ["command", "ignore", "properties"]
    recorded_diff_keys = {tuple(sorted(d)) for d in recorded["traces"][tenant + "Diff"]}
    assert {tuple(sorted(d)) for d in ours["traces"][tenant + "Diff"]} == recorded_diff_keys
    assert ours["traces"][tenant + "Script"].startswith("cli script __appsvcs_update {\nproc script::run {} {\n")
