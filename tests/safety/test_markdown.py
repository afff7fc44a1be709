"""Issue 15, defect 6: nothing a pull request controls can end a block of the PR comment or inject HTML."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from renderer.cli import main

from .helpers import CONFIG, ingress, service

HOSTILE = "x\n```\n### no changes\n<img src=x onerror=alert(1)>\n<!--"


def _outside_fences(markdown: str) -> list[str]:
    """The lines of `markdown` that are not inside a fenced code block (CommonMark fence rules)."""
    outside, fence = [], None
    for line in markdown.splitlines():
        if fence is None:
            match = re.match(r"^ {0,3}(`{3,})", line)
            if match:
                fence = match.group(1)
                continue
            outside.append(line)
        elif re.match(rf"^ {{0,3}}{fence}`*\s*$", line):
            fence = None
    assert fence is None, "every fence is closed"
    return outside


def test_hostile_file_names_stay_inside_the_diff_block(git_repo, tmp_path: Path) -> None:
    git_repo.write({"as3-gitops.yaml": CONFIG, "manifests/svc.yaml": service("web")})
    base = git_repo.commit(message="base")
    # a file name is the one thing Kubernetes naming rules do not cover; git allows newlines in it
    git_repo.commit({f"manifests/{HOSTILE}.yaml": ingress("web")}, message="hostile file name")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["diff", str(git_repo.path), "--base", base, "--head", "HEAD", "--format", "markdown",
                     "--environment", "prod"])
    assert code == 0
    markdown = out.getvalue()
    assert "<img src=x" in markdown, "the name is shown (inside a block), not dropped"
    outside = _outside_fences(markdown)
    assert not any("<img" in line or (line.startswith("<!--") and "as3-gitops:diff" not in line) for line in outside)
    assert not any(line.startswith("### no changes") for line in outside)
    assert markdown.startswith("<!-- as3-gitops:diff:prod -->\n")


def test_library_environment_is_sanitised(git_repo) -> None:
    from renderer.diff import Side, diff_declarations
    from renderer.diff_report import write_diff

    result = diff_declarations(Side(as3=None, net=None, label="a"), Side(as3=None, net=None, label="b`<b>"))
    stream = io.StringIO()
    write_diff(result, stream, "markdown", environment="x -->\n<img src=y>")
    text = stream.getvalue()
    assert text.splitlines()[0] == "<!-- as3-gitops:diff:x_--___img_src_y_ -->"
    assert "<img" not in text and "<b>" not in text
