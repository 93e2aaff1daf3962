"""The client's address, as every face records and limits it.

Behind reverse proxies ``REMOTE_ADDR`` is the nearest proxy's address, so the client comes
from ``X-Forwarded-For``, whose entries are trustworthy only as far as they were appended by
proxies we run. ``PORTAL_TRUSTED_PROXIES`` says which: a number of hops, or the proxies'
networks. Walking from the right, the first address not added by a trusted proxy is the
client; whatever a client writes into the header itself lies further left and is ignored.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request: HttpRequest) -> str:
    """The client address of ``request`` (also django-axes' AXES_CLIENT_IP_CALLABLE)."""
    remote = request.META.get("REMOTE_ADDR", "")
    hops, networks = _trusted(settings.PORTAL_TRUSTED_PROXIES)
    if not hops and not networks:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    chain = [*forwarded, remote]  # nearest last
    client = remote
    for position, address in enumerate(reversed(chain)):
        parsed = _parse(address)
        if (
            parsed is None
        ):  # a proxy passed on garbage it was sent: the hop before it is all we know
            return client
        client = address
        trusted = position < hops if hops else any(parsed in network for network in networks)
        if not trusted:
            return client
    return client


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


@lru_cache(maxsize=4)
def _trusted(value: str) -> tuple[int, tuple[Network, ...]]:
    """``"2"`` → two hops; ``"10.0.0.0/8, 127.0.0.1"`` → those networks; ``""`` → none."""
    value = value.strip()
    if not value:
        return 0, ()
    if value.isdigit():
        return int(value), ()
    return 0, tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in value.split(",")
        if part.strip()
    )
