"""Deploy progress on stderr: one line per step, and on a terminal a live status line (rich) while
AS3 works on a task, so a deploy that waits is visibly waiting and not hung."""

from __future__ import annotations

from typing import Any, TextIO


class StepProgress:
    """The `progress` callback of renderer.bigip.plan.deploy, plus the client's poll hook."""

    def __init__(self, err: TextIO, *, quiet: bool = False, client: Any = None):
        self.err = err
        self.quiet = quiet
        self.tty = err.isatty()
        self._status: Any = None
        self._console: Any = None
        if self.tty and not quiet:
            from rich.console import Console

            self._console = Console(file=err, highlight=False)
        if client is not None and not quiet:
            client.on_poll = self.polling

    def __call__(self, line: str) -> None:
        if self.quiet:
            return
        self.stop()
        if self._console is not None:
            self._console.print(f"[bold cyan]deploy[/] {line}")
        else:
            self.err.write(f"deploy: {line}\n")

    def polling(self, task: str, elapsed: float) -> None:
        """While AS3 runs task `task`: a spinner with the elapsed time (terminal only)."""
        if self._console is None:
            return
        text = f"AS3 task {task[:36]} in progress ({elapsed:.0f} s)"
        if self._status is None:
            self._status = self._console.status(text)
            self._status.start()
        else:
            self._status.update(text)

    def stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
