"""JSON for the search-as-you-type pickers (static/js/picker.js). Each answer is one indexed,
limited query, checked as the pages are: flocks a visitor may see; people an admin, or a
flock's manager, may add to that flock. Without JavaScript the pages offer the same choices
through plain search forms."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from users.models import User

from .access import flock_page
from .models import NAME_MAX_LENGTH, Flock
from .selectors import flock_choices, people_choices

TERM_MAX_LENGTH = 254


def _term(request: HttpRequest, limit: int) -> str:
    return request.GET.get("q", "").strip()[:limit]


@never_cache
@require_GET
@login_required
def flock_search(request: HttpRequest) -> JsonResponse:
    """``?q=<part of a name>`` (and, for admins, ``user=<id>`` to say that user's role in each)."""
    role_of, user_id = None, request.GET.get("user", "")
    if request.user.is_admin and user_id:
        if not (user_id.isdigit() and len(user_id) <= 18):
            return JsonResponse({"message": "user must be a user's id"}, status=400)
        role_of = get_object_or_404(User, pk=int(user_id))
    flocks, more = flock_choices(request.user, _term(request, NAME_MAX_LENGTH), role_of=role_of)
    results = [
        {"id": f.flock_id, "label": f.name, "role": getattr(f, "role", None)} for f in flocks
    ]
    return JsonResponse({"results": results, "more": more})


@never_cache
@require_GET
@login_required
@flock_page(manage=True)
def flock_people(request: HttpRequest, flock: Flock, role: str | None) -> JsonResponse:
    """``?q=<part of an e-mail or user name>``: people the visitor may add to ``flock``."""
    people, more = people_choices(request.user, flock, _term(request, TERM_MAX_LENGTH))
    results = [{"id": p.email, "label": p.label, "role": p.role} for p in people]
    return JsonResponse({"results": results, "more": more})
