"""OTC-1, order to cash, exactly as ../shared/WORKLOADS.md defines it, through the service layer.

Setup (not timed): one company in EUR, one warehouse, the fiscal year with monthly periods, the
company's chart of accounts, one 10 % sales tax on every product (Spain's reduced IVA), 200
goods products, product i priced 10 + (i mod 91) with 1,000,000 units on hand, 1,000 customers,
immediate payment term.

Timed, for order i = 0 … N−1 (split i mod K among K client processes with --clients K):
  1 create   a sales order for customer i mod 1000 with 3 lines: products (7i) mod 200,
             (7i+1) mod 200, (7i+2) mod 200, quantities 1 + (i mod 5), 2 and 1
  2 confirm  (stock allocated)
  3 ship     pick, pack and ship it completely (stock leaves, cost of goods posted)
  4 invoice  issue and post the customer invoice (number, tax, receivable, revenue, tax posted)
  5 pay      register a full payment and reconcile it: the invoice is paid, the order complete

Verified at the end: N orders complete, N invoices paid, the sum of invoice totals equals the
receivable debits and the bank debits, revenue and tax in the ledger equal the invoices' untaxed
and tax sums, receivable balance zero, every journal entry balanced.

    .venv/bin/python bench/otc.py --database sqlite --orders 1000
    .venv/bin/python bench/otc.py --database postgres --orders 500 --clients 4

Prints a table and, last, one line "RESULT {json}".
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import django_setup, drop_database, machine, prepare_database  # noqa: E402

PRODUCTS, CUSTOMERS = 200, 1000
STEPS = ("create", "confirm", "ship", "invoice", "pay")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--db-name", default="rtg_otc")
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--clients", type=int, default=1, help="concurrent client processes")
    return parser.parse_args(argv)


def setup() -> dict:
    from django.db import transaction

    from retaguarda.catalog.models import Product, TaxCategory, UnitOfMeasure
    from retaguarda.catalog.testing import catalog_defaults_build
    from retaguarda.core.choices import Role
    from retaguarda.core.permissions import Actor
    from retaguarda.core.testing import company_build, user_build
    from retaguarda.inventory.choices import MoveReason
    from retaguarda.inventory.services import stock_receive
    from retaguarda.inventory.testing import warehouse_build
    from retaguarda.parties.models import Party, PaymentTerm

    company = company_build(country="ES")
    user = user_build(company, Role.ADMINISTRATOR)
    actor = Actor(user=user, company=company, role=Role.ADMINISTRATOR)
    warehouse = warehouse_build(company, code="MAIN")
    catalog_defaults_build(company)
    unit = UnitOfMeasure.objects.get(company=company, code="un")
    # Spain's reduced IVA is the one 10 % tax of the workload.
    tax, _ = TaxCategory.objects.get_or_create(company=company, code="reduced", defaults={"name": "Reduced"})
    immediate = PaymentTerm.objects.create(company=company, name="Immediate", days=0)
    with transaction.atomic():
        products = Product.objects.bulk_create(
            Product(
                company=company,
                sku=f"P{i:03d}",
                name=f"Product {i}",
                uom=unit,
                tax_category=tax,
                list_price=10 + (i % 91),
            )
            for i in range(PRODUCTS)
        )
        for i, product in enumerate(products):
            # Standard cost 60 % of the price, as the floor's.
            stock_receive(
                actor=actor,
                product_id=product.pk,
                warehouse_id=warehouse.pk,
                quantity="1000000",
                unit_cost=str(Decimal(10 + i % 91) * Decimal("0.6")),
                reason=MoveReason.INITIAL,
            )
        customers = Party.objects.bulk_create(
            Party(
                company=company,
                legal_name=f"Customer {i}",
                kind="person",
                tax_country="ES",
                language="es",
                email=f"c{i}@example.com",
                payment_term=immediate,
            )
            for i in range(CUSTOMERS)
        )
    return {
        "company_id": company.pk,
        "user_id": user.pk,
        "customers": [c.pk for c in customers],
        "skus": [p.sku for p in products],
        "warehouse_id": warehouse.pk,
    }


def order_lines(i: int, skus: list[str]) -> list[dict]:
    return [
        {"sku": skus[(7 * i) % PRODUCTS], "quantity": str(1 + i % 5)},
        {"sku": skus[(7 * i + 1) % PRODUCTS], "quantity": "2"},
        {"sku": skus[(7 * i + 2) % PRODUCTS], "quantity": "1"},
    ]


def order_to_cash(actor, data: dict, i: int, mark) -> None:
    """One order through the five steps; `mark(step)` is called after each."""
    from django.utils import timezone

    from retaguarda.billing.services import invoice_issue_for_order
    from retaguarda.collections.services import payment_register
    from retaguarda.fulfilment.services import (
        parcel_add,
        pick_list_complete,
        pick_list_confirm_all,
        pick_list_create,
        shipment_pack,
        shipment_ship,
    )
    from retaguarda.sales.services import sales_order_confirm, sales_order_create

    order = sales_order_create(
        actor=actor,
        customer_id=data["customers"][i % CUSTOMERS],
        external_ref=f"OTC-{i}",
        lines=order_lines(i, data["skus"]),
        channel="api",
        confirm=False,
    )
    mark("create")
    sales_order_confirm(actor=actor, order_id=order.pk)
    mark("confirm")
    pick_list = pick_list_create(actor=actor, warehouse_id=data["warehouse_id"], order_ids=[order.pk])
    pick_list_confirm_all(actor=actor, pick_list_id=pick_list.pk)
    (shipment,) = pick_list_complete(actor=actor, pick_list_id=pick_list.pk).created_shipments
    parcel_add(actor=actor, shipment_id=shipment.pk, weight=Decimal("1.000"))
    shipment_pack(actor=actor, shipment_id=shipment.pk)
    shipment_ship(actor=actor, shipment_id=shipment.pk, carrier="Correos", tracking_number=f"T{i}")
    mark("ship")
    invoice = invoice_issue_for_order(actor=actor, order_id=order.pk)
    mark("invoice")
    payment_register(
        actor=actor,
        party_id=invoice.party_id,
        amount=invoice.payable,
        date=timezone.localdate(),
        method="transfer",
        reference=invoice.number,
        allocations=[(invoice.pk, invoice.payable)],
    )
    mark("pay")


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def run_orders(data: dict, indexes) -> dict:
    from django.db import connection

    from retaguarda.core.choices import Role
    from retaguarda.core.models import Company, User
    from retaguarda.core.permissions import Actor

    actor = Actor(
        user=User.objects.get(pk=data["user_id"]),
        company=Company.objects.get(pk=data["company_id"]),
        role=Role.ADMINISTRATOR,
    )
    counter = QueryCounter()
    times, step_queries, step_ms = [], dict.fromkeys(STEPS, 0), dict.fromkeys(STEPS, 0.0)
    state = {}

    def mark(step):
        now = time.perf_counter()
        step_queries[step] += counter.count - state["queries"]
        step_ms[step] += (now - state["at"]) * 1000
        state.update(queries=counter.count, at=now)

    began = time.perf_counter()
    with connection.execute_wrapper(counter):
        for i in indexes:
            start = time.perf_counter()
            state.update(queries=counter.count, at=start)
            order_to_cash(actor, data, i, mark)
            times.append((time.perf_counter() - start) * 1000)
    return {
        "elapsed": time.perf_counter() - began,
        "times": times,
        "queries": counter.count,
        "step_queries": step_queries,
        "step_ms": step_ms,
    }


def _client(database_url, workdir, data, indexes, queue):
    django_setup(database_url, Path(workdir), migrate=False)
    try:
        queue.put(run_orders(data, indexes))
    except Exception as exc:  # reported by the parent
        queue.put({"error": repr(exc)})


def run(data: dict, orders: int, clients: int, database_url: str, workdir: Path) -> dict:
    if clients == 1:
        result = run_orders(data, range(orders))
        results = [result]
        elapsed = result["elapsed"]
    else:
        from django.db import connections

        connections.close_all()
        context = mp.get_context("spawn")
        queue = context.Queue()
        processes = [
            context.Process(
                target=_client, args=(database_url, str(workdir), data, list(range(n, orders, clients)), queue)
            )
            for n in range(clients)
        ]
        began = time.perf_counter()
        for process in processes:
            process.start()
        results = [queue.get() for _ in processes]
        for process in processes:
            process.join()
        elapsed = time.perf_counter() - began
        failed = [r["error"] for r in results if "error" in r]
        if failed:
            raise SystemExit(f"client failed: {failed[0]}")
    times = sorted(t for r in results for t in r["times"])
    queries = sum(r["queries"] for r in results)
    return {
        "clients": clients,
        "orders": orders,
        "seconds": round(elapsed, 3),
        "orders_per_second": round(orders / elapsed, 1),
        "median_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[max(0, int(len(times) * 0.99) - 1)], 2),
        "queries_per_order": round(queries / orders, 1),
        "queries_per_step": {s: round(sum(r["step_queries"][s] for r in results) / orders, 1) for s in STEPS},
        "ms_per_step": {s: round(sum(r["step_ms"][s] for r in results) / orders, 2) for s in STEPS},
    }


def verify(company_id: int, orders: int) -> dict:
    """OTC-1's closing checks, from the ledger and the documents."""
    from django.db.models import Count, Q, Sum

    from retaguarda.billing.models import Invoice
    from retaguarda.ledger.choices import AccountRole
    from retaguarda.ledger.models import AccountBalance, JournalEntry, JournalLine
    from retaguarda.ledger.services import accounts_by_role
    from retaguarda.sales.models import SalesOrder

    roles = accounts_by_role(company_id)

    def account_sums(role):
        row = AccountBalance.objects.filter(account=roles[role]).aggregate(d=Sum("debit"), c=Sum("credit"))
        return row["d"] or Decimal(0), row["c"] or Decimal(0)

    invoices = Invoice.objects.filter(company_id=company_id, kind="customer_invoice").aggregate(
        n=Count("pk"),
        paid=Count("pk", filter=Q(payment_status="paid")),
        total=Sum("grand_total"),
        untaxed=Sum("net_total"),
        tax=Sum("tax_total"),
    )
    complete = SalesOrder.objects.filter(company_id=company_id, status="closed").count()
    receivable_debit, receivable_credit = account_sums(AccountRole.RECEIVABLE)
    bank_debit, _bank_credit = account_sums(AccountRole.BANK)
    _rev_d, revenue_credit = account_sums(AccountRole.REVENUE)
    _tax_d, tax_credit = account_sums(AccountRole.TAX_PAYABLE)
    unbalanced = (
        JournalEntry.objects.filter(company_id=company_id)
        .annotate(d=Sum("lines__debit"), c=Sum("lines__credit"))
        .exclude(d=models_f("c"))
        .count()
    )
    open_lines = JournalLine.objects.filter(account=roles[AccountRole.RECEIVABLE]).exclude(residual=0).count()
    checks = {
        "orders_complete": complete == orders,
        "invoices_paid": invoices["n"] == orders and invoices["paid"] == orders,
        "totals_equal_receivable_debits": invoices["total"] == receivable_debit,
        "totals_equal_bank_debits": invoices["total"] == bank_debit,
        "revenue_equals_untaxed": revenue_credit == invoices["untaxed"],
        "tax_equals_invoice_tax": tax_credit == invoices["tax"],
        "receivable_balance_zero": receivable_debit == receivable_credit and open_lines == 0,
        "entries_balanced": unbalanced == 0,
    }
    return {
        "checks": checks,
        "ok": all(checks.values()),
        "invoice_total": str(invoices["total"]),
        "receivable_debits": str(receivable_debit),
        "bank_debits": str(bank_debit),
    }


