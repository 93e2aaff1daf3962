"""Read queries joining users with their flock memberships (flocks reads users; users never reads
flocks)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from users.models import User
from users.selectors import users_with_factors

from .models import FlockMembership


def users_with_details() -> QuerySet[User]:
    """Users annotated with their 2FA state and their memberships prefetched (2 queries)."""
    return users_with_factors().prefetch_related(
        Prefetch(
            "memberships", queryset=FlockMembership.objects.only("user_id", "flock_id", "role")
        )
    )


def users_in_order(pks: list[int]) -> list[User]:
    """``users_with_details`` of these users, in the order given (2 queries)."""
    found = users_with_details().in_bulk(pks)
    return [found[pk] for pk in pks if pk in found]


def flock_ids(user: User, role: str) -> list[str]:
    """Flock ids from the prefetched memberships of ``user`` with ``role``."""
    return sorted(m.flock_id for m in user.memberships.all() if m.role == role)
