"""The client side of tests/bigip/forkserver.py: real CLI deploys as separate, killable processes."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

from bigip.deploy_harness import REPO_ROOT


class ForkServer:
    """forkserver.py in a subprocess; `start` forks one real CLI run, `wait` reaps it."""

    def __init__(self, warm: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("forkserver.py")), str(warm)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def _ask(self, job: dict, timeout: float, pid: int | None = None) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:  # a hung deploy fails the test instead of hanging the suite
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"no answer from the fork server within {timeout:g} s ({job})")
        line = self.proc.stdout.readline()
        assert line, "the fork server died"
        return json.loads(line)

    def start(self, argv: list[str], log: Path) -> int:
        return self._ask({"argv": argv, "log": str(log)}, 30)["pid"]

    def wait(self, pid: int, timeout: float = 120) -> int:
        """The child's waitpid status (os.waitstatus_to_exitcode gives the exit code); a child still
        running after `timeout` seconds is killed and the test fails."""
        return self._ask({"wait": pid}, timeout, pid)["status"]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()
