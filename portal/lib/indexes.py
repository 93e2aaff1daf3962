"""Indexes whose column order must match an ORDER BY on both databases."""

from __future__ import annotations

from django.db import models


class NullsFirstIndex(models.Index):
    """A B-tree on ``fields`` with empty values (NULL) first, so "never" sorts before every date
    ascending and after every date descending, read straight from the index on both databases.

    SQLite stores NULL as the smallest value already and refuses ``NULLS FIRST`` in an index;
    PostgreSQL stores it last by default, so there the first column says ``NULLS FIRST``
    (the ORDER BY says it on both: ``F(field).asc(nulls_first=True)``).
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        statement = super().create_sql(model, schema_editor, using=using, **kwargs)
        if schema_editor.connection.vendor == "postgresql":
            columns = statement.parts["columns"]
            columns.col_suffixes = ("NULLS FIRST", *([""] * (len(columns.columns) - 1)))
        return statement
