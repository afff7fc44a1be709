"""Command line: typer options in, one library call per command, output and exit codes out.

Exit codes (one meaning each): 0 success / no change; 1 changes present (only with
--exit-code); 2 usage error or invalid input; 3 device or network failure, device unchanged;
4 device could not be restored; 5 internal error (a bug).
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import traceback
from typing import Any

import typer

from renderer.cli.app import app, state
from renderer.errors import (
    As3GitopsError,
    DeviceError,
    InvalidInput,
    RestoreFailed,
)

# typer >= 0.26 bundles its own click (a private module); older ones use the `click` package. Both
# raise a ClickException subclass for usage errors: find the class through typer's public BadParameter
# instead of importing a private module (which breaks on the versions that do not have it).
CLICK_EXCEPTION: type[Exception] = next(
    cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException"
)

EXIT_OK = 0
EXIT_CHANGES = 1
EXIT_INVALID = 2
EXIT_DEVICE = 3
EXIT_RESTORE_FAILED = 4
EXIT_BUG = 5

# Most specific first: the first matching class gives the exit code.
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (RestoreFailed, EXIT_RESTORE_FAILED),
    (DeviceError, EXIT_DEVICE),
    (InvalidInput, EXIT_INVALID),
    (As3GitopsError, EXIT_INVALID),
)

# Each name is a module of renderer.cli that registers its command(s) on `app`.
COMMANDS = ("render", "snapshot", "snapshot_watch", "diff", "deploy", "validate", "emulator", "ipam")

for _name in COMMANDS:
    importlib.import_module(f"renderer.cli.{_name}")


def exit_code_for(err: BaseException) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(err, cls):
            return code
    return EXIT_BUG


@functools.cache
def _command() -> typer.core.TyperGroup:
    """The click command tree, built once per process (typer rebuilds it on every `app()` call,
    which costs more than a small render when main() runs in-process many times, as in tests),
    with option values coerced without pydantic where typer would gain nothing from it."""
    command = typer.main.get_command(app)
    _no_flag_metavar(command)
    return command  # type: ignore[return-value]


def _no_flag_metavar(command: Any) -> None:
    """Closed pipes are success (see _pipe_safe), help shows no type after an on/off flag (newer
    typer prints `<bool>` there, as if it took a value), and values are coerced without pydantic
    where typer would gain nothing from it (renderer.cli.coercion)."""
    from renderer.cli.coercion import install

    ctx = command.context_class(command, info_name="as3-gitops", help_option_names=["-h", "--help"])
    help_option = command.get_help_option(ctx)  # typer >= 0.26 keeps this object for the help page
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        install(param)
        if (getattr(param, "is_flag", False) or getattr(param, "count", False)) and param.metavar is None:
            param.metavar = ""
    if command.callback is not None:
        command.callback = _pipe_safe(command.callback)
    for sub in getattr(command, "commands", {}).values():
        _no_flag_metavar(sub)


def _pipe_safe(callback: Any) -> Any:
    """A closed stdout pipe ends the command successfully. Caught here because click turns EPIPE
    into exit 1, which means "changes present" for diff and plan."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            result = callback(*args, **kwargs)
            sys.stdout.flush()
            return result
        except BrokenPipeError:
            return _reader_went_away()

    return run


def _reader_went_away() -> int:
    """stdout's reader closed the pipe (`plan ... | head -1`): it has what it wanted, which is success
    for the pipeline, not "changes present" nor a bug. Later writes and the exit flush go nowhere.
    With --exit-code, diff and plan knew the answer before writing, so it stays the exit code: the
    same whether or not the reader left before the last write."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests capture it)
        pass
    return state.exit_if_pipe_closes


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of raising SystemExit."""
    state.findings_format, state.findings_stdout, state.exit_if_pipe_closes = "text", False, EXIT_OK
    try:
        result = _command().main(args=argv, prog_name="as3-gitops", standalone_mode=False)
        sys.stdout.flush()  # here, not at interpreter exit, so a closed pipe is seen below
    except BrokenPipeError:
        return _reader_went_away()
    except typer.Abort:
        sys.stderr.write("aborted\n")
        return 130
    except typer.Exit as err:
        return err.exit_code
    except CLICK_EXCEPTION as err:
        err.show(file=sys.stderr)  # type: ignore[attr-defined]
        return EXIT_INVALID
    except As3GitopsError as err:
        from renderer.cli.output import print_error

        print_error(err, sys.stdout if state.findings_stdout else None, fmt=state.findings_format)
        return exit_code_for(err)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception:  # the one catch-all: a bug, reported as such
        if state.debug:
            traceback.print_exc()
        else:
            sys.stderr.write(
                "as3-gitops: internal error (a bug); run again with --debug for the traceback\n"
            )
        return EXIT_BUG
    return result if isinstance(result, int) else EXIT_OK
