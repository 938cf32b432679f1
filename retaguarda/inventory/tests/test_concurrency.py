"""No oversell: 20 concurrent allocations of 1 unit against 5 available, each with its own connection."""

import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.db import connection

from retaguarda.core.testing import company_build
from retaguarda.inventory.testing import stocked_product, warehouse_build

from .allocation_hammer import AVAILABLE, THREADS, hammer, ledger


def _assert_exactly_available_allocated(outcome: dict) -> None:
    assert outcome["errors"] == []
    assert len(outcome["allocated"]) == AVAILABLE
    assert len(outcome["refused"]) == THREADS - AVAILABLE
    assert (outcome["balance_on_hand"], outcome["balance_allocated"], outcome["allocations"]) == (
        "5.000",
        "5.000",
        AVAILABLE,
    )


def test_concurrent_allocations_on_a_sqlite_file(tmp_path):
    """Threads with their own connections to one SQLite file (WAL, BEGIN IMMEDIATE), in a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RETAGUARDA_", "DJANGO_")) and k != "DATABASE_URL"}
    env.update(
        RETAGUARDA_MODE="development",
        DATABASE_URL=f"sqlite:///{tmp_path / 'stock.sqlite3'}",
        RETAGUARDA_VAR_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-m", "retaguarda.inventory.tests.allocation_hammer"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert (outcome["vendor"], outcome["journal_mode"]) == ("sqlite", "wal")
    _assert_exactly_available_allocated(outcome)


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL run only; SQLite is covered by the file-based test")
    company = company_build()
    warehouse = warehouse_build(company)
    product = stocked_product(company, warehouse=warehouse, quantity=str(AVAILABLE))
    outcome = hammer(company_id=company.pk, product_id=product.pk, warehouse_id=warehouse.pk)
    outcome.update(ledger(product.pk))
    _assert_exactly_available_allocated(outcome)


@pytest.mark.django_db(transaction=True)
def test_opposite_transfers_and_receipts_do_not_deadlock_on_postgresql():
    """Transfers A→B, B→A and receipts into both, at once: every one succeeds, stock is conserved."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL run only; SQLite serialises writers with BEGIN IMMEDIATE")
    import threading

    from django.db import connections

    from retaguarda.core.permissions import system_actor
    from retaguarda.inventory.models import StockBalance
    from retaguarda.inventory.services import stock_receive, stock_transfer

    company = company_build()
    north, south = warehouse_build(company), warehouse_build(company)
    product = stocked_product(company, warehouse=north, quantity="20", unit_cost="2")
    actor = system_actor(company)
    stock_receive(actor=actor, product_id=product.pk, warehouse_id=south.pk, quantity="20", unit_cost="4")
    errors, start = [], threading.Barrier(12)

    def work(index):
        try:
            start.wait()
            a, b = (north, south) if index % 3 == 0 else (south, north)
            if index % 3 == 2:
                stock_receive(actor=actor, product_id=product.pk, warehouse_id=a.pk, quantity="1", unit_cost="3")
            else:
                stock_transfer(
                    actor=actor, product_id=product.pk, from_warehouse_id=a.pk, to_warehouse_id=b.pk, quantity="1"
                )
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(12)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    balances = dict(StockBalance.objects.filter(product=product).values_list("location__warehouse", "on_hand"))
    # 4 receipts of 1 into south; 4 transfers each way cancel out.
    assert balances == {north.pk: Decimal("20.000"), south.pk: Decimal("24.000")}
