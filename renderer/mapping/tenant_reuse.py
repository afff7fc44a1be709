"""Per-tenant reuse of the Ingress build: a tenant whose inputs are unchanged comes from the disk cache.

Why: in a pull request that changes one Ingress and moves one pod, nine tenants of ten are built
exactly as before, and the Ingress build is the largest stage of a render after parsing.

How it stays exact. `build_ingresses` visits the Ingresses in one global order and shares one
`Registry`. Here each tenant's Ingresses (the same order, filtered) are built instead on a registry
of their own, and the results are put together. That gives the global result when the tenants do
not meet: every name claim is keyed by its tenant, so the only shared state is the `ip:port` table
(`Registry.addresses`) and the certificate names (computed before, from every Ingress, and only
read here). So the composition is refused, and the global build runs, when

- two tenants asked for one `ip:port` (its owner would depend on the order: ING012), or
- a tenant's build created or touched another tenant (the grouping guessed wrong).

Tenants are inserted into the registry in the order the global build creates them, and findings
are sorted with a total order (`Finding.sort_key`), so nothing downstream sees the difference.

The same argument, one level down, puts a tenant together from one-Ingress pieces (`_merge`):
pieces that neither hold nor claim a common name nor ask for a common `ip:port` never saw each
other's objects, so a pass over them leaves each tenant dict as the pieces' dicts one after the
other. That is how a tenant whose entry missed is built: an Ingress whose document and reads are
unchanged takes its objects from the tenant's last stored build, the others are built alone. A
tenant with no earlier pieces is built in one pass and split afterwards by who claimed what
(`_split`): each piece is then what its Ingress alone would have built, by the same argument.

A tenant's entry in the cache is keyed by the code fingerprint, the settings (`repr` of the
`Config`), the tenant and its Ingresses' documents (`Digests`: path, index, first line, the keys
of the object in a `kind: List`, and the document's lines). A view is a function of its document's
data and of (path, line); precise positions are found from the file only on the error path, which
is why only clean builds are stored. The entry also lists every read the build made of the
cluster's tables (Services, Endpoints, EndpointSlices, Nodes, Secrets, misses and whole-table reads
included) and of the certificate names, each with the digest of what it found (and where that
document is: `tenant_store.checked` compares a table's places as one list and hashes nothing while
they are equal); it is used only when every read finds the same again. An entry is stored only for a
build with no finding, whose tenant holds no certificate (no secret material on disk). The model is
kept as a pickle that may name only the model's own classes (`ModelUnpickler`), with the Origins of
the objects the build saw named by their index in what its reads found (each made when the
pickle asks for it: `ModelUnpickler`), so a reused model holds this render's Origin objects. What
only a later build from pieces wants (the pieces, the Origins as values, the model again) is an
entry of its own (`_pieces_key`), so a hit does not read it; a hit's model key is the one its build
stored.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from renderer.config import Config
from renderer.errors import Finding
from renderer.kube.load import Cluster
from renderer.kube.objects import Ingress, ObjectMeta
from renderer.mapping.registry import Registry
from renderer.mapping.tenant_facts import LazyTenant, facts_from, tenant_facts
from renderer.mapping.tenant_store import (
    Digests,
    ModelUnpickler,
    NoDigest,
    Recorded,
    RecordingCluster,
    Unrecorded,
    checked,
    current,
    dumps,
    origin_of,
    origin_value,
    packed_checks,
    unpacked_reads,
)
from renderer.model import TENANT_DICTS, Tenant

KIND = "ingress-tenant"
FORMAT = 4  # 4: the tenant's facts beside its pickle (renderer.mapping.tenant_facts)


@dataclass
class _Built:
    """One tenant's share of the Ingress build: what it adds to the registry, and its findings."""

    tenant: Any  # renderer.model.Tenant, or None when no Ingress of the group got that far
    created_at: int | None  # index (in the group) of the Ingress whose build created the tenant
    addresses: dict[tuple[str, int], tuple[str, str, str]]
    attempted: set[tuple[str, int]]
    claims: list[tuple[tuple[str, str], Any, ObjectMeta]]  # (tenant, name), identity, who claimed it
    single_service_owner: dict[tuple[str, str], str]
    translate_votes: dict[tuple[str, str], list[bool | None]]
    findings: list[Finding] = field(default_factory=list)
    reads: list[tuple[str, Any, Any]] = field(default_factory=list)  # table, key, digest of what it found
    names: frozenset[str] = frozenset()  # every name it claimed or holds in its tenant (not kept for a hit)
    pieces: list[dict[str, Any]] | None = None  # when put together from one-Ingress pieces: theirs (`_piece`)
    model_key: str | None = None  # a hit's: the one its build stored (`_model_key` of the same reads)
    kept: dict[str, Any] | None = None  # a piece taken from the last build whose places all matched: what it kept
    # put together from pieces: the model key of the last build some were taken from, and the names
    # of the objects they brought (exactly that build's objects: renderer.emit_reuse reuses their JSON)
    carried_from: str | None = None
    carried: frozenset[str] = frozenset()


