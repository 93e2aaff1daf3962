"""Read queries joining users with their flock memberships (flocks reads users; users never reads
flocks)."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from users.models import User
from users.selectors import users_with_factors

from .models import Flock, FlockMembership, FlockRole


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


def _member_count(role: str) -> Coalesce:
    members = (
        FlockMembership.objects.filter(flock=OuterRef("pk"), role=role)
        .order_by()
        .values("flock")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(members, output_field=IntegerField()), 0)


def flocks_with_member_counts() -> QuerySet[Flock]:
    """Flocks with ``manager_count`` and ``watcher_count``: one correlated count per shown
    flock, each an index-only read of its (flock, role) entries, so a page of 50 costs the
    same at 3,000,000 memberships as at 300 (a GROUP BY over the join aggregated them all)."""
    return Flock.objects.annotate(
        manager_count=_member_count(FlockRole.MANAGER),
        watcher_count=_member_count(FlockRole.WATCHER),
    )
