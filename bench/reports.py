"""REPORTS-1M: the books at size. A ledger of 1,000,000 posted journal lines over 24 monthly
periods (2025-01 to 2026-12), 500 accounts, 20,000 customers and 100,000 invoices of which
15,000 are still open; then the reports are timed.

    .venv/bin/python bench/reports.py --database sqlite
    .venv/bin/python bench/reports.py --database postgres --pg-url postgres://postgres@127.0.0.1:5432/
    .venv/bin/python bench/reports.py --lines 100000        # everything scaled down by 10

The billing app's invoices are not used: an "invoice" here is its posting, a sales entry with a
receivable line (the customer, a due date 30 days on) against revenue and 21 % output tax, and
an open invoice is a receivable line whose residual is still its amount. Paid invoices have a
bank entry whose receivable line is matched (a Reconciliation row) against the invoice's. The
other lines are two-line entries between the bank and the other accounts, so every account has
postings. Lines, entries, matches and the balances per account and period are written in bulk
(COPY on PostgreSQL) rather than through entry_post, which would take hours for a million
lines; the loader keeps them consistent, and the benchmark checks that before timing anything:
each entry balances, the balances equal the sums of the lines, the open items add up to the
receivable balance, and the trial balance and balance sheet balance.

Each report is run 5 times through the selectors the pages and the API use (ledger.reports;
collections' aging when that app is installed); the table shows the median, first and worst
run and the queries per run. The general ledger export of the busiest account is written to
/dev/null to show that memory stays flat. Prints a table and, last, one line "RESULT {json}".
Target (WORKLOADS.md): each report under 0.5 s on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import django_setup, drop_database, machine, prepare_database  # noqa: E402

TARGET_SECONDS = 0.5
RUNS = 5
FULL = 1_000_000
START = dt.date(2025, 1, 1)
DAYS = 730  # 2025 and 2026
END = START + dt.timedelta(days=DAYS - 1)
BATCH = 20_000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--db-name", default="rtg_reports_bench")
    parser.add_argument("--lines", type=int, default=FULL, help="journal lines (the rest scales with it)")
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the database (PostgreSQL) or its file (SQLite)")
    return parser.parse_args(argv)


# --- the workload's sizes ----------------------------------------------------------------------------


def sizes(lines: int, accounts: int) -> dict:
    scale = lines / FULL
    invoices = max(10, round(100_000 * scale))
    open_invoices = max(1, round(15_000 * scale))
    paid = invoices - open_invoices
    other = lines - 3 * invoices - 2 * paid
    if other < 2:
        raise SystemExit(f"--lines {lines} is too small for the workload's mix")
    return {
        "lines": lines,
        "accounts": accounts,
        "customers": max(10, round(20_000 * scale)),
        "invoices": invoices,
        "open_invoices": open_invoices,
        "paid_invoices": paid,
        "other_lines": other,
        "periods": 24,
    }


def rss_mb() -> float:
    """The process's resident memory now, in MB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- loading ---------------------------------------------------------------------------------------


