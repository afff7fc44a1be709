"""A helper process for the crash tests: imports the CLI once, then forks one real deploy per request.

Why: starting a Python interpreter and importing the tool costs about a second of CPU, and the
kill test runs a deploy per request of a whole deploy. A forked child is a real, separate process
running the real CLI (`renderer.cli.main`), so SIGKILL on it is exactly a killed CI job; only the
import cost is shared. This process itself is single-threaded, so forking it is safe.

Started as `forkserver.py [REPO]`: REPO is rendered once before serving, so the children inherit
warm caches. Protocol (one JSON object per line): `{"argv": [...], "log": path}` forks a child and answers
`{"pid": n}`; `{"wait": n}` waits for that child and answers `{"pid": n, "status": s}` (a waitpid
status). Several children may run at once (the concurrency test starts two together).
"""

from __future__ import annotations

import json
import os
import sys

import renderer.bigip.plan  # noqa: F401  (imported before forking: the children share it)
from renderer.cli import main


def serve(warm: str | None) -> None:
    if warm:  # fill the caches a first CLI run builds (option parsing, schemas, templates) once, for all
        out, err = sys.stdout, sys.stderr
        with open(os.devnull, "w") as sink:
            sys.stdout = sys.stderr = sink
            try:
                main(["render", warm, "--ref", "HEAD", "-o", "-"])
            finally:
                sys.stdout, sys.stderr = out, err
    for line in sys.stdin:
        job = json.loads(line)
        if "wait" in job:
            _, status = os.waitpid(job["wait"], 0)
            print(json.dumps({"pid": job["wait"], "status": status}), flush=True)
            continue
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


if __name__ == "__main__":
    serve(sys.argv[1] if len(sys.argv) > 1 else None)
