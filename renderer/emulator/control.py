"""The test control API under /_emulator/ (not part of BIG-IP).

Enabled only when the emulator has a control token; every request must carry it in
`X-Emulator-Token`. Routes:

- `GET /_emulator/state`: configuration (AS3 tenants, history, net objects), `saveCount`,
  `requestLog` ([{method, path, status, faults?}]), pending `faults`, live token count.
- `POST /_emulator/state`: seed sections (`as3`, `net`, `saveCount`) from the same JSON shape;
  `as3` may be `{"declaration": <ADC>}`. `DELETE /_emulator/state`: factory reset.
- `GET|POST|DELETE /_emulator/faults`: list, append to, or clear the fault queue.
- `DELETE /_emulator/log`: clear the request log.
- `DELETE /_emulator/holds`: let every request held by a `hold` fault answer now.
- `GET /_emulator/clock`, `POST /_emulator/clock {"advance": seconds}` (manual clock only).
- `GET /_emulator/ha`, `POST /_emulator/ha {"failover": "<device>"}` / `{"pending": true}`: the device
  group of an HA pair (renderer/emulator/ha.py): active device, devices with unsynced changes.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from renderer.emulator.clock import ManualClock
from renderer.emulator.faults import FaultError, parse_faults
from renderer.emulator.state import StateError, load_state, state_to_json
from renderer.emulator.wire import BodyError, Request, Response, error

if TYPE_CHECKING:
    from renderer.emulator.device import Device


def snapshot(device: Device) -> dict[str, Any]:
    with device.state_lock:
        data = state_to_json(device.state)
    data["requestLog"] = device.request_log()
    data["faults"] = device.faults.pending()
    data["tokens"] = device.auth.count()
    return data


def handle_control(device: Device, req: Request) -> Response:
    token = device.config.control_token
    if not token:
        return error(404, f"URI path {req.path} is not supported by the emulator")
    given = req.header("X-Emulator-Token") or ""
    if not given:
        return error(403, "the control API needs the X-Emulator-Token header")
    if not hmac.compare_digest(given.encode(), token.encode()):
        return error(403, "wrong X-Emulator-Token (not the emulator's --control-token)")
    route = req.path.rstrip("/")
    body: Any = None
    if req.method == "POST":
        try:
            body = req.json()
        except BodyError as err:
            return error(400, f"invalid JSON: {err}")
    if route == "/_emulator/state":
        if req.method == "GET":
            return Response(200, snapshot(device))
        if req.method == "POST":
            with device.state_lock:
                try:
                    device.state = load_state(body, base=device.state)
                except StateError as err:
                    return error(400, str(err))
            device.persist()
            return Response(200, snapshot(device))
        if req.method == "DELETE":
            device.reset()
            return Response(200, snapshot(device))
    if route == "/_emulator/faults":
        if req.method == "GET":
            return Response(200, device.faults.pending())
        if req.method == "POST":
            try:
                device.faults.add(parse_faults(body))
            except FaultError as err:
                return error(400, str(err))
            return Response(200, device.faults.pending())
        if req.method == "DELETE":
            device.faults.clear()
            return Response(200, [])
    if route == "/_emulator/ha" and device.group is not None:
        if req.method == "POST":  # {"failover": "<device>"} and/or {"pending": true} (a change by hand)
            try:
                if isinstance(body, dict) and "failover" in body:
                    device.group.failover(str(body["failover"]))
            except KeyError:
                return error(400, f"no device {body['failover']!r} in the group")
            if isinstance(body, dict) and body.get("pending") is True:
                device.group.changed(device)
        if req.method in ("GET", "POST"):
            return Response(200, device.group.view())
    if route == "/_emulator/holds" and req.method == "DELETE":
        return Response(200, {"released": device.release_holds()})
    if route == "/_emulator/log" and req.method == "DELETE":
        device.clear_log()
        return Response(200, [])
    if route == "/_emulator/clock":
        clock = device.clock
        if req.method == "POST":
            seconds = body.get("advance") if isinstance(body, dict) else None
            if not isinstance(clock, ManualClock):
                return error(409, "the emulator runs on the system clock; it cannot be advanced")
            if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
                return error(400, 'POST /_emulator/clock needs {"advance": <seconds >= 0>}')
            clock.advance(float(seconds))
        if req.method in ("GET", "POST"):
            return Response(200, {"now": clock.now(), "manual": isinstance(clock, ManualClock)})
    return error(404, f"{req.method} {req.path} is not a control route")
