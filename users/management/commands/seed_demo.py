"""Fill the database with realistic demo users, flocks, memberships and audit entries, fast.

Rows go in by batches (one transaction each): on PostgreSQL with ``COPY`` (psycopg's
``cursor.copy``, rows built as tuples, no model instances), so a million users take about a
minute; elsewhere with ``bulk_create``. Every demo user gets the same password hash,
computed once: bcrypt at cost 12 costs ~0.25 s a hash, which for 100,000 users
would be seven hours of CPU. Running it again adds more users and flocks next to
the existing ones (numbers continue after the highest user id), never replaces; on
PostgreSQL the users' ids are given explicitly (so memberships can name them without reading
them back) and the id sequence is moved past them, so do not add users meanwhile.
"""

from __future__ import annotations

import itertools
import random
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from flocks.models import Flock, FlockMembership, FlockRole, new_flock_id
from users.audit import Actor, record
from users.models import AccessLevel, AuditEntry, User

FIRST_NAMES = [
    "ann",
    "bob",
    "carla",
    "dmitri",
    "emma",
    "farid",
    "grace",
    "hiro",
    "ines",
    "jamal",
    "kofi",
    "lena",
    "marta",
    "nadia",
    "omar",
    "priya",
    "quinn",
    "rosa",
    "sven",
    "tariq",
    "uma",
    "victor",
    "wen",
    "xavier",
    "yara",
    "zoe",
    "jose",
    "zoë",
    "łukasz",
    "søren",
    "ana",
    "björn",
    "chloé",
    "mateo",
    "aisha",
    "noah",
    "liam",
    "olivia",
    "sofia",
    "lucas",
    "mia",
    "ethan",
    "amara",
    "kenji",
    "fatima",
    "diego",
    "ingrid",
    "pablo",
    "nia",
    "oskar",
    "leila",
    "ravi",
    "elif",
    "thandi",
]
LAST_NAMES = [
    "smith",
    "jones",
    "nguyen",
    "garcia",
    "müller",
    "rossi",
    "kowalski",
    "ivanova",
    "okafor",
    "tanaka",
    "haddad",
    "silva",
    "dubois",
    "novak",
    "andersen",
    "o'neill",
    "van-dijk",
    "khan",
    "patel",
    "cohen",
    "ferreira",
    "yilmaz",
    "nakamura",
    "schmidt",
    "moreau",
    "kim",
    "park",
    "lopez",
    "mensah",
    "petrov",
    "larsen",
    "bianchi",
    "costa",
    "dlamini",
    "fischer",
    "hansen",
    "horvat",
    "jensen",
    "kaur",
    "lee",
    "mbeki",
    "ortiz",
]
DOMAINS = ("corp.example.com", "soc.example.org", "ops.example.net")
PLACES = [
    "Cape Town",
    "Berlin",
    "São Paulo",
    "Osaka",
    "Toronto",
    "Nairobi",
    "Lisbon",
    "Auckland",
    "Reykjavík",
    "Kraków",
    "Austin",
    "Singapore",
    "Dubai",
    "Zürich",
    "Oslo",
    "Lagos",
    "Lima",
    "Seoul",
    "Dublin",
    "Mumbai",
]
KINDS = (
    "DMZ",
    "HQ",
    "Branch",
    "Lab",
    "Datacentre",
    "Warehouse",
    "Finance",
    "R&D",
    "Build farm",
    "Clinic",
)
AUDIT_ACTIONS = (
    ("user_note_add", "Set the note of {target}"),
    ("user_disable", "Disabled user {target}"),
    ("user_enable", "Enabled user {target}"),
    ("user_flock_assign", "Made {target} watcher of a flock"),
    ("user_password_reset", "Sent a password reset to {target}"),
    ("login_failed", "Failed sign-in for {target}"),
)
SEEDED_TABLES = ("users_user", "flocks_flockmembership", "users_auditentry")
DEFER_INDEXES_FROM = 100_000  # rows; below, keeping the indexes up to date is faster
SECONDARY_INDEXES_SQL = """
SELECT c.relname, pg_get_indexdef(c.oid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relname = ANY(%s) AND NOT i.indisunique AND NOT i.indisprimary
ORDER BY c.relname
"""
# Unique and foreign-key constraints (not the primary keys): checked once, when added back.
CONSTRAINTS_SQL = """
SELECT con.conname, t.relname, pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid
WHERE t.relname = ANY(%s) AND con.contype IN ('u', 'f')
ORDER BY con.contype DESC, con.conname
"""
NOTES = (
    "On call this week",
    "Contractor until end of quarter",
    "Needs hardware key — ordered",
    "Prefers e-mail alerts; 日本語 OK",
    "Shared mailbox owner",
    "Transferred from the Lisbon team",
)


def _ascii(name: str) -> str:
    """``name`` folded to ASCII (zoë → zoe, łukasz → lukasz): e-mail local parts are ASCII here."""
    decomposed = unicodedata.normalize("NFKD", name.translate(str.maketrans("łøß", "los")))
    return decomposed.encode("ascii", "ignore").decode()


