"""The driver the CSV/XLSX imports of every app share: read and check every row first, then
write the whole file in one transaction, in batches, with one audit row and one event."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple, Protocol

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from retaguarda.common import tabular
from retaguarda.common.errors import Conflict
from retaguarda.common.tabular import Column, ImportResult, ParsedTable

from .permissions import Actor
from .services import audit_record, event_emit

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000

Progress = Callable[[str, int, int | None], None]


class RowChecker(Protocol):
    """Checks one record after another; keeps the validated rows while no error is found."""

    rows: list

    def check(self, row: int, record: dict, present: set[str]) -> None: ...


def import_file_name(file, name: str | None) -> str:
    """The file's name as an import's audit row and event keep it."""
    return str(name or getattr(file, "name", "") or "")[:200]


def import_check(
    *,
    file,
    columns: list[Column],
    checker: RowChecker,
    result: ImportResult,
    format: str | None,
    name: str | None,
    progress: Progress | None,
) -> set[str] | None:
    """Read every record of the file and check it. Returns the file's columns when the checker's
    rows are ready to write; None when `result.errors` says why nothing is to be written."""
    info = ParsedTable()

    def validate_progress(done: int, total: int | None) -> None:
        if progress is not None:
            progress("validate", done, total)

    records = tabular.read_records(
        file, columns, result.errors, format=format, name=name, progress=validate_progress, info=info
    )
    present: set[str] = set()
    for row, record in records:
        present = present or set(info.columns)
        checker.check(row, record, present)
    result.rows = info.rows_read
    if result.errors:
        return None
    if not checker.rows:
        result.errors.add(0, "", _("The file has no rows to import."))
        return None
    return set(info.columns)


class ImportKind(NamedTuple):
    """What an import writes in the audit log and the events, and says when the database refuses it."""

    object_type: str  # of the audit row
    action: str  # of the audit row
    event: str
    conflict_message: str  # gettext_lazy: said in the language active when it is needed


def import_write(
    actor: Actor,
    rows: list,
    result: ImportResult,
    progress: Progress | None,
    write_batch: Callable[[list], tuple[int, int]],
    *,
    kind: ImportKind,
    summary_extra: dict,
) -> None:
    """Write `rows` in batches of BATCH_SIZE in one transaction: `write_batch(batch)` writes one
    and returns (created, updated). Then one audit row and one event with the counts. A database
    constraint refusing a row (another user saved the same key meanwhile) writes nothing and
    raises Conflict(kind.conflict_message)."""
    company = actor.company
    total = len(rows)
    try:
        with transaction.atomic():
            for start in range(0, total, BATCH_SIZE):
                batch = rows[start : start + BATCH_SIZE]
                created, updated = write_batch(batch)
                result.created += created
                result.updated += updated
                if progress is not None:
                    progress("write", start + len(batch), total)
            summary = {"rows": result.rows, "created": result.created, "updated": result.updated, **summary_extra}
            audit_record(actor=actor, company=company, object_type=kind.object_type, action=kind.action, after=summary)
            event_emit(company=company, name=kind.event, payload=summary)
    except IntegrityError:
        logger.warning("%s refused by a database constraint", kind.action, exc_info=True)
        result.created = result.updated = 0
        raise Conflict(str(kind.conflict_message))
