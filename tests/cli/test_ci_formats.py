"""Issue 16 item 13: findings stay machine-readable when the command fails (json, github, sarif),
GitHub's 10-annotation limit is respected with a notice of the totals, SARIF 2.1.0's required
fields are present, and the JSON outputs (findings of render and validate, diff) carry a format_version."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from cli_capture import _schema_env, cli  # noqa: F401 (_schema_env is autouse)

from renderer.errors import Finding, Severity, SourceLocation
from renderer.report import GITHUB_ANNOTATION_LIMIT, write_findings

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello-world"


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(HELLO, repo)
    (repo / "manifests" / "bad.yaml").write_text("kind: Ingress\nmetadata: [x\n")
    return repo


def test_a_failed_render_in_json_is_json(broken: Path, tmp_path: Path) -> None:
    code, _, err = cli(["render", str(broken), "--format", "json", "-o", str(tmp_path / "o")])
    assert code == 2
    document = json.loads(err)
    assert (document["format_version"], document["summary"]) == (1, {"error": 1, "warning": 0, "info": 0})
    [finding] = document["findings"]
    assert (finding["code"], finding["file"], finding["line"]) == ("SRC001", "manifests/bad.yaml", 3)


def test_a_failed_render_under_github_is_an_annotation(broken: Path, tmp_path: Path) -> None:
    code, _, err = cli(["render", str(broken), "--format", "github", "-o", str(tmp_path / "o")])
    assert code == 2
    assert err.startswith("::error file=manifests/bad.yaml,line=3,col=1,title=SRC001::invalid YAML")
    code, _, err = cli(["render", str(tmp_path / "nope"), "--format", "github"])
    assert code == 2 and err.startswith("::error title=SRC000::")


def test_github_annotations_stop_at_the_limit_and_a_notice_gives_the_totals() -> None:
    findings = [Finding("ANN002", f"bad value {i}", SourceLocation(f"m/{i:02}.yaml", 1, 1)) for i in range(13)]
    findings.append(Finding("ING030", "no endpoints", SourceLocation("m/x.yaml", 2, 1), Severity.WARNING))
    out = io.StringIO()
    write_findings(findings, out, "github")
    lines = out.getvalue().splitlines()
    assert sum(line.startswith("::error ") for line in lines) == GITHUB_ANNOTATION_LIMIT
    assert sum(line.startswith("m/1") and ": error: " in line for line in lines) == 3  # the rest, as log lines
    assert lines[-1].startswith("::notice title=as3-gitops::13 error(s), 1 warning(s) in total;")


def test_sarif_has_the_fields_sarif_2_1_0_requires(broken: Path) -> None:
    code, out, _ = cli(["validate", str(broken), "--format", "sarif"])
    assert code == 2
    log = json.loads(out)
    assert log["version"] == "2.1.0" and isinstance(log["runs"], list)  # sarifLog: version, runs
    [run] = log["runs"]
    driver = run["tool"]["driver"]  # run: tool; tool: driver; toolComponent: name
    assert driver["name"] == "as3-gitops"
    assert [rule["id"] for rule in driver["rules"]] == ["SRC001"]  # reportingDescriptor: id
    [result] = run["results"]
    assert result["message"]["text"].startswith("invalid YAML")  # result: message (with text)
    assert result["level"] == "error" and result["ruleId"] == "SRC001"
    physical = result["locations"][0]["physicalLocation"]
    assert physical == {"artifactLocation": {"uri": "manifests/bad.yaml"}, "region": {"startLine": 3, "startColumn": 1}}


def test_diff_json_carries_a_format_version(make_repo) -> None:
    repo = make_repo(HELLO)
    code, out, err = cli(["diff", str(repo.path), "--base", "HEAD", "--format", "json"])
    assert code == 0, err
    assert json.loads(out)["format_version"] == 1


SUMMARY_KEYS = {"error", "warning", "info"}


def test_render_json_is_one_versioned_document_on_stderr(tmp_path: Path) -> None:
    code, out, err = cli(["render", str(HELLO), "--format", "json", "-o", str(tmp_path / "o")])
    assert code == 0 and out == ""
    document = json.loads(err)  # the whole of stderr: no `wrote` or count lines beside it
    assert document == {"format_version": 1, "findings": [], "summary": {"error": 0, "warning": 0, "info": 0},
                        "objects": {"rendered": 2, "skipped": 0}}
    assert (tmp_path / "o" / "as3.json").is_file() and (tmp_path / "o" / "net.json").is_file()
    code, _, err = cli(["render", str(HELLO), "--format", "sarif", "-o", str(tmp_path / "o")])
    assert code == 0 and json.loads(err)["version"] == "2.1.0"
    code, _, err = cli(["render", str(HELLO), "--format", "text", "-o", str(tmp_path / "o")])
    assert code == 0 and err.endswith("wrote " + str(tmp_path / "o" / "net.json") + "\n2 objects rendered, 0 skipped\n")


def test_a_failed_render_in_json_is_one_document(broken: Path, tmp_path: Path) -> None:
    code, _, err = cli(["render", str(broken), "--format", "json", "-o", str(tmp_path / "o")])
    assert code == 2
    document = json.loads(err)
    assert set(document) == {"format_version", "findings", "summary"}  # no objects: nothing rendered
    assert document["summary"]["error"] == len([f for f in document["findings"] if f["severity"] == "error"]) == 1


def test_validate_json_counts_findings_and_a_failing_command_stays_on_stdout(broken: Path, tmp_path: Path) -> None:
    code, out, _ = cli(["validate", str(broken), "--format", "json"])
    document = json.loads(out)
    assert code == 2 and document["format_version"] == 1 and set(document["summary"]) == SUMMARY_KEYS
    assert document["summary"]["error"] == 1 and document["findings"][0]["code"] == "SRC001"
    code, out, err = cli(["validate", str(tmp_path / "nope"), "--format", "json"])
    assert code == 2 and err == ""  # the error that ends the command is where the findings are read
    [finding] = json.loads(out)["findings"]
    assert finding["code"] == "SRC000" and finding["file"] is None
    code, out, err = cli(["validate", str(tmp_path / "nope"), "--format", "github"])
    assert code == 2 and out.startswith("::error title=SRC000::")
    code, out, err = cli(["validate", str(tmp_path / "nope"), "--format", "text"])
    assert code == 2 and out == "" and "not a directory" in err  # text: errors stay on stderr


def test_validate_json_from_a_real_process_is_parsed_by_a_consumer(tmp_path: Path) -> None:
    """What a CI step does: run the installed CLI, read stdout as the versioned document."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "renderer", "validate", str(HELLO), "--format", "json"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["format_version"] == 1 and document["findings"] == []
    assert document["objects"] == {"rendered": 2, "skipped": 0}
    assert run.stderr.splitlines() == ["0 error(s), 0 warning(s)", "2 objects rendered, 0 skipped"]
