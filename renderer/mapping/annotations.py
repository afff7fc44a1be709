"""The Ingress annotations CIS reads, each with a parser that turns its text into a value or a finding.

One registry (`PARSERS`) maps annotation name to parser, so one grep finds an annotation's handling.
Values that CIS would pass to the device verbatim (balance, ports, addresses) are checked here, so a
mistake is reported at the manifest line instead of as an AS3 422 at deploy time.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from renderer.errors import Finding, Severity, SourceLocation
from renderer.kube.naming import shown
from renderer.kube.objects import ObjectMeta

PREFIX = "virtual-server.f5.com/"

BALANCE_MODES = (
    "dynamic-ratio-member", "dynamic-ratio-node", "fastest-app-response", "fastest-node",
    "least-connections-member", "least-connections-node", "least-sessions", "observed-member",
    "observed-node", "predictive-member", "predictive-node", "ratio-least-connections-member",
    "ratio-least-connections-node", "ratio-member", "ratio-node", "ratio-session", "round-robin",
    "weighted-least-connections-member", "weighted-least-connections-node",
)
MONITOR_TYPES = ("http", "https", "tcp", "udp")

_IP_RX = re.compile(r"^(?P<ip>[^%/]+)(?:%(?P<rd>[0-9]{1,5}))?(?:/(?P<cidr>[0-9]{1,3}))?$")


@dataclass
class HealthCheck:
    path: str
    send: str | None
    recv: str | None
    interval: int
    timeout: int
    type: str
    ssl_profile: str | None
    where: Callable[[], SourceLocation] = field(repr=False, compare=False)

    @property
    def location(self) -> SourceLocation:
        """Found on demand (a finding needs it): locating re-parses the file with marks."""
        return self.where()


@dataclass
class Annotations:
    """The parsed F5 annotations of one Ingress (None where absent or invalid)."""

    ip: str | None = None
    partition: str | None = None
    http_port: int = 80
    https_port: int = 443
    balance: str = "round-robin"
    health: list[HealthCheck] = field(default_factory=list)
    clientssl: list[str] | None = None
    serverssl: str | None = None
    app_root: dict[str, str] = field(default_factory=dict)
    rewrite_target: list[tuple[str, str]] = field(default_factory=list)
    source_ranges: list[str] = field(default_factory=list)
    translate_address: bool | None = None
    ssl_redirect: bool = True
    allow_http: bool = False
    waf: str | None = None  # Routes only: a BIG-IP WAF policy
    secure_serverssl: bool = False  # Routes only: server-side peer validation


class Context:
    """What a parser needs: the object (for locations) and a findings sink."""

    def __init__(self, meta: ObjectMeta, findings: list[Finding], route: bool = False):
        self.meta = meta
        self.findings = findings
        self.route = route  # an OpenShift Route: health entries may omit the path (the Route's own)

    def where(self, key: str) -> SourceLocation:
        return self.meta.locate("metadata", "annotations", key)

    def error(self, key: str, message: str, hint: str | None = None, code: str = "ANN002",
              location: SourceLocation | None = None) -> None:
        self.findings.append(Finding(code, f"{key}: {message}", location or self.where(key), hint=hint))

    def warn(self, key: str, message: str, hint: str | None = None, code: str = "ANN003") -> None:
        self.findings.append(Finding(code, f"{key}: {message}", self.where(key), Severity.WARNING, hint))


def parse_vs_address(text: str) -> str | None:
    """`ip[%rd][/cidr]` as AS3's f5ip accepts it, IPv4 or IPv6; None when invalid."""
    m = _IP_RX.match(text.strip())
    if not m:
        return None
    try:
        addr = ipaddress.ip_address(m.group("ip").strip("[]"))
    except ValueError:
        return None
    cidr = m.group("cidr")
    if cidr is not None and int(cidr) > addr.max_prefixlen:
        return None
    return text.strip().replace("[", "").replace("]", "")


def _ip(value: str, key: str, ctx: Context, out: Annotations) -> None:
    if value == "controller-default":
        return
    parsed = parse_vs_address(value)
    if parsed is None:
        ctx.error(key, f"{shown(value)} is not an IP address",
                  hint="use an IPv4/IPv6 address, optionally %routeDomain and /prefix")
    out.ip = parsed


