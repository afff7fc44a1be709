"""Keyed semantic diff of two rendered sides (AS3 declaration + net declaration).

Why keyed: AS3 identifies objects by tenant -> application -> name, pool members by address and
policy rules by name, so comparing array positions would invent changes when order moves.
Address lists and FDB/ARP entries compare as sets; metadata that changes on every commit is
ignored. The engine is pure: it takes two `Side`s and returns a `DiffResult`; the writers in
`renderer.diff_report` turn that into text, markdown or json. Secrets are redacted
(`renderer.diff_values`) when a value enters a `Change`, so no writer can leak them.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import compress, count, repeat
from operator import ne
from typing import Any

from renderer.diff_values import (
    ADDED,
    CHANGED,
    REMOVED,
    SECRET_KEYS,
    PropertyChange,
    diff_values,
    expand,
    redact,
)
from renderer.emit_reuse import StoredTenant
from renderer.errors import Origin

__all__ = ["ADDED", "CHANGED", "REMOVED", "SECRET_KEYS", "Change", "Counts", "DiffResult",
           "PropertyChange", "Side", "diff_declarations", "redact"]

TENANT, NETWORK, DECLARATION = "tenant", "network", "declaration"

# ADC / AS3-wrapper keys that change on every commit or are written by the device.
IGNORED_TOP_KEYS = frozenset({"id", "remark", "label", "$schema"})
IGNORED_CONTROLS = frozenset({"archiveTimestamp", "archiveId"})
NET_FDB, NET_ARPS, NET_OBJECTS, NET_ROUTES = "FDB records", "ARPs", "tunnel objects", "routes"


@dataclass(frozen=True)
class Side:
    """One side of a diff: what was rendered (or read from the device) and where it came from."""

    as3: dict | None
    net: dict | None
    sources: Mapping[str, tuple[Origin, ...]] = field(default_factory=dict)
    snapshot_roots: tuple[str, ...] = ()
    label: str = ""
    # tenant -> the key its JSON was emitted under (renderer.emit_reuse): one key on both sides is
    # one JSON, and the tenant is not compared
    tenant_keys: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_render(cls, result: Any, label: str) -> Side:
        """Build a side from a `renderer.render.RenderResult`."""
        from renderer.emit_reuse import tenant_keys

        return cls(as3=result.as3, net=result.net, sources=result.sources,
                   snapshot_roots=tuple(result.snapshot_roots), label=label,
                   tenant_keys=tenant_keys(_adc(result.as3)))


@dataclass(frozen=True)
class Counts:
    add: int = 0
    change: int = 0
    destroy: int = 0

    @property
    def total(self) -> int:
        return self.add + self.change + self.destroy

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.add + other.add, self.change + other.change, self.destroy + other.destroy)

    def __str__(self) -> str:
        return f"{self.add} to add, {self.change} to change, {self.destroy} to destroy"


@dataclass(frozen=True)
class Change:
    """One object added, removed or changed, with its property changes (values already redacted)."""

    kind: str
    scope: str  # tenant | network | declaration
    cls: str
    name: str
    pointer: str
    tenant: str = ""
    application: str = ""
    properties: tuple[PropertyChange, ...] = ()
    sources: tuple[Origin, ...] = ()
    snapshot_only: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DiffResult:
    base_label: str
    head_label: str
    changes: tuple[Change, ...]
    tenants: dict[str, Counts]  # every tenant with a change, by name
    deleted_tenants: tuple[str, ...]
    added_tenants: tuple[str, ...]
    network: Counts
    network_parts: dict[str, Counts]
    declaration: Counts
    first_deploy: bool = False  # the old side holds nothing yet (a fresh device): everything is added

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.deleted_tenants)

    @property
    def totals(self) -> Counts:
        total = self.network + self.declaration
        for counts in self.tenants.values():
            total = total + counts
        return total

    @property
    def snapshot_only(self) -> bool:
        """True when every change comes from the endpoint snapshot alone (pods moved or scaled)."""
        return self.has_changes and all(c.snapshot_only for c in self.changes)


# --- the declaration walk --------------------------------------------------------------------


def _adc(as3: dict | None) -> dict:
    if not as3:
        return {}
    if as3.get("class") == "AS3" and isinstance(as3.get("declaration"), dict):
        return as3["declaration"]
    return as3


def _is_tenant(value: Any) -> bool:
    return type(value) is StoredTenant or _is_class(value, "Tenant")


def _loaded(value: Any) -> Any:
    """A tenant's JSON, read from the cache if the render left it there (`StoredTenant`: a diff
    reads only the tenants whose keys differ; `TenantUnavailable` when its entry does not load)."""
    return value.load() if type(value) is StoredTenant else value


def _is_class(value: Any, cls: str) -> bool:
    return isinstance(value, dict) and value.get("class") == cls


def _children(container: dict, cls: str | None) -> tuple[dict[str, dict], dict[str, Any]]:
    """Split a tenant/application into named children (of `cls`, or any class) and own properties."""
    kids: dict[str, dict] = {}
    props: dict[str, Any] = {}
    for key, value in container.items():
        if isinstance(value, dict) and "class" in value and (cls is None or value["class"] == cls):
            kids[key] = value
        else:
            props[key] = value
    return kids, props


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer(*tokens: str) -> str:
    return "".join("/" + _escape(t) for t in tokens)


def _norm_root(root: str) -> str:
    root = root.strip()
    while root.startswith("./"):
        root = root[2:]
    return root.rstrip("/")


class _Context:
    def __init__(self, old: Side, new: Side):
        self.old, self.new = old, new
        roots = {_norm_root(r) for r in (*old.snapshot_roots, *new.snapshot_roots)}
        self.roots = tuple(sorted(r for r in roots if r))

    def origins(self, pointer: str) -> tuple[Origin, ...]:
        found = {*self.old.sources.get(pointer, ()), *self.new.sources.get(pointer, ())}
        return tuple(sorted(found, key=lambda o: (o.location.path, o.location.line, o.kind, o.name)))

    def in_snapshot(self, origins: Iterable[Origin]) -> bool:
        paths = [o.location.path for o in origins]
        if not paths or not self.roots:
            return False
        return all(any(p == r or p.startswith(r + "/") or r == "." for r in self.roots) for p in paths)


def _object_change(ctx: _Context, scope: str, kind: str, cls: str, name: str, pointer: str,
                   old: Any, new: Any, tenant: str = "", app: str = "") -> Change | None:
    if kind == CHANGED:
        props: list[PropertyChange] = []
        diff_values("", None, old, new, props)
        if not props:
            return None
        properties = tuple(props)
    else:
        properties = expand(kind, new if kind == ADDED else old)
    origins = ctx.origins(pointer)
    members_only = kind == CHANGED and all(p.path.startswith("members[") for p in properties)
    return Change(kind=kind, scope=scope, cls=cls, name=name, pointer=pointer, tenant=tenant,
                  application=app, properties=properties, sources=origins,
                  snapshot_only=members_only or ctx.in_snapshot(origins))


def _compare_named(ctx: _Context, scope: str, old: dict, new: dict, pointer_of, cls_default: str,
                   tenant: str = "", app: str = "", names: Iterable[str] | None = None) -> list[Change]:
    """`names`: the keys that may differ (a superset), when the caller knows them already."""
    out: list[Change] = []
    for name in sorted(_differing_keys(old, new) if names is None else names):
        o, n = old.get(name), new.get(name)
        if o == n:
            continue
        kind = ADDED if o is None else REMOVED if n is None else CHANGED
        body = n if n is not None else o
        cls = body.get("class", cls_default) if isinstance(body, dict) else cls_default
        change = _object_change(ctx, scope, kind, str(cls), name, pointer_of(name), o, n, tenant, app)
        if change:
            out.append(change)
    return out


def _differing_keys(old: dict, new: dict) -> set:
    """The keys on one side only and the common keys whose values differ (`!=`), compared in C
    (`map`, `compress`): 10,000 ARPs of which one changed cost no Python loop over the other 9,999.
    A superset of what a caller reports: every name it skips has equal values on both sides."""
    common = list(old.keys() & new.keys())
    unequal = map(ne, map(old.__getitem__, common), map(new.__getitem__, common))
    return old.keys() ^ new.keys() | set(compress(common, unequal))


def _differing(old: dict, new: dict) -> tuple[dict, dict]:
    """Only the keys whose values differ: a one-line change in a 10k-object application walks one."""
    keys = _differing_keys(old, new)
    return {k: old[k] for k in keys if k in old}, {k: new[k] for k in keys if k in new}


def _tenant_changes(ctx: _Context, tenant: str, old: dict, new: dict) -> list[Change]:
    if old == new:  # one C-level comparison instead of walking every application of an unchanged tenant
        return []
    old_apps, old_props = _children(old, "Application")
    new_apps, new_props = _children(new, "Application")
    out: list[Change] = []
    if old and new and old_props != new_props:
        change = _object_change(ctx, TENANT, CHANGED, "Tenant", tenant, _pointer(tenant),
                                old_props, new_props, tenant)
        if change:
            out.append(change)
    for app in sorted(old_apps.keys() | new_apps.keys()):
        o, n = old_apps.get(app, {}), new_apps.get(app, {})
        o_diff, n_diff = _differing(o, n)
        o_objs, o_props = _children(o_diff, None)
        n_objs, n_props = _children(n_diff, None)
        if o and n and (o_props or n_props):
            change = _object_change(ctx, TENANT, CHANGED, "Application", app, _pointer(tenant, app),
                                    o_props, n_props, tenant, app)
            if change:
                out.append(change)
        out.extend(_compare_named(ctx, TENANT, o_objs, n_objs,
                                  lambda name, a=app: _pointer(tenant, a, name), "object", tenant, app))
    return out


def _has_objects(tenant: dict) -> bool:
    return any(isinstance(v, dict) and "class" in v
               for app in tenant.values() if _is_class(app, "Application") for v in app.values())


def _vips(service: Any) -> set[str]:
    if not isinstance(service, dict):
        return set()
    port = service.get("virtualPort")
    out = set()
    for address in service.get("virtualAddresses") or ():
        address = address if isinstance(address, str) else json.dumps(address, sort_keys=True)
        host = f"[{address}]" if ":" in address else address
        out.add(f"{host}:{port}" if port is not None else host)
    return out


def _services(adc: dict) -> dict[str, set[str]]:
    """Pointer of every virtual server -> its VIPs (address:port)."""
    out: dict[str, set[str]] = {}
    for tenant, body in adc.items():
        if not _is_tenant(body):
            continue
        for app, app_body in _children(_loaded(body), "Application")[0].items():
            for name, obj in _children(app_body, None)[0].items():
                if str(obj.get("class", "")).startswith("Service_"):
                    out[_pointer(tenant, app, name)] = _vips(obj)
    return out


def _vip_notes(changes: list[Change], old_adc: dict, new_adc: dict) -> list[Change]:
    """Add "traffic to the old VIP stops" to a virtual server whose address is no longer served."""
    if not any(c.kind != ADDED and c.cls.startswith("Service_") for c in changes):
        return changes
    old_vs, new_vs = _services(old_adc), _services(new_adc)
    served = set().union(*new_vs.values()) if new_vs else set()
    before = set().union(*old_vs.values()) if old_vs else set()
    out = []
    for change in changes:
        lost = sorted(old_vs.get(change.pointer, set()) - served) if change.kind != ADDED else []
        if lost:
            fresh = sorted(v for p, vips in new_vs.items() if p.startswith(_pointer(change.tenant) + "/")
                           for v in vips - before)
            note = f"traffic to the old VIP {', '.join(lost)} stops"
            if fresh:
                note += f"; new VIP in this tenant: {', '.join(fresh)}"
            change = Change(**{**change.__dict__, "notes": (*change.notes, note)})
        out.append(change)
    return out


def _count(changes: Iterable[Change]) -> Counts:
    items = list(changes)
    return Counts(sum(c.kind == ADDED for c in items), sum(c.kind == CHANGED for c in items),
                  sum(c.kind == REMOVED for c in items))


def _declaration_changes(ctx: _Context, old_adc: dict, new_adc: dict) -> list[Change]:
    def strip(adc: dict) -> dict:
        props = {k: v for k, v in adc.items() if k not in IGNORED_TOP_KEYS and not _is_tenant(v)}
        props.setdefault("updateMode", "selective")  # AS3's default, which a device GET spells out
        if isinstance(props.get("controls"), dict):
            controls = {k: v for k, v in props["controls"].items() if k not in IGNORED_CONTROLS}
            if set(controls) <= {"class"}:  # nothing left that does anything
                del props["controls"]
            else:
                props["controls"] = controls
        return props

    old_props, new_props = strip(old_adc), strip(new_adc)
    if not old_adc or not new_adc:  # a whole side missing: its tenants say everything
        return []
    return _compare_named(ctx, DECLARATION, old_props, new_props, lambda k: _pointer(k), "ADC property")


def _fdb_record(record: Any) -> Any:
    """A device reports FDB endpoints as `ip%0`; the default route domain equals no suffix."""
    if isinstance(record, dict) and isinstance(record.get("endpoint"), str):
        return {**record, "endpoint": record["endpoint"].removesuffix("%0")}
    return record


def _names(items: list, key: str) -> list[str] | None:
    """Every item's `key` when every item is a dict with a string there (the rendered shape), found
    in C (`map`, no loop); None for any other shape. `dict.get` refuses an item that is not a dict
    (TypeError), so no pass over the items' types is needed; a dict subclass is named as `_entries`
    names it."""
    try:
        names = list(map(dict.get, items, repeat(key)))
    except TypeError:
        return None
    return names if set(map(type, names)) == {str} else None


def _entries(items: Any, key: str, norm: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """Entries by `key` (a later duplicate wins, in the first one's place); an entry without one
    by its index (`#3`)."""
    if not isinstance(items, list):
        return {}
    names = _names(items, key) if norm is None else None
    if names is not None:
        return dict(zip(names, items, strict=True))
    out = {}
    for index, item in enumerate(items):
        name = item.get(key) if isinstance(item, dict) else None
        out[str(name) if name is not None else f"#{index}"] = item if norm is None else norm(item)
    return out


def _list_changes(ctx: _Context, old_items: Any, new_items: Any, key: str, pointer_of, cls: str,
                  norm: Callable[[Any], Any] | None = None) -> list[Change]:
    """A list of entries compared as a set keyed by `key` (FDB records, ARPs, routes).

    Both sides are sorted the same way (a render, or the device), so a pod added or moved leaves a
    long equal head and tail. When every entry is a dict with a string name (a name that does not
    depend on the entry's position) only the names in the middle can differ: a name whose every
    entry lies in the equal head and tail has the same last entry (the one `_entries` keeps) on both
    sides. The head and tail are compared in place, in C, and only the middle's names are keyed
    (100,000 ARPs make no 100,000-entry dict)."""
    if norm is not None or not isinstance(old_items, list) or not isinstance(new_items, list):
        return _compare_named(ctx, NETWORK, _entries(old_items, key, norm), _entries(new_items, key, norm),
                              pointer_of, cls)
    old_names, new_names = _names(old_items, key), _names(new_items, key)
    if old_names is None or new_names is None:  # `#index` names move with the entries: all are looked at
        return _compare_named(ctx, NETWORK, _entries(old_items, key), _entries(new_items, key), pointer_of, cls)
    middle = _middle_names(old_items, new_items, old_names, new_names)
    return _compare_named(ctx, NETWORK, _named(old_items, old_names, middle), _named(new_items, new_names, middle),
                          pointer_of, cls, names=middle)


def _middle_names(old: list, new: list, old_names: list[str], new_names: list[str]) -> set[str]:
    """The names of the entries between the longest equal head and the longest equal tail."""
    shortest = min(len(old), len(new))
    head = next(compress(count(), map(ne, old, new)), shortest)
    tail = min(next(compress(count(), map(ne, reversed(old), reversed(new))), shortest), shortest - head)
    return {*old_names[head:len(old) - tail], *new_names[head:len(new) - tail]}


_FEW_NAMES = 16


def _named(items: list, names: list[str], wanted: set[str]) -> dict[str, Any]:
    """The entries with a name in `wanted`, each name's last entry winning (as in `_entries`). A few
    names (what a pull request changes) are each found by one search from the end (`list.index`,
    string compares in C, no hashing of 100,000 names); many, by one pass with a set."""
    if len(wanted) > _FEW_NAMES:
        return {names[i]: items[i] for i in compress(count(), map(wanted.__contains__, names))}
    backwards = names[::-1]
    last = len(names) - 1
    found = {}
    for name in wanted:
        with contextlib.suppress(ValueError):
            found[name] = items[last - backwards.index(name)]
    return found


def _net_label(key: str, body: Any) -> str:
    """What a net object is called in a plan: its BIG-IP name (and address, for a self IP), not
    the declaration key again (`selfIP flannel_vxlan_self (10.10.30.15/16)`, not `selfIP selfIP`)."""
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        return key
    address = body.get("address")
    return f"{body['name']} ({address})" if isinstance(address, str) else body["name"]


def holds_nothing(side: Side) -> bool:
    """True for a side with no tenant object and no network object: a fresh device (or a base
    without the configuration), where every change is a first deploy, not a snapshot change.
    The network first: it answers without reading a tenant a diff left in the cache."""
    nets = [side.net or {}]
    if isinstance(nets[0].get("devices"), dict):
        nets = [n or {} for n in nets[0]["devices"].values()]
    for net in nets:
        if any(isinstance(net.get(k), dict) for k in ("vxlanProfile", "tunnel", "selfIP", "floatingSelfIP")):
            return False
        if (net.get("fdb") or {}).get("records") or net.get("arps") or (net.get("routes") or {}).get("records"):
            return False
    return not any(_is_tenant(v) and _has_objects(_loaded(v)) for v in _adc(side.as3).values())


def _net_changes(ctx: _Context, old: dict | None, new: dict | None) -> tuple[list[Change], dict[str, Counts]]:
    """The net declaration; with several devices (`devices`), each device's section on its own,
    its pointers under `/net/<device>/...` and its counts as `<part> (<device>)`."""
    old, new = old or {}, new or {}
    if old == new:
        return [], {}
    if "devices" not in old and "devices" not in new:
        return _one_net(ctx, old, new, ())
    o_dev, n_dev = old.get("devices") or {}, new.get("devices") or {}
    changes: list[Change] = []
    parts: dict[str, Counts] = {}
    for device in sorted(o_dev.keys() | n_dev.keys()):
        found, counts = _one_net(ctx, o_dev.get(device) or {}, n_dev.get(device) or {}, (device,))
        changes += found
        parts.update({f"{part} ({device})": c for part, c in counts.items()})
    return changes, parts


def _one_net(ctx: _Context, old: dict, new: dict, prefix: tuple[str, ...]) -> tuple[list[Change], dict[str, Counts]]:
    """FDB records keyed by MAC, ARPs by IP, routes by name (all sets); tunnel, profile and self IP as objects."""
    if old == new:
        return [], {}
    o_fdb, n_fdb = old.get("fdb") or {}, new.get("fdb") or {}
    fdb = _list_changes(ctx, o_fdb.get("records"), n_fdb.get("records"), "name",
                        lambda mac: _pointer("net", *prefix, "fdb", mac), "FDB record", _fdb_record)
    arps = _list_changes(ctx, old.get("arps"), new.get("arps"), "ipAddress",
                         lambda ip: _pointer("net", *prefix, "arps", ip), "ARP")
    o_rt, n_rt = old.get("routes") or {}, new.get("routes") or {}
    routes = _list_changes(ctx, o_rt.get("records"), n_rt.get("records"), "name",
                           lambda name: _pointer("net", *prefix, "routes", name), "Route")
    fdb = [Change(**{**c.__dict__, "cls": "FDB record"}) for c in fdb]
    arps = [Change(**{**c.__dict__, "cls": "ARP", "snapshot_only": True}) for c in arps]
    routes = [Change(**{**c.__dict__, "cls": "Route"}) for c in routes]

    def objects(net: dict, fdb_body: dict, route_body: dict) -> dict[str, Any]:
        skip = {"class", "fdb", "arps", "routes", *IGNORED_TOP_KEYS}
        found = {k: v for k, v in net.items() if k not in skip}
        rest = {k: v for k, v in fdb_body.items() if k != "records"}
        if rest:
            found["fdb"] = rest
        if route_body.get("partition") is not None:
            found["routes"] = {"partition": route_body["partition"]}
        return found

    o_obj, n_obj = objects(old, o_fdb, o_rt), objects(new, n_fdb, n_rt)
    others = _compare_named(ctx, NETWORK, o_obj, n_obj, lambda k: _pointer("net", *prefix, k), "net")
    others = [Change(**{**c.__dict__, "cls": c.name, "name": _net_label(c.name, n_obj.get(c.name, o_obj.get(c.name)))})
              for c in others]
    if prefix:  # several devices: every heading says which device the object is on
        fdb, arps, routes, others = ([Change(**{**c.__dict__, "name": f"{c.name} on {prefix[0]}"}) for c in group]
                                     for group in (fdb, arps, routes, others))
    parts = {NET_OBJECTS: _count(others), NET_FDB: _count(fdb), NET_ARPS: _count(arps), NET_ROUTES: _count(routes)}
    return [*others, *fdb, *arps, *routes], {k: v for k, v in parts.items() if v.total}


def _same_keys(old: Mapping[str, str], new: Mapping[str, str]) -> set[str]:
    """The tenants emitted under one key on both sides: equal without a compare (half the diff of
    a pull request at 10k Ingresses was `old == new` of its unchanged tenants)."""
    return {name for name, key in old.items() if new.get(name) == key} if old and new else set()


def diff_declarations(old: Side, new: Side) -> DiffResult:
    """Compare two sides: AS3 keyed by tenant/application/object, the net declaration by MAC/IP."""
    ctx = _Context(old, new)
    old_adc, new_adc = _adc(old.as3), _adc(new.as3)
    old_t = {k: v for k, v in old_adc.items() if _is_tenant(v)}
    new_t = {k: v for k, v in new_adc.items() if _is_tenant(v)}
    tenant_changes: list[Change] = []
    tenants: dict[str, Counts] = {}
    deleted, added = [], []
    same = _same_keys(old.tenant_keys, new.tenant_keys)
    for tenant in sorted(old_t.keys() | new_t.keys()):
        if tenant in same:  # one JSON on both sides: no change, neither gone nor added
            continue
        o, n = _loaded(old_t.get(tenant, {})), _loaded(new_t.get(tenant, {}))
        found = _tenant_changes(ctx, tenant, o, n)
        gone = bool(o) and (not n or (not _has_objects(n) and _has_objects(o)))
        if gone:
            deleted.append(tenant)
        elif not o and _has_objects(n):
            added.append(tenant)
        if found or gone:
            tenants[tenant] = _count(found)
            tenant_changes.extend(found)
    tenant_changes = _vip_notes(tenant_changes, old_adc, new_adc)
    decl = _declaration_changes(ctx, old_adc, new_adc)
    net, parts = _net_changes(ctx, old.net, new.net)
    changes = (*decl, *tenant_changes, *net)
    first = holds_nothing(old) and bool(changes)
    if first:  # nothing was there: every change is the first deploy, none a snapshot-only change
        changes = tuple(Change(**{**c.__dict__, "snapshot_only": False}) for c in changes)
    return DiffResult(
        base_label=old.label, head_label=new.label, first_deploy=first,
        changes=changes,
        tenants=tenants, deleted_tenants=tuple(deleted), added_tenants=tuple(added),
        network=_count(net), network_parts=parts, declaration=_count(decl),
    )
