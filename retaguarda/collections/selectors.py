"""Reads of collections with business meaning: payments and their allocations, bank accounts
and statements, what a party still owes or is owed (open invoices, credits, balance), and the
aging of open items as of a date. Scoped to the actor's company and checked against
`collections.view`, except the helpers the services call with a company."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from retaguarda.billing.choices import InvoiceKind, InvoiceStatus
from retaguarda.billing.models import Invoice
from retaguarda.common.errors import NotFound
from retaguarda.common.inputs import valid_id
from retaguarda.core.models import Company
from retaguarda.core.permissions import Actor, require
from retaguarda.ledger.choices import AccountRole
from retaguarda.ledger.models import JournalLine, Reconciliation
from retaguarda.parties.models import Party

from . import matching
from .calculations import AGING_BUCKET_LABELS, AGING_BUCKETS, aging_summarise
from .choices import Direction, PaymentKind, PaymentStatus, Side, StatementLineStatus
from .filters import PAYMENT_LISTING, STATEMENT_LINE_LISTING
from .models import BankAccount, BankStatement, BankStatementLine, Payment, PaymentAllocation

ZERO = Decimal("0.00")
SIDE_ROLES = {Side.RECEIVABLE: AccountRole.RECEIVABLE, Side.PAYABLE: AccountRole.PAYABLE}
INVOICE_KINDS = {Side.RECEIVABLE: InvoiceKind.CUSTOMER_INVOICE, Side.PAYABLE: InvoiceKind.SUPPLIER_BILL}
CREDIT_NOTE_KINDS = {Side.RECEIVABLE: InvoiceKind.CUSTOMER_CREDIT_NOTE, Side.PAYABLE: InvoiceKind.SUPPLIER_CREDIT_NOTE}


# --- payments -------------------------------------------------------------------------------------


def payment_queryset(actor: Actor) -> QuerySet[Payment]:
    return Payment.objects.filter(company=actor.company).select_related("party", "bank_account")


def payment_search(actor: Actor, params) -> QuerySet[Payment]:
    """The list page's and the API's search: PAYMENT_LISTING's filters and sort on `params`."""
    require(actor, "collections.view")
    queryset = PAYMENT_LISTING.filter(payment_queryset(actor), params)
    queryset, _sort = PAYMENT_LISTING.sort(queryset, params.get("sort"))
    return queryset


def _allocations_prefetch(lookup: str) -> Prefetch:
    return Prefetch(
        lookup,
        queryset=PaymentAllocation.objects.select_related("invoice", "credit_note", "refund", "payment").order_by("pk"),
        to_attr=f"prefetched_{lookup}",
    )


def payment_get(actor: Actor, payment_id) -> Payment:
    """One payment of the actor's company with its allocations (as `prefetched_allocations`
    where it gave money or credit, `prefetched_refund_allocations` where it is a refund)."""
    require(actor, "collections.view")
    pk = valid_id(payment_id)
    payment = (
        payment_queryset(actor)
        .select_related("journal_entry", "reversal_entry", "statement_line")
        .prefetch_related(_allocations_prefetch("allocations"), _allocations_prefetch("refund_allocations"))
        .filter(pk=pk or 0)
        .first()
    )
    if payment is None:
        raise NotFound(_("No such payment."))
    return payment


# --- bank accounts and statements ---------------------------------------------------------------


def bank_accounts_for(actor: Actor, *, active_only: bool = False) -> QuerySet[BankAccount]:
    require(actor, "collections.view")
    queryset = BankAccount.objects.filter(company=actor.company).select_related("account", "journal")
    return queryset.filter(is_active=True) if active_only else queryset


def bank_account_get(actor: Actor, bank_account_id) -> BankAccount:
    bank_account = bank_accounts_for(actor).filter(pk=valid_id(bank_account_id) or 0).first()
    if bank_account is None:
        raise NotFound(_("No such bank account."))
    return bank_account


def statements_for(actor: Actor, *, bank_account_id=None) -> QuerySet[BankStatement]:
    require(actor, "collections.view")
    queryset = BankStatement.objects.filter(company=actor.company).select_related("bank_account", "imported_by")
    if bank_account_id is not None:
        queryset = queryset.filter(bank_account_id=valid_id(bank_account_id) or 0)
    return queryset


def statement_get(actor: Actor, statement_id, *, with_lines: bool = True) -> BankStatement:
    """One statement, with its lines unless `with_lines` is false (as `prefetched_lines`, in
    file order, with their payments)."""
    statements = statements_for(actor)
    if with_lines:
        statements = statements.prefetch_related(
            Prefetch(
                "lines",
                queryset=BankStatementLine.objects.select_related("payment").order_by("position"),
                to_attr="prefetched_lines",
            )
        )
    statement = statements.filter(pk=valid_id(statement_id) or 0).first()
    if statement is None:
        raise NotFound(_("No such statement."))
    return statement


