"""The ledger's writers: posting, numbering, balances, refusals, reversal, open items, periods
and year-end closing, exchange rates and manual entries."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from retaguarda.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog, Sequence
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import actor_build, company_build
from retaguarda.ledger import services
from retaguarda.ledger.choices import AccountRole as R
from retaguarda.ledger.choices import EntryState, JournalKind, PeriodState
from retaguarda.ledger.models import (
    Account,
    AccountBalance,
    ExchangeRate,
    FiscalYear,
    JournalEntry,
    JournalLine,
    Period,
    Reconciliation,
)
from retaguarda.ledger.services import LineSpec, entry_post
from retaguarda.ledger.testing import accounts
from retaguarda.parties.testing import party_build

D = Decimal
TODAY = datetime.date.today()
YEAR = TODAY.year
DAY = datetime.date(YEAR, 3, 15)


def counts() -> tuple:
    return (
        JournalEntry.objects.count(),
        JournalLine.objects.count(),
        Reconciliation.objects.count(),
        list(AccountBalance.objects.order_by("pk").values_list("debit", "credit")),
        list(JournalLine.objects.order_by("pk").values_list("residual", flat=True)),
        list(Period.objects.order_by("pk").values_list("state", flat=True)),
        FiscalYear.objects.count(),
        Sequence.objects.count(),
        ExchangeRate.objects.count(),
    )


def balance(account, period_code=None):
    rows = AccountBalance.objects.filter(account=account)
    if period_code:
        rows = rows.filter(period__code=period_code)
    debit = sum((r.debit for r in rows), D(0))
    credit = sum((r.credit for r in rows), D(0))
    return debit, credit


def sale(company, acc, *, net="100.00", tax="21.00", party=None, on=DAY):
    total = D(net) + D(tax)
    return entry_post(
        actor=system_actor(company),
        company=company,
        journal_kind=JournalKind.SALES,
        date=on,
        lines=[
            LineSpec(acc[R.RECEIVABLE].pk, debit=total, party_id=party.pk if party else None),
            LineSpec(acc[R.REVENUE].pk, credit=D(net)),
            LineSpec(acc[R.TAX_PAYABLE].pk, credit=D(tax)),
        ],
        reference="F-1",
        source_type="billing.invoice",
        source_id=1,
    )


def payment(company, acc, amount, *, party=None, on=DAY):
    return entry_post(
        actor=system_actor(company),
        company=company,
        journal_kind=JournalKind.BANK,
        date=on,
        lines=[
            LineSpec(acc[R.BANK].pk, debit=D(amount)),
            LineSpec(acc[R.RECEIVABLE].pk, credit=D(amount), party_id=party.pk if party else None),
        ],
    )


@pytest.fixture
def acc(company):
    return accounts(company)


# --- entry_post -------------------------------------------------------------------------------


def test_entry_post_writes_entry_lines_and_balances(company, acc):
    entry = sale(company, acc, net="100.10", tax="21.02")
    entry.refresh_from_db()
    assert entry.state == EntryState.POSTED
    assert entry.number == f"VEN/{YEAR}/000001"
    assert entry.total == D("121.12")
    assert entry.posted_at is not None
    assert entry.period.code == f"{YEAR}-03"
    assert (entry.source_type, entry.source_id, entry.reference) == ("billing.invoice", "1", "F-1")
    lines = list(entry.lines.order_by("position"))
    assert [(line.debit, line.credit, line.posted) for line in lines] == [
        (D("121.12"), D("0.00"), True),
        (D("0.00"), D("100.10"), True),
        (D("0.00"), D("21.02"), True),
    ]
    # Only the receivable is an open item.
    assert [line.residual for line in lines] == [D("121.12"), D("0.00"), D("0.00")]
    assert all(line.date == DAY and line.period_id == entry.period_id for line in lines)
    assert balance(acc[R.RECEIVABLE], f"{YEAR}-03") == (D("121.12"), D("0.00"))
    assert balance(acc[R.REVENUE], f"{YEAR}-03") == (D("0.00"), D("100.10"))
    assert balance(acc[R.TAX_PAYABLE]) == (D("0.00"), D("21.02"))
    assert balance(acc[R.REVENUE], f"{YEAR}-04") == (D("0.00"), D("0.00"))


def test_entry_post_stamps_the_acting_user(company, acc):
    actor = actor_build(company, Role.FINANCE)
    entry = entry_post(
        actor=actor,
        company=company,
        journal_kind=JournalKind.GENERAL,
        date=DAY,
        lines=[LineSpec(acc[R.BANK].pk, debit=D("5")), LineSpec(acc[R.EQUITY].pk, credit=D("5"))],
    )
    assert entry.posted_by_id == actor.user.pk
    assert entry.created_by_id == actor.user.pk
    assert entry.number == f"GEN/{YEAR}/000001"


def test_entry_post_same_account_on_several_lines_sums_into_one_balance(company, acc):
    entry_post(
        actor=None,
        company=company,
        journal_kind=JournalKind.GENERAL,
        date=DAY,
        lines=[
            LineSpec(acc[R.BANK].pk, debit=D("0.10")),
            LineSpec(acc[R.BANK].pk, debit=D("0.20")),
            LineSpec(acc[R.BANK].pk, credit=D("0.05")),
            LineSpec(acc[R.EQUITY].pk, credit=D("0.25")),
        ],
    )
    assert balance(acc[R.BANK]) == (D("0.30"), D("0.05"))
    assert balance(acc[R.EQUITY]) == (D("0.00"), D("0.25"))


def test_numbers_are_gap_free_per_journal_and_year_even_after_refusals(company, acc):
    first = sale(company, acc)
    with pytest.raises(ValidationFailed):
        entry_post(
            actor=None,
            company=company,
            journal_kind=JournalKind.SALES,
            date=DAY,
            lines=[LineSpec(acc[R.RECEIVABLE].pk, debit=D("1")), LineSpec(acc[R.REVENUE].pk, credit=D("2"))],
        )
    second = sale(company, acc)
    other_journal = payment(company, acc, "10")
    next_year = sale(company, acc, on=datetime.date(YEAR + 1, 1, 2))
    assert [first.number, second.number] == [f"VEN/{YEAR}/000001", f"VEN/{YEAR}/000002"]
    assert other_journal.number == f"BAN/{YEAR}/000001"
    assert next_year.number == f"VEN/{YEAR + 1}/000001"


def test_a_date_without_fiscal_year_opens_its_calendar_year(company, acc):
    on = datetime.date(YEAR + 2, 7, 31)
    before = FiscalYear.objects.filter(company=company).count()
    entry = sale(company, acc, on=on)
    year = FiscalYear.objects.get(company=company, start_date=datetime.date(YEAR + 2, 1, 1))
    assert FiscalYear.objects.filter(company=company).count() == before + 1
    assert year.end_date == datetime.date(YEAR + 2, 12, 31)
    periods = list(year.periods.order_by("start_date"))
    assert [p.code for p in periods][:2] == [f"{YEAR + 2}-01", f"{YEAR + 2}-02"]
    assert len(periods) == 12
    assert periods[1].end_date.day in (28, 29)
    assert entry.period.code == f"{YEAR + 2}-07"
    # Balance rows exist only where something was posted: the entry's three accounts in July.
    rows = AccountBalance.objects.filter(period__fiscal_year=year)
    assert sorted(rows.values_list("period__code", flat=True)) == [f"{YEAR + 2}-07"] * len(entry.lines.all())


@pytest.mark.parametrize(
    "lines, message",
    [
        ([("bank", "10.00", "0"), ("equity", "0", "9.99")], "does not balance"),
        ([("bank", "10.00", "0")], "at least two lines"),
        ([("bank", "10.00", "10.00"), ("equity", "0", "0")], "not both"),
        ([("bank", "-10.00", "0"), ("equity", "0", "-10.00")], "at least 0"),
        ([("bank", "10.001", "0"), ("equity", "0", "10.001")], "decimal places"),
        ([("bank", "0", "0"), ("equity", "0", "0")], "a debit or a credit"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_written(company, acc, lines, message):
    specs = [LineSpec(acc[role].pk, debit=D(debit), credit=D(credit)) for role, debit, credit in lines]
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        entry_post(actor=None, company=company, journal_kind=JournalKind.GENERAL, date=DAY, lines=specs)
    assert message in " ".join(exc.value.fields["lines"])
    assert counts() == before


def test_unbalanced_message_names_the_difference(company, acc):
    with pytest.raises(ValidationFailed) as exc:
        entry_post(
            actor=None,
            company=company,
            journal_kind=JournalKind.GENERAL,
            date=DAY,
            lines=[LineSpec(acc[R.BANK].pk, debit=D("10.00")), LineSpec(acc[R.EQUITY].pk, credit=D("9.99"))],
        )
    assert exc.value.code == "unbalanced"
    assert exc.value.fields["lines"] == ["The entry does not balance: debits 10.00, credits 9.99 (difference 0.01)."]


def test_floats_are_refused(company, acc):
    with pytest.raises(ValidationFailed):
        entry_post(
            actor=None,
            company=company,
            journal_kind=JournalKind.GENERAL,
            date=DAY,
            lines=[LineSpec(acc[R.BANK].pk, debit=0.1), LineSpec(acc[R.EQUITY].pk, credit=0.1)],
        )


def test_another_companys_account_is_refused(company, acc):
    other = accounts(company_build(country="BR"))
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        entry_post(
            actor=None,
            company=company,
            journal_kind=JournalKind.GENERAL,
            date=DAY,
            lines=[LineSpec(acc[R.BANK].pk, debit=D("1")), LineSpec(other[R.EQUITY].pk, credit=D("1"))],
        )
    assert exc.value.fields["lines"] == ["Line 2: the account is not one of this company's."]
    assert counts() == before


def test_inactive_account_is_refused(company, acc):
    Account.objects.filter(pk=acc[R.EQUITY].pk).update(is_active=False)
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        entry_post(
            actor=None,
            company=company,
            journal_kind=JournalKind.GENERAL,
            date=DAY,
            lines=[LineSpec(acc[R.BANK].pk, debit=D("1")), LineSpec(acc[R.EQUITY].pk, credit=D("1"))],
        )
    assert exc.value.fields["lines"] == ["Line 2: the account is inactive."]
    assert counts() == before


def test_another_companys_party_is_refused(company, acc):
    stranger = party_build(company_build(country="ES"))
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        sale(company, acc, party=stranger)
    assert exc.value.fields["lines"] == ["Line 1: no such customer or supplier."]
    assert counts() == before


def test_closed_period_is_refused_and_nothing_is_written(company, acc):
    admin = actor_build(company)
    period = Period.objects.get(company=company, code=f"{YEAR}-03")
    services.period_close(actor=admin, period_id=period.pk)
    before = counts()
    with pytest.raises(Conflict) as exc:
        sale(company, acc)
    assert exc.value.code == "period_closed"
    assert counts() == before
    # Other months still post.
    assert sale(company, acc, on=datetime.date(YEAR, 4, 1)).number == f"VEN/{YEAR}/000001"


def test_refusal_inside_a_callers_transaction_leaves_it_usable(company, acc):
    """Billing posts inside its own transaction: a refusal must not poison it."""
    from django.db import transaction

    with transaction.atomic():
        with pytest.raises(ValidationFailed):
            entry_post(
                actor=None,
                company=company,
                journal_kind=JournalKind.GENERAL,
                date=DAY,
                lines=[LineSpec(acc[R.BANK].pk, debit=D("1")), LineSpec(acc[R.EQUITY].pk, credit=D("2"))],
            )
        assert sale(company, acc).number == f"VEN/{YEAR}/000001"


@pytest.mark.parametrize("n_lines", [2, 5, 30])
def test_entry_post_query_count_is_fixed(company, acc, n_lines, django_assert_num_queries):
    sale(company, acc)  # the journal's counter of the year exists from here on
    party = party_build(company)
    debit_accounts = [acc[R.BANK], acc[R.CASH], acc[R.RECEIVABLE], acc[R.INVENTORY], acc[R.PURCHASES]]
    lines = [
        LineSpec(debit_accounts[i % 5].pk, debit=D("1.01"), party_id=party.pk if i == 0 else None)
        for i in range(n_lines - 1)
    ]
    lines.append(LineSpec(acc[R.REVENUE].pk, credit=D("1.01") * (n_lines - 1)))
    entry_post(actor=None, company=company, journal_kind=JournalKind.SALES, date=DAY, lines=lines)
    # accounts, parties, journal, period (locked), counter (UPDATE … RETURNING), entry, lines,
    # balance rows locked, balances updated (the accounts' rows of the period exist by now).
    with django_assert_num_queries(9):
        entry = entry_post(actor=None, company=company, journal_kind=JournalKind.SALES, date=DAY, lines=lines)
    assert entry.lines.count() == n_lines
    assert entry.total == D("1.01") * (n_lines - 1)


def test_an_accounts_first_posting_in_a_period_makes_its_balance_row(company, acc):
    assert not AccountBalance.objects.filter(company=company).exists()
    sale(company, acc)
    rows = AccountBalance.objects.filter(company=company).exclude(debit=0, credit=0)
    assert rows.count() == AccountBalance.objects.filter(company=company).count() > 0
    with CaptureQueriesContext(connection) as first:
        entry_post(
            actor=None,
            company=company,
            journal_kind=JournalKind.SALES,
            date=DAY,
            lines=[LineSpec(acc[R.CASH].pk, debit=D("2.00")), LineSpec(acc[R.SERVICE_REVENUE].pk, credit=D("2.00"))],
        )
    # Two more than a warm posting: the missing rows inserted (insert-or-ignore), then locked.
    assert len(first.captured_queries) == 10


def test_entry_post_query_count_without_parties(company, acc):
    sale(company, acc)
    with CaptureQueriesContext(connection) as ctx:
        sale(company, acc)
    assert len(ctx.captured_queries) == 8


# --- no edits of posted entries -----------------------------------------------------------------


def test_there_is_no_service_that_edits_or_deletes_a_posted_entry(company, acc):
    admin = actor_build(company)
    entry = sale(company, acc)
    public = {name for name in dir(services) if not name.startswith("_") and callable(getattr(services, name))}
    assert not {n for n in public if n.startswith("entry_") and n.endswith(("_update", "_edit", "_delete"))} - {
        "entry_draft_update",
        "entry_draft_delete",
    }
    before = counts()
    for call in (
        lambda: services.entry_draft_update(
            actor=admin, entry_id=entry.pk, journal_id=entry.journal_id, date=DAY, lines=[]
        ),
        lambda: services.entry_draft_delete(actor=admin, entry_id=entry.pk),
        lambda: services.entry_draft_post(actor=admin, entry_id=entry.pk),
    ):
        with pytest.raises(Conflict) as exc:
            call()
        assert exc.value.code == "entry_posted"
    assert counts() == before


# --- reversal ---------------------------------------------------------------------------------


def test_entry_reverse_posts_the_mirror_and_settles_open_items(company, acc):
    finance = actor_build(company, Role.FINANCE)
    customer = party_build(company)
    entry = sale(company, acc, net="80.00", tax="16.80", party=customer)
    reversal = services.entry_reverse(actor=finance, entry_id=entry.pk, reason="Wrong customer")
    assert reversal.reversal_of_id == entry.pk
    assert reversal.date == DAY  # the original's period is open
    assert reversal.number == f"VEN/{YEAR}/000002"
    assert reversal.total == D("96.80")
    assert reversal.description == f"Reversal of {entry.number}: Wrong customer"
    assert [(x.account_id, x.debit, x.credit, x.party_id) for x in reversal.lines.order_by("position")] == [
        (acc[R.RECEIVABLE].pk, D("0.00"), D("96.80"), customer.pk),
        (acc[R.REVENUE].pk, D("80.00"), D("0.00"), None),
        (acc[R.TAX_PAYABLE].pk, D("16.80"), D("0.00"), None),
    ]
    # Both receivable lines are closed against each other.
    assert list(JournalLine.objects.filter(account=acc[R.RECEIVABLE]).values_list("residual", flat=True)) == [
        D("0.00"),
        D("0.00"),
    ]
    match = Reconciliation.objects.get()
    assert match.amount == D("96.80")
    for role in (R.RECEIVABLE, R.REVENUE, R.TAX_PAYABLE):
        debit, credit = balance(acc[role])
        assert debit == credit
    assert AuditLog.objects.filter(action="journalentry.reverse", object_id=str(entry.pk)).count() == 1


def test_entry_reverse_in_a_closed_period_defaults_to_today(company, acc):
    admin = actor_build(company)
    on = datetime.date(YEAR - 1, 6, 10)
    entry = sale(company, acc, on=on)
    period = Period.objects.get(company=company, code=f"{YEAR - 1}-06")
    services.period_close(actor=admin, period_id=period.pk)
    reversal = services.entry_reverse(actor=admin, entry_id=entry.pk, reason="Duplicate")
    assert reversal.date == datetime.date.today()
    with pytest.raises(Conflict) as exc:
        services.entry_reverse(actor=admin, entry_id=reversal.pk, date=on, reason="x")
    assert exc.value.code == "already_reversed"


def test_entry_reverse_refusals_write_nothing(company, acc):
    admin = actor_build(company)
    customer = party_build(company)
    entry = sale(company, acc, party=customer)
    services.entry_reverse(actor=admin, entry_id=entry.pk, reason="first")
    before = counts()
    with pytest.raises(Conflict) as exc:
        services.entry_reverse(actor=admin, entry_id=entry.pk, reason="again")
    assert exc.value.code == "already_reversed"
    # An entry whose open item was matched to a payment cannot be reversed.
    paid = sale(company, acc, party=customer)
    pay = payment(company, acc, "121.00", party=customer)
    services.reconcile(
        actor=admin,
        company=company,
        pairs=[(paid.lines.get(position=1).pk, pay.lines.get(position=2).pk, D("50.00"))],
    )
    before = counts()
    with pytest.raises(Conflict) as exc:
        services.entry_reverse(actor=admin, entry_id=paid.pk, reason="x")
    assert exc.value.code == "entry_reconciled"
    assert "matched" in exc.value.message
    assert counts() == before
    # Another company's entry is not found; a closed date is refused.
    with pytest.raises(NotFound):
        services.entry_reverse(actor=actor_build(company_build()), entry_id=paid.pk, reason="x")
    Period.objects.filter(company=company, code=f"{YEAR}-01").update(state=PeriodState.CLOSED)
    other = sale(company, acc)
    with pytest.raises(Conflict) as exc:
        services.entry_reverse(actor=admin, entry_id=other.pk, date=datetime.date(YEAR, 1, 5), reason="x")
    assert exc.value.code == "period_closed"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.SALES, Role.WAREHOUSE])
def test_entry_reverse_needs_ledger_post(company, acc, role):
    entry = sale(company, acc)
    before = counts()
    with pytest.raises(PermissionDenied):
        services.entry_reverse(actor=actor_build(company, role), entry_id=entry.pk, reason="x")
    assert counts() == before


def test_entry_reverse_for_source_finds_the_documents_entry(company, acc):
    entry = sale(company, acc)
    reversal = services.entry_reverse_for_source(
        actor=actor_build(company, Role.SALES),
        company=company,
        source_type="billing.invoice",
        source_id="1",
        reason="NF-e cancelled",
    )
    assert reversal.reversal_of_id == entry.pk


# --- open items -------------------------------------------------------------------------------


def test_reconcile_partial_then_full(company, acc):
    customer = party_build(company)
    invoice = sale(company, acc, party=customer)  # 121.00 open
    first = payment(company, acc, "21.00", party=customer)
    second = payment(company, acc, "100.00", party=customer)
    receivable = invoice.lines.get(position=1)
    paid1, paid2 = first.lines.get(position=2), second.lines.get(position=2)
    services.reconcile(actor=None, company=company, pairs=[(receivable.pk, paid1.pk, D("21.00"))])
    receivable.refresh_from_db()
    paid1.refresh_from_db()
    assert (receivable.residual, paid1.residual) == (D("100.00"), D("0.00"))
    matches = services.reconcile(actor=None, company=company, pairs=[(receivable.pk, paid2.pk, D("100.00"))])
    assert [m.amount for m in matches] == [D("100.00")]
    receivable.refresh_from_db()
    paid2.refresh_from_db()
    assert (receivable.residual, paid2.residual) == (D("0.00"), D("0.00"))
    assert Reconciliation.objects.filter(debit_line=receivable).count() == 2
    # Undo the first: its amounts are open again on both sides.
    services.unreconcile(actor=actor_build(company), reconciliation_ids=[m.pk for m in matches])
    receivable.refresh_from_db()
    paid2.refresh_from_db()
    assert (receivable.residual, paid2.residual) == (D("100.00"), D("-100.00"))


@pytest.mark.parametrize(
    "amount, code",
    [("121.01", "over_reconciled"), ("0", "validation_error"), ("-1", "validation_error")],
)
def test_reconcile_refuses_more_than_is_open(company, acc, amount, code):
    customer = party_build(company)
    invoice = sale(company, acc, party=customer)
    pay = payment(company, acc, "200.00", party=customer)
    before = counts()
    with pytest.raises((Conflict, ValidationFailed)) as exc:
        services.reconcile(
            actor=None,
            company=company,
            pairs=[(invoice.lines.get(position=1).pk, pay.lines.get(position=2).pk, D(amount))],
        )
    assert exc.value.code == code
    assert counts() == before


def test_reconcile_refuses_two_matches_that_together_exceed_the_open_amount(company, acc):
    customer = party_build(company)
    invoice = sale(company, acc, party=customer)  # 121.00
    pay1 = payment(company, acc, "100.00", party=customer)
    pay2 = payment(company, acc, "100.00", party=customer)
    receivable = invoice.lines.get(position=1).pk
    before = counts()
    with pytest.raises(Conflict):
        services.reconcile(
            actor=None,
            company=company,
            pairs=[
                (receivable, pay1.lines.get(position=2).pk, D("100.00")),
                (receivable, pay2.lines.get(position=2).pk, D("21.01")),
            ],
        )
    assert counts() == before


def test_reconcile_guarded_update_refuses_when_the_residual_moved(company, acc, monkeypatch):
    """A concurrent match that took the amount after we read the lines: the guarded UPDATE
    matches no row and the whole call is refused."""
    customer = party_build(company)
    invoice = sale(company, acc, party=customer)
    pay = payment(company, acc, "121.00", party=customer)
    receivable = invoice.lines.get(position=1)
    real_filter = JournalLine.objects.filter

    class ReadThenRace:
        def __init__(self, rows):
            self.rows = rows

        def values(self, *fields):
            read = list(self.rows.values(*fields))
            # Another transaction matches 30.00 right after our read, before our update.
            real_filter(pk=receivable.pk).update(residual=D("91.00"))
            return read

    def racing_values(*args, **kwargs):
        rows = real_filter(*args, **kwargs)
        return ReadThenRace(rows) if "posted" in kwargs else rows

    monkeypatch.setattr(JournalLine.objects, "filter", racing_values)
    with pytest.raises(Conflict) as exc:
        services.reconcile(
            actor=None, company=company, pairs=[(receivable.pk, pay.lines.get(position=2).pk, D("100.00"))]
        )
    monkeypatch.undo()
    assert exc.value.code == "over_reconciled"
    assert Reconciliation.objects.count() == 0
    # The payment's line was not touched either (the update of the debit side found no row).
    assert JournalLine.objects.get(pk=pay.lines.get(position=2).pk).residual == D("-121.00")


@pytest.mark.parametrize("case", ["other_party", "other_account", "both_debits", "unposted"])
def test_reconcile_refuses_lines_that_do_not_match(company, acc, case):
    admin = actor_build(company)
    customer, other = party_build(company), party_build(company)
    invoice = sale(company, acc, party=customer)
    receivable = invoice.lines.get(position=1)
    if case == "other_party":
        credit = payment(company, acc, "10", party=other).lines.get(position=2)
    elif case == "other_account":
        credit = invoice.lines.get(position=2)
    elif case == "both_debits":
        credit = sale(company, acc, party=customer).lines.get(position=1)
    else:
        draft = services.entry_draft_create(
            actor=admin,
            company=company,
            journal_id=services.journal_for(company.pk, JournalKind.BANK).pk,
            date=DAY,
            lines=[LineSpec(acc[R.RECEIVABLE].pk, credit=D("10"), party_id=customer.pk)],
        )
        credit = draft.lines.get()
    before = counts()
    with pytest.raises(ValidationFailed):
        services.reconcile(actor=None, company=company, pairs=[(receivable.pk, credit.pk, D("1.00"))])
    assert counts() == before


# --- periods and year-end ---------------------------------------------------------------------


def test_period_close_and_reopen(company, acc):
    admin = actor_build(company, Role.FINANCE)
    period = Period.objects.get(company=company, code=f"{YEAR}-03")
    closed = services.period_close(actor=admin, period_id=period.pk)
    assert (closed.state, closed.closed_by_id) == (PeriodState.CLOSED, admin.user.pk)
    with pytest.raises(Conflict):
        services.period_close(actor=admin, period_id=period.pk)
    reopened = services.period_reopen(actor=admin, period_id=period.pk)
    assert (reopened.state, reopened.closed_at) == (PeriodState.OPEN, None)
    assert sale(company, acc).period_id == period.pk
    assert AuditLog.objects.filter(object_type="ledger.period", object_id=str(period.pk)).count() == 2


@pytest.mark.parametrize("role", [Role.MANAGER, Role.SALES])
def test_period_close_needs_ledger_close(company, role):
    period = Period.objects.filter(company=company).first()
    with pytest.raises(PermissionDenied):
        services.period_close(actor=actor_build(company, role), period_id=period.pk)
    period.refresh_from_db()
    assert period.state == PeriodState.OPEN


def test_fiscal_year_open_is_refused_when_it_exists(company):
    admin = actor_build(company)
    with pytest.raises(Conflict) as exc:
        services.fiscal_year_open(actor=admin, company=company, year=YEAR)
    assert exc.value.code == "fiscal_year_exists"
    created = services.fiscal_year_open(actor=admin, company=company, year=YEAR - 3)
    assert (created.start_date, created.end_date) == (datetime.date(YEAR - 3, 1, 1), datetime.date(YEAR - 3, 12, 31))
    assert created.periods.count() == 12


def test_fiscal_year_close_moves_the_result_to_retained_earnings(company, acc):
    admin = actor_build(company, Role.FINANCE)
    last = YEAR - 1
    sale(company, acc, net="1000.00", tax="210.00", on=datetime.date(last, 2, 1))
    sale(company, acc, net="250.55", tax="52.62", on=datetime.date(last, 11, 30))
    entry_post(  # cost of goods 400.10, a bank fee 12.34 (other expense), a return 30.00
        actor=None,
        company=company,
        journal_kind=JournalKind.GENERAL,
        date=datetime.date(last, 12, 31),
        lines=[
            LineSpec(acc[R.COST_OF_GOODS].pk, debit=D("400.10")),
            LineSpec(acc[R.INVENTORY].pk, credit=D("400.10")),
            LineSpec(acc[R.SALES_RETURNS].pk, debit=D("30.00")),
            LineSpec(acc[R.ROUNDING].pk, debit=D("12.34")),
            LineSpec(acc[R.BANK].pk, credit=D("42.34")),
        ],
    )
    # December closed before year-end: the closing entry still posts on the 31st.
    december = Period.objects.get(company=company, code=f"{last}-12")
    services.period_close(actor=admin, period_id=december.pk)
    fiscal_year = FiscalYear.objects.get(company=company, start_date=datetime.date(last, 1, 1))
    services.fiscal_year_close(actor=admin, fiscal_year_id=fiscal_year.pk)
    closing = JournalEntry.objects.get(source_type=services.CLOSING_SOURCE, source_id=str(fiscal_year.pk))
    assert closing.date == datetime.date(last, 12, 31)
    assert closing.number == f"GEN/{last}/000002"
    # Profit: 1250.55 revenue - 30.00 returns - 400.10 cost - 12.34 rounding = 808.11.
    assert balance(acc[R.RETAINED_EARNINGS]) == (D("0.00"), D("808.11"))
    for role in (R.REVENUE, R.SALES_RETURNS, R.COST_OF_GOODS, R.ROUNDING):
        debit, credit = balance(acc[role])
        assert debit == credit, role
    # Balance sheet accounts are untouched.
    assert balance(acc[R.RECEIVABLE]) == (D("1513.17"), D("0.00"))
    fiscal_year.refresh_from_db()
    assert fiscal_year.state == PeriodState.CLOSED
    assert set(fiscal_year.periods.values_list("state", flat=True)) == {PeriodState.CLOSED}
    # The year stays closed: no posting, no reopening, no second closing.
    with pytest.raises(Conflict):
        sale(company, acc, on=datetime.date(last, 5, 5))
    with pytest.raises(Conflict) as exc:
        services.period_reopen(actor=admin, period_id=december.pk)
    assert exc.value.code == "fiscal_year_closed"
    before = counts()
    with pytest.raises(Conflict):
        services.fiscal_year_close(actor=admin, fiscal_year_id=fiscal_year.pk)
    assert counts() == before


def test_fiscal_year_close_with_a_loss_debits_retained_earnings_and_opens_next_year(company, acc):
    admin = actor_build(company)
    fiscal_year = FiscalYear.objects.get(company=company, start_date=datetime.date(YEAR, 1, 1))
    entry_post(
        actor=None,
        company=company,
        journal_kind=JournalKind.GENERAL,
        date=DAY,
        lines=[LineSpec(acc[R.BAD_DEBT].pk, debit=D("99.99")), LineSpec(acc[R.RECEIVABLE].pk, credit=D("99.99"))],
    )
    assert not FiscalYear.objects.filter(company=company, start_date=datetime.date(YEAR + 1, 1, 1)).exists()
    services.fiscal_year_close(actor=admin, fiscal_year_id=fiscal_year.pk)
    assert balance(acc[R.RETAINED_EARNINGS]) == (D("99.99"), D("0.00"))
    assert balance(acc[R.BAD_DEBT]) == (D("99.99"), D("99.99"))
    assert FiscalYear.objects.get(company=company, start_date=datetime.date(YEAR + 1, 1, 1)).periods.count() == 12


def test_fiscal_year_close_refused_with_drafts_or_without_permission(company, acc):
    admin = actor_build(company)
    fiscal_year = FiscalYear.objects.get(company=company, start_date=datetime.date(YEAR, 1, 1))
    before = counts()
    with pytest.raises(PermissionDenied):
        services.fiscal_year_close(actor=actor_build(company, Role.MANAGER), fiscal_year_id=fiscal_year.pk)
    assert counts() == before
    services.entry_draft_create(
        actor=admin,
        company=company,
        journal_id=services.journal_for(company.pk, JournalKind.GENERAL).pk,
        date=DAY,
        lines=[LineSpec(acc[R.BANK].pk, debit=D("1"))],
    )
    before = counts()
    with pytest.raises(Conflict) as exc:
        services.fiscal_year_close(actor=admin, fiscal_year_id=fiscal_year.pk)
    assert exc.value.code == "fiscal_year_has_drafts"
    assert counts() == before


# --- exchange rates ---------------------------------------------------------------------------


def test_rate_set_and_rate_for(company):
    finance = actor_build(company, Role.FINANCE)
    services.rate_set(actor=finance, company=company, currency="USD", date="2026-01-10", rate="0.912345")
    services.rate_set(actor=finance, company=company, currency="USD", date=datetime.date(2026, 2, 1), rate=D("0.95"))
    assert services.rate_for(company.pk, "USD", datetime.date(2026, 1, 31)) == D("0.912345")
    assert services.rate_for(company.pk, "USD", datetime.date(2026, 2, 1)) == D("0.950000")
    assert services.rate_for(company.pk, "EUR", datetime.date(2026, 2, 1)) == D(1)
    with pytest.raises(NotFound) as exc:
        services.rate_for(company.pk, "USD", datetime.date(2026, 1, 9))
    assert exc.value.message == "No exchange rate of USD on or before 2026-01-09: record one first."
    # Setting the same day again replaces it.
    services.rate_set(actor=finance, company=company, currency="USD", date="2026-02-01", rate="0.96")
    assert ExchangeRate.objects.filter(company=company).count() == 2
    assert services.rate_for(company.pk, "USD", datetime.date(2026, 3, 1)) == D("0.960000")


@pytest.mark.parametrize(
    "currency, rate, field",
    [("EUR", "1", "currency"), ("XXX", "1", "currency"), ("USD", "0", "rate"), ("USD", "1.1234567", "rate")],
)
def test_rate_set_refusals(company, currency, rate, field):
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        services.rate_set(actor=actor_build(company), company=company, currency=currency, date="2026-01-01", rate=rate)
    assert field in exc.value.fields
    with pytest.raises(PermissionDenied):
        services.rate_set(
            actor=actor_build(company, Role.MANAGER), company=company, currency="USD", date="2026-01-01", rate="1"
        )
    assert counts() == before


@pytest.mark.parametrize(
    "amount, booked, paid, expected",
    [
        ("1000.00", "0.900000", "0.950000", "50.00"),
        ("1000.00", "0.950000", "0.900000", "-50.00"),
        ("333.33", "5.123456", "5.123457", "0.00"),
        ("1000.00", "5.123455", "5.123460", "0.01"),  # 0.005 rounds half up
        ("-1000.00", "5.123455", "5.123460", "-0.01"),
    ],
)
def test_exchange_difference(amount, booked, paid, expected):
    assert services.exchange_difference(D(amount), D(booked), D(paid)) == D(expected)


# --- manual entries ---------------------------------------------------------------------------


def test_manual_draft_create_update_post(company, acc):
    finance = actor_build(company, Role.FINANCE)
    journal = services.journal_for(company.pk, JournalKind.GENERAL)
    draft = services.entry_draft_create(
        actor=finance,
        company=company,
        journal_id=journal.pk,
        date=DAY,
        reference="CAP",
        description="Capital",
        lines=[LineSpec(acc[R.BANK].pk, debit=D("3000"))],  # not balanced yet: fine for a draft
    )
    assert (draft.state, draft.number, draft.total) == (EntryState.DRAFT, "", D("3000.00"))
    assert balance(acc[R.BANK]) == (D("0.00"), D("0.00"))
    with pytest.raises(ValidationFailed):
        services.entry_draft_post(actor=finance, entry_id=draft.pk)
    services.entry_draft_update(
        actor=finance,
        entry_id=draft.pk,
        journal_id=journal.pk,
        date=DAY,
        reference="CAP",
        description="Share capital paid in",
        lines=[
            {"account_id": acc[R.BANK].pk, "debit": "3000.00"},
            {"account_id": acc[R.EQUITY].pk, "credit": "3000.00"},
        ],
    )
    posted = services.entry_draft_post(actor=finance, entry_id=draft.pk)
    assert posted.pk == draft.pk
    assert (posted.state, posted.number, posted.description) == (
        EntryState.POSTED,
        f"GEN/{YEAR}/000001",
        "Share capital paid in",
    )
    assert posted.posted_by_id == finance.user.pk
    assert balance(acc[R.BANK]) == (D("3000.00"), D("0.00"))
    assert balance(acc[R.EQUITY]) == (D("0.00"), D("3000.00"))
    assert list(posted.lines.values_list("posted", flat=True)) == [True, True]
    actions = set(
        AuditLog.objects.filter(object_id=str(draft.pk), object_type="ledger.journalentry").values_list(
            "action", flat=True
        )
    )
    assert actions == {"journalentry.create", "journalentry.update", "journalentry.post"}


def test_manual_draft_delete(company, acc):
    finance = actor_build(company, Role.FINANCE)
    draft = services.entry_draft_create(
        actor=finance,
        company=company,
        journal_id=services.journal_for(company.pk, JournalKind.GENERAL).pk,
        date=DAY,
        lines=[LineSpec(acc[R.BANK].pk, debit=D("1"))],
    )
    services.entry_draft_delete(actor=finance, entry_id=draft.pk)
    assert not JournalEntry.objects.filter(pk=draft.pk).exists()
    assert JournalLine.objects.count() == 0


@pytest.mark.parametrize("role", [Role.MANAGER, Role.SALES, Role.WAREHOUSE, Role.HR])
def test_manual_entries_need_ledger_post(company, acc, role):
    actor = actor_build(company, role)
    before = counts()
    with pytest.raises(PermissionDenied):
        services.entry_draft_create(
            actor=actor,
            company=company,
            journal_id=services.journal_for(company.pk, JournalKind.GENERAL).pk,
            date=DAY,
            lines=[LineSpec(acc[R.BANK].pk, debit=D("1"))],
        )
    assert counts() == before


def test_partner_accountant_may_post_manual_entries(company, acc):
    partner = actor_build(company, Role.PARTNER, areas=["accounting"])
    draft = services.entry_draft_create(
        actor=partner,
        company=company,
        journal_id=services.journal_for(company.pk, JournalKind.GENERAL).pk,
        date=DAY,
        lines=[LineSpec(acc[R.BANK].pk, debit=D("1")), LineSpec(acc[R.EQUITY].pk, credit=D("1"))],
    )
    assert services.entry_draft_post(actor=partner, entry_id=draft.pk).state == EntryState.POSTED
    with pytest.raises(PermissionDenied):
        services.period_close(actor=partner, period_id=draft.period_id)


def test_balance_rows_are_locked_in_key_order_then_updated_in_one_statement(company, acc):
    sale(company, acc)
    with CaptureQueriesContext(connection) as ctx:
        sale(company, acc)
    balance_sql = [q["sql"] for q in ctx.captured_queries if "ledger_accountbalance" in q["sql"]]
    assert len(balance_sql) == 2
    lock, update = balance_sql
    assert lock.startswith("SELECT") and 'ORDER BY "ledger_accountbalance"."id" ASC' in lock
    assert update.startswith("UPDATE") and "CASE WHEN" in update
    period_sql = next(q["sql"] for q in ctx.captured_queries if 'FROM "ledger_period"' in q["sql"])
    if connection.vendor == "postgresql":
        assert lock.endswith("FOR UPDATE")
        assert 'FOR UPDATE OF "ledger_period"' in period_sql


@pytest.mark.django_db(transaction=True)
def test_concurrent_postings_and_matches_on_postgresql():
    """Ten postings and six matches at once, each thread on its own connection: numbers stay
    gap-free, balances add up, and matches never take more than the open 121.00."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL run only; SQLite serialises writers with BEGIN IMMEDIATE")
    import threading

    from django.db import connections

    company = company_build()
    acc = accounts(company)
    customer = party_build(company)
    invoice = sale(company, acc, party=customer)
    receivable = invoice.lines.get(position=1).pk
    payments = [payment(company, acc, "30.00", party=customer).lines.get(position=2).pk for _ in range(6)]
    errors, refused, start = [], [], threading.Barrier(16)

    def work(index):
        try:
            start.wait()
            if index < 10:
                sale(company, acc, net="10.00", tax="2.10")
            else:
                try:
                    services.reconcile(
                        actor=None, company=company, pairs=[(receivable, payments[index - 10], D("30.00"))]
                    )
                except Conflict:
                    refused.append(index)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    numbers = sorted(JournalEntry.objects.filter(company=company, journal__code="VEN").values_list("number", flat=True))
    assert numbers == [f"VEN/{YEAR}/{n:06d}" for n in range(1, 12)]
    assert balance(acc[R.RECEIVABLE]) == (D("121.00") + 10 * D("12.10"), D("180.00"))
    assert len(refused) == 2
    assert JournalLine.objects.get(pk=receivable).residual == D("1.00")
    assert sum(Reconciliation.objects.filter(debit_line_id=receivable).values_list("amount", flat=True)) == D("120.00")
