"""Command line: typer options in, one library call per command, output and exit codes out.

Exit codes (one meaning each): 0 success / no change; 1 changes present (only with
--exit-code); 2 usage error or invalid input; 3 device or network failure, device unchanged;
4 device could not be restored; 5 internal error (a bug).
"""

from __future__ import annotations

import functools
import importlib
import sys
import traceback

import typer
from typer._click import exceptions as click_exceptions  # typer 0.2x bundles its own click

from renderer.cli.app import app, state
from renderer.errors import (
    As3GitopsError,
    DeviceError,
    InvalidInput,
    RestoreFailed,
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
    which costs more than a small render when main() runs in-process many times, as in tests)."""
    return typer.main.get_command(app)  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of raising SystemExit."""
    try:
        result = _command().main(args=argv, standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("aborted\n")
        return 130
    except typer.Exit as err:
        return err.exit_code
    except click_exceptions.ClickException as err:
        err.show(file=sys.stderr)
        return EXIT_INVALID
    except As3GitopsError as err:
        from renderer.cli.output import print_error

        print_error(err)
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
