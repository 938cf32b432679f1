"""Concurrent writers drawing numbers from one sequence; used by test_sequences.py.

`hammer()` runs in the current process with one database connection per thread. Run as a
script (`python -m retaguarda.core.tests.sequence_hammer`) it migrates the database named by
DATABASE_URL (a scratch SQLite file), hammers it and prints the outcome as JSON.
"""

from __future__ import annotations

import json
import threading
import time


class _GiveBack(Exception):
    pass


def hammer(*, company_id: int, series: str, year: int, threads: int, per_thread: int, rollback_every: int) -> dict:
    """Each thread takes `per_thread` numbers, each in its own transaction; every
    `rollback_every`-th transaction rolls back after taking its number (giving it back)."""
    from django.db import connections, transaction

    from retaguarda.core.models import Company
    from retaguarda.core.services import sequence_next

    company = Company.objects.get(pk=company_id)
    issued: list[int] = []
    rolled_back: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def writer(index: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                try:
                    with transaction.atomic():
                        number = sequence_next(company=company, series=series, year=year)
                        time.sleep(0.001)  # hold the counter a moment: widen any race window
                        if (index * per_thread + i) % rollback_every == rollback_every - 1:
                            with lock:
                                rolled_back.append(number)
                            raise _GiveBack
                    with lock:
                        issued.append(number)
                except _GiveBack:
                    pass
        except Exception as exc:  # reported to the test, which fails on any
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"issued": issued, "rolled_back": rolled_back, "errors": errors}


def main() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retaguarda.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from retaguarda.core.models import Sequence
    from retaguarda.core.testing import company_build

    call_command("migrate", verbosity=0)
    company = company_build(country="ES")
    outcome = hammer(company_id=company.pk, series="F", year=2025, threads=8, per_thread=25, rollback_every=7)
    outcome["vendor"] = connection.vendor
    outcome["journal_mode"] = connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]
    outcome["last_number"] = Sequence.objects.get(company=company, series="F", year=2025).last_number
    print(json.dumps(outcome))  # noqa: T201 - the test reads this line


if __name__ == "__main__":
    main()
