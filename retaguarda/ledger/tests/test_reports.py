"""The financial reports over a small set of entries posted through the ledger's services across
two fiscal years, figures worked out by hand: trial balance, profit and loss, balance sheet
(with and without the year-end closing), general ledger pages and cursors, the journal, open
balances by party; and pinned query counts that do not grow with the ledger."""

import datetime
from decimal import Decimal

import pytest

from retaguarda.common.errors import NotFound, ValidationFailed
from retaguarda.core.choices import Role
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import actor_build
from retaguarda.ledger import reports
from retaguarda.ledger.choices import AccountRole, JournalKind
from retaguarda.ledger.models import Account, FiscalYear, JournalLine
from retaguarda.ledger.services import LineSpec, entry_post, fiscal_year_close, reconcile
from retaguarda.ledger.testing import company_with_chart
from retaguarda.parties.testing import party_build

D = Decimal
Z = D("0.00")
F = reports.TrialFigures


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def post(company, kind, on, *lines, reference=""):
    """An entry through entry_post; each line (account, debit, credit[, party[, due]])."""
    specs = []
    for line in lines:
        account, debit, credit, *rest = line
        party = rest[0] if rest else None
        due = rest[1] if len(rest) > 1 else None
        specs.append(
            LineSpec(
                account_id=account.pk,
                debit=D(debit),
                credit=D(credit),
                party_id=party.pk if party else None,
                due_date=due,
            )
        )
    return entry_post(
        actor=system_actor(company), company=company, journal_kind=kind, date=day(on), lines=specs, reference=reference
    )


def line_of(entry, account) -> JournalLine:
    return JournalLine.objects.get(entry=entry, account=account)


def build_books(company) -> dict:
    """2025: capital 10,000; a sale of 1,000 + 210 VAT to A, paid in December; a purchase of
    400 + 84 VAT from S, unpaid. 2026: a sale of 500 + 105 to B (200 paid in March), a service
    of 300 + 63 to A, rent of 250 paid from the bank. The 2025 result is a profit of 600."""
    acc = {a.code: a for a in Account.objects.filter(company=company)}
    a = party_build(company, legal_name="Alfa Comercio SL", email="alfa@example.com")
    b = party_build(company, legal_name="Beta Retail SL", email="beta@example.com")
    s = party_build(company, legal_name="Sur Proveedores SA", email="sur@example.com")
    G, S, P, B = JournalKind.GENERAL, JournalKind.SALES, JournalKind.PURCHASES, JournalKind.BANK
    e1 = post(company, G, "2025-01-10", (acc["572"], "10000.00", 0), (acc["100"], 0, "10000.00"))
    e2 = post(
        company,
        S,
        "2025-02-15",
        (acc["430"], "1210.00", 0, a, day("2025-03-15")),
        (acc["700"], 0, "1000.00"),
        (acc["477"], 0, "210.00"),
        reference="F-2025-1",
    )
    e3 = post(
        company,
        P,
        "2025-03-20",
        (acc["600"], "400.00", 0),
        (acc["472"], "84.00", 0),
        (acc["400"], 0, "484.00", s, day("2025-04-20")),
    )
    e4 = post(company, B, "2025-12-05", (acc["572"], "1210.00", 0), (acc["430"], 0, "1210.00", a))
    e5 = post(
        company,
        S,
        "2026-01-10",
        (acc["430"], "605.00", 0, b, day("2026-02-09")),
        (acc["700"], 0, "500.00"),
        (acc["477"], 0, "105.00"),
    )
    e6 = post(
        company,
        S,
        "2026-02-12",
        (acc["430"], "363.00", 0, a, day("2026-03-14")),
        (acc["705"], 0, "300.00"),
        (acc["477"], 0, "63.00"),
    )
    e7 = post(company, G, "2026-02-20", (acc["621"], "250.00", 0), (acc["572"], 0, "250.00"))
    e8 = post(company, B, "2026-03-03", (acc["572"], "200.00", 0), (acc["430"], 0, "200.00", b))
    actor = system_actor(company)
    reconcile(
        actor=actor,
        company=company,
        pairs=[
            (line_of(e2, acc["430"]).pk, line_of(e4, acc["430"]).pk, D("1210.00")),
            (line_of(e5, acc["430"]).pk, line_of(e8, acc["430"]).pk, D("200.00")),
        ],
    )
    return {"acc": acc, "a": a, "b": b, "s": s, "entries": [e1, e2, e3, e4, e5, e6, e7, e8]}


