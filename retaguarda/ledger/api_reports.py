"""The financial reports under /api/v1/ledger/reports/: trial balance, profit and loss, balance
sheet, general ledger and journal, read-only, for anyone with `ledger.view`.

Periods are named by code (`2026-03`); `from` and `to` default to the current fiscal year up to
today's period. Amounts travel as exact decimal strings ("-1210.00"). Balances in the trial
balance and the general ledger are debit-positive; statement sections are in their natural sign
(assets and expenses debit-positive; liabilities, equity and income credit-positive). The
general ledger and the journal come a page at a time: pass `next_cursor` back as `cursor`.
"""

from __future__ import annotations

import datetime
from typing import Annotated

from django.utils import timezone
from ninja import Field, Query, Router, Schema
from pydantic import WithJsonSchema

from retaguarda.core.apikit import ERRORS
from retaguarda.core.permissions import require

from . import reports

router = Router(tags=["ledger"])

Money = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "examples": ["1210.00", "-484.00"]})
]
PERMISSION = "ledger.view"


class Figures(Schema):
    opening: Money
    debit: Money
    credit: Money
    closing: Money


class TrialBalanceRowOut(Schema):
    account_id: int | None = Field(description="None on the line of previous years' result not closed.")
    code: str
    name: str
    kind: str
    current: Figures
    previous: Figures | None


class RangeOut(Schema):
    from_: str = Field(alias="from", serialization_alias="from")
    to: str


class TrialBalanceOut(Schema):
    range: RangeOut
    previous_range: RangeOut | None
    rows: list[TrialBalanceRowOut]
    total: Figures
    previous_total: Figures | None


class StatementRowOut(Schema):
    account_id: int | None
    code: str
    name: str
    depth: int = Field(description="0 at the top; a row's parent is the nearest row above with depth - 1.")
    is_group: bool = Field(description="A parent account: its amount is the sum of the rows under it.")
    amount: Money
    previous: Money | None


class SectionOut(Schema):
    key: str
    label: str
    rows: list[StatementRowOut]
    total: Money
    previous_total: Money | None


class ProfitAndLossOut(Schema):
    range: RangeOut
    previous_range: RangeOut | None
    income: SectionOut
    expenses: SectionOut
    net_result: Money
    previous_net_result: Money | None


class BalanceSheetOut(Schema):
    at: str
    compare_at: str | None
    assets: SectionOut
    liabilities: SectionOut
    equity: SectionOut
    total_assets: Money
    total_liabilities_and_equity: Money


class AccountOut(Schema):
    id: int
    code: str
    name: str


class LedgerLineOut(Schema):
    line_id: int
    entry_id: int
    entry_number: str
    date: datetime.date
    account_id: int
    account_code: str
    description: str
    reference: str
    party: str
    debit: Money
    credit: Money
    balance: Money


class GeneralLedgerOut(Schema):
    range: RangeOut
    account: AccountOut | None
    opening: Money = Field(description="The balance before the page's first line (of that line's account).")
    lines: list[LedgerLineOut]
    next_cursor: str | None


class JournalLineOut(Schema):
    position: int
    account_code: str
    account_name: str
    party: str
    description: str
    debit: Money
    credit: Money


class JournalEntryOut(Schema):
    id: int
    journal: str
    number: str
    date: datetime.date
    reference: str
    description: str
    total: Money
    lines: list[JournalLineOut]


class JournalOut(Schema):
    range: RangeOut
    entries: list[JournalEntryOut]
    next_cursor: str | None


class RangeQuery(Schema):
    from_: str | None = Field(None, alias="from", max_length=10, description="First period, e.g. 2026-01.")
    to: str | None = Field(None, max_length=10, description="Last period, e.g. 2026-03.")
    compare: bool = Field(False, description="Add the previous range of the same number of periods.")


class LedgerQuery(Schema):
    from_: str | None = Field(None, alias="from", max_length=10)
    to: str | None = Field(None, max_length=10)
    account: str | None = Field(None, max_length=20, description="Account id or code; all accounts if left out.")
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(reports.GENERAL_LEDGER_PAGE, ge=1, le=500, description="Lines per page.")


class JournalQuery(Schema):
    from_: str | None = Field(None, alias="from", max_length=10)
    to: str | None = Field(None, max_length=10)
    journal: str | None = Field(None, max_length=10, description="Journal code; all journals if left out.")
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(reports.JOURNAL_PAGE, ge=1, le=200, description="Entries per page.")


class BalanceSheetQuery(Schema):
    at: str | None = Field(None, max_length=10, description="The period at whose end; defaults to today's.")
    compare: bool = Field(False, description="Compare with the period before `at` (or with `compare_at`).")
    compare_at: str | None = Field(None, max_length=10)


def _periods_and_range(request, period_from, period_to):
    require(request.actor, PERMISSION)
    periods = reports.company_periods(request.actor.company)
    default_from, default_to = reports.default_range(periods, timezone.localdate())
    return periods, period_from or default_from, period_to or default_to


def _range(rng) -> dict | None:
    return {"from": rng.from_code, "to": rng.to_code} if rng is not None else None


def _s(value) -> str | None:
    return None if value is None else str(value)


def _figures(f) -> dict | None:
    if f is None:
        return None
    return {"opening": str(f.opening), "debit": str(f.debit), "credit": str(f.credit), "closing": str(f.closing)}


