"""seed_demo makes consistent, usable demo data and adds to what is there."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from flocks.models import DEFAULT_FLOCK_ID, Flock, FlockMembership
from users import services
from users.management.commands import seed_demo
from users.models import AuditEntry, User

pytestmark = pytest.mark.django_db
PLACES_KINDS = [(place, kind) for place in seed_demo.PLACES for kind in seed_demo.KINDS]


def _seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, seed=7, batch_size=40, **options)
    return out.getvalue()


def test_seed_demo_makes_users_flocks_and_memberships():
    output = _seed(users=100, flocks=5)
    assert User.objects.count() == 100
    assert Flock.objects.exclude(flock_id=DEFAULT_FLOCK_ID).count() == 5
    assert "users 40/100" in output and "users 100/100" in output  # progress per batch
    per_user = (
        FlockMembership.objects.values("user").annotate(n=Count("id")).values_list("n", flat=True)
    )
    assert len(per_user) == 100 and min(per_user) >= 2 and max(per_user) <= 4
    assert 2.5 <= sum(per_user) / 100 <= 3.5
    assert not FlockMembership.objects.filter(flock_id=DEFAULT_FLOCK_ID).exists()
    for user in User.objects.all():
        assert services.clean_email(user.email) == user.email  # usable through v1
        assert services.clean_username(user.username) == user.username  # and v2
    entry = AuditEntry.objects.get(action_type="seed_demo")
    assert entry.additional_information == {
        "users": 100,
        "flocks": 5,
        "memberships": FlockMembership.objects.count(),
    }


def test_demo_users_share_one_working_password_hash():
    _seed(users=10, flocks=2, password="s3cret-demo")
    assert User.objects.values("password").distinct().count() == 1
    assert User.objects.first().check_password("s3cret-demo")


def test_running_again_adds_next_to_existing_data():
    _seed(users=50, flocks=3)
    _seed(users=50, flocks=0)  # memberships go into the existing flocks
    assert User.objects.count() == 100
    assert FlockMembership.objects.values("user").distinct().count() == 100


def test_flock_names_stay_unique_over_runs_and_past_names_taken():
    first = Flock.objects.count() + len(PLACES_KINDS) + 1  # numbers go on after the flocks
    Flock.objects.bulk_create(  # and every name the first number would make is taken
        [Flock(name=f"{place} {kind.upper()} {first}") for place, kind in PLACES_KINDS]
    )
    before = Flock.objects.count()
    _seed(users=0, flocks=30)
    _seed(users=0, flocks=30)
    names = [name.lower() for name in Flock.objects.values_list("name", flat=True)]
    assert len(names) == before + 60 == len(set(names))


def test_refuses_negative_numbers():
    with pytest.raises(CommandError):
        _seed(users=-1, flocks=1)


def test_audit_entries_are_about_the_new_users_and_searchable():
    _seed(users=30, flocks=2, audit_entries=90)
    entries = AuditEntry.objects.exclude(action_type="seed_demo")
    assert entries.count() == 90
    emails = set(User.objects.values_list("email", flat=True))
    assert {entry.target_label for entry in entries} <= emails
    assert all(entry.target.email == entry.target_label for entry in entries[:10])
    assert (
        AuditEntry.objects.get(action_type="seed_demo").additional_information["audit_entries"]
        == 90
    )


def _index_names() -> set[str]:
    """Every index and constraint (with its definition) of the tables a seed fills."""
    tables = "('users_user', 'flocks_flockmembership', 'users_auditentry')"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN {tables}")
        indexes = set(cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            f"WHERE conrelid::regclass::text IN {tables}"
        )
        return indexes | set(cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY and deferred indexes")
@pytest.mark.django_db(transaction=True)  # each batch commits, as outside a test
def test_a_large_seed_builds_every_index_again(monkeypatch):
    before = _index_names()
    assert {"users_user_email_trgm", "one_membership_per_user_and_flock"} <= {n for n, _ in before}
    monkeypatch.setattr(seed_demo, "DEFER_INDEXES_FROM", 10)
    output = _seed(users=50, flocks=3, audit_entries=20)
    assert "index users_user_email_trgm built" in output
    assert "constraint flocks_flockmembership_user_id_824b305d_fk_users_user_id added" in output
    assert _index_names() == before
    assert User.objects.count() == 50 and User.objects.create(username="after").pk == 51


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY and deferred indexes")
@pytest.mark.django_db(transaction=True)
def test_a_large_seed_that_fails_leaves_tables_and_indexes_as_they_were(monkeypatch):
    before = _index_names()
    monkeypatch.setattr(seed_demo, "DEFER_INDEXES_FROM", 10)
    with pytest.raises(CommandError):  # the audit entries need users: after the users went in
        _seed(users=0, flocks=1, audit_entries=20)
    monkeypatch.setattr(seed_demo.Command, "_user", lambda *args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        _seed(users=60, flocks=0)
    assert _index_names() == before and not User.objects.exists()
