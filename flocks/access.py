"""Who may open a flock's page, stacked at the view: admins open every flock; a member sees
their flock, and a manager changes it. The view gets the flock and the visitor's role in it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from . import services
from .models import Flock, FlockRole

FlockView = Callable[..., HttpResponse]


def flock_page(*, manage: bool = False) -> Callable[[FlockView], FlockView]:
    """Load the flock of the URL's ``flock_id`` (404) and call ``view(request, flock, role, …)``,
    ``role`` None for an admin; 403 unless admin, member (to see) or manager (with ``manage``).
    Stack it under ``login_required``."""

    def decorate(view: FlockView) -> FlockView:
        @wraps(view)
        def wrapper(request: HttpRequest, flock_id: str, *args, **kwargs) -> HttpResponse:
            flock = get_object_or_404(Flock, flock_id=flock_id)
            role = None
            if not request.user.is_admin:
                role = services.role_of(request.user, flock)
                if role is None or (manage and role != FlockRole.MANAGER):
                    raise PermissionDenied
            return view(request, flock, role, *args, **kwargs)

        return wrapper

    return decorate
