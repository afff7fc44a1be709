"""A changed tenant judged member by member: an Application member that is as it was last time
keeps what its checks found then, and only the changed members are filled and judged.

Why: CIS puts a tenant's objects into one Application (`Shared`), so a pull request that changes
one Ingress changes one tenant of ten and, in it, a few of its 8,000 members (10k Ingresses); the
whole tenant used to be filled and judged again (tenants.py), which was most of a re-render.

What a member's result is made of, and why each part is its own (the `plan` below is checked on
the schema once, so another schema only takes the whole-tenant way):

- its fill: the walk fills each member in a frame of its own (fill.py), whose effects (defaults,
  pointer sites, the budget spent) depend on the member's content and the frame's schema, depth
  and path only; `Watched` notes them in the walk itself. The Application around it is walked by
  schema nodes (the *plan*) that read no member: their `properties`, `required` and `if` name the
  *reserved* keys only, and one `additionalProperties` node walks every other key. So a tenant
  with the unchanged members left out (the *partial* tenant) is walked exactly as the whole one,
  less those members' frames;
- its verdict: jsonschema-rs judges an Application as its reserved part and each member against
  the one `additionalProperties` node (and each key against `propertyNames`), and the clean walk
  (`as3._walk_definitions`) looks at every object alone (plus the Application's own `ciphertext`
  and `protected`, which are reserved). A member is kept only from a tenant that was clean, so it
  was valid and clean then, under its name; the partial tenant's verdict judges everything else;
- its property names: the candidate words (`propnames._candidates`) of a tree are the union of
  those of its parts;
- its item checks (`postchecks.item_checks`): functions of the tenant, Application and member
  names and the filled member; folded in key order with everyone else's;
- its pointer sites: each was resolved against the tenant with every read noted (`Recording`): a site
  that reads outside its own Application, or into a view rather than a value, sends the tenant
  the whole way. The names read inside the Application are the member's *dependencies*, each
  kept with the content hash of what it read then (a member's, or the Application's reserved
  part's for anything else, an absent name included); a member whose dependency changed is
  filled and judged again like a changed one;
- its doubtful addresses (warnings): a tenant whose checks logged any keeps no member results,
  so a kept member logged none.

The results are kept per tenant name, as the last tenant of that name left them (one entry, read
once): a member's record is used only when its content hash and every dependency's hash match.
A tenant that must take the whole way is filled once: with nothing kept, the partial tenant is the
whole one and its fill gives the summary; with members kept, it is filled whole again, and its
table is emptied so that the next run keeps nothing.
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass
from typing import Any

import orjson

from renderer.validate import postchecks
from renderer.validate.ajv import escape
from renderer.validate.pointers import PointerProblem, checked_sites, resolve, target_error
from renderer.validate.propnames import _candidates

# Keys of an object the clean walk reads at the object itself (its Secret test): reserved.
SECRET_KEYS = ("ciphertext", "protected")
_PLAN_KEYS = frozenset({"title", "description", "type", "properties", "additionalProperties", "propertyNames",
                        "required", "allOf", "$ref", "if", "then", "else"})
_IF_KEYS = frozenset({"required", "properties"})
_NOTHING = postchecks.ItemChecks(None, None, None, [])
TABLE_FORMAT = "members-1"


class _Abort(Exception):
    """This tenant takes the whole-tenant way (tenants.tenant_summary)."""


@dataclass(frozen=True)
class AppPlan:
    """How the walk meets one Application position's members (see the module docstring)."""

    member_schema: Any  # the one additionalProperties node that walks every member
    reserved: frozenset[str]  # keys the Application's own schema reads or walks


class Plans:
    """The plans of one validator's schema: the tenant node, and a plan per Application position."""

    def __init__(self, ajv: Any, tenant_node: dict) -> None:
        self.ajv = ajv
        self.tenant_node = tenant_node
        self.props: dict[str, Any] = tenant_node["properties"]
        self._apps: dict[bool | str, AppPlan | None] = {}

    def app(self, key: str) -> AppPlan | None:
        slot: bool | str = key if key in self.props else False  # False: the additionalProperties position
        if slot not in self._apps:
            node = self.props[key] if key in self.props else self.tenant_node["additionalProperties"]
            self._apps[slot] = app_plan(self.ajv, node)
        return self._apps[slot]

    def walk_order(self, tenant: dict) -> list[str]:
        """The order the tenant's walk reaches its keys: `properties` in the schema's order, then the rest."""
        return [k for k in self.props if k in tenant] + [k for k in tenant if k not in self.props]


