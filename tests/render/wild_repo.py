"""Build a renderable repository around one file of ../shared/reference/wild-manifests/.

The source repositories rarely hold everything CIS read from the cluster: the Services an Ingress or
ConfigMap names, their Endpoints, the Services an AS3 ConfigMap's discovery pools select, a flannel Node.
This synthesizes what is missing (and only that) so each real file is judged on its own content.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

WILD = Path(__file__).resolve().parents[3] / "shared" / "reference" / "wild-manifests"

CONFIG = """bigip:
  partition: kubernetes
  defaultIngressIP: 10.0.0.100
  routeVirtualAddress: 10.0.0.200
vxlan:
  localAddress: 192.168.1.254
  selfIP: 10.244.30.15/16
"""

NODE = {"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "worker-1", "annotations": {
            "flannel.alpha.coreos.com/backend-data": '{"VtepMAC": "aa:bb:cc:dd:ee:01"}',
            "flannel.alpha.coreos.com/public-ip": "192.168.1.11"}},
        "spec": {"podCIDR": "10.244.1.0/24"},
        "status": {"addresses": [{"type": "InternalIP", "address": "192.168.1.11"}],
                   "conditions": [{"type": "Ready", "status": "True"}]}}


def provenance() -> dict[str, tuple[str, str]]:
    """file (relative to WILD) -> (role, source folder), from PROVENANCE.md. Role: f5 / companion; the
    source folder is "<repository>/<folder of the file there>": companions go with the f5 files beside them."""
    rows = {}
    for line in (WILD / "PROVENANCE.md").read_text().splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 5 and cells[2] in ("f5", "companion"):
            path = cells[4].split("`")[1]
            rows[cells[1].strip("`")] = (cells[2], f"{cells[3]}/{path.rsplit('/', 1)[0] if '/' in path else ''}")
    return rows


def companions(rows: dict[str, tuple[str, str]], f5_file: str) -> list[Path]:
    folder = rows[f5_file][1]
    return [WILD / name for name, (role, where) in sorted(rows.items()) if role == "companion" and where == folder]


def documents(path: Path) -> list[dict[str, Any]]:
    try:
        loaded = list(yaml.safe_load_all(path.read_text()))
    except yaml.YAMLError:
        return []
    out = []
    for d in loaded:
        if isinstance(d, dict):
            out.extend(d["items"] if str(d.get("kind", "")).endswith("List") and isinstance(d.get("items"), list)
                       else [d])
    return out


def _ns(d: dict[str, Any]) -> str:
    return (d.get("metadata") or {}).get("namespace") or "default"


def _backends(d: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(namespace, service, port) an F5 object needs."""
    ns, kind, refs = _ns(d), d.get("kind"), []
    spec = d.get("spec") or {}
    if kind == "Ingress":
        backends = [spec.get("defaultBackend") or spec.get("backend")]
        backends += [p.get("backend") for r in spec.get("rules") or [] for p in (r.get("http") or {}).get("paths", [])]
        for b in filter(None, backends):
            if "service" in b:
                port = b["service"].get("port", {})
                refs.append((ns, b["service"]["name"], port.get("number", port.get("name"))))
            else:
                refs.append((ns, b.get("serviceName"), b.get("servicePort")))
    elif kind == "Route":
        port = (spec.get("port") or {}).get("targetPort", 80)
        for to in [spec.get("to") or {}, *(spec.get("alternateBackends") or [])]:
            if to.get("name"):
                refs.append((ns, to["name"], port))
    elif kind == "ConfigMap" and str((d.get("data") or {}).get("schema", "")).startswith("f5schemadb://"):
        try:
            backend = json.loads(d["data"]["data"])["virtualServer"]["backend"]
            refs.append((ns, backend["serviceName"], backend["servicePort"]))
        except (ValueError, KeyError, TypeError):
            pass
    return [r for r in refs if r[1]]


def _discovery_pools(d: dict[str, Any]) -> list[tuple[str, str, str, str, int]]:
    """(namespace, tenant, app, pool, servicePort) of an AS3 ConfigMap's discovery pools."""
    labels = (d.get("metadata") or {}).get("labels") or {}
    if d.get("kind") != "ConfigMap" or str(labels.get("as3")) != "true":
        return []
    try:
        data = json.loads((d.get("data") or {}).get("template", ""))
    except ValueError:
        return []
    adc = data.get("declaration", data) if isinstance(data, dict) else {}
    out = []
    for tname, tenant in adc.items():
        if not (isinstance(tenant, dict) and tenant.get("class") == "Tenant"):
            continue
        for aname, app in tenant.items():
            if not (isinstance(app, dict) and app.get("class") == "Application"):
                continue
            for pname, pool in app.items():
                members = pool.get("members") if isinstance(pool, dict) else None
                if pool_is_discovery(pool):
                    out.append((tname if labels.get("isTenantNameServiceNamespace") == "true" else _ns(d),
                                tname, aname, pname, int(members[0].get("servicePort", 80))))
    return out


