"""KubeLoader: YAML 1.1 as Kubernetes reads it, on PyYAML's C parser, with a lean constructor.

PyYAML's C loader parses and composes in C, but resolves every scalar's tag and constructs every
object in Python, through a generic machinery (a constructor lookup per node, generators for
mappings and sequences, a memo of every node for aliases). For the plain trees manifests are
(strings, numbers, booleans, null, mappings with unique string keys, sequences) this module
resolves and constructs in a few lines per node instead; anything else (aliases, merge keys,
explicit or unknown tags, non-scalar or duplicate keys, very deep nesting, any error) is handed
to the generic constructor for that document, so the result, the error and the finding are
exactly what PyYAML gives. `tests/render/test_yaml_loader.py` compares both paths.

Mapping keys are interned: PyYAML makes a new string for every `name:` and `metadata:` of every
document, and at 10k Ingresses those copies were a third of the parsed documents' memory
(236 -> 163 MB; values are not interned: most of them, pod IPs and names, are unique).
"""

from __future__ import annotations

import operator
import re
import sys
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from renderer.yaml_guard import DuplicateKeyMixin

try:  # pragma: no cover - the C loader is present in every wheel of PyYAML we support
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader  # type: ignore[misc,assignment]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# Deeper documents take the generic path, which reports "nesting too deep" where it always did.
_MAX_FAST_DEPTH = 100


class _Generic(Exception):
    """This document needs PyYAML's generic constructor."""


class KubeLoader(DuplicateKeyMixin, _BaseLoader):  # type: ignore[misc,valid-type]
    """YAML 1.1 as Kubernetes reads it: like SafeLoader, but timestamps stay strings and keys are unique."""

    # PyYAML's resolver keeps a stack for path resolvers, which we never register: the C composer
    # calls these two for every node, so they are C no-ops here (neither reads its arguments).
    descend_resolver = staticmethod(operator.is_)  # type: ignore[assignment]
    ascend_resolver = staticmethod(tuple)  # type: ignore[assignment]

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        """BaseResolver.resolve without path resolvers or wildcard resolvers (this class has none)."""
        if kind is ScalarNode:
            if implicit[0]:
                resolvers = _IMPLICIT.get(value[:1])  # value[:1] is '' for the empty scalar, as PyYAML looks up
                if resolvers:
                    for tag, regexp in resolvers:
                        if regexp.match(value):
                            return tag
            return _STR
        if kind is SequenceNode:
            return _SEQ
        return _MAP

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        # An alias needs both `&` (its anchor) and `*`: text with both may share nodes, which the
        # generic path keeps shared (one object), so it takes that path. So does a file-like stream.
        if isinstance(stream, str):
            self.lean = "&" not in stream or "*" not in stream
        elif isinstance(stream, bytes):
            self.lean = b"&" not in stream or b"*" not in stream
        else:
            self.lean = False

    def construct_document(self, node: yaml.Node) -> Any:
        if self.lean:
            try:
                return self._build(node, 0)
            except Exception:  # the generic path below gives PyYAML's own result, or its own error
                pass
        return super().construct_document(node)

    def _build(self, node: yaml.Node, depth: int) -> Any:
        """One node, constructed as SafeConstructor would (for the node kinds handled here)."""
        cls = node.__class__
        tag = node.tag
        if cls is ScalarNode:
            if tag == _STR:
                return node.value
            if tag == _INT:
                return self.construct_yaml_int(node)
            if tag == _BOOL:
                return self.construct_yaml_bool(node)
            if tag == _NULL:
                return None
            if tag == _FLOAT:
                return self.construct_yaml_float(node)
            raise _Generic
        if depth > _MAX_FAST_DEPTH:
            raise _Generic
        build = self._build
        if cls is MappingNode and tag == _MAP:
            pairs = node.value
            mapping = {}
            for key_node, value_node in pairs:
                if key_node.__class__ is not ScalarNode:
                    raise _Generic  # unhashable keys, or a merge of mappings: the generic path decides
                key_tag = key_node.tag
                if key_tag == _STR:
                    key = _intern(key_node.value)
                elif key_tag in _SCALAR_KEY_TAGS:
                    key = build(key_node, depth)
                else:
                    raise _Generic  # `<<` merge keys, `=` value keys, explicit tags
                mapping[key] = build(value_node, depth + 1)
            if len(mapping) != len(pairs):
                raise _Generic  # duplicate keys: the generic path records where
            return mapping
        if cls is SequenceNode and tag == _SEQ:
            return [build(item, depth + 1) for item in node.value]
        raise _Generic


_intern = sys.intern
_SCALAR_KEY_TAGS = frozenset({_INT, _FLOAT, _BOOL, _NULL})

KubeLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_IMPLICIT = KubeLoader.yaml_implicit_resolvers
# The lean resolve() relies on these: PyYAML's SafeLoader registers no wildcard and no path resolvers.
if None in _IMPLICIT or KubeLoader.yaml_path_resolvers:  # pragma: no cover - a PyYAML that changed this
    raise ImportError("renderer.yaml_loader: PyYAML's SafeLoader now has wildcard or path resolvers")


def _alternation(resolvers: list[tuple[str, re.Pattern[str]]]) -> Any:
    parts = []
    for _tag, regexp in resolvers:
        flags = "x" if regexp.flags & re.VERBOSE else ""
        if regexp.flags & ~(re.VERBOSE | re.UNICODE):  # pragma: no cover - PyYAML's use no other flags
            raise ImportError("renderer.yaml_loader: a resolver regex with unexpected flags")
        parts.append(f"(?{flags}:{regexp.pattern})" if flags else f"(?:{regexp.pattern})")
    return re.compile("|".join(parts)).match


# The resolver table as one regex per first character (the alternation of that character's
# resolvers, in order): `match` is None exactly when every resolver leaves the scalar a string,
# so renderer/yaml_fast_lines.resolve() tries the resolvers one by one only for the rest.
IMPLICIT_ANY = {first: _alternation(resolvers) for first, resolvers in _IMPLICIT.items()}
