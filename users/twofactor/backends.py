"""django-axes' lock-out check as the first authentication backend."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class AxesLockoutBackend(AxesStandaloneBackend):
    """Refuses locked-out names and addresses on web sign-ins.

    Every sign-in form passes the request; a call without one (the shell, a
    script) has no client address to count, so it is left to the next backend
    instead of raising as the stock axes backend does.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs
    ):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