@pytest.fixture
def books(db):
    company = company_with_chart("ES")
    return {"company": company, **build_books(company)}


@pytest.fixture
def closed_books(books):
    """The same books with 2025 closed: 700 debited 1,000, 600 credited 400, 129 credited 600."""
    company = books["company"]
    fiscal_year_close(
        actor=actor_build(company, Role.ADMINISTRATOR),
        fiscal_year_id=FiscalYear.objects.get(company=company, name="2025").pk,
    )
    return books


def by_code(report) -> dict:
    return {row.code: row for row in report.rows}


# --- periods ------------------------------------------------------------------------------------------


def test_previous_range_has_the_same_length_and_crosses_years(books):
    periods = reports.company_periods(books["company"])
    current = reports.period_range(periods, "2026-01", "2026-03")
    before = reports.previous_range(periods, current)
    assert (current.label, before.label) == ("2026-01 – 2026-03", "2025-10 – 2025-12")
    assert (current.year_start, before.year_start) == (day("2026-01-01"), day("2025-01-01"))
    first = reports.period_range(periods, "2025-01", "2025-02")
    assert reports.previous_range(periods, first) is None


@pytest.mark.parametrize(
    ("start", "stop", "field"),
    [("2024-12", "2025-01", "from"), ("2025-01", "2030-13", "to"), ("2025-03", "2025-02", "to")],
)
def test_an_unknown_period_or_a_backward_range_is_refused(books, start, stop, field):
    with pytest.raises(ValidationFailed) as caught:
        reports.trial_balance(company=books["company"], period_from=start, period_to=stop)
    assert list(caught.value.fields) == [field]


def test_default_range_is_the_fiscal_year_up_to_today(books):
    periods = reports.company_periods(books["company"])
    assert reports.default_range(periods, day("2026-03-09")) == ("2026-01", "2026-03")
    assert reports.default_range(periods, day("2025-07-31")) == ("2025-01", "2025-07")


# --- trial balance --------------------------------------------------------------------------------------


def test_trial_balance_with_the_previous_year_not_closed(books):
    tb = reports.trial_balance(company=books["company"], period_from="2026-01", period_to="2026-03", compare=True)
    rows = by_code(tb)
    # The current range: balance-sheet accounts open with everything since 2025; income and
    # expenses open at zero in 2026, 2025's unclosed profit of 600 on its own line.
    assert {code: row.current for code, row in rows.items()} == {
        "100": F(D("-10000.00"), Z, Z),
        "400": F(D("-484.00"), Z, Z),
        "430": F(Z, D("968.00"), D("200.00")),
        "472": F(D("84.00"), Z, Z),
        "477": F(D("-210.00"), Z, D("168.00")),
        "572": F(D("11210.00"), D("200.00"), D("250.00")),
        "600": F(Z, Z, Z),
        "621": F(Z, D("250.00"), Z),
        "700": F(Z, Z, D("500.00")),
        "705": F(Z, Z, D("300.00")),
        "": F(D("-600.00"), Z, Z),
    }
    assert rows[""].account_id is None and rows[""].name == "Result of previous years not closed"
    assert [rows[c].current.closing for c in ("430", "477", "572", "700")] == [
        D("768.00"),
        D("-378.00"),
        D("11160.00"),
        D("-500.00"),
    ]
    assert tb.total == F(Z, D("1418.00"), D("1418.00")) and tb.total.closing == Z
    # The previous range (2025-10 to 2025-12): 2025's income and expenses open with the year's.
    assert tb.previous_range.label == "2025-10 – 2025-12"
    assert {code: row.previous for code, row in rows.items()} == {
        "100": F(D("-10000.00"), Z, Z),
        "400": F(D("-484.00"), Z, Z),
        "430": F(D("1210.00"), Z, D("1210.00")),
        "472": F(D("84.00"), Z, Z),
        "477": F(D("-210.00"), Z, Z),
        "572": F(D("10000.00"), D("1210.00"), Z),
        "600": F(D("400.00"), Z, Z),
        "621": F(Z, Z, Z),
        "700": F(D("-1000.00"), Z, Z),
        "705": F(Z, Z, Z),
        "": F(Z, Z, Z),
    }
    assert tb.previous_total == F(Z, D("1210.00"), D("1210.00"))
    assert tb.balanced
    # Ordered by account code, the unclosed result last.
    assert [r.code for r in tb.rows] == ["100", "400", "430", "472", "477", "572", "600", "621", "700", "705", ""]


