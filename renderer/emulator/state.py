"""The emulated device's configuration, its JSON form, and atomic persistence to `--state FILE`.

One JSON document is used for three things: `GET /_emulator/state` (plus the request log),
`POST /_emulator/state` (seeding), and the `--state` file. `load_state` and `state_to_json`
round-trip exactly, so a dumped state can be seeded back unchanged.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from renderer.fileio import write_atomic

NET_KINDS = ("vxlan", "tunnels", "selfs", "arps", "routes")
BUILTIN_VXLAN = {
    "/Common/vxlan": {"name": "vxlan", "partition": "Common", "encapsulationType": "vxlan",
                      "floodingType": "multicast", "port": 4789, "generation": 1},
}
BUILTIN_TUNNELS = {
    f"/Common/{name}": {"name": name, "partition": "Common", "profile": "/Common/tcp-forward",
                        "generation": 1}
    for name in ("http-tunnel", "socks-tunnel")
}


class StateError(ValueError):
    """A state document (seed or --state file) has the wrong shape; path/line/column when known."""

    def __init__(self, message: str, path: str | None = None, line: int = 0, column: int | None = None):
        super().__init__(message)
        self.message, self.path, self.line, self.column = message, path, line, column


@dataclass
class As3State:
    """What AS3 remembers: the stored declaration (split into meta + tenants) and its history."""

    meta: dict[str, Any] = field(default_factory=dict)
    tenants: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)  # newest first: {timestamp, declaration}
    settings: dict[str, Any] = field(default_factory=lambda: {
        "asyncTaskStorage": "data-group", "burstHandlingEnabled": False,
        "performanceTracingEnabled": False, "performanceTracingEndpoint": "",
        "serviceDiscoveryEnabled": True,
    })

    def declaration(self) -> dict[str, Any] | None:
        """The stored base declaration, or None when no tenant is deployed (GET answers 204)."""
        if not self.tenants:
            return None
        return {**copy.deepcopy(self.meta), **copy.deepcopy(self.tenants)}


@dataclass
class NetState:
    """L2/L3 objects keyed by fullPath; FDB records keyed by tunnel fullPath."""

    vxlan: dict[str, dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(BUILTIN_VXLAN))
    tunnels: dict[str, dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(BUILTIN_TUNNELS))
    selfs: dict[str, dict[str, Any]] = field(default_factory=dict)
    arps: dict[str, dict[str, Any]] = field(default_factory=dict)
    routes: dict[str, dict[str, Any]] = field(default_factory=dict)
    fdb: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {path: [] for path in BUILTIN_TUNNELS})
    generation: int = 1

    def bump(self) -> int:
        self.generation += 1
        return self.generation


@dataclass
class LtmState:
    """LTM objects the emulator keeps: internal data-groups keyed by fullPath (locks, journals)."""

    data_groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    generation: list[int] = field(default_factory=lambda: [1])  # a list so handlers can bump it in place


@dataclass
class DeviceState:
    as3: As3State = field(default_factory=As3State)
    net: NetState = field(default_factory=NetState)
    ltm: LtmState = field(default_factory=LtmState)
    save_count: int = 0


def state_to_json(state: DeviceState) -> dict[str, Any]:
    """The persistent part of the state as plain JSON data (deep copies)."""
    a, n = state.as3, state.net
    return copy.deepcopy({
        "as3": {"declaration": a.declaration(), "meta": a.meta, "tenants": a.tenants,
                "history": a.history, "settings": a.settings},
        "net": {"vxlan": n.vxlan, "tunnels": n.tunnels, "selfs": n.selfs, "arps": n.arps,
                "routes": n.routes, "fdb": n.fdb, "generation": n.generation},
        "ltm": {"dataGroups": state.ltm.data_groups, "generation": state.ltm.generation[0]},
        "saveCount": state.save_count,
    })


def _dict_of_dicts(data: Any, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise StateError(f"{where} must be an object of objects")
    return copy.deepcopy(data)


def load_state(data: Any, base: DeviceState | None = None) -> DeviceState:
    """Build a state from its JSON form; sections missing from `data` keep `base`'s (or factory) values.

    `as3` may carry either `tenants` (+`meta`) or a whole `declaration` (an ADC, as CIS would have
    posted it), which is split into meta and tenants.
    """
    if not isinstance(data, dict):
        raise StateError("state must be a JSON object")
    unknown = set(data) - {"as3", "net", "ltm", "saveCount", "requestLog", "faults", "tasks", "tokens"}
    if unknown:
        raise StateError(f"unknown state section(s): {', '.join(sorted(unknown))}")
    state = copy.deepcopy(base) if base is not None else DeviceState()
    if "as3" in data:
        state.as3 = _load_as3(data["as3"])
    if "net" in data:
        state.net = _load_net(data["net"])
    if "ltm" in data:
        state.ltm = _load_ltm(data["ltm"])
    if "saveCount" in data:
        if not isinstance(data["saveCount"], int):
            raise StateError("saveCount must be an integer")
        state.save_count = data["saveCount"]
    return state


def _load_as3(data: Any) -> As3State:
    if not isinstance(data, dict):
        raise StateError("as3 must be an object")
    a = As3State()
    if data.get("tenants") is not None:
        a.tenants = _dict_of_dicts(data["tenants"], "as3.tenants")
        a.meta = copy.deepcopy(data.get("meta") or {})
    elif data.get("declaration") is not None:
        decl = data["declaration"]
        if not isinstance(decl, dict) or decl.get("class") != "ADC":
            raise StateError('as3.declaration must be an ADC (an object with "class": "ADC")')
        for key, value in decl.items():
            if isinstance(value, dict) and value.get("class") == "Tenant":
                a.tenants[key] = copy.deepcopy(value)
            else:
                a.meta[key] = copy.deepcopy(value)
    if not isinstance(a.meta, dict):
        raise StateError("as3.meta must be an object")
    history = data.get("history", [])
    if not isinstance(history, list) or not all(
        isinstance(h, dict) and isinstance(h.get("timestamp"), int) for h in history
    ):
        raise StateError("as3.history must be a list of {timestamp, declaration}")
    a.history = copy.deepcopy(history)
    if isinstance(data.get("settings"), dict):
        a.settings.update(copy.deepcopy(data["settings"]))
    return a


def _load_net(data: Any) -> NetState:
    if not isinstance(data, dict):
        raise StateError("net must be an object")
    n = NetState()
    for kind in NET_KINDS:
        if kind in data:
            objects = _dict_of_dicts(data[kind], f"net.{kind}")
            for path, obj in objects.items():
                obj.setdefault("generation", 1)
                if "name" not in obj or "partition" not in obj or path != f"/{obj['partition']}/{obj['name']}":
                    raise StateError(f"net.{kind}[{path!r}] needs name and partition matching its key")
            setattr(n, kind, objects)
    fdb = data.get("fdb")
    if fdb is not None:
        if not isinstance(fdb, dict) or not all(isinstance(v, list) for v in fdb.values()):
            raise StateError("net.fdb must map a tunnel fullPath to a list of records")
        n.fdb = copy.deepcopy(fdb)
    for path in n.tunnels:
        n.fdb.setdefault(path, [])
    stray = set(n.fdb) - set(n.tunnels)
    if stray:
        raise StateError(f"net.fdb has records for unknown tunnel(s): {', '.join(sorted(stray))}")
    if isinstance(data.get("generation"), int):
        n.generation = data["generation"]
    return n


def _load_ltm(data: Any) -> LtmState:
    if not isinstance(data, dict):
        raise StateError("ltm must be an object")
    ltm = LtmState()
    groups = _dict_of_dicts(data.get("dataGroups", {}), "ltm.dataGroups")
    for path in groups:
        parts = path.split("/")
        if len(parts) < 3 or parts[0] != "" or not all(parts[1:]):
            raise StateError(f"ltm.dataGroups[{path!r}] must be keyed by its fullPath (/Partition/name)")
    ltm.data_groups = groups
    if isinstance(data.get("generation"), int):
        ltm.generation = [data["generation"]]
    return ltm


def read_state_file(path: Path) -> DeviceState:
    """Load `--state FILE`; a missing file is a factory-fresh device."""
    if not path.exists():
        return DeviceState()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        line, column = (err.lineno, err.colno) if isinstance(err, json.JSONDecodeError) else (1, 1)
        raise StateError(f"not a JSON state file ({getattr(err, 'msg', err)})", str(path), line, column) from err
    try:
        return load_state(data)
    except StateError as err:
        raise StateError(err.message, str(path), 1, 1) from err


def write_state_file(path: Path, state: DeviceState) -> None:
    """Write atomically (temp file in the same folder, then os.replace): never a half-written file."""
    write_atomic(path, json.dumps(state_to_json(state), indent=2, sort_keys=True) + "\n")
