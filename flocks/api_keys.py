"""Console API keys: add, list, remove (every add and remove audited in its transaction).

A key is checked on every request by its keyed index (``users.tokens.token_index``, as a
personal token), so removing one or passing its expiry refuses it on the next request."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from portal.lib.dates import parse_day
from portal.lib.errors import InvalidInput, NotFound
from users.audit import Actor, record
from users.hashers import bcrypt_hash
from users.tokens import generate_token, token_index

from .models import ApiKey, Flock, KeyRole

NOTE_MAX_LENGTH = ApiKey._meta.get_field("note").max_length
KEY_NOT_FOUND = "API key does not exist."


def today_utc() -> date:
    return datetime.now(UTC).date()


def clean_key_role(value: str, field: str = "auth_token_type") -> str:
    if value not in KeyRole.values:
        roles = "'read-only', 'analyst' or 'admin'"
        raise InvalidInput(f"Invalid {field}: must be {roles}", field=field)
    return value


def clean_key_note(value: str) -> str:
    note = (value or "").strip()
    if not note:
        raise InvalidInput("Missing parameter: note", field="note")
    if len(note) > NOTE_MAX_LENGTH or not note.isprintable():
        message = f"note must be printable and at most {NOTE_MAX_LENGTH} characters"
        raise InvalidInput(message, field="note")
    return note


def clean_expires(value: str | None) -> date | None:
    """An expiry day (``YYYY-MM-DD``) after today: the key stops at 00:00 UTC that day."""
    if not value:
        return None
    day = parse_day(value, "expires")
    if day <= today_utc():
        raise InvalidInput("expires must be a day after today (UTC)", field="expires")
    return day


def is_expired(key: ApiKey) -> bool:
    return key.expires is not None and today_utc() >= key.expires


def add_key(
    actor: Actor, *, role: str, note: str, expires: str | None = None, flock: Flock | None = None
) -> tuple[ApiKey, str]:
    """Create a key; returns it and its secret, which is shown this once and never stored."""
    role, note, day = clean_key_role(role), clean_key_note(note), clean_expires(expires)
    token = generate_token()
    fields = {"role": role, "note": note, "expires": day, "flock": flock}
    fields |= {"token_hash": bcrypt_hash(token), "token_index": token_index(token)}
    fields |= {"created_by": actor.user, "created_by_label": actor.label or "system"}
    for _ in range(5):  # a clash of 32-bit key ids is rare: draw again
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(key_id=secrets.token_hex(4), **fields)
                scope = f" of flock {flock.name}" if flock else ""
                record(
                    actor,
                    "api_key_add",
                    f"Added {KeyRole(role).label} API key {key.key_id}{scope} ({note})",
                    flock_id=flock.flock_id if flock else "",
                    key_id=key.key_id,
                    role=role,
                )
            return key, token
        except IntegrityError:
            continue
    raise RuntimeError("could not draw a free key id")


def keys_of(flock: Flock | None = None) -> QuerySet[ApiKey]:
    """The org-wide keys, or ``flock``'s keys."""
    return ApiKey.objects.filter(flock=flock).select_related("flock")


def find_key(*, key_id: str = "", token: str = "", flock_keys: bool = False) -> ApiKey:
    """The org-wide key (or flock key) named by its id or by its secret, else NotFound."""
    found = ApiKey.objects.filter(flock__isnull=not flock_keys)
    found = found.filter(key_id=key_id) if key_id else found.filter(token_index=token_index(token))
    key = found.first() if (key_id or token) else None
    if key is None:
        raise NotFound(KEY_NOT_FOUND)
    return key


def remove_key(actor: Actor, key: ApiKey) -> None:
    with transaction.atomic():
        deleted, _ = ApiKey.objects.filter(pk=key.pk).delete()
        if not deleted:
            raise NotFound(KEY_NOT_FOUND)
        record(
            actor,
            "api_key_remove",
            f"Removed API key {key.key_id} ({key.note})",
            flock_id=key.flock_id or "",
            key_id=key.key_id,
        )