def test_trial_balance_after_the_year_end_closing(closed_books):
    tb = reports.trial_balance(
        company=closed_books["company"], period_from="2026-01", period_to="2026-03", compare=True
    )
    rows = by_code(tb)
    assert "" not in rows  # nothing left unclosed
    assert rows["129"].current == F(D("-600.00"), Z, Z)
    # The closing entry is a posting of December like any other in the trial balance.
    assert rows["700"].previous == F(D("-1000.00"), D("1000.00"), Z) and rows["700"].previous.closing == Z
    assert rows["600"].previous == F(D("400.00"), Z, D("400.00"))
    assert rows["129"].previous == F(Z, Z, D("600.00"))
    assert tb.total == F(Z, D("1418.00"), D("1418.00"))
    assert tb.previous_total == F(Z, D("2210.00"), D("2210.00"))
    assert tb.balanced


def test_trial_balance_across_two_fiscal_years(books):
    tb = reports.trial_balance(company=books["company"], period_from="2025-12", period_to="2026-01")
    rows = by_code(tb)
    # Income opens with 2025's figures: the range starts in 2025.
    assert rows["700"].current == F(D("-1000.00"), Z, D("500.00"))
    assert rows["600"].current == F(D("400.00"), Z, Z)
    assert "" not in rows and tb.previous_range is None and rows["700"].previous is None
    assert tb.total == F(Z, D("1815.00"), D("1815.00"))


# --- profit and loss ------------------------------------------------------------------------------------


def rows_of(section) -> list[tuple]:
    return [(r.code, r.depth, r.amount, r.previous, r.is_group) for r in section.rows]


def test_profit_and_loss_by_parent_with_comparison_across_the_closing(closed_books):
    # The previous range (2025-12 and 2026-01) holds 2025's closing entry: it is left out.
    pl = reports.profit_and_loss(
        company=closed_books["company"], period_from="2026-02", period_to="2026-03", compare=True
    )
    assert pl.previous_range.label == "2025-12 – 2026-01"
    assert rows_of(pl.income) == [
        ("7", 0, D("300.00"), D("500.00"), True),
        ("700", 1, Z, D("500.00"), False),
        ("705", 1, D("300.00"), Z, False),
    ]
    assert rows_of(pl.expenses) == [("6", 0, D("250.00"), Z, True), ("621", 1, D("250.00"), Z, False)]
    assert (pl.income.total, pl.income.previous_total) == (D("300.00"), D("500.00"))
    assert (pl.expenses.total, pl.expenses.previous_total) == (D("250.00"), Z)
    assert (pl.net_result, pl.previous_net_result) == (D("50.00"), D("500.00"))


def test_profit_and_loss_of_a_closed_year_shows_its_result(closed_books):
    pl = reports.profit_and_loss(company=closed_books["company"], period_from="2025-01", period_to="2025-12")
    assert rows_of(pl.income) == [("7", 0, D("1000.00"), None, True), ("700", 1, D("1000.00"), None, False)]
    assert rows_of(pl.expenses) == [("6", 0, D("400.00"), None, True), ("600", 1, D("400.00"), None, False)]
    assert pl.net_result == D("600.00") and pl.previous_net_result is None


# --- balance sheet --------------------------------------------------------------------------------------


def test_balance_sheet_with_the_previous_year_not_closed(books):
    bs = reports.balance_sheet(company=books["company"], at="2026-03", compare=True)
    assert (bs.at.code, bs.compare_at.code) == ("2026-03", "2026-02")
    assert rows_of(bs.assets) == [
        ("4", 0, D("852.00"), D("1052.00"), True),
        ("430", 1, D("768.00"), D("968.00"), False),
        ("472", 1, D("84.00"), D("84.00"), False),
        ("5", 0, D("11160.00"), D("10960.00"), True),
        ("572", 1, D("11160.00"), D("10960.00"), False),
    ]
    # 400 and 477 are liabilities under the asset group "4": they stand at the top of their section.
    assert rows_of(bs.liabilities) == [
        ("400", 0, D("484.00"), D("484.00"), False),
        ("477", 0, D("378.00"), D("378.00"), False),
    ]
    assert rows_of(bs.equity) == [
        ("1", 0, D("10000.00"), D("10000.00"), True),
        ("100", 1, D("10000.00"), D("10000.00"), False),
        ("", 0, D("600.00"), D("600.00"), False),
        ("", 0, D("550.00"), D("550.00"), False),
    ]
    assert [r.name for r in bs.equity.rows[2:]] == ["Result of previous years not closed", "Result of the year"]
    assert (bs.assets.total, bs.liabilities.total, bs.equity.total) == (D("12012.00"), D("862.00"), D("11150.00"))
    assert bs.assets.total == bs.liabilities.total + bs.equity.total
    assert bs.assets.previous_total == bs.liabilities.previous_total + bs.equity.previous_total == D("12012.00")
    assert bs.balanced