def build_by_tenant(items: list[Ingress], cluster: Cluster, config: Config, reg: Registry,
                    findings: list[Finding], disk: Any, build_one: Callable[..., None],
                    tenant_of: Callable[[Ingress], str]) -> bool:
    """Build `items` tenant by tenant (reusing unchanged tenants from `disk`) into `reg` and
    `findings`; False, with nothing changed, when the tenants meet and the global build must run."""
    if cluster.members_from or reg.addresses or len(reg.tenants) > 1:
        return False  # several clusters read more than the recorded tables; or not the first builder
    settings = _settings(config)
    if settings is None:
        return False
    groups: dict[str, list[int]] = {}
    for i, ing in enumerate(items):
        groups.setdefault(tenant_of(ing), []).append(i)
    digests = Digests(disk)
    try:
        parts = _parts(groups, items, settings, cluster, config, reg, disk, build_one, digests)
    except Unrecorded:  # a read outside the recorded tables: nothing of this is trusted
        return False
    finally:
        digests.flush()
    if parts is None or _meet({t: p for t, (p, _, _) in parts.items()}):
        return False
    _install({t: p for t, (p, _, _) in parts.items()}, groups, reg, findings)
    reg.build_keys.update({t: k for t, (_, k, _) in parts.items() if k is not None})
    reg.carried.update({t: (p.carried_from, p.carried) for t, (p, _, _) in parts.items()
                        if p.carried_from is not None and p.carried})
    disk.tenant_builds_reused += sum(hit for _, _, hit in parts.values())
    return True


def _parts(groups: dict[str, list[int]], items: list[Ingress], settings: bytes, cluster: Cluster, config: Config,
           reg: Registry, disk: Any, build_one: Callable[..., None], digests: Digests
           ) -> dict[str, tuple[_Built, str | None, bool]] | None:
    """tenant -> (its part, the key of the model it is (None: not storable), whether it came from
    `disk`); None when a build strayed into another tenant."""
    parts: dict[str, tuple[_Built, str | None, bool]] = {}
    for tenant, index in groups.items():
        group = [items[i] for i in index]
        key = _key(settings, tenant, group, digests)
        part = _lookup(disk, key, tenant, group, cluster, reg, digests) if key is not None else None
        hit = part is not None
        model_key = None  # the entry's key and what its reads found: names exactly this model
        if part is not None:
            model_key = part.model_key
        else:
            part = _by_ingress(tenant, group, settings, cluster, config, reg, disk, build_one, digests)
            if part is None:
                return None
            if key is not None and _storable(part, group):
                model_key = _model_key(key, part)
                packed = _pack(part, group, cluster, reg, digests, model_key)
                if packed is not None and disk.put(key, packed[0]) and packed[1] is not None \
                        and disk.put(_pieces_key(key), packed[1]):
                    disk.put(_pointer(settings, tenant), {"format": FORMAT, "key": key})
        parts[tenant] = (part, model_key, hit)
    return parts


def _model_key(key: str, part: _Built) -> str | None:
    """What names the model of a stored build: its entry's key and what each of its reads found."""
    if part.tenant is None:
        return None
    return hashlib.sha256(f"{key}\0{part.reads!r}".encode("utf-8", "surrogatepass")).hexdigest()


