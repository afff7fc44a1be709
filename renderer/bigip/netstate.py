"""The tunnel / FDB / ARP side of the device: read it, compute the commands to reach a state, apply them.

There is no declarative API for these objects, so a state is made declarative here: `NetState`
is a normalised, comparable snapshot of exactly the objects the net declaration names (plus the
ARP entries we own, by name prefix, as CIS does), and `net_commands(current, desired)` is a pure
function from two states to iControl REST commands. Applying the commands happens inside one
transaction (all or nothing on the device), except that a tunnel created now only gets its FDB
object when that transaction commits, so its records go in a second one.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from typing import Any

from renderer.bigip.client import BigipClient, OutcomeUnknown, Reply
from renderer.errors import DeviceError

ARP_PREFIX = "k8s-"
ROUTE_MARK = "as3-gitops"
_TM = "/mgmt/tm/net"
_PROFILE_FIELDS = ("port", "floodingType", "defaultsFrom", "encapsulationType")
_TUNNEL_FIELDS = ("key", "profile", "localAddress", "remoteAddress", "secondaryAddress", "mtu")
_SELF_FIELDS = ("address", "vlan", "allowService", "trafficGroup")


def _freeze(obj: dict[str, Any] | None) -> tuple[tuple[str, Any], ...] | None:
    if obj is None:
        return None
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in obj.items()))


@dataclass(frozen=True)
class NetState:
    """What the device has (or should have) for our tunnel; equal states compare equal."""

    partition: str = "Common"
    profile: tuple | None = None  # ((field, value), ...) including ("name", ...)
    tunnel: tuple | None = None
    self_ip: tuple | None = None
    records: tuple[tuple[str, str], ...] = ()  # (mac, endpoint) sorted, endpoints without %0
    arps: tuple[tuple[str, str, str], ...] = ()  # (ip, name, mac) sorted
    manages_fdb: bool = field(default=False, compare=False)
    floating_ip: tuple | None = None  # several devices: the floating self IP on the tunnel (a traffic group)
    route_partition: str | None = None  # static-route mode: where our routes live; None: no routes managed
    routes: tuple[tuple[str, str, str, str], ...] = ()  # (name, network, gw, description) sorted by name

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON data (for reports, hashes and the diff engine's `net` side)."""

        def obj(t: tuple | None) -> dict[str, Any] | None:
            return None if t is None else {k: list(v) if isinstance(v, tuple) else v for k, v in t}

        tunnel = obj(self.tunnel)
        return {
            "partition": self.partition,
            "vxlanProfile": obj(self.profile),
            "tunnel": tunnel,
            "selfIP": obj(self.self_ip),
            "fdb": {
                "tunnel": tunnel["name"] if tunnel else None,
                "records": [{"name": m, "endpoint": e} for m, e in self.records],
            },
            "arps": [{"name": n, "ipAddress": ip, "macAddress": m} for ip, n, m in self.arps],
            **({"floatingSelfIP": obj(self.floating_ip)} if self.floating_ip is not None else {}),
            **({"routes": {"partition": self.route_partition,
                           "records": [{"name": n, "network": net, "gw": gw, "description": d}
                                       for n, net, gw, d in self.routes]}}
               if self.route_partition is not None else {}),
        }


def norm_endpoint(endpoint: str) -> str:
    return endpoint[:-2] if endpoint.endswith("%0") else endpoint


def _ip_key(ip: str) -> tuple:
    parts = ip.split(".")
    return (0, *map(int, parts)) if len(parts) == 4 and all(p.isdigit() for p in parts) else (1, ip)


def _entries(items: Any, *keys: str) -> list[dict[str, Any]]:
    """Items that carry `keys` (a device may list odd entries; they are not ours to judge)."""
    return [i for i in items or [] if isinstance(i, dict) and all(i.get(k) is not None for k in keys)]


def _records(items: Any) -> tuple[tuple[str, str], ...]:
    pairs = {str(r["name"]).lower(): norm_endpoint(str(r.get("endpoint", ""))) for r in _entries(items, "name")}
    return tuple(sorted(pairs.items()))


