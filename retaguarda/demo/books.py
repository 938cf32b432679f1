"""The demo store's money side, after its year of orders: the opening balances, every shipped
order invoiced on its shipping day, most invoices paid (some late, some in part), customers
overdue at every dunning level, a bank statement waiting to be reconciled, past months closed,
and today's dunning run sent.

Shipping posts cost of goods "today" like every service; the load then dates those entries to
their shipping days, numbers the stock journal again in date order, and rebuilds the balances.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from retaguarda.billing.models import Invoice
from retaguarda.billing.services import credit_note_create, invoice_issue_for_order, invoice_post
from retaguarda.collections.services import bank_account_create, payment_register, statement_import
from retaguarda.common.errors import Conflict
from retaguarda.core.models import Sequence
from retaguarda.dunning.services import dunning_run, dunning_run_send
from retaguarda.fulfilment.models import CustomerReturn, Shipment
from retaguarda.inventory.models import StockMove
from retaguarda.ledger.choices import AccountRole, JournalKind, PeriodState
from retaguarda.ledger.models import AccountBalance, JournalEntry, JournalLine, Period
from retaguarda.ledger.services import (
    LineSpec,
    accounts_by_role,
    entry_post,
    fiscal_year_close,
    fiscal_year_ensure,
    journal_for,
    period_close,
)

IBANS = {"ES": "ES9121000418450200051332", "BR": ""}
BANK_NAMES = {"ES": "CaixaBank cuenta corriente", "BR": "Itaú conta corrente"}
OPENING_CASH = Decimal("25000.00")
# Unpaid invoices kept at these days past due, so every dunning level has customers.
OVERDUE_DAYS = (9, 12, 24, 27, 48, 52, 66, 75)
PAID_SHARE = 0.9


def books_load(*, actor, spec, ops, rng: random.Random) -> dict:
    company = actor.company
    today = timezone.localdate()
    first_day = min((day for _order, day in ops.orders), default=today)
    for year in range(first_day.year, today.year + 1):
        fiscal_year_ensure(company=company, year=year)
    bank = bank_account_create(actor=actor, name=BANK_NAMES[spec.country], iban=IBANS.get(spec.country, ""))
    _opening_post(actor, first_day - datetime.timedelta(days=1))
    _stock_entries_redate(company)
    invoices = _invoices_issue(actor, ops)
    notes = _credit_notes_issue(actor)
    paid, partial = _payments_register(actor, invoices, bank, rng, today)
    statement_lines = _statement_import(actor, bank, invoices, today, spec)
    closed = _books_close(actor, today)
    run = dunning_run(actor=actor, company=company, as_of=today, preview=False)
    if run.status != "sent":
        dunning_run_send(actor=actor, run_id=run.pk)
    return {
        "invoices": len(invoices),
        "credit_notes": notes,
        "payments": paid,
        "partial_payments": partial,
        "statement_lines": statement_lines,
        "closed_periods": closed,
    }


def _opening_post(actor, day: datetime.date) -> None:
    """The store's position the day before its history: the stock it held and its cash, against
    its capital."""
    company = actor.company
    roles = accounts_by_role(company.pk)
    stock = Decimal(0)
    for quantity, cost in StockMove.objects.filter(company=company, reason__in=("initial", "receipt")).values_list(
        "quantity", "unit_cost"
    ):
        stock += quantity * cost
    stock = stock.quantize(Decimal("0.01"))
    entry_post(
        actor=actor,
        company=company,
        journal_kind=JournalKind.GENERAL,
        date=day,
        lines=[
            LineSpec(account_id=roles[AccountRole.INVENTORY].pk, debit=stock),
            LineSpec(account_id=roles[AccountRole.BANK].pk, debit=OPENING_CASH),
            LineSpec(account_id=roles[AccountRole.EQUITY].pk, credit=stock + OPENING_CASH),
        ],
        reference="OPEN",
        description="Opening balances",
    )


@transaction.atomic
def _stock_entries_redate(company) -> None:
    """Date each shipment's and return's cost entry to the day the goods moved, number the stock
    journal again in date order, and rebuild every balance from the lines."""
    today = timezone.localdate()
    days = {}
    for pk, shipped_at in Shipment.objects.filter(company=company, shipped_at__isnull=False).values_list(
        "pk", "shipped_at"
    ):
        days[("fulfilment.shipment", str(pk))] = timezone.localdate(shipped_at)
    for pk, received_at in CustomerReturn.objects.filter(company=company, received_at__isnull=False).values_list(
        "pk", "received_at"
    ):
        days[("fulfilment.return", str(pk))] = timezone.localdate(received_at)
    periods = list(Period.objects.filter(company=company).select_related("fiscal_year"))

    def period_of(day):
        return next(p for p in periods if p.start_date <= day <= p.end_date)

    journal = journal_for(company.pk, JournalKind.STOCK)
    entries = list(JournalEntry.objects.filter(company=company, journal=journal))
    for entry in entries:
        entry.date = days.get((entry.source_type, entry.source_id), entry.date if entry.date <= today else today)
    entries.sort(key=lambda e: (e.date, e.pk))
    for entry in entries:
        entry.period = period_of(entry.date)
        entry.number = f"#{entry.pk}"  # out of the way while numbers are swapped
    JournalEntry.objects.bulk_update(entries, ["date", "period", "number"])
    counters: dict[int, int] = {}
    for entry in entries:
        year = entry.period.start_date.year
        counters[year] = counters.get(year, 0) + 1
        entry.number = f"{journal.code}/{year}/{counters[year]:06d}"
        JournalLine.objects.filter(entry=entry).update(date=entry.date, period=entry.period)
    JournalEntry.objects.bulk_update(entries, ["number"])
    series = f"ledger.journal.{journal.pk}"
    Sequence.objects.filter(company=company, series=series).delete()
    Sequence.objects.bulk_create(
        Sequence(company=company, series=series, year=year, last_number=count) for year, count in counters.items()
    )
    AccountBalance.objects.filter(company=company).delete()
    sums = (
        JournalLine.objects.filter(company=company, posted=True)
        .values("account_id", "period_id")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
        .order_by()
    )
    AccountBalance.objects.bulk_create(
        (
            AccountBalance(
                company=company,
                account_id=total["account_id"],
                period_id=total["period_id"],
                debit=total["debit"],
                credit=total["credit"],
            )
            for total in sums
        ),
        batch_size=500,
    )


def _invoices_issue(actor, ops) -> list[Invoice]:
    """Every shipped order invoiced on the day it shipped, oldest first (so numbers follow dates)."""
    company = actor.company
    shipped = {}
    for order_id, shipped_at in Shipment.objects.filter(company=company, shipped_at__isnull=False).values_list(
        "order_id", "shipped_at"
    ):
        day = timezone.localdate(shipped_at)
        shipped[order_id] = max(shipped.get(order_id, day), day)
    invoices = []
    for order_id, day in sorted(shipped.items(), key=lambda item: (item[1], item[0])):
        try:
            invoices.append(invoice_issue_for_order(actor=actor, order_id=order_id, issue_date=day))
        except Conflict:
            continue  # nothing left to invoice (returned before invoicing)
    return invoices


def _credit_notes_issue(actor) -> int:
    """A credit note for each return received, for what came back."""
    company = actor.company
    count = 0
    for customer_return in CustomerReturn.objects.filter(company=company, received_at__isnull=False).order_by(
        "received_at"
    ):
        invoice = (
            Invoice.objects.filter(order_id=customer_return.order_id, kind="customer_invoice", status="posted")
            .order_by("pk")
            .first()
        )
        if invoice is None:
            continue
        wanted = dict(customer_return.lines.values_list("order_line_id", "quantity"))
        lines = [
            (line.pk, wanted[line.order_line_id])
            for line in invoice.lines.all()
            if line.order_line_id in wanted and wanted[line.order_line_id] <= line.quantity
        ]
        if not lines:
            continue
        try:
            note = credit_note_create(
                actor=actor, invoice_id=invoice.pk, lines=lines, reason=customer_return.get_reason_display()
            )
        except Conflict:
            continue
        day = max(timezone.localdate(customer_return.received_at), invoice.issue_date)
        Invoice.objects.filter(pk=note.pk).update(issue_date=day, due_date=day)
        invoice_post(actor=actor, invoice_id=note.pk)
        count += 1
    return count


def _payments_register(actor, invoices, bank, rng: random.Random, today) -> tuple[int, int]:
    """Most invoices paid between their issue and a little after their due date; a few paid in
    part; the ones whose due date falls on OVERDUE_DAYS left open for dunning; the last week's
    left for the bank statement."""
    company = actor.company
    method = "pix" if company.country == "BR" else "transfer"
    keep_open = set()
    for days in OVERDUE_DAYS:
        target = today - datetime.timedelta(days=days)
        candidates = [i for i in invoices if i.due_date <= target and i.pk not in keep_open]
        if candidates:
            keep_open.add(min(candidates, key=lambda i: abs((i.due_date - target).days)).pk)
    paid = partial = 0
    for invoice in invoices:
        invoice.refresh_from_db(fields=["residual"])
        if invoice.pk in keep_open or invoice.residual <= 0 or invoice.issue_date > today - datetime.timedelta(days=3):
            continue
        if invoice.due_date >= today - datetime.timedelta(days=3) and rng.random() < 0.5:
            continue  # not due yet: some customers pay on the due date, by the bank statement
        if rng.random() > PAID_SHARE:
            continue
        day = min(invoice.issue_date + datetime.timedelta(days=rng.randint(0, 35)), today)
        amount = invoice.residual
        if rng.random() < 0.06:
            amount = (amount / 2).quantize(Decimal("0.01"))
            partial += 1
        payment_register(
            actor=actor,
            party_id=invoice.party_id,
            amount=amount,
            date=day,
            method=method,
            reference=invoice.number,
            bank_account_id=bank.pk,
            allocations=[(invoice.pk, amount)],
        )
        paid += 1
    return paid, partial


def _statement_import(actor, bank, invoices, today, spec) -> int:
    """The bank's statement of the last days: transfers for invoices not yet registered (the
    reconciliation screen proposes them), and a bank fee nobody matched."""
    if spec.country != "ES":
        return 0
    for invoice in invoices:
        invoice.refresh_from_db(fields=["residual", "payment_status"])
    open_recent = [i for i in invoices if i.residual > 0 and i.due_date >= today - datetime.timedelta(days=3)][-6:]
    entries = []
    for n, invoice in enumerate(open_recent):
        if invoice.residual <= 0:
            continue
        entries.append(
            _camt_entry(
                f"DEMO{today:%Y%m%d}{n:03d}",
                invoice.residual,
                "CRDT",
                today,
                invoice.party_snapshot.get("name", ""),
                f"Pago factura {invoice.number}",
            )
        )
    entries.append(
        _camt_entry(f"DEMO{today:%Y%m%d}FEE", Decimal("4.50"), "DBIT", today, "CaixaBank", "Comisión mantenimiento")
    )
    xml = _camt_document(bank.iban, today, entries)
    statement = statement_import(actor=actor, bank_account_id=bank.pk, data=xml.encode(), filename="extracto.xml")
    return statement.lines.count()


def _camt_entry(reference, amount, side, day, name, text) -> str:
    party = "Dbtr" if side == "CRDT" else "Cdtr"
    return (
        f'<Ntry><Amt Ccy="EUR">{amount:.2f}</Amt><CdtDbtInd>{side}</CdtDbtInd><Sts>BOOK</Sts>'
        f"<BookgDt><Dt>{day:%Y-%m-%d}</Dt></BookgDt><ValDt><Dt>{day:%Y-%m-%d}</Dt></ValDt>"
        f"<AcctSvcrRef>{reference}</AcctSvcrRef><NtryDtls><TxDtls><RltdPties><{party}><Nm>{_xml(name)}</Nm>"
        f"</{party}></RltdPties><RmtInf><Ustrd>{_xml(text)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _camt_document(iban, day, entries) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>DEMO-{day:%Y%m%d}</MsgId><CreDtTm>{day:%Y-%m-%d}T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>DEMO-{day:%Y%m%d}</Id><CreDtTm>{day:%Y-%m-%d}T18:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        + "".join(entries)
        + "</Stmt></BkToCstmrStmt></Document>"
    )


def _books_close(actor, today) -> int:
    """Past years closed (their result carried to retained earnings); this year's months closed
    up to the one before last, as a bookkeeper does after each month's checks."""
    company = actor.company
    from retaguarda.ledger.models import FiscalYear

    for year in FiscalYear.objects.filter(company=company, end_date__lt=today, state=PeriodState.OPEN).order_by(
        "start_date"
    ):
        fiscal_year_close(actor=actor, fiscal_year_id=year.pk)
    month_start = today.replace(day=1)
    last_open = (month_start - datetime.timedelta(days=1)).replace(day=1)
    closed = 0
    for period in Period.objects.filter(company=company, state=PeriodState.OPEN, end_date__lt=last_open).order_by(
        "start_date"
    ):
        period_close(actor=actor, period_id=period.pk)
        closed += 1
    return Period.objects.filter(company=company, state=PeriodState.CLOSED).count()
