"""`as3-gitops ipam allocate` end to end: allocations are written to ipam-allocations.yaml, never move
when other resources come and go, a label without a range is an error, and render uses the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from renderer.cli import main
from renderer.render import render

CONFIG = "bigip:\n  partition: kubernetes\n  poolMemberType: nodeport\nipam:\n  Test: 10.9.0.0/29\n"
SVC = """apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  ports: [{name: http, port: 80, nodePort: 30080}]
"""


def _vs(name: str, host: str, label: str = "Test") -> str:
    return f"""apiVersion: cis.f5.com/v1
kind: VirtualServer
metadata: {{name: {name}}}
spec:
  host: {host}
  ipamLabel: {label}
  pools: [{{service: web, servicePort: 80}}]
"""


def _repo(tmp_path: Path, *hosts: str) -> Path:
    repo = tmp_path / "repo"
    (repo / "manifests").mkdir(parents=True, exist_ok=True)
    (repo / "as3-gitops.yaml").write_text(CONFIG)
    (repo / "manifests" / "svc.yaml").write_text(SVC)
    for old in (repo / "manifests").glob("vs-*.yaml"):
        old.unlink()
    for host in hosts:
        (repo / "manifests" / f"vs-{host}.yaml").write_text(_vs(host.split(".")[0], host))
    return repo


def _allocations(repo: Path) -> dict[str, str]:
    return yaml.safe_load((repo / "ipam-allocations.yaml").read_text())["allocations"]["Test"]


def test_allocate_writes_the_file_and_render_uses_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path, "b.com", "a.com")
    assert main(["ipam", "allocate", str(repo)]) == 0
    assert _allocations(repo) == {"default/a.com_host": "10.9.0.1", "default/b.com_host": "10.9.0.2"}
    assert "wrote" in capsys.readouterr().err
    app = render(repo).as3["declaration"]["kubernetes"]["Shared"]
    assert "crd_10_9_0_1_80" in app and "crd_10_9_0_2_80" in app
    assert main(["ipam", "allocate", str(repo)]) == 0
    assert "unchanged" in capsys.readouterr().err


def test_allocations_do_not_move_when_resources_come_and_go(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "m.com", "n.com")
    assert main(["ipam", "allocate", str(repo)]) == 0
    first = _allocations(repo)
    _repo(tmp_path, "a.com", "m.com", "n.com")  # a.com sorts first: it must not take m.com's address
    assert main(["ipam", "allocate", str(repo)]) == 0
    second = _allocations(repo)
    assert {k: second[k] for k in first} == first and second["default/a.com_host"] == "10.9.0.3"
    _repo(tmp_path, "a.com", "n.com")
    assert main(["ipam", "allocate", str(repo)]) == 0
    assert _allocations(repo) == {"default/a.com_host": "10.9.0.3", "default/n.com_host": first["default/n.com_host"]}


def test_label_without_range_is_an_error_and_writes_nothing(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path)
    (repo / "manifests" / "vs-x.yaml").write_text(_vs("x", "x.com", label="Prod"))
    assert main(["ipam", "allocate", str(repo)]) == 2
    assert "manifests/vs-x.yaml:1:1: error: VirtualServer default/x: ipamLabel 'Prod' has no range" in \
        capsys.readouterr().err
    assert not (repo / "ipam-allocations.yaml").exists()
    assert [f.code for f in render(repo).findings if f.is_error] == ["CRD061"]


def test_render_without_allocation_says_which_command_to_run(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "a.com")
    [finding] = [f for f in render(repo).findings if f.is_error]
    assert (finding.code, finding.location.line) == ("CRD007", 6)
    assert "ipam allocate" in (finding.hint or "")


def test_exhausted_range_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path, *[f"h{i}.com" for i in range(7)])  # a /29 has 6 host addresses
    assert main(["ipam", "allocate", str(repo)]) == 2
    assert "[CRD063]" in capsys.readouterr().err


def test_ipam_command_runs_as_installed_entry_point(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "a.com")
    proc = subprocess.run([sys.executable, "-m", "renderer", "ipam", "allocate", str(repo)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert _allocations(repo) == {"default/a.com_host": "10.9.0.1"}
