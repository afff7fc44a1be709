"""A configuration repository whose Service and Ingress come from a `generate:` entry: a small
Python script committed in the repository (the stand-in for `helm template`), run with
sys.executable, printing manifests built from a values file that is committed beside it."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello-world"

GENERATOR = '''"""Stand-in for helm template: a Service and an Ingress from a values file."""
import json
import sys

values = json.load(open(sys.argv[1]))
sys.stderr.write("rendering chart web\\n")
print(f"""# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: {values['name']}
  namespace: default
spec:
  clusterIP: None
  selector:
    app: hello-world
  ports:
    - name: http
      port: 80
      targetPort: 9000
---
# Source: web/templates/ingress.yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: default
  annotations:
    virtual-server.f5.com/ip: "{values['ip']}"
    virtual-server.f5.com/http-port: "80"
    virtual-server.f5.com/balance: {values['balance']}
spec:
  ingressClassName: f5
  defaultBackend:
    service:
      name: {values['name']}
      port:
        number: 80""")
'''

VALUES = {"name": "hello-world-svc", "ip": "192.168.1.250", "balance": "round-robin"}


def python_entry(*args: str, **fields: object) -> dict[str, object]:
    """A generate: entry running `sys.executable args...`."""
    return {"command": [sys.executable, *args], **fields}


CHART_ENTRY = python_entry("chart/generate.py", "chart/values.json")


def config_text(entries: list[object], extra: str = "") -> str:
    """hello-world's as3-gitops.yaml with a generate: list, one entry a line (JSON is YAML: the
    entries stay exact)."""
    lines = "".join(f"  - {json.dumps(entry)}\n" for entry in entries)
    return (HELLO / "as3-gitops.yaml").read_text() + "generate:\n" + lines + extra


def write_repo(path: Path, entries: list[object] | None = None, values: dict[str, str] | None = None,
               extra: str = "") -> None:
    """hello-world without its Service and the vs-01 Ingress (the generator prints them instead)."""
    shutil.copytree(HELLO, path, dirs_exist_ok=True)
    (path / "manifests" / "service.yaml").unlink()
    (path / "manifests" / "vs-01.yaml").unlink()
    (path / "chart").mkdir(exist_ok=True)
    (path / "chart" / "generate.py").write_text(GENERATOR)
    (path / "chart" / "values.json").write_text(json.dumps(values or VALUES, indent=2) + "\n")
    (path / "as3-gitops.yaml").write_text(config_text([CHART_ENTRY] if entries is None else entries, extra))


def set_values(path: Path, **changes: str) -> None:
    file = path / "chart" / "values.json"
    file.write_text(json.dumps({**json.loads(file.read_text()), **changes}, indent=2) + "\n")


def entry_at(path: Path, index: int) -> str:
    """`as3-gitops.yaml:LINE:5`: where generate[index] of a config written by config_text is."""
    lines = (path / "as3-gitops.yaml").read_text().splitlines()
    return f"as3-gitops.yaml:{lines.index('generate:') + 2 + index}:5"
