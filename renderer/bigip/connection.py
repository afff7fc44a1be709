"""Say what went wrong on the way to the device, in words, naming host and port.

requests wraps every transport failure in a handful of exception classes whose text is a nested
repr of urllib3 and OpenSSL errors. A user needs the cause: the port does not speak TLS (an
`https://` URL against a plain-HTTP port), the certificate is not trusted or names another host,
nothing listens there, the name does not resolve, or nothing answers. The URL shown is only
scheme, host and port: never userinfo, path or query.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# OpenSSL's words when the other side answered something that is not a TLS record (plain HTTP).
_NOT_TLS = ("wrong version number", "wrong_version_number", "record layer failure", "packet length too long",
            "unknown protocol", "http request", "tlsv1 alert protocol version")


def endpoint(url: str) -> str:
    """`host:port` of a URL (default port by scheme), without userinfo."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port or (443 if parts.scheme == 'https' else 80)}"


def normalise_host(host: str) -> str:
    """A --host value as a URL: `https://` when no scheme is given; a bare IPv6 address in brackets."""
    if host.startswith(("https://", "http://")):
        return host
    if host.count(":") >= 2 and not host.startswith("["):  # ::1, fe80::1: an IPv6 literal without a port
        host = f"[{host}]"
    return "https://" + host


def tls_problem(err: BaseException, url: str, verify: bool | str) -> tuple[str, str]:
    """(message, hint) for a requests SSLError."""
    text = str(err).lower()
    where = endpoint(url)
    if any(word in text for word in _NOT_TLS):
        plain = url.replace("https://", "http://", 1)
        return (f"{where} does not speak TLS (the server answered in plain text)",
                f"if the device (or emulator) serves plain HTTP there, use --host http://{endpoint(plain)}; "
                "otherwise check the port (a BIG-IP's management port is 443)")
    if "hostname mismatch" in text or "doesn't match" in text or "not valid for" in text:
        return (f"the TLS certificate of {where} is for another name",
                "use the name the certificate was issued for in --host, or a certificate that names this host")
    if "certificate verify failed" in text or "certificate_verify_failed" in text:
        which = f"the CA in {verify}" if isinstance(verify, str) else "the system's CAs (or REQUESTS_CA_BUNDLE)"
        return (f"the TLS certificate of {where} is not trusted by {which}",
                "pass --ca-bundle with the device's CA certificate (PEM), or --insecure to skip verification")
    return (f"TLS handshake with {where} failed ({_last_reason(err)})",
            "check that the URL's scheme and port are those of the BIG-IP's management interface")


def connection_problem(err: BaseException, url: str) -> str:
    """The cause of a failed request, in words: refused, unresolvable, timed out, closed."""
    import requests  # here: the CLI imports this module for --host, and a render needs no HTTP client

    text = str(err).lower()
    where = endpoint(url)
    if isinstance(err, requests.exceptions.ConnectTimeout):
        return f"no answer from {where} (connect timeout)"
    if "connection refused" in text or "errno 111" in text:
        return f"connection to {where} refused (nothing listens there?)"
    if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo failed" in text \
            or "temporary failure in name resolution" in text or "no address associated" in text:
        return f"cannot resolve the host name of {where}"
    if isinstance(err, requests.exceptions.ReadTimeout):
        return f"{where} did not answer in time (read timeout)"
    if "remotedisconnected" in text or "badstatusline" in text or "connection aborted" in text:
        return f"{where} closed the connection without an HTTP answer"
    return f"connection to {where} failed ({type(err).__name__})"


def _last_reason(err: BaseException) -> str:
    text = str(err)
    return text.rsplit("(", 1)[-1].rstrip(")'\" ") if "(" in text else text[:200]