def _pointer(settings: bytes, tenant: str) -> str:
    """The key of the entry naming the tenant's last stored build (for its pieces), or that its
    Ingresses met."""
    return f"{KIND}-last\0" + hashlib.sha256(settings + b"\0" + tenant.encode("utf-8", "surrogatepass")).hexdigest()


def _pieces_key(key: str) -> str:
    """The key of what a later build of the tenant from pieces wants of the build stored at `key`."""
    return f"{KIND}-pieces\0{key}"


def _by_ingress(tenant: str, group: list[Ingress], settings: bytes, cluster: Cluster, config: Config,
                reg: Registry, disk: Any, build_one: Callable[..., None], digests: Digests) -> _Built | None:
    """A tenant whose entry missed: each Ingress built alone, or taken from the tenant's last stored
    build when its document and its reads are unchanged, and the pieces put together (`_merge`);
    when two pieces meet (one name or one ip:port), the tenant's Ingresses are built in one pass.
    None when a build strayed into another tenant."""
    pointer = _pointer(settings, tenant)
    last = disk.get(pointer, lambda v: v if isinstance(v, dict) and v.get("format") == FORMAT else None)
    idents = [f"{ing.meta.namespace}/{ing.meta.name}" for ing in group]
    if last is not None and last.get("meet") == idents:  # these Ingresses met last time: one pass
        return _build_alone(tenant, group, cluster, config, reg, build_one, digests)
    previous = _Previous(disk, last.get("key") if last is not None else None, group)
    if not previous.has_pieces():  # nothing to take: one pass, split into its pieces afterwards
        return _first_pass(tenant, group, cluster, config, reg, build_one, digests, disk, pointer, idents)
    pieces: list[_Built] = []
    metadata: list[dict[str, Any]] = []
    carried: list[str] = []
    for ing in group:
        try:
            digest = digests.meta(ing.meta)
        except NoDigest:
            digest = None
        piece = previous.piece(digest, ing, cluster, reg, digests) if digest is not None else None
        disk.ingress_pieces_reused += piece is not None
        if piece is not None and piece.tenant is not None:
            carried.extend(name for attr in TENANT_DICTS for name in getattr(piece.tenant, attr))
        if piece is None:
            piece = _build_alone(tenant, [ing], cluster, config, reg, build_one, digests)
            if piece is None:
                return None
        pieces.append(piece)
        metadata.append(piece.kept if piece.kept is not None else _piece(piece, digest, cluster))
    merged = _merge(tenant, pieces)
    if merged is None:  # remembered until the tenant's set of Ingresses changes (sharing is structural)
        disk.put(pointer, {"format": FORMAT, "key": None, "meet": idents})
        return _build_alone(tenant, group, cluster, config, reg, build_one, digests)
    merged.pieces = metadata
    if previous.model_key is not None:
        merged.carried_from, merged.carried = previous.model_key, frozenset(carried)
    return merged


def _first_pass(tenant: str, group: list[Ingress], cluster: Cluster, config: Config, reg: Registry,
                build_one: Callable[..., None], digests: Digests, disk: Any, pointer: str,
                idents: list[str]) -> _Built | None:
    """A tenant with no earlier pieces: one pass, split afterwards into each Ingress's piece (kept
    with the tenant's entry); when its Ingresses met, no pieces, and the pointer says so."""
    built = _one_pass(tenant, group, cluster, config, reg, build_one, digests, split=True)
    if built is None:
        return None
    part, pieces = built
    if pieces is None:
        disk.put(pointer, {"format": FORMAT, "key": None, "meet": idents})
        return part
    try:
        part.pieces = [_piece(piece, digests.meta(ing.meta), cluster) for piece, ing in zip(pieces, group, strict=True)]
    except NoDigest:
        part.pieces = None
    return part


def _piece(piece: _Built, digest: bytes | None, cluster: Cluster) -> dict[str, Any]:
    """What is kept of one Ingress's piece in its tenant's entry: its document's digest, the names of
    its objects in each of the tenant's dicts, its reads and its share of the registry."""
    names = {attr: list(getattr(piece.tenant, attr)) for attr in TENANT_DICTS} if piece.tenant is not None else None
    return {"digest": digest, "names": names, "claims": [(k, identity) for k, identity, _ in piece.claims],
            "addresses": list(piece.addresses.items()),
            "single_service_owner": list(piece.single_service_owner.items()),
            "translate_votes": list(piece.translate_votes.items()), "checks": packed_checks(piece.reads, cluster),
            "clean": not piece.findings}