def setup(size: dict) -> dict:
    """The company, its chart topped up to the workload's account count, 24 periods, customers."""
    from django.db import transaction

    from retaguarda.core.testing import company_build
    from retaguarda.ledger.charts import ledger_ensure
    from retaguarda.ledger.choices import AccountKind, AccountRole
    from retaguarda.ledger.models import Account, Journal, Period
    from retaguarda.ledger.services import fiscal_year_ensure
    from retaguarda.parties.models import Party

    company = company_build(country="ES")
    ledger_ensure(company)
    for year in (2025, 2026):
        fiscal_year_ensure(company=company, year=year)
    with transaction.atomic():
        existing = {a.code: a for a in Account.objects.filter(company=company)}
        missing = size["accounts"] - len(existing)
        # Extra accounts hang under the chart's groups, in the mix a real chart has.
        mix = [("6", "629", AccountKind.EXPENSE, 45), ("7", "759", AccountKind.INCOME, 20)]
        mix += [("5", "572", AccountKind.ASSET, 25), ("4", "410", AccountKind.LIABILITY, 10)]
        extra = []
        for n in range(max(0, missing)):
            group, prefix, kind, _share = mix[_pick(n, [m[3] for m in mix])]
            extra.append(
                Account(
                    company=company,
                    code=f"{prefix}{n:04d}",
                    name=f"{existing[prefix].name} {n}",
                    kind=kind,
                    parent=existing[group],
                )
            )
        Account.objects.bulk_create(extra, batch_size=1000)
        customers = Party.objects.bulk_create(
            (
                Party(
                    company=company,
                    legal_name=f"Customer {i:05d}",
                    kind="person",
                    tax_country="ES",
                    language="es",
                    email=f"c{i}@example.com",
                )
                for i in range(size["customers"])
            ),
            batch_size=2000,
        )
    accounts = list(Account.objects.filter(company=company).order_by("code"))
    by_role = {a.role: a for a in accounts if a.role}
    groups = {a.parent_id for a in accounts if a.parent_id}
    special = {by_role[r].pk for r in (AccountRole.RECEIVABLE, AccountRole.BANK, AccountRole.RETAINED_EARNINGS)}
    special |= {by_role[r].pk for r in (AccountRole.REVENUE, AccountRole.SERVICE_REVENUE, AccountRole.TAX_PAYABLE)}
    periods = {
        (p.start_date.year, p.start_date.month): p.pk
        for p in Period.objects.filter(company=company, start_date__gte=START, start_date__lte=END)
    }
    assert len(periods) == 24, periods
    journals = {j.kind: j for j in Journal.objects.filter(company=company)}
    return {
        "company": company,
        "accounts": accounts,
        "by_role": by_role,
        "pool": [a for a in accounts if a.pk not in groups and a.pk not in special],
        "customers": [c.pk for c in customers],
        "periods": periods,
        "journals": journals,
    }


def _pick(n: int, shares: list[int]) -> int:
    """The n-th item of a repeating pattern with the given shares out of 100."""
    slot = (n * 37) % 100
    for index, share in enumerate(shares):
        if slot < share:
            return index
        slot -= share
    return len(shares) - 1


