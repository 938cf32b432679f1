"""Inserting many rows fast, for imports: multi-row INSERT … RETURNING from prepared values.

Django's bulk_create prepares every value of every object through the SQL compiler (about ten
function calls each) and, on SQLite, caps a statement at 999 parameters; for 100,000 rows that
is most of an import's time. Here each column's values are converted once per value only where
the field needs it (scaled decimals, dates), statements carry up to 65,000 parameters, and the
new primary keys come back in insertion order (as bulk_create relies on, with RETURNING, on
PostgreSQL and SQLite 3.35+). Model save() and signals are not called: callers validate first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, models

# PostgreSQL's protocol allows 65,535 parameters per statement; SQLite's limit is read at run time.
MAX_PARAMETERS = 65_000
MAX_ROWS_PER_STATEMENT = 2000

# Fields whose Python value is what the database driver takes (foreign keys are given as ids).
_PLAIN = (
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.SmallIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveIntegerField,
    models.ForeignKey,
)


def _parameter_limit() -> int:
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        return min(MAX_PARAMETERS, connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return MAX_PARAMETERS


def _converter(field: models.Field):
    if isinstance(field, _PLAIN):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def bulk_insert(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence]) -> list[int]:
    """Insert `rows` (values in the order of `columns`, field names or attnames) into `model`'s
    table in the current transaction; returns the new primary keys in the order of `rows`."""
    fields = [model._meta.get_field(name) for name in columns]
    converters = [(i, c) for i, c in enumerate(_converter(f) for f in fields) if c is not None]
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    tail = f" RETURNING {quote(model._meta.pk.column)}"
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = 0  # known at the first row, so that inserting nothing touches no connection
    ids: list[int] = []
    batch: list[Sequence] = []

    def flush() -> None:
        params = []
        for row in batch:
            if converters:
                row = list(row)
                for index, convert in converters:
                    row[index] = convert(row[index])
            params.extend(row)
        with connection.cursor() as cursor:
            cursor.execute(head + ", ".join([placeholder] * len(batch)) + tail, params)
            ids.extend(r[0] for r in cursor.fetchall())
        batch.clear()

    for row in rows:
        if not per_statement:
            per_statement = max(1, min(MAX_ROWS_PER_STATEMENT, _parameter_limit() // len(fields)))
        batch.append(row)
        if len(batch) == per_statement:
            flush()
    if batch:
        flush()
    return ids