def statement_line_search(actor: Actor, params) -> QuerySet[BankStatementLine]:
    """Statement lines to reconcile: STATEMENT_LINE_LISTING's filters (status, statement, bank
    account) and sort on `params`."""
    require(actor, "collections.view")
    queryset = BankStatementLine.objects.filter(company=actor.company).select_related(
        "statement", "bank_account", "payment"
    )
    queryset = STATEMENT_LINE_LISTING.filter(queryset, params)
    queryset, _sort = STATEMENT_LINE_LISTING.sort(queryset, params.get("sort"))
    return queryset


def statement_line_get(actor: Actor, line_id) -> BankStatementLine:
    require(actor, "collections.view")
    line = (
        BankStatementLine.objects.filter(company=actor.company, pk=valid_id(line_id) or 0)
        .select_related("statement", "bank_account", "payment")
        .first()
    )
    if line is None:
        raise NotFound(_("No such statement line."))
    return line


def unmatched_count(actor: Actor) -> int:
    require(actor, "collections.view")
    return BankStatementLine.objects.filter(company=actor.company, status=StatementLineStatus.UNMATCHED).count()


# --- what a party owes or is owed ---------------------------------------------------------------


def open_invoices_for(actor: Actor, party_id, *, side: str = Side.RECEIVABLE, currency: str | None = None):
    """The party's posted invoices (or bills) still open, oldest due first."""
    require(actor, "collections.view")
    queryset = Invoice.objects.filter(
        company=actor.company,
        party_id=valid_id(party_id) or 0,
        kind=INVOICE_KINDS.get(side, InvoiceKind.CUSTOMER_INVOICE),
        status=InvoiceStatus.POSTED,
        residual__gt=0,
    )
    if currency:
        queryset = queryset.filter(currency=currency)
    return queryset.order_by("due_date", "issue_date", "pk")


@dataclass(frozen=True)
class PartyCredits:
    payments: list  # payments with a part not allocated yet
    credit_notes: list  # posted credit notes with an open amount

    @property
    def totals(self) -> dict[str, Decimal]:
        """Credit per currency."""
        totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for payment in self.payments:
            totals[payment.currency] += payment.unapplied
        for note in self.credit_notes:
            totals[note.currency] += note.residual
        return dict(totals)


def party_credits(actor: Actor, party_id, *, side: str = Side.RECEIVABLE) -> PartyCredits:
    """What the party may still use or get back: unapplied payments and open credit notes."""
    require(actor, "collections.view")
    pk = valid_id(party_id) or 0
    payments = Payment.objects.filter(
        company=actor.company,
        party_id=pk,
        status=PaymentStatus.POSTED,
        kind=PaymentKind.PAYMENT,
        direction=Direction.IN if side == Side.RECEIVABLE else Direction.OUT,
        unapplied__gt=0,
    ).order_by("date", "pk")
    notes = Invoice.objects.filter(
        company=actor.company,
        party_id=pk,
        kind=CREDIT_NOTE_KINDS.get(side, InvoiceKind.CUSTOMER_CREDIT_NOTE),
        status=InvoiceStatus.POSTED,
        residual__gt=0,
    ).order_by("issue_date", "pk")
    return PartyCredits(payments=list(payments), credit_notes=list(notes))


def party_for_payment(actor: Actor, party_id, *, side: str = Side.RECEIVABLE) -> Party | None:
    """The active customer (receivables) or supplier (payables) of the company, or None."""
    require(actor, "collections.view")
    pk = valid_id(party_id)
    if pk is None:
        return None
    role = {"is_customer": True} if side == Side.RECEIVABLE else {"is_supplier": True}
    return Party.objects.filter(company=actor.company, pk=pk, is_active=True, **role).first()


def party_lookup(actor: Actor, q: str, *, side: str = Side.RECEIVABLE) -> QuerySet[Party]:
    """Active customers (or suppliers) whose name, tax id or e-mail contains every word of `q`."""
    require(actor, "collections.view")
    role = {"is_customer": True} if side == Side.RECEIVABLE else {"is_supplier": True}
    queryset = Party.objects.filter(company=actor.company, is_active=True, **role)
    for term in (q or "").replace("\x00", "").split()[:5]:
        queryset = queryset.filter(
            Q(legal_name__icontains=term)
            | Q(trade_name__icontains=term)
            | Q(tax_id__icontains=term)
            | Q(email__icontains=term)
        )
    return queryset.order_by("legal_name", "pk")


