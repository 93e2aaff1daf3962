"""The client address behind proxies: only entries our own proxies appended are believed."""

from __future__ import annotations

import pytest

from portal.client_ip import client_ip


@pytest.mark.parametrize(
    ("trusted", "forwarded", "remote", "expected"),
    [
        ("", "203.0.113.9", "10.0.0.2", "10.0.0.2"),  # nothing trusted: the header is ignored
        ("1", "203.0.113.9", "10.0.0.2", "203.0.113.9"),
        ("1", "6.6.6.6, 203.0.113.9", "10.0.0.2", "203.0.113.9"),  # a forged left part is ignored
        ("2", "6.6.6.6, 203.0.113.9, 10.0.0.1", "10.0.0.2", "203.0.113.9"),
        ("2", "203.0.113.9", "10.0.0.2", "203.0.113.9"),  # fewer entries than hops: left-most
        ("10.0.0.0/8", "6.6.6.6, 203.0.113.9, 10.0.0.1", "10.0.0.2", "203.0.113.9"),
        ("10.0.0.0/8, 127.0.0.1", "203.0.113.9, 127.0.0.1", "10.0.0.2", "203.0.113.9"),
        ("10.0.0.0/8", "203.0.113.9", "198.51.100.7", "198.51.100.7"),  # not from our proxy
        ("1", "not-an-address", "10.0.0.2", "10.0.0.2"),  # garbage: the proxy's own view
        ("1", "", "10.0.0.2", "10.0.0.2"),
        ("1", "2001:db8::1", "::1", "2001:db8::1"),
    ],
)
def test_client_is_the_right_most_untrusted_address(
    rf, settings, trusted, forwarded, remote, expected
):
    settings.PORTAL_TRUSTED_PROXIES = trusted
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
