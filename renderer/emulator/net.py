"""iControl REST L2/L3 resources under /mgmt/tm/net: vxlan profiles, tunnels, self IPs, FDB, ARP, routes.

Pure functions over a `NetState`, so a transaction can run its commands on a copy and keep or
drop the copy as a whole. POST creates (409 if present), PUT replaces, PATCH merges (arrays and
`records` replaced wholesale), DELETE removes (200, empty body). Creating a tunnel creates its FDB
tunnel; FDB endpoints come back with `%0`; ARP `ipAddress` cannot change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from renderer.emulator.state import NetState
from renderer.emulator.wire import Response, tm_error

TMOS_VERSION = "16.1.2"
BASE = "https://localhost/mgmt/tm/net"
CONFIG_ERROR = "01070734:3: Configuration error:"


@dataclass(frozen=True)
class Kind:
    attr: str  # NetState attribute
    url: str
    kind: str  # object kind; the collection kind is derived
    label: str  # used in mcpd-style messages
    required: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    refs: tuple[tuple[str, str, str], ...] = ()  # (property, NetState attr, label of the target)

    @property
    def collection_kind(self) -> str:
        return self.kind.removesuffix("state") + "collectionstate"


KINDS = {
    "tunnels/vxlan": Kind("vxlan", "tunnels/vxlan", "tm:net:tunnels:vxlan:vxlanstate", "VXLAN Profile",
                          defaults={"defaultsFrom": "/Common/vxlan", "encapsulationType": "vxlan",
                                    "floodingType": "multicast", "port": 4789}),
    "tunnels/tunnel": Kind("tunnels", "tunnels/tunnel", "tm:net:tunnels:tunnel:tunnelstate", "Tunnel",
                           required=("profile",),
                           defaults={"autoLasthop": "default", "idleTimeout": 300, "key": 0,
                                     "localAddress": "any6", "mode": "bidirectional", "mtu": 0,
                                     "remoteAddress": "any6", "secondaryAddress": "any6", "tos": "preserve",
                                     "transparent": "disabled", "usePmtu": "enabled"},
                           refs=(("profile", "vxlan", "VXLAN Profile"),)),
    "self": Kind("selfs", "self", "tm:net:self:selfstate", "Self IP", required=("address", "vlan"),
                 defaults={"addressSource": "from-user", "floating": "disabled",
                           "inheritedTrafficGroup": "false", "trafficGroup": "/Common/traffic-group-local-only"},
                 refs=(("vlan", "tunnels", "VLAN or tunnel"),)),
    "arp": Kind("arps", "arp", "tm:net:arp:arpstate", "ARP entry", required=("ipAddress", "macAddress")),
    # net route: fields as f5-cccl and CIS's python driver send them (name, partition, network, gw,
    # description); the emulator requires a network and a gw (a real route may use a pool or vlan instead)
    "route": Kind("routes", "route", "tm:net:route:routestate", "Route", required=("network", "gw")),
}
FDB_KIND = "tm:net:fdb:tunnel:tunnelstate"
RECORD_KIND = "tm:net:fdb:tunnel:records:recordsstate"
_RESERVED = {"kind", "name", "partition", "fullPath", "generation", "selfLink"}


def parse_name(segment: str) -> str:
    """`~Common~10.1.1.1~24` -> `/Common/10.1.1.1/24`; a bare `name` is in /Common."""
    if segment.startswith("~"):
        return segment.replace("~", "/")
    return f"/Common/{segment}"


def url_name(full_path: str) -> str:
    return full_path.replace("/", "~")


def not_found(label: str, full_path: str) -> Response:
    return tm_error(404, f"01020036:3: The requested {label} ({full_path}) was not found.")


def with_rd(endpoint: str) -> str:
    """FDB endpoints read back with a route-domain suffix; `x` and `x%0` are the same endpoint."""
    return endpoint if "%" in endpoint else f"{endpoint}%0"


def _link(path: str) -> str:
    return f"{BASE}/{path}?ver={TMOS_VERSION}"


def render(kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
    full = f"/{obj['partition']}/{obj['name']}"
    out = {"kind": kind.kind, "name": obj["name"], "partition": obj["partition"], "fullPath": full,
           "generation": obj.get("generation", 1), "selfLink": _link(f"{kind.url}/{url_name(full)}")}
    out.update(kind.defaults)
    out.update({k: v for k, v in obj.items() if k not in _RESERVED})
    for prop, attr, _label in kind.refs:
        if isinstance(out.get(prop), str):
            target = next(k for k in KINDS.values() if k.attr == attr)
            out[f"{prop}Reference"] = {"link": _link(f"{target.url}/{url_name(out[prop])}")}
    if kind.attr == "selfs" and out.get("trafficGroup") != "/Common/traffic-group-local-only":
        out["floating"] = "enabled"  # a self IP in a traffic group floats with it
    if kind.attr == "vxlan" and isinstance(out.get("defaultsFrom"), str):
        out["defaultsFromReference"] = {"link": _link(f"tunnels/vxlan/{url_name(out['defaultsFrom'])}")}
    return out


def _select(items: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
    flt = query.get("$filter", "").split()
    if len(flt) == 3 and flt[0] == "partition" and flt[1] == "eq":
        items = [i for i in items if i.get("partition") == flt[2]]
    if query.get("$select"):
        keep = [f.strip() for f in query["$select"].split(",")]
        items = [{k: i[k] for k in keep if k in i} for i in items]
    return items


def _check_refs(net: NetState, kind: Kind, obj: dict[str, Any]) -> Response | None:
    for prop in kind.required:
        if obj.get(prop) in (None, ""):
            return tm_error(400, f"{CONFIG_ERROR} {kind.label} (/{obj['partition']}/{obj['name']}) "
                                 f"requires {prop}.", 2)
    for prop, attr, label in kind.refs:
        target = obj.get(prop)
        if isinstance(target, str) and target not in getattr(net, attr):
            return tm_error(400, f"01020036:3: The requested {label} ({target}) was not found.")
    return None


def _in_use(net: NetState, kind: Kind, full: str) -> Response | None:
    for other in KINDS.values():
        for prop, attr, _label in other.refs:
            if attr != kind.attr:
                continue
            for path, obj in getattr(net, other.attr).items():
                if obj.get(prop) == full:
                    return tm_error(400, f"{CONFIG_ERROR} {kind.label} ({full}) is referenced by "
                                         f"{other.label} ({path}).", 2)
    return None


def handle(net: NetState, method: str, sub: str, query: dict[str, str], body: Any) -> Response:
    """One request to /mgmt/tm/net/<sub>; mutates `net` on success only."""
    parts = [p for p in sub.split("/") if p]
    if parts[:2] == ["fdb", "tunnel"]:
        return _fdb(net, method, parts[2:], query, body)
    for prefix, kind in KINDS.items():
        n = prefix.count("/") + 1
        if "/".join(parts[:n]) == prefix and len(parts) <= n + 1:
            return _resource(net, kind, method, parts[n] if len(parts) > n else None, query, body)
    return tm_error(404, f"URI path /mgmt/tm/net/{sub} is not supported by the emulator", 1)


def _resource(net: NetState, kind: Kind, method: str, name: str | None, query: dict[str, str],
              body: Any) -> Response:
    store: dict[str, dict[str, Any]] = getattr(net, kind.attr)
    if name is None:
        if method == "GET":
            items = [render(kind, o) for _, o in sorted(store.items())]
            return Response(200, {"kind": kind.collection_kind, "selfLink": _link(kind.url),
                                  "items": _select(items, query)})
        if method != "POST":
            return tm_error(405, f"{method} is not allowed on a collection", 1)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
            return tm_error(400, f"{CONFIG_ERROR} {kind.label} requires a name.", 2)
        obj = {k: v for k, v in body.items() if k not in _RESERVED - {"name", "partition"}}
        obj.setdefault("partition", "Common")
        full = f"/{obj['partition']}/{obj['name']}"
        if full in store:
            return tm_error(409, f"01020066:3: The requested {kind.label} ({full}) already exists in "
                                 f"partition {obj['partition']}.")
        problem = _check_refs(net, kind, obj)
        if problem:
            return problem
        if kind.attr == "tunnels":
            obj.setdefault("ifIndex", 100 + len(store))
        obj["generation"] = net.bump()
        store[full] = obj
        if kind.attr == "tunnels":
            net.fdb[full] = []
        return Response(200, render(kind, obj))
    full = parse_name(name)
    obj = store.get(full)
    if obj is None:
        return not_found(kind.label, full)
    if method == "GET":
        return Response(200, render(kind, obj))
    if method == "DELETE":
        problem = _in_use(net, kind, full)
        if problem:
            return problem
        del store[full]
        if kind.attr == "tunnels":
            net.fdb.pop(full, None)
        net.bump()
        return Response(200, None)
    if method not in ("PUT", "PATCH") or not isinstance(body, dict):
        return tm_error(400, f"{method} needs a JSON object body", 2)
    if body.get("name", obj["name"]) != obj["name"] or body.get("partition", obj["partition"]) != obj["partition"]:
        return tm_error(400, f"{CONFIG_ERROR} the name and partition of {kind.label} ({full}) cannot change.", 2)
    if kind.attr == "arps" and body.get("ipAddress", obj["ipAddress"]) != obj["ipAddress"]:
        return tm_error(400, f"{CONFIG_ERROR} the ipAddress of {kind.label} ({full}) cannot be modified; "
                             "delete and recreate it.", 2)
    changes = {k: v for k, v in body.items() if k not in _RESERVED}
    updated = ({"name": obj["name"], "partition": obj["partition"],
                **{k: obj[k] for k in kind.required if k in obj and k not in changes}, **changes}
               if method == "PUT" else {**obj, **changes})
    if kind.attr == "tunnels":
        updated.setdefault("ifIndex", obj.get("ifIndex"))
    problem = _check_refs(net, kind, updated)
    if problem:
        return problem
    updated["generation"] = net.bump()
    store[full] = updated
    return Response(200, render(kind, updated))


def _record(tunnel: str, rec: dict[str, Any]) -> dict[str, Any]:
    return {"kind": RECORD_KIND, "name": rec["name"], "fullPath": rec["name"],
            "generation": rec.get("generation", 1),
            "selfLink": _link(f"fdb/tunnel/{url_name(tunnel)}/records/{rec['name']}"),
            "endpoint": rec["endpoint"]}


def _fdb_object(net: NetState, full: str, expand: bool) -> dict[str, Any]:
    partition, _, name = full[1:].partition("/")
    records = net.fdb[full]
    generation = max([net.tunnels[full].get("generation", 1)] + [r.get("generation", 1) for r in records])
    ref: dict[str, Any] = {"link": _link(f"fdb/tunnel/{url_name(full)}/records"), "isSubcollection": True}
    if expand:
        ref["items"] = [_record(full, r) for r in records]
    return {"kind": FDB_KIND, "name": name, "partition": partition, "fullPath": full, "generation": generation,
            "selfLink": _link(f"fdb/tunnel/{url_name(full)}"), "recordsReference": ref}


def _clean_records(full: str, records: Any, generation: int) -> list[dict[str, Any]] | Response:
    if records == {} or records is None:
        return []
    if not isinstance(records, list):
        return tm_error(400, f"{CONFIG_ERROR} records of the tunnel FDB ({full}) must be a list.", 2)
    out, seen = [], set()
    for rec in records:
        mac = rec.get("name") if isinstance(rec, dict) else None
        if not isinstance(mac, str) or not mac:
            return tm_error(400, f"{CONFIG_ERROR} a tunnel FDB record of ({full}) has no name.", 2)
        if not rec.get("endpoint"):
            return tm_error(400, f"{CONFIG_ERROR} The tunnel FDB record ({full} {mac}) has an empty entry.", 2)
        if mac.lower() in seen:
            return tm_error(409, f"01020066:3: The requested FDB record ({full} {mac}) already exists.")
        seen.add(mac.lower())
        out.append({"name": mac, "endpoint": with_rd(str(rec["endpoint"])), "generation": generation})
    return out


def _fdb(net: NetState, method: str, parts: list[str], query: dict[str, str], body: Any) -> Response:
    expand = query.get("expandSubcollections", "").lower() == "true"
    if not parts:
        if method == "GET":
            items = [_fdb_object(net, full, expand) for full in sorted(net.fdb)]
            return Response(200, {"kind": "tm:net:fdb:tunnel:tunnelcollectionstate",
                                  "selfLink": _link("fdb/tunnel"), "items": _select(items, query)})
        return tm_error(400, f"{CONFIG_ERROR} an FDB tunnel cannot be created; it follows its tunnel.", 2)
    full = parse_name(parts[0])
    if full not in net.fdb:
        return not_found("FDB tunnel", full)
    if len(parts) == 1:
        if method == "GET":
            return Response(200, _fdb_object(net, full, expand))
        if method in ("PATCH", "PUT") and isinstance(body, dict):
            if "records" in body or method == "PUT":
                records = _clean_records(full, body.get("records"), net.generation + 1)
                if isinstance(records, Response):
                    return records
                net.bump()
                net.fdb[full] = records
            return Response(200, _fdb_object(net, full, True))
        return tm_error(400, f"{method} is not supported on an FDB tunnel", 2)
    if parts[1] != "records" or len(parts) > 3:
        return tm_error(404, f"URI path {'/'.join(parts)} is not supported by the emulator", 1)
    records = net.fdb[full]
    if len(parts) == 2:
        if method == "GET":
            return Response(200, {"kind": "tm:net:fdb:tunnel:records:recordscollectionstate",
                                  "selfLink": _link(f"fdb/tunnel/{url_name(full)}/records"),
                                  "items": [_record(full, r) for r in records]})
        if method != "POST":
            return tm_error(405, f"{method} is not allowed on a collection", 1)
        added = _clean_records(full, [*records, body], net.generation + 1)
        if isinstance(added, Response):
            return added
        net.bump()
        net.fdb[full] = [*records, added[-1]]
        return Response(200, _record(full, added[-1]))
    mac = parts[2].lower()
    index = next((i for i, r in enumerate(records) if r["name"].lower() == mac), None)
    if index is None:
        return not_found("FDB record", f"{full} {parts[2]}")
    if method == "GET":
        return Response(200, _record(full, records[index]))
    if method == "DELETE":
        net.bump()
        net.fdb[full] = records[:index] + records[index + 1:]
        return Response(200, None)
    if method in ("PATCH", "PUT") and isinstance(body, dict) and body.get("endpoint"):
        rec = {**records[index], "endpoint": with_rd(str(body["endpoint"])), "generation": net.bump()}
        net.fdb[full] = [*records[:index], rec, *records[index + 1:]]
        return Response(200, _record(full, rec))
    return tm_error(400, f"{CONFIG_ERROR} The tunnel FDB record ({full} {parts[2]}) has an empty entry.", 2)
