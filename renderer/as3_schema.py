"""Find the official AS3 schema: option, environment, config, then a pinned download in the user cache.

The schema is F5's (Apache-2.0, 1.2 MB) and is not vendored. Order:
`--as3-schema PATH`, env `AS3_SCHEMA`, `as3.schema` in as3-gitops.yaml (relative to the repository
root), then `$XDG_CACHE_HOME/as3-gitops/as3-schema-<version>.json` (default `~/.cache/...`).
The cache is filled on first use from F5's public location; every copy is checked against a
sha256 pinned here, so a tampered or truncated download is refused and never cached. A
verified copy in the cache means no network at all.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from renderer.errors import ValidateError
from renderer.fileio import write_atomic

CACHE_SUBDIR = "as3-gitops"
ENV_VAR = "AS3_SCHEMA"
HOW_TO_PROVIDE = (
    "provide the schema with --as3-schema PATH, the AS3_SCHEMA environment variable, or as3.schema "
    "in as3-gitops.yaml (F5 publishes it as schema/<version>/as3-schema-<version>-<build>.json in "
    "github.com/F5Networks/f5-appsvcs-extension)"
)


@dataclass(frozen=True)
class KnownSchema:
    """Where F5 publishes one AS3 schema version, and the sha256 of the exact bytes."""

    url: str
    sha256: str


# Only versions whose bytes we have checked. Add a row only with a hash taken from the real file.
KNOWN_SCHEMAS: Mapping[str, KnownSchema] = {
    "3.56.0": KnownSchema(
        url="https://raw.githubusercontent.com/F5Networks/f5-appsvcs-extension/main/schema/3.56.0/"
        "as3-schema-3.56.0-10.json",
        sha256="32036748396aa5da6131d1441d3928d03320daae78eb4ce50d3b98e03345deb7",
    ),
}


@dataclass(frozen=True)
class SchemaLocation:
    """The schema file to use and how it was found (for messages)."""

    path: Path
    origin: str


def cache_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CACHE_HOME") or os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".cache")
    return Path(base) / CACHE_SUBDIR


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _existing(path: Path, origin: str) -> SchemaLocation:
    if not path.is_file():
        raise ValidateError(f"{path}: AS3 schema not found (from {origin})", hint=HOW_TO_PROVIDE)
    return SchemaLocation(path, origin)


def _version_key(schema_version: str) -> str:
    """`3.56` and `3.56.0` name the same schema file."""
    parts = schema_version.split(".")
    return ".".join([*parts, "0", "0"][:3]) if schema_version else schema_version


def fetch_into_cache(
    version: str,
    directory: Path,
    *,
    known: Mapping[str, KnownSchema] = KNOWN_SCHEMAS,
    timeout: float = 30.0,
) -> Path:
    """Download the pinned schema for `version`, verify and parse it, then write it atomically."""
    import requests

    entry = known.get(version)
    if entry is None:
        versions = ", ".join(sorted(known)) or "none"
        raise ValidateError(f"no pinned download for AS3 schema {version} (known: {versions})",
                            hint=HOW_TO_PROVIDE)
    try:
        response = requests.get(entry.url, timeout=timeout)
        response.raise_for_status()
    except requests.RequestException as err:
        raise ValidateError(f"cannot download the AS3 schema {version} from {entry.url} ({type(err).__name__})",
                            hint=f"offline? {HOW_TO_PROVIDE}") from err
    body = response.content
    digest = _sha256(body)
    if digest != entry.sha256:
        raise ValidateError(
            f"downloaded AS3 schema {version} has sha256 {digest}, expected {entry.sha256}; not cached",
            hint=f"the file at {entry.url} is not the pinned one; {HOW_TO_PROVIDE}")
    try:
        json.loads(body)
    except ValueError as err:
        raise ValidateError(f"downloaded AS3 schema {version} is not JSON ({err})", hint=HOW_TO_PROVIDE) from err
    target = directory / f"as3-schema-{version}.json"
    write_atomic(target, body)
    return target


def cached_schema(version: str, directory: Path, known: Mapping[str, KnownSchema]) -> Path | None:
    """The cached copy for `version` if its bytes still match the pin."""
    entry = known.get(version)
    target = directory / f"as3-schema-{version}.json"
    if entry is None or not target.is_file():
        return None
    return target if _sha256(target.read_bytes()) == entry.sha256 else None


def find_schema(
    *,
    option: str | None,
    environ: Mapping[str, str],
    config_schema: str | None,
    repo_root: str | Path | None,
    schema_version: str,
    known: Mapping[str, KnownSchema] = KNOWN_SCHEMAS,
    download: bool = True,
) -> SchemaLocation:
    """The AS3 schema to validate with, in the documented order; ValidateError when there is none."""
    if option:
        return _existing(Path(option), "--as3-schema")
    if environ.get(ENV_VAR):
        return _existing(Path(environ[ENV_VAR]), f"the {ENV_VAR} environment variable")
    if config_schema:
        path = Path(config_schema)
        if not path.is_absolute() and repo_root is not None:
            path = Path(repo_root) / path
        return _existing(path, "as3.schema in as3-gitops.yaml")
    version = _version_key(schema_version)
    directory = cache_dir(environ)
    hit = cached_schema(version, directory, known)
    if hit is not None:
        return SchemaLocation(hit, f"the cache ({directory})")
    if not download:
        raise ValidateError(f"no AS3 schema {version} in the cache ({directory})", hint=HOW_TO_PROVIDE)
    return SchemaLocation(fetch_into_cache(version, directory, known=known), f"a download into {directory}")
