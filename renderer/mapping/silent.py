"""Nothing silent: every manifest object with an F5 marker either renders or has a finding saying why.

The check runs after mapping and knows nothing about which kinds render: it compares the marked
objects (renderer.kube.markers) with the `origins` every model object records. A marked object
that is nobody's origin and has no warning or error of its own gets SKP001, so a new mapper
(custom resources, LoadBalancer Services, ...) silences it just by recording origins.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter, itemgetter

from renderer.errors import Finding, Origin, Severity, SourceLocation
from renderer.kube.objects import ObjectMeta
from renderer.model import TENANT_DICTS, Model


@dataclass(frozen=True)
class ObjectCounts:
    """F5 objects of the manifests that produced BIG-IP objects, and those that produced none."""

    rendered: int = 0
    skipped: int = 0


_ORIGINS = attrgetter("origins")
_KEY = attrgetter("kind", "namespace", "name")


def model_origins(model: Model) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of every Kubernetes object some model object came from."""
    return set().union(*_key_batches(model))


def _key_batches(model: Model) -> Iterator[set[tuple[str, str, str]]]:
    """The origins' keys of every model object, in batches: each kind of tenant object across all
    tenants (virtual servers first: they name the Ingresses, most of the marked objects; a stored
    tenant not loaded gives its stored keys: renderer.mapping.tenant_facts), the AS3 tenants, the
    override, the network last (at 10k Ingresses 100,000 ARPs)."""
    tenants = list(model.tenants.values())
    stored = [facts for tenant in tenants if (facts := tenant.stored_facts()) is not None]
    loaded = [tenant for tenant in tenants if tenant.stored_facts() is None]
    for i, group in enumerate(TENANT_DICTS):  # a stored tenant's keys come per dict, in this order
        keys = _origin_keys(map(_ORIGINS, chain.from_iterable(getattr(tenant, group).values() for tenant in loaded)))
        keys.update(chain.from_iterable(facts.origin_keys[i] for facts in stored))
        yield keys
    yield _origin_keys(map(_ORIGINS, model.raw_tenants.values()))
    if model.override is not None:
        yield _origin_keys(((model.override.origin,),))
    yield _origin_keys(map(_ORIGINS, chain(model.network.fdb, model.network.arps)))


def _origin_keys(batch: Iterable[Sequence[Origin]]) -> set[tuple[str, str, str]]:
    """The keys of a batch's origins: a Service's, a node's Origin is shared by many objects, so
    the distinct ones are found by identity first (in C: `map`, `chain`, `dict(zip(...))`, no
    Python-level Origin hash) and each key made once."""
    flat = list(chain.from_iterable(batch))
    return set(map(_KEY, dict(zip(map(id, flat), flat, strict=True)).values()))


def _own_finding(meta: ObjectMeta, findings: list[Finding]) -> bool:
    """A warning or error located inside the object's document (a `kind: List` item: naming it)."""
    path, start = meta.doc.path, meta.doc.line
    text = meta.doc.source.text
    end = _next_document_line(text, start)
    for f in findings:
        if f.severity is Severity.INFO or f.location is None or f.location.path != path:
            continue
        if not start <= f.location.line < end:
            continue
        if meta.base and meta.ident not in f.message:
            continue
        return True
    return False


def _next_document_line(text: str, start: int) -> int:
    """The 1-based line where the YAML document after the one starting at `start` begins (or past the end)."""
    lines = text.split("\n")
    for number in range(start + 1, len(lines) + 1):
        line = lines[number - 1]
        if line.startswith("---") or line.startswith("..."):
            return number
    return len(lines) + 2


def check_silent(marked: list[tuple[ObjectMeta, str]], also_ours: list[ObjectMeta], model: Model,
                 findings: list[Finding], settings: SourceLocation | None = None) -> tuple[list[Finding], ObjectCounts]:
    """SKP001 for every marked object that produced nothing and has no finding of its own; the counts.
    An empty render (SKP003) is reported at `settings` (as3-gitops.yaml, where paths.manifests is).

    `also_ours` are objects without a marker that are still for us (Ingresses of our class): they
    count in the summary, and cannot be silent (their mapper always reports a skip)."""
    keys = list(map(_KEY, chain(map(itemgetter(0), marked), also_ours)))
    missing = set(keys)
    batches = _key_batches(model)
    while missing:  # until every object is found (then none is skipped): the ARPs are rarely needed
        batch = next(batches, None)
        if batch is None:
            break
        missing -= batch
    if not missing:
        rendered, skipped, out = len(set(keys)), 0, []
    else:
        rendered, skipped, out = _check_each(marked, also_ours, model_origins(model), findings)
    quiet = any(f.code == "SRC003" or f.is_error for f in findings)  # already explained
    if rendered == 0 and not quiet and not model_has_objects(model):
        out.append(Finding("SKP003", "nothing rendered: no manifest produced a BIG-IP object, the declaration "
                           "has no application", settings, Severity.WARNING,
                           hint="deploying it would empty every tenant; check paths.manifests and the warnings"))
    return out, ObjectCounts(rendered, skipped)


def _check_each(marked: list[tuple[ObjectMeta, str]], also_ours: list[ObjectMeta],
                origins: set[tuple[str, str, str]], findings: list[Finding]) -> tuple[int, int, list[Finding]]:
    """One object at a time, in order, each counted once: some are skipped, and may need SKP001."""
    rendered = skipped = 0
    out: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()
    candidates = [(m, marker) for m, marker in marked] + [(m, None) for m in also_ours]
    for meta, marker in candidates:
        key = (meta.kind, meta.namespace, meta.name)
        if key in seen:
            continue
        seen.add(key)
        if key in origins:
            rendered += 1
            continue
        skipped += 1
        if marker is None or _own_finding(meta, findings):
            continue
        what = f"{meta.api_version} {meta.kind} {meta.ident}"
        out.append(Finding(
            "SKP001", f"{what} carries an F5 marker ({marker}) but produced no BIG-IP object: {_why(meta, marker)}",
            meta.location, Severity.WARNING,
            hint="see README \"Nothing silent\"; remove the F5 marker if the object is not meant for the BIG-IP"))
    return rendered, skipped, out


def _why(meta: ObjectMeta, marker: str) -> str:
    """The reason, from the marker alone (no list of what renders: a kind that renders is never asked)."""
    if marker == "type LoadBalancer":
        return "a LoadBalancer Service is rendered only with a cis.f5.com/ip or cis.f5.com/ipamLabel annotation " \
               "(CIS ignores it too)"
    if marker.startswith("API group"):
        return f"as3-gitops renders no {marker.replace('API group ', '')} {meta.kind} objects"
    return f"nothing in as3-gitops renders a {meta.kind} from that {marker.split(' ', 1)[0]}, and no rendered object " \
           "refers to it"


def model_has_objects(model: Model) -> bool:
    return bool(model.raw_tenants) or any(
        facts.has_objects if (facts := t.stored_facts()) is not None else bool(t.virtual_servers or t.pools)
        for t in model.tenants.values())
