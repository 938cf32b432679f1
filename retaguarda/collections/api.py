"""Payments and bank reconciliation under /api/v1/collections/.

`POST /payments` (send an `Idempotency-Key`) records money received from a customer (`direction`
"in") or paid to a supplier ("out") and allocates it to the party's invoices: to `allocations`,
or by default to the open ones oldest due first (`"allocations": []` allocates nothing). What is
left is the party's credit (`unapplied`). Bank statements are uploaded as JSON with the file in
base64 (`POST /bank-accounts/{id}/statements`): 409 `statement_already_imported` for the same
statement twice. Money travels as decimal strings with two places ("121.00"), signed where it
can be negative (statement lines: + money in, − money out); rates with six places.
"""

import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import WithJsonSchema

from retaguarda.core.apikit import ERRORS, Pagination

from . import services
from .choices import Side
from .selectors import (
    aging,
    bank_account_get,
    bank_accounts_for,
    customer_balance,
    payment_get,
    payment_search,
    statement_get,
    statement_line_get,
    statement_line_search,
)

router = Router(tags=["collections"])

Number = Annotated[
    str | int | Decimal,
    WithJsonSchema({"type": ["string", "number"], "examples": ["121.00"], "description": "A decimal number."}),
]
MoneyOut = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "examples": ["121.00"]})
]
RateOut = Annotated[str, WithJsonSchema({"type": "string", "pattern": r"^[0-9]+\.[0-9]{6}$", "examples": ["1.000000"]})]


# --- schemas ----------------------------------------------------------------------------------------


class AllocationIn(Schema):
    invoice_id: int
    amount: Number


class PaymentIn(Schema):
    party_id: int
    amount: Number
    date: datetime.date | None = Field(None, description="Defaults to today.")
    direction: str = Field("in", max_length=3, description="in: from a customer; out: to a supplier.")
    method: str = Field("transfer", max_length=16, description="transfer, card, pix, boleto, cash, direct_debit")
    reference: str = Field("", max_length=100)
    bank_account_id: int | None = Field(None, description="Defaults to the bank (or cash) account of the chart.")
    allocations: list[AllocationIn] | None = Field(
        None, max_length=200, description="Invoices and amounts; leave out to pay the oldest due first."
    )
    currency: str | None = Field(None, max_length=3, description="Defaults to the company's currency.")
    rate: Number | None = Field(None, description="Defaults to the latest recorded rate of the date.")
    notes: str = Field("", max_length=200)


class RefundIn(Schema):
    party_id: int
    amount: Number
    date: datetime.date | None = None
    direction: str = Field("out", max_length=3, description="out: to a customer; in: from a supplier.")
    method: str = Field("transfer", max_length=16)
    reference: str = Field("", max_length=100)
    bank_account_id: int | None = None
    payment_id: int | None = Field(None, description="The payment whose credit is paid back.")
    credit_note_id: int | None = Field(None, description="The credit note paid back.")
    currency: str | None = Field(None, max_length=3)
    rate: Number | None = None
    notes: str = Field("", max_length=200)


class CreditApplyIn(Schema):
    party_id: int
    invoice_id: int
    amount: Number
    payment_id: int | None = None
    credit_note_id: int | None = None
    date: datetime.date | None = None


class CancelIn(Schema):
    reason: str = Field(..., max_length=150)


class BankAccountIn(Schema):
    name: str = Field(..., max_length=100)
    iban: str = Field("", max_length=50)
    currency: str | None = Field(None, max_length=3)
    account_id: int | None = None
    journal_id: int | None = None


class StatementUploadIn(Schema):
    filename: str = Field("", max_length=255, description="The file's name; its extension helps tell the format.")
    content_base64: str = Field(..., max_length=30_000_000, description="The file (CAMT.053, OFX or CSV) in base64.")


class ConfirmIn(Schema):
    party_id: int | None = Field(None, description="Defaults to the allocated invoices' or the proposal's party.")
    allocations: list[AllocationIn] | None = Field(None, max_length=200, description="Defaults to the proposal.")
    method: str = Field("transfer", max_length=16)


class PaymentPartyOut(Schema):
    id: int
    name: str


class AllocationOut(Schema):
    id: int
    date: datetime.date
    amount: MoneyOut
    amount_base: MoneyOut
    payment_id: int | None
    credit_note_id: int | None
    credit_note_number: str | None
    invoice_id: int | None
    invoice_number: str | None
    refund_id: int | None
    reversed: bool


class PaymentOut(Schema):
    id: int
    number: str
    kind: str
    direction: str
    status: str
    party: PaymentPartyOut
    date: datetime.date
    amount: MoneyOut
    currency: str
    rate: RateOut
    amount_base: MoneyOut
    method: str
    reference: str
    bank_account_id: int | None
    unapplied: MoneyOut
    journal_entry: str
    statement_line_id: int | None
    cancelled_at: datetime.datetime | None
    cancel_reason: str
    allocations: list[AllocationOut]


