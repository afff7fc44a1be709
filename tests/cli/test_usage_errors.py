"""Issue 16 items 5 and 7: output-path mistakes and a folder without as3-gitops.yaml are usage
errors (exit 2, one message), never "internal error"; `render -o FILE.json` names the AS3 file."""

from __future__ import annotations

import shutil
from pathlib import Path

from cli_capture import _schema_env, cli  # noqa: F401 (_schema_env is autouse)

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello-world"


def test_render_o_file_json_writes_the_as3_file_and_says_where_net_went(tmp_path: Path) -> None:
    code, _, err = cli(["render", str(HELLO), "-o", str(tmp_path / "out" / "prod.json")])
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["net.json", "prod.json"]
    assert '"class": "AS3"' in (tmp_path / "out" / "prod.json").read_text()
    assert f"wrote {tmp_path / 'out' / 'net.json'} (the net declaration" in err


def test_render_o_as3_json_is_a_file_not_a_folder(tmp_path: Path) -> None:
    code, _, err = cli(["render", str(HELLO), "-o", str(tmp_path / "as3.json")])
    assert code == 0, err
    assert (tmp_path / "as3.json").is_file() and (tmp_path / "net.json").is_file()


def test_render_o_naming_an_existing_file_is_a_usage_error(tmp_path: Path) -> None:
    existing = tmp_path / "notes.txt"
    existing.write_text("mine\n")
    code, _, err = cli(["render", str(HELLO), "-o", str(existing)])
    assert code == 2
    assert f"-o {existing}: is a file; -o names a folder" in err
    assert existing.read_text() == "mine\n"


def test_render_o_below_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    code, _, err = cli(["render", str(HELLO), "-o", str(tmp_path / "f" / "out")])
    assert code == 2 and f"{tmp_path / 'f'} is a file, not a folder" in err
    assert "internal error" not in err


def test_diff_output_below_a_file_is_a_usage_error(make_repo, tmp_path: Path) -> None:
    repo = make_repo(HELLO)
    (tmp_path / "f").write_text("x")
    code, _, err = cli(["diff", str(repo.path), "--base", "HEAD", "-o", str(tmp_path / "f" / "x")])
    assert code == 2 and "--output" in err and "is a file, not a folder" in err
    code, _, err = cli(["diff", str(repo.path), "--base", "HEAD", "-o", str(tmp_path)])
    assert code == 2 and "is a folder" in err


def test_deploy_report_path_mistake_is_found_before_the_device_is_touched(bigip_emulator, make_repo, monkeypatch,
                                                                           tmp_path: Path) -> None:
    monkeypatch.setenv("BIGIP_USERNAME", bigip_emulator.username)
    monkeypatch.setenv("BIGIP_PASSWORD", bigip_emulator.password)
    repo = make_repo(HELLO)
    (tmp_path / "f").write_text("x")
    code, _, err = cli(["deploy", str(repo.path), "--host", bigip_emulator.url, "--report", str(tmp_path / "f" / "r")])
    assert code == 2 and "--report" in err
    assert bigip_emulator.control.state()["requestLog"] == []


def test_a_folder_without_as3_gitops_yaml_says_so(tmp_path: Path) -> None:
    (tmp_path / "repo" / "docs").mkdir(parents=True)  # neither as3-gitops.yaml nor manifests/: the wrong folder
    code, _, err = cli(["render", str(tmp_path / "repo"), "-o", "-"])
    assert code == 2
    assert f"error: no as3-gitops.yaml in {tmp_path / 'repo'} (is this the configuration repository?) [CFG005]" in err
    assert "as3-gitops.yaml:" not in err  # no finding located in a file that does not exist


def test_manifests_without_as3_gitops_yaml_use_the_defaults_with_a_warning(tmp_path: Path) -> None:
    shutil.copytree(HELLO, tmp_path / "repo")
    (tmp_path / "repo" / "as3-gitops.yaml").unlink()
    code, _, err = cli(["render", str(tmp_path / "repo"), "-o", "-"])
    assert code == 2  # hello-world needs its vxlan: settings; the defaults are cluster mode without them
    assert (f"warning: no as3-gitops.yaml in {tmp_path / 'repo'} (is this the configuration repository?); "
            "using the defaults [CFG005]") in err