class _Previous:
    """The tenant's last stored build, opened only when a piece of it is wanted."""

    def __init__(self, disk: Any, key: Any, group: list[Ingress]) -> None:
        self._disk, self._key, self._group = disk, key, group
        self._raw: dict[str, Any] | None = None
        self._pieces: dict[bytes, dict[str, Any]] | None = None
        self._tenant: Any = None
        self.model_key: str | None = None  # the model key of the build these pieces are of

    def has_pieces(self) -> bool:
        return bool(self._open())

    def _open(self) -> dict[bytes, dict[str, Any]]:
        if self._pieces is None:
            self._pieces = {}
            raw = self._disk.get(_pieces_key(self._key), lambda v: v if isinstance(v, dict) and v.get("format")
                                 == FORMAT else None) if isinstance(self._key, str) else None
            if raw is not None and isinstance(raw.get("pieces"), list):
                self._raw = raw
                self.model_key = raw.get("model_key") if isinstance(raw.get("model_key"), str) else None
                self._pieces = {p["digest"]: p for p in raw["pieces"]
                                if isinstance(p, dict) and isinstance(p.get("digest"), bytes) and p.get("clean")}
        return self._pieces

    def _objects(self) -> Any:
        """The stored tenant, its origins rebuilt from their values (this render's own where an
        Ingress of the group has that origin)."""
        if self._tenant is None and self._raw is not None and self._raw.get("tenant") is not None:
            mine = {origin_value(ing.meta.origin): ing.meta.origin for ing in self._group}
            known = [mine.get(tuple(v)) or origin_of(v) for v in self._raw["origins"]]
            self._tenant = ModelUnpickler(io.BytesIO(self._raw["tenant"]), known).load()
        return self._tenant

    def piece(self, digest: bytes, ing: Ingress, cluster: Cluster, reg: Registry, digests: Digests) -> _Built | None:
        stored = self._open().get(digest)
        if stored is None:
            return None
        try:
            moved: list[Any] = []
            if checked(stored["checks"], cluster, reg, digests, moved) is None:
                return None
            reads = unpacked_reads(stored["checks"])
            names = stored["names"]
            tenant = None
            if names is not None:
                whole = self._objects()
                tenant = Tenant(whole.name)
                for attr in TENANT_DICTS:
                    have, into = getattr(whole, attr), getattr(tenant, attr)
                    for name in names[attr]:
                        into[name] = have[name]
            claims = [(tuple(k), identity, ing.meta) for k, identity in stored["claims"]]
            addresses = {tuple(k): tuple(v) for k, v in stored["addresses"]}
            return _Built(tenant, 0 if tenant is not None else None, addresses, set(addresses), claims,
                          {tuple(k): v for k, v in stored["single_service_owner"]},
                          {tuple(k): list(v) for k, v in stored["translate_votes"]}, [], reads,
                          names=_names(tenant, claims), kept=None if moved else stored)
        except (KeyError, TypeError, ValueError, AttributeError, pickle.UnpicklingError, EOFError, ImportError,
                NoDigest):
            return None


def _merge(tenant: str, pieces: list[_Built]) -> _Built | None:
    """The pieces (one Ingress each, in order) as one pass over them leaves the tenant, or None when
    two of them share a name or an ip:port (then one's build saw the other's objects)."""
    names = [name for piece in pieces for name in piece.names]
    attempted = [a for piece in pieces for a in piece.attempted]
    if len(set(names)) != len(names) or len(set(attempted)) != len(attempted):
        return None
    created_at = next((i for i, piece in enumerate(pieces) if piece.tenant is not None), None)
    whole = Tenant(tenant) if created_at is not None else None
    merged = _Built(whole, created_at, {}, set(attempted), [], {}, {})
    for piece in pieces:
        if piece.tenant is not None and whole is not None:
            for attr in TENANT_DICTS:
                getattr(whole, attr).update(getattr(piece.tenant, attr))
        merged.addresses.update(piece.addresses)
        merged.claims.extend(piece.claims)
        merged.single_service_owner.update(piece.single_service_owner)
        merged.translate_votes.update(piece.translate_votes)
        merged.findings.extend(piece.findings)
    # one read per lookup: the pieces were checked (or made) in this render, so equal lookups found alike
    merged.reads = list({(table, key): (table, key, found) for piece in pieces
                         for table, key, found in piece.reads}.values())
    merged.names = frozenset(names)
    return merged


