"""Fill the database with realistic demo users, flocks and memberships, fast.

Rows go in with ``bulk_create`` in batches (one transaction each), so 100,000
users take seconds, not hours. Every demo user gets the same password hash,
computed once: bcrypt at cost 12 costs ~0.25 s a hash, which for 100,000 users
would be seven hours of CPU. Running it again adds more users and flocks next to
the existing ones (numbers continue after the highest user id), never replaces.
"""

from __future__ import annotations

import itertools
import random
import time
import unicodedata
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from flocks.models import Flock, FlockMembership, FlockRole, new_flock_id
from users.audit import Actor, record
from users.models import AccessLevel, User

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
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--seed", type=int, default=None, help="random seed, for repeatable data"
        )

    def handle(
        self, *args, users: int, flocks: int, memberships_per_user: int, password: str, **options
    ) -> None:
        if users < 0 or flocks < 0 or memberships_per_user < 0 or options["batch_size"] < 1:
            raise CommandError(
                "--users, --flocks and --memberships-per-user must be >= 0, --batch-size >= 1"
            )
        self.batch_size = options["batch_size"]
        rng = random.Random(options["seed"])  # noqa: S311 - demo data, not secrets
        started = time.monotonic()
        new_flocks = self._flocks(rng, flocks)
        pool = new_flocks or list(Flock.objects.values_list("flock_id", flat=True))
        if memberships_per_user and users and not pool:
            raise CommandError("No flocks to put the users in: pass --flocks")
        per_user = min(memberships_per_user, len(pool))
        password_hash = make_password(password)
        created_users = created_memberships = 0
        first_number = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        for start in range(0, users, self.batch_size):
            count = min(self.batch_size, users - start)
            batch = [self._user(rng, first_number + start + i, password_hash) for i in range(count)]
            with transaction.atomic():
                batch = User.objects.bulk_create(batch)
                created_memberships += self._memberships(rng, batch, pool, per_user)
            created_users += count
            self.stdout.write(
                f"users {created_users}/{users}, memberships {created_memberships} "
                f"({time.monotonic() - started:.1f} s)"
            )
        record(
            Actor.system("manage.py seed_demo"),
            "seed_demo",
            f"Added {created_users} demo users, {len(new_flocks)} flocks, {created_memberships} "
            "memberships",
            users=created_users,
            flocks=len(new_flocks),
            memberships=created_memberships,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {created_users} users, {len(new_flocks)} flocks and {created_memberships} "
                "memberships "
                f"in {time.monotonic() - started:.1f} s. Demo users' password: {password}"
            )
        )

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
    def _user(rng: random.Random, number: int, password_hash: str) -> User:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES).replace("'", "")
        username = f"{first}.{last}.{number}"
        active = rng.random() > 0.05
        return User(
            username=username,
            email=f"{_ascii(username)}@{rng.choice(DOMAINS)}",
            password=password_hash,
            access_level=AccessLevel.USER,
            note=rng.choice(NOTES) if rng.random() < 0.2 else "",
            is_active=active,
            summary_email_enabled=active and rng.random() < 0.7,
            must_enroll_2fa=rng.random() < 0.3,
            date_joined=timezone.now() - timedelta(days=rng.uniform(0, 3 * 365)),
        )

    def _memberships(
        self, rng: random.Random, users: list[User], pool: list[str], per_user: int
    ) -> int:
        """About ``per_user`` memberships each (one to twice-minus-one), one role per flock."""
        memberships = []
        for user in users:
            count = (
                min(len(pool), rng.randint(max(1, per_user - 1), per_user + 1)) if per_user else 0
            )
            for flock_id in rng.sample(pool, count):
                role = FlockRole.MANAGER if rng.random() < 0.2 else FlockRole.WATCHER
                memberships.append(FlockMembership(user_id=user.pk, flock_id=flock_id, role=role))
        FlockMembership.objects.bulk_create(memberships, batch_size=self.batch_size)
        return len(memberships)
