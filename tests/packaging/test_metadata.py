"""Issue 16 item 14: packaging as the ecosystem expects it. The built wheel carries the Apache-2.0
LICENSE and an SPDX License-Expression, classifiers, py.typed, the templates package and the pytest
plugin entry point; the build prints no setuptools warning; the version has one source."""

from __future__ import annotations

import hashlib
import subprocess
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import renderer

ROOT = Path(__file__).resolve().parents[2]
# md5 of https://www.apache.org/licenses/LICENSE-2.0.txt, as shipped unchanged by many packages
APACHE_2_0_MD5 = "3b83ef96387f14655fc854ddc3c6bd57"


def test_the_license_file_is_the_apache_2_0_text() -> None:
    assert hashlib.md5((ROOT / "LICENSE").read_bytes()).hexdigest() == APACHE_2_0_MD5


def test_pyproject_uses_the_spdx_expression_and_one_version_source() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert "version" in project["dynamic"] and "version" not in project
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # forbidden with an expression


@pytest.mark.slow
def test_the_wheel_has_license_types_templates_and_the_pytest_plugin(
    built_wheel: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    build, dist = built_wheel
    assert build.returncode == 0, build.stderr[-2000:]
    noise = "byte-compiling is disabled"  # PYTHONDONTWRITEBYTECODE in the environment, not setuptools
    warnings = [line for line in (build.stdout + build.stderr).splitlines()
                if ("warn" in line.lower() or "deprecat" in line.lower()) and noise not in line]
    assert warnings == []
    wheel = zipfile.ZipFile(next(dist.glob("*.whl")))
    names = set(wheel.namelist())
    dist_info = f"as3_gitops-{renderer.__version__}.dist-info"
    assert f"{dist_info}/licenses/LICENSE" in names
    assert {"renderer/py.typed", "renderer/templates/as3/pool.json.j2", "renderer/schemas/config.schema.json"} <= names
    meta = Parser().parsestr(wheel.read(f"{dist_info}/METADATA").decode())
    assert meta["License-Expression"] == "Apache-2.0" and meta["Version"] == renderer.__version__
    assert "Typing :: Typed" in meta.get_all("Classifier")
    entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
    assert "[pytest11]\nrenderer.emulator.pytest_plugin = renderer.emulator.pytest_plugin" in entry_points
