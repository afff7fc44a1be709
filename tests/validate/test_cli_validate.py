"""`as3-gitops validate` end to end: exit codes, golden github/json output, --declaration, no schema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from renderer.cli import main

from .conftest import HELLO_WORLD, REPO_ROOT, schema_path

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
OVERLAY = HERE / "fixtures" / "lb-mode-typo"


@pytest.fixture(autouse=True)
def _schema_env(monkeypatch: pytest.MonkeyPatch) -> None:
    if not schema_path().is_file():
        pytest.skip(f"official AS3 schema not found at {schema_path()} (set AS3_SCHEMA)")
    monkeypatch.setenv("AS3_SCHEMA", str(schema_path()))


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def hello_world(tmp_path: Path) -> Path:
    repo = tmp_path / "hello-world"
    shutil.copytree(HELLO_WORLD, repo)
    return repo


def lb_mode_typo(tmp_path: Path) -> Path:
    """hello-world plus a user pool template that writes an AS3-unknown loadBalancingMode."""
    repo = hello_world(tmp_path)
    shutil.copytree(OVERLAY, repo, dirs_exist_ok=True)
    builtin = (REPO_ROOT / "templates" / "as3" / "pool.json.j2").read_text()
    needle = '"loadBalancingMode": {{ pool.balance|tojson }}'
    assert needle in builtin, "the built-in pool template changed; update this fixture"
    (repo / "tpl").mkdir()
    (repo / "tpl" / "pool.json.j2").write_text(builtin.replace(needle, '"loadBalancingMode": "least-connections"'))
    with (repo / "as3-gitops.yaml").open("a") as fh:
        fh.write("templates: tpl\n")
    return repo


@pytest.fixture
def check_golden(update_golden: bool):
    """Compare with tests/validate/golden/<name>; `pytest --update-golden` rewrites it."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update_golden:
            path.write_text(text)
        assert text == path.read_text()

    return check


def test_valid_repository_exits_0_and_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["validate", str(hello_world(tmp_path)), "--format", "text"], capsys)
    assert (code, out, err) == (0, "", "0 error(s), 0 warning(s)\n2 objects rendered, 0 skipped\n")


def test_schema_error_exits_2_with_golden_github_output(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       check_golden) -> None:
    code, out, err = run(["validate", str(lb_mode_typo(tmp_path)), "--format", "github"], capsys)
    assert code == 2
    assert err == "2 error(s), 1 warning(s)\n2 objects rendered, 0 skipped\n"
    check_golden("lb-mode-typo.github.txt", out)


def test_schema_error_exits_2_with_golden_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     check_golden) -> None:
    code, out, _err = run(["validate", str(lb_mode_typo(tmp_path)), "--format", "json"], capsys)
    assert code == 2
    check_golden("lb-mode-typo.json", out)
    findings = json.loads(out)["findings"]
    # the Ingress's balance annotation, the ConfigMap's data.data: the lines a person edits
    assert [(f["file"], f["line"], f["col"], f["code"], f["severity"]) for f in findings] == [
        ("manifests/vs-01.yaml", 10, 36, "AS3002", "error"),
        ("manifests/vs-02-configmap.yaml", 12, 9, "AS3002", "error"),
        ("snapshot/orphan-endpoints.yaml", 2, 1, "SNAP002", "warning"),
    ]


def test_auto_format_is_github_under_github_actions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, _err = run(["validate", str(lb_mode_typo(tmp_path))], capsys)
    assert code == 2
    assert out == (GOLDEN / "lb-mode-typo.github.txt").read_text()


def test_validate_reads_a_git_ref_without_touching_the_work_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make_repo
) -> None:
    repo = make_repo(lb_mode_typo(tmp_path))
    shutil.rmtree(repo.path / "tpl")  # the working tree is fixed; the commit is not
    config = repo.path / "as3-gitops.yaml"
    config.write_text(config.read_text().replace("templates: tpl\n", ""))  # a missing folder is CFG006
    code, out, _ = run(["validate", str(repo.path), "--ref", "HEAD", "--format", "json"], capsys)
    assert code == 2 and [f["code"] for f in json.loads(out)["findings"]] == ["AS3002", "AS3002", "SNAP002"]
    code, _out, _ = run(["validate", str(repo.path), "--format", "json"], capsys)
    assert code == 0


def test_input_lint_errors_are_printed_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = hello_world(tmp_path)
    (repo / "manifests" / "broken.yaml").write_text("kind: [unclosed\n")
    code, out, _ = run(["validate", str(repo), "--format", "json"], capsys)
    assert code == 2
    assert [(f["file"], f["line"], f["severity"]) for f in json.loads(out)["findings"]] == [("manifests/broken.yaml", 2, "error")]


