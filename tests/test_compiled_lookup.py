"""``portal.lib.compiled_lookup.rows_where`` answers what the plain queryset it replaces answers,
after writes too, and on a new connection: it leans on private ORM APIs a Django upgrade may
change."""

from __future__ import annotations

import functools
import operator

from django.db import connections
from django.db.models import Q

from portal.lib.compiled_lookup import CACHE_ATTRIBUTE, rows_where
from users.models import AuditEntry, OrgSetting, User

COLUMNS = ("username", "email")
FIELDS = ("id", "username", "password", "is_active", "api_token_hash")


def plain(model, columns, values, fields=()):
    """What rows_where replaces: the ORM queryset, compiled on every call."""
    condition = functools.reduce(
        operator.or_, (Q(**{column: value}) for column, value in zip(columns, values))
    )
    queryset = model.objects.filter(condition)
    return list(queryset.only(*fields) if fields else queryset)


def as_loaded(rows) -> list[tuple]:
    """Each row's loaded values and deferred field names, by id."""
    return sorted(
        (
            row.pk,
            sorted((k, repr(v)) for k, v in vars(row).items() if k != "_state"),
            sorted(row.get_deferred_fields()),
        )
        for row in rows
    )


def test_same_rows_and_values_as_the_queryset(make_user, system):
    ann = make_user("ann@example.com")
    bob = make_user("bob@example.com")
    bob.username = "ann.other"
    bob.save()
    for values in (
        ["ann@example.com", "ann@example.com"],
        ["ann.other", "nobody"],
        ["x", "bob@example.com"],
        ["", ""],
    ):
        for fields in ((), FIELDS):
            compiled = rows_where(User, COLUMNS, values, fields)
            assert as_loaded(compiled) == as_loaded(plain(User, COLUMNS, values, fields)), (
                values,
                fields,
            )
            assert all(row._state.db == "default" and not row._state.adding for row in compiled)
    [row] = rows_where(User, ("username",), ["ann@example.com"], ("id", "username"))
    assert (
        row.email == ann.email and row.date_joined == ann.date_joined
    )  # a deferred field loads on access
    assert as_loaded(rows_where(AuditEntry, ("action_type",), ["user_add"])) == as_loaded(
        plain(AuditEntry, ("action_type",), ["user_add"])
    )  # another model: its own compiled SQL, its own converters (the JSON column)


def test_an_integer_column_such_as_the_primary_key(db):
    """The org's 2FA switch is read by ``pk`` on every token call (users.twofactor.policy)."""
    setting = OrgSetting.load()
    setting.grace_period_hours = 5
    setting.save()
    fields = ("globally_enforce_2fa", "enforced_since", "grace_period_hours")
    for values in ([1], [2]):
        assert as_loaded(rows_where(OrgSetting, ("pk",), values, fields)) == as_loaded(
            plain(OrgSetting, ("pk",), values, fields)
        )
    [row] = rows_where(OrgSetting, ("pk",), [1], fields)
    assert row.grace_period_hours == 5


def test_writes_show_at_once(make_user):
    """Only the SQL is kept, never rows: an update or delete shows in the next call."""
    ann = make_user("ann@example.com")
    assert [u.is_active for u in rows_where(User, COLUMNS, ["ann@example.com"] * 2, FIELDS)] == [
        True
    ]
    User.objects.filter(pk=ann.pk).update(is_active=False, username="ann")
    assert as_loaded(rows_where(User, COLUMNS, ["ann", "ann"], FIELDS)) == as_loaded(
        plain(User, COLUMNS, ["ann", "ann"], FIELDS)
    )
    assert [u.is_active for u in rows_where(User, COLUMNS, ["ann", "ann"], FIELDS)] == [False]
    User.objects.filter(pk=ann.pk).delete()
    assert rows_where(User, COLUMNS, ["ann", "ann@example.com"], FIELDS) == []


def test_compiled_once_per_connection(make_user):
    make_user("ann@example.com")
    rows_where(User, COLUMNS, ["ann@example.com"] * 2, FIELDS)
    cached = connections["default"].__dict__[CACHE_ATTRIBUTE]
    assert (User._meta.label, COLUMNS, FIELDS) in cached
    entry = cached[User._meta.label, COLUMNS, FIELDS]
    rows_where(User, COLUMNS, ["bob", "bob"], FIELDS)
    assert cached[User._meta.label, COLUMNS, FIELDS] is entry  # reused, not compiled again
    del connections["default"].__dict__[CACHE_ATTRIBUTE]  # what a new connection starts with
    assert [u.email for u in rows_where(User, COLUMNS, ["ann@example.com"] * 2, FIELDS)] == [
        "ann@example.com"
    ]
