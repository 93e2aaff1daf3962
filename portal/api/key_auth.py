"""An API key as the caller of a request: found by its keyed index, verified by bcrypt once
and then by a keyed digest remembered in the shared cache (as personal tokens are), and read
again on every request, so a removed or expired key is refused on the very next one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from flocks.api_keys import is_expired
from flocks.models import ApiKey, KeyRole
from portal.lib.compiled_lookup import rows_where
from users.hashers import bcrypt_check
from users.tokens import keyed_digest, token_index

LAST_USED_RESOLUTION = timedelta(minutes=1)
KEY_FIELDS = ("key_id", "role", "note", "flock_id", "expires", "last_used", "token_hash")


@dataclass(frozen=True)
class KeyCaller:
    """``request.user`` of a request made with an API key: no person, so no ``pk`` (a key is
    never "this admin" when a rule compares the caller with the user it acts on)."""

    key: ApiKey = field(compare=False)
    pk = None
    is_active = True
    is_authenticated = True

    @property
    def role(self) -> str:
        return self.key.role

    @property
    def role_label(self) -> str:
        return KeyRole(self.key.role).label

    @property
    def flock_id(self) -> str | None:
        return self.key.flock_id

    @property
    def is_admin(self) -> bool:
        return self.key.role == KeyRole.ADMIN

    @property
    def label(self) -> str:
        return self.key.label


def check_key(token: str, ip: str) -> KeyCaller | None:
    """The caller of the live key whose secret is ``token``, else None."""
    key = next(iter(rows_where(ApiKey, ("token_index",), [token_index(token)], KEY_FIELDS)), None)
    if key is None or is_expired(key):
        return None
    cache_key = f"apicred:{keyed_digest('api-cred-key', token)}"
    binding = keyed_digest("api-cred-binding", f"key:{key.pk}:{key.token_hash}")
    if cache.get(cache_key) != binding:
        if not bcrypt_check(token, key.token_hash):
            return None
        cache.set(cache_key, binding, settings.API_CREDENTIAL_CACHE_SECONDS)
    _touch(key, ip)
    return KeyCaller(key)


def _touch(key: ApiKey, ip: str) -> None:
    """Record use (time and address) at most once a minute, so reads stay reads."""
    now = timezone.now()
    if key.last_used is None or now - key.last_used > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used=now, last_used_from=ip or None)
        key.last_used = now
