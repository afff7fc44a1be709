"""Bad input: `path:line:col: error: ...`, exit 2, every error in one run, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from renderer.cli import main

BASE_CONFIG = "bigip:\n  partition: k8s\n  poolMemberType: nodeport\n"
SERVICE = """apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
"""


def ingress(name: str, annotations: str, backend: str = "web", port: str = "number: 80") -> str:
    return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: default
  annotations:
    kubernetes.io/ingress.class: f5
{annotations}
spec:
  defaultBackend:
    service:
      name: {backend}
      port: {{{port}}}
"""


def run_render(tmp_path: Path, files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    repo = tmp_path / "repo"
    for rel, text in {"as3-gitops.yaml": BASE_CONFIG, "manifests/svc.yaml": SERVICE, **files}.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    out = tmp_path / "out"
    code = main(["render", str(repo), "-o", str(out), "--no-validate", "--format", "text"])
    captured = capsys.readouterr()
    assert not out.exists() or code == 0, "nothing may be written when rendering fails"
    assert "Traceback" not in captured.err
    return code, captured.err


def test_yaml_assignment_syntax_points_at_line_and_suggests_colon(tmp_path, capsys):
    text = "apiVersion: v1\nkind: Service\nmetadata:\n  name=\"web\"\n  namespace: default\n"
    code, err = run_render(tmp_path, {"manifests/bad.yaml": text}, capsys)
    assert code == 2
    assert "manifests/bad.yaml:5:12: error: invalid YAML: mapping values are not allowed in this context [SRC001]" in err
    assert 'hint: write "name: "web""' in err


def test_invalid_health_json_points_into_the_json(tmp_path, capsys):
    ann = '    virtual-server.f5.com/ip: 10.1.1.1\n    virtual-server.f5.com/health: |\n      [\n        {"path": "a/",\n         "interval": 5,,\n        }\n      ]'
    code, err = run_render(tmp_path, {"manifests/ing.yaml": ingress("web", ann)}, capsys)
    assert code == 2
    assert "manifests/ing.yaml:12:24: error: virtual-server.f5.com/health: invalid JSON: Expecting property name" in err


def test_missing_backend_service_and_port_are_errors_at_the_backend(tmp_path, capsys):
    files = {
        "manifests/a.yaml": ingress("a", "    virtual-server.f5.com/ip: 10.1.1.1", backend="nope"),
        "manifests/b.yaml": ingress("b", "    virtual-server.f5.com/ip: 10.1.1.2", port="number: 81"),
    }
    code, err = run_render(tmp_path, files, capsys)
    assert code == 2
    assert "manifests/a.yaml:11:5: error: Ingress default/a: backend Service default/nope does not exist [ING020]" in err
    assert "manifests/b.yaml:11:5: error: Ingress default/b: Service default/web has no port 81 (ports: 80 (http))" in err
    assert err.index("manifests/a.yaml") < err.index("manifests/b.yaml"), "errors are sorted by file"


def test_two_single_service_ingresses_cannot_share_ip_and_port(tmp_path, capsys):
    files = {
        "manifests/a.yaml": ingress("a", "    virtual-server.f5.com/ip: 10.1.1.1"),
        "manifests/b.yaml": ingress("b", "    virtual-server.f5.com/ip: 10.1.1.1"),
    }
    code, err = run_render(tmp_path, files, capsys)
    assert code == 2
    assert ("manifests/b.yaml:10:3: error: single-service Ingress default/b cannot share 10.1.1.1:80 with "
            "Ingress default/a [ING010]") in err


@pytest.mark.parametrize(("annotation", "expected"), [
    ("virtual-server.f5.com/ip: 10.0.0.999",
     "manifests/ing.yaml:8:31: error: virtual-server.f5.com/ip: '10.0.0.999' is not an IP address [ANN002]"),
    ("virtual-server.f5.com/http-port: \"70000\"",
     "manifests/ing.yaml:9:38: error: virtual-server.f5.com/http-port: '70000' is not a port number [ANN002]"),
    ("virtual-server.f5.com/http-port: \"" + "9" * 5000 + "\"",
     "manifests/ing.yaml:9:38: error: virtual-server.f5.com/http-port: '" + "9" * 76 + "... is not a port number"),
    ("virtual-server.f5.com/http-port: \"8²\"",
     "manifests/ing.yaml:9:38: error: virtual-server.f5.com/http-port: '8²' is not a port number [ANN002]"),
    ("virtual-server.f5.com/balance: round-robbin",
     "manifests/ing.yaml:9:36: error: virtual-server.f5.com/balance: 'round-robbin' is not a BIG-IP load-balancing mode"),
    ("virtual-server.f5.com/partition: Common",
     "manifests/ing.yaml:9:38: error: virtual-server.f5.com/partition: partition 'Common' cannot be an AS3 tenant"),
])
def test_invalid_annotation_values_are_errors_at_the_value(tmp_path, capsys, annotation, expected):
    ann = "    virtual-server.f5.com/ip: 10.1.1.1\n" if "/ip:" not in annotation else ""
    text = ingress("web", ann + "    " + annotation)
    text = text.replace("    kubernetes.io/ingress.class: f5\n", "    kubernetes.io/ingress.class: f5\n", 1)
    code, err = run_render(tmp_path, {"manifests/ing.yaml": text}, capsys)
    assert code == 2
    assert expected in err, err


def test_balance_typo_gets_nearest_mode_as_hint(tmp_path, capsys):
    text = ingress("web", "    virtual-server.f5.com/ip: 10.1.1.1\n    virtual-server.f5.com/balance: round-robbin")
    _code, err = run_render(tmp_path, {"manifests/ing.yaml": text}, capsys)
    assert "hint: did you mean 'round-robin'?" in err


def test_partition_common_in_config_is_refused(tmp_path, capsys):
    code, err = run_render(tmp_path, {"as3-gitops.yaml": "bigip:\n  partition: Common\n"}, capsys)
    assert code == 2
    assert "as3-gitops.yaml:2:14: error: bigip.partition: partition 'Common' is reserved" in err


def test_unknown_config_key_is_an_error_with_line(tmp_path, capsys):
    code, err = run_render(tmp_path, {"as3-gitops.yaml": "bigip:\n  partition: k8s\n  partitoin: x\n"}, capsys)
    assert code == 2
    assert "as3-gitops.yaml:3:3: error: unknown key 'bigip.partitoin' in as3-gitops.yaml [CFG002]" in err


def test_document_without_kind_is_not_kubernetes(tmp_path, capsys):
    code, err = run_render(tmp_path, {"manifests/x.yaml": "foo: bar\n"}, capsys)
    assert code == 2
    assert "manifests/x.yaml:1:1: error: not a Kubernetes object: missing or invalid apiVersion and kind [K8S001]" in err


def test_many_errors_are_all_reported_sorted(tmp_path, capsys):
    files = {
        "manifests/z.yaml": "kind: [\n",
        "manifests/a.yaml": ingress("a", "    virtual-server.f5.com/ip: nope"),
        "manifests/m.yaml": "just: text\n",
    }
    code, err = run_render(tmp_path, files, capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if ": error: " in line]
    assert [line.split(":")[0] for line in lines] == ["manifests/a.yaml", "manifests/m.yaml", "manifests/z.yaml"]
