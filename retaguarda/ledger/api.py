"""The books under /api/v1/ledger/: the chart of accounts, periods and their closing, journal
entries (search, one entry, manual drafts, posting, reversal) and exchange rates.

Money travels as decimal strings with two places ("121.00"), rates with six. Refusals use the
common error shape: 409 `period_closed`, `already_reversed`, `entry_reconciled`,
`entry_posted`, `fiscal_year_closed`; 422 `unbalanced` or `validation_error` with per-field
messages (`lines` lists each wrong line).
"""

import datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import WithJsonSchema

from retaguarda.core.apikit import ERRORS, Pagination

from . import services
from .selectors import accounts_list, entry_get, entry_search, periods_list, rates_list

router = Router(tags=["ledger"])

Number = Annotated[
    str | int | Decimal,
    WithJsonSchema({"type": ["string", "number"], "examples": ["121.00"], "description": "A decimal number."}),
]
MoneyOut = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "examples": ["121.00"]})
]


class AccountOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    role: str
    parent_id: int | None
    reconcilable: bool
    is_active: bool


class PeriodOut(Schema):
    id: int
    code: str
    start_date: datetime.date
    end_date: datetime.date
    state: str
    fiscal_year_id: int
    fiscal_year: str
    fiscal_year_state: str


class FiscalYearOut(Schema):
    id: int
    name: str
    start_date: datetime.date
    end_date: datetime.date
    state: str


class LineIn(Schema):
    account_id: int
    debit: Number = "0"
    credit: Number = "0"
    party_id: int | None = None
    description: str = Field("", max_length=200)
    due_date: datetime.date | None = None
    reference: str = Field("", max_length=100)
    currency: str = Field("", max_length=3)
    amount_currency: Number | None = None


class EntryIn(Schema):
    journal_id: int
    date: datetime.date
    reference: str = Field("", max_length=100)
    description: str = Field("", max_length=200)
    lines: list[LineIn] = Field(..., max_length=500)
    post: bool = Field(False, description="Post at once instead of keeping a draft.")


class ReverseIn(Schema):
    reason: str = Field(..., max_length=150)
    date: datetime.date | None = Field(None, description="Defaults to the original's date if open, else today.")


class LineOut(Schema):
    id: int
    position: int
    account_id: int
    account_code: str
    account_name: str
    party_id: int | None
    description: str
    debit: MoneyOut
    credit: MoneyOut
    residual: MoneyOut
    currency: str
    amount_currency: str | None
    due_date: datetime.date | None
    reference: str


class EntrySummaryOut(Schema):
    id: int
    number: str
    journal: str
    date: datetime.date
    state: str
    reference: str
    description: str
    total: MoneyOut
    source_type: str
    source_id: str
    reversal_of_id: int | None


class EntryOut(EntrySummaryOut):
    period: str
    posted_at: datetime.datetime | None
    reversed_by_id: int | None
    lines: list[LineOut]


class EntryQuery(Schema):
    date_from: str | None = None
    date_to: str | None = None
    journal: str | None = Field(None, description="The journal's code (VEN, BAN...).")
    account: str | None = Field(None, description="Entries with a line on this account id.")
    state: str | None = None
    q: str | None = None
    sort: str | None = None


class RateIn(Schema):
    currency: str = Field(..., max_length=3)
    date: datetime.date
    rate: Number


class RateOut(Schema):
    id: int
    currency: str
    date: datetime.date
    rate: str


def _summary(entry) -> dict:
    return {
        "id": entry.pk,
        "number": entry.number,
        "journal": entry.journal.code,
        "date": entry.date,
        "state": entry.state,
        "reference": entry.reference,
        "description": entry.description,
        "total": str(entry.total),
        "source_type": entry.source_type,
        "source_id": entry.source_id,
        "reversal_of_id": entry.reversal_of_id,
    }


def _entry_out(request, entry_id) -> dict:
    entry = entry_get(request.actor, entry_id)
    return {
        **_summary(entry),
        "period": entry.period.code,
        "posted_at": entry.posted_at,
        "reversed_by_id": entry.reversed_by_entry.pk if entry.reversed_by_entry else None,
        "lines": [
            {
                "id": line.pk,
                "position": line.position,
                "account_id": line.account_id,
                "account_code": line.account.code,
                "account_name": line.account.name,
                "party_id": line.party_id,
                "description": line.description,
                "debit": str(line.debit),
                "credit": str(line.credit),
                "residual": str(line.residual),
                "currency": line.currency,
                "amount_currency": str(line.amount_currency) if line.amount_currency is not None else None,
                "due_date": line.due_date,
                "reference": line.reference,
            }
            for line in entry.line_list
        ],
    }


def _period_out(period) -> dict:
    return {
        "id": period.pk,
        "code": period.code,
        "start_date": period.start_date,
        "end_date": period.end_date,
        "state": period.state,
        "fiscal_year_id": period.fiscal_year_id,
        "fiscal_year": period.fiscal_year.name,
        "fiscal_year_state": period.fiscal_year.state,
    }