class PaymentSummaryOut(Schema):
    id: int
    number: str
    kind: str
    direction: str
    status: str
    party_id: int
    party_name: str
    date: datetime.date
    amount: MoneyOut
    currency: str
    method: str
    reference: str
    unapplied: MoneyOut


class PaymentQuery(Schema):
    q: str | None = None
    direction: str | None = None
    kind: str | None = None
    status: str | None = None
    method: str | None = None
    party: str | None = None
    bank_account: str | None = None
    sort: str | None = None


class BankAccountOut(Schema):
    id: int
    name: str
    iban: str
    currency: str
    account_code: str
    journal_code: str
    is_active: bool


class ProposalAllocationOut(Schema):
    invoice_id: int
    number: str
    amount: MoneyOut


class ProposalOut(Schema):
    party_id: int
    party_name: str
    score: int
    reasons: list[str]
    allocations: list[ProposalAllocationOut]


class StatementLineOut(Schema):
    id: int
    statement_id: int
    position: int
    booking_date: datetime.date
    value_date: datetime.date | None
    amount: MoneyOut
    currency: str
    counterparty_name: str
    counterparty_account: str
    reference: str
    bank_reference: str
    status: str
    payment_id: int | None
    proposal: ProposalOut | None


class StatementOut(Schema):
    id: int
    bank_account_id: int
    statement_id: str
    format: str
    currency: str
    start_date: datetime.date | None
    end_date: datetime.date | None
    opening_balance: MoneyOut | None
    closing_balance: MoneyOut | None
    filename: str
    imported_at: datetime.datetime
    line_count: int
    skipped_count: int
    lines: list[StatementLineOut]


class StatementLineQuery(Schema):
    status: str | None = Field(None, description="unmatched, matched or ignored")
    statement: str | None = None
    bank_account: str | None = None
    q: str | None = None
    sort: str | None = None


class AgingQuery(Schema):
    as_of: datetime.date | None = Field(None, description="Defaults to today.")
    side: Literal["receivable", "payable"] = "receivable"


class AgingRowOut(Schema):
    party_id: int
    party_name: str
    buckets: dict[str, MoneyOut]
    total: MoneyOut


class AgingOut(Schema):
    as_of: datetime.date
    side: str
    currency: str
    buckets: list[str] = Field(description="current, 1_30, 31_60, 61_90, over_90 (days past due)")
    rows: list[AgingRowOut]
    totals: dict[str, MoneyOut]
    total: MoneyOut


class BalanceOut(Schema):
    party_id: int
    currency: str
    as_of: datetime.date
    balance: MoneyOut = Field(description="What the customer owes, less its credit.")
    overdue: MoneyOut
    credit: MoneyOut = Field(description="Unapplied payments and open credit notes.")
    buckets: dict[str, MoneyOut]


class BalanceQuery(Schema):
    as_of: datetime.date | None = None


# --- rendering --------------------------------------------------------------------------------------


def _allocation_out(allocation) -> dict:
    return {
        "id": allocation.pk,
        "date": allocation.date,
        "amount": str(allocation.amount),
        "amount_base": str(allocation.amount_base),
        "payment_id": allocation.payment_id,
        "credit_note_id": allocation.credit_note_id,
        "credit_note_number": allocation.credit_note.number if allocation.credit_note_id else None,
        "invoice_id": allocation.invoice_id,
        "invoice_number": allocation.invoice.number if allocation.invoice_id else None,
        "refund_id": allocation.refund_id,
        "reversed": allocation.is_reversed,
    }


def _payment_out(payment) -> dict:
    allocations = payment.prefetched_allocations + payment.prefetched_refund_allocations
    return {
        "id": payment.pk,
        "number": payment.number,
        "kind": payment.kind,
        "direction": payment.direction,
        "status": payment.status,
        "party": {"id": payment.party_id, "name": str(payment.party)},
        "date": payment.date,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "rate": str(payment.rate),
        "amount_base": str(payment.amount_base),
        "method": payment.method,
        "reference": payment.reference,
        "bank_account_id": payment.bank_account_id,
        "unapplied": str(payment.unapplied),
        "journal_entry": payment.journal_entry.number if payment.journal_entry_id else "",
        "statement_line_id": payment.statement_line_id,
        "cancelled_at": payment.cancelled_at,
        "cancel_reason": payment.cancel_reason,
        "allocations": [_allocation_out(a) for a in sorted(allocations, key=lambda a: a.pk)],
    }


def _payment_detail(request, payment) -> dict:
    return _payment_out(payment_get(request.actor, payment.pk))


