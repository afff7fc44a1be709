"""Keep secrets out of what we print: URLs lose their `user:password@`, wherever they are shown.

BIG-IP credentials come from the environment or a file (never from the URL); a URL that carries
them anyway is refused by the CLI, and every URL the library puts into a message goes through
`without_userinfo` first, so neither error messages nor `--report` files can repeat a password.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_USERINFO_RX = re.compile(r"(//)[^/?#@]*@")


def has_userinfo(url: str) -> bool:
    try:
        return "@" in urlsplit(url).netloc
    except ValueError:
        return _USERINFO_RX.search(url) is not None


def without_userinfo(url: str) -> str:
    """`https://user:pw@host:8443/x` -> `https://host:8443/x` (the URL unchanged when it has none)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO_RX.sub(r"\1", url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def scrub_urls(text: str) -> str:
    """Every `scheme://user:pw@` in free text (an exception's message) without its userinfo."""
    return _USERINFO_RX.sub(r"\1", text)
