"""Run user templates (`templates:` in as3-gitops.yaml) under a budget of time, memory and output.

Jinja2's sandbox blocks attribute escapes, but not `{{ 'x' * 10**10 }}`, a loop that runs for
minutes or a macro that recurses: those come from the repository under review, so they must end
in a finding, not in a hung CI job or an out-of-memory kill. On POSIX the render runs in a forked
child: it inherits the model (nothing is copied), gets an address-space limit of what the renderer
already uses plus `limits.templateMemoryMiB`, and is killed after `limits.templateSeconds`; it sends
back the text (at most `limits.templateOutputMiB`) or the error. The built-in templates are ours
and run in-process. Where fork is missing (Windows) the same checks run in-process, without the
hard memory and time limits.

Template sources are read in the parent before the fork, so the child never touches git.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import time
import warnings
from collections.abc import Callable

import jinja2

from renderer.errors import SourceLocation, TemplateError
from renderer.limits import Limits

_OK, _ERR = b"K", b"E"


class _OutputTooLarge(Exception):
    pass


_WIDE_FORMAT = re.compile(r"%[-#0 +]*(\*|\d{7,})")
_MAX_INT_BITS = 100_000


def bounded_binop(operator: str, left: object, right: object, max_len: int) -> object:
    """`*`, `**`, `%`, `+` in user templates, refused before they allocate gigabytes or compute for minutes.

    Intercepting them also stops Jinja2 from folding `'x' * 10**10` at compile time."""
    if operator == "**" and isinstance(left, int) and isinstance(right, int):
        if right > 0 and max(abs(left), 2).bit_length() * right > _MAX_INT_BITS:
            raise OverflowError(f"{left} ** {right} is too large for a template")
        return left**right
    if operator == "*":
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > max_len:
                raise _OutputTooLarge
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > _MAX_INT_BITS:
            raise OverflowError("integer too large for a template")
        return left * right  # type: ignore[operator]
    if operator == "%":
        if isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise OverflowError("a %-format width that large (or '*') is not allowed in a template")
        return left % right  # type: ignore[operator]
    if operator == "+":
        if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)) \
                and len(left) + len(right) > max_len:
            raise _OutputTooLarge
        return left + right  # type: ignore[operator]
    raise AssertionError(operator)  # pragma: no cover


def _collect(generate: Callable[[], object], limit: int) -> str:
    parts: list[str] = []
    size = 0
    for chunk in generate():  # type: ignore[attr-defined]
        size += len(chunk)
        if size > limit:
            raise _OutputTooLarge
        parts.append(chunk)
    return "".join(parts)


def _describe(err: BaseException, limits: Limits) -> tuple[str, str, str | None]:
    """(code, message, hint) of a failure inside the templates."""
    if isinstance(err, _OutputTooLarge):
        return "LIM006", f"templates produced more than {limits.template_output_bytes:,} bytes", \
            "raise limits.templateOutputMiB in as3-gitops.yaml"
    if isinstance(err, MemoryError):
        return "LIM007", f"templates needed more than {limits.template_memory_bytes // 2**20:,} MiB of memory", \
            "raise limits.templateMemoryMiB in as3-gitops.yaml"
    if isinstance(err, RecursionError):
        return "LIM008", "templates recurse too deeply (a macro that calls itself without end?)", None
    if isinstance(err, OverflowError):
        return "LIM008", f"template failed: {err}", None
    if isinstance(err, jinja2.TemplateSyntaxError):
        return "", f"template syntax error: {err.message}", None
    return "", f"template failed: {str(err)[:500] or err.__class__.__name__}", None


def _raise(code: str, message: str, hint: str | None, where: SourceLocation | None,
           frame: tuple[str, int] | None = None) -> None:
    text = f"{message} [{code}]" if code else message
    location = SourceLocation(frame[0], frame[1], 1) if frame else where
    if frame and not hint:
        hint = f"in {frame[0]} line {frame[1]}"
    raise TemplateError(text, location=location, hint=hint)


def render_in_process(generate: Callable[[], object], limits: Limits, where: SourceLocation | None) -> str:
    try:
        return _collect(generate, limits.template_output_bytes)
    except TemplateError:
        raise
    except (jinja2.TemplateError, _OutputTooLarge, MemoryError, RecursionError, OverflowError) as err:
        code, message, hint = _describe(err, limits)
        _raise(code, message, hint, where, _frame(err))
    raise AssertionError("unreachable")  # pragma: no cover


def render_budgeted(generate: Callable[[], object], limits: Limits, where: SourceLocation | None) -> str:
    """The template text, or TemplateError (exit 2) naming the limit that was hit."""
    if not hasattr(os, "fork"):  # pragma: no cover - POSIX everywhere we run
        return render_in_process(generate, limits, where)
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "fork() in a multi-threaded process"
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; coverage does not follow forks
        os.close(read_end)
        _child(generate, limits, write_end)
    os.close(write_end)
    try:
        data, timed_out = _read_all(read_end, limits)
    finally:
        os.close(read_end)
        _reap(pid)
    if timed_out:
        _raise("LIM005", f"templates ran longer than {limits.template_seconds:g} s and were stopped",
               "look for a loop that does not end, or raise limits.templateSeconds in as3-gitops.yaml", where)
    if data is None:
        _raise("LIM006", f"templates produced more than {limits.template_output_bytes:,} bytes",
               "raise limits.templateOutputMiB in as3-gitops.yaml", where)
    if data[:1] == _OK:
        return data[1:].decode("utf-8")
    if data[:1] == _ERR:
        info = json.loads(data[1:])
        _raise(info["code"], info["message"], info["hint"], where, info["frame"] and tuple(info["frame"]))
    _raise("LIM007", f"templates ended the render process (memory above {limits.template_memory_bytes // 2**20:,} "
           "MiB?)", "raise limits.templateMemoryMiB in as3-gitops.yaml, or simplify the templates", where)
    raise AssertionError("unreachable")  # pragma: no cover


def _child(generate: Callable[[], object], limits: Limits, fd: int) -> None:  # pragma: no cover - child
    status = 0
    try:
        _limit_memory(limits.template_memory_bytes)
        try:
            payload = _OK + _collect(generate, limits.template_output_bytes).encode("utf-8")
        except BaseException as err:  # everything inside a user template is the template's failure
            frame = _frame(err)
            if isinstance(err, TemplateError):
                code, message, hint = "", err.message, err.hint
                if err.location:
                    frame = (err.location.path, err.location.line)
            else:
                code, message, hint = _describe(err, limits)
            payload = _ERR + json.dumps({"code": code, "message": message, "hint": hint, "frame": frame}).encode()
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view[: 1 << 20]):]
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def _limit_memory(extra: int) -> None:  # pragma: no cover - child
    try:
        import resource

        with open("/proc/self/statm") as handle:
            current = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (current + extra, current + extra))
    except (ImportError, OSError, ValueError):
        pass  # no /proc (macOS): the time and output limits still hold


def _read_all(fd: int, limits: Limits) -> tuple[bytes | None, bool]:
    deadline = time.monotonic() + limits.template_seconds
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, True
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return None, True
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks), False
        size += len(chunk)
        if size > limits.template_output_bytes + 65536:
            return None, False
        chunks.append(chunk)


def _reap(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _frame(err: BaseException) -> tuple[str, int] | None:
    """(template file, line) of the innermost template frame (Jinja2 rewrites tracebacks to template lines)."""
    if isinstance(err, jinja2.TemplateSyntaxError):
        return (err.filename or err.name or "template", err.lineno) if (err.filename or err.name) else None
    tb = err.__traceback__
    where = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return where
