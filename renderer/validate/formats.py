"""The string formats AS3 registers with Ajv, plus Ajv 6's "fast" standard formats.

AS3 validates with Ajv 6 in its default `format: "fast"` mode, so `uri`, `hostname`, `email` and
`date-time` are checked by simple regular expressions, not by the strict RFC parsers that
jsonschema-rs would use. Using the same loose checks keeps our verdict equal to the device's.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

FormatCheck = Callable[[str], bool]

# An AS3 pointer: "@", a relative JSON pointer (digits), or name segments of up to 64 characters.
_POINTER_RX = re.compile(
    r"^((@|[0-9]+)|(([0-9]*/)?((@|[0-9]+|[A-Za-z][0-9A-Za-z_]{0,63})/)*"
    r"([0-9]+|([A-Za-z][0-9A-Za-z_]{0,63}))))?#?$"
)
# A BIG-IP path: absolute, without control characters or "#'*<>?[\]{|} and DEL.
_BIGIP_RX = re.compile(r"^/[^\x00-\x19\"#'*<>?\[\\\]{|}\x7f]+$")
_IP_RX = re.compile(r"^(?P<addr>[^%/]+)(?:%(?P<rd>[0-9]+))?(?:/(?P<len>[0-9]+))?$")

_URI_RX = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:(//?)?\S*$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME_RX = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_EMAIL_RX = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})*$")
_DATETIME_RX = re.compile(
    r"^\d{4}-[01]\d-[0-3]\d[Tt\s](?:[0-2]\d:[0-5]\d:[0-5]\d|23:59:60)(?:\.\d+)?(?:[Zz]|[+-]\d\d(?::?\d\d)?)$"
)


def is_f5ip(value: str) -> bool:
    """IPv4 or IPv6, optionally with a %route-domain and a /masklen; the empty string is allowed."""
    if value == "":
        return True
    match = _IP_RX.match(value)
    if not match:
        return False
    try:
        addr = ipaddress.ip_address(match.group("addr"))
    except ValueError:
        return False
    masklen = match.group("len")
    if masklen is None:
        return True
    return int(masklen) <= (32 if addr.version == 4 else 128)


def _matches(rx: re.Pattern[str]) -> FormatCheck:
    return lambda value: bool(rx.match(value))


FORMATS: dict[str, FormatCheck] = {
    "f5ip": is_f5ip,
    "f5ipv4": lambda v: v == "" or (is_f5ip(v) and ":" not in v),
    "f5ipv6": lambda v: v == "" or (is_f5ip(v) and ":" in v),
    "f5bigip": _matches(_BIGIP_RX),
    "f5pointer": _matches(_POINTER_RX),
    "uri": _matches(_URI_RX),
    "hostname": lambda v: len(v) <= 255 and bool(_HOSTNAME_RX.match(v)),
    "email": _matches(_EMAIL_RX),
    "date-time": _matches(_DATETIME_RX),
}