def _partition(value: str, key: str, ctx: Context, out: Annotations) -> None:
    if value == "Common":
        ctx.error(key, "partition 'Common' cannot be an AS3 tenant",
                  hint="use a dedicated partition such as 'kubernetes'", code="ANN004")
    elif not re.fullmatch(r"[A-Za-z][0-9A-Za-z_.-]*", value) or len(value) > 64:
        ctx.error(key, f"{shown(value)} is not a valid partition name",
                  hint="letters, digits, _ . -; start with a letter")
    else:
        out.partition = value


def _port(attr: str) -> Callable[[str, str, Context, Annotations], None]:
    def parse(value: str, key: str, ctx: Context, out: Annotations) -> None:
        text = value.strip()
        # ASCII digits, at most 5 of them, before int(): '²' is a digit to str.isdigit, and a 5,000-digit
        # string makes int() raise (Python's integer-string limit) instead of giving a finding
        if not (text.isascii() and text.isdigit() and len(text) <= 5) or not 1 <= int(text) <= 65535:
            ctx.error(key, f"{shown(value)} is not a port number", hint="a number from 1 to 65535")
            return
        setattr(out, attr, int(text))

    return parse


# Keys people write under virtual-server.f5.com/ that CIS reads under another prefix (seen in real
# repositories): the hint names the one that works.
OTHER_PREFIX_KEYS = {
    "virtual-server.f5.com/ssl-redirect": "ingress.kubernetes.io/ssl-redirect",
    "virtual-server.f5.com/allow-http": "ingress.kubernetes.io/allow-http",
}


def _balance(value: str, key: str, ctx: Context, out: Annotations) -> None:
    if value not in BALANCE_MODES:
        # CIS users write the LTM names without the suffix and mean the per-member variant
        # (least-connections -> least-connections-member), which difflib alone ranks below -node.
        member = f"{value}-member"
        near = [member] if member in BALANCE_MODES else difflib.get_close_matches(value, BALANCE_MODES, n=1)
        hint = f"did you mean {near[0]!r}?" if near else f"one of: {', '.join(BALANCE_MODES)}"
        ctx.error(key, f"{shown(value)} is not a BIG-IP load-balancing mode", hint=hint)
        return
    out.balance = value


def json_error_location(ctx: Context, key: str, err: json.JSONDecodeError) -> SourceLocation:
    """Point into the JSON text inside the annotation value (block or flow scalar)."""
    base = ctx.where(key)
    text = ctx.meta.doc.source.text
    lines = text.splitlines()
    if 0 < base.line <= len(lines):
        first = lines[base.line - 1][(base.column or 1) - 1:]
        if first[:1] in ("|", ">"):
            content_line = base.line + err.lineno
            if content_line <= len(lines) and base.line < len(lines):
                first_content = lines[base.line]  # a block scalar's indentation is set by its first line
                indent = len(first_content) - len(first_content.lstrip(" "))
                return SourceLocation(base.path, content_line, indent + err.colno)
        if first[:1] in ("'", '"') and err.lineno == 1:
            return SourceLocation(base.path, base.line, (base.column or 1) + err.colno)
    return base


_INVALID = object()


def _json(value: str, key: str, ctx: Context) -> Any:
    """The parsed value, or _INVALID (with a finding)."""
    try:
        return json.loads(value)
    except json.JSONDecodeError as err:
        ctx.error(key, f"invalid JSON: {err.msg}", hint="the value must be a JSON array",
                  location=json_error_location(ctx, key, err), code="ANN005")
    except RecursionError:
        ctx.error(key, "invalid JSON: nesting too deep", code="ANN005")
    except ValueError as err:  # e.g. an integer beyond Python's 4300-digit conversion limit
        ctx.error(key, f"invalid JSON: {err}", code="ANN005")
    return _INVALID


