"""AS3's format checks, remembered per value: one declaration asks about the same strings twice.

The default-filling walk checks e.g. every pool member address (`f5ip`) to pick the member's
schema branch, and the jsonschema-rs verdict checks the same addresses again through the same
Python callbacks. The checks are pure functions of the string, so their answers are kept (up to
MAX_REMEMBERED per format, then forgotten all at once). Plain dotted-quad IPv4 addresses, the
bulk of a declaration, are accepted by a regular expression, which gives is_f5ip's own answer
for exactly those strings (no leading zeros, each part 0-255).
"""

from __future__ import annotations

import re
from typing import Any

from renderer.validate.ajv import AjvError
from renderer.validate.formats import FORMATS, IPV6_DOUBT, FormatCheck, ipv6_doubt, is_f5ip

MAX_REMEMBERED = 1_000_000
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_DOTTED_QUAD = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


def fast_f5ip(value: str) -> bool:
    """is_f5ip, without the ipaddress module for plain IPv4 addresses."""
    return _DOTTED_QUAD.fullmatch(value) is not None or is_f5ip(value)


def remembered(check: FormatCheck) -> FormatCheck:
    answers: dict[str, bool] = {}

    def cached(value: str) -> bool:
        answer = answers.get(value)
        if answer is None:
            if len(answers) >= MAX_REMEMBERED:
                answers.clear()
            answer = answers[value] = bool(check(value))
        return answer

    return cached


class DoubtfulAddresses:
    """f5ip values AS3 accepts that are no IPv6 address (seen by the format check), and where they are."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        self.log: set[str] | None = None  # while set: every doubtful value checked (memo or not)
        self._answers = remembered(fast_f5ip)
        self._doubt = remembered(ipv6_doubt)

    def check(self, value: str) -> bool:
        """The f5ip format check (remembered per value); every call reaches the doubt check, so the
        `log` of one tenant's checks is complete even for values another tenant had checked."""
        answer = self._answers(value)
        if answer and ":" in value and (value in self.values or (
                self._doubt(value) and len(self.values) < MAX_REMEMBERED)):
            self.values.add(value)
            if self.log is not None:
                self.log.add(value)
        return answer

    def findings(self, data: Any) -> list[AjvError]:
        """A warning at each string of `data` that is one of those values (nothing to do when none)."""
        if not self.values:
            return []
        found: list[AjvError] = []
        todo: list[tuple[Any, str]] = [(data, "")]
        while todo:
            node, pointer = todo.pop()
            if isinstance(node, dict):
                todo += [(v, f"{pointer}/{k.replace('~', '~0').replace('/', '~1')}") for k, v in node.items()]
            elif isinstance(node, list):
                todo += [(v, f"{pointer}/{i}") for i, v in enumerate(node)]
            elif isinstance(node, str) and node in self.values:
                found.append(AjvError(pointer, "f5ip(IPv6)", IPV6_DOUBT, warning=True))
        return sorted(found, key=lambda e: e.pointer)


def memo_formats(doubtful: DoubtfulAddresses | None = None) -> dict[str, FormatCheck]:
    """FORMATS with remembered answers (one set of memories per caller)."""
    checks = {name: remembered(check) for name, check in {**FORMATS, "f5ip": fast_f5ip}.items()}
    if doubtful is not None:
        checks["f5ip"] = doubtful.check  # remembered inside, so that the log sees every call
    return checks
