"""The small repository that the net.json tests (test_network.py) and the static-route tests
(test_static_routes.py) render: one Service and one Ingress, with the config, the rest of the
manifests and the snapshot that each test chooses; and flannel Node documents (also for
test_transport_server_ab.py)."""

from __future__ import annotations

from pathlib import Path

SERVICE_AND_INGRESS = """apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app
  namespace: default
  annotations: {kubernetes.io/ingress.class: f5, virtual-server.f5.com/ip: 10.5.5.5}
spec:
  defaultBackend: {service: {name: app, port: {number: 80}}}
"""


def write_repo(tmp_path: Path, config: str, manifests: str, snapshot: str, snapshot_file: str) -> Path:
    """tmp_path/repo with as3-gitops.yaml, manifests/app.yaml and snapshot/<snapshot_file>."""
    repo = tmp_path / "repo"
    (repo / "manifests").mkdir(parents=True)
    (repo / "snapshot").mkdir()
    (repo / "as3-gitops.yaml").write_text(config)
    (repo / "manifests" / "app.yaml").write_text(manifests)
    (repo / "snapshot" / snapshot_file).write_text(snapshot)
    return repo


def node(name: str, mac: str | None, ip: str, cidr: str, extra: str = "") -> str:
    """A flannel Node document (no backend-data annotation when `mac` is None)."""
    ann = f"    flannel.alpha.coreos.com/backend-data: '{{\"VtepMAC\":\"{mac}\"}}'\n" if mac else ""
    return f"""---
apiVersion: v1
kind: Node
metadata:
  name: {name}
  annotations:
{ann}    flannel.alpha.coreos.com/public-ip: {ip}
{extra}spec: {{podCIDR: {cidr}}}
"""
