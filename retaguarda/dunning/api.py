"""Dunning endpoints under /api/v1/dunning/: runs (preview, then send), their letters, promises
to pay, write-offs of bad debts, and the procedure's levels.

Money travels as decimal strings with two places ("1210.00") in the currency named beside it.
A run as of a date after the last sent run's is refused with 409 `run_out_of_order`.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import WithJsonSchema

from retaguarda.core.apikit import ERRORS, Pagination

from . import services
from .letters import letter_pdf
from .selectors import procedures_list, run_get, run_list

router = Router(tags=["dunning"])

Number = Annotated[
    str | int | Decimal,
    WithJsonSchema({"type": ["string", "number"], "examples": ["100.00"], "description": "A decimal number."}),
]
MoneyOut = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "examples": ["1210.00"]})
]


# --- schemas ------------------------------------------------------------------------------------


class RunIn(Schema):
    as_of: datetime.date | None = Field(None, description="The day the run is made for; today when left out.")
    preview: bool = Field(True, description="Only record the letters that would go out; send them later.")


class PromiseIn(Schema):
    invoice_id: int | None = Field(None, description="The invoice promised; or give party_id.")
    party_id: int | None = Field(None, description="The customer, for all their open invoices.")
    promised_date: datetime.date
    amount: Number
    note: str = Field("", max_length=500)


class WriteOffIn(Schema):
    reason: str = Field(..., max_length=200)
    date: datetime.date | None = Field(None, description="The posting date; today when left out.")


class LetterInvoiceOut(Schema):
    invoice_id: int
    number: str
    due_date: datetime.date
    days_overdue: int
    residual: MoneyOut
    level: int
    fine: MoneyOut
    compensation: MoneyOut
    interest: MoneyOut


class LetterOut(Schema):
    id: int
    party_id: int
    customer: str
    level: str
    letter: str
    language: str
    currency: str
    invoices: list[LetterInvoiceOut]
    open_total: MoneyOut
    fee: MoneyOut
    interest: MoneyOut
    total_due: MoneyOut
    pay_by: datetime.date
    subject: str
    email_to: str
    email_status: str
    sent_at: datetime.datetime | None
    entry: str | None = Field(description="The journal entry number of the posted fee and interest, if any.")


class RunOut(Schema):
    id: int
    as_of: datetime.date
    status: str = Field(description="preview or sent")
    letter_count: int
    invoice_count: int
    blocked_count: int
    unblocked_count: int
    handover_count: int
    totals: dict[str, dict[str, MoneyOut]] = Field(description="Per currency: open, fees, interest, due.")
    created_at: datetime.datetime
    sent_at: datetime.datetime | None
    letters: list[LetterOut]


class RunSummaryOut(Schema):
    id: int
    as_of: datetime.date
    status: str
    letter_count: int
    created_at: datetime.datetime
    sent_at: datetime.datetime | None


class PromiseOut(Schema):
    id: int
    party_id: int
    invoice_id: int | None
    invoice_ids: list[int]
    promised_date: datetime.date
    amount: MoneyOut
    currency: str
    status: str
    note: str


class WriteOffOut(Schema):
    invoice_id: int
    number: str
    residual: MoneyOut
    payment_status: str


class LevelOut(Schema):
    id: int
    sequence: int
    days_overdue: int
    name: str
    letter: str
    fee: MoneyOut
    charge_interest: bool
    block_customer: bool
    handover_legal: bool


class ProcedureOut(Schema):
    id: int
    name: str
    is_default: bool
    levels: list[LevelOut]


# --- output -------------------------------------------------------------------------------------


def _letter_out(letter) -> dict:
    return {
        "id": letter.pk,
        "party_id": letter.party_id,
        "customer": str(letter.party),
        "level": letter.level_name,
        "letter": letter.letter,
        "language": letter.language,
        "currency": letter.currency,
        "invoices": [
            {
                "invoice_id": row["invoice_id"],
                "number": row["number"],
                "due_date": row["due_date"],
                "days_overdue": row["days_overdue"],
                "residual": row["residual"],
                "level": row["level"],
                "fine": row["fine"],
                "compensation": row["compensation"],
                "interest": row["interest"],
            }
            for row in letter.invoices
        ],
        "open_total": str(letter.open_total),
        "fee": str(letter.fee),
        "interest": str(letter.interest),
        "total_due": str(letter.total_due),
        "pay_by": letter.pay_by,
        "subject": letter.subject,
        "email_to": letter.email_to,
        "email_status": letter.email_status,
        "sent_at": letter.sent_at,
        "entry": letter.entry.number if letter.entry_id else None,
    }


def _run_out(request, run_id) -> dict:
    run = run_get(request.actor, run_id)
    return {
        "id": run.pk,
        "as_of": run.as_of,
        "status": run.status,
        "letter_count": run.letter_count,
        "invoice_count": run.invoice_count,
        "blocked_count": run.blocked_count,
        "unblocked_count": run.unblocked_count,
        "handover_count": run.handover_count,
        "totals": run.totals,
        "created_at": run.created_at,
        "sent_at": run.sent_at,
        "letters": [_letter_out(letter) for letter in run.prefetched_letters],
    }


# --- runs ---------------------------------------------------------------------------------------


@router.post("/runs", response={201: RunOut, **ERRORS})
def run_create(request, payload: RunIn):
    """Run dunning as of a date. A preview (the default) records the letters that would go out
    and changes nothing else; `preview: false` sends at once: e-mails, late charges, blocks."""
    run = services.dunning_run(
        actor=request.actor, company=request.actor.company, as_of=payload.as_of, preview=payload.preview
    )
    return Status(201, _run_out(request, run.pk))


@router.get("/runs", response={200: list[RunSummaryOut], **ERRORS})
@paginate(Pagination)
def run_index(request):
    """The company's runs, newest first."""
    return run_list(request.actor)


