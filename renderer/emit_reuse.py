"""Per-tenant reuse of the AS3 emit: a tenant whose model is unchanged gets its JSON from the cache.

Why: emitting the declaration (Jinja2) is the largest stage after parsing, and in a pull request
that changes one Ingress nine tenants of ten come out exactly as before. With the built-in
templates a tenant's JSON is a function of that tenant's model and of the declaration settings
the tenant template reads (`tenant_label`, `route_domain`, `schema_version`): `declaration.json.j2`
renders each tenant on its own with `tenant.json.j2`, and no tenant template reads another tenant
or the commit (`tests/render/test_emit_reuse.py` checks that a tenant's JSON is the same under two
identities and next to different tenants).

The key of a tenant's entry is a SHA-256 of the code fingerprint (`render_memo.render_fingerprint`:
an edited template or emitter is a new key), those settings, and `repr` of the tenant's model
(the model is dataclasses of plain values with generated `repr`s, so equal reprs are equal
models; a repr with an object address in it is not used). The tenants that miss are rendered by
the real `render_as3`, together with an empty stand-in for every hit so that the declaration's
keys come out in the order a full render gives them; the stand-ins are then replaced by the
stored JSON.

One level down, a tenant that changed is rendered one object at a time where its Ingress build
says which objects are the same: a tenant put together from one-Ingress pieces
(`renderer.mapping.tenant_reuse`) names in `Model.carried` the model key of the last build its
unchanged pieces came from and the names of their objects. Those objects are that build's, and
an object's JSON is a function of the object, its tenant's name and the settings above (the
templates read nothing else: `tests/render/test_emit_reuse.py`), so their JSON is taken from that
build's tenant entry; only the other objects go through the templates, and the tenant's
application is assembled in the template's order (`SHARED_ORDER`).

Not reused, the whole declaration is rendered as before: with the repository's own templates
(`templates:` in as3-gitops.yaml; they may do anything), with AS3 ConfigMap tenants or an override
ConfigMap (they merge into the declaration after the templates). A tenant whose JSON holds secret
material (a private key, a passphrase) is never stored.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from renderer import model as model_module
from renderer.as3 import MARKER_LABEL, Identity, render_as3
from renderer.config import Config
from renderer.errors import Origin, SourceLocation
from renderer.model import Model, Tenant
from renderer.render_memo import holds_secrets, render_fingerprint
from renderer.source import Tree

KIND = "as3-tenant"
FORMAT = 1
# The last declaration whose tenants `emit_as3` (or a render memo hit) keyed, with its tenants'
# keys by object identity and whether the cache holds each one's JSON under its key; one only, as
# it holds that declaration alive until the next render (a render's caller reads them right after
# it: `Side.from_render`, the memo's store).
_LATEST: list[dict[int, tuple[Any, str, bool]]] = []


class TenantUnavailable(Exception):
    """A `StoredTenant` whose entry did not load: the caller renders again without deferring."""


class StoredTenant:
    """A tenant's JSON left in the disk cache, by its key: what a render asked to defer
    tenants (`render(defer_tenants=True)`, only `diff` asks) holds in the declaration in place of
    the dict. Why: a diff of a pull request compares the tenants whose keys differ and never reads
    the others, whose JSON is most of a large declaration. The entry is read and checked only then
    (`load`); one that is gone or corrupt by that time raises `TenantUnavailable`. Not a dict: a
    deferred tenant that reached anything but the diff would fail loudly (JSON encoders refuse it),
    never be written."""

    __slots__ = ("_disk", "key")

    def __init__(self, key: str, disk: Any) -> None:
        self.key = key
        self._disk = disk

    def load(self) -> dict[str, Any]:
        value = self._disk.get(self.key, _tenant_value)
        if value is None:
            raise TenantUnavailable(self.key)
        return value


def _tenant_value(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) and value.get("class") == "Tenant" else None


def stored_tenant(disk: Any, key: str, defer: bool) -> Any | None:
    """The JSON stored under `key` (a `StoredTenant` when `defer`: the entry is there, not yet read), or None."""
    if not defer:
        return disk.get(key, _tenant_value)
    return StoredTenant(key, disk) if disk.touch(key) else None


def _tenant_key(tenant: Tenant, config: Config, build_key: str | None = None) -> str | None:
    if build_key is not None:  # the tenant is exactly a cached Ingress build: that key names its model
        text = f"ingress build {build_key}"
    else:
        text = repr(tenant)
        if " object at 0x" in text:  # an object without a value repr: equal text would not mean equal
            return None
    settings = (FORMAT, MARKER_LABEL, config.bigip.schema_version, config.bigip.default_route_domain)
    digest = hashlib.sha256(repr(settings).encode() + b"\0" + text.encode("utf-8", "surrogatepass")).hexdigest()
    return "\0".join((KIND, render_fingerprint(), digest))


@functools.cache
def repr_is_complete() -> bool:
    """Every field of every model dataclass is in its `repr` (a `field(repr=False)` would let two
    different tenants share a key: then nothing is reused)."""
    classes = [obj for obj in vars(model_module).values()
               if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == model_module.__name__]
    return all(f.repr for cls in classes for f in dataclasses.fields(cls)) and all(
        f.repr for cls in (Origin, SourceLocation) for f in dataclasses.fields(cls))


def reusable(model: Model, config: Config) -> bool:
    return not (config.templates or model.raw_tenants or model.override is not None) and repr_is_complete()


def emit_as3(model: Model, config: Config, identity: Identity, tree: Tree | None, disk: Any,
             defer: bool = False) -> dict[str, Any]:
    """`render_as3(model, config, identity, tree)`, with unchanged tenants' JSON from `disk` (left
    there as `StoredTenant`s when `defer`)."""
    forget_keys()
    if disk is None or not reusable(model, config):
        return render_as3(model, config, identity, tree)
    keys = {name: _tenant_key(tenant, config, model.build_keys.get(name)) for name, tenant in model.tenants.items()}
    stored: dict[str, Any] = {}
    for name, key in keys.items():
        if key is not None:
            value = stored_tenant(disk, key, defer)
            if value is not None:
                stored[name] = value
    earlier = {name: found for name in model.carried if name not in stored
               and (found := _carried_json(disk, model, name, config)) is not None}
    partial = replace(model, tenants={name: (Tenant(name) if name in stored else
                                             _without(tenant, model.carried[name][1]) if name in earlier else tenant)
                                      for name, tenant in model.tenants.items()})
    as3 = render_as3(partial, config, identity, tree)
    declaration = as3["declaration"]
    for name, shared in earlier.items():
        declaration[name]["Shared"] = _assembled(model.tenants[name], model.carried[name][1], shared,
                                                 declaration[name]["Shared"])
    disk.objects_reused = getattr(disk, "objects_reused", 0) + sum(len(model.carried[n][1]) for n in earlier)
    kept = set(stored)
    for name, key in keys.items():
        if name in stored:
            declaration[name] = stored[name]
        elif key is not None and isinstance(declaration.get(name), dict) and _store(disk, key, declaration[name]):
            kept.add(name)
    note_keys(declaration, {name: key for name, key in keys.items() if key is not None}, kept)
    disk.tenant_hits = getattr(disk, "tenant_hits", 0) + len(stored)
    disk.tenant_misses = getattr(disk, "tenant_misses", 0) + len(keys) - len(stored)
    return as3


# The tenant's dicts in the order tenant.json.j2 writes them into its application "Shared"
# (tests/render/test_emit_reuse.py checks a full render's key order against it).
SHARED_ORDER = ("virtual_servers", "pools", "monitors", "policies", "certificates", "tls_servers", "irules",
                "data_groups", "declared")


def _carried_json(disk: Any, model: Model, name: str, config: Config) -> dict[str, Any] | None:
    """The "Shared" JSON of the earlier build a changed tenant carries objects of (`Model.carried`),
    when it holds every one of them and the tenant's names are one per object; else None (the whole
    tenant is rendered). Why: a pull request that edits one Ingress of a tenant of a thousand renders
    that one Ingress's objects, not the tenant's."""
    tenant = model.tenants[name]
    build_key, carried = model.carried[name]
    names = [key for attr in SHARED_ORDER for key, obj in getattr(tenant, attr).items() if key == obj.name]
    if len(names) != sum(len(getattr(tenant, attr)) for attr in SHARED_ORDER) or len(set(names)) != len(names) \
            or not carried <= set(names):
        return None  # a name twice (the template's JSON would keep one) or not the object's own: not assembled
    body = disk.get(_tenant_key(tenant, config, build_key), _tenant_value)
    shared = body.get("Shared") if body is not None else None
    if not isinstance(shared, dict) or not all(isinstance(shared.get(n), dict) for n in carried):
        return None
    return shared


def _without(tenant: Tenant, carried: frozenset[str]) -> Tenant:
    """`tenant` without the objects whose JSON comes from its earlier build."""
    part = Tenant(tenant.name)
    for attr in SHARED_ORDER:
        into = getattr(part, attr)
        for key, obj in getattr(tenant, attr).items():
            if key not in carried:
                into[key] = obj
    return part


def _assembled(tenant: Tenant, carried: frozenset[str], earlier: dict[str, Any],
               fresh: dict[str, Any]) -> dict[str, Any]:
    """The tenant's "Shared" as the template writes it: its own keys, then every object in the
    template's order, each carried one's JSON from the earlier build, the others' from `fresh`."""
    names = {key for attr in SHARED_ORDER for key in getattr(tenant, attr)}
    out = {key: value for key, value in fresh.items() if key not in names}
    for attr in SHARED_ORDER:
        for key in getattr(tenant, attr):
            out[key] = earlier[key] if key in carried else fresh[key]
    return out


