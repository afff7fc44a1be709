"""Refresh schemas/cis-crd-*.schema.json from CIS's CustomResourceDefinitions (customresourcedefinitions.yml).

Usage: python scripts/vendor_crd_schemas.py <path to customresourcedefinitions.yml>

The OpenAPI v3 structural schema of each CRD's `spec` becomes a JSON Schema draft-07 document. Two
deliberate changes: every object that lists `properties` refuses other keys (`additionalProperties:
false`), because the API server would prune an unknown field silently and the user would never know
their setting did nothing; and Kubernetes-only keywords (`x-kubernetes-*`, CEL rules, `format: int64`)
are dropped or turned into their JSON Schema meaning. The CEL rules CIS ships (partition is not
Common, immutable fields) are checked by the mapping code instead.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parents[1] / "schemas"


def convert(node: Any) -> Any:
    if isinstance(node, list):
        return [convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or (key == "format" and value in ("int64", "int32")):
            continue
        if key == "properties":
            out[key] = {name: convert(sub) for name, sub in value.items()}
        else:
            out[key] = convert(value)
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def main(source: str) -> None:
    for doc in yaml.safe_load_all(Path(source).read_text()):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        kind = doc["spec"]["names"]["kind"]
        version = next(v for v in doc["spec"]["versions"] if v.get("served"))
        spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
        schema = {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$id": f"https://as3-gitops.invalid/schemas/cis-crd-{kind.lower()}.schema.json",
            "title": f"spec of a {doc['spec']['group']}/{version['name']} {kind} "
                     "(from CIS 2.20 customresourcedefinitions.yml; unknown keys refused)",
            **convert(spec),
        }
        path = OUT / f"cis-crd-{kind.lower()}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        print(path)


if __name__ == "__main__":
    main(sys.argv[1])
