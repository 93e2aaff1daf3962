"""The session engine (``SESSION_ENGINE = "users.session_store"``): Django's ``cached_db`` on a
session table that knows whose session each row is, so a user's sessions are one indexed query
away (the Security page lists them, an admin ends them) without reading every session.

Reads come from the sessions cache (Redis; nothing while Redis is unreachable, see
``portal/cache.py``) and fall back to the row; every write goes to the row, then the cache. A
row also keeps the browser (User-Agent), the client address (``portal.client_ip``), when it was
created (the sign-in: signing in always starts a new session key) and when it was last seen.
``last_seen`` is written at most once a minute per session (a marker in the default cache says
it is fresh), not on every request. Ending a session deletes the row and the cached copy, so it
is refused on every app server at its next request (``load`` keeps a request that read the row
just before from caching it again). The session generation of the user row
(``User.get_session_auth_hash``) still ends all of a user's sessions at once; rows it ended
stay until they expire and are left out of the lists (``users.active_sessions``).
"""

from __future__ import annotations

import hashlib
import ipaddress

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.base_session import AbstractBaseSession
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from portal.client_ip import client_ip

SEEN_INTERVAL = 60  # seconds between two writes of last_seen
SEEN_MARKER = "session-seen:"


class UserSession(AbstractBaseSession):
    """One session. ``user`` is empty until sign-in completes (the step between password and
    second factor has a session too) and for visitors' sessions."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sessions",
    )
    user_agent = models.CharField(max_length=1000, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta(AbstractBaseSession.Meta):
        app_label = "users"

    @classmethod
    def get_session_store_class(cls) -> type[SessionStore]:
        return SessionStore


def _address(value: str) -> str | None:
    """A valid IP address or None (the column is ``inet`` on PostgreSQL)."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


class SessionStore(CachedDBStore):
    """``cached_db`` writing the user, browser, address and times next to the data.

    Made by the middleware with the request's User-Agent and address; made without them (the
    test client, ending a session) it leaves those columns as they are.
    """

    def __init__(
        self, session_key: str | None = None, *, user_agent: str = "", ip: str | None = None
    ) -> None:
        super().__init__(session_key)
        self.user_agent = user_agent[:1000]
        self.ip = _address(ip or "")

    @classmethod
    def get_model_class(cls) -> type[UserSession]:
        return UserSession

    def _client_columns(self) -> dict[str, object]:
        return {"user_agent": self.user_agent, "ip": self.ip} if self.user_agent or self.ip else {}

    def load(self) -> dict:
        """``cached_db``'s, without one race: a request that read the row just before the
        session was ended, and cached its copy just after the ender dropped the cached one,
        would keep the session alive in the cache. So a copy cached from the row is dropped
        again when the row is gone by then (one more query, on a cache miss only)."""
        data = self._cache.get(self.cache_key)
        if data is not None:
            return data
        row = self._get_session_from_db()
        if row is None:
            return {}
        data = self.decode(row.session_data)
        if not isinstance(self._cache, DummyCache):
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=row.expire_date))
            if not UserSession.objects.filter(session_key=row.session_key).exists():
                self._cache.delete(self.cache_key)
        return data

    def save(self, must_create: bool = False) -> None:
        """Write the row (only its changing columns: ``created`` stays), then the cache. A
        session ended between the two would leave its copy in the cache, unlisted and
        unendable, so the copy is dropped when the row is gone by then (one more query on a
        real cache)."""
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        now = timezone.now()
        columns = {
            "session_data": self.encode(data),
            "expire_date": self.get_expiry_date(),
            "user_id": data.get(SESSION_KEY),
            "last_seen": now,
            **self._client_columns(),
        }
        rows = UserSession.objects.filter(session_key=self.session_key)
        if must_create:
            try:
                with transaction.atomic():
                    UserSession.objects.create(session_key=self.session_key, created=now, **columns)
            except IntegrityError:
                if rows.exists():
                    raise CreateError from None  # the key is taken: create() draws another
                raise
        elif not rows.update(**columns):
            raise UpdateError  # ended meanwhile (the middleware answers 400)
        self._cache.set(self.cache_key, self._session, self.get_expiry_age())
        if not must_create and not isinstance(self._cache, DummyCache) and not rows.exists():
            self._cache.delete(self.cache_key)  # ended between the UPDATE and the cache write
        caches["default"].set(self._seen_marker(), True, SEEN_INTERVAL)

    def delete(self, session_key: str | None = None) -> None:
        """The row first, then the cached copy: now and again after the commit, so a request
        that reads the row before the delete is committed cannot cache it past the end."""
        session_key = session_key or self.session_key
        if session_key is None:
            return
        UserSession.objects.filter(session_key=session_key).delete()

        def forget() -> None:
            self._cache.delete(self.cache_key_prefix + session_key)

        forget()
        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(forget)

    def note_seen(self) -> None:
        """The signed-in session was used now: write ``last_seen`` (and the address) unless it
        was written less than ``SEEN_INTERVAL`` ago (per process while Redis is unreachable)."""
        if self.session_key is None or SESSION_KEY not in self._session:
            return
        if caches["default"].add(self._seen_marker(), True, SEEN_INTERVAL):
            UserSession.objects.filter(session_key=self.session_key).update(
                last_seen=timezone.now(), **self._client_columns()
            )

    def _seen_marker(self) -> str:
        return SEEN_MARKER + hashlib.sha256(self.session_key.encode()).hexdigest()[:32]

    @classmethod
    def forget_cached(cls, session_keys: list[str]) -> None:
        """Drop the cached copies of sessions whose rows are gone (after the commit)."""
        if session_keys:
            caches[settings.SESSION_CACHE_ALIAS].delete_many(
                [cls.cache_key_prefix + key for key in session_keys]
            )


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, with a store that knows the request's browser and address, and that notes
    when a signed-in session was last seen."""

    def process_request(self, request: HttpRequest) -> None:
        request.session = self.SessionStore(
            request.COOKIES.get(settings.SESSION_COOKIE_NAME),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            ip=client_ip(request),
        )

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response = super().process_response(request, response)
        session = getattr(request, "session", None)
        if session is not None and session.accessed and not session.modified:
            session.note_seen()
        return response
