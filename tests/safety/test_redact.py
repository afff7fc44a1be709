"""Issue 15, defect 4: URLs are shown without `user:password@` (the CLI refuses such a --host; the
library strips it from every URL it puts into a message or report)."""

from __future__ import annotations

import io

import pytest

from renderer.cli.output import print_error
from renderer.errors import DeviceError
from renderer.redact import has_userinfo, scrub_urls, without_userinfo


@pytest.mark.parametrize("url, shown", [
    ("https://admin:pw@10.0.0.1:8443/mgmt", "https://10.0.0.1:8443/mgmt"),
    ("https://admin@10.0.0.1", "https://10.0.0.1"),
    ("https://a:b@[2001:db8::1]:443/x?y=1", "https://[2001:db8::1]:443/x?y=1"),
    ("https://10.0.0.1/path@not-userinfo", "https://10.0.0.1/path@not-userinfo"),
    ("https://u:p@[broken/x", "https://[broken/x"),
])
def test_urls_lose_their_userinfo(url, shown):
    assert without_userinfo(url) == shown
    assert has_userinfo(url) == (url != shown)


def test_messages_are_scrubbed_where_errors_are_printed():
    err = DeviceError("POST https://admin:Hunter2@bigip/mgmt failed", hint="see http://x:Hunter2@y/")
    stream = io.StringIO()
    print_error(err, stream)
    assert "Hunter2" not in stream.getvalue() and "https://bigip/mgmt" in stream.getvalue()
    assert scrub_urls("a http://u:p@h b") == "a http://h b"
