"""View markers: pages open during forced enrolment, and changes that need a recent check."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from .session import checked_recently

ENROLMENT_ALLOWED = "twofactor_enrolment_allowed"


def enrolment_allowed(view: Callable) -> Callable:
    """This view stays reachable while the user must still enrol a second factor."""
    setattr(view, ENROLMENT_ALLOWED, True)
    return view


def reauth_url(next_url: str) -> str:
    return f"{reverse('reauth')}?{urlencode({REDIRECT_FIELD_NAME: next_url}, safe='/')}"


def confirm_before_change(request: HttpRequest, back: str) -> HttpResponse:
    """A change sent with a stale check is dropped: the user confirms it is them, comes back to
    ``back`` (a page to GET) and sends it again."""
    messages.info(
        request, "Nothing was changed yet: confirm it is you, then make the change again."
    )
    return redirect(reauth_url(back))


def recent_auth_required(view: Callable) -> Callable:
    """Sensitive changes: ask for the password or a factor again when the last check is stale.

    Pages are sent to the re-authentication page and back; JSON steps (WebAuthn)
    get 401 with the page to visit, which the script follows.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if checked_recently(request):
            return view(request, *args, **kwargs)
        if request.content_type == "application/json":
            url = reauth_url(request.headers.get("X-Return-To") or reverse("security"))
            return JsonResponse(
                {"error": "Please confirm it is you first.", "redirect": url}, status=401
            )
        return redirect(reauth_url(request.get_full_path()))

    return wrapped


def recent_auth_required_when(
    asks: Callable[..., bool], come_back_to: Callable[..., str] | None = None
) -> Callable[[Callable], Callable]:
    """``recent_auth_required`` for the requests ``asks(request, *args)`` picks out (granting admin,
    switching enforcement off), where an intruder with a stale session would go first.

    Without a recent check the request changes nothing: the user confirms it is them and comes
    back to ``come_back_to(request, *args)`` (default: the same URL), a page to GET, where they
    send the change again.
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if asks(request, *args, **kwargs) and not checked_recently(request):
                back = (
                    come_back_to(request, *args, **kwargs)
                    if come_back_to
                    else request.get_full_path()
                )
                return confirm_before_change(request, back)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
