"""Secret and ConfigMap documents -> views of their (decoded) data."""

from __future__ import annotations

import base64
import binascii

from renderer.errors import Finding, Severity
from renderer.kube.objects import ConfigMap, ObjectMeta, Secret
from renderer.kube.reader import Reader, string_map


def read_secret(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Secret:
    r = Reader(meta.doc, meta.base, findings, f"Secret {meta.ident}")
    decoded: dict[str, str] = {}
    for key, value in r.one(data, "data", dict, {}).items():
        if not isinstance(value, str):
            r.bad(("data", str(key)), "Secret data values must be base64 strings")
            continue
        try:
            decoded[str(key)] = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            # kubectl would refuse it; it only matters (as an error) where an Ingress uses the Secret
            findings.append(Finding("K8S007", f"Secret {meta.ident}: data.{key} is not valid base64 text; ignored",
                                    meta.locate("data", str(key)), Severity.WARNING))
    for key, value in r.one(data, "stringData", dict, {}).items():
        if isinstance(value, str):
            decoded[str(key)] = value
    return Secret(meta, r.one(data, "type", str, "Opaque"), decoded)


def read_configmap(meta: ObjectMeta, data: dict, findings: list[Finding]) -> ConfigMap:
    r = Reader(meta.doc, meta.base, findings, f"ConfigMap {meta.ident}")
    return ConfigMap(meta, string_map(r, data, ("data",)))