def _meet(built: dict[str, _Built]) -> bool:
    """Two tenants asked for one ip:port: which gets it (ING012 for the other) depends on the global order."""
    attempted = [a for part in built.values() for a in part.attempted]
    return len(set(attempted)) != len(attempted)


def _settings(config: Config) -> bytes | None:
    from renderer.render_memo import render_fingerprint

    text = repr(config)
    if " object at 0x" in text:  # a value without a value repr: equal text would not mean equal settings
        return None
    return f"{KIND}\0{FORMAT}\0{render_fingerprint()}\0".encode() + text.encode("utf-8", "surrogatepass")


def _key(settings: bytes, tenant: str, group: list[Ingress], digests: Digests) -> str | None:
    digest = hashlib.sha256(settings)
    digest.update(b"\0" + tenant.encode("utf-8", "surrogatepass"))
    meta = digests.meta
    try:
        digest.update(b"".join([b"\0" + meta(ing.meta) for ing in group]))
    except NoDigest:
        return None
    return f"{KIND}\0{digest.hexdigest()}"


def _build_alone(tenant: str, group: list[Ingress], cluster: Cluster, config: Config, reg: Registry,
                 build_one: Callable[..., None], digests: Digests) -> _Built | None:
    """The group built on a registry of its own, every read noted; None if it touched another tenant."""
    built = _one_pass(tenant, group, cluster, config, reg, build_one, digests, split=False)
    return None if built is None else built[0]


def _one_pass(tenant: str, group: list[Ingress], cluster: Cluster, config: Config, reg: Registry,
              build_one: Callable[..., None], digests: Digests, *, split: bool
              ) -> tuple[_Built, list[_Built] | None] | None:
    """`_build_alone`, and with `split` each Ingress's piece of it (what it claimed, asked for, read
    and holds), or None for the pieces when two Ingresses met (a common name or ip:port): pieces
    that did not meet are what each Ingress built alone makes (see the module docstring)."""
    reads: dict[tuple[str, Any], None] = {}
    sub = Registry()
    sub.certificate_names = Recorded(reg.certificate_names, "certificate_names", reads)  # type: ignore[assignment]
    view = RecordingCluster(cluster, reads)
    found: list[Finding] = []
    created_at = None
    own: list[tuple[dict[tuple[str, Any], None], list[str], set[tuple[str, int]], set[str], int]] = []
    for j, ing in enumerate(group):
        if split:
            mine: dict[tuple[str, Any], None] = {}
            view.switch(mine)
            sub.certificate_names._reads = mine  # type: ignore[attr-defined]
            sub.claim_log, sub.attempted, sub.touched, start = [], set(), set(), len(found)
        build_one(ing, view, config, sub, found)
        if created_at is None and tenant in sub.tenants:
            created_at = j
        if split:
            own.append((mine, sub.claim_log, sub.attempted, sub.touched, start))  # type: ignore[arg-type]
    if split:
        for mine, *_ in own:
            reads.update(mine)
        sub.attempted = {a for _, _, attempted, _, _ in own for a in attempted}
    if set(sub.tenants) - {tenant} or any(t != tenant for t, _ in sub.claims):
        return None
    if any(p != tenant for p, _ in (*sub.single_service_owner, *sub.translate_votes)):
        return None
    claims = [(k, identity, meta) for k, (identity, meta) in sub.claims.items()]
    whole = sub.tenants.get(tenant)
    part = _Built(whole, created_at, dict(sub.addresses), set(sub.attempted), claims,
                  dict(sub.single_service_owner), {k: list(v) for k, v in sub.translate_votes.items()}, found,
                  names=_names(whole, claims))
    try:
        part.reads = [(table, key, current(cluster, reg, table, key, digests)) for table, key in reads]
    except NoDigest:
        part.reads = [("", None, None)]  # never matches: not storable
    return part, (_split(tenant, part, own, cluster, reg, digests) if split else None)


