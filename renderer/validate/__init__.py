"""Validation: the official AS3 schema judged as AS3 judges it, plus our own net schema.

Public API: `As3Validator` (one per schema file; `ValidatorCache` keeps them), `validate_result`
(RenderResult -> findings pointing at manifests), `validate_rendered` (the same after finding
the schema), `validate_declaration_file` (a hand-written or device-returned AS3 file).
"""

from renderer.validate.as3 import As3Validator, SchemaError, ValidatorCache
from renderer.validate.declaration import validate_declaration_file
from renderer.validate.result import validate_rendered, validate_result

__all__ = [
    "As3Validator",
    "SchemaError",
    "ValidatorCache",
    "validate_declaration_file",
    "validate_rendered",
    "validate_result",
]
