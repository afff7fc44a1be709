"""Findings as SARIF 2.1.0, the format GitHub code scanning (and many other tools) read.

Required by the SARIF 2.1.0 schema: the log's `version` ("2.1.0") and `runs`; a run's `tool`; the
tool's `driver` with a `name`; a result's `message` (with `text`); a rule's `id`. Levels are SARIF's
`error`, `warning` and `note`. Locations are repository-relative URIs with 1-based line and column.
Deterministic like every other output: rules and results in a fixed order, no timestamps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from renderer.errors import Finding

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def sarif_log(findings: Sequence[Finding], tool_version: str) -> dict[str, Any]:
    rules = sorted({f.code for f in findings})
    index = {code: i for i, code in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "as3-gitops",
                "version": tool_version,
                "rules": [{"id": code, "shortDescription": {"text": f"as3-gitops finding {code} (see the README's "
                                                                      "finding-code tables)"}} for code in rules],
            }},
            "columnKind": "unicodeCodePoints",
            "results": [_result(f, index[f.code]) for f in findings],
        }],
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    text = finding.message + (f"\nhint: {finding.hint}" if finding.hint else "")
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity.value],
        "message": {"text": text},
    }
    loc = finding.location
    if loc is not None and loc.path:
        physical: dict[str, Any] = {"artifactLocation": {"uri": quote(loc.path, safe="/")}}
        if loc.line:
            physical["region"] = {"startLine": loc.line, **({"startColumn": loc.column} if loc.column else {})}
        result["locations"] = [{"physicalLocation": physical}]
    return result