def test_no_schema_anywhere_is_exit_2_with_how_to_provide_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AS3_SCHEMA")
    code, _out, err = run(["validate", str(hello_world(tmp_path)), "--as3-schema", str(tmp_path / "none.json")],
                          capsys)
    assert code == 2
    assert err.startswith(f"error: {tmp_path / 'none.json'}: AS3 schema not found (from --as3-schema)\n  hint: ")


def test_bad_format_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(["validate", str(hello_world(tmp_path)), "--format", "xml"], capsys)
    assert code == 2 and err.startswith("error: unknown --format 'xml'")


DECLARATION = """{
  "class": "AS3",
  "action": "deploy",
  "declaration": {
    "class": "ADC",
    "schemaVersion": "3.56.0",
    "T1": {
      "class": "Tenant",
      "app": {
        "class": "Application",
        "svc": {"class": "Service_HTTP", "virtualAddresses": ["10.0.0.999"], "pool": "web_pool"},
        "web_pool": {
          "class": "Pool",
          "members": [{"servicePort": 70000, "serverAddresses": ["10.1.0.1"]}]
        }
      }
    }
  }
}
"""


def test_declaration_file_errors_point_at_line_and_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "as3.json"
    path.write_text(DECLARATION)
    code, out, err = run(["validate", "--declaration", str(path), "--format", "text"], capsys)
    assert code == 2
    assert out == (
        f'{path}:11:63: error: AS3 rejects /declaration/T1/app/svc/virtualAddresses/0: should match format "f5ip" '
        '(got "10.0.0.999") [AS3004]\n'
        f"{path}:14:39: error: AS3 rejects /declaration/T1/app/web_pool/members/0/servicePort: should be <= 65535 "
        "(got 70000) [AS3003]\n"
    )
    assert err == "2 error(s), 0 warning(s)\n"


def test_declaration_file_that_is_valid_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "as3.json"
    path.write_text(DECLARATION.replace("10.0.0.999", "10.0.0.9").replace("70000", "80"))
    assert run(["validate", "--declaration", str(path)], capsys) == (0, "", "0 error(s), 0 warning(s)\n")


def test_declaration_file_with_broken_json_is_an_error_at_its_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "as3.json"
    path.write_text('{\n  "class": "ADC",\n  "x": }\n')
    code, out, _ = run(["validate", "--declaration", str(path), "--format", "json"], capsys)
    assert code == 2
    assert json.loads(out) == {"format_version": 1, "summary": {"error": 1, "warning": 0, "info": 0}, "findings": [
        {"code": "SRC001", "col": 8, "file": str(path), "hint": None, "line": 3,
         "message": "invalid JSON: Expecting value", "severity": "error"}]}


def test_declaration_file_with_a_byte_order_mark_is_refused_as_as3_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "as3.json"
    path.write_bytes(b"\xef\xbb\xbf" + DECLARATION.replace("10.0.0.999", "10.0.0.9").replace("70000", "80").encode())
    code, out, _ = run(["validate", "--declaration", str(path), "--format", "text"], capsys)
    assert code == 2
    assert out.startswith(f"{path}:1:1: error: invalid JSON: the file starts with a UTF-8 byte order mark (BOM)")
    assert out.rstrip().endswith("[SRC001]")


def test_declaration_file_warns_about_a_loose_ipv6_address_and_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "as3.json"
    path.write_text(DECLARATION.replace("10.0.0.999", "2001:db8::1::2").replace("70000", "80"))
    code, out, err = run(["validate", "--declaration", str(path), "--format", "text"], capsys)
    assert code == 0
    assert out == (f"{path}:11:63: warning: AS3 accepts /declaration/T1/app/svc/virtualAddresses/0 but it is not a "
                   "valid IPv6 address (AS3's f5ip pattern lets it through; BIG-IP will not take it) [AS3019]\n")
    assert err == "0 error(s), 1 warning(s)\n"


def test_installed_entry_point_validates_in_a_subprocess(tmp_path: Path) -> None:
    repo = lb_mode_typo(tmp_path)
    env = {**os.environ, "AS3_SCHEMA": str(schema_path())}
    proc = subprocess.run([sys.executable, "-m", "renderer", "validate", str(repo), "--format", "github"],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 2
    assert proc.stdout == (GOLDEN / "lb-mode-typo.github.txt").read_text()
