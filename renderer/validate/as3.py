"""The AS3 judge: accept exactly what AS3 accepts, and say why not in AS3's own words.

Verdict: fill defaults the way Ajv's useDefaults does (on a copy; fill.py replays the walk for
objects of a shape already seen), then ask jsonschema-rs (fast) whether the copy is valid
against `#/definitions/ADC`; `judge` does that one tenant at a time (tenants.py: no copy of the
whole declaration, results cacheable per tenant) and falls back to the whole copy when anything
is not clean. Only when it is not do we walk the schema in Python
(renderer.validate.ajv), filling and checking in Ajv's order as AS3 does: that walk decides (a
default added later in the walk is not seen by an earlier check) and finds AS3's first error.
Around the schema come AS3's own checks, in AS3's order: the request (request.py), property
names (propnames.py), the id, then after the schema full paths, node names and duplicates,
pointer targets (pointers.py) and secrets, and last path lengths and autoDelete (postchecks.py).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs

from renderer.errors import ValidateError
from renderer.validate import postchecks
from renderer.validate.ajv import Ajv, AjvError, PointerSite
from renderer.validate.fill import Filler
from renderer.validate.formatmemo import DoubtfulAddresses, QuadFirst, memo_formats, quads_in_rust
from renderer.validate.members import SECRET_KEYS
from renderer.validate.pointers import check_pointers
from renderer.validate.propnames import PropertyNames, js_numeric, truthy
from renderer.validate.pruned import cut_definitions, member_classes
from renderer.validate.request import DUPLICATE_TEXT, Task, action_errors, controls_action, mark_duplicates, tasks_of
from renderer.validate.scan import DUPLICATE_PROPS, scan
from renderer.validate.tenants import Fallback, TenantStore, check_by_tenant, streamable, validator_fingerprint

SchemaError = AjvError
_CLEAN = "__as3_gitops_walk"


def _walk_definitions(defaults: list[str]) -> dict[str, Any]:
    """A schema that walks every value: arrays named as AS3's duplicate check names them must have
    unique items (JSON equality is AS3's), and a Secret must carry the default `protected`
    (`defaults`: the schema's defaults of `protected`, `_protected_defaults`)."""
    here = {"$ref": f"#/definitions/{_CLEAN}"}
    secret = {"required": list(SECRET_KEYS), "properties": {"protected": {"not": {"enum": defaults}}}}
    return {_CLEAN: {
        "if": {"type": "object"},
        "then": {"properties": {p: {"allOf": [{"uniqueItems": True}, here]} for p in DUPLICATE_PROPS},
                 "additionalProperties": here, "not": secret},
        "else": {"items": here},
    }}


def _protected_defaults(node: Any) -> set[str]:
    found: set[str] = set()
    todo = [node]
    while todo:
        current = todo.pop()
        if isinstance(current, dict):
            props = current.get("properties")
            protected = props.get("protected") if isinstance(props, dict) else None
            if isinstance(protected, dict) and isinstance(protected.get("default"), str):
                found.add(protected["default"])
            todo += list(current.values())
        elif isinstance(current, list):
            todo += current
    return found
_UNIQUE = jsonschema_rs.Draft7Validator({"type": "array", "items": {"uniqueItems": True}})

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
    """What one ADC validation found, each list in AS3's order; `errors` is all of them in AS3's order."""

    name_errors: list[SchemaError] = field(default_factory=list)  # before the parser ("Invalid data property")
    schema_errors: list[SchemaError] = field(default_factory=list)  # the id, then the schema (Ajv order)
    structure_errors: list[SchemaError] = field(default_factory=list)  # paths, node names, duplicates
    pointer_errors: list[SchemaError] = field(default_factory=list)  # pointers, then secrets
    final_errors: list[SchemaError] = field(default_factory=list)  # path lengths, autoDelete
    warnings: list[SchemaError] = field(default_factory=list)  # ours: AS3 accepts these
    filled: Any = None

    @property
    def parser_errors(self) -> list[SchemaError]:
        """What AS3's parser finds (everything after the property-name check)."""
        return self.schema_errors + self.structure_errors + self.pointer_errors + self.final_errors

    @property
    def errors(self) -> list[SchemaError]:
        return self.name_errors + self.parser_errors


@dataclass
class Judgement:
    """All errors of one /declare body in AS3's order (the first is AS3's), and our warnings."""

    errors: list[SchemaError] = field(default_factory=list)
    warnings: list[SchemaError] = field(default_factory=list)


class As3Validator:
    """Judges AS3 bodies against one official AS3 schema file, loaded once."""

    def __init__(self, schema: dict[str, Any], *, source: str = "<schema>", replay: bool = True,
                 tables: Any = None):
        """`replay=False` fills defaults with the plain walk (Ajv.fill_defaults): same result, slower.
        `tables`: the schema-derived tables of an earlier instance for the same schema (`tables()`)."""
        definitions = schema.get("definitions") if isinstance(schema, dict) else None
        if not isinstance(definitions, dict) or not isinstance(definitions.get("ADC"), dict):
            raise ValidateError(f"{source}: not an AS3 schema (no #/definitions/ADC)",
                                hint="point --as3-schema at F5's as3-schema-<version>.json")
        self.schema = schema
        self.source = source
        self.definitions: dict[str, Any] = definitions
        self.doubtful = DoubtfulAddresses()
        self.formats = memo_formats(self.doubtful)
        self.ajv = Ajv(schema, self.formats)
        self._quads = QuadFirst() if quads_in_rust(self.formats) else None  # for jsonschema-rs verdicts
        names, defaults = tables if tables is not None else (None, None)
        self.names = PropertyNames(schema, names)
        self._protected = sorted(_protected_defaults(schema)) if defaults is None else defaults
        self.filler = Filler(self.ajv) if replay else None
        self._rs: dict[str, Any] = {}
        self._schema_hash: str | None = None
        wrapper = dict(definitions.get("AS3") or {"type": "object"})
        wrapper["properties"] = {**wrapper.get("properties", {}), "declaration": _DECLARATION_STUB}
        self._wrapper_schema = wrapper
        self._walk_definitions = {**definitions, **_walk_definitions(self._protected)}

    def tables(self) -> tuple:
        """The schema-derived tables (plain data) that `tables=` takes back."""
        return self.names.tables(), list(self._protected)

    @classmethod
    def from_path(cls, path: str | Path, disk: Any = None) -> As3Validator:
        """The validator of a schema file; `disk` (a renderer.cache.DiskCache) keeps its tables
        between processes, keyed by the file's SHA-256 and the validator's code."""
        text = _read_schema(path)
        return cls.from_bytes(text, hashlib.sha256(text).hexdigest(), source=str(path), disk=disk)

    @classmethod
    def from_bytes(cls, text: bytes, digest: str, *, source: str, disk: Any = None) -> As3Validator:
        """The validator of a schema's bytes whose SHA-256 is `digest` (`from_path` and
        `ValidatorCache` read and hash the file once)."""
        try:
            schema = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise ValidateError(f"{source}: the AS3 schema is not valid JSON ({err})") from err
        key = f"as3-validate-tables\0{validator_fingerprint()}\0{digest}"
        tables = disk.get(key, _tables_or_none) if disk is not None else None
        validator = cls(schema, source=source, tables=tables)
        validator._schema_hash = digest
        if disk is not None and tables is None:
            disk.put(key, validator.tables())
        return validator

    def _verdict(self, name: str, data: Any) -> bool:
        """jsonschema-rs verdict against `#/definitions/<name>` (compiled on first use)."""
        validator = self._rs.get(name)
        if validator is None:
            definitions = self._quads.definitions(self.definitions) if self._quads else self.definitions
            wrapper = {"$ref": f"#/definitions/{name}", "definitions": definitions}
            validator = jsonschema_rs.Draft7Validator(wrapper, formats=self.formats, validate_formats=True)
            self._rs[name] = validator
        try:
            return bool(validator.is_valid(data))
        except (ValueError, OverflowError, TypeError):  # values Rust cannot take (e.g. huge ints)
            return self.ajv.is_valid(self.definitions[name], data)

    def _clean_verdict(self, data: Any) -> bool:
        """One Rust pass: valid against the ADC schema, and no array anywhere that AS3 checks for
        duplicates has any, and no Secret with a `protected` other than the schema's default. True
        means AS3's schema, duplicate and secret checks all pass; False: look closer."""
        return type(data) is dict and data.get("class") == "ADC" and self._clean(data)

    def tenant_clean(self, tenant: Any) -> bool:
        """`_clean_verdict` for one filled tenant (the ADC's `additionalProperties`)."""
        return type(tenant) is dict and tenant.get("class") == "Tenant" and self._clean(tenant)

    def _clean(self, data: dict) -> bool:
        """One validator for both (compiling one costs as much as a 1k declaration's verdict): an
        object of class Tenant is judged as a tenant, any other as an ADC. The callers route by
        class; a False for a class the schema would accept only sends the caller the exact way."""
        classes = member_classes(data, self.definitions)
        seen, validator = self._rs.get(_CLEAN, (frozenset(), None))
        if validator is None or not classes <= seen:  # compiled for the classes seen so far (pruned.py)
            seen = seen | classes
            schema = self.clean_schema(seen)
            if self._quads is not None:
                schema = {**self._quads.schema(schema), "definitions": self._quads.definitions(schema["definitions"])}
            validator = jsonschema_rs.Draft7Validator(schema, formats=self.formats, validate_formats=True)
            self._rs[_CLEAN] = (seen, validator)
        try:
            return bool(validator.is_valid(data))
        except (ValueError, OverflowError, TypeError, RecursionError):
            return False

    def clean_schema(self, classes: frozenset[str] | None) -> dict[str, Any]:
        """The clean verdict's schema, cut to the Application member `classes` (None: the whole)."""
        clean = {"$ref": f"#/definitions/{_CLEAN}"}
        wrapper: dict[str, Any] = {
            "if": {"properties": {"class": {"const": "Tenant"}}, "required": ["class"]},
            "then": {"allOf": [self.definitions["ADC"].get("additionalProperties", True), clean]},
            "else": {"allOf": [{"$ref": "#/definitions/ADC"}, clean]}}
        cut = None if classes is None else cut_definitions(self._walk_definitions, wrapper, classes)
        wrapper["definitions"] = self._walk_definitions if cut is None else cut
        return wrapper

    @property
    def schema_hash(self) -> str:
        """SHA-256 of the schema's content (part of every cached validation result's key)."""
        if self._schema_hash is None:  # from_path hashes the file's bytes; a dict its canonical JSON
            text = json.dumps(self.schema, sort_keys=True, separators=(",", ":")).encode()
            self._schema_hash = hashlib.sha256(text).hexdigest()
        return self._schema_hash

    # -- ADC ---------------------------------------------------------------------------------------
    def check_adc(self, adc: Any, *, keep_filled: bool = True, store: TenantStore | None = None) -> AdcCheck:
        """Validate one ADC declaration (not modified) the way AS3's parser does.

        `keep_filled=False`: `filled` stays None, and a valid declaration is checked one tenant at a
        time (tenants.py) without a filled copy of the whole, its tenants' results kept in `store`."""
        if not keep_filled and self.filler is not None and isinstance(adc, dict) and streamable(
                self.definitions["ADC"]):
            try:
                return self._check_by_tenant(adc, store)
            except Fallback:
                pass
        schema = self.definitions["ADC"]
        result = AdcCheck()
        filled = _copy(adc)
        filler = self.filler
        sites: list[PointerSite] = filler.fill(schema, filled) if filler else self.ajv.fill_defaults(schema, filled)
        result.filled = filled
        clean = self._clean_verdict(filled)
        scanned = None if clean else scan(adc, filled, js_numeric, lambda value: truthy(value.get("class")))
        result.name_errors = self._name_errors(adc, scanned.words if scanned else None)
        result.schema_errors = postchecks.id_errors(adc)
        if not clean and not self._verdict("ADC", filled):
            # the fully filled copy fails: AS3's own order (fill and check in one walk) decides
            result.schema_errors += self.ajv.ordered_errors(schema, self._failing_part(adc, filled))
        if isinstance(filled, dict):
            nothing = postchecks.Scan()  # the clean verdict saw no duplicate and no odd secret
            result.structure_errors = postchecks.structure_errors(filled, scanned or nothing, self._no_duplicates)
            result.pointer_errors = check_pointers(self.ajv, filled, sites) + postchecks.secret_errors(
                filled, scanned or nothing)
            result.final_errors = postchecks.final_errors(filled)
        result.warnings = self.doubtful.findings(adc)
        return result

    def _name_errors(self, adc: Any, words: list[Any] | None) -> list[SchemaError]:
        found = self.names.first_invalid(adc, words)
        if found is None:
            return []
        word, pointer = found
        text = f"Invalid data property: {word}"
        return [SchemaError(pointer, "as3:property", text, text=text)]

    def _check_by_tenant(self, adc: dict, store: TenantStore | None) -> AdcCheck:
        found = check_by_tenant(self, adc, store)
        result = AdcCheck()
        if not found["names_ok"]:
            result.name_errors = self._name_errors(adc, None)
        result.schema_errors = postchecks.id_errors(adc)
        result.structure_errors = found["structure"]
        result.pointer_errors = found["pointers"]
        result.final_errors = found["final"]
        result.warnings = self.doubtful.findings(adc)
        return result

    def _failing_part(self, adc: Any, filled: Any) -> Any:
        """A copy of the ADC without the tenants jsonschema-rs finds valid (filled) under valid names:
        the ordered walk has nothing to say about them, and a large declaration has many."""
        schema = self.definitions["ADC"]
        extra = schema.get("additionalProperties")
        ref = extra.get("$ref") if isinstance(extra, dict) else None
        props = schema.get("properties") or {}
        if not isinstance(adc, dict) or not isinstance(filled, dict) or not isinstance(ref, str) \
                or not ref.startswith("#/definitions/") or schema.get("patternProperties"):
            return _copy(adc)
        name = ref[len("#/definitions/"):]
        names = schema.get("propertyNames")
        keep = {}
        for key, value in adc.items():
            if key not in props and isinstance(filled.get(key), dict) and self._verdict(name, filled[key]) \
                    and (names is None or self.ajv.is_valid(names, key)):
                continue
            keep[key] = value
        return _copy(keep)

    def _no_duplicates(self, arrays: list[list]) -> bool:
        """True when none of the arrays has two equal items (JSON equality, as AS3's), in Rust."""
        try:
            return bool(_UNIQUE.is_valid(arrays))
        except (ValueError, OverflowError, TypeError):  # values Rust cannot take: ask item by item
            return not any(postchecks.has_duplicates(a) for a in arrays)

    def validate_adc(self, adc: Any) -> list[SchemaError]:
        """Every problem in an ADC, in AS3's order (the first is AS3's)."""
        return self.check_adc(adc).errors

    # -- any body ----------------------------------------------------------------------------------
    def judge(self, body: Any, *, absolute: bool = False, store: TenantStore | None = None) -> Judgement:
        """Errors for any /declare body: AS3 wrapper, bare ADC, arrays of either, or a PATCH body.

        Pointers are relative to the ADC, as in AS3's 422 response; with `absolute` they are
        relative to `body` instead (`/declaration/...`, `/0/...`), to find them in a file. An
        array reports the errors of every failing request, in order: AS3 (declareHandler's
        processRequest) answers each request on its own, and one that fails does not stop the
        others, so the first error is still AS3's answer to the first failing request.
        """
        if isinstance(body, list) and not (body and isinstance(body[0], dict)
                                           and body[0].get("class") in ("AS3", "ADC")):
            # a PATCH body: AS3 makes it {"class": "AS3", "action": "patch", "patchBody": body}
            patch_schema = self.definitions.get("AS3_Patch_Body", {})
            errors = self.ajv.errors(patch_schema, _copy(body), all_errors=False)
            return Judgement([SchemaError(e.pointer, e.keyword, e.message,
                                          text=f"Invalid request: /patchBody{e.pointer}: {e.message}") for e in errors])
        if body is None:
            return Judgement([SchemaError("", "type", "should be object", text="Invalid request: /: should be object")])
        if not isinstance(body, dict | list):  # AS3 wraps any other value as the declaration of a deploy
            return Judgement([SchemaError("", "type", "should be object",
                                          text="Invalid request: /declaration: should be object")])
        tasks, wrapped = tasks_of(body)
        request_errors = self._request_errors(wrapped, tasks)
        if request_errors:
            if isinstance(body, list):  # the request schema's first branch wants one object, not a list
                first = request_errors[0]
                request_errors[0] = SchemaError(first.pointer, first.keyword, first.message,
                                                text="Invalid request: /: should be object")
            return Judgement(request_errors)
        mark_duplicates(tasks)
        judgement = Judgement()
        for task in tasks:
            self._judge_task(task, judgement, absolute, store)
        return judgement

    def _request_errors(self, wrapped: Any, tasks: list[Task]) -> list[SchemaError]:
        """AS3's request schema over the wrapped body (its `declaration` only needs class ADC)."""
        for task in tasks:
            if not isinstance(task.request, dict) or (task.request.get("class") != "AS3" and not (
                    task.request.get("class") == "ADC" and task.declaration is not None)):
                request = task.request if isinstance(task.request, dict) else {}
                errors = self.ajv.errors(self._wrapper_schema, _copy(request)) if isinstance(task.request, dict) \
                    else [SchemaError("", "type", "should be object")]
                return [self._invalid_request(task.prefix, e) for e in errors]
            if task.request.get("class") == "AS3":
                self.ajv.fill_defaults(self._wrapper_schema, task.request)
                errors = self.ajv.errors(self._wrapper_schema, task.request)
                if errors:
                    return [self._invalid_request(task.prefix, e) for e in errors]
            else:  # an ADC that carries its own `declaration`: AS3's wrapper defaults leak into it
                for key, value in (("action", "deploy"),):
                    task.request.setdefault(key, value)
                task.declaration_key = "/declaration"
        return []

    @staticmethod
    def _invalid_request(prefix: str, error: SchemaError) -> SchemaError:
        where = prefix + error.pointer or "/"
        text = f"Invalid request: {where}: {error.message}"
        return SchemaError(prefix + error.pointer, error.keyword, error.message, text=text)

    def _judge_task(self, task: Task, judgement: Judgement, absolute: bool, store: TenantStore | None) -> None:
        declaration, action = controls_action(task.declaration)
        if action is not None:
            task.request["action"] = action
        prefix = (task.prefix + task.declaration_key) if absolute else ""
        check = self.check_adc(declaration, keep_filled=False, store=store) if isinstance(declaration, dict) else None
        errors: list[SchemaError] = []
        if task.duplicate:
            word = check.name_errors[0].message if check and check.name_errors else ""
            text = DUPLICATE_TEXT + word
            errors.append(SchemaError(task.prefix if absolute else "", "as3:tenant", text, text=text))
        moved = [SchemaError(prefix + e.pointer, e.keyword, e.message, e.text, e.warning)
                 for e in (check.name_errors if check else [])]
        errors += moved
        errors += [SchemaError((task.prefix if absolute else "") + e.pointer, e.keyword, e.message, e.text)
                   for e in action_errors(task.request, "")]
        if check is not None:
            errors += [SchemaError(prefix + e.pointer, e.keyword, e.message, e.text, e.warning)
                       for e in check.parser_errors]
            judgement.warnings += [SchemaError(prefix + e.pointer, e.keyword, e.message, e.text, True)
                                   for e in check.warnings]
        judgement.errors += errors

    def body_errors(self, body: Any, *, absolute: bool = False) -> list[SchemaError]:
        """Every error of a /declare body in AS3's order (see `judge`)."""
        return self.judge(body, absolute=absolute).errors

    def first_error(self, body: Any) -> str | None:
        """AS3's 422 message for this body (`"/T/A/svc: should have required property 'x'"`), or None."""
        errors = self.body_errors(body)
        return str(errors[0]) if errors else None


def _tables_or_none(stored: Any) -> Any:
    """Stored tables, or None unless they have the shape `As3Validator.tables` gives."""
    try:
        (words, patterns), defaults = stored
    except (TypeError, ValueError):
        return None
    if type(words) is frozenset and type(patterns) is list and type(defaults) is list \
            and all(type(p) is str for p in patterns) and all(type(d) is str for d in defaults):
        return stored
    return None


def _read_schema(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise ValidateError(f"{path}: cannot read the AS3 schema ({err.strerror})") from err


class ValidatorCache:
    """As3Validator per schema file, reloaded when the file's content changes: keyed by path and
    the SHA-256 of its bytes, not by mtime and size (a schema rewritten to the same size within
    one timestamp tick would otherwise reuse the old validator). Reading and hashing the
    official 1.2 MB schema costs about 1.1 ms per `get` (measured)."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], As3Validator] = {}

    def get(self, path: str | Path, disk: Any = None) -> As3Validator:
        real = os.path.realpath(path)
        text = _read_schema(path)
        digest = hashlib.sha256(text).hexdigest()
        key = (real, digest)
        hit = self._by_key.get(key)
        if hit is None:
            hit = As3Validator.from_bytes(text, digest, source=real, disk=disk)
            self._by_key = {k: v for k, v in self._by_key.items() if k[0] != real}
            self._by_key[key] = hit
        return hit
