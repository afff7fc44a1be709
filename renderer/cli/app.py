"""The typer application object every command module registers on, and the root options."""

from __future__ import annotations

import logging
import sys

import typer

app = typer.Typer(
    name="as3-gitops",
    help="Render, validate, diff and deploy F5 AS3 + VXLAN/FDB/ARP declarations from a git repository.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class State:
    """Options shared by all commands (set by the root callback)."""

    debug: bool = False
    verbosity: int = 0  # -1 quiet, 0 default, 1 -v, 2 -vv
    findings_format: str = "text"  # set by commands with --format for findings (render, validate)
    findings_stdout: bool = False  # validate writes findings to stdout: a failing run's findings too
    exit_if_pipe_closes: int = 0  # diff/plan --exit-code decide the answer before writing it


state = State()


def version() -> str:
    """The one version source: the installed distribution's metadata (pyproject.toml's `version`)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("as3-gitops")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"as3-gitops {version()}\n")
        raise typer.Exit(0)


def configure_logging(verbosity: int) -> None:
    """-v: the BIG-IP client's retries and token renewals; -vv: debug; -q: errors only."""
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logger = logging.getLogger("renderer")
    for handler in list(logger.handlers):
        if getattr(handler, "as3_gitops", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.as3_gitops = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("as3-gitops: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an internal error."),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, show_default=False,
                                help="Show the BIG-IP client's retries and token renewals (-vv: debug)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors on stderr (no progress, no warnings)."),
    _version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                  help="Print the version and exit."),
) -> None:
    state.debug = debug
    state.verbosity = -1 if quiet else verbose
    configure_logging(state.verbosity)