def app_plan(ajv: Any, node: Any) -> AppPlan | None:
    """The plan of the Application walked from `node`, or None when the walk there may read members."""
    todo, seen, reserved, extra = [node], set(), set(SECRET_KEYS), {}
    while todo:
        current = todo.pop()
        if current is True or current == {} or id(current) in seen:
            continue
        seen.add(id(current))
        if not isinstance(current, dict) or not _PLAN_KEYS.issuperset(current):
            return None
        if "$ref" in current:  # the walk and draft 7 both ignore what stands beside a $ref
            todo.append(ajv.resolve(current["$ref"]))
            continue
        if current.get("type", "object") != "object":
            return None
        props = current.get("properties", {})
        required = current.get("required", [])
        all_of = current.get("allOf", [])
        if not isinstance(props, dict) or not isinstance(required, list) or not isinstance(all_of, list):
            return None
        reserved |= set(props) | {r for r in required if isinstance(r, str)}
        additional = current.get("additionalProperties", True)
        if additional is not True:
            if not isinstance(additional, dict):
                return None
            extra[id(additional)] = additional
        todo += all_of
        if "if" in current:
            test = current["if"]
            if not isinstance(test, dict) or not _IF_KEYS.issuperset(test) or not isinstance(
                    test.get("properties", {}), dict) or not isinstance(test.get("required", []), list):
                return None
            reserved |= set(test.get("properties", {})) | {r for r in test.get("required", []) if isinstance(r, str)}
            todo += [current[k] for k in ("then", "else") if k in current]
        elif "then" in current or "else" in current:
            return None
    if len(extra) != 1:
        return None
    return AppPlan(next(iter(extra.values())), frozenset(reserved))


_PLANS: weakref.WeakKeyDictionary[Any, Plans | None] = weakref.WeakKeyDictionary()


def plans_of(validator: Any) -> Plans | None:
    """The validator's plans (made once), or None when its tenant schema is not a plain object."""
    if validator in _PLANS:
        return _PLANS[validator]
    from renderer.validate.tenants import streamable

    ajv = validator.ajv
    node = validator.definitions["ADC"].get("additionalProperties")
    while isinstance(node, dict) and "$ref" in node:
        node = ajv.resolve(node["$ref"])
    plans = Plans(ajv, node) if streamable(node) else None
    _PLANS[validator] = plans
    return plans


def _hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:32]


def json_bytes(value: Any) -> bytes | None:
    """orjson's bytes of a value, or None for values it refuses (integers beyond 64 bits...)."""
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return None


def _dumped(value: Any) -> bytes:
    content = json_bytes(value)
    if content is None:
        raise _Abort
    return content


@dataclass
class _App:
    """One split Application of the tenant judged now."""

    shell: dict  # its reserved keys and non-object values, in key order
    shell_hash: str
    contents: dict[str, bytes]  # member -> its orjson bytes
    hashes: dict[str, str]  # member -> content hash

    def dependency(self, name: str) -> str:
        """What a pointer that read `name` here depended on: the member's hash, else the reserved part's."""
        return self.hashes.get(name) or self.shell_hash


def _split(plans: Plans, tenant: dict) -> dict[str, _App]:
    apps = {}
    for key, value in tenant.items():
        if type(value) is not dict or value.get("class") != "Application":
            continue
        plan = plans.app(key)
        if plan is None:
            continue
        shell: dict = {}
        contents: dict[str, bytes] = {}
        for name, member in value.items():
            if name in plan.reserved or type(member) is not dict:
                shell[name] = member
            else:
                contents[name] = _dumped(member)
        apps[key] = _App(shell, _hash(_dumped(shell)), contents, {m: _hash(c) for m, c in contents.items()})
    return apps


