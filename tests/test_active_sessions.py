"""Active sessions (issue 14, point 4): the Security page lists your own sessions (browser,
address, signed in, last seen) and signs out one or every other; an admin does the same from a
user's page. Sessions are named by a keyed hash, never their key; a plain user can end no one
else's; ending deletes the row and the cached copy; the page costs the same queries however
many sessions there are."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from helpers import NEW_PASSWORD, PASSWORD, assert_sent_to_login, db_state

from users.active_sessions import end_other_sessions, end_session, session_id
from users.audit import Actor
from users.models import AuditEntry, User
from users.session_store import SessionStore, UserSession

pytestmark = pytest.mark.django_db

SECURITY = "/account/security/"
END = "/account/security/sessions/end/"
END_OTHERS = "/account/security/sessions/end-others/"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture
def bob(db) -> User:
    return User.objects.create_user("bob", "bob@example.com", PASSWORD)


@pytest.fixture(params=["sessions", "default"], ids=["sessions-alias", "cached"])
def session_cache(request, settings) -> str:
    """Run on the configured sessions cache (nothing on SQLite, Redis with REDIS_URL) and on a
    cache that keeps every session, so a cached copy is there to be forgotten."""
    settings.SESSION_CACHE_ALIAS = request.param
    return request.param


def browser_of(
    login: str, agent: str = FIREFOX, address: str = "198.51.100.7", password: str = PASSWORD
) -> Client:
    """A browser signed in through the sign-in page with that User-Agent and address."""
    browser = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    response = browser.post("/login/", {"login": login, "password": password})
    assert (response.status_code, response.url) == (302, "/")
    return browser


def key_of(browser: Client) -> str:
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def listed(response) -> list[tuple[str, bool, bool]]:
    """(session id, marked as this session, has its own Sign out button) per listed session."""
    html = response.content.decode()
    items = re.findall(r'<li data-session="(\w+)"( data-current)?>(.*?)</li>', html, re.S)
    return [(sid, bool(current), 'name="session"' in body) for sid, current, body in items]


def assert_signed_in(browser: Client) -> None:
    assert browser.get(SECURITY).status_code == 200


def assert_signed_out(browser: Client) -> None:
    assert_sent_to_login(browser.get(SECURITY), SECURITY)
    assert SESSION_KEY not in browser.session


def test_the_security_page_lists_only_your_own_sessions(ann, bob):
    laptop, phone = (
        browser_of("ann", FIREFOX, "198.51.100.7"),
        browser_of("ann", IPHONE, "2001:db8::1"),
    )
    bobs = browser_of("bob", CHROME_MAC, "203.0.113.9")
    response = phone.get(SECURITY)
    html = response.content.decode()
    assert sorted(listed(response)) == sorted(
        [(session_id(key_of(laptop)), False, True), (session_id(key_of(phone)), True, False)]
    )
    assert "Firefox 133 on Windows" in html and "198.51.100.7" in html
    assert "Safari 17 on iPhone" in html and "2001:db8::1" in html
    assert (
        "Chrome" not in html and "203.0.113.9" not in html and session_id(key_of(bobs)) not in html
    )
    for browser in (laptop, phone, bobs):  # the cookie (the session key) is never on a page
        assert key_of(browser) not in html
    assert "Sign out everywhere else" in html


def test_a_session_row_knows_its_user_browser_address_and_times(ann):
    before = timezone.now()
    laptop = browser_of("ann", FIREFOX, "198.51.100.7")
    row = UserSession.objects.get(session_key=key_of(laptop))
    assert (row.user, row.user_agent, row.ip) == (ann, FIREFOX, "198.51.100.7")
    assert before <= row.created <= row.last_seen <= timezone.now()
    # the step between password and second factor is not a signed-in session of anyone
    pending = Client()
    pending.get("/login/")
    assert UserSession.objects.filter(user=None).count() <= 1
    assert UserSession.objects.filter(user=ann).count() == 1


def test_last_seen_is_written_at_most_once_a_minute(ann):
    laptop = browser_of("ann")
    row = UserSession.objects.get(session_key=key_of(laptop))
    UserSession.objects.filter(pk=row.pk).update(last_seen=row.created.replace(year=2020))
    for _ in range(3):  # within the minute after the sign-in wrote the row: no write
        with CaptureQueriesContext(connection) as queries:
            assert_signed_in(laptop)
        assert not [q for q in queries if q["sql"].startswith('UPDATE "users_usersession"')]
    assert UserSession.objects.get(pk=row.pk).last_seen.year == 2020
    caches["default"].clear()  # the minute's marker is gone, as a minute later
    with CaptureQueriesContext(connection) as queries:
        laptop.defaults.update(HTTP_USER_AGENT=CHROME_MAC, REMOTE_ADDR="192.0.2.44")
        assert_signed_in(laptop)
    writes = [q for q in queries if q["sql"].startswith('UPDATE "users_usersession"')]
    assert len(writes) == 1
    row = UserSession.objects.get(pk=row.pk)
    assert row.last_seen.year != 2020 and (row.ip, row.user_agent) == ("192.0.2.44", CHROME_MAC)
    with CaptureQueriesContext(connection) as queries:
        assert_signed_in(laptop)
    assert not [q for q in queries if q["sql"].startswith('UPDATE "users_usersession"')]


def test_sign_out_one_session_ends_it_everywhere(ann, session_cache, committed):
    laptop, phone = browser_of("ann"), browser_of("ann", IPHONE)
    assert_signed_in(phone)  # cached (where the cache keeps it)
    phone_key = key_of(phone)
    cached = caches[session_cache]
    if session_cache == "default":
        assert cached.get(SessionStore.cache_key_prefix + phone_key) is not None
    with committed(execute=True):  # the cached copy goes once the deletion committed
        response = laptop.post(END, {"session": session_id(phone_key)})
    assert (response.status_code, response.url) == (302, SECURITY + "#sessions")
    assert not UserSession.objects.filter(session_key=phone_key).exists()
    assert cached.get(SessionStore.cache_key_prefix + phone_key) is None
    assert_signed_out(phone)
    assert "Signed out that session." in laptop.get(SECURITY).content.decode()
    [entry] = AuditEntry.objects.filter(action_type="user_session_end")
    assert (entry.actor, entry.target) == (ann, ann)
    assert (
        entry.message
        == "ann@example.com signed out their session on Safari 17 on iPhone from 198.51.100.7"
    )


def test_sign_out_everywhere_else_keeps_this_one(ann, bob, session_cache, committed):
    here, *others = [browser_of("ann", agent) for agent in (FIREFOX, IPHONE, CHROME_MAC)]
    bobs = browser_of("bob")
    for browser in others:
        assert_signed_in(browser)  # cached
    with committed(execute=True):
        response = here.post(END_OTHERS)
    assert (response.status_code, response.url) == (302, SECURITY + "#sessions")
    for browser in others:
        assert_signed_out(browser)
    assert_signed_in(here)
    assert_signed_in(bobs)
    assert [s[1] for s in listed(here.get(SECURITY))] == [True]
    [entry] = AuditEntry.objects.filter(action_type="user_sessions_end")
    assert entry.message == "ann@example.com signed out their other sessions (2)"
    assert "Sign out everywhere else" not in here.get(SECURITY).content.decode()


def test_a_plain_user_cannot_end_someone_elses_session(ann, bob):
    mine, bobs = browser_of("ann"), browser_of("bob")
    before = (db_state(), sorted(UserSession.objects.values_list("session_key", "session_data")))
    assert mine.post(END, {"session": session_id(key_of(bobs))}).status_code == 404
    user_page_end = reverse("user_session_end", args=[bob.pk])
    assert mine.post(user_page_end, {"session": session_id(key_of(bobs))}).status_code == 403
    assert mine.post(user_page_end, {"all": "1"}).status_code == 403
    after = (db_state(), sorted(UserSession.objects.values_list("session_key", "session_data")))
    assert before == after
    assert_signed_in(bobs)


def test_this_session_is_not_ended_by_its_id_malformed_posts_change_nothing(ann):
    here = browser_of("ann")
    assert here.post(END, {"session": session_id(key_of(here))}).status_code == 404
    assert here.post(END, {"session": key_of(here)}).status_code == 404  # the key is no id
    assert here.post(END, {}).status_code == 400
    assert here.get(END).status_code == 405
    assert here.get(END_OTHERS).status_code == 405
    assert_signed_in(here)
    assert not AuditEntry.objects.filter(action_type__startswith="user_session").exists()


def test_the_session_posts_need_the_csrf_token(ann):
    other = browser_of("ann", IPHONE)
    strict = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=FIREFOX)
    strict.force_login(ann)
    assert strict.post(END, {"session": session_id(key_of(other))}).status_code == 403
    assert strict.post(END_OTHERS).status_code == 403
    assert_signed_in(other)


def test_sessions_a_new_password_ended_are_not_listed(ann):
    here, other = browser_of("ann"), browser_of("ann", IPHONE)
    response = here.post(
        SECURITY + "password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert listed(here.get(SECURITY)) == [(session_id(key_of(here)), True, False)]
    assert here.post(END, {"session": session_id(key_of(other))}).status_code == 404


def test_an_admin_sees_and_ends_a_users_sessions(
    admin, ann, rechecked_admin, session_cache, committed
):
    laptop, phone = browser_of("ann"), browser_of("ann", IPHONE, "2001:db8::5")
    page = reverse("user_detail", args=[ann.pk])
    end = reverse("user_session_end", args=[ann.pk])
    response = rechecked_admin.get(page)
    assert sorted(listed(response)) == sorted(
        [(session_id(key_of(laptop)), False, True), (session_id(key_of(phone)), False, True)]
    )
    assert "Sign out all sessions" in response.content.decode()

    with committed(execute=True):
        response = rechecked_admin.post(end, {"session": session_id(key_of(phone))})
    assert (response.status_code, response.url) == (302, page + "#sessions")
    assert_signed_out(phone)
    assert_signed_in(laptop)
    [entry] = AuditEntry.objects.filter(action_type="user_session_end")
    assert (entry.actor, entry.target) == (admin, ann)
    assert entry.message.startswith("admin@example.com signed out ann@example.com's session on ")

    with committed(execute=True):
        assert rechecked_admin.post(end, {"all": "1"}).status_code == 302
    assert_signed_out(laptop)
    assert listed(rechecked_admin.get(page)) == []
    assert rechecked_admin.get(page).status_code == 200  # the admin's own session stays
    [entry] = AuditEntry.objects.filter(action_type="user_sessions_end")
    assert entry.message == "admin@example.com signed out ann@example.com's sessions (1)"


def test_an_admin_on_their_own_page_keeps_this_session(admin, committed):
    here, other = browser_of("admin"), browser_of("admin", IPHONE)
    page = reverse("user_detail", args=[admin.pk])
    assert sorted(listed(here.get(page))) == sorted(
        [(session_id(key_of(here)), True, False), (session_id(key_of(other)), False, True)]
    )
    with committed(execute=True):
        response = here.post(reverse("user_session_end", args=[admin.pk]), {"all": "1"})
    assert response.status_code == 302
    assert_signed_out(other)
    assert_signed_in(here)


def test_plain_users_see_no_sessions_on_their_profile(ann):
    here = browser_of("ann")
    assert listed(here.get(reverse("user_detail", args=[ann.pk]))) == []


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed(execute=True):`` runs what waits for the commit (the test's transaction
    never commits)."""
    return django_capture_on_commit_callbacks


