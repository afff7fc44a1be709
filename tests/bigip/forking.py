"""The client side of tests/bigip/forkserver.py: real CLI deploys as separate, killable processes."""

from __future__ import annotations

import json
import os
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

    def _ask(self, job: dict) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the fork server died"
        return json.loads(line)

    def start(self, argv: list[str], log: Path) -> int:
        return self._ask({"argv": argv, "log": str(log)})["pid"]

    def wait(self, pid: int) -> int:
        """The child's waitpid status (its exit code is os.waitstatus_to_exitcode of it)."""
        return self._ask({"wait": pid})["status"]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()