def _arps(items: Any) -> tuple[tuple[str, str, str], ...]:
    rows = {
        str(a["ipAddress"]): (str(a["ipAddress"]), str(a["name"]), str(a["macAddress"]).lower())
        for a in _entries(items, "ipAddress", "name", "macAddress")
    }
    return tuple(rows[ip] for ip in sorted(rows, key=_ip_key))


def _routes(items: Any) -> tuple[tuple[str, str, str, str], ...]:
    rows = {
        str(r["name"]): (str(r["name"]), norm_endpoint(str(r["network"])), norm_endpoint(str(r.get("gw", ""))),
                         str(r.get("description", "")))
        for r in _entries(items, "name", "network")
    }
    return tuple(rows[n] for n in sorted(rows))


def owns_route(route: dict[str, Any], partition: str) -> bool:
    """CIS's rule: in its own partition every `k8s*` route is the controller's; in /Common only those
    whose description carries the controller's identifier (ours: `as3-gitops...`)."""
    name = str(route.get("name", ""))
    if not name.startswith(ARP_PREFIX):
        return False
    return partition != "Common" or str(route.get("description", "")).startswith(ROUTE_MARK)


def desired_state(net: dict[str, Any] | None) -> NetState:
    """The NetState a rendered net declaration asks for."""
    if not net:
        return NetState()
    fdb = net.get("fdb") or {}
    routes = net.get("routes") if isinstance(net.get("routes"), dict) else None
    return NetState(
        partition=net.get("partition", "Common"),
        profile=_freeze(net.get("vxlanProfile")),
        tunnel=_freeze(net.get("tunnel")),
        self_ip=_freeze(net.get("selfIP")),
        floating_ip=_freeze(net.get("floatingSelfIP")),
        records=_records(fdb.get("records")),
        arps=_arps(net.get("arps")),
        manages_fdb=bool(net.get("tunnel") or fdb.get("tunnel")),
        route_partition=str(routes.get("partition", "Common")) if routes is not None else None,
        routes=_routes(routes.get("records")) if routes is not None else (),
    )


def union(old: NetState, new: NetState) -> NetState:
    """Make-before-break: new objects, and old and new FDB records/ARPs together (new wins a clash)."""
    records = dict(old.records) | dict(new.records)
    arps = {ip: (ip, n, m) for ip, n, m in old.arps} | {ip: (ip, n, m) for ip, n, m in new.arps}
    # routes: old ones stay until the prune, except where a new route takes over the same subnet
    # (a node replaced under the same pod subnet): one destination cannot have two gateways.
    new_nets = {net for _n, net, _gw, _d in new.routes}
    routes = {r[0]: r for r in old.routes if r[1] not in new_nets} | {r[0]: r for r in new.routes}
    return replace(
        new, records=tuple(sorted(records.items())), arps=tuple(arps[ip] for ip in sorted(arps, key=_ip_key)),
        routes=tuple(routes[n] for n in sorted(routes)),
    )


def tm_path(kind: str, partition: str, name: str) -> str:
    return f"{_TM}/{kind}/~{partition}~{name.replace('/', '~')}"


def _tunnel_name(state: NetState) -> str | None:
    return dict(state.tunnel)["name"] if state.tunnel else None