# --- matching inputs ----------------------------------------------------------------------------


def matching_open_items(company: Company) -> tuple[list[matching.OpenItem], dict[int, Invoice]]:
    """The open customer invoices and supplier bills of the company as matching's OpenItems
    (keyed by invoice id), and the invoices by id."""
    invoices = {
        invoice.pk: invoice
        for invoice in Invoice.objects.filter(
            company=company,
            kind__in=(InvoiceKind.CUSTOMER_INVOICE, InvoiceKind.SUPPLIER_BILL),
            status=InvoiceStatus.POSTED,
            residual__gt=0,
        )
        .select_related("party")
        .order_by("pk")
    }
    items = [
        matching.OpenItem(
            key=invoice.pk,
            party_id=invoice.party_id,
            party_name=invoice.party.legal_name,
            number=invoice.number,
            reference=invoice.supplier_reference,
            residual=invoice.residual,
            due_date=invoice.due_date,
            currency=invoice.currency,
            side=matching.RECEIVABLE if invoice.kind == InvoiceKind.CUSTOMER_INVOICE else matching.PAYABLE,
        )
        for invoice in invoices.values()
    ]
    return items, invoices


def party_ibans(company: Company) -> dict[str, int]:
    """IBANs the company has seen each party pay from (or be paid to): the counterparty accounts
    of statement lines matched to the party's payments, the latest match winning."""
    rows = (
        BankStatementLine.objects.filter(company=company, status=StatementLineStatus.MATCHED, payment__isnull=False)
        .exclude(counterparty_account="")
        .order_by("pk")
        .values_list("counterparty_account", "payment__party_id")
    )
    return dict(rows)


# --- aging and balances ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AgingRow:
    party_id: int
    party_name: str
    buckets: dict[str, Decimal]
    total: Decimal

    @property
    def bucket_list(self) -> list[Decimal]:
        return [self.buckets[code] for code in AGING_BUCKETS]

    @property
    def overdue(self) -> Decimal:
        return self.total - self.buckets[AGING_BUCKETS[0]]


@dataclass(frozen=True)
class AgingReport:
    as_of: datetime.date
    side: str
    currency: str
    rows: list[AgingRow]
    totals: dict[str, Decimal]
    total: Decimal
    buckets: tuple[str, ...] = AGING_BUCKETS
    labels: dict = field(default_factory=lambda: dict(AGING_BUCKET_LABELS))

    @property
    def total_list(self) -> list[Decimal]:
        return [self.totals[code] for code in AGING_BUCKETS]


def _open_items_as_of(
    company: Company, *, side: str, as_of: datetime.date, party_id: int | None = None
) -> list[tuple[int, datetime.date, Decimal]]:
    """(party id or 0, due date, amount owed) of each open item of the side's account as it
    stood at the end of `as_of`: lines dated that day or before, with what later matches took
    from them given back. Amounts are positive when owed to the company on receivables and
    when owed by it on payables; credits are negative and dated `as_of` (not yet due). Three
    queries whatever the number of items."""
    role = SIDE_ROLES[side]
    sign = 1 if side == Side.RECEIVABLE else -1
    lines = JournalLine.objects.filter(company=company, account__role=role, posted=True, date__lte=as_of)
    if party_id is not None:
        lines = lines.filter(party_id=party_id)
    open_amounts: dict[int, list] = {}
    for pk, party, due_date, on_date, residual in lines.exclude(residual=0).values_list(
        "pk", "party_id", "due_date", "date", "residual"
    ):
        open_amounts[pk] = [party or 0, due_date or on_date, residual]
    # Matches made with lines dated after `as_of` had not happened yet on that day.
    later = Reconciliation.objects.filter(company=company)
    if party_id is not None:
        later = later.filter(debit_line__party_id=party_id)
    # Start from the few lines dated after `as_of` (the account-and-date index finds them), not
    # from every match of the books: at a million lines that is the difference that matters.
    after = JournalLine.objects.filter(company=company, account__role=role, date__gt=as_of).values("pk")
    for prefix, other, factor in (("debit_line", "credit_line", 1), ("credit_line", "debit_line", -1)):
        rows = (
            later.filter(**{f"{other}_id__in": after, f"{prefix}__date__lte": as_of})
            .values_list(f"{prefix}_id", f"{prefix}__party_id", f"{prefix}__due_date", f"{prefix}__date")
            .annotate(total=Sum("amount"))
            .order_by()
        )
        for pk, party, due_date, on_date, total in rows:
            item = open_amounts.setdefault(pk, [party or 0, due_date or on_date, ZERO])
            item[2] += factor * total
    items = []
    for party, due, amount in open_amounts.values():
        amount *= sign
        if amount:
            # A credit (an unapplied payment, a credit note) is the party's to use now: it ages
            # as not yet due, whenever it was booked.
            items.append((party, due if amount > 0 else as_of, amount))
    return items


