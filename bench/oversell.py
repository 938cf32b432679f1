"""OVERSELL-1: 200 one-unit orders for a product with 50 units, all at once, from concurrent
clients (threads, or separate processes) through the HTTP API served by gunicorn with several
workers. Expected: exactly 50 confirmed, 150 × 409 insufficient_stock, no 500, no deadlock,
stock never negative, allocations equal to the confirmed quantities.

    .venv/bin/python bench/oversell.py --database sqlite --clients processes
    .venv/bin/python bench/oversell.py --database postgres --clients threads

Prints a table and, last, one line "RESULT {json}"; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    django_setup,
    drop_database,
    gunicorn_start,
    gunicorn_stop,
    machine,
    prepare_database,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--db-name", default="rtg_oversell")
    parser.add_argument("--clients", choices=["threads", "processes"], default="processes")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients (at least 8)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--stock", type=int, default=50)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    return parser.parse_args(argv)


def setup(stock: int) -> dict:
    """One company with a warehouse, a customer, a product with `stock` units and an API token."""
    from retaguarda.core.choices import Role
    from retaguarda.core.permissions import Actor
    from retaguarda.core.services import api_token_create
    from retaguarda.core.testing import company_build, user_build
    from retaguarda.inventory.testing import stocked_product, warehouse_build
    from retaguarda.parties.testing import party_build

    company = company_build(country="ES")
    user = user_build(company, Role.SALES)
    _token, raw = api_token_create(actor=Actor(user=user, company=company, role=Role.SALES), name="storefront")
    warehouse = warehouse_build(company, code="MAIN")
    product = stocked_product(company, warehouse=warehouse, quantity=str(stock), sku="SCARCE")
    customer = party_build(company)
    return {"token": raw, "customer_id": customer.pk, "product_id": product.pk, "sku": product.sku}


def client(base: str, token: str, customer_id: int, sku: str, indexes: list[int], start_at: float) -> list:
    """Send one order per index, one after another; returns (index, status, code, ms)."""
    while time.time() < start_at:
        time.sleep(0.001)
    results = []
    for index in indexes:
        body = json.dumps(
            {"external_ref": f"OS-{index}", "customer_id": customer_id, "lines": [{"sku": sku, "quantity": "1"}]}
        ).encode()
        request = urllib.request.Request(
            base + "/api/v1/sales/orders",
            data=body,
            method="POST",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"oversell-{index}",
            },
        )
        began = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, payload = response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            status = exc.code
            try:
                payload = json.loads(exc.read())
            except ValueError:
                payload = {}
        except OSError as exc:
            status, payload = 0, {"error": {"code": type(exc).__name__}}
        code = (payload.get("error") or {}).get("code", "") if isinstance(payload, dict) else ""
        results.append((index, status, code, (time.perf_counter() - began) * 1000))
    return results


def _client_star(args):
    return client(*args)


def run(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="rtg-oversell-"))
    url = prepare_database(args.database, workdir, pg_url=args.pg_url, db_name=args.db_name)
    django_setup(url, workdir)
    data = setup(args.stock)
    server, base = gunicorn_start(workers=args.workers, threads=4, workdir=workdir)
    try:
        shares = [list(range(i, args.requests, args.concurrency)) for i in range(args.concurrency)]
        start_at = time.time() + 1.0
        jobs = [(base, data["token"], data["customer_id"], data["sku"], share, start_at) for share in shares]
        began = time.perf_counter()
        if args.clients == "threads":
            outcomes: list[list] = [[] for _ in jobs]

            def work(slot, job):
                outcomes[slot] = client(*job)

            threads = [threading.Thread(target=work, args=(n, job)) for n, job in enumerate(jobs)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        else:
            with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
                outcomes = pool.map(_client_star, jobs)
        elapsed = time.perf_counter() - began - 1.0
    finally:
        gunicorn_stop(server)
    results = [row for outcome in outcomes for row in outcome]
    return {"data": data, "results": results, "elapsed": elapsed, "workdir": str(workdir)}


def verify(data: dict, results: list, stock: int) -> dict:
    from django.db.models import Sum

    from retaguarda.inventory.models import Allocation, StockLevel
    from retaguarda.sales.models import SalesOrder, SalesOrderLine

    statuses = Counter(status for _i, status, _c, _ms in results)
    codes = Counter(code for _i, status, code, _ms in results if status == 409)
    level = StockLevel.objects.get(product_id=data["product_id"])
    confirmed = SalesOrder.objects.filter(status="confirmed").count()
    allocated_lines = SalesOrderLine.objects.aggregate(s=Sum("quantity_allocated"))["s"]
    allocations = Allocation.objects.filter(product_id=data["product_id"]).aggregate(s=Sum("quantity"))["s"]
    latencies = sorted(ms for *_rest, ms in results)
    facts = {
        "requests": len(results),
        "created_201": statuses.get(201, 0),
        "rejected_409": statuses.get(409, 0),
        "rejected_codes": dict(codes),
        "other_statuses": {str(k): v for k, v in statuses.items() if k not in (201, 409)},
        "orders_in_database": SalesOrder.objects.count(),
        "confirmed_in_database": confirmed,
        "on_hand": str(level.on_hand),
        "allocated": str(level.allocated),
        "allocations_sum": str(allocations),
        "order_lines_allocated_sum": str(allocated_lines),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 1) if latencies else None,
    }
    checks = {
        "exactly_stock_confirmed": facts["created_201"] == stock == confirmed == facts["orders_in_database"],
        "rest_rejected_insufficient_stock": facts["rejected_409"] == len(results) - stock
        and set(codes) == {"insufficient_stock"},
        "no_other_status": not facts["other_statuses"],
        "stock_not_negative": level.on_hand >= 0 and level.on_hand - level.allocated >= 0,
        "allocations_equal_confirmed": level.allocated == allocations == allocated_lines == stock,
    }
    return {"facts": facts, "checks": checks}


def main(argv=None) -> int:
    args = parse_args(argv)
    outcome = run(args)
    report = verify(outcome["data"], outcome["results"], args.stock)
    ok = all(report["checks"].values())
    facts = report["facts"]
    print(f"OVERSELL-1  {machine()}  clients={args.clients} x{args.concurrency}  gunicorn workers={args.workers}")
    print(
        f"  requests {facts['requests']} in {outcome['elapsed']:.2f} s: 201 x{facts['created_201']}, "
        f"409 x{facts['rejected_409']} {facts['rejected_codes']}, other {facts['other_statuses']}"
    )
    print(
        f"  stock: on hand {facts['on_hand']}, allocated {facts['allocated']}, allocations {facts['allocations_sum']}"
    )
    print(f"  latency p50 {facts['p50_ms']} ms, p99 {facts['p99_ms']} ms")
    for name, passed in report["checks"].items():
        print(f"  {'ok ' if passed else 'FAIL'} {name}")
    drop_database(args.database, pg_url=args.pg_url, db_name=args.db_name)
    result = {
        "workload": "OVERSELL-1",
        "database": args.database,
        "clients": args.clients,
        "concurrency": args.concurrency,
        "seconds": round(outcome["elapsed"], 3),
        "ok": ok,
        **facts,
        "checks": report["checks"],
    }
    print("RESULT " + json.dumps(result, sort_keys=True))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
