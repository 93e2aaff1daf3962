"""Enforcement: a user who must have a second factor and has none may only enrol or sign out;
one in their grace period sees a reminder on every page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from .decorators import ENROLMENT_ALLOWED
from .policy import Enrolment, enrolment

EXEMPT_PREFIXES = ("/api/",)  # the APIs authenticate each request with tokens, not sessions
CACHED = "_twofactor_enrolment"


def enrolment_of(request: HttpRequest) -> Enrolment | None:
    """The signed-in user's ``Enrolment``, read once per request (the wall, the banner and the
    Security page share it); None for visitors."""
    if not request.user.is_authenticated:
        return None
    if not hasattr(request, CACHED):
        setattr(request, CACHED, enrolment(request.user))
    return getattr(request, CACHED)


class EnrolmentRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args, view_kwargs
    ) -> HttpResponse | None:
        # The path first: reading request.user loads the session and the OTP device, work an
        # API request (which authenticates with its own credentials) never needs.
        if (
            not request.path.startswith(EXEMPT_PREFIXES)
            and not getattr(view_func, ENROLMENT_ALLOWED, False)
            and request.user.is_authenticated
            and enrolment_of(request).must_enrol
        ):
            return redirect("security")
        return None
