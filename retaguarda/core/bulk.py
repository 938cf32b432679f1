"""Inserting many rows fast, for imports, returning their new primary keys in order.

Django's bulk_create prepares every value of every object through the SQL compiler (about ten
function calls each) and, on SQLite, caps a statement at 999 parameters; for 100,000 rows that
is most of an import's time. Here each value is converted only where its field needs it (scaled
decimals, dates). On SQLite rows go in multi-row INSERT … RETURNING statements (the keys come
back in insertion order, as bulk_create relies on). On PostgreSQL, where parsing a statement
with tens of thousands of parameters costs more than the rows, the keys are drawn from the
table's sequence first and the rows streamed with COPY, several times faster. Model save() and
signals are not called: callers validate first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice

from django.db import connection, models

# The most parameters in one statement (SQLite's own limit may be lower; it is read at run time).
MAX_PARAMETERS = 32_000
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


def _converter(field: models.Field):
    if isinstance(field, _PLAIN):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def _prepared(rows: Iterable[Sequence], converters) -> list[Sequence]:
    if not converters:
        return list(rows)
    prepared = []
    for row in rows:
        row = list(row)
        for index, convert in converters:
            row[index] = convert(row[index])
        prepared.append(row)
    return prepared


def _chunks(rows: Iterable[Sequence], size: int):
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def bulk_insert(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence]) -> list[int]:
    """Insert `rows` (values in the order of `columns`, field names or attnames) into `model`'s
    table in the current transaction; returns the new primary keys in the order of `rows`."""
    fields = [model._meta.get_field(name) for name in columns]
    converters = [(i, c) for i, c in enumerate(_converter(f) for f in fields) if c is not None]
    quote = connection.ops.quote_name
    table, pk_column = model._meta.db_table, model._meta.pk.column
    column_list = ", ".join(quote(f.column) for f in fields)
    ids: list[int] = []
    if connection.vendor == "postgresql":
        copy_sql = f"COPY {quote(table)} ({quote(pk_column)}, {column_list}) FROM STDIN"
        with connection.cursor() as cursor:
            for chunk in _chunks(rows, MAX_ROWS_PER_STATEMENT):
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [quote(table), pk_column, len(chunk)],
                )
                chunk_ids = [r[0] for r in cursor.fetchall()]
                # The driver's own cursor: Django's has no COPY; its errors still become Django's.
                with connection.wrap_database_errors, cursor.cursor.copy(copy_sql) as copy:
                    for pk, row in zip(chunk_ids, _prepared(chunk, converters), strict=True):
                        copy.write_row((pk, *row))
                ids.extend(chunk_ids)
        return ids

    head = f"INSERT INTO {quote(table)} ({column_list}) VALUES "
    tail = f" RETURNING {quote(pk_column)}"
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    rows_per_statement = 0  # known at the first row, so that inserting nothing touches no connection
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, MAX_ROWS_PER_STATEMENT):
            if not rows_per_statement:
                rows_per_statement = max(1, min(MAX_ROWS_PER_STATEMENT, _parameter_limit() // len(fields)))
            for start in range(0, len(chunk), rows_per_statement):
                part = _prepared(chunk[start : start + rows_per_statement], converters)
                cursor.execute(head + ", ".join([placeholder] * len(part)) + tail, [v for row in part for v in row])
                ids.extend(r[0] for r in cursor.fetchall())
    return ids


def _parameter_limit() -> int:
    if connection.vendor == "sqlite":
        import sqlite3

        return min(MAX_PARAMETERS, connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return MAX_PARAMETERS
