"""The typer application object every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="as3-gitops",
    help="Render, validate, diff and deploy F5 AS3 + VXLAN/FDB/ARP declarations from a git repository.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class State:
    """Options shared by all commands (set by the root callback)."""

    debug: bool = False


state = State()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an internal error."),
) -> None:
    state.debug = debug