def _section(section) -> dict:
    return {
        "key": section.key,
        "label": section.label,
        "rows": [
            {
                "account_id": r.account_id,
                "code": r.code,
                "name": r.name,
                "depth": r.depth,
                "is_group": r.is_group,
                "amount": str(r.amount),
                "previous": _s(r.previous),
            }
            for r in section.rows
        ],
        "total": str(section.total),
        "previous_total": _s(section.previous_total),
    }


@router.get("/trial-balance", response={200: TrialBalanceOut, **ERRORS}, by_alias=True)
def trial_balance(request, query: Query[RangeQuery]):
    """Per account: opening balance, debits, credits and closing balance of the periods."""
    periods, start, stop = _periods_and_range(request, query.from_, query.to)
    tb = reports.trial_balance(
        company=request.actor.company, period_from=start, period_to=stop, compare=query.compare, periods=periods
    )
    return {
        "range": _range(tb.range),
        "previous_range": _range(tb.previous_range),
        "rows": [
            {
                "account_id": r.account_id,
                "code": r.code,
                "name": r.name,
                "kind": r.kind,
                "current": _figures(r.current),
                "previous": _figures(r.previous),
            }
            for r in tb.rows
        ],
        "total": _figures(tb.total),
        "previous_total": _figures(tb.previous_total),
    }


@router.get("/profit-and-loss", response={200: ProfitAndLossOut, **ERRORS}, by_alias=True)
def profit_and_loss(request, query: Query[RangeQuery]):
    """Income and expenses of the periods by account under their parents, and the net result."""
    periods, start, stop = _periods_and_range(request, query.from_, query.to)
    pl = reports.profit_and_loss(
        company=request.actor.company, period_from=start, period_to=stop, compare=query.compare, periods=periods
    )
    return {
        "range": _range(pl.range),
        "previous_range": _range(pl.previous_range),
        "income": _section(pl.income),
        "expenses": _section(pl.expenses),
        "net_result": str(pl.net_result),
        "previous_net_result": _s(pl.previous_net_result),
    }


@router.get("/balance-sheet", response={200: BalanceSheetOut, **ERRORS})
def balance_sheet(request, query: Query[BalanceSheetQuery]):
    """Assets, liabilities and equity at the end of a period; the income and expenses not yet
    closed into equity appear as equity lines without an account, so assets always equal
    liabilities plus equity."""
    periods, _start, stop = _periods_and_range(request, None, None)
    bs = reports.balance_sheet(
        company=request.actor.company,
        at=query.at or stop,
        compare=query.compare,
        compare_at=query.compare_at or None,
        periods=periods,
    )
    return {
        "at": bs.at.code,
        "compare_at": bs.compare_at.code if bs.compare_at else None,
        "assets": _section(bs.assets),
        "liabilities": _section(bs.liabilities),
        "equity": _section(bs.equity),
        "total_assets": str(bs.assets.total),
        "total_liabilities_and_equity": str(bs.liabilities_and_equity),
    }


@router.get("/general-ledger", response={200: GeneralLedgerOut, **ERRORS}, by_alias=True)
def general_ledger(request, query: Query[LedgerQuery]):
    """Posted lines of an account (or of all accounts) with the running balance, a page at a time."""
    periods, start, stop = _periods_and_range(request, query.from_, query.to)
    page = reports.general_ledger(
        company=request.actor.company,
        period_from=start,
        period_to=stop,
        account_id=query.account or None,
        cursor=query.cursor or None,
        page_size=query.limit,
        periods=periods,
    )
    account = page.account
    return {
        "range": _range(page.range),
        "account": {"id": account.pk, "code": account.code, "name": account.name} if account else None,
        "opening": str(page.opening),
        "lines": [
            {
                "line_id": ln.line_id,
                "entry_id": ln.entry_id,
                "entry_number": ln.entry_number,
                "date": ln.date,
                "account_id": ln.account_id,
                "account_code": ln.account_code,
                "description": ln.description,
                "reference": ln.reference,
                "party": ln.party,
                "debit": str(ln.debit),
                "credit": str(ln.credit),
                "balance": str(ln.balance),
            }
            for ln in page.lines
        ],
        "next_cursor": page.next_cursor,
    }


@router.get("/journal", response={200: JournalOut, **ERRORS}, by_alias=True)
def journal(request, query: Query[JournalQuery]):
    """Posted entries with their lines, by journal and in number order, a page at a time."""
    periods, start, stop = _periods_and_range(request, query.from_, query.to)
    page = reports.journal(
        company=request.actor.company,
        period_from=start,
        period_to=stop,
        journal_code=query.journal or None,
        cursor=query.cursor or None,
        page_size=query.limit,
        periods=periods,
    )
    return {
        "range": _range(page.range),
        "entries": [
            {
                "id": e.entry_id,
                "journal": e.journal_code,
                "number": e.number,
                "date": e.date,
                "reference": e.reference,
                "description": e.description,
                "total": str(e.total),
                "lines": [
                    {
                        "position": ln.position,
                        "account_code": ln.account_code,
                        "account_name": ln.account_name,
                        "party": ln.party,
                        "description": ln.description,
                        "debit": str(ln.debit),
                        "credit": str(ln.credit),
                    }
                    for ln in e.lines
                ],
            }
            for e in page.entries
        ],
        "next_cursor": page.next_cursor,
    }