def read_state(client: BigipClient, like: NetState) -> NetState:
    """Read, from the device, the objects that `like` names (only the fields it manages)."""
    part = like.partition

    def pick(kind: str, wanted: tuple | None, fields: tuple[str, ...]) -> tuple | None:
        if wanted is None:
            return None
        want = dict(wanted)
        data = client.tm_get(tm_path(kind, part, want["name"]))
        if data is None:
            return None
        keys = [k for k in fields if k in want]
        return _freeze({"name": want["name"], **{k: data.get(k) for k in keys}})

    profile = pick("tunnels/vxlan", like.profile, _PROFILE_FIELDS)
    tunnel = pick("tunnels/tunnel", like.tunnel, _TUNNEL_FIELDS)
    self_ip = pick("self", like.self_ip, _SELF_FIELDS)
    floating = pick("self", like.floating_ip, _SELF_FIELDS)
    records: tuple[tuple[str, str], ...] = ()
    name = _tunnel_name(like)
    if name and like.manages_fdb:
        data = client.tm_get(tm_path("fdb/tunnel", part, name) + "/records")
        records = _records((data or {}).get("items"))
    arp_data = client.tm_get(f"{_TM}/arp?$filter=partition+eq+{part}") or {}
    arps = _arps(
        a
        for a in _entries(arp_data.get("items"), "name")
        if str(a["name"]).startswith(ARP_PREFIX) and a.get("partition", part) == part
    )
    routes: tuple[tuple[str, str, str, str], ...] = ()
    if like.route_partition is not None:
        where = like.route_partition
        route_data = client.tm_get(f"{_TM}/route?$filter=partition+eq+{where}") or {}
        routes = _routes(r for r in _entries(route_data.get("items"), "name", "network")
                         if r.get("partition", where) == where and owns_route(r, where))
    return NetState(part, profile, tunnel, self_ip, records, arps, like.manages_fdb, floating, like.route_partition,
                    routes)


@dataclass(frozen=True)
class Command:
    method: str
    path: str
    body: dict[str, Any] | None = None

    def describe(self) -> str:
        return f"{self.method} {self.path}"


def _object_cmds(kind: str, part: str, cur: tuple | None, want: tuple | None) -> list[Command]:
    if want is None or cur == want:
        return []
    body = {k: list(v) if isinstance(v, tuple) else v for k, v in want}
    if cur is None:
        return [Command("POST", f"{_TM}/{kind}", {**body, "partition": part})]
    changed = {k: v for k, v in body.items() if dict(cur).get(k) != (tuple(v) if isinstance(v, list) else v)}
    changed.pop("name", None)
    return [Command("PATCH", tm_path(kind, part, body["name"]), changed)]


def net_commands(current: NetState, desired: NetState) -> tuple[list[Command], list[Command]]:
    """Commands from `current` to `desired`, as (objects, records-and-arps) phases.

    The phases go into one transaction when the tunnel already exists, two when it is created now.
    Objects present in `current` but absent from `desired` are deleted last (a rollback of a
    first deploy), after their FDB records and ARPs are gone.
    """
    part = desired.partition
    objects: list[Command] = []
    objects += _object_cmds("tunnels/vxlan", part, current.profile, desired.profile)
    objects += _object_cmds("tunnels/tunnel", part, current.tunnel, desired.tunnel)
    objects += _object_cmds("self", part, current.self_ip, desired.self_ip)
    objects += _object_cmds("self", part, current.floating_ip, desired.floating_ip)
    entries: list[Command] = []
    tunnel = _tunnel_name(desired) or _tunnel_name(current)
    want_records = desired.records if desired.tunnel else ()
    if tunnel and (desired.manages_fdb or current.manages_fdb) and current.records != want_records:
        entries.append(
            Command(
                "PATCH",
                tm_path("fdb/tunnel", part, tunnel),
                {"records": [{"name": m, "endpoint": e} for m, e in want_records]},
            )
        )
    cur_arps = {ip: (n, m) for ip, n, m in current.arps}
    new_arps = {ip: (n, m) for ip, n, m in desired.arps}
    for ip in sorted(cur_arps, key=_ip_key):
        name, mac = cur_arps[ip]
        if ip not in new_arps or new_arps[ip][0] != name:
            entries.append(Command("DELETE", tm_path("arp", part, name)))
    for ip in sorted(new_arps, key=_ip_key):
        name, mac = new_arps[ip]
        if ip in cur_arps and cur_arps[ip][0] == name:
            if cur_arps[ip][1] != mac:
                entries.append(Command("PATCH", tm_path("arp", part, name), {"macAddress": mac}))
        else:
            entries.append(
                Command(
                    "POST",
                    f"{_TM}/arp",
                    {"name": name, "partition": part, "ipAddress": ip, "macAddress": mac},
                )
            )
    entries += _route_cmds(current, desired)
    deletes = []
    for kind, cur, want in (
        ("self", current.floating_ip, desired.floating_ip),
        ("self", current.self_ip, desired.self_ip),
        ("tunnels/tunnel", current.tunnel, desired.tunnel),
        ("tunnels/vxlan", current.profile, desired.profile),
    ):
        if cur is not None and want is None:
            deletes.append(Command("DELETE", tm_path(kind, current.partition, dict(cur)["name"])))
    return objects, entries + deletes


