"""What the sign-in and Security pages tell their script: the origin security keys work at."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def webauthn_origin(request: HttpRequest) -> dict[str, str]:
    """``static/js/webauthn.js`` compares it with the page's own origin: keys are bound to
    ``WEBAUTHN_ORIGIN``, so on another address (127.0.0.1 for localhost) the key button names
    the address to open instead of failing."""
    return {"webauthn_origin": settings.WEBAUTHN_ORIGIN}
