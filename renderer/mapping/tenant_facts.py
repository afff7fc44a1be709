"""A reused tenant that stays a stored pickle until something needs its objects.

Why: in a pull request run nine tenants of ten come from the disk cache (renderer.mapping
.tenant_reuse) and most stages after the Ingress build never need their objects: the AS3 emit takes
their JSON from the cache by key (renderer.emit_reuse). Yet each was unpickled whole (100,000 pool
members at 10k Ingresses), only for a few stages to read a little of every one: the ARPs read the
pool members' addresses and nodes, the silent-object check the (kind, namespace, name) of every
origin, the sources every object's origins, the AS3 ConfigMaps' service discovery the pools'
Services. Those are stored with the build as `Facts`, computed from the very model that is
pickled, so a `LazyTenant` answers them without loading.

Why it is exact: the facts are functions of the model alone, taken when the model is pickled, and
are used only while the tenant is not loaded. Everything that could change a tenant goes through its
attributes (a later builder adding to the partition, `Registry.finish` setting translate-address),
and the first access to any of them loads the model, after which every consumer reads the model
again. `Registry.finish` does not load: what it sets is kept (`later`) and applied on loading, and
no fact depends on it. A `LazyTenant` equals, prints and pickles as the `Tenant` it stands for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import chain, islice, repeat
from operator import attrgetter
from typing import Any

from renderer.errors import Origin
from renderer.mapping.tenant_store import origin_of
from renderer.model import TENANT_DICTS, Tenant

_ORIGINS, _MEMBERS, _SERVICE = attrgetter("origins"), attrgetter("members"), attrgetter("service")
_ADDRESS, _NODE_NAME, _CLUSTER = attrgetter("address"), attrgetter("node_name"), attrgetter("cluster")
_META_ORIGIN = attrgetter("meta.origin")
Columns = tuple[list[Any], list[Any], list[Any], list[Any]]


def member_columns(tenant: Tenant) -> Columns:
    """Every pool member's address, node name and cluster, and its pool's Service, in pool and member
    order (what the ARPs are made of)."""
    facts = tenant.stored_facts()
    if facts is not None:
        return facts.members
    pools = list(tenant.pools.values())
    lists = list(map(_MEMBERS, pools))
    members = list(chain.from_iterable(lists))
    services = list(chain.from_iterable(map(repeat, map(_SERVICE, pools), map(len, lists))))
    return list(map(_ADDRESS, members)), list(map(_NODE_NAME, members)), list(map(_CLUSTER, members)), services


def pool_services(tenant: Tenant) -> list[Any]:
    """Each pool's Service (namespace, name), in pool order."""
    facts = tenant.stored_facts()
    return facts.pool_services if facts is not None else list(map(_SERVICE, tenant.pools.values()))


class Facts:
    """What the stages after the build read of a stored tenant, without its objects (see the module
    docstring): the ARPs' member columns, the silent check's origin keys, the sources' origins, the
    AS3 ConfigMaps' pool Services.

    `groups`: per dict of the tenant (TENANT_DICTS order), its names, how many origins each object has, and
    the origins one after the other, each as an int (the index of a known object, whose Origin this
    render made: as in the pickle) or a value (`tenant_store.origin_value`); `origin_keys`: per dict,
    the (kind, namespace, name) of its objects' origins."""

    __slots__ = ("_known", "_values", "groups", "has_objects", "members", "origin_keys", "pool_services")

    def __init__(self, has_objects: bool, origin_keys: list[list[tuple[str, str, str]]],
                 groups: list[tuple[list[str], list[int], list[Any]]], members: Columns, pool_services: list[Any],
                 known: Sequence[Any]) -> None:
        self.has_objects, self.origin_keys, self.groups, self.members = has_objects, origin_keys, groups, members
        self.pool_services = pool_services
        self._known = known
        self._values: dict[tuple, Origin] = {}

    def _origin(self, ref: Any) -> Origin:
        if type(ref) is int:
            return self._known[ref].meta.origin
        made = self._values.get(ref)
        if made is None:  # one Origin per value, shared as the pickle shares it
            made = self._values[ref] = origin_of(ref)
        return made

    def origin_groups(self) -> Iterator[tuple[list[str], list[tuple[Origin, ...]]]]:
        """Per dict of the tenant: its names, and each object's origins (what its `origins` list holds),
        made in C-level passes when every origin is a known object's (the usual case)."""
        known = self._known
        for names, counts, refs in self.groups:
            if set(map(type, refs)) <= {int}:
                flat = list(map(_META_ORIGIN, map(known.__getitem__, refs)))
            else:
                flat = list(map(self._origin, refs))
            it = iter(flat)
            yield names, list(map(tuple, map(islice, repeat(it), counts)))


