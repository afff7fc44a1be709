"""`deploy` and `plan` when as3-gitops.yaml lists several devices (`bigip.devices`, e.g. an HA pair).

The hosts come from the configuration (reviewed in git) instead of `--host`; the credentials are
the same for every device (BIGIP_USERNAME / BIGIP_PASSWORD or --password-file). The sequence lives
in renderer.bigip.ha_plan; this module builds one client per device, calls it, and prints.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any, TextIO

from renderer.errors import DeviceError, RestoreFailed


def _clients(conn: Any, devices: Any, session_seconds: float, stack: contextlib.ExitStack) -> dict[str, Any]:
    from renderer.cli.deploy import _client

    clients = {}
    for device in devices:
        host = device.host if device.host.startswith(("https://", "http://")) else "https://" + device.host
        clients[device.name] = stack.enter_context(_client(replace(conn, host=host), session_seconds))
    return clients


def deploy_devices(conn: Any, result: Any, rendered: Any, render_commit: Any, options: Any,
                   progress: Any, out: TextIO, err: TextIO) -> Any:
    """Deploy to every configured device; returns the report (raises DeviceError/RestoreFailed with .report)."""
    from renderer.bigip.ha_plan import HaOptions, Member, deploy_ha, device_rendered
    from renderer.cli.deploy import _print_failure

    bigip = result.config.bigip
    ha_options = HaOptions(bigip.ha.device_group, bigip.ha.as3)
    with contextlib.ExitStack() as stack:
        clients = _clients(conn, bigip.devices, options.timeout + options.rollback_timeout, stack)
        members = [Member(d.name, clients[d.name], device_rendered(rendered, d.name)) for d in bigip.devices]
        try:
            done = deploy_ha(members, render_commit, options, ha_options, progress)
        except (DeviceError, RestoreFailed) as failure:
            rep = getattr(failure, "report", None)
            if rep is not None:
                _print_failure(rep, err)
            raise
    roles = ", ".join(f"{m.name} {m.role.lower() or '?'}" for m in members)
    if done.outcome == "no change":
        out.write(f"no change: the devices already run {rendered.identity} ({roles})\n")
    elif done.outcome == "dry-run":
        synced = (" (the device group was synced: AS3 dry-runs leave it Changes Pending)"
                  if bigip.ha.device_group else "")
        out.write(f"dry-run passed for {rendered.identity} on {roles}: tenants "
                  f"{', '.join(done.tenants_changed) or 'none'}; no configuration written{synced}\n")
    else:
        out.write(f"deployed {rendered.identity} to {roles}: tenants {', '.join(done.tenants_changed) or 'none'}, "
                  f"network {'changed' if done.network_changed else 'unchanged'}\n")
    return done


def plan_devices(conn: Any, result: Any, rendered: Any) -> Any:
    """Read every device; the diff's device side: AS3 of the active device (sync) or the first one
    (each; a device whose AS3 differs from it is named), and every device's network."""
    from renderer.bigip import ha
    from renderer.bigip.ha_plan import device_rendered
    from renderer.bigip.plan import read_device
    from renderer.bigip.tenants import header_of
    from renderer.cli.deploy import device_net
    from renderer.diff import Side

    bigip = result.config.bigip
    states: dict[str, Any] = {}
    roles: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        clients = _clients(conn, bigip.devices, 600, stack)
        for d in bigip.devices:
            client = clients[d.name]
            client.login()
            roles[d.name] = ha.failover_status(client) if bigip.ha.device_group else ha.ACTIVE
            states[d.name] = read_device(client, device_rendered(rendered, d.name))
    source = next((n for n in states if roles[n] == ha.ACTIVE), bigip.devices[0].name)
    nets = {name: device_net(state, (result.net.get("devices") or {}).get(name)) for name, state in states.items()}
    device_adc = {**header_of(result.adc), **states[source].owned_adc()}
    side = Side(as3=device_adc, net={**{k: v for k, v in result.net.items() if k != "devices"}, "devices": nets},
                label=f"devices (AS3 from {source})")
    others = [n for n, s in states.items() if n != source and s.owned_adc() != states[source].owned_adc()]
    return side, others