def _split(tenant: str, part: _Built, own: list[Any], cluster: Cluster, reg: Registry,
           digests: Digests) -> list[_Built] | None:
    """Each Ingress's piece of a one-pass build, or None when two Ingresses met or an object has no
    single owner."""
    owner: dict[str, int] = {}
    for j, (_, claimed, _, _, _) in enumerate(own):
        for name in set(claimed):
            if owner.setdefault(name, j) != j:
                return None
    attempted = [a for _, _, mine, _, _ in own for a in mine]
    if len(set(attempted)) != len(attempted):
        return None
    held = [name for attr in TENANT_DICTS for name in getattr(part.tenant, attr)] if part.tenant else []
    if any(name not in owner for name in held):
        return None  # an object no Ingress claimed: whose it is cannot be told
    ends = [start for *_, start in own[1:]] + [len(part.findings)]
    pieces = []
    for j, (mine, claimed, asked, touched, start) in enumerate(own):
        piece = _Built(Tenant(tenant) if tenant in touched else None, 0 if tenant in touched else None,
                       {}, set(asked), [], {}, {}, part.findings[start:ends[j]], names=frozenset(claimed))
        try:
            piece.reads = [(table, key, current(cluster, reg, table, key, digests)) for table, key in mine]
        except NoDigest:
            piece.reads = [("", None, None)]
        pieces.append(piece)
    if part.tenant is not None:  # each object to its owner's piece, in the tenant's order
        for attr in TENANT_DICTS:
            for name, obj in getattr(part.tenant, attr).items():
                into = pieces[owner[name]].tenant
                if into is None:
                    return None
                getattr(into, attr)[name] = obj
    try:
        for key, value in part.addresses.items():
            pieces[owner[value[1]]].addresses[key] = value
        for claim in part.claims:
            pieces[owner[claim[0][1]]].claims.append(claim)
        for key, who in part.single_service_owner.items():
            pieces[owner[key[1]]].single_service_owner[key] = who
        for key, votes in part.translate_votes.items():
            pieces[owner[key[1]]].translate_votes[key] = votes
    except KeyError:  # a virtual server no Ingress claimed
        return None
    return pieces


def _names(tenant: Any, claims: list[tuple[tuple[str, str], Any, Any]]) -> frozenset[str]:
    held = {name for (_, name), _, _ in claims}
    if tenant is not None:
        for attr in TENANT_DICTS:
            held.update(getattr(tenant, attr))
    return frozenset(held)


def _storable(part: _Built, group: list[Ingress]) -> bool:
    """Clean, every claim its own Ingresses', and nothing of a Secret on disk: no certificate, and no
    read that found a Secret (even a digest of one would let a weak password be guessed offline)."""
    metas = {id(ing.meta) for ing in group}
    return (not part.findings and all(id(meta) in metas for _, _, meta in part.claims)
            and not (part.tenant is not None and part.tenant.certificates)
            and all(table and not (table == "secrets" and found is not None) for table, _, found in part.reads))


def _pack(part: _Built, group: list[Ingress], cluster: Cluster, reg: Registry, digests: Digests,
          model_key: str | None) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """The entry of a storable build, and (with pieces) what a later build of the tenant from its
    pieces wants (`_Previous`), kept apart so a hit does not read it. The model names the Origins
    of the objects its build saw by their index in what `checked` finds (after its Ingresses)."""
    checks = packed_checks(part.reads, cluster)
    found = checked(checks, cluster, reg, digests)
    if found is None:  # cannot be: the build's own reads
        return None
    known = [obj.meta.origin for obj in (*group, *found)]
    index = {id(ing.meta): j for j, ing in enumerate(group)}
    claims = part.claims
    model = None if part.tenant is None else dumps(part.tenant, known)
    entry = {
        "facts": None if part.tenant is None else _facts(part.tenant, known),
        "format": FORMAT,
        "model_key": model_key,
        "tenant": model,
        "created_at": part.created_at,
        "addresses": list(part.addresses.items()),
        "claims": ([k for k, _, _ in claims], [identity for _, identity, _ in claims],
                   [index[id(meta)] for _, _, meta in claims]),
        "single_service_owner": list(part.single_service_owner.items()),
        "translate_votes": list(part.translate_votes.items()),
        "checks": checks,
        "size": len(group),
    }
    if part.pieces is None:
        return entry, None
    return entry, {"format": FORMAT, "tenant": model, "origins": [origin_value(o) for o in known],
                   "pieces": part.pieces, "model_key": model_key}


