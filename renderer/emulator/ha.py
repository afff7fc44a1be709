"""Several emulated devices in one sync-failover device group: sync state, config-sync, failover.

What a deploy to an HA pair needs to see, on the wire, from each device:

- `GET /mgmt/tm/cm/sync-status`: one entry (`.../sync-status/0`) whose `nestedStats.entries` carry
  `status` ("In Sync", "Changes Pending"; a device without a group: "Standalone"), `color`,
  `mode` and `summary` descriptions (the shape F5's own tools read: f5-ansible
  `bigip_configsync_action`, AS3's test helpers, Telemetry Streaming fixtures).
- `GET /mgmt/tm/cm/failover-status`: one entry (`.../failover-status/0`) with `status` "ACTIVE"
  or "STANDBY" and `color`.
- `POST /mgmt/tm/cm` `{"command": "run", "utilCmdArgs": "config-sync to-group <group>"}`: push
  this device's configuration to the group (f5-ansible `bigip_configsync_action`).
- `GET /mgmt/tm/cm/device-group/~Common~<group>`.

Emulator choices (a real device decides these itself): the synced configuration is the AS3
state (tenants, metadata, history) and the internal data-groups (in /Common: the deploy lock and
journal); L2/L3 objects stay per device, which is what the deploy assumes anyway since it writes
the network to every device. A data-group write and any AS3 write mark the group
"Changes Pending", including a dry-run (f5-appsvcs-extension#762, open) and a post whose tenants
all report "no change" (#207/#222); `syncToGroup` syncs after a post that changed a tenant and not
after "no change" (#222). GETs do not mark it (#391 was fixed). Error wording for a config-sync to
an unknown group is the emulator's.
"""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING, Any

from renderer.emulator.wire import Response, tm_error

if TYPE_CHECKING:
    from renderer.emulator.device import Device

CM = "/mgmt/tm/cm"
_SYNC_ENTRY = "https://localhost/mgmt/tm/cm/sync-status/0"
_FAILOVER_ENTRY = "https://localhost/mgmt/tm/cm/failover-status/0"


def _stats(kind: str, entry: str, values: dict[str, str]) -> dict[str, Any]:
    return {"kind": kind, "selfLink": "https://localhost" + entry.split("localhost", 1)[1].rsplit("/", 1)[0],
            "entries": {entry: {"nestedStats": {"entries": {k: {"description": v} for k, v in values.items()}}}}}


class DeviceGroup:
    """A sync-failover device group over Device objects (one process, one port each)."""

    def __init__(self, name: str, devices: dict[str, Device]) -> None:
        self.name = name
        self.devices = dict(devices)
        self.active = next(iter(self.devices))
        self.pending: set[str] = set()  # devices with changes not yet synced to the group
        self.syncs: list[str] = []  # device names a config-sync ran from, in order
        self.lock = threading.RLock()
        for device_name, device in self.devices.items():
            device.group = self
            device.device_name = device_name

    def matches(self, group: str) -> bool:
        return group in (self.name, f"/Common/{self.name}")

    # -- what happens on the devices --------------------------------------------------------
    def changed(self, device: Device) -> None:
        with self.lock:
            self.pending.add(device.device_name)

    def sync_from(self, device: Device) -> None:
        """Copy the AS3 state and the /Common data-groups of `device` to every other member; the group
        is then in sync."""
        with self.lock:
            with device.state_lock:
                as3 = copy.deepcopy(device.state.as3)
                groups = copy.deepcopy(device.state.ltm.data_groups)
            for other in self.devices.values():
                if other is not device:
                    with other.state_lock:
                        other.state.as3 = copy.deepcopy(as3)
                        other.state.ltm.data_groups = copy.deepcopy(groups)
                    other.persist()
            self.pending.clear()
            self.syncs.append(device.device_name)

    def after_declare(self, device: Device, body: dict[str, Any], dry_run: bool, response: Response) -> None:
        results = response.body.get("results") if isinstance(response.body, dict) else None
        changed = any(isinstance(r, dict) and r.get("message") == "success" for r in results or [])
        if response.status >= 400 and not changed:
            return
        self.changed(device)
        target = body.get("syncToGroup")
        if not dry_run and changed and isinstance(target, str) and target and self.matches(target):
            self.sync_from(device)

    def failover(self, to: str) -> None:
        with self.lock:
            if to not in self.devices:
                raise KeyError(to)
            self.active = to

    def view(self) -> dict[str, Any]:
        with self.lock:
            return {"name": self.name, "active": self.active, "devices": sorted(self.devices),
                    "pending": sorted(self.pending), "status": self.status(), "syncs": list(self.syncs)}

    def status(self) -> str:
        return "Changes Pending" if self.pending else "In Sync"


def handle_cm(device: Device, method: str, path: str, body: Any) -> Response:
    """/mgmt/tm/cm/... on one device (a device outside any group is standalone and active)."""
    group: DeviceGroup | None = getattr(device, "group", None)
    if method == "GET" and path == f"{CM}/sync-status":
        if group is None:
            values = {"color": "green", "mode": "standalone", "status": "Standalone", "summary": " "}
        else:
            status = group.status()
            values = {"color": "green" if status == "In Sync" else "blue", "mode": "high-availability",
                      "status": status, "summary": f"{group.name}: {status}"}
        return Response(200, _stats("tm:cm:sync-status:sync-statusstats", _SYNC_ENTRY, values))
    if method == "GET" and path == f"{CM}/failover-status":
        active = group is None or group.active == device.device_name
        values = {"color": "green" if active else "gray", "status": "ACTIVE" if active else "STANDBY"}
        return Response(200, _stats("tm:cm:failover-status:failover-statusstats", _FAILOVER_ENTRY, values))
    if method == "GET" and path.startswith(f"{CM}/device-group/"):
        name = path.rsplit("/", 1)[1].replace("~", "/")
        if group is None or not group.matches(name.removeprefix("/Common/") if name.startswith("/") else name):
            return tm_error(404, f"01020036:3: The requested device group ({name}) was not found.")
        return Response(200, {"kind": "tm:cm:device-group:device-groupstate", "name": group.name,
                              "partition": "Common", "fullPath": f"/Common/{group.name}", "type": "sync-failover",
                              "autoSync": "disabled", "fullLoadOnSync": "false"})
    if method == "POST" and path == CM:
        args = body.get("utilCmdArgs") if isinstance(body, dict) else None
        words = args.split() if isinstance(args, str) else []
        if not isinstance(body, dict) or body.get("command") != "run" or words[:2] != ["config-sync", "to-group"]:
            return tm_error(400, "the emulator runs only {\"command\": \"run\", \"utilCmdArgs\": "
                                 "\"config-sync to-group <group>\"} on /mgmt/tm/cm", 2)
        if group is None or len(words) < 3 or not group.matches(words[2]):
            return tm_error(400, f"config-sync: no device group {' '.join(words[2:3]) or '(none)'} on this device", 2)
        group.sync_from(device)
        return Response(200, {"kind": "tm:cm:runstate", "command": "run", "utilCmdArgs": args})
    return tm_error(404, f"URI path {path} is not supported by the emulator", 1)
