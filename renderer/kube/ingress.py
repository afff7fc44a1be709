"""Ingress and IngressClass documents -> views (networking.k8s.io/v1, and the v1beta1 backends)."""

from __future__ import annotations

from typing import Any

from renderer.errors import Finding
from renderer.kube.objects import (
    BackendRef,
    Ingress,
    IngressClass,
    IngressPath,
    IngressRule,
    IngressTLS,
    ObjectMeta,
)
from renderer.kube.reader import Reader

INGRESS_API_VERSIONS = ("networking.k8s.io/v1", "networking.k8s.io/v1beta1", "extensions/v1beta1")
F5_CONTROLLER = "f5.com/cntr-ingress-svcs"


def read_ingress(meta: ObjectMeta, data: dict, findings: list[Finding]) -> Ingress | None:
    if meta.api_version not in INGRESS_API_VERSIONS:
        findings.append(Finding("K8S004", f"Ingress apiVersion {meta.api_version} is not supported",
                                meta.locate("apiVersion"), hint=f"use one of {', '.join(INGRESS_API_VERSIONS)}"))
        return None
    r = Reader(meta.doc, meta.base, findings, f"Ingress {meta.ident}")
    spec = r.one(data, "spec", dict, {})
    default_raw = spec.get("defaultBackend", spec.get("backend"))
    default_key = "defaultBackend" if "defaultBackend" in spec else "backend"
    default = _backend(r, default_raw, ("spec", default_key)) if default_raw is not None else None
    rules = []
    for i, rule in enumerate(r.one(spec, "rules", list, [], at=("spec",))):
        if not isinstance(rule, dict):
            r.bad(("spec", "rules", i), "each rule must be a mapping")
            continue
        host = r.one(rule, "host", str, "", at=("spec", "rules", i))
        http = rule.get("http")
        raw_paths = http.get("paths") if type(http) is dict else None
        if type(raw_paths) is not list:
            raw_paths = r.get(rule, ("http", "paths"), list, [], at=("spec", "rules", i))
        paths = []
        for j, p in enumerate(raw_paths):
            keys = ("spec", "rules", i, "http", "paths", j)
            if not isinstance(p, dict):
                r.bad(keys, "each path must be a mapping")
                continue
            path = r.one(p, "path", str, "", at=keys)
            backend = _backend(r, p.get("backend"), (*keys, "backend"))
            if backend:
                paths.append(IngressPath(path, backend))
        rules.append(IngressRule(host, tuple(paths)))
    tls = []
    for i, entry in enumerate(r.one(spec, "tls", list, [], at=("spec",))):
        if not isinstance(entry, dict):
            r.bad(("spec", "tls", i), "each tls entry must be a mapping")
            continue
        at = ("spec", "tls", i)
        hosts = tuple(h for h in r.one(entry, "hosts", list, [], at=at) if isinstance(h, str))
        tls.append(IngressTLS(hosts, r.one(entry, "secretName", str, at=at)))
    return Ingress(
        meta=meta,
        class_annotation=meta.annotations.get("kubernetes.io/ingress.class"),
        class_name=r.one(spec, "ingressClassName", str, at=("spec",)),
        default_backend=default,
        rules=tuple(rules),
        tls=tuple(tls),
    )


def _backend(reader: Reader, raw: Any, keys: tuple[str | int, ...]) -> BackendRef | None:
    if not isinstance(raw, dict):
        reader.bad(keys, "backend must be a mapping")
        return None
    if "service" in raw:  # networking.k8s.io/v1
        service = raw["service"]
        name = service.get("name") if type(service) is dict else None
        if type(name) is not str:  # missing or mistyped: the careful reading makes the finding
            name = reader.get(raw, ("service", "name"), str, required=True, at=keys)
        port = service.get("port") if type(service) is dict else None
        if type(port) is not dict:
            port = reader.get(raw, ("service", "port"), dict, {}, at=keys)
        number = reader.one(port, "number", int, at=(*keys, "service", "port"))
        pname = reader.one(port, "name", str, at=(*keys, "service", "port"))
        ref: int | str | None = number if number is not None else pname
        given = service.get("port") if type(service) is dict else None
        if name and ref is None and (given is None or (type(given) is dict and not {"number", "name"} & set(given))):
            # (a mistyped port, number or name has its finding already)
            reader.bad([*keys, "service", "port"], "backend service port needs number or name")
    else:  # v1beta1
        name = raw.get("serviceName")
        if type(name) is not str:
            name = reader.get(raw, ("serviceName",), str, required=True, at=keys)
        ref = raw.get("servicePort")
        if isinstance(ref, bool) or not isinstance(ref, (int, str)):
            reader.bad([*keys, "servicePort"], "servicePort must be a number or a name")
            ref = None
        elif isinstance(ref, str) and ref.isdigit():
            ref = int(ref)
    if not name or ref is None:
        return None
    return BackendRef(name, ref, keys)


def read_ingress_class(meta: ObjectMeta, data: dict, findings: list[Finding]) -> IngressClass:
    r = Reader(meta.doc, meta.base, findings, f"IngressClass {meta.name}")
    return IngressClass(
        meta, r.get(data, ("spec", "controller"), str, ""),
        meta.annotations.get("ingressclass.kubernetes.io/is-default-class") == "true")
