"""Issue 16 item 13: findings stay machine-readable when the command fails (json, github, sarif),
GitHub's 10-annotation limit is respected with a notice of the totals, SARIF 2.1.0's required
fields are present, and JSON outputs of diff carry a format_version."""

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
    [finding] = json.loads(err)
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
