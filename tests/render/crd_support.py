"""Synthesize what CIS custom-resource manifests reference but do not define (Services, Endpoints,
TLS Secrets), so example and wild files can be rendered as a user's repository would be."""

from __future__ import annotations

import hashlib
from typing import Any

PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"
PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIBtestkey\n-----END PRIVATE KEY-----\n"


def _ns(doc: dict) -> str:
    return (doc.get("metadata") or {}).get("namespace") or "default"


def _pool_refs(pool: dict, ns: str) -> list[tuple[str, str, Any]]:
    refs = []
    if isinstance(pool, dict) and isinstance(pool.get("service"), str):
        svc_ns = pool.get("serviceNamespace") or ns
        refs.append((svc_ns, pool["service"], pool.get("servicePort", 80)))
        for alt in pool.get("alternateBackends") or []:
            if isinstance(alt, dict) and isinstance(alt.get("service"), str):
                refs.append((alt.get("serviceNamespace") or svc_ns, alt["service"], pool.get("servicePort", 80)))
    return refs


def crd_service_refs(docs: list[dict]) -> set[tuple[str, str, Any]]:
    refs: set[tuple[str, str, Any]] = set()
    for d in docs:
        spec = d.get("spec") if isinstance(d.get("spec"), dict) else {}
        ns = _ns(d)
        kind = d.get("kind")
        if kind == "VirtualServer":
            for p in spec.get("pools") or []:
                refs.update(_pool_refs(p, ns))
            refs.update(_pool_refs(spec.get("defaultPool") or {}, ns))
        elif kind == "TransportServer":
            refs.update(_pool_refs(spec.get("pool") or {}, ns))
        elif kind == "Policy":
            refs.update(_pool_refs(spec.get("defaultPool") or {}, ns))
    return {r for r in refs if isinstance(r[2], (int, str))}


def secret_refs(docs: list[dict]) -> set[tuple[str, str, bool]]:
    """(namespace, name, needs a key) of every TLSProfile / TransportServer Secret reference."""
    out = set()
    for d in docs:
        spec = d.get("spec") if isinstance(d.get("spec"), dict) else {}
        tls = spec.get("tls") if isinstance(spec.get("tls"), dict) else {}
        ref = tls.get("reference")
        for side, plural in (("clientSSL", "clientSSLs"), ("serverSSL", "serverSSLs")):
            names = tls.get(plural) or ([tls[side]] if isinstance(tls.get(side), str) else [])
            kind = ref
            if ref == "hybrid":
                kind = ((tls.get(f"{side}Params") or {}).get("profileReference"))
            if kind == "secret":
                out.update((_ns(d), n, side == "clientSSL") for n in names if isinstance(n, str) and n)
    return out


def _ip(name: str, i: int) -> str:
    h = int(hashlib.sha256(name.encode()).hexdigest()[:4], 16)
    return f"10.244.{h % 250}.{10 + i}"


def supply(docs: list[dict]) -> list[dict]:
    """Services (port as referenced), their Endpoints, and TLS Secrets the documents lack."""
    defined = {(d.get("kind"), _ns(d), (d.get("metadata") or {}).get("name")) for d in docs}
    extra: list[dict] = []
    ports: dict[tuple[str, str], list[Any]] = {}
    for ns, name, port in sorted(crd_service_refs(docs), key=str):
        ports.setdefault((ns, name), []).append(port)
    for (ns, name), wanted in sorted(ports.items()):
        if ("Service", ns, name) in defined:
            continue
        entries, seen = [], set()
        for port in wanted:
            entry = {"port": port, "name": f"p{port}", "targetPort": 8080} if isinstance(port, int) else \
                {"port": 80 + len(entries), "name": port, "targetPort": 8080}
            if entry["name"] not in seen:
                seen.add(entry["name"])
                entries.append(entry)
        extra.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
                      "spec": {"ports": entries, "type": "NodePort"}})
    for d in docs:
        labels = ((d.get("spec") or {}).get("selector") or {}).get("matchLabels") if d.get("kind") == "IngressLink" \
            else None
        if isinstance(labels, dict) and labels:
            extra.append({"apiVersion": "v1", "kind": "Service",
                          "metadata": {"name": "nginx-ingress-ingresslink", "namespace": _ns(d),
                                       "labels": {str(k): str(v) for k, v in labels.items()}},
                          "spec": {"type": "NodePort", "ports": [
                              {"name": "http", "port": 80, "targetPort": 80},
                              {"name": "https", "port": 443, "targetPort": 443},
                              {"name": "nginx-ready", "port": 8081, "targetPort": 8081}]}})
    for d in docs + extra:
        if d.get("kind") != "Service":
            continue
        ns, name = _ns(d), d["metadata"]["name"]
        if ("Endpoints", ns, name) in defined:
            continue
        eps_ports = []
        for p in (d.get("spec") or {}).get("ports") or []:
            if isinstance(p, dict):
                target = p.get("targetPort", p.get("port"))
                eps_ports.append({"name": p.get("name", ""), "port": target if isinstance(target, int) else 8080,
                                  "protocol": p.get("protocol", "TCP")})
        extra.append({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns},
                      "subsets": [{"addresses": [{"ip": _ip(f"{ns}/{name}", i)} for i in range(2)],
                                   "ports": eps_ports}]})
    for ns, name, key in sorted(secret_refs(docs)):
        if ("Secret", ns, name) not in defined:
            data = {"tls.crt": PEM_CERT, **({"tls.key": PEM_KEY} if key else {})}
            extra.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                          "metadata": {"name": name, "namespace": ns}, "stringData": data})
    return extra
