"""Device-group facts over iControl REST: which device is active, whether the group is in sync, config-sync.

Shapes as F5's own tools read them: `GET /mgmt/tm/cm/failover-status` and `GET /mgmt/tm/cm/sync-status`
answer one stats entry whose `nestedStats.entries.status.description` is "ACTIVE" / "STANDBY",
respectively "In Sync", "Changes Pending", "Awaiting Initial Sync", "Not All Devices Synced",
"Disconnected" or "Standalone" (f5-ansible `bigip_configsync_action`, f5-cloud-libs `bigIp.active`).
A sync is `POST /mgmt/tm/cm {"command": "run", "utilCmdArgs": "config-sync to-group <group>"}`.
"""

from __future__ import annotations

from typing import Any

from renderer.bigip.client import BigipClient
from renderer.errors import DeviceError

IN_SYNC = "In Sync"
ACTIVE = "ACTIVE"


def _status(data: dict[str, Any] | None, what: str) -> str:
    entries = (data or {}).get("entries")
    if not isinstance(entries, dict) or not entries:
        raise DeviceError(f"GET /mgmt/tm/cm/{what} gave no entries")
    entry = next(iter(entries.values()))
    try:
        return str(entry["nestedStats"]["entries"]["status"]["description"])
    except (KeyError, TypeError):
        raise DeviceError(f"GET /mgmt/tm/cm/{what}: no status in the answer") from None


def failover_status(client: BigipClient) -> str:
    """ACTIVE or STANDBY (as the device spells it)."""
    return _status(client.tm_get("/mgmt/tm/cm/failover-status"), "failover-status")


def sync_status(client: BigipClient) -> str:
    return _status(client.tm_get("/mgmt/tm/cm/sync-status"), "sync-status")


def config_sync(client: BigipClient, group: str, deadline: float) -> None:
    """Push this device's configuration to `group`, then wait (until `deadline`) for "In Sync"."""
    args = f"config-sync to-group {group}"
    reply = client.request("POST", "/mgmt/tm/cm", {"command": "run", "utilCmdArgs": args}, deadline=deadline)
    if reply.status != 200:
        raise DeviceError(f"{args} on {client.url} failed: HTTP {reply.status} {reply.message()}",
                          hint="check bigip.configSync.deviceGroup and the device trust between the devices")
    attempt = 0
    while True:
        status = sync_status(client)
        if status == IN_SYNC:
            return
        if status not in ("Not All Devices Synced", "Syncing", "Changes Pending"):
            raise DeviceError(f"after {args}: the group reports {status!r}")
        wait = client.timing.backoff(attempt, client.timing.poll_first, client.timing.poll_max)
        if client.timing.clock() + wait > deadline:
            raise DeviceError(f"after {args}: still {status!r} at the deadline")
        client.timing.sleep(wait)
        attempt += 1
