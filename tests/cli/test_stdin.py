"""Issue 16 item 11: `kustomize build . | as3-gitops render -` (the manifests from stdin, the config
and snapshot from the current folder) and `validate --declaration -`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello-world"
SCRIPT = Path(sys.executable).parent / "as3-gitops"


@pytest.fixture
def env(as3_schema_path: Path) -> dict[str, str]:
    return {**os.environ, "AS3_SCHEMA": str(as3_schema_path)}


def stream() -> bytes:
    """What `kustomize build` prints: the manifests as one YAML stream."""
    return b"".join(b"---\n" + p.read_bytes() for p in sorted((HELLO / "manifests").glob("*.yaml")))


def run(args: list[str], data: bytes, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], input=data, capture_output=True, env=env, cwd=cwd, timeout=300)


def test_render_dash_reads_the_manifest_stream_and_the_snapshot_from_the_folder(env, tmp_path: Path) -> None:
    piped = run(["render", "-", "-o", "-"], stream(), env, HELLO)
    assert piped.returncode == 0, piped.stderr.decode()
    files = run(["render", ".", "-o", str(tmp_path / "o")], b"", env, HELLO)
    assert files.returncode == 0, files.stderr.decode()
    from_stdin = json.loads(piped.stdout)
    from_files = json.loads((tmp_path / "o" / "as3.json").read_text())
    from_stdin["declaration"].pop("id"), from_files["declaration"].pop("id")
    from_stdin["declaration"].pop("remark"), from_files["declaration"].pop("remark")
    assert from_stdin == from_files  # the same declaration; only the identity differs (stdin has no commit)


def test_render_dash_findings_point_into_the_stream(env) -> None:
    bad = stream() + b"---\nkind: Ingress\nmetadata: [x\n"
    piped = run(["render", "-", "-o", "-"], bad, env, HELLO)
    assert piped.returncode == 2
    assert b"<stdin>:" in piped.stderr and b"[SRC001]" in piped.stderr


def test_render_dash_with_ref_is_a_usage_error(env) -> None:
    piped = run(["render", "-", "--ref", "HEAD", "-o", "-"], stream(), env, HELLO)
    assert piped.returncode == 2 and b"--ref and REPO '-' cannot be combined" in piped.stderr


def test_validate_declaration_dash_reads_stdin(env, tmp_path: Path) -> None:
    body = {"class": "ADC", "schemaVersion": "3.56.0", "T": {"class": "Tenant", "A": {"class": "Application", "p": {
        "class": "Pool", "members": [{"servicePort": 70000, "serverAddresses": ["10.0.0.1"]}]}}}}
    piped = run(["validate", "--declaration", "-"], json.dumps(body, indent=1).encode(), env, tmp_path)
    assert piped.returncode == 2
    assert piped.stdout.decode().startswith("<stdin>:")
    assert "servicePort: should be <= 65535" in piped.stdout.decode()


def test_validate_declaration_of_a_net_json_uses_the_net_schema(env, tmp_path: Path) -> None:
    """Item 15: `validate --declaration out/net.json` judges render's net declaration by schemas/net.schema.json."""
    out = run(["render", ".", "-o", str(tmp_path / "out")], b"", env, HELLO)
    assert out.returncode == 0, out.stderr.decode()
    no_schema = {k: v for k, v in env.items() if k != "AS3_SCHEMA"}  # the AS3 schema is not needed for it
    good = run(["validate", "--declaration", str(tmp_path / "out" / "net.json")], b"", no_schema, tmp_path)
    assert good.returncode == 0, good.stdout.decode() + good.stderr.decode()
    net = json.loads((tmp_path / "out" / "net.json").read_text())
    net["tunnel"]["key"] = "one"
    (tmp_path / "bad.json").write_text(json.dumps(net, indent=2))
    bad = run(["validate", "--declaration", str(tmp_path / "bad.json")], b"", no_schema, tmp_path)
    assert bad.returncode == 2
    assert "net declaration invalid at /tunnel/key: should be integer [NET100]" in bad.stdout.decode()


def test_validate_declaration_dash_of_a_net_json_uses_the_net_schema(env, tmp_path: Path) -> None:
    """`cat out/net.json | as3-gitops validate --declaration -` is judged like the file (it was judged
    as AS3 and refused: "/class: should be equal to constant AS3")."""
    out = run(["render", ".", "-o", str(tmp_path / "out")], b"", env, HELLO)
    assert out.returncode == 0, out.stderr.decode()
    no_schema = {k: v for k, v in env.items() if k != "AS3_SCHEMA"}
    body = (tmp_path / "out" / "net.json").read_bytes()
    good = run(["validate", "--declaration", "-"], body, no_schema, tmp_path)
    assert good.returncode == 0, good.stdout.decode() + good.stderr.decode()
    net = json.loads(body)
    net["tunnel"]["key"] = "one"
    bad = run(["validate", "--declaration", "-", "--format", "json"], json.dumps(net).encode(), no_schema, tmp_path)
    assert bad.returncode == 2
    [finding] = json.loads(bad.stdout)["findings"]
    assert (finding["file"], finding["code"]) == ("<stdin>", "NET100")
    assert finding["message"] == "net declaration invalid at /tunnel/key: should be integer"
