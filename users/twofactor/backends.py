"""The sign-in budgets' check as the first authentication backend."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from django.http import HttpRequest

from users import lockouts


class AxesLockoutBackend(AxesStandaloneBackend):
    """Refuses a web sign-in while its (account, address) pair is locked by django-axes, or
    its account or address is over its budget (``users.lockouts``), before any password is
    checked. django-axes' middleware then answers with the lock-out page (429, Retry-After).

    Every sign-in form passes the request; a call without one (the shell, a script) has
    no client address to count, so it is left to the next backend.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs,
    ) -> None:
        if request is None:
            return None
        wait = lockouts.signin_pause(request, username or "")
        if wait is None:
            return None
        request.axes_locked_out = True
        request.signin_wait = wait
        raise AxesBackendPermissionDenied("Signing in is paused for this account or address.")
