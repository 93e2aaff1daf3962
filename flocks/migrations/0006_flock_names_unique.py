"""Flock names are unique in any letter case (a unique index on LOWER(name), after 0005 renamed
the duplicates); searching them by part of the name (``icontains``, which Django sends to
PostgreSQL as ``UPPER(name::text) LIKE UPPER(%s)``) is served by a trigram index on exactly that
expression, PostgreSQL-only as in users.0002."""

import django.db.models.functions.text
from django.db import migrations, models

TRIGRAM_INDEX = "flocks_flock_name_trgm"


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{TRIGRAM_INDEX}" ON "flocks_flock" '
        'USING gin ((UPPER("name"::text)) gin_trgm_ops)'
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{TRIGRAM_INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("flocks", "0005_rename_duplicate_flock_names"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="flock",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                name="flock_name_unique_ignoring_case",
                violation_error_message="A flock with this name already exists.",
            ),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
    ]