def test_balance_sheet_after_the_closing_moves_the_result_into_retained_earnings(closed_books):
    bs = reports.balance_sheet(company=closed_books["company"], at="2026-03", compare_at="2025-11")
    assert rows_of(bs.equity) == [
        ("1", 0, D("10600.00"), D("10000.00"), True),
        ("100", 1, D("10000.00"), D("10000.00"), False),
        ("129", 1, D("600.00"), Z, False),
        ("", 0, D("550.00"), D("600.00"), False),
    ]
    assert (bs.assets.total, bs.liabilities_and_equity) == (D("12012.00"), D("12012.00"))
    # November 2025: the receivable of A not yet paid, the year's profit not yet closed.
    assert (bs.assets.previous_total, bs.previous_liabilities_and_equity) == (D("11294.00"), D("11294.00"))
    assert bs.balanced


def test_balance_sheet_of_the_first_period_has_no_comparison(books):
    bs = reports.balance_sheet(company=books["company"], at="2025-01", compare=True)
    assert bs.compare_at is None and bs.assets.previous_total is None
    assert (bs.assets.total, bs.equity.total) == (D("10000.00"), D("10000.00"))


# --- monthly figures -------------------------------------------------------------------------------------


def test_monthly_result_leaves_the_closing_out(closed_books):
    months = reports.monthly_result(company=closed_books["company"], period_from="2025-11", period_to="2026-02")
    assert [(m.period.code, m.income, m.expenses, m.result) for m in months] == [
        ("2025-11", Z, Z, Z),
        ("2025-12", Z, Z, Z),
        ("2026-01", D("500.00"), Z, D("500.00")),
        ("2026-02", D("300.00"), D("250.00"), D("50.00")),
    ]


# --- general ledger -----------------------------------------------------------------------------------------


def test_general_ledger_of_one_account_pages_with_a_running_balance(books):
    company, bank = books["company"], books["acc"]["572"]
    first = reports.general_ledger(
        company=company, period_from="2025-01", period_to="2026-03", account_id=bank.pk, page_size=3
    )
    e = books["entries"]
    assert first.opening == Z
    assert [(ln.entry_id, ln.debit, ln.credit, ln.balance) for ln in first.lines] == [
        (e[0].pk, D("10000.00"), Z, D("10000.00")),
        (e[3].pk, D("1210.00"), Z, D("11210.00")),
        (e[6].pk, Z, D("250.00"), D("10960.00")),
    ]
    assert first.lines[0].entry_number == e[0].number and first.lines[0].opens_account
    assert first.next_cursor
    second = reports.general_ledger(
        company=company,
        period_from="2025-01",
        period_to="2026-03",
        account_id=bank.pk,
        cursor=first.next_cursor,
        page_size=3,
    )
    assert second.opening == D("10960.00")
    assert [(ln.entry_id, ln.balance, ln.opens_account) for ln in second.lines] == [(e[7].pk, D("11160.00"), False)]
    assert second.next_cursor is None


def test_general_ledger_opens_with_the_balance_before_the_range(books):
    company, acc = books["company"], books["acc"]
    bank = reports.general_ledger(company=company, period_from="2026-02", period_to="2026-03", account_id="572")
    assert bank.account == acc["572"] and bank.opening == D("11210.00")
    assert [ln.balance for ln in bank.lines] == [D("10960.00"), D("11160.00")]
    # Income opens at zero in a new year: 2025's sales stay in 2025.
    sales = reports.general_ledger(company=company, period_from="2026-01", period_to="2026-03", account_id="700")
    assert sales.opening == Z and [ln.balance for ln in sales.lines] == [D("-500.00")]


def test_general_ledger_of_all_accounts_visits_every_line_once(books):
    company = books["company"]
    expected = list(
        JournalLine.objects.filter(company=company, posted=True)
        .order_by("account_id", "date", "entry_id", "id")
        .values_list("id", flat=True)
    )
    assert len(expected) == 20
    seen, balances, cursor = [], {}, None
    for _page in range(30):
        page = reports.general_ledger(
            company=company, period_from="2025-01", period_to="2026-03", cursor=cursor, page_size=4
        )
        for line in page.lines:
            seen.append(line.line_id)
            balances[line.account_id] = balances.get(line.account_id, Z) + line.debit - line.credit
            assert line.balance == balances[line.account_id]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected


