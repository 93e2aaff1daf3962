"""Signing sessions out: your own on the Security page, a user's on their page (admins).

Sessions are named by their public id (``users.active_sessions.session_id``), posted as
``session``. The session a request comes from is never ended here (its Sign out button does
that): it is not offered, and a posted id of it is refused like an unknown one (404).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from users.twofactor.decorators import enrolment_allowed

from . import active_sessions
from .access import user_action
from .audit import Actor
from .models import User


def sessions_context(request: HttpRequest, user: User) -> dict[str, object]:
    """What ``twofactor/_sessions.html`` lists: the live sessions of ``user``, the request's own
    marked, and whether any other is there to sign out."""
    sessions = active_sessions.active_sessions(user, current_key=request.session.session_key)
    return {"sessions": sessions, "other_sessions": any(not s.current for s in sessions)}


def _posted_id(request: HttpRequest) -> str:
    session_id = request.POST.get("session", "")
    if not session_id:
        raise BadRequest("session is required")
    return session_id


def _end_one(request: HttpRequest, user: User) -> None:
    """End the posted session of ``user`` (404 when it is not one of their live sessions)."""
    ended = active_sessions.end_session(
        Actor.from_request(request), user, _posted_id(request), keep=request.session.session_key
    )
    if not ended:
        raise Http404("No such session")
    messages.success(request, "Signed out that session.")


def _end_others(request: HttpRequest, user: User) -> None:
    count = active_sessions.end_other_sessions(
        Actor.from_request(request), user, keep=request.session.session_key
    )
    other = " other" if user == request.user else ""
    if count:
        messages.success(request, f"Signed out {count}{other} session{'s' if count != 1 else ''}.")
    else:
        messages.info(request, f"There were no{other} sessions to sign out.")


def _back_to_security() -> HttpResponse:
    return redirect(reverse("security") + "#sessions")


@login_required
@require_POST
@enrolment_allowed
def session_end(request: HttpRequest) -> HttpResponse:
    """Sign out one of your other sessions."""
    _end_one(request, request.user)
    return _back_to_security()


@login_required
@require_POST
@enrolment_allowed
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    """Sign out everywhere else: every session of yours but this one."""
    _end_others(request, request.user)
    return _back_to_security()


@user_action()
def user_session_end(request: HttpRequest, user: User) -> HttpResponse:
    """An admin ends one of the user's sessions, or (``all``) every one of them but the admin's
    own current session."""
    if request.POST.get("all") == "1":
        _end_others(request, user)
    else:
        _end_one(request, user)
    return redirect(reverse("user_detail", args=[user.pk]) + "#sessions")
