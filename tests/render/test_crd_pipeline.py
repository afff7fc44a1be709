"""The rest of the pipeline knows the custom resources: `diff` attributes changed objects to the CRD
file (and the Policy / TLSProfile that shaped them), private keys from TLSProfile Secrets are redacted,
and `validate` maps an AS3 error back to the CRD field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from renderer.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom-resources"


@pytest.fixture(autouse=True)
def _schema_env(monkeypatch: pytest.MonkeyPatch, as3_schema_path: Path) -> None:
    monkeypatch.setenv("AS3_SCHEMA", str(as3_schema_path))


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_diff_attributes_changes_to_the_custom_resource_files(make_repo, capsys) -> None:
    repo = make_repo(EXAMPLE)
    cafe = (repo.path / "manifests" / "cafe.yaml").read_text()
    repo.commit({"manifests/cafe.yaml": cafe.replace("persistenceProfile: source-address",
                                                     "persistenceProfile: destination-address")
                 .replace("path: /coffee", "path: /espresso")})
    code, out, _err = _run(capsys, "diff", str(repo.path), "--base", "HEAD~1", "--head", "HEAD", "--format", "json")
    assert code == 0
    changes = json.loads(out)["changes"]
    by_name = {c["name"]: c for c in changes}
    https = by_name["crd_10_1_10_50_443"]
    assert {(s["path"], s["kind"], s["name"]) for s in https["sources"]} == {
        ("manifests/cafe.yaml", "VirtualServer", "coffee"), ("manifests/cafe.yaml", "VirtualServer", "tea"),
        ("manifests/cafe.yaml", "Policy", "cafe-policy"), ("manifests/cafe.yaml", "TLSProfile", "cafe-edge")}
    assert [p["path"] for p in https["properties"]] == ["persistenceMethods"]
    added = by_name["coffee_80_cafe_coffee_example_com_espresso"]
    assert added["kind"] == "added" and ("manifests/cafe.yaml", 22) in {(s["path"], s["line"]) for s in added["sources"]}


def test_diff_redacts_keys_of_tlsprofile_secrets(make_repo, capsys) -> None:
    repo = make_repo(EXAMPLE)
    secret = (repo.path / "manifests" / "secret.yaml").read_text()
    import base64

    new_key = base64.b64encode(b"-----BEGIN PRIVATE KEY-----\nMIIBanotherExampleKey\n-----END PRIVATE KEY-----\n")
    line = next(x for x in secret.splitlines() if x.strip().startswith("tls.key:"))
    repo.commit({"manifests/secret.yaml": secret.replace(line, f"  tls.key: {new_key.decode()}")})
    for fmt in ("json", "text", "markdown"):
        code, out, _err = _run(capsys, "diff", str(repo.path), "--base", "HEAD~1", "--head", "HEAD", "--format", fmt)
        assert code == 0
        assert "MIIBanotherExampleKey" not in out and "MIIBexampleCafeKeyNotSecret" not in out
        assert "redacted" in out


def test_validate_maps_an_as3_error_to_the_custom_resource_field(tmp_path: Path, capsys) -> None:
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    pg = repo / "manifests" / "postgres.yaml"
    pg.write_text(pg.read_text().replace("interval: 10, timeout: 31", "interval: 999999, timeout: 31"))
    code, out, err = _run(capsys, "validate", str(repo), "--format", "text")
    assert code == 2
    lines = [x for x in (out + err).splitlines() if ": error: " in x]
    assert lines and all(x.startswith("manifests/postgres.yaml:13:") for x in lines), err