def _health(value: str, key: str, ctx: Context, out: Annotations) -> None:
    data = _json(value, key, ctx)
    if data is _INVALID:
        return
    if not isinstance(data, list):
        ctx.error(key, f"must be a JSON array of monitors, not {shown(json.dumps(data), 40)}", code="ANN005")
        return
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            ctx.error(key, f"monitor {i} must be a JSON object", code="ANN005")
            continue
        problems = []
        unknown = sorted(set(item) - {"path", "send", "recv", "interval", "timeout", "type", "sslProfile"})
        if unknown:
            problems.append(f"unknown field(s) {', '.join(unknown)}")
        for name in ("path", "send", "recv", "sslProfile", "type"):
            if name in item and not isinstance(item[name], str):
                problems.append(f"{name} must be a string")
        for name in ("interval", "timeout"):
            v = item.get(name, 0)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 86400:
                problems.append(f"{name} must be an integer from 0 to 86400")
        mtype = item.get("type", "http")
        if isinstance(mtype, str) and mtype not in MONITOR_TYPES:
            problems.append(f"type {mtype!r} is not one of {', '.join(MONITOR_TYPES)}")
        path = item.get("path")
        if ctx.route and path is None:
            path = ""  # CIS's Route modes apply such an entry to the Route's own host and path
        elif not isinstance(path, str) or "/" not in path:
            problems.append("path must be 'host/uri' (use 'anything/' for a single-service Ingress)")
        if problems:
            ctx.error(key, f"monitor {i}: {'; '.join(problems)}", code="ANN005")
            continue
        out.health.append(HealthCheck(
            path=path, send=item.get("send"), recv=item.get("recv"), interval=item.get("interval", 0),
            timeout=item.get("timeout", 0), type=mtype, ssl_profile=item.get("sslProfile"),
            where=lambda: ctx.where(key)))


def _profile_path(value: str) -> str:
    return value if value.startswith("/") else "/" + value


def _clientssl(value: str, key: str, ctx: Context, out: Annotations) -> None:
    data = _json(value, key, ctx)
    if data is _INVALID:
        return
    if not isinstance(data, list) or not data or not all(isinstance(i, dict) and isinstance(i.get("bigIpProfile"), str)
                                             for i in data):
        ctx.error(key, 'must be a JSON array like [{"hosts": [...], "bigIpProfile": "/Common/clientssl"}]',
                  code="ANN005")
        return
    out.clientssl = sorted({_profile_path(i["bigIpProfile"]) for i in data})


def _serverssl(value: str, key: str, ctx: Context, out: Annotations) -> None:
    out.serverssl = _profile_path(value.strip())


def _pairs(value: str, key: str, ctx: Context, sep: str = "=") -> list[tuple[str, str]] | None:
    pairs = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        if sep not in part:
            ctx.error(key, f"{shown(part)} is not 'a{sep}b'")
            return None
        a, b = part.split(sep, 1)
        pairs.append((a.strip(), b.strip()))
    return pairs


def _app_root(value: str, key: str, ctx: Context, out: Annotations) -> None:
    if "=" not in value:  # single-service form: just the path
        out.app_root = {"": value.strip()}
        return
    pairs = _pairs(value, key, ctx)
    if pairs is not None:
        out.app_root = dict(pairs)


def _rewrite_target(value: str, key: str, ctx: Context, out: Annotations) -> None:
    if ctx.route and "=" not in value:  # Routes: the single form, the Route's host/path -> this target
        out.rewrite_target = [("", value.strip())]
        return
    pairs = _pairs(value, key, ctx)
    if pairs is not None:
        out.rewrite_target = pairs


def _source_ranges(value: str, key: str, ctx: Context, out: Annotations) -> None:
    cidrs = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            cidrs.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            ctx.error(key, f"{shown(part)} is not a CIDR",
                      hint="comma-separated CIDRs such as 10.0.0.0/8,192.168.1.0/24")
            return
    if key.endswith("whitelist-source-range") or not out.source_ranges:
        out.source_ranges = cidrs


def _bool(attr: str) -> Callable[[str, str, Context, Annotations], None]:
    def parse(value: str, key: str, ctx: Context, out: Annotations) -> None:
        if value.lower() not in ("true", "false"):
            ctx.error(key, f"{shown(value)} is not 'true' or 'false'")
            return
        setattr(out, attr, value.lower() == "true")

    return parse


