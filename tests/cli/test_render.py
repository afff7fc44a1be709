"""`as3-gitops render` end to end: files, stdout, git refs, determinism, the installed wheel."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from renderer.cli import main

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello-world"
GOLDEN_AS3 = ROOT / "tests" / "render" / "hello-world-expected" / "as3.json"
_IDENTITY = re.compile(r'"(id|remark)": "as3-gitops[- ]([0-9a-f]{12}|[0-9a-f]{40}|working[- ]tree)"')


def without_identity(text: str) -> str:
    """The declaration without its id/remark: HELLO in this checkout is its commit when the checkout is
    clean and "working tree" while it is being edited (the golden file is the working-tree render)."""
    return _IDENTITY.sub(r'"\1": "X"', text)


@pytest.fixture(autouse=True)
def _schema_env(monkeypatch: pytest.MonkeyPatch, as3_schema_path: Path) -> None:
    monkeypatch.setenv("AS3_SCHEMA", str(as3_schema_path))


def test_render_writes_as3_and_net_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["render", str(HELLO), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["as3.json", "net.json"]
    assert f"wrote {out / 'as3.json'}" in err
    assert without_identity((out / "as3.json").read_text()) == without_identity(GOLDEN_AS3.read_text())


def test_render_dash_prints_the_declaration(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(HELLO), "-o", "-"]) == 0
    assert without_identity(capsys.readouterr().out) == without_identity(GOLDEN_AS3.read_text())


def test_two_renders_are_byte_identical(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert main(["render", str(HELLO), "-o", str(tmp_path / name)]) == 0
    for file in ("as3.json", "net.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
        assert (tmp_path / "a" / file).read_bytes().endswith(b"}\n")


def test_render_of_a_ref_equals_render_of_the_checked_out_tree(make_repo, tmp_path: Path) -> None:
    repo = make_repo(HELLO)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo.path, capture_output=True, text=True).stdout.strip()
    # change the working tree after the commit: --ref must not see it, nor touch it
    (repo.path / "manifests" / "vs-01.yaml").write_text("garbage: [\n")
    assert main(["render", str(repo.path), "--ref", "HEAD", "-o", str(tmp_path / "from-ref")]) == 0
    assert (repo.path / "manifests" / "vs-01.yaml").read_text() == "garbage: [\n"
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=repo.path, check=True)
    assert main(["render", str(repo.path), "-o", str(tmp_path / "from-tree")]) == 0
    ref_as3 = (tmp_path / "from-ref" / "as3.json").read_text()
    assert f'"id": "as3-gitops-{sha[:12]}"' in ref_as3
    assert f'"remark": "as3-gitops {sha}"' in ref_as3
    # a clean checkout is its commit (like `git describe --dirty`): byte for byte the render of HEAD
    assert (tmp_path / "from-tree" / "as3.json").read_text() == ref_as3
    # an untracked or edited file makes it the working tree
    (repo.path / "manifests" / "extra.yaml").write_text("# nothing yet\n")
    assert main(["render", str(repo.path), "-o", str(tmp_path / "dirty")]) == 0
    dirty_as3 = (tmp_path / "dirty" / "as3.json").read_text()
    assert ref_as3.replace(sha, "working tree").replace(sha[:12], "working-tree") == dirty_as3


def test_unknown_ref_is_a_clean_error(make_repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(HELLO)
    assert main(["render", str(repo.path), "--ref", "no-such-branch", "-o", str(tmp_path / "o")]) == 2
    assert "unknown git ref 'no-such-branch'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_emit_bigip_node_writes_the_flannel_node(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["render", str(HELLO), "-o", str(out), "--emit-bigip-node"]) == 0
    import yaml

    node = yaml.safe_load((out / "bigip-node.yaml").read_text())
    assert node["metadata"]["name"] == "bigip"
    assert node["metadata"]["annotations"]["flannel.alpha.coreos.com/backend-data"] == '{"VtepMAC":"2c:c2:60:23:0c:58"}'
    assert node["metadata"]["annotations"]["flannel.alpha.coreos.com/public-ip"] == "192.168.1.254"
    assert node["spec"] == {"podCIDR": "10.10.30.0/24"}


def test_emit_bigip_node_without_vtep_mac_is_an_error(tmp_path: Path, capsys) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(HELLO, repo)
    cfg = repo / "as3-gitops.yaml"
    cfg.write_text(cfg.read_text().replace('  vtepMAC: "2c:c2:60:23:0c:58"\n', ""))
    assert main(["render", str(repo), "-o", str(tmp_path / "out"), "--emit-bigip-node"]) == 2
    assert "--emit-bigip-node needs vxlan.vtepMAC" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_python_dash_m_runs_the_same_cli(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "renderer", "render", str(HELLO), "-o", "-"],
                          capture_output=True, text=True, env={**os.environ})
    assert proc.returncode == 0, proc.stderr
    assert without_identity(proc.stdout) == without_identity(GOLDEN_AS3.read_text())


@pytest.mark.slow
def test_wheel_contains_templates_and_schemas_and_renders_the_example(
    tmp_path: Path, built_wheel: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """Build the wheel, install it into a fresh venv (no editable paths), render the example."""
    build, dist = built_wheel
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    wheel = next(dist.glob("*.whl"))
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    assert "renderer/templates/as3/declaration.json.j2" in names
    assert "renderer/schemas/net.schema.json" in names
    assert "renderer/schemas/config.schema.json" in names
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(env_dir)
    site = subprocess.run([str(env_dir / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # dependencies come from this interpreter's site-packages; the project itself only from the wheel
    deps = [p for p in sys.path if p.endswith("site-packages")]
    Path(site, "deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "--version"], capture_output=True)
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([str(env_dir / "bin" / "python"), "-c",
                           "import renderer, sys; print(renderer.__file__); from renderer.cli import main; "
                           "sys.exit(main(sys.argv[1:]))",
                           "render", str(HELLO), "-o", str(work / "out")],
                          capture_output=True, text=True, cwd=work, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith(site), "the renderer must come from the installed wheel"
    assert without_identity((work / "out" / "as3.json").read_text()) == without_identity(GOLDEN_AS3.read_text())