def _store(disk: Any, key: str, body: dict[str, Any]) -> bool:
    return disk.put(key, body, refuse=holds_secrets)


def note_keys(declaration: dict[str, Any], keys: Mapping[str, str], kept: set[str] | frozenset[str]) -> None:
    """Remember the key each tenant of `declaration` was emitted (or read back) under, and which of
    them (`kept`) the cache holds under that key.

    Why: two tenants with one key are one JSON (the key names the tenant's model and the code,
    and the JSON is a function of those), so a diff of main's render against a pull request's,
    whose unchanged tenants share keys, need not compare them value by value; and the render memo
    stores a kept tenant as its key, not its JSON again. The tenant objects themselves are held
    (by identity), so a key is only ever given for the object it was made for."""
    _LATEST[:] = [{id(body): (body, key, name in kept) for name, key in keys.items()
                   if isinstance(body := declaration.get(name), dict | StoredTenant)}]


def forget_keys() -> None:
    """A render starts: the last one's tenants need not be held any longer."""
    _LATEST.clear()


def tenant_keys(declaration: Mapping[str, Any], *, kept: bool = False) -> dict[str, str]:
    """Each tenant of `declaration` that is the very object `note_keys` saw, with its key (with
    `kept`, only those whose JSON the cache holds under it)."""
    out: dict[str, str] = {}
    for by_id in _LATEST:
        for name, body in declaration.items():
            found = by_id.get(id(body))
            if found is not None and found[0] is body and (found[2] or not kept):
                out[name] = found[1]
    return out
