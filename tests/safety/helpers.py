"""Small repositories written by the tests of issue 15 (hostile and unlucky input)."""

from __future__ import annotations

from pathlib import Path

from renderer.render import RenderResult, render

CONFIG = "bigip:\n  partition: k8s\n  poolMemberType: nodeport\n"


def service(name: str, namespace: str = "default") -> str:
    return f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  type: NodePort
  ports: [{{name: http, port: 80, targetPort: 8080, nodePort: 30080}}]
---
"""


def ingress(name: str, namespace: str = "default", *, ip: str = "10.1.1.1", svc: str = "web",
            tls_secret: str | None = None, extra: str = "", rules: str | None = None) -> str:
    tls = f"  tls: [{{secretName: {tls_secret}}}]\n" if tls_secret else ""
    backend = rules or f"  defaultBackend: {{service: {{name: {svc}, port: {{number: 80}}}}}}\n"
    return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: {namespace}
  annotations:
    kubernetes.io/ingress.class: f5
    virtual-server.f5.com/ip: {ip}
{extra}spec:
{tls}{backend}---
"""


def tls_secret(name: str, namespace: str, marker: str) -> str:
    return f"""apiVersion: v1
kind: Secret
type: kubernetes.io/tls
metadata: {{name: {name}, namespace: {namespace}}}
stringData:
  tls.crt: "-----BEGIN CERTIFICATE-----\\n{marker}\\n-----END CERTIFICATE-----\\n"
  tls.key: "-----BEGIN PRIVATE KEY-----\\n{marker}-key\\n-----END PRIVATE KEY-----\\n"
---
"""


def write_repo(root: Path, files: dict[str, str], config: str = CONFIG) -> Path:
    for rel, text in {"as3-gitops.yaml": config, **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def build(tmp_path: Path, files: dict[str, str], config: str = CONFIG) -> RenderResult:
    return render(write_repo(tmp_path / "repo", files, config))


def codes(result: RenderResult) -> list[str]:
    return [f.code for f in result.findings if f.is_error]


def errors(result: RenderResult, code: str) -> list[str]:
    return [f"{f.location}: {f.message}" for f in result.findings if f.code == code]