def _line_out(line) -> dict:
    proposal = line.proposal or None
    return {
        "id": line.pk,
        "statement_id": line.statement_id,
        "position": line.position,
        "booking_date": line.booking_date,
        "value_date": line.value_date,
        "amount": str(line.amount),
        "currency": line.currency,
        "counterparty_name": line.counterparty_name,
        "counterparty_account": line.counterparty_account,
        "reference": line.reference,
        "bank_reference": line.bank_reference,
        "status": line.status,
        "payment_id": line.payment_id,
        "proposal": proposal,
    }


def _statement_out(statement) -> dict:
    return {
        "id": statement.pk,
        "bank_account_id": statement.bank_account_id,
        "statement_id": statement.statement_id,
        "format": statement.format,
        "currency": statement.currency,
        "start_date": statement.start_date,
        "end_date": statement.end_date,
        "opening_balance": str(statement.opening_balance) if statement.opening_balance is not None else None,
        "closing_balance": str(statement.closing_balance) if statement.closing_balance is not None else None,
        "filename": statement.filename,
        "imported_at": statement.imported_at,
        "line_count": statement.line_count,
        "skipped_count": statement.skipped_count,
        "lines": [_line_out(line) for line in statement.prefetched_lines],
    }


def _bank_account_out(bank_account) -> dict:
    return {
        "id": bank_account.pk,
        "name": bank_account.name,
        "iban": bank_account.iban,
        "currency": bank_account.currency,
        "account_code": bank_account.account.code,
        "journal_code": bank_account.journal.code,
        "is_active": bank_account.is_active,
    }


def _pairs(allocations) -> list[tuple[int, Decimal]] | None:
    if allocations is None:
        return None
    return [(row.invoice_id, row.amount) for row in allocations]


def _money(values: dict) -> dict[str, str]:
    return {key: str(value) for key, value in values.items()}


# --- payments ---------------------------------------------------------------------------------------


@router.post("/payments", response={201: PaymentOut, **ERRORS})
def payment_create(request, payload: PaymentIn):
    """Record a payment and allocate it to invoices."""
    payment = services.payment_register(
        actor=request.actor,
        party_id=payload.party_id,
        amount=payload.amount,
        date=payload.date,
        direction=payload.direction,
        method=payload.method,
        reference=payload.reference,
        bank_account_id=payload.bank_account_id,
        allocations=_pairs(payload.allocations),
        currency=payload.currency,
        rate=payload.rate,
        notes=payload.notes,
    )
    return Status(201, _payment_detail(request, payment))


@router.get("/payments", response={200: list[PaymentSummaryOut], **ERRORS})
@paginate(Pagination)
def payment_list(request, query: Query[PaymentQuery]):
    """Payments and refunds, newest first."""
    params = {k: v for k, v in query.model_dump().items() if v is not None}
    return [
        {
            "id": p.pk,
            "number": p.number,
            "kind": p.kind,
            "direction": p.direction,
            "status": p.status,
            "party_id": p.party_id,
            "party_name": str(p.party),
            "date": p.date,
            "amount": str(p.amount),
            "currency": p.currency,
            "method": p.method,
            "reference": p.reference,
            "unapplied": str(p.unapplied),
        }
        for p in payment_search(request.actor, params)
    ]


@router.get("/payments/{payment_id}", response={200: PaymentOut, **ERRORS})
def payment_detail(request, payment_id: int):
    return _payment_out(payment_get(request.actor, payment_id))


@router.post("/payments/{payment_id}/cancel", response={200: PaymentOut, **ERRORS})
def payment_cancel(request, payment_id: int, payload: CancelIn):
    """Cancel a payment or refund: the invoices it settled are open again and its entry is
    reversed. 409 `credit_refunded` when its credit was paid back: cancel the refund first."""
    payment = services.payment_cancel(actor=request.actor, payment_id=payment_id, reason=payload.reason)
    return _payment_detail(request, payment)


@router.post("/refunds", response={201: PaymentOut, **ERRORS})
def refund_create(request, payload: RefundIn):
    """Pay back a party's credit (unapplied payments, open credit notes)."""
    refund = services.refund_register(
        actor=request.actor,
        party_id=payload.party_id,
        amount=payload.amount,
        date=payload.date,
        direction=payload.direction,
        method=payload.method,
        reference=payload.reference,
        bank_account_id=payload.bank_account_id,
        payment_id=payload.payment_id,
        credit_note_id=payload.credit_note_id,
        currency=payload.currency,
        rate=payload.rate,
        notes=payload.notes,
    )
    return Status(201, _payment_detail(request, refund))


