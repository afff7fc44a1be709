"""What a snapshot change did to each Service's members, in words a commit subject can carry.

`snapshot capture` counts objects (`~1 endpointslice`); a watcher committing every settled step
of a rollout needs the subject to say what moved: `snapshot: default/web 3 -> 3 members (2
replaced)`. Members are the ready addresses rendering turns into pool members: a Service's
EndpointSlices when it has any, else its Endpoints (the order `renderer.kube` prefers).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from renderer.snapshot.commit import Changes, subject
from renderer.snapshot.normalize import ENDPOINTS, NODE, SLICE, service_of

MAX_IN_SUBJECT = 2  # services named in the subject; the body lists all of them


def service_members(objects: Iterable[dict[str, Any]]) -> dict[tuple[str, str], frozenset[str]]:
    """(namespace, Service) -> its ready addresses (slices first, Endpoints when it has no slice)."""
    from_slices: dict[tuple[str, str], set[str]] = {}
    from_endpoints: dict[tuple[str, str], set[str]] = {}
    for obj in objects:
        owner = service_of(obj)
        if owner is None:
            continue
        if obj["kind"] == SLICE:
            ready = from_slices.setdefault(owner, set())
            for entry in obj.get("endpoints", []):
                if entry.get("conditions", {}).get("ready", True) is not False:
                    ready.update(entry["addresses"])
        elif obj["kind"] == ENDPOINTS:
            ready = from_endpoints.setdefault(owner, set())
            for subset in obj.get("subsets", []):
                ready.update(a["ip"] for a in subset.get("addresses", []) if "ip" in a)
    out = {k: frozenset(v) for k, v in from_endpoints.items()}
    out.update({k: frozenset(v) for k, v in from_slices.items()})
    return out


def describe_service(name: tuple[str, str], before: frozenset[str], after: frozenset[str]) -> str:
    """`default/web 3 -> 3 members (2 replaced)`, `shop/cart 2 -> 3 members (+1)`, `... (1 replaced, -1)`."""
    added, removed = len(after - before), len(before - after)
    replaced = min(added, removed)
    parts = [f"{replaced} replaced"] if replaced else []
    if added > replaced:
        parts.append(f"+{added - replaced}")
    if removed > replaced:
        parts.append(f"-{removed - replaced}")
    detail = ", ".join(parts) or "same addresses, endpoints changed"
    return f"{name[0]}/{name[1]} {len(before)} -> {len(after)} members ({detail})"


def moved_services(old: list[dict[str, Any]], new: list[dict[str, Any]],
                   changes: Changes) -> list[str]:
    """One description per Service whose Endpoints/EndpointSlices changed, sorted by name."""
    touched = set()
    by_key = {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in [*old, *new]}
    for key in (*changes.added, *changes.removed, *changes.changed):
        obj = by_key.get(key)
        owner = service_of(obj) if obj is not None else None
        if owner is not None:
            touched.add(owner)
    before, after = service_members(old), service_members(new)
    empty: frozenset[str] = frozenset()
    return [describe_service(s, before.get(s, empty), after.get(s, empty)) for s in sorted(touched)]


def watch_subject(old: list[dict[str, Any]], new: list[dict[str, Any]], changes: Changes) -> str:
    """The subject of a watcher commit: the Services that moved, then node changes if any."""
    services = moved_services(old, new, changes)
    parts = services[:MAX_IN_SUBJECT]
    if len(services) > MAX_IN_SUBJECT:
        parts.append(f"and {len(services) - MAX_IN_SUBJECT} more services")
    node_changes = Changes(*(tuple(k for k in keys if k[0] == NODE)
                             for keys in (changes.added, changes.removed, changes.changed)))
    if node_changes:
        parts.append(subject(node_changes).removeprefix("snapshot: "))
    return "snapshot: " + ("; ".join(parts) if parts else subject(changes).removeprefix("snapshot: "))


def watch_message(old: list[dict[str, Any]], new: list[dict[str, Any]], changes: Changes,
                  captured_at: str, source: str) -> str:
    """Subject, every moved Service, then the object list `snapshot capture` writes."""
    from renderer.snapshot.commit import commit_message

    services = moved_services(old, new, changes)
    body = commit_message(changes, captured_at, source).split("\n", 1)[1].strip("\n")
    parts = [watch_subject(old, new, changes), *(["\n".join(services)] if services else []), body]
    return "\n\n".join(parts) + "\n"