def queries_of(browser: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["security", "user page"])
def test_the_pages_cost_the_same_queries_however_many_sessions(admin, ann, page):
    if page == "security":
        viewer, path = browser_of("ann"), SECURITY
    else:
        viewer, path = browser_of("admin"), reverse("user_detail", args=[ann.pk])
        browser_of("ann")
    viewer.get(path)  # warm: the same first-request work for both counts
    few = queries_of(viewer, path)
    for agent in (IPHONE, CHROME_MAC, FIREFOX, IPHONE):
        browser_of("ann", agent)
    assert len(listed(viewer.get(path))) == 5
    assert queries_of(viewer, path) == few


def test_old_django_session_table_is_gone():
    assert "django_session" not in connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations WHERE app = 'sessions'")
        assert cursor.fetchone() == (0,)


def test_clearsessions_deletes_expired_sessions(ann):
    browser_of("ann")
    live = browser_of("ann", IPHONE)
    UserSession.objects.exclude(session_key=key_of(live)).update(expire_date=timezone.now())
    call_command("clearsessions", stdout=StringIO())
    assert list(UserSession.objects.values_list("session_key", flat=True)) == [key_of(live)]


def test_a_copy_read_just_before_the_end_is_not_left_in_the_cache(
    ann, settings, monkeypatch, committed
):
    """The race of a cache miss: one request reads the row, the session is ended (row and cached
    copy gone), then that request caches what it read. Its copy must not outlive the session."""
    settings.SESSION_CACHE_ALIAS = "default"
    phone = browser_of("ann", IPHONE)
    key, cache = key_of(phone), caches["default"]
    cache.delete(SessionStore.cache_key_prefix + key)  # evicted, or Redis restarted
    read = SessionStore._get_session_from_db

    def read_then_end(store):
        row = read(store)
        with committed(execute=True):
            assert end_session(Actor.system("tests"), ann, session_id(key))
        return row

    monkeypatch.setattr(SessionStore, "_get_session_from_db", read_then_end)
    assert phone.get(SECURITY).status_code == 200  # in flight: it began before the end
    monkeypatch.undo()
    assert cache.get(SessionStore.cache_key_prefix + key) is None
    assert_signed_out(phone)


