"""`--no-cache` and `--cache-dir`, shared by render, validate, diff, plan and deploy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from renderer.source import ParseCache

NO_CACHE = typer.Option(False, "--no-cache", envvar="AS3_GITOPS_NO_CACHE",
                        help="Parse, render and validate everything; neither read nor write the cache.")
CACHE_DIR = typer.Option(None, "--cache-dir", metavar="DIR", envvar="AS3_GITOPS_CACHE_DIR",
                         help="Cache folder of parses, renders and tenants "
                              "(default: $XDG_CACHE_HOME/as3-gitops or ~/.cache/as3-gitops).")


def parse_cache(no_cache: bool, cache_dir: Path | None, *, remember: bool = False) -> ParseCache | None:
    """The cache a command renders with: on disk unless --no-cache; `remember` also keeps the
    parses in memory (diff: both sides share unchanged files)."""
    from renderer.source import ParseCache  # YAML: imported when a command runs, not for --help

    if no_cache:
        return ParseCache() if remember else None
    from renderer.cache import DiskCache

    return ParseCache(DiskCache(cache_dir), remember=remember)