class Command(BaseCommand):
    help = (
        "Add demo users, flocks and memberships (about 3 per user) quickly, for demos and "
        "benchmarks."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--users", type=int, default=1000, help="users to add (default 1000)")
        parser.add_argument("--flocks", type=int, default=20, help="flocks to add (default 20)")
        parser.add_argument(
            "--memberships-per-user",
            type=int,
            default=3,
            help="memberships per user, on average (default 3)",
        )
        parser.add_argument(
            "--password",
            default="demo-password-1",
            help="password shared by every demo user (hashed once)",
        )
        parser.add_argument(
            "--audit-entries",
            type=int,
            default=0,
            help="audit entries to add about the new users, by an admin (default 0)",
        )
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--seed", type=int, default=None, help="random seed, for repeatable data"
        )

    def handle(
        self,
        *args,
        users: int,
        flocks: int,
        memberships_per_user: int,
        password: str,
        audit_entries: int,
        **options,
    ) -> None:
        if min(users, flocks, memberships_per_user, audit_entries) < 0 or options["batch_size"] < 1:
            raise CommandError(
                "--users, --flocks, --memberships-per-user and --audit-entries must be >= 0, "
                "--batch-size >= 1"
            )
        self.batch_size = options["batch_size"]
        self.copy = connection.vendor == "postgresql"
        rng = random.Random(options["seed"])  # noqa: S311 - demo data, not secrets
        self.started = time.monotonic()
        new_flocks = self._flocks(rng, flocks)
        pool = new_flocks or list(Flock.objects.values_list("flock_id", flat=True))
        if memberships_per_user and users and not pool:
            raise CommandError("No flocks to put the users in: pass --flocks")
        per_user = min(memberships_per_user, len(pool))
        password_hash = make_password(password)
        created_memberships = 0
        first_number = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        with self._indexes_deferred(users + audit_entries >= DEFER_INDEXES_FROM):
            for start in range(0, users, self.batch_size):
                count = min(self.batch_size, users - start)
                rows = [
                    self._user(rng, first_number + start + i, password_hash) for i in range(count)
                ]
                with transaction.atomic():
                    created_memberships += self._insert_users(rng, rows, pool, per_user)
                self._progress(f"users {start + count}/{users}, memberships {created_memberships}")
            if self.copy and users:
                with connection.cursor() as cursor:  # the ids were given: the sequence follows
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence('users_user', 'id'), MAX(id)) "
                        "FROM users_user"
                    )
            self._audit_entries(rng, audit_entries, first_number, users)
        record(
            Actor.system("manage.py seed_demo"),
            "seed_demo",
            f"Added {users} demo users, {len(new_flocks)} flocks, {created_memberships} "
            f"memberships, {audit_entries} audit entries",
            users=users,
            flocks=len(new_flocks),
            memberships=created_memberships,
            **({"audit_entries": audit_entries} if audit_entries else {}),
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {users} users, {len(new_flocks)} flocks, {created_memberships} "
                f"memberships and {audit_entries} audit entries "
                f"in {time.monotonic() - self.started:.1f} s. Demo users' password: {password}"
            )
        )

    @contextmanager
    def _indexes_deferred(self, large: bool) -> Iterator[None]:
        """On PostgreSQL, for a large seed: drop the unique and foreign-key constraints and
        the other secondary indexes of the tables it fills, and add each back once at the
        end: an index built in one pass and a constraint validated by one join are many
        times faster than keeping three trigram GIN indexes up to date and checking two
        foreign keys row by row. It is all one transaction: a seed that fails (a duplicate
        found when a unique constraint is added back, say) or is killed leaves the tables,
        their indexes and their constraints as they were. Primary keys stay."""
        if not (self.copy and large):
            yield
            return
        tables = [list(SEEDED_TABLES)]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(CONSTRAINTS_SQL, tables)
            constraints = cursor.fetchall()
            for name, table, _ in constraints:
                cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            cursor.execute(SECONDARY_INDEXES_SQL, tables)
            indexes = cursor.fetchall()
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            self._progress(
                f"dropped {len(constraints)} constraints and {len(indexes)} indexes, "
                "to add back after the rows"
            )
            yield
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for name, definition in indexes:
                cursor.execute(definition)
                self._progress(f"index {name} built")
            for name, table, definition in reversed(constraints):  # unique ones first
                cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
                self._progress(f"constraint {name} added")
        with connection.cursor() as cursor:
            for table in ("flocks_flock", *SEEDED_TABLES):  # statistics; index-only scans
                cursor.execute(f'VACUUM ANALYZE "{table}"')
        self._progress("tables vacuumed and analysed")

    def _progress(self, text: str) -> None:
        self.stdout.write(f"{text} ({time.monotonic() - self.started:.1f} s)")
        self.stdout.flush()

    def _insert_users(
        self, rng: random.Random, rows: list[dict], pool: list[str], per_user: int
    ) -> int:
        """One batch of users and their memberships; returns how many memberships."""
        memberships = self._memberships(rng, [row["id"] for row in rows], pool, per_user)
        if self.copy:
            now = timezone.now()
            for row in rows:
                row.update(updated=now, api_token_hash="", session_generation=0)
            _copy("users_user", list(rows[0]), [tuple(row.values()) for row in rows])
            _copy(
                "flocks_flockmembership",
                ["user_id", "flock_id", "role", "created"],
                [(*membership, now) for membership in memberships],
            )
        else:
            User.objects.bulk_create(User(**row) for row in rows)
            FlockMembership.objects.bulk_create(
                (
                    FlockMembership(user_id=user_id, flock_id=flock_id, role=role)
                    for user_id, flock_id, role in memberships
                ),
                batch_size=self.batch_size,
            )
        return len(memberships)

    def _audit_entries(self, rng: random.Random, count: int, first_id: int, users: int) -> None:
        """``count`` entries by one admin about the new users, spread over three years."""
        if not count:
            return
        if not users:
            raise CommandError("--audit-entries needs --users (the entries are about them)")
        actor = User.objects.filter(access_level=AccessLevel.ADMIN).order_by(
            "pk"
        ).first() or User.objects.get(pk=first_id)
        emails = dict(
            User.objects.filter(pk__gte=first_id).values_list("pk", "email").order_by("pk")
        )
        now = timezone.now()
        for start in range(0, count, self.batch_size):
            rows = []
            for _ in range(min(self.batch_size, count - start)):
                target_id = first_id + rng.randrange(users)
                action, message = rng.choice(AUDIT_ACTIONS)
                target = emails.get(target_id, "")
                rows.append(
                    {
                        "timestamp": now - timedelta(seconds=rng.uniform(0, 3 * 365 * 86400)),
                        "action_type": action,
                        "message": message.format(target=target),
                        "actor_id": actor.pk,
                        "actor_label": actor.label,
                        "target_id": target_id,
                        "target_label": target,
                        "flock_id": "",
                        "user_ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.7",
                        "user_agent": "Mozilla/5.0 (demo)",
                    }
                )
            with transaction.atomic():
                if self.copy:
                    columns = [*rows[0], "additional_information"]
                    _copy("users_auditentry", columns, [(*row.values(), "{}") for row in rows])
                else:
                    AuditEntry.objects.bulk_create(AuditEntry(**row) for row in rows)
            self._progress(f"audit entries {start + len(rows)}/{count}")

    def _flocks(self, rng: random.Random, count: int) -> list[str]:
        """``count`` flocks named "<place> <kind> <n>", every name free in any letter case (flock
        names are unique): numbers go on after the flocks there are, past any name taken."""
        taken = set(Flock.objects.values_list(Lower("name"), flat=True))
        numbers = itertools.count(len(taken) + 1)
        flocks = []
        for _ in range(count):
            place, kind = rng.choice(PLACES), rng.choice(KINDS)
            name = next(
                n for n in map(f"{place} {kind} {{}}".format, numbers) if n.lower() not in taken
            )
            flocks.append(
                Flock(
                    flock_id=new_flock_id(),
                    name=name,
                    note=rng.choice(
                        ("", "", "Managed by the regional SOC", "Sensors in the server room")
                    ),
                )
            )
        Flock.objects.bulk_create(flocks, batch_size=self.batch_size)
        if count:
            self.stdout.write(f"flocks {count}/{count}")
        return [flock.flock_id for flock in flocks]

    @staticmethod
    def _user(rng: random.Random, number: int, password_hash: str) -> dict:
        """A demo user's column values (its id is its number)."""
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES).replace("'", "")
        username = f"{first}.{last}.{number}"
        active = rng.random() > 0.05
        return {
            "id": number,
            "username": username,
            "email": f"{_ascii(username)}@{rng.choice(DOMAINS)}",
            "password": password_hash,
            "access_level": AccessLevel.USER.value,
            "note": rng.choice(NOTES) if rng.random() < 0.2 else "",
            "is_active": active,
            "summary_email_enabled": active and rng.random() < 0.7,
            "must_enroll_2fa": rng.random() < 0.3,
            "date_joined": timezone.now() - timedelta(days=rng.uniform(0, 3 * 365)),
        }

    @staticmethod
    def _memberships(
        rng: random.Random, user_ids: list[int], pool: list[str], per_user: int
    ) -> list[tuple[int, str, str]]:
        """About ``per_user`` (user id, flock id, role) each (one to twice-minus-one), one role
        per flock."""
        memberships = []
        for user_id in user_ids:
            count = (
                min(len(pool), rng.randint(max(1, per_user - 1), per_user + 1)) if per_user else 0
            )
            for flock_id in rng.sample(pool, count):
                role = FlockRole.MANAGER.value if rng.random() < 0.2 else FlockRole.WATCHER.value
                memberships.append((user_id, flock_id, role))
        return memberships


def _copy(table: str, columns: list[str], rows: list[tuple]) -> None:
    """``rows`` into ``table`` with PostgreSQL's COPY (in the current transaction)."""
    names = ", ".join(f'"{column}"' for column in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row(row)
