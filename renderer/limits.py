"""Resource limits for reading and rendering a repository, so hostile or unlucky input ends in a finding.

Every limit has a default that leaves a wide margin above the largest repositories we measured
(10,000 Ingresses: 26 MB of YAML in ~200 files) and is set in as3-gitops.yaml under `limits:`.
as3-gitops.yaml itself is read under the fixed defaults (it cannot raise its own limits).
A limit that is hit is a LIM finding (exit 2), never a hang or an out-of-memory kill.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_bytes: int = 32 * MIB  # one manifest or snapshot file
    max_total_bytes: int = 256 * MIB  # every file of one render together
    max_aliases: int = 1000  # YAML alias uses (`*name`, `<<: *name`) in one file
    max_alias_expansion: int = 1_000_000  # YAML nodes one file stands for once every alias is expanded
    template_seconds: float = 60.0  # wall time for user templates (`templates:`) to render
    template_output_bytes: int = 512 * MIB  # text the templates may produce
    template_memory_bytes: int = 2048 * MIB  # memory user templates may allocate on top of the renderer's


DEFAULT_LIMITS = Limits()

# as3-gitops.yaml key -> Limits field, and the unit the key is written in
CONFIG_KEYS: dict[str, tuple[str, int]] = {
    "maxFileMiB": ("max_file_bytes", MIB),
    "maxTotalMiB": ("max_total_bytes", MIB),
    "maxAliases": ("max_aliases", 1),
    "maxAliasExpansion": ("max_alias_expansion", 1),
    "templateSeconds": ("template_seconds", 1),
    "templateOutputMiB": ("template_output_bytes", MIB),
    "templateMemoryMiB": ("template_memory_bytes", MIB),
}


def limits_from_config(raw: dict | None) -> Limits:
    """Limits from the (schema-checked) `limits:` mapping; absent keys keep their defaults."""
    if not raw:
        return DEFAULT_LIMITS
    values = {}
    for key, (attr, unit) in CONFIG_KEYS.items():
        if raw.get(key) is not None:
            values[attr] = raw[key] * unit if unit != 1 else raw[key]
    return Limits(**values)
