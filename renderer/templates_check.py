"""`templates:` in as3-gitops.yaml: the folder must exist and hold only files that override a
built-in template by name. A mistake here (`pool.j2` for `pool.json.j2`, a misspelt folder)
would otherwise be silent: the built-in template would be used and nobody would notice."""

from __future__ import annotations

import difflib
import functools
import importlib.resources

from renderer.config import CONFIG_FILE, Config
from renderer.errors import Finding, SourceLocation
from renderer.source import Tree, parse_file


@functools.cache
def builtin_names() -> tuple[str, ...]:
    """The file names of the built-in templates (templates/as3/*.j2)."""
    folder = importlib.resources.files("renderer.templates").joinpath("as3")
    return tuple(sorted(p.name for p in folder.iterdir() if p.name.endswith(".j2")))


def template_findings(tree: Tree, config: Config) -> list[Finding]:
    """CFG006: the folder is missing or empty; CFG007: a file that overrides no built-in template."""
    folder = (config.templates or "").strip("/")
    if not folder:
        return []
    names = builtin_names()
    files = [path for path, _key in tree.walk(folder)]
    if not files:
        return [Finding("CFG006", f"templates folder {folder!r} does not exist or holds no file", _where(tree),
                        hint=f"create it with overrides named like the built-in ones ({', '.join(names)}), "
                        "or remove templates:")]
    findings = []
    for path in files:
        name = path[len(folder) + 1:] if folder not in ("", ".") else path
        if name in names:
            continue
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]}?" if close else f"the built-in templates are {', '.join(names)}"
        findings.append(Finding("CFG007", f"{path}: not the name of a built-in template, so it overrides nothing",
                                SourceLocation(path, 1, 1), hint=hint))
    return findings


def _where(tree: Tree) -> SourceLocation:
    """The `templates:` key in as3-gitops.yaml (only looked up on this error path)."""
    data = tree.read(CONFIG_FILE)
    if data is None:
        return SourceLocation(CONFIG_FILE)
    _src, docs, _problems = parse_file(CONFIG_FILE, data)
    return docs[0].locate("templates") if docs else SourceLocation(CONFIG_FILE)
