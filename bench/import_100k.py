"""IMPORT-100K: import 100,000 products and 50,000 customers from CSV and XLSX with full
validation, through the same services the web page and `retaguarda importdata` use.

    .venv/bin/python bench/import_100k.py --database sqlite
    .venv/bin/python bench/import_100k.py --database postgres --pg-url postgres://postgres@127.0.0.1:5432/

Generates the files (not timed) into a temporary directory, creates a fresh database (a
temporary SQLite file, or the PostgreSQL database --db-name, dropped afterwards), and for each
format imports into a fresh company and checks every row arrived; then imports the same file
with one bad row and checks it is rejected whole with that row's error and nothing written;
then exports the products again. Prints a table and, last, one line "RESULT {json}".
Target (WORKLOADS.md): each import under 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import drop_database, prepare_database  # noqa: E402

TARGET_SECONDS = 60.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/", help="PostgreSQL server")
    parser.add_argument("--db-name", default="rtg_import_bench", help="PostgreSQL database to create and drop")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--workdir", help="Where to write the files (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="Keep the database and the files")
    return parser.parse_args()


# --- files -----------------------------------------------------------------------------------

CUSTOMER_HEADER = [
    "legal_name",
    "kind",
    "tax_country",
    "tax_id",
    "email",
    "phone",
    "language",
    "credit_limit",
    "billing_street",
    "billing_number",
    "billing_city",
    "billing_postal_code",
]


PRODUCT_ERROR = {"column": "list_price", "message": "Use at most 2 decimal places."}
CUSTOMER_ERROR = {"column": "tax_id", "message": "The check letter does not match: this is not a valid DNI."}


def product_rows(count: int):
    from stdnum import ean

    for i in range(count):
        body = f"789{i:09d}"
        yield [
            f"P{i:07d}",
            body + ean.calc_check_digit(body),
            f"Product {i} — café torrado",
            "Bench product",
            "goods",
            "un" if i % 3 else "kg",
            "standard" if i % 4 else "reduced",
            f"{(i % 2000) / 1000:.3f}",
            f"{10 + i % 91}.{i % 100:02d}",
            f"{5 + i % 50}.50",
            "84713012",
            "true",
        ]


def customer_rows(count: int):
    from retaguarda.common.taxids import tax_id_example

    for i in range(count):
        yield [
            f"Cliente {i} García",
            "person",
            "ES",
            tax_id_example(country="ES", kind="person", seed=i),
            f"cliente{i}@example.com",
            f"+34 600 {i % 1000:03d} {i % 997:03d}",
            "es",
            f"{(i % 50) * 100}.00",
            "Calle Mayor",
            str(1 + i % 200),
            "Madrid",
            f"28{i % 100:03d}",
        ]


def write_files(workdir: Path, stem: str, header, rows, formats, bad_row_index: int, bad_column: str, bad_value):
    """The good file and a copy with one bad cell, in each format; returns {(format, good|bad): path}."""
    from retaguarda.common import tabular

    rows = list(rows)
    bad_rows = [list(r) for r in rows]
    bad_rows[bad_row_index][header.index(bad_column)] = bad_value
    paths = {}
    for fmt in formats:
        for variant, data in (("good", rows), ("bad", bad_rows)):
            path = workdir / f"{stem}-{variant}.{fmt}"
            with open(path, "wb") as stream:
                tabular.write_table(stream, fmt, header, data)
            paths[(fmt, variant)] = path
    return paths


# --- runs ------------------------------------------------------------------------------------


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def fresh_company(n: int):
    from retaguarda.catalog.services import catalog_defaults_create
    from retaguarda.core.choices import Role
    from retaguarda.core.permissions import system_actor
    from retaguarda.core.selectors import actor_for
    from retaguarda.core.services import company_create, user_create
    from retaguarda.core.testing import company_tax_id_example

    company = company_create(
        legal_name=f"Bench {n} SL",
        tax_id=company_tax_id_example("ES", n),
        country="ES",
        base_currency="EUR",
        default_language="es",
    )
    catalog_defaults_create(actor=system_actor(company))
    user = user_create(username=f"bench{n}", password=None, company=company, role=Role.MANAGER)
    return actor_for(user, company.pk)


def timed(function, **kwargs):
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        start, cpu = time.perf_counter(), time.process_time()
        result = function(**kwargs)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return result, seconds, cpu, counter.count


def main() -> int:
    args = parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="rtg-import-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = prepare_database(args.database, workdir, pg_url=args.pg_url, db_name=args.db_name)
    os.environ.setdefault("RETAGUARDA_MODE", "development")
    os.environ["RETAGUARDA_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retaguarda.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from retaguarda.catalog.imports import ROW_FIELDS, product_export, product_import
    from retaguarda.catalog.models import Product
    from retaguarda.parties.imports import party_import
    from retaguarda.parties.models import Party

    load_at_start = " ".join(f"{x:.1f}" for x in os.getloadavg())
    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite":
        engine = "SQLite " + ".".join(map(str, connection.Database.sqlite_version_info))
    else:
        engine = f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}"

    start = time.perf_counter()
    bad_product = args.products // 2
    bad_customer = args.customers // 2
    product_files = write_files(
        workdir, "products", list(ROW_FIELDS), product_rows(args.products), formats, bad_product, "list_price", "9.999"
    )
    customer_files = write_files(
        workdir,
        "customers",
        CUSTOMER_HEADER,
        customer_rows(args.customers),
        formats,
        bad_customer,
        "tax_id",
        "12345678A",
    )
    generate_seconds = time.perf_counter() - start

    runs = []

    def record(kind, fmt, variant, rows, seconds, cpu, queries, path, outcome, ok):
        runs.append(
            {
                "kind": kind,
                "format": fmt,
                "file": variant,
                "rows": rows,
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu, 2),
                "rows_per_s": round(rows / seconds),
                "queries": queries,
                "file_mb": round(path.stat().st_size / 1e6, 1),
                "result": outcome,
                "ok": ok,
            }
        )
        sys.stderr.write(f"  {kind:16} {fmt:4} {variant:4} {seconds:7.2f} s  cpu {cpu:6.2f} s  {outcome}\n")

    company_number = 0
    cases = (
        ("products", product_files, args.products, bad_product, product_import, Product, {}, PRODUCT_ERROR),
        ("customers", customer_files, args.customers, bad_customer, party_import, Party, {"role": "customer"}, None),
    )
    for kind, files, rows, bad_index, import_function, model, extra, expected_error in cases:
        expected_error = expected_error or CUSTOMER_ERROR
        for fmt in formats:
            for variant in ("good", "bad"):
                company_number += 1
                actor = fresh_company(company_number)
                path = files[(fmt, variant)]
                with open(path, "rb") as stream:
                    result, seconds, cpu, queries = timed(
                        import_function, actor=actor, file=stream, format=fmt, **extra
                    )
                stored = model.objects.filter(company=actor.company).count()
                if variant == "good":
                    ok = result.ok and result.created == rows and stored == rows
                else:
                    ok = result.errors.as_list() == [{"row": bad_index + 2, **expected_error}] and stored == 0
                outcome = "imported" if result.ok else f"rejected ({result.errors.total} error)"
                record(kind, fmt, variant, rows, seconds, cpu, queries, path, outcome, ok)
                if kind == "products" and variant == "good" and fmt == formats[0]:
                    for export_format in formats:
                        target = workdir / f"export.{export_format}"
                        with open(target, "wb") as out:
                            count, seconds, cpu, queries = timed(
                                product_export, actor=actor, stream=out, format=export_format
                            )
                        record(
                            "products export",
                            export_format,
                            "-",
                            count,
                            seconds,
                            cpu,
                            queries,
                            target,
                            "written",
                            count == rows,
                        )
    if not args.keep:
        drop_database(args.database, pg_url=args.pg_url, db_name=args.db_name)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    imports = [r for r in runs if r["kind"] in ("products", "customers")]
    under_target = all(r["seconds"] < TARGET_SECONDS for r in imports)
    all_ok = all(r["ok"] for r in runs)
    lines = [
        "",
        f"IMPORT-100K  {args.database}  {engine}  python {platform.python_version()}  {os.cpu_count()} CPUs",
        f"load average at start {load_at_start}, at end {load}; peak memory {peak_mb:.0f} MB",
        f"files generated in {generate_seconds:.1f} s under {workdir}",
        f"{'what':16} {'format':6} {'file':5} {'rows':>7} {'seconds':>8} {'cpu s':>7} {'rows/s':>7} "
        f"{'queries':>7} {'MB':>5}  result",
    ]
    for run in runs:
        lines.append(
            f"{run['kind']:16} {run['format']:6} {run['file']:5} {run['rows']:7} {run['seconds']:8.2f} "
            f"{run['cpu_seconds']:7.2f} {run['rows_per_s']:7} {run['queries']:7} {run['file_mb']:5}  "
            f"{run['result']}{'' if run['ok'] else '  FAIL'}"
        )
    lines.append(
        f"every import under {TARGET_SECONDS:.0f} s: {'yes' if under_target else 'NO'}; "
        f"checks: {'ok' if all_ok else 'FAIL'}"
    )
    result = {
        "workload": "IMPORT-100K",
        "database": args.database,
        "engine": engine,
        "products": args.products,
        "customers": args.customers,
        "runs": runs,
        "peak_memory_mb": round(peak_mb),
        "load_average": {"start": load_at_start, "end": load},
        "under_target": under_target,
        "ok": all_ok,
    }
    lines.append("RESULT " + json.dumps(result, sort_keys=True))
    sys.stdout.write("\n".join(lines) + "\n")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