# -- the stored table: {app: (shell hash, {member: record})} per tenant name -----------------------
# record: (content hash, visits, names ok, item checks (() for none), errors, dependencies)

def _record_ok(record: Any) -> bool:
    try:
        digest, visits, names_ok, checks, errors, deps = record
        full, late, auto, servers = checks or (None, None, None, ())
    except (TypeError, ValueError):
        return False
    return (type(digest) is str and type(visits) is int and visits >= 0 and type(names_ok) is bool
            and all(_pair(p) for p in (full, late, auto)) and type(servers) is tuple
            and all(type(s) is tuple and len(s) == 3 and type(s[0]) is str and type(s[2]) is str for s in servers)
            and type(errors) is tuple and all(p is not None and _pair(p) for p in errors)
            and type(deps) is tuple and all(_pair(d) and d is not None for d in deps))


def _pair(value: Any) -> bool:
    return value is None or (type(value) is tuple and len(value) == 2 and all(type(v) is str for v in value))


def _table_ok(stored: Any) -> dict | None:
    if type(stored) is not tuple or len(stored) != 2 or stored[0] != TABLE_FORMAT or type(stored[1]) is not dict:
        return None
    for app in stored[1].values():
        if type(app) is not tuple or len(app) != 2 or type(app[0]) is not str or type(app[1]) is not dict:
            return None
        if not all(type(m) is str and _record_ok(r) for m, r in app[1].items()):
            return None
    return stored[1]


def table_key(prefix: str, tenant: str) -> str:
    return f"{prefix}members\0{tenant}"


