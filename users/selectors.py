"""Read queries on users and the audit log shared by the APIs and the pages, each a constant number
of queries.

Keyset pages live in ``portal/lib/keyset.py``; what joins users and flocks (a user with their
memberships) in ``flocks/selectors.py``; the JSON descriptions in ``portal/json_replies.py``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.lib.compiled_lookup import rows_where
from portal.lib.counting import bounded_count

from .models import AccessLevel, AuditEntry, User, WebAuthnCredential


def users_with_factors() -> QuerySet[User]:
    """Users annotated with their 2FA state (``has_totp``, ``has_webauthn``), in the same query."""
    return User.objects.annotate(has_totp=_has_totp(), has_webauthn=_has_webauthn())


def users_where(
    columns: tuple[str, ...], values: list[str], fields: tuple[str, ...] = ()
) -> list[User]:
    """Users whose ``columns[i]`` equals ``values[i]`` for any i (unique columns: 0 to len rows),
    with only ``fields`` loaded when given (others load on first access, one query each).

    Every API request runs one, so its SQL is compiled once per connection
    (``portal.lib.compiled_lookup``); loading only the fields a request reads spares
    converting the rest (SQLite parses each datetime).
    """
    return rows_where(User, columns, values, fields)


SUBSTRING_MIN_LENGTH = 3


def fragment_match(term: str, *fields: str) -> Q:
    """Rows where any of ``fields`` contains ``term`` (case-insensitive), or, for a term shorter
    than 3 characters, starts with it: trigram indexes (PostgreSQL, migration 0002) serve
    fragments of 3 characters or more; a shorter one would match most of a large table."""
    lookup = "icontains" if len(term) >= SUBSTRING_MIN_LENGTH else "istartswith"
    match = Q()
    for field in fields:
        match |= Q(**{f"{field}__{lookup}": term})
    return match


def audit_entries(
    *,
    action_type: str = "",
    search: str = "",
    user_label: str = "",
    flock_id: str = "",
    start: date | None = None,
    end: date | None = None,
    after_id: int | None = None,
) -> QuerySet[AuditEntry]:
    """The audit log filtered as both the API and the audit page allow."""
    entries = AuditEntry.objects.all()
    if action_type:
        entries = entries.filter(action_type=action_type)
    if search:
        entries = entries.filter(fragment_match(search, "message", "actor_label", "target_label"))
    if user_label:
        entries = entries.filter(Q(actor_label=user_label) | Q(target_label=user_label))
    if flock_id:
        entries = entries.filter(flock_id=flock_id)
    if start:
        entries = entries.filter(timestamp__gte=datetime.combine(start, time.min, tzinfo=UTC))
    if end:
        entries = entries.filter(
            timestamp__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
        )
    if after_id is not None:
        entries = entries.filter(id__gt=after_id)
    return entries


class TwoFactor:
    """The 2FA states the users page filters by."""

    NONE, TOTP, WEBAUTHN, BOTH = "none", "totp", "webauthn", "both"
    CHOICES = [
        (NONE, "None"),
        (TOTP, "Authenticator app only"),
        (WEBAUTHN, "Security keys only"),
        (BOTH, "Authenticator app and security keys"),
    ]


USER_SORTS = {
    "username": ("username",),
    "-username": ("-username",),
    "email": ("email", "pk"),
    "-email": ("-email", "-pk"),
    "joined": ("date_joined", "pk"),
    "-joined": ("-date_joined", "-pk"),
    "access": ("access_level", "username"),
    "-access": ("-access_level", "username"),
    # Never (NULL) counts as the oldest on both databases, as the indexes store it
    # (``portal.lib.indexes.NullsFirstIndex``): first ascending, last descending.
    "last_login": (F("last_login").asc(nulls_first=True), "pk"),
    "-last_login": (F("last_login").desc(nulls_last=True), "-pk"),
    "api_used": (F("api_token_last_used").asc(nulls_first=True), "pk"),
    "-api_used": (F("api_token_last_used").desc(nulls_last=True), "-pk"),
}


class SignedIn:
    """The users page's "last signed in" filter: never, or not within some days (never
    included)."""

    NEVER = "never"
    DAYS = (30, 90, 365)
    CHOICES = [(NEVER, "Never"), *((str(days), f"Not in {days} days") for days in DAYS)]

    @classmethod
    def where(cls, value: str) -> Q:
        if value == cls.NEVER:
            return Q(last_login__isnull=True)
        cutoff = timezone.now() - timedelta(days=int(value))
        return Q(last_login__isnull=True) | Q(last_login__lt=cutoff)


def search_users(
    *,
    search: str = "",
    access_level: str = "",
    disabled: bool | None = None,
    two_factor: str = "",
    has_token: bool | None = None,
    signed_in: str = "",
    sort: str = "username",
) -> QuerySet[User]:
    """The users page's filtered, sorted list, plain: page through its ids, then load
    that page's details with ``users_in_order`` (so deep pages skip no annotations)."""
    users = User.objects.all()
    if search:
        users = users.filter(fragment_match(search, "email", "username", "note"))
    if access_level:
        users = users.filter(access_level=access_level)
    if disabled is not None:
        users = users.filter(is_active=not disabled)
    if two_factor:
        totp = two_factor in (TwoFactor.TOTP, TwoFactor.BOTH)
        webauthn = two_factor in (TwoFactor.WEBAUTHN, TwoFactor.BOTH)
        users = users.filter(
            _has_totp() if totp else ~_has_totp(),
            _has_webauthn() if webauthn else ~_has_webauthn(),
        )
    if has_token is not None:
        users = users.filter(api_token_index__isnull=not has_token)
    if signed_in:
        users = users.filter(SignedIn.where(signed_in))
    return users.order_by(*USER_SORTS.get(sort, USER_SORTS["username"]))


