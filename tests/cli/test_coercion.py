"""renderer/cli/coercion.py gives typer's own answer for every parameter of our command tree: the
same value (and type), or the same usage error, for values typed on a command line and the
defaults and flag values click hands over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from renderer.cli import _command
from renderer.cli.coercion import _plain_class

SAMPLES: tuple[Any, ...] = ("x", "", "élan", "  spaced  ", ".", "/tmp", "a/b.json", "-", "7", "-3", "1.5", "abc",
                            "/root/.ssh/nope", "/proc/1/mem", "/etc/shadow",
                            "true", "0", 0, 5, -1, 1.5, 0.0, True, False, Path("."), Path("/x"), ("a", "b"),
                            ["c"], (), ("a", 1))


def _parameters() -> list[tuple[Any, Any]]:
    command = _command()
    found = []

    def walk(cmd: Any) -> None:
        ctx = cmd.context_class(cmd, info_name="as3-gitops")
        for param in [*cmd.params, cmd.get_help_option(ctx)]:
            if param is not None:
                found.append((cmd, param))
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)

    walk(command)
    return found


def _answer(runtime: Any, value: Any, param: Any, ctx: Any) -> tuple:
    try:
        result = runtime.coerce(value, param=param, ctx=ctx)
    except Exception as err:  # the usage error typer raises (BadParameter), compared by type and text
        return ("error", type(err).__name__, str(err))
    return ("value", type(result), result)


def test_every_parameter_coerces_as_typer_does() -> None:
    plain = _plain_class()
    if plain is None:
        pytest.skip("this typer version does not coerce through pydantic (nothing is replaced)")
    from typer.core import build_runtime_param

    compared = replaced = 0
    for cmd, param in _parameters():
        runtime = getattr(param, "_runtime_param", None)
        if not isinstance(runtime, plain):
            continue
        replaced += 1
        ctx = cmd.context_class(cmd, info_name="as3-gitops")
        theirs = build_runtime_param(param.type_descriptor)
        for value in SAMPLES:
            if isinstance(value, list | tuple) != (param.multiple or param.nargs == -1):
                continue  # click never hands a single-value parameter a list, nor the reverse
            assert _answer(runtime, value, param, ctx) == _answer(theirs, value, param, ctx), (param.name, value)
            compared += 1
    assert replaced > 50 and compared > 500  # the whole tree, not a few options


def test_a_number_typed_as_text_gets_typers_own_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`--max-chars abc` goes to typer's coercion (built when first needed): its usage error, exit 2."""
    from renderer.cli import main

    assert main(["diff", ".", "--base", "HEAD", "--max-chars", "abc"]) == 2
    err = capsys.readouterr().err
    assert "Invalid value for '--max-chars'" in err and "integer" in err
    assert main(["diff", ".", "--base", "HEAD", "--max-chars", "10"]) == 2  # parsed as 10: below the minimum
    assert "--max-chars must be at least 1000" in capsys.readouterr().err
