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


def may_open_user(
    *, self_allowed: bool = True
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """The view of the user ``pk`` (its URL's): admins open any user; others only themselves when
    ``self_allowed``. 403 before any lookup, so a 404 never tells a user that someone else exists.
    Stack it under ``login_required``."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, pk: int, *args, **kwargs) -> HttpResponse:
            if not (request.user.is_admin or (self_allowed and request.user.pk == pk)):
                raise PermissionDenied
            return view(request, pk, *args, **kwargs)

        return wrapper

    return decorate


def own_account_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view of the user ``pk`` opens for that user alone, admins included (their own
    credentials: nobody mints them for another). Stack it under ``login_required``."""

    @wraps(view)
    def wrapper(request: HttpRequest, pk: int, *args, **kwargs) -> HttpResponse:
        if request.user.pk != pk:
            raise PermissionDenied
        return view(request, pk, *args, **kwargs)

    return wrapper