@router.get("/runs/{run_id}", response={200: RunOut, **ERRORS})
def run_detail(request, run_id: int):
    return _run_out(request, run_id)


@router.post("/runs/{run_id}/send", response={200: RunOut, **ERRORS})
def run_send(request, run_id: int):
    """Send a previewed run, worked out again as of its date; 409 `run_sent` if it was sent."""
    services.dunning_run_send(actor=request.actor, run_id=run_id)
    return _run_out(request, run_id)


@router.get(
    "/letters/{letter_id}.pdf",
    response=ERRORS,
    openapi_extra={
        "responses": {
            "200": {
                "description": "The letter, in the customer's language.",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def letter_download(request, letter_id: int):
    name, pdf = letter_pdf(actor=request.actor, letter_id=letter_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


# --- promises and write-offs --------------------------------------------------------------------


@router.post("/promises", response={201: PromiseOut, **ERRORS})
def promise_create(request, payload: PromiseIn):
    """A customer's promise to pay by a date: dunning of the invoice (or of all the customer's
    open invoices) pauses until then."""
    promise = services.promise_register(
        actor=request.actor,
        invoice_id=payload.invoice_id,
        party_id=payload.party_id,
        promised_date=payload.promised_date,
        amount=payload.amount,
        note=payload.note,
    )
    return Status(201, services.promise_payload(promise))


@router.post("/invoices/{invoice_id}/write-off", response={200: WriteOffOut, **ERRORS})
def invoice_write_off(request, invoice_id: int, payload: WriteOffIn):
    """Write the invoice's open amount off as a bad debt; the invoice is then closed."""
    invoice = services.invoice_write_off(
        actor=request.actor, invoice_id=invoice_id, reason=payload.reason, on_date=payload.date
    )
    return {
        "invoice_id": invoice.pk,
        "number": invoice.number,
        "residual": str(invoice.residual),
        "payment_status": invoice.payment_status,
    }


# --- the procedure ------------------------------------------------------------------------------


@router.get("/procedures", response={200: list[ProcedureOut], **ERRORS})
def procedure_index(request):
    """The company's dunning procedures with their levels (the default one is installed on first
    use)."""
    procedures = procedures_list(request.actor)
    if not procedures:
        services.dunning_defaults_install(company=request.actor.company)
        procedures = procedures_list(request.actor)
    return [
        {
            "id": p.pk,
            "name": p.name,
            "is_default": p.is_default,
            "levels": [
                {
                    "id": lv.pk,
                    "sequence": lv.sequence,
                    "days_overdue": lv.days_overdue,
                    "name": lv.name,
                    "letter": lv.letter,
                    "fee": str(lv.fee),
                    "charge_interest": lv.charge_interest,
                    "block_customer": lv.block_customer,
                    "handover_legal": lv.handover_legal,
                }
                for lv in p.prefetched_levels
            ],
        }
        for p in procedures
    ]