def _has_totp() -> Exists:
    return Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))


def _has_webauthn() -> Exists:
    return Exists(WebAuthnCredential.objects.filter(user=OuterRef("pk")))


def user_counts() -> dict[str, int]:
    """The dashboard's head counts, one capped query each (``bounded_count``): exact up to
    ``EXACT_COUNT_LIMIT``, the planner's estimate above, so a visit never reads a million rows.
    Each filter reads its own index (access level, active, token index)."""
    users = User.objects.all()
    sets = {
        "total": users,
        "admins": users.filter(access_level=AccessLevel.ADMIN),
        "disabled": users.filter(is_active=False),
        "tokens": users.filter(api_token_index__isnull=False),
    }
    return {name: bounded_count(rows).value for name, rows in sets.items()}


def users_without_second_factor() -> QuerySet[User]:
    """Active users with neither a confirmed TOTP device nor a security key: those the
    global 2FA switch would send to enrol."""
    return User.objects.filter(~_has_totp(), ~_has_webauthn(), is_active=True)


def recent_audit_entries(user: User, limit: int = 10) -> list[AuditEntry]:
    """The newest entries a user made or was the target of, by id: a label another user once
    shared (a user name equal to this user's e-mail) brings in none of theirs.

    Two queries, each reading its index ((actor, id) or (target, id)) newest first and
    stopping after ``limit``; merged here.
    """
    by = AuditEntry.objects.filter(actor=user).order_by("-id")[:limit]
    about = AuditEntry.objects.filter(target=user).order_by("-id")[:limit]
    entries = {entry.pk: entry for entry in [*by, *about]}
    return [entries[pk] for pk in sorted(entries, reverse=True)[:limit]]


ACTION_TYPES_SQL = """
WITH RECURSIVE t(a) AS (
    SELECT MIN(action_type) FROM users_auditentry
    UNION ALL
    SELECT (SELECT MIN(action_type) FROM users_auditentry WHERE action_type > t.a)
    FROM t WHERE t.a IS NOT NULL
)
SELECT a FROM t WHERE a IS NOT NULL
"""


def action_types() -> list[str]:
    """Every action type the log holds, for the audit page's filter.

    A plain DISTINCT reads the whole action_type index (0.1 s at 500,000 entries); this
    recursive query hops from one value to the next instead (a few ms), on SQLite too.
    """
    with connection.cursor() as cursor:
        cursor.execute(ACTION_TYPES_SQL)
        return [row[0] for row in cursor.fetchall()]
