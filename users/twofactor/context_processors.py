"""Template context every page shares: the grace-period reminder (base.html)."""

from __future__ import annotations

from django.http import HttpRequest

from .middleware import EXEMPT_PREFIXES, enrolment_of


def enrolment_banner(request: HttpRequest) -> dict:
    """``grace_deadline`` while the signed-in user is in their grace period, else None; the
    enrolment middleware has usually read it already for this request (no query then)."""
    user = getattr(request, "user", None)  # error pages may render before authentication
    if user is None or not user.is_authenticated or request.path.startswith(EXEMPT_PREFIXES):
        return {"grace_deadline": None}
    state = enrolment_of(request)
    return {"grace_deadline": state.deadline if state.in_grace else None}
