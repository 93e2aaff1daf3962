"""Read queries joining users with their flock memberships (flocks reads users; users never reads
flocks)."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from users.models import User
from users.selectors import fragment_match, users_with_factors

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


PICKER_LIMIT = 20


def visible_flocks(viewer: User) -> QuerySet[Flock]:
    """Every flock for an admin; anyone else's own flocks (as the flocks page lists them)."""
    if viewer.is_admin:
        return Flock.objects.all()
    return Flock.objects.filter(memberships__user=viewer)


def flock_choices(
    viewer: User, term: str, *, role_of: User | None = None, limit: int = PICKER_LIMIT
) -> tuple[list[Flock], bool]:
    """At most ``limit`` of the flocks ``viewer`` sees whose name matches ``term`` (a fragment,
    indexed: ``fragment_match``), by name, each with ``role``: ``role_of``'s role in it or None;
    and whether there are more. One query, whatever the number of flocks."""
    flocks = visible_flocks(viewer)
    if term:
        flocks = flocks.filter(fragment_match(term, "name"))
    if role_of is not None:
        mine = FlockMembership.objects.filter(flock=OuterRef("pk"), user=role_of)
        flocks = flocks.annotate(role=Subquery(mine.values("role")[:1]))
    found = list(flocks.order_by("name", "flock_id")[: limit + 1])
    return found[:limit], len(found) > limit


def people_for(viewer: User) -> QuerySet[User]:
    """Whom ``viewer`` may pick as a flock's new member: every user with an e-mail for an
    admin; for a manager, only the users who share a flock with them (people they can see on
    their flocks' pages already, so listing them reveals no account)."""
    people = User.objects.filter(email__isnull=False)
    if viewer.is_admin:
        return people
    their_flocks = FlockMembership.objects.filter(user=viewer).values("flock_id")
    return people.filter(
        pk__in=FlockMembership.objects.filter(flock_id__in=their_flocks).values("user_id")
    )


def people_choices(
    viewer: User, flock: Flock, term: str, *, limit: int = PICKER_LIMIT
) -> tuple[list[User], bool]:
    """At most ``limit`` of ``people_for(viewer)`` matching ``term`` in e-mail or user name, each
    with ``role``: their role in ``flock`` or None; and whether there are more. One query."""
    people = people_for(viewer)
    if term:
        people = people.filter(fragment_match(term, "email", "username"))
    role = FlockMembership.objects.filter(flock=flock, user=OuterRef("pk")).values("role")[:1]
    found = list(people.annotate(role=Subquery(role)).order_by("email")[: limit + 1])
    return found[:limit], len(found) > limit