def pool_is_discovery(pool: Any) -> bool:
    members = pool.get("members") if isinstance(pool, dict) and pool.get("class") == "Pool" else None
    return bool(isinstance(members, list) and members and isinstance(members[0], dict)
                and members[0].get("serverAddresses") == [])


def build_repo(repo: Path, f5_file: Path, companions: list[Path]) -> None:
    """The repository: the file, its companions, and synthesized Services, Endpoints, Secrets, a Node."""
    (repo / "manifests").mkdir(parents=True)
    (repo / "snapshot").mkdir()
    (repo / "as3-gitops.yaml").write_text(CONFIG)
    docs = documents(f5_file)
    (repo / "manifests" / f5_file.name).write_bytes(f5_file.read_bytes())
    for c in companions:
        (repo / "manifests" / f"companion-{c.name}").write_bytes(c.read_bytes())
        docs += documents(c)
    services = {(_ns(d), d["metadata"]["name"]): d for d in docs if d.get("kind") == "Service"
                and isinstance(d.get("metadata"), dict) and d["metadata"].get("name")}
    extra: list[dict[str, Any]] = []
    for d in docs:
        for ns, name, port in _backends(d):
            if (ns, name) not in services:
                entry = {"port": port, "name": "http"} if isinstance(port, int) else {"port": 80, "name": str(port)}
                services[(ns, name)] = svc = {"apiVersion": "v1", "kind": "Service",
                                              "metadata": {"name": name, "namespace": ns}, "spec": {"ports": [entry]}}
                extra.append(svc)
        for ns, tenant, app, pool, port in _discovery_pools(d):
            labels = {"cis.f5.com/as3-tenant": tenant, "cis.f5.com/as3-app": app, "cis.f5.com/as3-pool": pool}
            if not any(_ns(s) == ns and all(((s["metadata"].get("labels") or {}).get(k)) == v
                                            for k, v in labels.items()) for s in services.values()):
                name = f"synth-{pool}".lower().replace("_", "-")[:63].rstrip("-")
                services[(ns, name)] = svc = {"apiVersion": "v1", "kind": "Service", "metadata": {
                    "name": name, "namespace": ns, "labels": labels},
                    "spec": {"ports": [{"port": port, "targetPort": port + 8000, "name": "p"}]}}
                extra.append(svc)
        for tls in ((d.get("spec") or {}).get("tls") or []) if d.get("kind") == "Ingress" else []:
            secret = tls.get("secretName") if isinstance(tls, dict) else None
            if secret and not secret.startswith("/") and not any(
                    x.get("kind") == "Secret" and x["metadata"]["name"] == secret for x in docs + extra):
                extra.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                              "metadata": {"name": secret, "namespace": _ns(d)},
                              "stringData": {"tls.crt": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
                                             "tls.key": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"}})
    if extra:
        (repo / "manifests" / "zz-synthesized.yaml").write_text(yaml.safe_dump_all(extra))
    endpoints = [_endpoints_for(svc, i) for i, (_key, svc) in enumerate(sorted(services.items()))]
    (repo / "snapshot" / "endpoints.yaml").write_text(yaml.safe_dump_all([e for e in endpoints if e]))
    (repo / "snapshot" / "nodes.yaml").write_text(yaml.safe_dump(NODE))


def _endpoints_for(svc: dict[str, Any], index: int) -> dict[str, Any] | None:
    ports = []
    for i, p in enumerate((svc.get("spec") or {}).get("ports") or []):
        if not isinstance(p, dict) or not isinstance(p.get("port"), int):
            continue
        target = p.get("targetPort", p["port"])
        number = target if isinstance(target, int) else 8080 + i
        ports.append({"port": number, "name": p.get("name", ""), "protocol": p.get("protocol", "TCP")})
    if not ports:
        return None
    base = 10 + 2 * (index % 100)
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": svc["metadata"]["name"],
                                                                  "namespace": _ns(svc)},
            "subsets": [{"addresses": [{"ip": f"10.244.1.{base}", "nodeName": "worker-1"},
                                       {"ip": f"10.244.1.{base + 1}", "nodeName": "worker-1"}], "ports": ports}]}