@router.post("/credit-applications", response={201: list[AllocationOut], **ERRORS})
def credit_apply(request, payload: CreditApplyIn):
    """Settle an invoice with the party's credit, oldest first or the payment or credit note named."""
    allocations = services.credit_apply(
        actor=request.actor,
        party_id=payload.party_id,
        invoice_id=payload.invoice_id,
        amount=payload.amount,
        payment_id=payload.payment_id,
        credit_note_id=payload.credit_note_id,
        date=payload.date,
    )
    return Status(201, [_allocation_out(a) for a in allocations])


# --- bank accounts and statements ---------------------------------------------------------------------


@router.get("/bank-accounts", response={200: list[BankAccountOut], **ERRORS})
def bank_account_list(request):
    return [_bank_account_out(b) for b in bank_accounts_for(request.actor)]


@router.post("/bank-accounts", response={201: BankAccountOut, **ERRORS})
def bank_account_create(request, payload: BankAccountIn):
    bank_account = services.bank_account_create(
        actor=request.actor,
        name=payload.name,
        iban=payload.iban,
        currency=payload.currency,
        account_id=payload.account_id,
        journal_id=payload.journal_id,
    )
    return Status(201, _bank_account_out(bank_account_get(request.actor, bank_account.pk)))


@router.post("/bank-accounts/{bank_account_id}/statements", response={201: StatementOut, **ERRORS})
def statement_upload(request, bank_account_id: int, payload: StatementUploadIn):
    """Import a statement file with match proposals for its lines. Lines already imported from
    an overlapping statement are skipped (`skipped_count`)."""
    statement = services.statement_import(
        actor=request.actor,
        bank_account_id=bank_account_id,
        data=services.decode_base64(payload.content_base64),
        filename=payload.filename,
    )
    return Status(201, _statement_out(statement_get(request.actor, statement.pk)))


@router.get("/statements/{statement_id}", response={200: StatementOut, **ERRORS})
def statement_detail(request, statement_id: int):
    return _statement_out(statement_get(request.actor, statement_id))


@router.get("/statement-lines", response={200: list[StatementLineOut], **ERRORS})
@paginate(Pagination)
def statement_line_list(request, query: Query[StatementLineQuery]):
    """Statement lines, oldest first; `?status=unmatched` lists what is left to reconcile."""
    params = {k: v for k, v in query.model_dump().items() if v is not None}
    return [_line_out(line) for line in statement_line_search(request.actor, params)]


@router.post("/statement-lines/{line_id}/confirm", response={201: PaymentOut, **ERRORS})
def statement_line_confirm(request, line_id: int, payload: ConfirmIn):
    """Record the line as a payment: allocated as given, else as proposed."""
    payment = services.statement_line_confirm(
        actor=request.actor,
        line_id=line_id,
        allocations=_pairs(payload.allocations),
        party_id=payload.party_id,
        method=payload.method,
    )
    return Status(201, _payment_detail(request, payment))


@router.post("/statement-lines/{line_id}/ignore", response={200: StatementLineOut, **ERRORS})
def statement_line_ignore(request, line_id: int):
    services.statement_line_ignore(actor=request.actor, line_id=line_id)
    return _line_out(statement_line_get(request.actor, line_id))


@router.post("/statement-lines/{line_id}/reopen", response={200: StatementLineOut, **ERRORS})
def statement_line_reopen(request, line_id: int):
    services.statement_line_reopen(actor=request.actor, line_id=line_id)
    return _line_out(statement_line_get(request.actor, line_id))


# --- aging and balances -------------------------------------------------------------------------------


@router.get("/aging", response={200: AgingOut, **ERRORS})
def aging_report(request, query: Query[AgingQuery]):
    """Open items per party and by days past due, as they stood at the end of `as_of`."""
    report = aging(request.actor, as_of=query.as_of, side=Side(query.side))
    return {
        "as_of": report.as_of,
        "side": report.side,
        "currency": report.currency,
        "buckets": list(report.buckets),
        "rows": [
            {
                "party_id": row.party_id,
                "party_name": row.party_name,
                "buckets": _money(row.buckets),
                "total": str(row.total),
            }
            for row in report.rows
        ],
        "totals": _money(report.totals),
        "total": str(report.total),
    }


@router.get("/customers/{party_id}/balance", response={200: BalanceOut, **ERRORS})
def customer_balance_detail(request, party_id: int, query: Query[BalanceQuery]):
    """What the customer owes now (or at the end of `as_of`), overdue, and its credit."""
    balance = customer_balance(request.actor, party_id, as_of=query.as_of)
    return {
        "party_id": balance.party_id,
        "currency": balance.currency,
        "as_of": balance.as_of,
        "balance": str(balance.balance),
        "overdue": str(balance.overdue),
        "credit": str(balance.credit),
        "buckets": _money(balance.buckets),
    }
