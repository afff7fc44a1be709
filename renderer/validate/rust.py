"""Yes/no answers of the Ajv walk asked of jsonschema-rs, for the schemas where speed matters.

The defaults walk asks, for every pool member, monitor and the like, which `anyOf`/`oneOf` branch
the object takes; the compiled Python check answers that exactly but slowly on large objects.
jsonschema-rs gives the same Draft-7 answer with the same format checks (the same Python
callables) several times faster. Each schema is compiled on first use together with only the
definitions it reaches; tiny schemas keep their plain predicate, and a schema or a value Rust
does not take falls back to the Python check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from renderer.validate.jsonvalues import compile_simple

_PREFIX = "#/definitions/"


def reached_definitions(definitions: dict[str, Any], root: Any, *, skip_missing: bool = False
                        ) -> dict[str, Any] | None:
    """The definitions `root` reaches through `#/definitions/<name>` references, so that only they
    are compiled; None for any other kind of reference (and, unless `skip_missing`, for a name
    `definitions` does not have)."""
    reached: dict[str, Any] = {}
    todo = [root]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref[len(_PREFIX):]
                if not ref.startswith(_PREFIX) or "/" in name or "~" in name:
                    return None
                if name not in definitions:
                    if not skip_missing:
                        return None
                elif name not in reached:
                    reached[name] = definitions[name]
                    todo.append(definitions[name])
            todo += list(node.values())
        elif isinstance(node, list):
            todo += node
    return reached


class RustJudges:
    """jsonschema-rs validators per schema node of one Ajv instance (its root, formats, judge)."""

    def __init__(self, ajv: Any):
        self.ajv = ajv
        self._judges: dict[int, tuple[Any, Callable[[Any], bool]]] = {}
        from renderer.validate.formatmemo import QuadFirst, quads_in_rust  # formatmemo imports ajv, ajv us

        self._quads = QuadFirst() if quads_in_rust(ajv.formats) else None  # f5ip quads answered in Rust

    def judge(self, schema: Any) -> Callable[[Any], bool]:
        hit = self._judges.get(id(schema))
        if hit is None or hit[0] is not schema:
            hit = (schema, self._make(schema))
            self._judges[id(schema)] = hit
        return hit[1]

    def _make(self, schema: Any) -> Callable[[Any], bool]:
        quick = compile_simple(schema)
        if quick is not None:
            return quick
        python = self.ajv.judge(schema)
        cell: list[Any] = []

        def judge(data: Any) -> bool:
            if not cell:
                cell.append(self._validator(schema))
            validator = cell[0]
            if validator is None:
                return python(data)
            try:
                return bool(validator.is_valid(data))
            except (ValueError, OverflowError, TypeError):  # values Rust cannot take
                return python(data)

        return judge

    def _validator(self, schema: Any) -> Any:
        import jsonschema_rs

        root = self.ajv.root
        definitions = root.get("definitions") if isinstance(root, dict) else None
        reached = reached_definitions(definitions if isinstance(definitions, dict) else {}, schema,
                                      skip_missing=True)
        if reached is None:
            return None  # anything but a plain definition: keep the Python walk
        if self._quads is not None:
            schema, reached = self._quads.schema(schema), self._quads.definitions(reached)
        try:
            return jsonschema_rs.Draft7Validator({"allOf": [schema], "definitions": reached},
                                                 formats=self.ajv.formats, validate_formats=True)
        except (ValueError, TypeError):  # a schema jsonschema-rs does not take
            return None