def test_general_ledger_pages_lines_of_the_same_day_and_entry(db):
    company = company_with_chart("ES")
    acc = {a.code: a for a in Account.objects.filter(company=company)}
    # 23 entries on one day, each with two lines on the bank account: ties on date and entry.
    for n in range(23):
        post(
            company,
            JournalKind.GENERAL,
            "2026-05-05",
            (acc["572"], f"{n + 1}.00", 0),
            (acc["572"], f"{n + 2}.00", 0),
            (acc["100"], 0, f"{2 * n + 3}.00"),
        )
    expected = list(
        JournalLine.objects.filter(account=acc["572"]).order_by("entry_id", "id").values_list("id", "debit")
    )
    seen, cursor = [], None
    while True:
        page = reports.general_ledger(
            company=company,
            period_from="2026-05",
            period_to="2026-05",
            account_id=acc["572"].pk,
            cursor=cursor,
            page_size=7,
        )
        seen += [(ln.line_id, ln.debit) for ln in page.lines]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected and len(seen) == 46
    assert page.lines[-1].balance == sum(d for _i, d in expected)
    # The whole ledger in chunks gives the same lines.
    chunked = list(
        reports.general_ledger_lines(
            company=company, period_from="2026-05", period_to="2026-05", account_id=acc["572"].pk, chunk=5
        )
    )
    assert [(ln.line_id, ln.debit) for ln in chunked] == expected


def test_a_tampered_or_foreign_cursor_is_refused(books):
    company = books["company"]
    page = reports.general_ledger(
        company=company, period_from="2025-01", period_to="2026-03", account_id="572", page_size=1
    )
    for cursor, account in ((page.next_cursor + "x", "572"), (page.next_cursor, "430"), ("garbage", "572")):
        with pytest.raises(ValidationFailed) as caught:
            reports.general_ledger(
                company=company, period_from="2025-01", period_to="2026-03", account_id=account, cursor=cursor
            )
        assert list(caught.value.fields) == ["cursor"]


def test_another_companys_account_is_not_found(books):
    other = company_with_chart("ES")
    foreign = Account.objects.get(company=other, code="572")
    with pytest.raises(NotFound):
        reports.general_ledger(
            company=books["company"], period_from="2026-01", period_to="2026-03", account_id=foreign.pk
        )


# --- journal ------------------------------------------------------------------------------------------


def test_journal_lists_entries_by_journal_and_number_with_their_lines(books):
    company, e = books["company"], books["entries"]
    page = reports.journal(company=company, period_from="2026-01", period_to="2026-03", page_size=2)
    # Journals in the order they were created (sales, purchases, bank, cash, stock, general).
    assert [(x.entry_id, x.number) for x in page.entries] == [
        (e[4].pk, "VEN/2026/000001"),
        (e[5].pk, "VEN/2026/000002"),
    ]
    assert [(ln.position, ln.account_code, ln.debit, ln.credit, ln.party) for ln in page.entries[0].lines] == [
        (1, "430", D("605.00"), Z, "Beta Retail SL"),
        (2, "700", Z, D("500.00"), ""),
        (3, "477", Z, D("105.00"), ""),
    ]
    rest = reports.journal(
        company=company, period_from="2026-01", period_to="2026-03", page_size=2, cursor=page.next_cursor
    )
    assert [x.number for x in rest.entries] == ["BAN/2026/000001", "GEN/2026/000001"]
    assert rest.entries[1].total == D("250.00") and rest.next_cursor is None
    only_bank = reports.journal(company=company, period_from="2025-01", period_to="2026-03", journal_code="BAN")
    assert [x.number for x in only_bank.entries] == ["BAN/2025/000001", "BAN/2026/000001"]


# --- open items -----------------------------------------------------------------------------------------


