"""What a command imports, in a fresh interpreter: a regression here costs every user start-up time
and memory (issue 19: peak RSS of the render command).

`as3-gitops --help` loads only typer and the command modules; `render` loads the pipeline and the
validator, never the BIG-IP client (requests, urllib3), GitPython for a working tree, python-jsonschema
for valid input, pydantic (typer's coercion, see renderer/cli/coercion.py), nor the emulator, snapshot
or deploy libraries.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HELLO_WORLD = REPO_ROOT / "examples" / "hello-world"

# Never needed by render or --help (the packages, and our modules that would pull them in).
NOT_FOR_RENDER = ("requests", "urllib3", "git", "gitdb", "jsonschema", "pydantic", "http.client", "ssl",
                  "renderer.bigip.client", "renderer.bigip.plan", "renderer.emulator", "renderer.snapshot",
                  "renderer.diff", "renderer.diff_report", "renderer.cache")
# Also not needed for --help: the pipeline itself.
NOT_FOR_HELP = (*NOT_FOR_RENDER, "yaml", "jinja2", "orjson", "jsonschema_rs", "renderer.render",
                "renderer.validate", "renderer.source", "renderer.config", "renderer.mapping")


_AT_EXIT = ("import atexit, json, sys\n"
            "atexit.register(lambda: sys.__stdout__.write('\\n' + json.dumps(sorted(sys.modules)) + '\\n'))\n")


def _loaded(code: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """Modules in sys.modules when a fresh interpreter running `code` exits (also by sys.exit), and
    what it printed before."""
    done = subprocess.run([sys.executable, "-c", _AT_EXIT + code], capture_output=True, text=True, cwd=cwd,
                          timeout=120, check=False, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    *printed, modules = done.stdout.rstrip("\n").split("\n")
    return set(json.loads(modules)), "\n".join(printed)


def _present(loaded: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in loaded if any(m == n or m.startswith(n + ".") for n in names))


def test_the_cli_module_imports_no_pipeline(tmp_path: Path) -> None:
    loaded, _ = _loaded("import renderer.cli", tmp_path)
    assert "renderer.cli.render" in loaded and "typer" in loaded  # the command tree is there
    assert _present(loaded, NOT_FOR_HELP) == []


def test_help_imports_no_pipeline(tmp_path: Path) -> None:
    for argv in (["--help"], ["render", "--help"], ["diff", "--help"]):
        code = ("import io, sys\nfrom renderer.cli import main\nsys.stdout = io.StringIO()\n"
                f"code = main({argv!r})\nhelp = sys.stdout.getvalue()\nsys.stdout = sys.__stdout__\n"
                "assert code == 0, code\nprint(help)\n")
        loaded, printed = _loaded(code, tmp_path)
        assert "Usage: as3-gitops" in printed, argv
        assert _present(loaded, NOT_FOR_HELP) == [], argv


def test_shell_completion_imports_no_pipeline(tmp_path: Path) -> None:
    """What the shell runs on TAB (click's completion protocol, as the installed script answers it)."""
    import os

    env = {**os.environ, "_AS3_GITOPS_COMPLETE": "complete_bash", "COMP_WORDS": "as3-gitops ren", "COMP_CWORD": "1"}
    code = "import sys\nfrom renderer.cli import main\nsys.argv = ['as3-gitops']\nmain()\n"
    loaded, printed = _loaded(code, tmp_path, env)
    assert "render" in printed
    assert _present(loaded, NOT_FOR_HELP) == []


@pytest.mark.parametrize("git_checkout", [False, True, "clean"], ids=["folder", "dirty-checkout", "clean-checkout"])
def test_render_imports_only_what_it_uses(tmp_path: Path, git_checkout: bool | str) -> None:
    """The working tree, in a plain folder, in a git checkout with an uncommitted change and in a
    clean one (read from HEAD's git objects through the git binary, not GitPython)."""
    repo = tmp_path / "repo"
    shutil.copytree(HELLO_WORLD, repo)
    if git_checkout == "clean":
        _commit(repo)
    elif git_checkout:
        for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com",
                                                     "commit", "-qm", "x"]):
            subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
        (repo / "manifests" / "uncommitted.yaml").write_text("# not committed yet\n")
    code = ("import io, sys\nfrom renderer.cli import main\nsys.stdout, sys.stderr = io.StringIO(), io.StringIO()\n"
            f"code = main(['render', {str(repo)!r}, '-o', {str(tmp_path / 'out')!r}, '--no-cache'])\n"
            "err = sys.stderr.getvalue()\nsys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__\n"
            "assert code == 0, (code, err)\n")
    loaded, _ = _loaded(code, tmp_path)
    assert {"renderer.render", "renderer.validate", "jinja2", "yaml"} <= loaded  # it did render and validate
    assert (tmp_path / "out" / "as3.json").is_file()
    assert _present(loaded, NOT_FOR_RENDER) == []


def _commit(repo: Path) -> None:
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com",
                                                 "commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.mark.parametrize("argv", [["render", "--ref", "HEAD~1"], ["diff", "--base", "HEAD~1", "--head", "HEAD"]],
                         ids=["render-ref", "diff"])
def test_reading_a_ref_does_not_import_gitpython(tmp_path: Path, argv: list[str]) -> None:
    """`render --ref` and `diff` read commits with the git binary (renderer/gitobjects.py): GitPython
    (about 3 MB and 0.4 CPU s per process) is for the snapshot and deploy commands only."""
    repo = tmp_path / "repo"
    shutil.copytree(HELLO_WORLD, repo)
    _commit(repo)
    ingress = repo / "manifests" / "vs-01.yaml"
    ingress.write_text(ingress.read_text().replace("round-robin", "least-connections-member"))
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "y"],
                   cwd=repo, check=True, capture_output=True)
    command = [argv[0], str(repo), *argv[1:], "--no-cache"]
    if argv[0] == "render":
        command += ["-o", str(tmp_path / "out")]
    code = ("import io, sys\nfrom renderer.cli import main\nsys.stdout, sys.stderr = io.StringIO(), io.StringIO()\n"
            f"code = main({command!r})\nout = sys.stdout.getvalue()\n"
            "err = sys.stderr.getvalue()\nsys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__\n"
            "assert code == 0, (code, err)\nprint(out)\n")
    loaded, printed = _loaded(code, tmp_path)
    assert "renderer.trees" in loaded and "renderer.gitobjects" in loaded  # it did read git objects
    if argv[0] == "diff":
        assert "least-connections-member" in printed  # the two commits differ, and it says how
    else:
        assert (tmp_path / "out" / "as3.json").is_file()
    assert _present(loaded, ("git", "gitdb")) == []
