"""iControl REST internal data-groups (`/mgmt/tm/ltm/data-group/internal`): the device-side lock's resource.

AS3 itself takes its global lock by creating a data-group (`/Common/appsvcs/____appsvcs_lock`,
reference bigip-wire.md section 2.10): a create that answers 409 when the object exists is the
only atomic test-and-set iControl REST offers. as3-gitops uses the same primitive for its deploy
lock and intent journal, so the emulator implements exactly what they need, with the /mgmt/tm
conventions of section 3.2: POST creates (409 if present), GET reads one or the collection, PUT
replaces, PATCH merges (`records` replaced wholesale, as for FDB records), DELETE removes (200,
empty body). Names are `~Partition~name` in URLs; a POSTed `name` may be a full path
(`/Common/folder/name`, as AS3 sends it) or a bare name with `partition`.

Chosen by the emulator (unconfirmed on a device): `type` defaults to `string` when missing; the
409 and 404 texts say `data group`; a record is `{"name": ..., "data"?: ...}` with string values.
"""

from __future__ import annotations

import copy
from typing import Any

from renderer.emulator.wire import Response, tm_error

TMOS_VERSION = "16.1.2"
BASE = "https://localhost/mgmt/tm/ltm/data-group/internal"
KIND = "tm:ltm:data-group:internal:internalstate"
COLLECTION_KIND = "tm:ltm:data-group:internal:internalcollectionstate"
TYPES = ("string", "integer", "ip")
_RESERVED = {"kind", "name", "partition", "fullPath", "generation", "selfLink"}
_CONFIG_ERROR = "01070734:3: Configuration error:"


def full_path_of(body: dict[str, Any]) -> str | None:
    """`/Common/x` from {name: "/Common/x"} or {name: "x", partition: "Common"}; None if unusable."""
    name = body.get("name")
    if not isinstance(name, str) or not name or name.strip() != name:
        return None
    if name.startswith("/"):
        parts = [p for p in name.split("/") if p]
        return "/" + "/".join(parts) if len(parts) >= 2 else None
    partition = body.get("partition", "Common")
    if not isinstance(partition, str) or not partition or "/" in partition:
        return None
    return f"/{partition}/{name}"


def _render(full: str, obj: dict[str, Any]) -> dict[str, Any]:
    partition, _, rest = full[1:].partition("/")
    name = rest.rsplit("/", 1)[-1]
    out = {"kind": KIND, "name": name, "partition": partition, "fullPath": full,
           "generation": obj.get("generation", 1),
           "selfLink": f"{BASE}/{full.replace('/', '~')}?ver={TMOS_VERSION}"}
    out.update({k: copy.deepcopy(v) for k, v in obj.items() if k not in _RESERVED})
    return out


def _check(full: str, obj: dict[str, Any]) -> Response | None:
    if obj.get("type") not in TYPES:
        return tm_error(400, f"{_CONFIG_ERROR} data group ({full}) type must be one of {', '.join(TYPES)}.", 2)
    records = obj.get("records", [])
    if not isinstance(records, list):
        return tm_error(400, f"{_CONFIG_ERROR} records of data group ({full}) must be a list.", 2)
    seen = set()
    for rec in records:
        if not isinstance(rec, dict) or not isinstance(rec.get("name"), str) or not rec["name"]:
            return tm_error(400, f"{_CONFIG_ERROR} a record of data group ({full}) has no name.", 2)
        if not isinstance(rec.get("data", ""), str) or set(rec) - {"name", "data"}:
            return tm_error(400, f"{_CONFIG_ERROR} record {rec['name']} of data group ({full}) is malformed.", 2)
        if rec["name"] in seen:
            return tm_error(409, f"01020066:3: The requested record ({full} {rec['name']}) already exists.")
        seen.add(rec["name"])
    if "description" in obj and not isinstance(obj["description"], str):
        return tm_error(400, f"{_CONFIG_ERROR} description of data group ({full}) must be a string.", 2)
    return None


def handle(groups: dict[str, dict[str, Any]], generation: list[int], method: str, name: str | None,
           body: Any) -> Response:
    """One request below /mgmt/tm/ltm/data-group/internal; mutates `groups` on success only.

    `generation` is a one-item list holding the device-wide counter (bumped on every write).
    """
    if name is None:
        if method == "GET":
            items = [_render(full, obj) for full, obj in sorted(groups.items())]
            return Response(200, {"kind": COLLECTION_KIND, "selfLink": f"{BASE}?ver={TMOS_VERSION}",
                                  "items": items})
        if method != "POST":
            return tm_error(405, f"{method} is not allowed on a collection", 1)
        if not isinstance(body, dict):
            return tm_error(400, f"{_CONFIG_ERROR} a data group needs a JSON object body.", 2)
        full = full_path_of(body)
        if full is None:
            return tm_error(400, f"{_CONFIG_ERROR} data group requires a name.", 2)
        if full in groups:
            partition = full.split("/")[1]
            return tm_error(409, f"01020066:3: The requested data group ({full}) already exists in partition "
                                 f"{partition}.")
        obj = {k: copy.deepcopy(v) for k, v in body.items() if k not in _RESERVED}
        obj.setdefault("type", "string")
        obj.setdefault("records", [])
        return _store(groups, generation, full, obj)
    full = name.replace("~", "/") if name.startswith("~") else f"/Common/{name}"
    obj = groups.get(full)
    if obj is None:
        return tm_error(404, f"01020036:3: The requested data group ({full}) was not found.")
    if method == "GET":
        return Response(200, _render(full, obj))
    if method == "DELETE":
        del groups[full]
        generation[0] += 1
        return Response(200, None)
    if method not in ("PUT", "PATCH") or not isinstance(body, dict):
        return tm_error(400, f"{method} needs a JSON object body", 2)
    target = full_path_of({"partition": full.split("/")[1], **body}) if "name" in body else full
    if target != full:
        return tm_error(400, f"{_CONFIG_ERROR} the name and partition of data group ({full}) cannot change.", 2)
    changes = {k: copy.deepcopy(v) for k, v in body.items() if k not in _RESERVED}
    updated = {"type": obj["type"], **changes} if method == "PUT" else {**obj, **changes}
    updated.setdefault("records", [])
    if updated.get("type") != obj["type"]:
        return tm_error(400, f"{_CONFIG_ERROR} the type of data group ({full}) cannot change.", 2)
    return _store(groups, generation, full, updated)


def _store(groups: dict[str, dict[str, Any]], generation: list[int], full: str, obj: dict[str, Any]) -> Response:
    """Write a created or changed data group, as TMOS does: checked first (nothing changes on an error),
    then stored under a new generation; the answer is the group as a GET would show it."""
    problem = _check(full, obj)
    if problem:
        return problem
    generation[0] += 1
    obj["generation"] = generation[0]
    groups[full] = obj
    return Response(200, _render(full, obj))
