"""Option values without pydantic, where typer would use it for nothing.

typer (from the versions that coerce through pydantic `TypeAdapter`s) builds one adapter per option
on every command line, which imports pydantic: 11 MB and a tenth of a second before any work, for
values that are already what they should be (a flag's bool, a count's int, a default, the unset
--help) or a string that becomes a `Path`. `install(param)` gives each parameter of our command
tree a coercion that returns typer's own answer for those cases: the value unchanged when it
already has the exact type (str, int, float, bool; a list of str), and for `Path` the same
`Path(value)` pydantic makes, when typer's checks for our path options (only "readable, if it
exists") pass. Every other case (a number typed as text, an unreadable path, a parser, a choice,
any other type) goes to typer's own coercion, built when first needed, so its result and its error
messages are typer's. On typer versions without this machinery `install` changes nothing.
tests/cli/test_coercion.py compares both on every parameter of the tree.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin


@functools.cache
def _plain_class() -> type | None:
    """The RuntimeParam subclass, or None when this typer coerces another way. Its classes are
    taken from the public `typer.core` module (no private module is imported, see
    tests/packaging/test_dependencies.py); a typer without them keeps its own coercion."""
    import typer.core

    base = getattr(typer.core, "RuntimeParam", None)
    build = getattr(typer.core, "build_runtime_param", None)
    if not isinstance(base, type) or not callable(build):
        return None

    @dataclass(frozen=True)
    class PlainRuntimeParam(base):  # type: ignore[misc, valid-type]
        descriptor: Any = None
        _typer: list[Any] = field(default_factory=list)  # typer's own coercion, built on first use

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            kind = self.annotation
            if kind is str or kind is int or kind is float or kind is bool:
                if type(value) is kind:
                    return value
            elif kind is Path:
                if type(value) is str or isinstance(value, Path):
                    path = Path(value) if type(value) is str else value  # pydantic's Path(value)
                    if _path_ok(path, self.parameter_info):
                        return path
            elif isinstance(value, list | tuple) and all(type(item) is str for item in value):
                return list(value)  # list[str] (the only list kind `_plain` lets through)
            if not self._typer:
                self._typer.append(build(self.descriptor))
            return self._typer[0]._coerce_value(value, param=param, ctx=ctx)

    return PlainRuntimeParam


def _path_ok(path: Path, info: Any) -> bool:
    """typer's checks for a path option with the default flags (_plain): a missing path is fine,
    an existing one must be readable; False sends the value to typer, which words the error."""
    try:
        os.stat(path)
    except OSError:
        return True
    except ValueError:  # e.g. a NUL byte: typer's own coercion decides (and raises) the same way
        return False
    return not info.readable or os.access(path, os.R_OK)


def _plain(descriptor: Any) -> bool:
    """The kinds whose typer coercion is a pydantic adapter with no options (see the module docstring)."""
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or getattr(info, "parser", None) is not None \
            or getattr(info, "click_type", None) is not None:
        return False
    kind = descriptor.annotation
    if kind is bool:  # typer itself passes a bool through; a None (help, completion) is None before this
        return True
    if kind in (int, float):
        return info.min is None and info.max is None and not info.clamp
    if kind is Path:  # the flags whose checks _path_ok repeats: typer.Option's defaults
        return info.path_type is None and not info.exists and not info.resolve_path and not info.writable \
            and info.file_okay and info.dir_okay and not getattr(info, "executable", False)
    if get_origin(kind) is list:
        return get_args(kind) == (str,)
    return kind is str


def install(param: Any) -> None:
    """Give one parameter of the command tree the plain coercion (when typer has not built its own)."""
    plain = _plain_class()
    descriptor = getattr(param, "type_descriptor", None)
    if plain is not None and descriptor is not None and getattr(param, "_runtime_param", "absent") is None \
            and _plain(descriptor):
        param._runtime_param = plain(descriptor.parameter_info, descriptor.annotation, descriptor)
