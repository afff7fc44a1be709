"""Run one generator: a process with a clean environment, a deadline and a bound on its output.

Library code: returns what happened (`RunOutcome`), never raises for a failing command and never
prints. The child gets its own process group (POSIX), so a timeout or an oversized output kills
the generator and everything it started (a `helm` plugin, a `sh -c` pipeline), not just the
first process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from renderer.generate.spec import CREDENTIAL_PREFIX, GenerateSpec

# Copied from as3-gitops' environment when set: what tools need to find themselves, their
# caches and config (helm keeps repositories under XDG_*), the locale, proxies and CA bundles.
PASSED_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TMPDIR", "XDG_CONFIG_HOME",
              "XDG_CACHE_HOME", "XDG_DATA_HOME", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy",
              "https_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "SYSTEMROOT", "COMSPEC", "PATHEXT")
PASSED_PREFIXES = ("LC_",)
STDERR_TAIL_BYTES = 4096
STDERR_TAIL_LINES = 15
CHUNK = 1 << 16


@dataclass(frozen=True)
class RunOutcome:
    """What a generator did. `status`: ok | missing | unstartable | failed | timeout | too-large."""

    status: str
    stdout: bytes = b""
    returncode: int | None = None
    stderr_tail: str = ""
    detail: str = ""  # why it could not start


def child_environment(spec: GenerateSpec, environ: Mapping[str, str], fixed: Mapping[str, str]) -> dict[str, str]:
    """The generator's whole environment: an allow-list of as3-gitops' own, the entry's passEnv and
    env, and `fixed` (TZ, SOURCE_DATE_EPOCH). Nothing named BIGIP_* ever gets through (the config
    refuses such names too; this is the second lock)."""
    env = {k: v for k, v in environ.items() if k in PASSED_ENV or k.startswith(PASSED_PREFIXES)}
    env.update({k: environ[k] for k in spec.pass_env if k in environ})
    env.update(fixed)
    env.update(dict(spec.env))
    return {k: v for k, v in env.items() if not k.upper().startswith(CREDENTIAL_PREFIX)}


def resolve_program(argv0: str, cwd: Path, env: Mapping[str, str]) -> str | None:
    """The executable: a name is looked up on the child's PATH, a path with a slash is taken
    relative to the working directory (as a shell would)."""
    if os.sep in argv0 or (os.altsep and os.altsep in argv0):
        path = Path(argv0) if Path(argv0).is_absolute() else cwd / argv0
        return str(path) if path.is_file() else None
    return shutil.which(argv0, path=env.get("PATH", os.defpath))


def run_generator(spec: GenerateSpec, cwd: Path, env: dict[str, str], max_bytes: int) -> RunOutcome:
    """Run `spec` in `cwd`; stdout is kept up to `max_bytes` (one more byte and it is killed)."""
    program = resolve_program(spec.argv[0], cwd, env)
    if program is None:
        return RunOutcome("missing")
    posix = os.name == "posix"
    try:
        proc = subprocess.Popen([program, *spec.argv[1:]], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=posix)
    except OSError as err:  # permission denied, exec format error, ...
        return RunOutcome("unstartable", detail=err.strerror or type(err).__name__)
    out = bytearray()
    over = threading.Event()
    tail: deque[bytes] = deque()

    def read_stdout() -> None:
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(CHUNK):
            out.extend(chunk)
            if len(out) > max_bytes:
                over.set()
                _kill_group(proc)
                return

    def read_stderr() -> None:
        assert proc.stderr is not None
        kept = 0
        while chunk := proc.stderr.read1(CHUNK):
            tail.append(chunk)
            kept += len(chunk)
            while kept - len(tail[0]) > STDERR_TAIL_BYTES:
                kept -= len(tail.popleft())

    readers = [threading.Thread(target=read_stdout, daemon=True), threading.Thread(target=read_stderr, daemon=True)]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + spec.timeout
    timed_out = False
    try:
        proc.wait(timeout=spec.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    except BaseException:  # Ctrl-C: the child is in its own session, so the terminal's signal missed it
        _kill_group(proc)
        raise
    # A grandchild may still hold the pipes open: the deadline covers it too.
    for reader in readers:
        reader.join(max(0.0, deadline - time.monotonic()))
    timed_out = timed_out or any(r.is_alive() for r in readers)
    _kill_group(proc)  # whatever the generator left running
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    for reader in readers:
        reader.join(5)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    stderr_tail = _tail_text(b"".join(tail))
    if over.is_set():
        return RunOutcome("too-large", stderr_tail=stderr_tail)
    if timed_out:
        return RunOutcome("timeout", stderr_tail=stderr_tail)
    if proc.returncode != 0:
        return RunOutcome("failed", returncode=proc.returncode, stderr_tail=stderr_tail)
    return RunOutcome("ok", bytes(out), 0, stderr_tail)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the generator's process group (the generator alone where there are no groups)."""
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    else:  # pragma: no cover - Windows
        with contextlib.suppress(OSError):
            proc.kill()


def _tail_text(data: bytes) -> str:
    """The last lines of stderr as printable text (control characters dropped, URLs without userinfo)."""
    from renderer.redact import scrub_urls

    text = data[-STDERR_TAIL_BYTES:].decode("utf-8", "replace")
    lines = ["".join(c for c in line if c == "\t" or (ord(c) >= 32 and ord(c) != 127)).rstrip()
             for line in text.splitlines()]
    lines = [line for line in lines if line][-STDERR_TAIL_LINES:]
    return scrub_urls("\n".join(lines))