# -- reads noted while a pointer resolves ------------------------------------------------------------
class Recording(dict):
    """A level of the filled declaration as pointer resolution sees it: notes every name read (the
    names a pointer's verdict depends on), and fills a kept member (`lazy`) on first read
    (fill.Filler.fill_frame: as the walk would have)."""

    def __init__(self, data: dict, lazy: dict[str, Any] | None = None, fill: Any = None) -> None:
        super().__init__(data)
        self.touched: set[str] = set()
        self.lazy = lazy or {}
        self.fill = fill

    def _see(self, key: Any) -> None:
        self.touched.add(key)
        if key in self.lazy:
            dict.__setitem__(self, key, self.fill(key, self.lazy.pop(key)))

    def __contains__(self, key: object) -> bool:
        self._see(key)
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        self._see(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._see(key)
        return super().get(key, default)


def tenant_by_members(validator: Any, name: str, tenant: dict, shell: dict, ctx: Any, store: Any) -> Any:
    """The TenantSummary of `tenant` with the unchanged members' results taken from `store` (a
    tenants.TenantStore: its disk and key prefix, and it counts the members kept), or None
    when this tenant must take the whole-tenant way (nothing then changed in `ctx`). A tenant that
    kept nothing and turns out to need the whole way once filled (a pointer outside the members or
    leaving its Application) is summarized from that fill, which was the whole tenant's: it is
    not filled twice. Raises tenants.Fallback where the whole-tenant way would."""
    plans = plans_of(validator)
    if plans is None:
        return None
    before = validator.filler.budget_left(ctx)
    try:
        return _judge(validator, plans, name, tenant, shell, ctx, store)
    except _Abort:
        validator.filler.spend(ctx, validator.filler.budget_left(ctx) - before)  # back to `before`
        return None


def _judge(validator: Any, plans: Plans, name: str, tenant: dict, shell: dict, ctx: Any, store: Any) -> Any:
    from renderer.validate.tenants import Fallback

    apps = _split(plans, tenant)
    if not apps:
        raise _Abort
    disk = store.disk
    key = table_key(store.keys.prefix, name)
    previous = disk.get(key, _table_ok) or {}
    kept: dict[tuple[str, str], tuple] = {}
    for app_key, app in apps.items():
        records = previous.get(app_key, ("", {}))[1]
        for member, digest in app.hashes.items():
            record = records.get(member)
            if record is not None and record[0] == digest and all(app.dependency(d) == h for d, h in record[5]):
                kept[(app_key, member)] = record
    partial = {k: ({m: v for m, v in value.items() if (k, m) not in kept} if k in apps else value)
               for k, value in tenant.items()}
    fresh = {(a, m) for a, app in apps.items() for m in app.contents if (a, m) not in kept}
    tenant_path = "/" + escape(name)
    paths = {f"{tenant_path}/{escape(a)}/{escape(m)}": (a, m) for a, m in fresh}

    filler, doubtful = validator.filler, validator.doubtful
    filled = orjson.loads(_dumped(partial))
    before = filler.budget_left(ctx)
    log: set[str] = set()
    doubtful.log = log
    ctx.watch = frozenset(paths)
    try:
        sites = filler.fill_tenant(validator.definitions["ADC"]["additionalProperties"], filled, tenant_path, ctx)
        watched = ctx.watched
        if filler.budget_left(ctx) < 0 or not validator.tenant_clean(filled):
            raise Fallback
    finally:
        ctx.watch = None
        ctx.watched = []
        if doubtful.log is log:
            doubtful.log = None
    filler.spend(ctx, sum(record[1] for record in kept.values()))
    if filler.budget_left(ctx) < 0:
        raise Fallback
    try:
        return _summary(validator, plans, name, tenant, shell, ctx, store,
                        _Partial(apps, kept, fresh, paths, filled, sites, watched, before, log))
    except _Abort:
        if kept:  # the whole way this time; with the table emptied, next time's fill is the whole tenant's
            disk.put(key, (TABLE_FORMAT, {}))
            raise
        # nothing kept: the partial tenant was the whole one, filled and judged as tenant_summary does
        from renderer.validate.tenants import summary_of_filled

        return summary_of_filled(validator, name, tenant, filled, sites, shell, before - filler.budget_left(ctx),
                                 sorted(log))


@dataclass
class _Partial:
    """The partial tenant once filled and found clean, and what it was made from."""

    apps: dict[str, _App]  # the split Applications
    kept: dict[tuple[str, str], tuple]  # (Application, member) -> its record, for the members left out
    fresh: set[tuple[str, str]]  # the members filled now
    paths: dict[str, tuple[str, str]]  # a fresh member's JSON pointer -> (Application, member)
    filled: dict  # the partial tenant, filled
    sites: list  # its walk's pointer sites
    watched: list  # its walk's frames of the fresh members (fill.Watched)
    before: int  # the walk's budget before this tenant
    log: set[str]  # the doubtful addresses its fill and verdict logged


def _summary(validator: Any, plans: Plans, name: str, tenant: dict, shell: dict, ctx: Any, store: Any,
             part: _Partial) -> Any:
    """The summary from the filled partial tenant and the kept records; stores the tenant's table."""
    from renderer.validate.tenants import TenantSummary, _late

    apps, kept, fresh, paths, filled = part.apps, part.kept, part.fresh, part.paths, part.filled
    sites, watched, before, log = part.sites, part.watched, part.before, part.log
    filler = validator.filler
    disk = store.disk
    key = table_key(store.keys.prefix, name)
    tenant_path = "/" + escape(name)
    frames = {w.path: w for w in watched}
    if len(frames) != len(watched) or frames.keys() != paths.keys():
        raise _Abort  # a member walked twice, or not as a frame of its own
    if sum(w.end_site - w.first_site for w in watched) != len(sites):
        raise _Abort  # a pointer site outside the members (the tenant's or an Application's own)

    # the pointers of the fresh members, every read noted
    params = {paths[w.path][0]: w for w in watched}

    def filler_for(app_key: str) -> Any:
        def fill(member: str, raw: bytes) -> Any:
            frame = params.get(app_key)
            if frame is None:
                raise _Abort
            copy = orjson.loads(raw)
            filler.fill_frame(frame.schema, copy, f"{tenant_path}/{escape(app_key)}/{escape(member)}",
                              frame.composite, frame.depth)
            return copy
        return fill

    tenant_view = Recording(filled)
    app_views = {}
    for app_key, app in apps.items():
        lazy = {m: app.contents[m] for m in app.contents if (app_key, m) in kept}
        app_views[app_key] = Recording(filled[app_key], lazy, filler_for(app_key))
        dict.__setitem__(tenant_view, app_key, app_views[app_key])
    top = Recording(shell)
    dict.__setitem__(top, name, tenant_view)
    outcome: dict[tuple[str, str], tuple[tuple, tuple]] = {}
    seen: set[str] = set()
    for w in watched:
        app_key, member = paths[w.path]
        view = app_views[app_key]
        errors, deps = [], set()
        for site in checked_sites(sites[w.first_site:w.end_site], seen):
            top.touched, tenant_view.touched, view.touched = set(), set(), set()
            try:
                target = resolve(site.value, site.pointer, top)
            except PointerProblem as err:
                error: Any = (site.pointer, str(err))
            else:
                if isinstance(target, Recording):
                    raise _Abort
                found = target_error(validator.ajv, site, target)
                error = None if found is None else (found.pointer, found.message)
            if not top.touched <= {name, ""} or not tenant_view.touched <= {app_key, "class"}:
                raise _Abort  # read outside its Application: other tenants' or Applications' state
            if error is not None:
                errors.append(error)
            deps |= view.touched
        app = apps[app_key]
        outcome[(app_key, member)] = (tuple(errors), tuple(sorted((d, app.dependency(d)) for d in deps)))

    # property names: the parts' candidate words
    names = validator.names
    shells = {k: (apps[k].shell if k in apps else v) for k, v in tenant.items()}
    names_ok = all(names.allowed(w) for w in _candidates(shells))
    member_names: dict[tuple[str, str], bool] = {}
    for a, m in fresh:
        member_names[(a, m)] = all(names.allowed(w) for w in _candidates({m: tenant[a][m]}))
    names_ok = names_ok and all(member_names.values()) and all(r[2] for r in kept.values())

    # item checks, in the filled tenant's key order
    checks: list[postchecks.ItemChecks] = []
    member_checks: dict[tuple[str, str], postchecks.ItemChecks] = {}
    if filled.get("class") == "Tenant":
        for k in [*tenant, *(k for k in filled if k not in tenant)]:
            value = filled[k]
            if not (isinstance(value, dict) and value.get("class") == "Application"):
                continue
            source = tenant.get(k, {})
            for item in [*source, *(i for i in value if i not in source)]:
                record = kept.get((k, item))
                if record is not None:
                    if record[3]:  # () when the item has nothing to note: most have not
                        full, late, auto, servers = record[3]
                        checks.append(postchecks.ItemChecks(full, late, auto, list(servers)))
                    continue
                one = postchecks.item_checks(name, k, item, value[item])
                if (k, item) in fresh:
                    member_checks[(k, item)] = one
                checks.append(one)
    folded = postchecks.fold_items(checks)

    # pointer errors in the walk's order: Applications as the tenant's walk meets them, members in key order
    errors: list[tuple[str, str]] = []
    for app_key in plans.walk_order(tenant):
        if app_key not in apps:
            continue
        for member in apps[app_key].contents:
            record = kept.get((app_key, member))
            errors += record[4] if record is not None else outcome[(app_key, member)][0]

    store.members_kept += len(kept)
    store.members_judged += len(fresh)
    summary = TenantSummary(before - filler.budget_left(ctx), names_ok, folded.full, folded.servers, _late(folded.late),
                            folded.auto, errors, sorted(log))
    if not log:  # a kept member must have logged no doubtful address
        visits = {paths[w.path]: w.visits for w in watched}
        table = {}
        for app_key, app in apps.items():
            records = {}
            for member, digest in app.hashes.items():
                record = kept.get((app_key, member))
                if record is None:
                    one = member_checks.get((app_key, member), _NOTHING)
                    errs, deps = outcome.get((app_key, member), ((), ()))
                    noted = (one.full, one.late, one.auto, tuple(one.servers)) if one != _NOTHING else ()
                    record = (digest, visits[(app_key, member)], member_names[(app_key, member)], noted, errs, deps)
                records[member] = record
            table[app_key] = (app.shell_hash, records)
        disk.put(key, (TABLE_FORMAT, table))
    return summary
