"""Read-side queries shared by the APIs and the pages, each a constant number of queries."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import operator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, connections
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from flocks.models import FlockMembership, FlockRole

from .errors import InvalidInput
from .models import AccessLevel, AuditEntry, User, WebAuthnCredential


def users_with_details() -> QuerySet[User]:
    """Users annotated with their 2FA state and their memberships prefetched (2 queries)."""
    return User.objects.annotate(has_totp=_has_totp(), has_webauthn=_has_webauthn()).prefetch_related(
        Prefetch("memberships", queryset=FlockMembership.objects.only("user_id", "flock_id", "role"))
    )


def users_where(columns: tuple[str, ...], values: list[str], fields: tuple[str, ...] = ()) -> list[User]:
    """Users whose ``columns[i]`` equals ``values[i]`` for any i (unique columns: 0 to len rows),
    with only ``fields`` loaded when given (others load on first access, one query each).

    The API runs such a lookup on every request, and compiling a queryset costs the ORM
    several times the indexed SELECT itself. So the ORM compiles it once per database
    connection (its field converters are bound to the connection) and each call only runs
    the SQL and builds the instances, with the ORM's own SQL and conversions. Loading only
    the fields a request reads spares it converting the rest (SQLite parses each datetime).
    """
    connection = connections[User.objects.db]
    compiled = connection.__dict__.setdefault("portal_user_lookups", {})
    if (columns, fields) not in compiled:
        condition = functools.reduce(operator.or_, (Q(**{column: ""}) for column in columns))
        queryset = User.objects.filter(condition).order_by()
        if fields:
            queryset = queryset.only(*fields)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        assert len(params) == len(columns), sql
        selected = [col for col, _, _ in compiler.select]
        names = [col.target.attname for col in selected]
        compiled[columns, fields] = sql, compiler, compiler.get_converters(selected), names
    sql, compiler, converters, names = compiled[columns, fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        rows = cursor.fetchall()
    if converters:
        rows = compiler.apply_converters(rows, converters)
    return [User.from_db(connection.alias, names, row) for row in rows]


def flock_ids(user: User, role: str) -> list[str]:
    """Flock ids from the prefetched memberships of ``user`` with ``role``."""
    return sorted(m.flock_id for m in user.memberships.all() if m.role == role)


def user_json(user: User) -> dict:
    """The v1 description of a user (needs ``users_with_details`` annotations)."""
    return {
        "id": user.pk,
        "email": user.email,
        "username": user.username,
        "access_level": user.access_level,
        "disabled": not user.is_active,
        "note": user.note,
        "totp_enabled": user.has_totp,
        "webauthn_enabled": user.has_webauthn,
        "require_2fa": user.must_enroll_2fa,
        "summary_email_enabled": user.summary_email_enabled,
        "managed_flocks": flock_ids(user, FlockRole.MANAGER),
        "watched_flocks": flock_ids(user, FlockRole.WATCHER),
        "created": user.date_joined.isoformat(),
    }


def parse_day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"Invalid {field}: use yyyy-mm-dd", field=field) from None


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
        entries = entries.filter(
            Q(message__icontains=search) | Q(actor_label__icontains=search) | Q(target_label__icontains=search)
        )
    if user_label:
        entries = entries.filter(Q(actor_label=user_label) | Q(target_label=user_label))
    if flock_id:
        entries = entries.filter(flock_id=flock_id)
    if start:
        entries = entries.filter(timestamp__gte=datetime.combine(start, time.min, tzinfo=UTC))
    if end:
        entries = entries.filter(timestamp__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC))
    if after_id is not None:
        entries = entries.filter(id__gt=after_id)
    return entries


@dataclass
class KeysetPage:
    items: list
    next: str | None
    prev: str | None
    page_number: int
    page_count: int
    total: int


def _encode_cursor(direction: str, pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"d": direction, "id": pk}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        direction, pk = data["d"], data["id"]
        if direction not in ("next", "prev") or not isinstance(pk, int):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("Invalid cursor", field="cursor") from None
    return direction, pk


def keyset_page(queryset: QuerySet, *, limit: int, cursor: str = "", newest_first: bool = True) -> KeysetPage:
    """One page of ``queryset`` by id with opaque next/prev cursors (two queries, three after a cursor)."""
    forward, backward = ("-id", "id") if newest_first else ("id", "-id")
    beyond, before = ("id__lt", "id__gt") if newest_first else ("id__gt", "id__lt")
    total = queryset.count()
    if cursor:
        direction, pk = _decode_cursor(cursor)
        if direction == "next":
            items = list(queryset.filter(**{beyond: pk}).order_by(forward)[:limit])
        else:
            items = list(queryset.filter(**{before: pk}).order_by(backward)[:limit])[::-1]
    else:
        items = list(queryset.order_by(forward)[:limit])
    # Without a cursor the page starts at the beginning: nothing precedes it, no need to count.
    preceding = queryset.filter(**{before: items[0].pk}).count() if items and cursor else 0
    following = total - preceding - len(items)
    return KeysetPage(
        items=items,
        next=_encode_cursor("next", items[-1].pk) if items and following > 0 else None,
        prev=_encode_cursor("prev", items[0].pk) if items and preceding > 0 else None,
        page_number=preceding // limit + 1,
        page_count=max(1, math.ceil(total / limit)),
        total=total,
    )


def audit_json(entry: AuditEntry) -> dict:
    return {
        "id": entry.id,
        "action_type": entry.action_type,
        "message": entry.message,
        "timestamp": entry.timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC+0000"),
        "user": entry.actor_label or None,
        "target": entry.target_label or None,
        "user_ip": entry.user_ip,
        "user_browser_agent": entry.user_agent,
        "flock_id": entry.flock_id or None,
        "additional_information": entry.additional_information or None,
    }


class TwoFactor:
    """The 2FA states the users page filters by."""

    NONE, TOTP, WEBAUTHN, BOTH = "none", "totp", "webauthn", "both"
    CHOICES = [(NONE, "None"), (TOTP, "TOTP only"), (WEBAUTHN, "WebAuthn only"), (BOTH, "TOTP and WebAuthn")]


USER_SORTS = {
    "username": ("username",),
    "-username": ("-username",),
    "email": ("email", "pk"),
    "-email": ("-email", "-pk"),
    "joined": ("date_joined", "pk"),
    "-joined": ("-date_joined", "-pk"),
    "access": ("access_level", "username"),
    "-access": ("-access_level", "username"),
}


def search_users(
    *,
    search: str = "",
    access_level: str = "",
    disabled: bool | None = None,
    two_factor: str = "",
    has_token: bool | None = None,
    sort: str = "username",
) -> QuerySet[User]:
    """The users page's filtered, sorted list, plain: page through its ids, then load
    that page's details with ``users_in_order`` (so deep pages skip no annotations)."""
    users = User.objects.all()
    if search:
        users = users.filter(Q(email__icontains=search) | Q(username__icontains=search) | Q(note__icontains=search))
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
    return users.order_by(*USER_SORTS.get(sort, USER_SORTS["username"]))


def _has_totp() -> Exists:
    return Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))


def _has_webauthn() -> Exists:
    return Exists(WebAuthnCredential.objects.filter(user=OuterRef("pk")))


def users_in_order(pks: list[int]) -> list[User]:
    """``users_with_details`` of these users, in the order given (2 queries)."""
    found = users_with_details().in_bulk(pks)
    return [found[pk] for pk in pks if pk in found]


def user_counts() -> dict[str, int]:
    """The dashboard's head counts, in one query."""
    return User.objects.aggregate(
        total=Count("pk"),
        admins=Count("pk", filter=Q(access_level=AccessLevel.ADMIN)),
        disabled=Count("pk", filter=Q(is_active=False)),
        tokens=Count("pk", filter=Q(api_token_index__isnull=False)),
    )


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
    SELECT (SELECT MIN(action_type) FROM users_auditentry WHERE action_type > t.a) FROM t WHERE t.a IS NOT NULL
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