def test_party_balances_sum_the_open_items(books):
    company = books["company"]
    receivable = reports.party_balances(company, AccountRole.RECEIVABLE)
    assert [(b.party_name, b.balance, b.open_items, b.oldest_due) for b in receivable] == [
        ("Beta Retail SL", D("405.00"), 1, day("2026-02-09")),
        ("Alfa Comercio SL", D("363.00"), 1, day("2026-03-14")),
    ]
    payable = reports.party_balances(company, AccountRole.PAYABLE)
    assert [(b.party_id, b.balance) for b in payable] == [(books["s"].pk, D("-484.00"))]
    only_a = reports.party_balances(company, AccountRole.RECEIVABLE, party_ids=[books["a"].pk])
    assert [(b.party_id, b.balance) for b in only_a] == [(books["a"].pk, D("363.00"))]
    assert reports.party_balances(company, AccountRole.CUSTOMER_ADVANCES) == []
    largest = reports.party_balances(company, AccountRole.RECEIVABLE, limit=1)
    assert [(b.party_name, b.balance) for b in largest] == [("Beta Retail SL", D("405.00"))]


# --- query counts ---------------------------------------------------------------------------------------


def more_entries(company, n: int) -> None:
    acc = {a.code: a for a in Account.objects.filter(company=company)}
    for i in range(n):
        post(
            company,
            JournalKind.GENERAL,
            f"2026-0{1 + i % 3}-2{i % 8}",
            (acc["629"], "1.00", 0),
            (acc["572"], 0, "1.00"),
        )


@pytest.mark.parametrize("extra", [0, 12])
def test_report_query_counts_do_not_grow_with_the_ledger(books, extra, django_assert_num_queries):
    company = books["company"]
    more_entries(company, extra)
    periods = reports.company_periods(company)
    with django_assert_num_queries(2):
        reports.trial_balance(
            company=company, period_from="2026-01", period_to="2026-03", compare=True, periods=periods
        )
    with django_assert_num_queries(3):
        reports.profit_and_loss(
            company=company, period_from="2026-01", period_to="2026-03", compare=True, periods=periods
        )
    with django_assert_num_queries(2):
        reports.balance_sheet(company=company, at="2026-03", compare=True, periods=periods)
    with django_assert_num_queries(2):
        reports.monthly_result(company=company, period_from="2026-01", period_to="2026-03", periods=periods)
    with django_assert_num_queries(3):
        reports.trial_balance(company=company, period_from="2026-01", period_to="2026-03")
    with django_assert_num_queries(1):
        reports.party_balances(company, AccountRole.RECEIVABLE)


@pytest.mark.parametrize("extra", [0, 12])
def test_general_ledger_and_journal_query_counts_are_fixed(books, extra, django_assert_num_queries):
    company = books["company"]
    more_entries(company, extra)
    periods = reports.company_periods(company)
    kwargs = {"company": company, "period_from": "2025-02", "period_to": "2026-03", "periods": periods}
    with django_assert_num_queries(3):  # accounts, lines, opening
        first = reports.general_ledger(account_id="572", page_size=2, **kwargs)
    with django_assert_num_queries(2):  # accounts, lines: the balance comes with the cursor
        reports.general_ledger(account_id="572", page_size=2, cursor=first.next_cursor, **kwargs)
    with django_assert_num_queries(3):  # accounts, lines, openings of the accounts on the page
        page = reports.general_ledger(page_size=3, **kwargs)
    with django_assert_num_queries(4):  # accounts, rest of the account, next accounts, their openings
        following = reports.general_ledger(page_size=4, cursor=page.next_cursor, **kwargs)
    assert [ln.account_code for ln in following.lines] == ["430", "430", "430", "472"]
    with django_assert_num_queries(2):  # entries, lines
        reports.journal(page_size=5, **kwargs)


# --- charts ---------------------------------------------------------------------------------------------


def test_charts_draw_each_month_and_each_expense_as_svg(closed_books):
    from retaguarda.ledger import charts_svg

    company = closed_books["company"]
    months = reports.monthly_result(company=company, period_from="2026-01", period_to="2026-03")
    bars = charts_svg.income_and_expenses_chart(months)
    assert bars.startswith("<svg") and "<script" not in bars
    assert all(code in bars for code in ("2026-01", "2026-02", "2026-03", "Income", "Expenses"))
    pl = reports.profit_and_loss(company=company, period_from="2026-01", period_to="2026-03")
    ring = charts_svg.expenses_composition_chart(pl)
    assert "621 Arrendamientos y cánones" in ring and "6 Compras y gastos" not in ring
    bs = reports.balance_sheet(company=company, at="2026-03")
    stacked = charts_svg.balance_sheet_chart(bs)
    # Groups, not their accounts: the bank is inside "5", retained earnings inside "1".
    assert "5 Cuentas financieras" in stacked and "572 Bancos" not in stacked and "129 Resultado" not in stacked
    assert "1 Financiación básica" in stacked and "Result of the year" in stacked