@pytest.mark.parametrize("ender", ["end_session", "end_other_sessions", "logout"])
def test_a_copy_saved_just_before_the_end_is_not_left_in_the_cache(
    ann, settings, monkeypatch, committed, ender
):
    """The race of a save: a request updates the row, the session is ended (row and cached copy
    gone), then that request caches its copy. The copy must not outlive the session, unlisted
    and so unendable."""
    settings.SESSION_CACHE_ALIAS = "default"
    thief = browser_of("ann")
    key, cache = key_of(thief), caches["default"]
    cached_key = SessionStore.cache_key_prefix + key
    real_set = cache.set
    ended = []

    def end_then_set(name, *args, **kwargs):
        if name == cached_key and not ended:  # between save()'s UPDATE and its cache write
            ended.append(ender)
            with committed(execute=True):
                if ender == "end_session":
                    assert end_session(Actor.system("tests"), ann, session_id(key))
                elif ender == "end_other_sessions":
                    assert end_other_sessions(Actor.system("tests"), ann, keep=None) == 1
                else:  # sign-out: session.flush() deletes the session
                    SessionStore(key).delete()
        return real_set(name, *args, **kwargs)

    monkeypatch.setattr(cache, "set", end_then_set)
    # the passkey challenge saves the session of anyone, signed in or not
    assert thief.post("/login/passkey/options/", content_type="application/json").status_code == 200
    monkeypatch.undo()
    assert ended
    assert not UserSession.objects.filter(session_key=key).exists()
    assert cache.get(cached_key) is None
    assert_signed_out(thief)


def test_a_delete_forgets_the_cached_copy_again_at_the_commit(ann, settings, committed):
    """A request that read the row while the delete was not yet committed may cache it again:
    the commit drops that copy too."""
    settings.SESSION_CACHE_ALIAS = "default"
    phone = browser_of("ann", IPHONE)
    key, cache = key_of(phone), caches["default"]
    cached_key = SessionStore.cache_key_prefix + key
    with committed(execute=True), transaction.atomic():
        SessionStore(key).delete()
        assert cache.get(cached_key) is None
        cache.set(cached_key, {SESSION_KEY: str(ann.pk)})  # a reader of the uncommitted row
    assert not UserSession.objects.filter(session_key=key).exists()
    assert cache.get(cached_key) is None
    assert_signed_out(phone)
