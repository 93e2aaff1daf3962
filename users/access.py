"""How a user page's action is guarded, stacked at the view: sign-in, then who may open the user
(``portal.lib.access.may_open_user``), each checked once per request, then the action.

A service error becomes a flash message and the profile reloads (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from portal.lib.access import may_open_user
from portal.lib.errors import PortalError
from users.twofactor.decorators import recent_auth_required

from .models import User

UserAction = Callable[[HttpRequest, User], HttpResponse | None]
View = Callable[..., HttpResponse]
# Why an action cannot apply to this user (None: it can); the profile disables or hides it
# with the same reason, and the action refuses it, changing nothing.
Refusal = Callable[[HttpRequest, User], str | None]


def _run(action: UserAction, request: HttpRequest, pk: int, refuse: Refusal | None) -> HttpResponse:
    """The action on the user ``pk``; its reply, else back to the profile."""
    user = get_object_or_404(User, pk=pk)
    reason = refuse(request, user) if refuse else None
    if reason:
        messages.error(request, f"{reason} Nothing was changed.")
        return redirect("user_detail", pk=user.pk)
    try:
        response = action(request, user)
    except PortalError as exc:
        messages.error(request, exc.message)
        response = None
    return response or redirect("user_detail", pk=user.pk)


def user_action(
    *, self_allowed: bool = False, refuse: Refusal | None = None
) -> Callable[[UserAction], View]:
    """A POST-only action on one user: sign-in, POST (405), who may open the user (403,
    changing nothing), whether it applies (``refuse``), then the action."""

    def decorate(action: UserAction) -> View:
        @login_required
        @require_POST
        @may_open_user(self_allowed=self_allowed)
        @wraps(action)
        def view(request: HttpRequest, pk: int) -> HttpResponse:
            return _run(action, request, pk, refuse)

        return view

    return decorate


def confirmed_action(
    *,
    title: str,
    question: str,
    button: str,
    self_allowed: bool = False,
    list_keys: bool = False,
    recent_check: bool = False,
    button_class: str = "danger",
    refuse: Refusal | None = None,
) -> Callable[[UserAction], View]:
    """A destructive action: GET shows a confirmation page, POST does it. With ``recent_check``
    (taking away someone's access or factors) both ask for the admin's password or factor again
    when their last check is stale, then come back to the confirmation page."""

    def decorate(action: UserAction) -> View:
        def confirm_or_do(request: HttpRequest, pk: int) -> HttpResponse:
            if request.method == "POST":
                return _run(action, request, pk, refuse)
            user = get_object_or_404(User.objects.prefetch_related("webauthn_credentials"), pk=pk)
            context = {
                "refused": refuse(request, user) if refuse else None,
                "section": "users",
                "person": user,
                "title": title.format(user=user.label),
                "question": question.format(user=user.label),
                "button": button,
                "button_class": button_class,
                "cancel_url": reverse("user_detail", args=[user.pk]),
                "keys": user.webauthn_credentials.all() if list_keys else None,
            }
            return render(request, "confirm.html", context)

        checked = recent_auth_required(confirm_or_do) if recent_check else confirm_or_do
        return login_required(may_open_user(self_allowed=self_allowed)(wraps(action)(checked)))

    return decorate
