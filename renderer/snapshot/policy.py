"""`snapshot.autoDeploy`: which snapshot changes the watcher may deploy without a review.

A change may skip review only when everything about it is the cluster moving, not a person
deciding: (1) the diff between the commit the device runs and the new commit touches nothing but
`paths.snapshot` (no manifest, no config, no template), and the device's commit is an ancestor of
the new one (the watcher only moves forward); (2) no pool that had members loses all of them;
(3) no pool loses more than `maxRemovedPercent` of its members in one step. Anything else is
pushed to the review branch, exactly like a scheduled capture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from renderer.bigip import tenants as tn
from renderer.config import AutoDeploy


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reasons: tuple[str, ...] = ()  # why not (empty when allowed)
    notes: tuple[str, ...] = field(default=())  # what was checked, for the log


def pool_members(as3: dict[str, Any] | None) -> dict[str, set[tuple[str, int]]]:
    """/tenant/app/pool -> {(address, port)} of every pool in a declaration."""
    out: dict[str, set[tuple[str, int]]] = {}
    for tenant, body in sorted(tn.tenants_of(tn.adc_of(as3)).items()):
        for app, app_body in sorted((body or {}).items()):
            if not isinstance(app_body, dict):
                continue
            for name, obj in sorted(app_body.items()):
                if isinstance(obj, dict) and obj.get("class") == "Pool":
                    members: set[tuple[str, int]] = set()
                    for member in obj.get("members") or []:
                        port = int(member.get("servicePort") or 0)
                        members.update((str(a), port) for a in member.get("serverAddresses") or [])
                    out[f"/{tenant}/{app}/{name}"] = members
    return out


def pool_limits(old_as3: dict[str, Any] | None, new_as3: dict[str, Any] | None, limit_percent: int) -> list[str]:
    """Reasons the step from `old` to `new` breaks the pool limits (empty: within them)."""
    reasons = []
    old, new = pool_members(old_as3), pool_members(new_as3)
    for pool, before in sorted(old.items()):
        if not before:
            continue
        after = new.get(pool, set())
        if not after:
            reasons.append(f"pool {pool} would lose all {len(before)} members")
            continue
        removed = len(before - after)
        if removed * 100 > limit_percent * len(before):
            reasons.append(f"pool {pool} would lose {removed} of {len(before)} members at once "
                           f"({removed * 100 // len(before)}% > maxRemovedPercent {limit_percent}%)")
    return reasons


def changed_paths(repo: Path, base: str, head: str) -> list[str]:
    import git

    with git.Repo(repo) as opened:  # closed: no git process outlives the call
        return [p for p in opened.git.diff("--name-only", "--no-renames", base, head).splitlines() if p]


def is_ancestor(repo: Path, base: str, head: str) -> bool:
    import git

    try:
        with git.Repo(repo) as opened:
            opened.git.merge_base("--is-ancestor", base, head)
    except git.exc.GitCommandError:
        return False
    return True


def outside_snapshot(paths: list[str], roots: tuple[str, ...]) -> list[str]:
    prefixes = tuple(r.strip("/") + "/" for r in roots)
    return [p for p in paths if not p.startswith(prefixes)]


def evaluate(policy: AutoDeploy, repo: Path, device_commit: str | None, new_commit: str,
             roots: tuple[str, ...], old_as3: dict[str, Any] | None, new_as3: dict[str, Any] | None) -> Verdict:
    """May `new_commit` be deployed over `device_commit` without review? `old_as3` renders the latter."""
    if not policy.enabled:
        return Verdict(False, ("snapshot.autoDeploy is off",))
    if device_commit is None or device_commit == tn.WORKING_TREE:
        what = "nothing from as3-gitops" if device_commit is None else "a working-tree deploy"
        return Verdict(False, (f"the device runs {what}: the first deploy goes through review",))
    if device_commit == new_commit:
        return Verdict(True, notes=("the device already runs this commit",))
    if not is_ancestor(repo, device_commit, new_commit):
        return Verdict(False, (f"the device runs {device_commit[:12]}, which is not an ancestor of "
                               f"{new_commit[:12]}",))
    outside = outside_snapshot(changed_paths(repo, device_commit, new_commit), roots)
    if outside:
        shown = ", ".join(outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
        return Verdict(False, (f"not a snapshot-only change since the device's commit {device_commit[:12]}: "
                               f"{shown}",))
    reasons = pool_limits(old_as3, new_as3, policy.max_removed_percent)
    if reasons:
        return Verdict(False, tuple(reasons))
    return Verdict(True, notes=(f"snapshot-only since {device_commit[:12]}, pools within limits",))
