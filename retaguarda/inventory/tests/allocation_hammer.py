"""Concurrent allocations of one product; used by test_concurrency.py.

`hammer()` runs in the current process with one database connection per thread. Run as a
script (`python -m retaguarda.inventory.tests.allocation_hammer`) it migrates the database named
by DATABASE_URL (a scratch SQLite file), stocks a product, hammers it and prints the outcome as JSON.
"""

from __future__ import annotations

import json
import threading

THREADS, AVAILABLE = 20, 5


def hammer(*, company_id: int, product_id: int, warehouse_id: int, threads: int = THREADS) -> dict:
    """Each thread allocates one unit, all released at once by a barrier."""
    from django.db import connections

    from retaguarda.common.errors import Conflict
    from retaguarda.core.models import Company
    from retaguarda.core.permissions import system_actor
    from retaguarda.inventory.services import stock_allocate

    actor = system_actor(Company.objects.get(pk=company_id))
    outcome: dict[str, list] = {"allocated": [], "refused": [], "errors": []}
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def allocate(index: int) -> None:
        try:
            start.wait()
            stock_allocate(
                actor=actor,
                product_id=product_id,
                warehouse_id=warehouse_id,
                quantity=1,
                reference_type="hammer",
                reference_id=str(index),
            )
            key = "allocated"
        except Conflict as exc:
            key = "refused" if exc.code == "insufficient_stock" else "errors"
        except Exception as exc:  # reported to the test, which fails on any
            key = f"errors:{type(exc).__name__}: {exc}"
        finally:
            connections.close_all()
        with lock:
            if key.startswith("errors:"):
                outcome["errors"].append(key[7:])
            else:
                outcome[key].append(index)

    workers = [threading.Thread(target=allocate, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcome


def ledger(product_id: int) -> dict:
    """What the database holds after the hammer: balance and allocation rows."""
    from retaguarda.inventory.models import Allocation, StockLevel

    balance = StockLevel.objects.get(product_id=product_id)
    return {
        "balance_on_hand": str(balance.on_hand),
        "balance_allocated": str(balance.allocated),
        "allocations": Allocation.objects.filter(product_id=product_id).count(),
    }


def main() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retaguarda.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from retaguarda.core.testing import company_build
    from retaguarda.inventory.testing import stocked_product, warehouse_build

    call_command("migrate", verbosity=0)
    company = company_build(country="ES")
    warehouse = warehouse_build(company)
    product = stocked_product(company, warehouse=warehouse, quantity=str(AVAILABLE))
    outcome = hammer(company_id=company.pk, product_id=product.pk, warehouse_id=warehouse.pk)
    outcome.update(ledger(product.pk))
    outcome["vendor"] = connection.vendor
    outcome["journal_mode"] = connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]
    print(json.dumps(outcome))  # noqa: T201 - the test reads this line


if __name__ == "__main__":
    main()
