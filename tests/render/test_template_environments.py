"""The built-in templates run unsandboxed; the same templates in the sandbox give the same bytes.

`renderer.as3` renders its own templates in a plain Jinja2 Environment and a repository's
`templates:` folder in the budgeted sandbox. Both are rendered here over every golden case, the
examples and generated repositories: (1) the built-in templates through the sandbox class and
(2) a repository whose `templates:` folder is a copy of the built-in templates (the user path),
each against the plain render, byte for byte.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bench_package import bench_generate

import renderer.as3 as as3
from renderer.render import render
from renderer.source import dump_json

ROOT = Path(__file__).resolve().parents[2]


def _generator():  # type: ignore[no-untyped-def]
    """benchmarks/generate.py's generate() (the benchmark package is not installed)."""
    return bench_generate().generate


BUILTIN = ROOT / "templates" / "as3"
REPOS = [*sorted(p.parent for p in (ROOT / "tests" / "render" / "cases").glob("*/as3-gitops.yaml")),
         ROOT / "examples" / "hello-world", ROOT / "examples" / "custom-resources"]


def _copy(repo: Path, tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(repo, target, ignore=shutil.ignore_patterns("expected"))
    return target


def _sandboxed(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    env = as3._new_environment([as3.jinja2.PackageLoader("renderer.templates", "as3")], as3._Sandbox)
    monkeypatch.setattr(as3, "_builtin_environment", lambda: env)


def _as_user_templates(repo: Path) -> None:
    shutil.copytree(BUILTIN, repo / "as3-templates")
    config = repo / "as3-gitops.yaml"
    config.write_text(config.read_text() + "\ntemplates: as3-templates\n")


def _check(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = render(repo)
    assert plain.as3, plain.findings
    expected = dump_json(plain.as3)
    with monkeypatch.context() as patch:
        _sandboxed(patch)
        assert as3.template_environment(None, None).sandboxed
        assert dump_json(render(repo).as3) == expected
    _as_user_templates(repo)
    user = render(repo)
    assert user.config.templates == "as3-templates"
    assert dump_json(user.as3) == expected


def test_the_builtin_environment_is_plain_and_a_user_folder_is_sandboxed(tmp_path: Path) -> None:
    assert not as3.template_environment(None, None).sandboxed
    repo = _copy(ROOT / "examples" / "hello-world", tmp_path)
    _as_user_templates(repo)
    from renderer.source import WorkTree

    assert as3.template_environment(WorkTree(repo), "as3-templates").sandboxed


@pytest.mark.parametrize("repo", REPOS, ids=[p.name for p in REPOS])
def test_sandboxed_and_plain_environments_give_the_same_bytes(repo: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _check(_copy(repo, tmp_path), monkeypatch)


@pytest.mark.parametrize("mix", ["ingress", "crd"])
def test_generated_repositories_give_the_same_bytes(mix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _generator()(tmp_path / "repo", 60, mix)
    _check(tmp_path / "repo", monkeypatch)
