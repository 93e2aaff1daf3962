"""Rows of a model by equality on a few columns, with the ORM's SQL compiled once per connection.

The API runs such a lookup on every request, and compiling a queryset costs the ORM several
times the indexed SELECT itself. So the ORM compiles it once per database connection (its
field converters are bound to the connection) and each call only runs the SQL and builds the
instances, with the ORM's own SQL and conversions.

It leans on private ORM APIs (``SQLCompiler.as_sql``, ``select``, ``get_converters``,
``apply_converters``, ``Model.from_db``); tests/test_compiled_lookup.py compares it with the
plain queryset it replaces, so a Django upgrade that changes them fails there first.
"""

from __future__ import annotations

import functools
import operator

from django.db import connections
from django.db.models import IntegerField, Model, Q

# Per connection (``connection.__dict__``): gone with the connection, so a new one compiles again.
CACHE_ATTRIBUTE = "portal_compiled_lookups"


def rows_where(
    model: type[Model], columns: tuple[str, ...], values: list[str], fields: tuple[str, ...] = ()
) -> list[Model]:
    """Rows of ``model`` whose ``columns[i]`` equals ``values[i]`` for any i, unordered, with only
    ``fields`` loaded when given (others load on first access, one query each): what
    ``model.objects.filter(Q(columns[0]=values[0]) | …).only(*fields)`` returns."""
    connection = connections[model.objects.db]
    compiled = connection.__dict__.setdefault(CACHE_ATTRIBUTE, {})
    key = (model._meta.label, columns, fields)
    if key not in compiled:
        condition = functools.reduce(
            operator.or_, (Q(**{column: _placeholder(model, column)}) for column in columns)
        )
        queryset = model.objects.filter(condition).order_by()
        if fields:
            queryset = queryset.only(*fields)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        assert len(params) == len(columns), sql
        selected = [col for col, _, _ in compiler.select]
        names = [col.target.attname for col in selected]
        compiled[key] = sql, compiler, compiler.get_converters(selected), names
    sql, compiler, converters, names = compiled[key]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        rows = cursor.fetchall()
    if converters:
        rows = compiler.apply_converters(rows, converters)
    return [model.from_db(connection.alias, names, row) for row in rows]


def _placeholder(model: type[Model], column: str) -> object:
    """A value of the column's type to compile the SQL with (its parameter is replaced)."""
    field = model._meta.pk if column == "pk" else model._meta.get_field(column)
    return 0 if isinstance(field, IntegerField) else ""