def models_f(name):
    from django.db.models import F

    return F(name)


def main(argv=None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="rtg-otc-"))
    database_url = prepare_database(args.database, workdir, pg_url=args.pg_url, db_name=args.db_name)
    django_setup(database_url, workdir)
    data = setup()
    row = run(data, args.orders, args.clients, database_url, workdir)
    checked = verify(data["company_id"], args.orders)
    print(f"OTC-1  {machine()}")
    print(f"{'clients':>7}{'orders':>8}{'seconds':>10}{'orders/s':>10}{'median ms':>11}{'p99 ms':>9}{'queries':>9}")
    print(
        f"{row['clients']:>7}{row['orders']:>8}{row['seconds']:>10}{row['orders_per_second']:>10}"
        f"{row['median_ms']:>11}{row['p99_ms']:>9}{row['queries_per_order']:>9}"
    )
    print(
        "per step (queries, ms): "
        + ", ".join(f"{s} {row['queries_per_step'][s]} q {row['ms_per_step'][s]} ms" for s in STEPS)
    )
    for name, ok in checked["checks"].items():
        print(f"  {'ok ' if ok else 'FAIL'} {name}")
    drop_database(args.database, pg_url=args.pg_url, db_name=args.db_name)
    print("RESULT " + json.dumps({"workload": "OTC-1", "database": args.database, **row, **checked}, sort_keys=True))
    return 0 if checked["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
