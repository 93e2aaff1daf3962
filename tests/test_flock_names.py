"""Flock names are unique in any letter case: existing duplicates are renamed first (flocks.0005,
audited), then the unique index holds on every face (the faces' own tests: test_v1_flocks.py,
test_pages_flocks.py, test_django_admin.py, test_races.py)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from servers import LIVE_DB

from flocks.models import DEFAULT_FLOCK_ID, Flock
from users.models import AuditEntry

BEFORE = [("flocks", "0004_flock_name_order_index")]
AFTER = [("flocks", "0006_flock_names_unique")]


@LIVE_DB
def test_migration_renames_duplicates_before_the_unique_index():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        OldFlock = executor.loader.project_state(BEFORE).apps.get_model("flocks", "Flock")
        # (an earlier live-database test's flush may have removed the default flock)
        OldFlock.objects.update_or_create(pk=DEFAULT_FLOCK_ID, defaults={"name": "Cape Town"})
        made = {}
        for key, name in [
            ("oldest", "cape town"),
            ("second", "CAPE TOWN"),
            ("third", "Cape Town"),
            ("taken", "Cape Town (3)"),  # a real name the numbering must skip
            ("long", "L" * 100),
            ("long twin", "l" * 100),
            ("alone", "Durban"),
        ]:
            made[key] = OldFlock.objects.create(name=name).pk
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        names = dict(Flock.objects.values_list("pk", "name"))
        assert names[DEFAULT_FLOCK_ID] == "Cape Town"  # the default flock keeps its name
        assert {key: names[pk] for key, pk in made.items()} == {
            "oldest": "cape town (2)",
            "second": "CAPE TOWN (4)",
            "third": "Cape Town (5)",
            "taken": "Cape Town (3)",
            "long": "L" * 100,
            "long twin": "l" * 96 + " (2)",
            "alone": "Durban",
        }
        entries = AuditEntry.objects.filter(action_type="flock_rename").order_by("id")
        assert [(e.flock_id, e.actor_label, e.message) for e in entries] == [
            (
                made["oldest"],
                "migration flocks.0005",
                "Renamed flock cape town to cape town (2): flock names are unique now",
            ),
            (
                made["second"],
                "migration flocks.0005",
                "Renamed flock CAPE TOWN to CAPE TOWN (4): flock names are unique now",
            ),
            (
                made["third"],
                "migration flocks.0005",
                "Renamed flock Cape Town to Cape Town (5): flock names are unique now",
            ),
            (
                made["long twin"],
                "migration flocks.0005",
                f"Renamed flock {'l' * 100} to {'l' * 96} (2): flock names are unique now",
            ),
        ]
        assert entries[0].additional_information == {
            "before": "cape town",
            "after": "cape town (2)",
        }
        with pytest.raises(IntegrityError), transaction.atomic():
            Flock.objects.create(name="DURBAN")
    finally:
        MigrationExecutor(connection).migrate(latest)
