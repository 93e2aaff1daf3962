"""Indexes that keep the users page and the audit log page fast at 100,000 users.

Sorting uses plain b-tree indexes (every database). Searching uses ``icontains``,
which Django sends to PostgreSQL as ``UPPER(col::text) LIKE UPPER(%s)``: trigram GIN
indexes on exactly those expressions serve it. They are PostgreSQL-only, so they are
made by a RunPython that does nothing on SQLite.
"""

from django.db import migrations, models

TRIGRAM_INDEXES = {
    "users_user_email_trgm": ("users_user", "email"),
    "users_user_username_trgm": ("users_user", "username"),
    "users_user_note_trgm": ("users_user", "note"),
    "users_audit_message_trgm": ("users_auditentry", "message"),
    "users_audit_actor_trgm": ("users_auditentry", "actor_label"),
    "users_audit_target_trgm": ("users_auditentry", "target_label"),
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ("users", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="user",
            index=models.Index(fields=["date_joined", "id"], name="user_joined_idx"),
        ),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(fields=["access_level", "username"], name="user_access_username_idx"),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
