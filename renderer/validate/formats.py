"""The string formats AS3 registers with Ajv, plus Ajv 6's "fast" standard formats.

AS3 validates with Ajv 6 in its default `format: "fast"` mode, so `uri`, `hostname`, `email` and
`date-time` are checked by simple regular expressions, not by the strict RFC parsers that
jsonschema-rs would use. Using the same loose checks keeps our verdict equal to the device's.

Every pattern ends in `\\Z`, not `$`: JavaScript's `$` does not match before a final "\\n" (Python's
does), so `"/Common/x\\n"` fails here as it fails in AS3.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

FormatCheck = Callable[[str], bool]

# An AS3 pointer: "@", a relative JSON pointer (digits), or name segments of up to 64 characters.
_POINTER_RX = re.compile(
    r"^((@|[0-9]+)|(([0-9]*/)?((@|[0-9]+|[A-Za-z][0-9A-Za-z_]{0,63})/)*"
    r"([0-9]+|([A-Za-z][0-9A-Za-z_]{0,63}))))?#?\Z"
)
# A BIG-IP path: absolute, without control characters or "#'*<>?[\]{|} and DEL.
_BIGIP_RX = re.compile(r"^/[^\x00-\x19\"#'*<>?\[\\\]{|}\x7f]+\Z")

_URI_RX = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:(//?)?[^\s]*\Z")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME_RX = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\Z")
_EMAIL_RX = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})*\Z")
_DATETIME_RX = re.compile(
    r"^[0-9]{4}-[01][0-9]-[0-3][0-9][Tt\s](?:[0-2][0-9]:[0-5][0-9]:[0-5][0-9]|23:59:60)(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9][0-9](?::?[0-9][0-9])?)\Z"
)

# AS3's f5ip (F5's shared ipUtils used by AS3 3.56.0), built here from its parts. Numbers never
# have leading zeros: octets 0-255, route domains 0-65535, IPv4 masks 0-32, IPv6 masks 0-128.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_V4 = rf"(?:{_OCTET}\.){{3}}{_OCTET}"
_RD = (r"(?:%(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{3}"
       r"|[1-9][0-9]{2}|[1-9]?[0-9]))?")
_IPV4_RX = re.compile(rf"^{_V4}{_RD}(?:/(?:3[012]|2[0-9]|1[0-9]|[0-9]))?\Z")
_H = r"[0-9a-f]{1,4}"
_TAIL = rf"(?:(?:{_H}:)?{_H}|{_V4})"  # the last 32 bits: one or two groups, or a dotted quad
# IPv6: the compressed forms by the number of groups before "::", then the full 8-group form. As
# in AS3, "^" binds only to the first alternative and the route domain, the mask and the end
# anchor only to the last, so e.g. "2001:db8::1::2" or "::ffff:999.1.1.1" pass (we warn about them).
_IPV6_ALTERNATIVES = [
    rf"^::(?:(?:{_H}:){{0,5}}{_TAIL})?",
    rf"{_H}::(?:(?:{_H}:){{0,4}}{_TAIL})?",
    rf"{_H}:{_H}::(?:(?:{_H}:){{0,3}}{_TAIL})?",
    rf"{_H}(?::{_H}){{2}}::(?:(?:{_H}:){{0,2}}{_TAIL})?",
    rf"{_H}(?::{_H}){{3}}::(?:(?:{_H}:)?{_TAIL})?",
    rf"{_H}(?::{_H}){{4}}::{_TAIL}?",
    rf"{_H}(?::{_H}){{5}}::(?:{_H})?",
    rf"{_H}(?::{_H}){{0,6}}::",
    rf"(?:{_H}:){{7}}{_H}{_RD}(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?\Z",
]
_IPV6_RX = re.compile("|".join(f"(?:{alt})" for alt in _IPV6_ALTERNATIVES))
_IP_CHARS = re.compile(r"[0-9a-f:.%/]*\Z")
_SPLIT_RX = re.compile(r"^(?P<addr>[^%/]+)(?:%(?P<rd>0|[1-9][0-9]{0,4}))?(?:/(?P<len>0|[1-9][0-9]{0,2}))?\Z")
IPV6_DOUBT = "is not a valid IPv6 address (AS3's f5ip pattern lets it through; BIG-IP will not take it)"


def _ip_candidate(value: str) -> str | None:
    """The lower-cased value when it has only characters an f5ip may have (AS3 checks that first)."""
    if not value or not value.isascii():
        return None
    lower = value.lower()
    return lower if _IP_CHARS.match(lower) else None


def is_f5ipv4(value: str) -> bool:
    lower = _ip_candidate(value)
    return lower is not None and _IPV4_RX.match(lower) is not None


def is_f5ipv6(value: str) -> bool:
    lower = _ip_candidate(value)
    return lower is not None and _IPV6_RX.search(lower) is not None


def is_f5ip(value: str) -> bool:
    """AS3's verdict: empty, or IPv4/IPv6 with an optional %route-domain and /masklen."""
    return value == "" or is_f5ipv4(value) or is_f5ipv6(value)


def ipv6_doubt(value: str) -> bool:
    """True for an f5ip value AS3 accepts only because of its loose IPv6 pattern (our warning)."""
    if value == "" or is_f5ipv4(value) or not is_f5ipv6(value):
        return False
    match = _SPLIT_RX.match(value)
    if match is None:
        return True
    try:
        addr = ipaddress.ip_address(match.group("addr"))
    except ValueError:
        return True
    rd, masklen = match.group("rd"), match.group("len")
    return addr.version != 6 or (rd is not None and int(rd) > 65535) or (masklen is not None and int(masklen) > 128)


def _matches(rx: re.Pattern[str]) -> FormatCheck:
    return lambda value: bool(rx.match(value))


FORMATS: dict[str, FormatCheck] = {
    "f5ip": is_f5ip,
    "f5ipv4": lambda v: v == "" or is_f5ipv4(v),
    "f5ipv6": lambda v: v == "" or is_f5ipv6(v),
    "f5bigip": _matches(_BIGIP_RX),
    "f5pointer": _matches(_POINTER_RX),
    "uri": _matches(_URI_RX),
    "hostname": lambda v: len(v) <= 255 and bool(_HOSTNAME_RX.match(v)),
    "email": _matches(_EMAIL_RX),
    "date-time": _matches(_DATETIME_RX),
}
