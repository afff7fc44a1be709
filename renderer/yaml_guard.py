"""Checks on YAML/JSON input that cost (almost) nothing on the fast path: duplicate keys and alias bombs.

Duplicate keys: PyYAML keeps the last value silently, Kubernetes' own decoder refuses them. The
constructor below is PyYAML's SafeConstructor.construct_mapping in one method (no super() chain)
plus one length comparison; the key positions are only looked up when the lengths differ.

Aliases: PyYAML shares an aliased node instead of copying it, so a "billion laughs" document
parses quickly and then explodes in whatever walks it. The alias pass reads only parser events
(no nodes, no objects) and only runs on text that contains both `&` and `*`, which manifests
almost never do.
"""

from __future__ import annotations

import collections.abc
import json
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode

from renderer.errors import Finding, SourceLocation
from renderer.limits import Limits

_MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyMixin:
    """Mixin for a PyYAML loader: records duplicate mapping keys in `duplicate_keys` instead of hiding them."""

    duplicate_keys: list[tuple[Any, yaml.Mark, yaml.Mark]]

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        if not isinstance(node, MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping node, but found {node.id}", node.start_mark)
        own = node.value
        self.flatten_mapping(node)  # type: ignore[attr-defined]
        mapping = {}
        construct = self.construct_object  # type: ignore[attr-defined]
        for key_node, value_node in node.value:
            key = construct(key_node, deep=deep)
            if not isinstance(key, collections.abc.Hashable):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark)
            mapping[key] = construct(value_node, deep=deep)
        if len(mapping) != len(node.value):
            # merged keys (`<<: *base`) may be overridden by the mapping's own keys; own keys may not repeat
            self._record_duplicates(own if node.value is not own else node.value)
        return mapping

    def _record_duplicates(self, pairs: list) -> None:
        first: dict[Any, yaml.Mark] = {}
        found = getattr(self, "duplicate_keys", None)
        if found is None:
            found = self.duplicate_keys = []
        for key_node, _value in pairs:
            key = self.construct_object(key_node)  # type: ignore[attr-defined]
            if key in first:
                found.append((key, first[key], key_node.start_mark))
            else:
                first[key] = key_node.start_mark


def _short(key: Any) -> str:
    text = repr(key)
    return text if len(text) <= 60 else text[:57] + "..."


def duplicate_findings(path: str, duplicates: list[tuple[Any, yaml.Mark, yaml.Mark]]) -> list[Finding]:
    return [Finding("SRC006", f"duplicate key {_short(key)} (first at line {a.line + 1}, again at line {b.line + 1})",
                    SourceLocation(path, b.line + 1, b.column + 1),
                    hint="a key may appear once per mapping; Kubernetes refuses the object, PyYAML would keep the last")
            for key, a, b in duplicates]


def alias_findings(path: str, text: str, limits: Limits, loader: type) -> list[Finding]:
    """LIM003/LIM004 when a file uses too many aliases or stands for too many nodes once expanded."""
    if "*" not in text or "&" not in text:
        return []
    anchors: dict[str, int] = {}
    stack: list[list[Any]] = []
    aliases = 0
    total = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > limits.max_aliases:
                    return [_limit("LIM003", f"more than {limits.max_aliases} YAML aliases in one file", path,
                                   event.start_mark, "maxAliases")]
                size = anchors.get(event.anchor, 1)
            elif isinstance(event, yaml.ScalarEvent):
                size = 1
                if event.anchor:
                    anchors[event.anchor] = 1
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                stack.append([event.anchor, 1, event.start_mark])
                continue
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, size, mark = stack.pop()
                if anchor:
                    anchors[anchor] = size
            else:
                continue
            if stack:
                stack[-1][1] += size
            else:
                total += size
            if size > limits.max_alias_expansion or total > limits.max_alias_expansion:
                mark = stack[0][2] if stack else event.start_mark
                return [_limit("LIM004", f"the YAML aliases in this file expand to more than "
                               f"{limits.max_alias_expansion:,} nodes", path, mark, "maxAliasExpansion")]
    except yaml.YAMLError:
        return []  # the parse proper reports the syntax error with its position
    return []


def _limit(code: str, message: str, path: str, mark: yaml.Mark, key: str) -> Finding:
    return Finding(code, message, SourceLocation(path, mark.line + 1, mark.column + 1),
                   hint=f"write the values out, or raise limits.{key} in as3-gitops.yaml")


class JsonDuplicates:
    """object_pairs_hook for json.loads that notes repeated keys (their positions are found afterwards)."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping = dict(pairs)
        if len(mapping) != len(pairs):
            seen: set[str] = set()
            for key, _value in pairs:
                if key in seen:
                    self.keys.append(key)
                seen.add(key)
        return mapping


def json_duplicate_findings(path: str, text: str, keys: list[str], loader: type) -> list[Finding]:
    """Both positions of each repeated key: JSON is YAML, so the composer (with marks) finds them."""
    finder = loader(text)
    finder.duplicate_keys = []
    try:
        while finder.check_node():
            node = finder.get_node()
            finder.construct_document(node)
    except yaml.YAMLError:
        pass
    finally:
        finder.dispose()
    if finder.duplicate_keys:
        return duplicate_findings(path, finder.duplicate_keys)
    return [Finding("SRC006", f"duplicate key {_short(key)}", SourceLocation(path, 1, 1),
                    hint="a key may appear once per object") for key in dict.fromkeys(keys)]


def loads_json_checked(text: str) -> tuple[Any, list[str]]:
    hook = JsonDuplicates()
    return json.loads(text, object_pairs_hook=hook), hook.keys


_ASSIGN_RX = re.compile(r"^(\s*)([A-Za-z0-9_.\-/]+)\s*=\s*(.+)$")
# Hints never quote a value from a Secret, nor a value whose key sounds like one (issue 15).
_SECRET_DOC_RX = re.compile(r"^\s*kind\s*[:=]\s*[\"']?Secret\b", re.MULTILINE)
_SECRET_KEY_RX = re.compile(r"pass|secret|token|key|cred|auth|private|pwd|cert|\.crt|salt|cookie|session", re.I)


def yaml_hint(text: str, line: int) -> str | None:
    """The hint for a YAML syntax error at `line`: `key=value` -> `key: value` (never a secret's value)."""
    lines = text.splitlines()
    candidates = [line - 1, line - 2, line]
    secret_file = _SECRET_DOC_RX.search(text) is not None
    for idx in candidates:
        if 0 <= idx < len(lines):
            m = _ASSIGN_RX.match(lines[idx])
            if m:
                key = m.group(2)
                value = m.group(3).strip()
                if secret_file or _SECRET_KEY_RX.search(key) or len(value) > 80:
                    value = "<value>"
                return f'write "{key}: {value}" (YAML mappings use ": ", not "=")'
    if "\t" in text:
        return "YAML does not allow tabs for indentation"
    return "check the indentation and quoting around this line"