def _route_cmds(current: NetState, desired: NetState) -> list[Command]:
    """Deletes first (a subnet may move to a new route name in the same transaction), then creates,
    then gateway/description changes. A changed `network` is a delete plus a create."""
    part = desired.route_partition or current.route_partition
    if part is None:
        return []
    cur = {r[0]: r for r in current.routes}
    new = {r[0]: r for r in desired.routes}
    cmds = [Command("DELETE", tm_path("route", part, n)) for n in sorted(cur) if n not in new or new[n][1] != cur[n][1]]
    for n in sorted(new):
        _name, network, gw, desc = new[n]
        if n not in cur or cur[n][1] != network:
            body = {"name": n, "partition": part, "network": network, "gw": gw, "description": desc}
            cmds.append(Command("POST", f"{_TM}/route", body))
        elif cur[n] != new[n]:
            cmds.append(Command("PATCH", tm_path("route", part, n), {"gw": gw, "description": desc}))
    return cmds


def plan_transactions(current: NetState, desired: NetState) -> list[list[Command]]:
    objects, entries = net_commands(current, desired)
    creates_tunnel = current.tunnel is None and desired.tunnel is not None
    if creates_tunnel and objects and entries:
        return [objects, entries]
    both = objects + entries
    return [both] if both else []


def apply_state(client: BigipClient, current: NetState, desired: NetState, deadline: float) -> int:
    """Move the device from `current` to `desired`; returns the number of commands sent."""
    sent = 0
    for commands in plan_transactions(current, desired):
        run_transaction(client, commands, deadline)
        sent += len(commands)
    return sent


def run_transaction(client: BigipClient, commands: list[Command], deadline: float) -> None:
    """Enlist `commands` in one iControl REST transaction and commit it: all or nothing."""
    reply = client.request("POST", "/mgmt/tm/transaction", {}, deadline=deadline)
    trans_id = reply.data.get("transId") if isinstance(reply.data, dict) else None
    if reply.status != 200 or trans_id is None:
        raise DeviceError(f"could not start a transaction: HTTP {reply.status} {reply.message()}")
    header = {"X-F5-REST-Coordination-Id": str(trans_id)}
    for cmd in commands:
        try:
            enlisted = client.request(cmd.method, cmd.path, cmd.body, headers=header, deadline=deadline)
        except OutcomeUnknown as err:  # an enlisted command is only queued: nothing was applied
            _discard(client, trans_id)
            raise DeviceError(f"transaction {trans_id}: {err.message}") from None
        if enlisted.status != 200:
            _discard(client, trans_id)
            raise DeviceError(
                f"transaction {trans_id}: {cmd.describe()} refused: HTTP {enlisted.status} {enlisted.message()}"
            )
    done = client.request("PATCH", f"/mgmt/tm/transaction/{trans_id}", {"state": "VALIDATING"}, deadline=deadline)
    state = done.data.get("state") if isinstance(done.data, dict) else None
    if done.status != 200 or state != "COMPLETED":
        raise DeviceError(f"transaction {trans_id} failed: HTTP {done.status} {_reason(done)}")


def _reason(reply: Reply) -> str:
    if isinstance(reply.data, dict) and reply.data.get("failureReason"):
        return str(reply.data["failureReason"])
    return reply.message()


def _discard(client: BigipClient, trans_id: Any) -> None:
    with contextlib.suppress(DeviceError):  # an uncommitted transaction expires on its own
        client.request("DELETE", f"/mgmt/tm/transaction/{trans_id}")