def tenant_facts(tenant: Tenant, ref: Callable[[Origin], Any]) -> dict[str, Any]:
    """The facts of a built tenant as plain data (stored beside its pickle); `ref` names an Origin as
    the pickle does (an index among the known objects, else its value)."""
    groups = []
    keys: list[list[tuple[str, str, str]]] = []
    for attr in TENANT_DICTS:
        objects = getattr(tenant, attr)
        lists = list(map(_ORIGINS, objects.values()))
        flat = list(chain.from_iterable(lists))
        keys.append(sorted({(o.kind, o.namespace, o.name) for o in flat}))
        groups.append((list(objects), list(map(len, lists)), list(map(ref, flat))))
    return {"has_objects": bool(tenant.virtual_servers or tenant.pools), "origin_keys": keys,
            "groups": groups, "members": member_columns(tenant), "pool_services": pool_services(tenant)}


def facts_from(raw: Any, known: Sequence[Any]) -> Facts | None:
    """Stored facts back, or None unless every part has its shape (a malformed entry is a miss)."""
    try:
        has_objects, keys, groups, members = raw["has_objects"], raw["origin_keys"], raw["groups"], raw["members"]
        services = raw["pool_services"]
        if type(has_objects) is not bool or type(keys) is not list or type(groups) is not list \
                or len(groups) != len(TENANT_DICTS) or type(members) is not tuple or len(members) != 4 \
                or type(services) is not list:
            return None
        if len(keys) != len(TENANT_DICTS) or not all(type(group) is list and set(map(type, group)) <= {tuple}
                                               and set(map(len, group)) <= {3} for group in keys):
            return None
        for names, counts, refs in groups:  # each check a C-level pass: 60,000 refs per tenant at 10k
            if type(names) is not list or type(counts) is not list or type(refs) is not list \
                    or len(names) != len(counts) or set(map(type, counts)) - {int} \
                    or sum(counts) != len(refs) or (counts and min(counts) < 0):
                return None
            kinds = set(map(type, refs))
            ints = [r for r in refs if type(r) is int] if kinds - {int} else refs
            if kinds - {int, tuple} or (ints and not 0 <= min(ints) <= max(ints) < len(known)) \
                    or (tuple in kinds and set(len(r) for r in refs if type(r) is tuple) != {6}):
                return None
            if tuple in kinds:  # a value must make an Origin (origin_of raises ValueError otherwise)
                for r in refs:
                    if type(r) is tuple:
                        origin_of(r)
        if not all(type(c) is list and len(c) == len(members[0]) for c in members):
            return None
        return Facts(has_objects, keys, groups, members, services, known)  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return None


class StoredTenantError(RuntimeError):
    """A stored tenant's model did not load when a stage needed it (a damaged cache entry whose
    checksum still held): the render starts again without reuse (renderer.render)."""


class LazyTenant(Tenant):
    """A reused tenant: loaded from its pickle (`load`) on the first access to one of its dicts;
    until then `stored_facts` answers for it."""

    __slots__ = ("_facts", "_later", "_load")

    @classmethod
    def stored(cls, name: str, load: Callable[[], Tenant], facts: Facts) -> LazyTenant:
        tenant = cls.__new__(cls)
        tenant.name = name
        tenant._load, tenant._facts, tenant._later = load, facts, []
        return tenant

    def __getattr__(self, attr: str) -> Any:  # only for what is not set: the dicts before loading
        if attr not in TENANT_DICTS:
            raise AttributeError(attr)
        self._loaded()
        return object.__getattribute__(self, attr)

    def _loaded(self) -> None:
        load = getattr(self, "_load", None)
        if load is None:
            raise AttributeError("a LazyTenant without its model")
        try:
            whole = load()
        except Exception as err:  # the restricted unpickler's refusals, a truncated pickle...
            raise StoredTenantError(f"the stored model of tenant {self.name!r} did not load: {err}") from err
        if whole.name != self.name:
            raise StoredTenantError(f"the stored model of tenant {self.name!r} is tenant {whole.name!r}")
        for attr in TENANT_DICTS:
            setattr(self, attr, getattr(whole, attr))
        self._load = self._facts = None
        for fn in self._later:
            fn(self)
        self._later = []

    def stored_facts(self) -> Facts | None:
        return self._facts if getattr(self, "_load", None) is not None else None

    def later(self, fn: Callable[[Tenant], None]) -> bool:
        """Keep `fn` for when the tenant loads (True), or False when it is loaded: call it now."""
        if getattr(self, "_load", None) is None:
            return False
        self._later.append(fn)
        return True

    def as_tenant(self) -> Tenant:
        return Tenant(self.name, *self._dicts())

    def _dicts(self) -> tuple[Any, ...]:
        return tuple(getattr(self, attr) for attr in TENANT_DICTS)

    def __repr__(self) -> str:
        return repr(self.as_tenant())

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:  # pickled (and copied) as its Tenant
        return Tenant, (self.name, *self._dicts())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tenant):
            return NotImplemented
        return self.as_tenant() == (other.as_tenant() if isinstance(other, LazyTenant) else other)

    __hash__ = None  # type: ignore[assignment]  # as the dataclass: mutable, unhashable