PARSERS: dict[str, Callable[[str, str, Context, Annotations], None]] = {
    PREFIX + "ip": _ip,
    PREFIX + "partition": _partition,
    PREFIX + "http-port": _port("http_port"),
    PREFIX + "https-port": _port("https_port"),
    PREFIX + "balance": _balance,
    PREFIX + "health": _health,
    PREFIX + "clientssl": _clientssl,
    PREFIX + "serverssl": _serverssl,
    PREFIX + "rewrite-app-root": _app_root,
    PREFIX + "rewrite-target-url": _rewrite_target,
    PREFIX + "allow-source-range": _source_ranges,
    PREFIX + "whitelist-source-range": _source_ranges,  # after allow-: whitelist wins, as in CIS
    PREFIX + "translate-server-address": _bool("translate_address"),
    "ingress.kubernetes.io/ssl-redirect": _bool("ssl_redirect"),
    "ingress.kubernetes.io/allow-http": _bool("allow_http"),
}
ROUTE_ONLY = (PREFIX + "secure-serverssl", PREFIX + "waf")
# what CIS reads on Routes (cis-crd-behaviour.md §9.1); the rest is Ingress-only
ROUTE_KEYS = (PREFIX + "balance", PREFIX + "health", PREFIX + "clientssl", PREFIX + "serverssl",
              PREFIX + "rewrite-app-root", PREFIX + "rewrite-target-url", PREFIX + "allow-source-range",
              PREFIX + "whitelist-source-range")


def _route_profile(value: str) -> str:
    value = value.strip()
    return value if value.startswith("/") else "/" + value if "/" in value else f"/Common/{value}"


def _waf(value: str, key: str, ctx: Context, out: Annotations) -> None:
    out.waf = _profile_path(value.strip())


def parse_annotations(meta: ObjectMeta, findings: list[Finding], *, route: bool = False) -> Annotations:
    """Parse every F5 annotation of an Ingress (or, with `route`, of an OpenShift Route); unknown
    `virtual-server.f5.com/` keys and keys for the other kind are warned about."""
    ctx = Context(meta, findings, route)
    out = Annotations()
    route_ssl = (PREFIX + "clientssl", PREFIX + "serverssl")
    for key, parser in PARSERS.items():
        if key in meta.annotations and (not route or (key in ROUTE_KEYS and key not in route_ssl)):
            parser(meta.annotations[key], key, ctx, out)
    if route:  # on Routes clientssl/serverssl are one BIG-IP profile path each ("name" -> /Common/name)
        if route_ssl[0] in meta.annotations:
            out.clientssl = [_route_profile(meta.annotations[route_ssl[0]])]
        if route_ssl[1] in meta.annotations:
            out.serverssl = _route_profile(meta.annotations[route_ssl[1]])
        if PREFIX + "waf" in meta.annotations:
            _waf(meta.annotations[PREFIX + "waf"], PREFIX + "waf", ctx, out)
        if PREFIX + "secure-serverssl" in meta.annotations:
            _bool("secure_serverssl")(meta.annotations[PREFIX + "secure-serverssl"], PREFIX + "secure-serverssl",
                                      ctx, out)
    known = [k for k in PARSERS if k.startswith(PREFIX)]
    for key in sorted(meta.annotations):
        if route and key in PARSERS and key not in ROUTE_KEYS:
            ctx.warn(key, "applies to Ingresses only; ignored for Routes (CIS puts every Route on "
                     "bigip.routeVirtualAddress)", code="ANN001")
            continue
        if not key.startswith(PREFIX) or key in PARSERS:
            continue
        if key in ROUTE_ONLY:
            if not route:
                ctx.warn(key, "applies to OpenShift Routes only; ignored for Ingress", code="ANN001")
            continue
        near = [OTHER_PREFIX_KEYS[key]] if key in OTHER_PREFIX_KEYS else difflib.get_close_matches(key, known, n=1,
                                                                                                       cutoff=0.6)
        ctx.warn(key, "unknown annotation; ignored", hint=f"did you mean {near[0]!r}?" if near else
                 "see the README's annotation table", code="ANN001")
    return out

