"""Option values without pydantic, where typer would use it for nothing.

typer (from the versions that coerce through pydantic `TypeAdapter`s) builds one adapter per option
on every command line, which imports pydantic: 11 MB and a tenth of a second before any work, for
values that are already what they should be (a flag's bool, a count's int, a default, the
unset --help) or a string
(or the `Path`) a path option gets. `install(command)` gives each parameter of our command tree a coercion that
returns typer's own answer for those cases: the value unchanged when it already has the exact type
(str, int, float, bool; a list of str), and for `Path` the same `Path(value)` pydantic makes, checked by
typer's own path checks. Every other case (a number typed as text, a parser, a choice, any other
type) goes to typer's own coercion, built when first needed, so its result and its error
messages are typer's. On typer versions without this machinery `install` changes nothing.
tests/cli/test_coercion.py compares both on every parameter of the tree.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, get_args, get_origin


@functools.cache
def _plain_class() -> type | None:
    """The RuntimeParam subclass, or None when this typer coerces another way."""
    try:
        from dataclasses import dataclass, field

        from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
        from typer._param_types import coerce_cli_path
    except ImportError:
        return None

    @dataclass(frozen=True)
    class PlainRuntimeParam(RuntimeParam):  # type: ignore[misc, valid-type]
        descriptor: TypeDescriptor = None  # type: ignore[assignment]
        _typer: list[Any] = field(default_factory=list)  # typer's own coercion, built on first use

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            kind = self.annotation
            if kind is str or kind is int or kind is float or kind is bool:
                if type(value) is kind:
                    return value
            elif kind is Path:
                if type(value) is str or isinstance(value, Path):  # str: as pydantic's Path(value)
                    path = Path(value) if type(value) is str else value
                    return coerce_cli_path(path, self.parameter_info, path_type=Path, param=param, ctx=ctx)
            elif isinstance(value, list | tuple) and all(type(item) is str for item in value):
                return list(value)  # list[str] (the only list kind `_plain` lets through)
            if not self._typer:
                self._typer.append(build_runtime_param(self.descriptor))
            return self._typer[0]._coerce_value(value, param=param, ctx=ctx)

    return PlainRuntimeParam


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
    if kind is Path:
        return info.path_type is None
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
