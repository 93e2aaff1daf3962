"""Who may open which page: checked on the server by every view, not only by hiding links.

Admins manage everything; a user sees only their own profile (``users/access.py`` guards the
user pages) and the flocks they belong to (``flocks/access.py`` checks the flock role).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to sign-in; signed-in non-admins get 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def ensure_may_open(request: HttpRequest, pk: int, *, self_allowed: bool = True) -> None:
    """Admins open any user; others only themselves (checked before any lookup, so a 404
    never tells a user that someone else exists)."""
    if not (request.user.is_admin or (self_allowed and request.user.pk == pk)):
        raise PermissionDenied