def aging(actor: Actor, *, as_of: datetime.date | None = None, side: str = Side.RECEIVABLE) -> AgingReport:
    """What each party owed (receivables) or was owed (payables) at the end of `as_of` (default
    today), by how long overdue, from the ledger's open items; a party's unapplied credits count
    as not yet due. Amounts in the company's currency; parties by name."""
    require(actor, "collections.view")
    as_of = as_of or timezone.localdate()
    side = side if side in Side.values else Side.RECEIVABLE
    items = _open_items_as_of(actor.company, side=side, as_of=as_of)
    summary = aging_summarise(iter(items), as_of)
    totals = summary.pop(None)
    names = dict(Party.objects.filter(company=actor.company, pk__in=list(summary)).values_list("pk", "legal_name"))
    rows = [
        AgingRow(
            party_id=party_id,
            party_name=names.get(party_id, _("No party")),
            buckets=buckets,
            total=sum(buckets.values(), ZERO),
        )
        for party_id, buckets in summary.items()
    ]
    rows.sort(key=lambda row: (row.party_name.lower(), row.party_id))
    return AgingReport(
        as_of=as_of,
        side=side,
        currency=actor.company.base_currency,
        rows=rows,
        totals=totals,
        total=sum(totals.values(), ZERO),
    )


@dataclass(frozen=True)
class PartyBalance:
    party_id: int
    currency: str  # the company's
    as_of: datetime.date
    balance: Decimal  # owed to the company, less the party's unapplied credit
    overdue: Decimal  # of which past due
    credit: Decimal  # unapplied payments and open credit notes, as a positive amount
    buckets: dict[str, Decimal]


def customer_balance(actor: Actor, party_id, *, as_of: datetime.date | None = None) -> PartyBalance:
    """What a customer owes the company (in its currency) from the ledger's receivables."""
    require(actor, "collections.view")
    pk = valid_id(party_id)
    if pk is None or not Party.objects.filter(company=actor.company, pk=pk).exists():
        raise NotFound(_("No such customer or supplier."))
    return _balance(actor.company, pk, as_of or timezone.localdate())


def _balance(company: Company, party_id: int, as_of: datetime.date) -> PartyBalance:
    items = _open_items_as_of(company, side=Side.RECEIVABLE, as_of=as_of, party_id=party_id)
    buckets = aging_summarise(iter(items), as_of)[None]
    owed = sum((amount for _p, _d, amount in items if amount > 0), ZERO)
    credit = -sum((amount for _p, _d, amount in items if amount < 0), ZERO)
    overdue = sum((amount for _p, due, amount in items if amount > 0 and due < as_of), ZERO)
    return PartyBalance(
        party_id=party_id,
        currency=company.base_currency,
        as_of=as_of,
        balance=owed - credit,
        overdue=overdue,
        credit=credit,
        buckets=buckets,
    )


HISTORY_LENGTH = 10


def customer_history(actor: Actor, party: Party, *, limit: int = HISTORY_LENGTH) -> dict:
    """The customer page's payments section: balance, overdue and credit, the latest invoices
    and credit notes, and the latest payments and refunds (a fixed number of queries)."""
    require(actor, "collections.view")
    documents = list(
        Invoice.objects.filter(
            company=actor.company,
            party=party,
            kind__in=(InvoiceKind.CUSTOMER_INVOICE, InvoiceKind.CUSTOMER_CREDIT_NOTE),
            status__in=(InvoiceStatus.POSTED, InvoiceStatus.CANCELLED),
        ).order_by("-issue_date", "-pk")[: limit + 1]
    )
    customer_side = Q(kind=PaymentKind.PAYMENT, direction=Direction.IN) | Q(
        kind=PaymentKind.REFUND, direction=Direction.OUT
    )
    payments = list(
        Payment.objects.filter(customer_side, company=actor.company, party=party).order_by("-date", "-pk")[: limit + 1]
    )
    return {
        "balance": _balance(actor.company, party.pk, timezone.localdate()),
        "documents": documents[:limit],
        "more_documents": len(documents) > limit,
        "payments": payments[:limit],
        "more_payments": len(payments) > limit,
    }
