"""A helper process for the crash tests: imports the CLI once, then forks one real deploy per request.

Why: starting a Python interpreter and importing the tool costs about a second of CPU, and the
kill test runs a deploy per request of a whole deploy. A forked child is a real, separate process
running the real CLI (`renderer.cli.main`), so SIGKILL on it is exactly a killed CI job; only the
import cost is shared. This process itself is single-threaded, so forking it is safe.

Started as `forkserver.py [REPO]`: REPO is rendered once before serving, so the children inherit
warm caches. Protocol (one JSON object per line): stdin `{"argv": [...], "log": path}`; stdout
`{"pid": n}` when the child runs, then `{"pid": n, "status": s}` when it ended (a waitpid status).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import renderer.bigip.plan  # imported before forking: the children share it
import renderer.render
from renderer.cli import main


def serve(warm: str | None) -> None:
    if warm:  # fill the caches a first render builds (schemas, template environment) once, for all children
        renderer.render.render(Path(warm), "HEAD")
    for line in sys.stdin:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child: one deploy, output to its own file
            fd = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            code = 5
            try:
                code = main(job["argv"])
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"pid": pid, "status": status}), flush=True)


if __name__ == "__main__":
    serve(sys.argv[1] if len(sys.argv) > 1 else None)