def _rate_out(rate) -> dict:
    return {"id": rate.pk, "currency": rate.currency, "date": rate.date, "rate": str(rate.rate)}


@router.get("/accounts", response={200: list[AccountOut], **ERRORS})
def account_list(request):
    """The chart of accounts in code order."""
    return [
        {
            "id": a.pk,
            "code": a.code,
            "name": a.name,
            "kind": a.kind,
            "role": a.role,
            "parent_id": a.parent_id,
            "reconcilable": a.reconcilable,
            "is_active": a.is_active,
        }
        for a in accounts_list(request.actor)
    ]


@router.get("/periods", response={200: list[PeriodOut], **ERRORS})
def period_list(request):
    """Every period of every fiscal year, in date order."""
    return [_period_out(p) for p in periods_list(request.actor)]


def _period(request, period_id: int):
    return _period_out(periods_list(request.actor).get(pk=period_id))


@router.post("/periods/{period_id}/close", response={200: PeriodOut, **ERRORS})
def period_close(request, period_id: int):
    """No entry can be posted on the period's dates any more (needs ledger.close)."""
    period = services.period_close(actor=request.actor, period_id=period_id)
    return _period(request, period.pk)


@router.post("/periods/{period_id}/reopen", response={200: PeriodOut, **ERRORS})
def period_reopen(request, period_id: int):
    """Reopen a closed period of an open fiscal year (needs ledger.close)."""
    period = services.period_reopen(actor=request.actor, period_id=period_id)
    return _period(request, period.pk)


@router.post("/fiscal-years/{fiscal_year_id}/close", response={200: FiscalYearOut, **ERRORS})
def fiscal_year_close(request, fiscal_year_id: int):
    """Year-end: the closing entry moves the year's result to retained earnings; every period
    and the year close; the next year opens if missing (needs ledger.close)."""
    year = services.fiscal_year_close(actor=request.actor, fiscal_year_id=fiscal_year_id)
    return {
        "id": year.pk,
        "name": year.name,
        "start_date": year.start_date,
        "end_date": year.end_date,
        "state": year.state,
    }


@router.get("/entries", response={200: list[EntrySummaryOut], **ERRORS})
@paginate(Pagination)
def entry_list(request, query: Query[EntryQuery]):
    """Journal entries, newest first; filter by `date_from`, `date_to` (YYYY-MM-DD), `journal`
    (code), `account` (id), `state`."""
    params = {k: v for k, v in query.model_dump().items() if v is not None}
    return [_summary(e) for e in entry_search(request.actor, params)]


@router.get("/entries/{entry_id}", response={200: EntryOut, **ERRORS})
def entry_detail(request, entry_id: int):
    return _entry_out(request, entry_id)


@router.post("/entries", response={201: EntryOut, **ERRORS})
def entry_create(request, payload: EntryIn):
    """A manual entry: a draft (lines checked one by one, balance not required), or posted at
    once with `"post": true` (then it must balance). Needs ledger.post."""
    lines = [services.LineSpec(**line.model_dump()) for line in payload.lines]
    entry = services.entry_draft_create(
        actor=request.actor,
        company=request.actor.company,
        journal_id=payload.journal_id,
        date=payload.date,
        reference=payload.reference,
        description=payload.description,
        lines=lines,
        post=payload.post,
    )
    return Status(201, _entry_out(request, entry.pk))


@router.post("/entries/{entry_id}/post", response={200: EntryOut, **ERRORS})
def entry_post(request, entry_id: int):
    """Post a draft: it must balance and its date's period must be open."""
    entry = services.entry_draft_post(actor=request.actor, entry_id=entry_id)
    return _entry_out(request, entry.pk)


@router.post("/entries/{entry_id}/reverse", response={201: EntryOut, **ERRORS})
def entry_reverse(request, entry_id: int, payload: ReverseIn):
    """Post the mirror entry of a posted one; answers the reversal."""
    reversal = services.entry_reverse(actor=request.actor, entry_id=entry_id, date=payload.date, reason=payload.reason)
    return Status(201, _entry_out(request, reversal.pk))


@router.get("/rates", response={200: list[RateOut], **ERRORS})
@paginate(Pagination)
def rate_list(request, currency: str = ""):
    """Exchange rates (units of the base currency per unit of `currency`), newest first."""
    return [_rate_out(r) for r in rates_list(request.actor, currency=currency[:3])]


@router.post("/rates", response={201: RateOut, **ERRORS})
def rate_create(request, payload: RateIn):
    """Record the rate of a currency from a date on; the same day again replaces it."""
    rate = services.rate_set(
        actor=request.actor,
        company=request.actor.company,
        currency=payload.currency,
        date=payload.date,
        rate=payload.rate,
    )
    return Status(201, _rate_out(rate))