def _facts(tenant: Tenant, known: list[Any]) -> dict[str, Any] | None:
    """The tenant's facts (renderer.mapping.tenant_facts), its Origins named as `dumps` names them;
    None when one cannot be (an Origin without a place): the tenant is then loaded on every hit."""
    index = {id(o): i for i, o in reversed(list(enumerate(known)))}
    try:
        return tenant_facts(tenant, lambda o: index.get(id(o)) if id(o) in index else origin_value(o))
    except AttributeError:
        return None


def _lookup(disk: Any, key: str, name: str, group: list[Ingress], cluster: Cluster, reg: Registry,
            digests: Digests) -> _Built | None:
    """The stored part for `key` if it is well formed and every read it made finds the same again."""
    raw = disk.get(key, lambda v: v if isinstance(v, dict) and v.get("format") == FORMAT else None)
    return None if raw is None else _unpack(raw, name, group, cluster, reg, digests)


def _unpack(raw: Any, name: str, group: list[Ingress], cluster: Cluster, reg: Registry,
            digests: Digests) -> _Built | None:
    """A packed part back, or None: malformed, or a read that finds something else now. Its model
    stays a pickle (a `LazyTenant`) when the entry has well-formed facts."""
    try:
        if raw["size"] != len(group):
            return None
        found = checked(raw["checks"], cluster, reg, digests)
        if found is None:
            return None
        tenant = None
        if raw["tenant"] is not None:
            known = [*group, *found]
            facts = facts_from(raw["facts"], known) if raw["facts"] is not None else None
            if facts is None:
                tenant = ModelUnpickler(io.BytesIO(raw["tenant"]), known, of_objects=True).load()
            else:
                tenant = LazyTenant.stored(name, functools.partial(_model, raw["tenant"], known), facts)
        keys, identities, at = raw["claims"]
        if at and min(at) < 0:
            return None
        metas = [ing.meta for ing in group]
        claims = list(zip(keys, identities, map(metas.__getitem__, at), strict=True))
        addresses = dict(raw["addresses"])
        model_key = raw["model_key"]
        if not (model_key is None if tenant is None else isinstance(model_key, str)):
            return None
        return _Built(tenant, raw["created_at"], addresses, set(addresses), claims,
                      dict(raw["single_service_owner"]), dict(raw["translate_votes"]), [],
                      model_key=model_key)
    except (KeyError, TypeError, ValueError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
            IndexError, NoDigest):
        return None


def _model(pickled: bytes, known: list[Any]) -> Tenant:
    """A stored tenant's model, when something first needs its objects (tenant_facts.LazyTenant)."""
    tenant = ModelUnpickler(io.BytesIO(pickled), known, of_objects=True).load()
    if type(tenant) is not Tenant:
        raise pickle.UnpicklingError("a stored tenant's model is not a Tenant")
    return tenant


def _install(built: dict[str, _Built], groups: dict[str, list[int]], reg: Registry,
             findings: list[Finding]) -> None:
    """Put the parts into `reg` as the global build leaves it: tenants in creation order."""
    order = sorted((groups[t][p.created_at], t) for t, p in built.items() if p.created_at is not None)
    for _, tenant in order:
        reg.tenants[tenant] = built[tenant].tenant
    for part in built.values():
        reg.addresses.update(part.addresses)
        reg.attempted.update(part.attempted)
        reg.single_service_owner.update(part.single_service_owner)
        reg.translate_votes.update(part.translate_votes)
        findings.extend(part.findings)
        for k, identity, meta in part.claims:
            reg.claims[k] = (identity, meta)


