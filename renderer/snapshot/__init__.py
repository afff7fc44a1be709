"""The cluster endpoint snapshot: capture, normalize, write, commit, and a staleness check.

Rendering reads pod IPs and node VTEP data from files committed under `paths.snapshot`. This
package writes those files (see `plan`, `capture`, `write`, `commit`), and `snapshot watch` keeps
them current (`stream`, `watch`, `gitsync`, `policy`, `moves`, `metrics`, `health`). Only the staleness check
lives here, because `render` calls it on every run and must not pay for the rest.
"""

from __future__ import annotations

import datetime as _dt
import re

from renderer.config import Config
from renderer.errors import Finding, Severity, SourceLocation

_AGE_RX = re.compile(r"^([0-9]+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_age(text: str) -> int:
    """'6h' -> 21600 seconds (the config schema allows only <digits><s|m|h|d>)."""
    match = _AGE_RX.match(text.strip())
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90m, 6h, 2d)")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def format_age(seconds: float) -> str:
    """Coarse human age: '2d 3h', '5h 10m', '42m', '30s'."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def staleness_finding(tree: object, config: Config, now: float) -> Finding | None:
    """SNAP001 warning when the newest commit touching paths.snapshot is older than snapshot.maxAge.

    Only git trees have a history to ask; for the working tree, or without maxAge, or when no
    commit touched the snapshot yet, there is nothing to say.
    """
    last_change = getattr(tree, "last_change", None)
    if config.snapshot_max_age is None or last_change is None or not config.snapshot:
        return None
    limit = parse_age(config.snapshot_max_age)
    changed_at = last_change(list(config.snapshot))
    if changed_at is None:
        return None
    age = now - changed_at
    if age <= limit:
        return None
    when = _dt.datetime.fromtimestamp(changed_at, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    paths = ", ".join(config.snapshot)
    return Finding(
        "SNAP001",
        f"the endpoint snapshot ({paths}) was last committed {format_age(age)} ago ({when}), "
        f"older than snapshot.maxAge {config.snapshot_max_age}: pod IPs may have moved",
        SourceLocation(config.snapshot[0]),
        Severity.WARNING,
        hint="refresh it with `as3-gitops snapshot capture --commit` (or check the snapshot CronJob/workflow)",
    )
