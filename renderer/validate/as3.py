"""The AS3 judge: accept exactly what AS3 accepts, and say why not in AS3's own words.

Verdict: fill defaults the way Ajv's useDefaults does (on a copy; fill.py replays the walk for
objects of a shape already seen), then ask jsonschema-rs (fast) whether the copy is valid
against `#/definitions/ADC`. Only when it is not do we walk
the schema in Python (renderer.validate.ajv) to find the error Ajv would report first. Pointer
targets (`"pool": "web_pool"`) are then checked as AS3's post-processing does.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs

from renderer.errors import ValidateError
from renderer.validate.ajv import Ajv, AjvError, PointerSite
from renderer.validate.fill import Filler
from renderer.validate.formatmemo import memo_formats
from renderer.validate.pointers import check_pointers

SchemaError = AjvError

# The runtime request schema checks only that `declaration` is an ADC object; the ADC itself is
# validated afterwards, on its own (so AS3 defaults never leak into the ADC and vice versa).
_DECLARATION_STUB = {"type": "object", "properties": {"class": {"const": "ADC"}}, "required": ["class"]}


def _copy(data: Any) -> Any:
    """A deep copy of JSON data (orjson round trip; the stdlib for values orjson refuses)."""
    import orjson

    try:
        return orjson.loads(orjson.dumps(data))
    except (TypeError, orjson.JSONEncodeError):
        return json.loads(json.dumps(data))


@dataclass
class AdcCheck:
    """What one ADC validation found: schema errors in Ajv order, then pointer errors."""

    schema_errors: list[SchemaError] = field(default_factory=list)
    pointer_errors: list[SchemaError] = field(default_factory=list)
    filled: Any = None

    @property
    def errors(self) -> list[SchemaError]:
        return self.schema_errors + self.pointer_errors


class As3Validator:
    """Judges AS3 bodies against one official AS3 schema file, loaded once."""

    def __init__(self, schema: dict[str, Any], *, source: str = "<schema>", replay: bool = True):
        """`replay=False` fills defaults with the plain walk (Ajv.fill_defaults): same result, slower."""
        definitions = schema.get("definitions") if isinstance(schema, dict) else None
        if not isinstance(definitions, dict) or not isinstance(definitions.get("ADC"), dict):
            raise ValidateError(f"{source}: not an AS3 schema (no #/definitions/ADC)",
                                hint="point --as3-schema at F5's as3-schema-<version>.json")
        self.schema = schema
        self.source = source
        self.definitions: dict[str, Any] = definitions
        self.formats = memo_formats()
        self.ajv = Ajv(schema, self.formats)
        self.filler = Filler(self.ajv) if replay else None
        self._rs: dict[str, Any] = {}
        wrapper = dict(definitions.get("AS3") or {"type": "object"})
        wrapper["properties"] = {**wrapper.get("properties", {}), "declaration": _DECLARATION_STUB}
        self._wrapper_schema = wrapper

    @classmethod
    def from_path(cls, path: str | Path) -> As3Validator:
        try:
            text = Path(path).read_bytes()
        except OSError as err:
            raise ValidateError(f"{path}: cannot read the AS3 schema ({err.strerror})") from err
        try:
            schema = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise ValidateError(f"{path}: the AS3 schema is not valid JSON ({err})") from err
        return cls(schema, source=str(path))

    def _verdict(self, name: str, data: Any) -> bool:
        """jsonschema-rs verdict against `#/definitions/<name>` (compiled on first use)."""
        validator = self._rs.get(name)
        if validator is None:
            wrapper = {"$ref": f"#/definitions/{name}", "definitions": self.definitions}
            validator = jsonschema_rs.Draft7Validator(wrapper, formats=self.formats, validate_formats=True)
            self._rs[name] = validator
        try:
            return bool(validator.is_valid(data))
        except (ValueError, OverflowError, TypeError):  # values Rust cannot take (e.g. huge ints)
            return self.ajv.is_valid(self.definitions[name], data)

    # -- ADC ---------------------------------------------------------------------------------------
    def check_adc(self, adc: Any) -> AdcCheck:
        """Validate one ADC declaration (not modified) the way AS3's parser does."""
        schema = self.definitions["ADC"]
        filled = _copy(adc)
        filler = self.filler
        sites: list[PointerSite] = filler.fill(schema, filled) if filler else self.ajv.fill_defaults(schema, filled)
        result = AdcCheck(filled=filled)
        if not self._verdict("ADC", filled):
            result.schema_errors = self.ajv.errors(schema, filled) or [self._fallback_error(filled)]
        if isinstance(filled, dict):
            result.pointer_errors = check_pointers(self.ajv, filled, sites)
        return result

    def validate_adc(self, adc: Any) -> list[SchemaError]:
        """Every problem in an ADC: schema errors in Ajv order (the first is AS3's), then pointers."""
        return self.check_adc(adc).errors

    def _fallback_error(self, filled: Any) -> SchemaError:
        """jsonschema-rs and the walk disagree (should not happen): explain with python-jsonschema."""
        import jsonschema

        validator = jsonschema.Draft7Validator({"$ref": "#/definitions/ADC", "definitions": self.definitions})
        best = jsonschema.exceptions.best_match(validator.iter_errors(filled))
        if best is None:
            return SchemaError("", "schema", "is not valid against the AS3 schema")
        pointer = "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in best.absolute_path)
        return SchemaError(pointer, str(best.validator), best.message)

    # -- any body ----------------------------------------------------------------------------------
    def body_errors(self, body: Any, *, absolute: bool = False) -> list[SchemaError]:
        """Errors for any /declare body: AS3 wrapper, bare ADC, arrays of either, or a PATCH body.

        Pointers are relative to the ADC, as in AS3's 422 response; with `absolute` they are
        relative to `body` instead (`/declaration/...`, `/0/...`), to find them in a file.
        """
        if isinstance(body, list):
            return self._array_errors(body, absolute=absolute)
        if not isinstance(body, dict):
            return [SchemaError("", "type", "should be object")]
        if body.get("class") != "AS3":
            return self.validate_adc(body)
        wrapper = _copy(body)
        self.ajv.fill_defaults(self._wrapper_schema, wrapper)
        errors = self.ajv.errors(self._wrapper_schema, wrapper)
        declaration = body.get("declaration")
        if errors or not isinstance(declaration, dict):
            return errors
        prefix = "/declaration" if absolute else ""
        return [SchemaError(prefix + e.pointer, e.keyword, e.message) for e in self.validate_adc(declaration)]

    def _array_errors(self, body: list, *, absolute: bool) -> list[SchemaError]:
        first = body[0] if body and isinstance(body[0], dict) else {}
        kind = first.get("class")
        if kind not in ("AS3", "ADC"):
            patch_schema = self.definitions.get("AS3_Patch_Body", {})
            return self.ajv.errors(patch_schema, _copy(body), all_errors=False)
        for i, item in enumerate(body):
            errors = self.body_errors(item, absolute=absolute)
            if errors:
                prefix = f"/{i}" if absolute else ""  # AS3 reports each array item on its own
                return [SchemaError(prefix + e.pointer, e.keyword, e.message) for e in errors]
        return []

    def first_error(self, body: Any) -> str | None:
        """AS3's 422 message for this body (`"/T/A/svc: should have required property 'x'"`), or None."""
        errors = self.body_errors(body)
        return str(errors[0]) if errors else None


class ValidatorCache:
    """As3Validator per schema file, reloaded when the file changes (keyed by path and mtime)."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, int, int], As3Validator] = {}

    def get(self, path: str | Path) -> As3Validator:
        real = os.path.realpath(path)
        try:
            stat = os.stat(real)
        except OSError as err:
            raise ValidateError(f"{path}: cannot read the AS3 schema ({err.strerror})") from err
        key = (real, stat.st_mtime_ns, stat.st_size)
        hit = self._by_key.get(key)
        if hit is None:
            hit = As3Validator.from_path(real)
            self._by_key = {k: v for k, v in self._by_key.items() if k[0] != real}
            self._by_key[key] = hit
        return hit