def _open_flags(invoices: int, open_count: int) -> bytearray:
    """Which invoices are still open: most of them recent, the rest spread over two years, so
    every aging bucket has items."""
    flags = bytearray(invoices)
    recent = open_count * 6 // 10
    for i in range(invoices - recent, invoices):
        flags[i] = 1
    older, pool = open_count - recent, invoices - recent
    step = max(1, pool // max(1, older))
    marked = 0
    for i in range(step - 1, pool, step):
        if marked == older:
            break
        flags[i] = 1
        marked += 1
    return flags


class Writer:
    """Rows into a table in batches: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, model, fields: list[str]):
        from django.db import connection

        self.vendor = connection.vendor
        self.table = model._meta.db_table
        self.columns = [model._meta.get_field(f).column for f in fields]
        self.rows: list[tuple] = []
        self.count = 0

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        from django.db import connection

        if not self.rows:
            return
        columns = ", ".join(f'"{c}"' for c in self.columns)
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f'COPY "{self.table}" ({columns}) FROM STDIN') as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(f'INSERT INTO "{self.table}" ({columns}) VALUES ({marks})', self.rows)
        self.count += len(self.rows)
        self.rows = []


def _next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def load(data: dict, size: dict) -> dict:
    """Write the entries, lines, matches and balances; returns what was written."""
    from django.db import connection, transaction
    from django.utils import timezone

    from retaguarda.ledger.choices import DEBIT_NATURED, JournalKind
    from retaguarda.ledger.models import AccountBalance, JournalEntry, JournalLine, Reconciliation

    company = data["company"]
    by_role = data["by_role"]
    receivable, bank = by_role["receivable"].pk, by_role["bank"].pk
    revenue, services, tax = by_role["revenue"].pk, by_role["service_revenue"].pk, by_role["tax_payable"].pk
    pool, customers, periods, journals = data["pool"], data["customers"], data["periods"], data["journals"]
    invoices, open_count = size["invoices"], size["open_invoices"]
    other_lines = size["other_lines"]
    other_entries = other_lines // 2
    open_flags = _open_flags(invoices, open_count)
    sqlite = connection.vendor == "sqlite"
    day = [START + dt.timedelta(days=d) for d in range(DAYS + 60)]
    day_value = [connection.ops.adapt_datefield_value(d) if sqlite else d for d in day]
    now = timezone.now()
    now_value = connection.ops.adapt_datetimefield_value(now) if sqlite else now

    # (day offset, kind, index) of every entry, in date order: ids and numbers follow dates.
    specs = [((i * DAYS) // invoices, 0, i) for i in range(invoices)]
    specs += [(min(DAYS - 1, (i * DAYS) // invoices + 5 + i % 40), 1, i) for i in range(invoices) if not open_flags[i]]
    specs += [((k * DAYS) // other_entries, 2, k) for k in range(other_entries)]
    specs.sort()

    entry_writer = Writer(
        JournalEntry,
        ["id", "company", "journal", "period", "number", "date", "state", "reference", "description"]
        + ["source_type", "source_id", "total", "created_at", "posted_at"],
    )
    line_writer = Writer(
        JournalLine,
        ["id", "company", "entry", "position", "account", "date", "period", "posted", "party"]
        + ["description", "debit", "credit", "currency", "due_date", "reference", "residual"],
    )
    match_writer = Writer(Reconciliation, ["id", "company", "debit_line", "credit_line", "amount", "created_at"])
    entry_id, line_id, match_id = _next_id(JournalEntry), _next_id(JournalLine), _next_id(Reconciliation)
    numbers: dict[tuple[int, int], int] = {}
    balances: dict[tuple[int, int], list[int]] = {}
    invoice_line: dict[int, tuple[int, int]] = {}  # invoice -> (receivable line id, total cents)
    kinds = {a.pk: a.kind for a in data["accounts"]}
    journal_of = [journals[JournalKind.SALES], journals[JournalKind.BANK], journals[JournalKind.GENERAL]]

    with transaction.atomic():
        for offset, kind, index in specs:
            on = day[offset]
            period = periods[(on.year, on.month)]
            journal = journal_of[kind]
            key = (journal.pk, on.year)
            numbers[key] = numbers.get(key, 0) + 1
            number = f"{journal.code}/{on.year}/{numbers[key]:06d}"
            if kind == 0:
                net = 1000 + (index * 7919) % 99000
                vat = (net * 21 + 50) // 100
                total = net + vat
                customer = customers[index % len(customers)]
                due = day_value[offset + 30]
                residual = total if open_flags[index] else 0
                invoice_line[index] = (line_id, total)
                lines = [
                    (receivable, total, 0, customer, due, residual),
                    (services if index % 4 == 0 else revenue, 0, net, None, None, 0),
                    (tax, 0, vat, None, None, 0),
                ]
                reference, source = f"F{on.year}-{index:06d}", ("billing.invoice", str(index + 1))
            elif kind == 1:
                debit_line, total = invoice_line[index]
                customer = customers[index % len(customers)]
                lines = [(bank, total, 0, None, None, 0), (receivable, 0, total, customer, None, 0)]
                match_writer.add((match_id, company.pk, debit_line, line_id + 1, total, now_value))
                match_id += 1
                reference, source = f"F{index:06d}", ("billing.payment", str(index + 1))
            else:
                account = pool[(index * 7) % len(pool)]
                amount = 500 + (index * 104729) % 50000
                if kinds[account.pk] in DEBIT_NATURED:
                    lines = [(account.pk, amount, 0, None, None, 0), (bank, 0, amount, None, None, 0)]
                else:
                    lines = [(bank, amount, 0, None, None, 0), (account.pk, 0, amount, None, None, 0)]
                if index == other_entries - 1 and other_lines % 2:
                    # An odd count of other lines: the last entry splits its debit in two.
                    first, second = lines[0], lines[1]
                    lines = [(first[0], first[1] - 100, first[2], None, None, 0), (bank, 100, 0, None, None, 0), second]
                reference, source = "", ("", "")
            entry_total = sum(line[1] for line in lines)
            entry_writer.add(
                (entry_id, company.pk, journal.pk, period, number, day_value[offset], "posted", reference, "")
                + (source[0], source[1], entry_total, now_value, now_value)
            )
            for position, (account_id, debit, credit, party, due, residual) in enumerate(lines, start=1):
                line_writer.add(
                    (line_id, company.pk, entry_id, position, account_id, day_value[offset], period, True, party)
                    + ("", debit, credit, "", due, reference, residual)
                )
                cell = balances.setdefault((account_id, period), [0, 0])
                cell[0] += debit
                cell[1] += credit
                line_id += 1
            entry_id += 1
        for writer in (entry_writer, line_writer, match_writer):
            writer.flush()
        # The balance rows are rewritten whole: every account × period, zero where nothing posted.
        AccountBalance.objects.filter(company=company).delete()
        balance_writer = Writer(AccountBalance, ["company", "account", "period", "debit", "credit"])
        for account in data["accounts"]:
            for period in periods.values():
                debit, credit = balances.get((account.pk, period), (0, 0))
                balance_writer.add((company.pk, account.pk, period, debit, credit))
        balance_writer.flush()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for model in (JournalEntry, JournalLine, Reconciliation):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM \"{table}\"))"
                )
        # Statistics for the planner, as a database that has lived with its data would have.
        cursor.execute("ANALYZE")
    return {
        "entries": entry_writer.count,
        "lines": line_writer.count,
        "matches": match_writer.count,
        "balance_rows": balance_writer.count,
    }


# --- verification ------------------------------------------------------------------------------------


def verify(data: dict, size: dict) -> list[str]:
    """What is wrong with the loaded books (nothing, one hopes): checked before timing."""
    from django.db.models import Count, F, Q, Sum

    from retaguarda.ledger import reports
    from retaguarda.ledger.models import AccountBalance, JournalEntry, JournalLine

    company = data["company"]
    problems = []
    lines = JournalLine.objects.filter(company=company)
    if lines.count() != size["lines"]:
        problems.append(f"{lines.count()} lines, not {size['lines']}")
    sums = {
        (row["account_id"], row["period_id"]): (row["d"], row["c"])
        for row in lines.filter(posted=True).values("account_id", "period_id").annotate(d=Sum("debit"), c=Sum("credit"))
    }
    kept = {
        (row.account_id, row.period_id): (row.debit, row.credit)
        for row in AccountBalance.objects.filter(company=company)
        if row.debit or row.credit
    }
    if sums != kept:
        problems.append(f"balances differ from the lines on {len(set(sums.items()) ^ set(kept.items()))} cells")
    unbalanced = (
        lines.values("entry_id").annotate(d=Sum("debit"), c=Sum("credit")).filter(~Q(d=F("c"))).order_by().count()
    )
    if unbalanced:
        problems.append(f"{unbalanced} entries do not balance")
    totals_off = (
        JournalEntry.objects.filter(company=company).annotate(d=Sum("lines__debit")).filter(~Q(total=F("d"))).count()
    )
    if totals_off:
        problems.append(f"{totals_off} entries' totals differ from their lines")
    receivable = data["by_role"]["receivable"]
    open_items = lines.filter(account=receivable).exclude(residual=0).aggregate(n=Count("id"), s=Sum("residual"))
    balance = AccountBalance.objects.filter(account=receivable).aggregate(d=Sum("debit"), c=Sum("credit"))
    if open_items["n"] != size["open_invoices"]:
        problems.append(f"{open_items['n']} open items, not {size['open_invoices']}")
    if open_items["s"] != balance["d"] - balance["c"]:
        problems.append("the open items do not add up to the receivable balance")
    tb = reports.trial_balance(company=company, period_from="2025-01", period_to="2026-12")
    if not tb.balanced or tb.total.debit != sum(d for d, _c in sums.values()):
        problems.append("the trial balance does not balance or misses postings")
    bs = reports.balance_sheet(company=company, at="2026-12", compare=True)
    if not bs.balanced:
        problems.append("the balance sheet does not balance")
    return problems


# --- timing ------------------------------------------------------------------------------------------


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def timed(label: str, run, *, required: bool = True) -> dict:
    """`run` 5 times: median, first and worst seconds, queries of a run. `required`: one of
    the reports WORKLOADS.md names (the others are measured for information)."""
    from django.db import connection

    times, queries, result = [], 0, None
    for _n in range(RUNS):
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            result = run()
            times.append(time.perf_counter() - start)
        queries = counter.count
    median = statistics.median(times)
    return {
        "report": label,
        "median_s": round(median, 4),
        "first_s": round(times[0], 4),
        "max_s": round(max(times), 4),
        "queries": queries,
        "under_target": median < TARGET_SECONDS,
        "required": required,
        "_result": result,
    }


def receivables_aging_sql(company, account_id: int, as_of: dt.date) -> dict:
    """Open receivables by how long overdue, summed in the database (one query through the
    open-items index), in collections' buckets."""
    from django.db.models import Count, Q, Sum

    from retaguarda.ledger.models import JournalLine

    def days(n: int) -> dt.date:
        return as_of - dt.timedelta(days=n)

    buckets = {
        "current": Q(due_date__gte=as_of),
        "1_30": Q(due_date__lt=as_of, due_date__gte=days(30)),
        "31_60": Q(due_date__lt=days(30), due_date__gte=days(60)),
        "61_90": Q(due_date__lt=days(60), due_date__gte=days(90)),
        "over_90": Q(due_date__lt=days(90)),
    }
    open_items = JournalLine.objects.filter(company=company, account_id=account_id, posted=True).exclude(residual=0)
    row = open_items.aggregate(
        items=Count("id"), **{name: Sum("residual", filter=q, default=0) for name, q in buckets.items()}
    )
    return row


def run_reports(data: dict) -> list[dict]:
    from django.apps import apps

    from retaguarda.core.permissions import system_actor
    from retaguarda.ledger import exports, reports
    from retaguarda.ledger.choices import AccountRole

    company = data["company"]
    receivable, bank = data["by_role"]["receivable"], data["by_role"]["bank"]
    as_of = END
    rows = [
        timed(
            "trial balance 2026-01..06 + comparison",
            lambda: reports.trial_balance(company=company, period_from="2026-01", period_to="2026-06", compare=True),
        ),
        timed(
            "trial balance 2025-01..2026-12",
            lambda: reports.trial_balance(company=company, period_from="2025-01", period_to="2026-12"),
        ),
        timed(
            "profit and loss 2026 + comparison",
            lambda: reports.profit_and_loss(company=company, period_from="2026-01", period_to="2026-12", compare=True),
        ),
        timed(
            "monthly income/expenses 2025-01..2026-12",
            lambda: reports.monthly_result(company=company, period_from="2025-01", period_to="2026-12"),
            required=False,
        ),
        timed(
            "balance sheet 2026-12 + comparison",
            lambda: reports.balance_sheet(company=company, at="2026-12", compare=True),
        ),
        timed("receivables aging (SQL buckets)", lambda: receivables_aging_sql(company, receivable.pk, as_of)),
    ]
    if apps.is_installed("retaguarda.collections"):
        from retaguarda.collections import selectors as collections_selectors

        actor = system_actor(company)
        rows.append(
            timed(
                "receivables aging (collections.selectors.aging)",
                lambda: collections_selectors.aging(actor, as_of=as_of),
                required=False,
            )
        )
    one_customer = data["customers"][0]
    rows += [
        timed(
            "open balance of one customer",
            lambda: reports.party_balances(company, AccountRole.RECEIVABLE, party_ids=[one_customer]),
            required=False,
        ),
        timed(
            "open balances, 100 largest customers",
            lambda: reports.party_balances(company, AccountRole.RECEIVABLE, limit=100),
            required=False,
        ),
        timed(
            "open balances, every customer",
            lambda: reports.party_balances(company, AccountRole.RECEIVABLE),
            required=False,
        ),
        timed(
            f"general ledger 1st page, bank ({bank.code})",
            lambda: reports.general_ledger(
                company=company, period_from="2025-01", period_to="2026-12", account_id=bank.pk
            ),
        ),
        timed(
            f"general ledger 1st page, receivable ({receivable.code}) 2026-10..12",
            lambda: reports.general_ledger(
                company=company, period_from="2026-10", period_to="2026-12", account_id=receivable.pk
            ),
        ),
    ]
    first = rows[-2]["_result"]  # the bank's first page
    rows += [
        timed(
            "general ledger 2nd page (cursor), bank",
            lambda: reports.general_ledger(
                company=company,
                period_from="2025-01",
                period_to="2026-12",
                account_id=bank.pk,
                cursor=first.next_cursor,
            ),
            required=False,
        ),
        timed(
            "general ledger 1st page, all accounts",
            lambda: reports.general_ledger(company=company, period_from="2025-01", period_to="2026-12"),
        ),
        timed(
            "journal 1st page 2026-12",
            lambda: reports.journal(company=company, period_from="2026-12", period_to="2026-12"),
            required=False,
        ),
    ]
    # The aging two ways must agree.
    sql = rows[5]["_result"]
    if apps.is_installed("retaguarda.collections"):
        report = rows[6]["_result"]
        same = all(report.totals[name] == sql[name] for name in report.totals)
        rows[6]["agrees_with_sql"] = same
    # Report correctness at size, once more.
    rows[0]["balanced"] = rows[0]["_result"].balanced
    rows[4]["balanced"] = rows[4]["_result"].balanced

    # The general ledger of the busiest account streamed to /dev/null: time and memory.
    rss_before, rss_peak, count = rss_mb(), 0.0, 0
    start = time.perf_counter()
    lines = reports.general_ledger_lines(
        company=company, period_from="2025-01", period_to="2026-12", account_id=bank.pk
    )
    with open("/dev/null", "wb") as sink:
        for chunk in exports.general_ledger_csv(lines, flush_every=2000):
            sink.write(chunk)
            count += 1
            if count % 20 == 0:
                rss_peak = max(rss_peak, rss_mb())
    elapsed = time.perf_counter() - start
    rows.append(
        {
            "report": f"general ledger CSV export, bank ({bank.code}), whole ledger",
            "median_s": round(elapsed, 3),
            "first_s": round(elapsed, 3),
            "max_s": round(elapsed, 3),
            "queries": None,
            "under_target": None,
            "required": False,
            "rss_growth_mb": round(max(rss_peak, rss_mb()) - rss_before, 1),
            "lines": account_line_count(company, bank.pk),
        }
    )
    for row in rows:
        row.pop("_result", None)
    return rows


def account_line_count(company, account_id: int) -> int:
    from retaguarda.ledger.models import JournalLine

    return JournalLine.objects.filter(company=company, account_id=account_id, posted=True).count()


# --- main ---------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    size = sizes(args.lines, args.accounts)
    workdir = Path(tempfile.mkdtemp(prefix="rtg-reports-"))
    django_setup(prepare_database(args.database, workdir, pg_url=args.pg_url, db_name=args.db_name), workdir)
    began = time.perf_counter()
    data = setup(size)
    written = load(data, size)
    load_seconds = time.perf_counter() - began
    began = time.perf_counter()
    problems = verify(data, size)
    verify_seconds = time.perf_counter() - began
    rows = run_reports(data) if not problems else []
    slow = [row["report"] for row in rows if row["required"] and row["under_target"] is False]
    slow_other = [row["report"] for row in rows if not row["required"] and row["under_target"] is False]
    checks = all(row.get("balanced", True) and row.get("agrees_with_sql", True) for row in rows)
    ok = not problems and bool(rows) and not slow and checks

    print(f"REPORTS-1M  {machine()}")
    print(
        f"{size['lines']:,} lines, {written['entries']:,} entries, {size['accounts']} accounts, "
        f"{size['customers']:,} customers, {size['invoices']:,} invoices ({size['open_invoices']:,} open), "
        f"24 periods; {written['matches']:,} matches, {written['balance_rows']:,} balance rows"
    )
    print("Invoices are loaded as their postings (receivable lines with residuals), not billing documents.")
    print(f"loaded in {load_seconds:.1f} s, verified in {verify_seconds:.1f} s: {'ok' if not problems else problems}")
    header = f"{'report (* = named by the workload)':<60}{'median s':>10}{'first s':>10}{'max s':>10}"
    print(f"{header}{'queries':>9}  target")
    for row in rows:
        target = {True: "ok", False: "SLOW", None: "-"}[row["under_target"]]
        label = ("* " if row["required"] else "  ") + row["report"]
        print(f"{label:<60}{row['median_s']:>10}{row['first_s']:>10}{row['max_s']:>10}{row['queries']!s:>9}  {target}")
    if slow_other:
        print(f"over {TARGET_SECONDS} s, not among the workload's reports: {', '.join(slow_other)}")
    export = rows[-1] if rows else {}
    if export:
        print(f"export: {export['lines']:,} lines, memory grew {export['rss_growth_mb']} MB while streaming")
    print(f"peak memory of the process (loading included): {peak_rss_mb():.0f} MB")
    if not args.keep:
        drop_database(args.database, pg_url=args.pg_url, db_name=args.db_name)
        from django.db import connections

        connections.close_all()
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        "RESULT "
        + json.dumps(
            {
                "workload": "REPORTS-1M",
                "database": args.database,
                "sizes": size,
                "written": written,
                "invoices_as": "receivable journal lines with residuals (billing documents not loaded)",
                "load_seconds": round(load_seconds, 1),
                "verified": not problems,
                "problems": problems,
                "runs": RUNS,
                "target_seconds": TARGET_SECONDS,
                "rows": rows,
                "slow": slow,
                "slow_other": slow_other,
                "peak_rss_mb": round(peak_rss_mb()),
                "ok": ok,
            },
            sort_keys=True,
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
