"""A user's active sessions: list them (browser, address, signed in, last seen) and end them.

A session is named on the pages by a keyed hash of its key, never by the key (which is the
cookie: anyone who saw it could use the session). Only sessions the user row still accepts are
listed: a raised session generation or a new password ends sessions without touching their rows
(``User.get_session_auth_hash``), so the stored hash is compared as Django does on a request.
Ending deletes the rows in the audited transaction and, once it committed, the cached copies,
so no app server serves them again (a copy cached before the commit would otherwise outlive it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import HASH_SESSION_KEY
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from .audit import Actor, record
from .models import User
from .session_store import SEEN_INTERVAL, SessionStore, UserSession
from .user_agents import Device, describe

LISTED = 100  # the newest sessions a page lists; ending "all others" ends every one


@dataclass(frozen=True)
class ActiveSession:
    id: str
    device: Device
    ip: str | None
    created: datetime
    last_seen: datetime
    current: bool

    @property
    def seen_just_now(self) -> bool:
        """Used within the last minute (``last_seen`` is written at most once a minute)."""
        return timezone.now() - self.last_seen < timedelta(seconds=SEEN_INTERVAL)


def session_id(session_key: str) -> str:
    """The public name of a session: a keyed hash of its key."""
    return salted_hmac("users.active_sessions.session_id", session_key).hexdigest()[:24]


def _accepted(user: User, row: UserSession) -> bool:
    """Whether a request with this session would still be signed in as ``user``."""
    stored = row.get_decoded().get(HASH_SESSION_KEY) or ""
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return bool(stored) and any(constant_time_compare(stored, value) for value in hashes)


def _live_rows(user: User) -> list[UserSession]:
    rows = UserSession.objects.filter(user=user, expire_date__gt=timezone.now())
    return [row for row in rows.order_by("-last_seen") if _accepted(user, row)]


def active_sessions(user: User, current_key: str | None = None) -> list[ActiveSession]:
    """The user's live sessions, last seen first (one query), ``current_key``'s marked."""
    return [
        ActiveSession(
            id=session_id(row.session_key),
            device=describe(row.user_agent),
            ip=row.ip,
            created=row.created,
            last_seen=row.last_seen,
            current=row.session_key == current_key,
        )
        for row in _live_rows(user)[:LISTED]
    ]


def _end(actor: Actor, user: User, rows: Iterable[UserSession], action: str, message: str) -> int:
    keys = [row.session_key for row in rows]
    if not keys:
        return 0
    with transaction.atomic():
        UserSession.objects.filter(session_key__in=keys).delete()
        record(actor, action, message, target=user, sessions=len(keys))
        transaction.on_commit(lambda: SessionStore.forget_cached(keys))
    return len(keys)


def end_session(actor: Actor, user: User, public_id: str, keep: str | None = None) -> bool:
    """End the session of ``user`` named ``public_id`` (not ``keep``, the caller's own);
    False when the user has no such live session (nothing changes). Audited."""
    named = (
        row
        for row in _live_rows(user)
        if row.session_key != keep and constant_time_compare(session_id(row.session_key), public_id)
    )
    row = next(named, None)
    if row is None:
        return False
    device, ip = describe(row.user_agent).label, row.ip or "an unknown address"
    whose = "their" if actor.user == user else f"{user.label}'s"
    _end(
        actor,
        user,
        [row],
        "user_session_end",
        f"{actor.label} signed out {whose} session on {device} from {ip}",
    )
    return True


def end_other_sessions(actor: Actor, user: User, keep: str | None) -> int:
    """End every live session of ``user`` but ``keep`` (None: all of them); how many. Audited."""
    live = _live_rows(user)
    rows = [row for row in live if row.session_key != keep]
    whose = "their" if actor.user == user else f"{user.label}'s"
    other = " other" if len(rows) < len(live) else ""
    return _end(
        actor,
        user,
        rows,
        "user_sessions_end",
        f"{actor.label} signed out {whose}{other} sessions ({len(rows)})",
    )
