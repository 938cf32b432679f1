"""Order intake: storefront orders created and confirmed (stock reserved), through the service
layer and through the HTTP API served by gunicorn, as in OTC-1's first two steps.

Order i is for customer i mod 1000 with 3 lines: products (7i) mod 200, (7i+1) mod 200 and
(7i+2) mod 200, quantities 1 + (i mod 5), 2 and 1; 200 products with 1,000,000 units each.

    .venv/bin/python bench/order_intake.py --database sqlite --orders 2000
    .venv/bin/python bench/order_intake.py --database postgres --orders 1000 --http-clients 4

Prints a table and, last, one line "RESULT {json}".
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import django_setup, drop_database, gunicorn_start, gunicorn_stop, machine, prepare_database  # noqa: E402

PRODUCTS, CUSTOMERS = 200, 1000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--db-name", default="rtg_order_intake")
    parser.add_argument("--orders", type=int, default=1000, help="orders through the services")
    parser.add_argument("--http-orders", type=int, default=500, help="orders through the HTTP API (0: skip)")
    parser.add_argument("--http-clients", type=int, default=1, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    return parser.parse_args(argv)


def setup() -> dict:
    from django.db import transaction

    from retaguarda.catalog.models import Product, TaxCategory, UnitOfMeasure
    from retaguarda.catalog.testing import catalog_defaults_build
    from retaguarda.core.choices import Role
    from retaguarda.core.permissions import Actor
    from retaguarda.core.services import api_token_create
    from retaguarda.core.testing import company_build, user_build
    from retaguarda.inventory.choices import MoveReason
    from retaguarda.inventory.services import stock_receive
    from retaguarda.inventory.testing import warehouse_build
    from retaguarda.parties.models import Party

    company = company_build(country="ES")
    user = user_build(company, Role.SALES)
    actor = Actor(user=user, company=company, role=Role.ADMINISTRATOR)
    _token, raw = api_token_create(actor=Actor(user=user, company=company, role=Role.SALES), name="storefront")
    warehouse = warehouse_build(company, code="MAIN")
    catalog_defaults_build(company)
    unit = UnitOfMeasure.objects.get(company=company, code="un")
    tax = TaxCategory.objects.get(company=company, code="standard")
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
        for product in products:
            stock_receive(
                actor=actor,
                product_id=product.pk,
                warehouse_id=warehouse.pk,
                quantity="1000000",
                unit_cost="5",
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
            )
            for i in range(CUSTOMERS)
        )
    return {
        "actor": Actor(user=user, company=company, role=Role.SALES),
        "token": raw,
        "customers": [c.pk for c in customers],
        "skus": [p.sku for p in products],
        "warehouse": warehouse,
    }


def order_lines(i: int, skus: list[str]) -> list[dict]:
    return [
        {"sku": skus[(7 * i) % PRODUCTS], "quantity": str(1 + i % 5)},
        {"sku": skus[(7 * i + 1) % PRODUCTS], "quantity": "2"},
        {"sku": skus[(7 * i + 2) % PRODUCTS], "quantity": "1"},
    ]


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def through_services(data: dict, count: int) -> dict:
    from django.db import connection

    from retaguarda.sales.services import sales_order_create

    counter = QueryCounter()
    times = []
    began = time.perf_counter()
    with connection.execute_wrapper(counter):
        for i in range(count):
            start = time.perf_counter()
            sales_order_create(
                actor=data["actor"],
                customer_id=data["customers"][i % CUSTOMERS],
                external_ref=f"S-{i}",
                lines=order_lines(i, data["skus"]),
                channel="api",
                confirm=True,
            )
            times.append((time.perf_counter() - start) * 1000)
    elapsed = time.perf_counter() - began
    return _summary("services", count, elapsed, times, counter.count / count)


def through_http(data: dict, count: int, clients: int, workers: int, workdir: Path) -> dict:
    server, base = gunicorn_start(workers=workers, threads=4, workdir=workdir)
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(indexes):
        for i in indexes:
            body = json.dumps(
                {
                    "external_ref": f"H-{i}",
                    "customer_id": data["customers"][i % CUSTOMERS],
                    "lines": order_lines(i, data["skus"]),
                }
            ).encode()
            request = urllib.request.Request(
                base + "/api/v1/sales/orders",
                data=body,
                method="POST",
                headers={
                    "Authorization": f"Bearer {data['token']}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": f"h-{i}",
                },
            )
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    ok = response.status == 201
            except (urllib.error.HTTPError, OSError) as exc:
                ok = False
                with lock:
                    errors.append(str(exc))
            with lock:
                if ok:
                    times.append((time.perf_counter() - start) * 1000)

    try:
        threads = [threading.Thread(target=client, args=(range(n, count, clients),)) for n in range(clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
    finally:
        gunicorn_stop(server)
    result = _summary(f"http x{clients}", count, elapsed, times, None)
    result["errors"] = len(errors)
    return result


def _summary(label, count, elapsed, times, queries) -> dict:
    times = sorted(times)
    return {
        "path": label,
        "orders": count,
        "seconds": round(elapsed, 3),
        "orders_per_second": round(count / elapsed, 1),
        "median_ms": round(statistics.median(times), 2) if times else None,
        "p99_ms": round(times[max(0, int(len(times) * 0.99) - 1)], 2) if times else None,
        "queries_per_order": round(queries, 1) if queries is not None else None,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="rtg-intake-"))
    django_setup(prepare_database(args.database, workdir, pg_url=args.pg_url, db_name=args.db_name), workdir)
    data = setup()
    rows = [through_services(data, args.orders)]
    if args.http_orders:
        rows.append(through_http(data, args.http_orders, args.http_clients, args.workers, workdir))
    from retaguarda.sales.models import SalesOrder

    confirmed = SalesOrder.objects.filter(status="confirmed").count()
    expected = args.orders + (args.http_orders - rows[-1].get("errors", 0) if args.http_orders else 0)
    print(f"Order intake  {machine()}")
    print(f"{'path':<12}{'orders':>8}{'seconds':>10}{'orders/s':>10}{'median ms':>11}{'p99 ms':>9}{'queries':>9}")
    for row in rows:
        print(
            f"{row['path']:<12}{row['orders']:>8}{row['seconds']:>10}{row['orders_per_second']:>10}"
            f"{row['median_ms']!s:>11}{row['p99_ms']!s:>9}{row['queries_per_order']!s:>9}"
        )
    print(f"confirmed orders in the database: {confirmed} (expected {expected})")
    drop_database(args.database, pg_url=args.pg_url, db_name=args.db_name)
    print(
        "RESULT "
        + json.dumps(
            {
                "workload": "ORDER-INTAKE",
                "database": args.database,
                "rows": rows,
                "confirmed": confirmed,
                "ok": confirmed == expected,
            },
            sort_keys=True,
        )
    )
    return 0 if confirmed == expected else 1


if __name__ == "__main__":
    sys.exit(main())
