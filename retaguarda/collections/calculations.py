"""Pure arithmetic of collections: the aging of open items and the charges for paying late.

Late charges, per country:

- Brazil: a one-off fine (multa, 2 % — the ceiling of the consumer code, art. 52 §1 CDC) plus
  interest of 1 % a month pro rata die: 1/30 % of the amount per day late, whatever the length
  of the calendar month.
- Spain, commercial transactions (Ley 3/2004): interest at the legal late-payment rate of each
  calendar half-year (ECB main refinancing rate + 8 points, published in the BOE each semester),
  counted actual/365 (leap years too) and each day at the rate of its own half-year; plus a
  fixed compensation of 40.00 EUR per invoice for recovery costs (art. 8).

Interest runs from the day after the due date to `as_of`, both included: `days` is
`as_of - due_date`. Each charge is rounded once, half-up to the cent; the total is their sum.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retaguarda.common.errors import ValidationFailed
from retaguarda.common.fields import round_money

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

# --- aging -----------------------------------------------------------------------------------

CURRENT = "current"
AGING_BUCKETS = (CURRENT, "1_30", "31_60", "61_90", "over_90")
AGING_BUCKET_LABELS = {
    CURRENT: gettext_lazy("Not yet due"),
    "1_30": gettext_lazy("1–30 days overdue"),
    "31_60": gettext_lazy("31–60 days overdue"),
    "61_90": gettext_lazy("61–90 days overdue"),
    "over_90": gettext_lazy("Over 90 days overdue"),
}


def aging_bucket(due_date: date, as_of: date) -> str:
    """The bucket of an item by the days since its due date; due today counts as current."""
    days = (as_of - due_date).days
    if days <= 0:
        return CURRENT
    if days <= 30:
        return "1_30"
    if days <= 60:
        return "31_60"
    if days <= 90:
        return "61_90"
    return "over_90"


def aging_summarise(items: Iterable[tuple[int, date, Decimal]], as_of: date) -> dict[int | None, dict[str, Decimal]]:
    """Residuals per party and bucket from (party_id, due_date, residual) tuples, read once (a
    queryset iterator will do). The key None holds the totals and is always present; every party
    has every bucket."""

    def empty() -> dict[str, Decimal]:
        return dict.fromkeys(AGING_BUCKETS, ZERO)

    summary: dict[int | None, dict[str, Decimal]] = {None: empty()}
    for party_id, due_date, residual in items:
        bucket = aging_bucket(due_date, as_of)
        if party_id not in summary:
            summary[party_id] = empty()
        summary[party_id][bucket] += residual
        summary[None][bucket] += residual
    return summary


# --- late charges ----------------------------------------------------------------------------

# Spain: legal late-payment interest rate for commercial transactions (Ley 3/2004, art. 7), in
# percent a year, per (year, half-year). Each value is the ECB main refinancing rate in force at
# the start of the half-year plus 8 points, as published by the Secretaría General del Tesoro in
# the BOE. Add each new half-year here when its resolution is published (late June and late
# December); a half-year missing from the table is refused rather than guessed.
ES_LATE_PAYMENT_RATES: Mapping[tuple[int, int], Decimal] = MappingProxyType(
    {
        (2020, 1): Decimal("8.00"),  # BOE-A-2019-18736
        (2020, 2): Decimal("8.00"),
        (2021, 1): Decimal("8.00"),
        (2021, 2): Decimal("8.00"),
        (2022, 1): Decimal("8.00"),
        (2022, 2): Decimal("8.00"),
        (2023, 1): Decimal("10.50"),
        (2023, 2): Decimal("12.00"),
        (2024, 1): Decimal("12.50"),
        (2024, 2): Decimal("12.25"),
        (2025, 1): Decimal("11.15"),
        (2025, 2): Decimal("10.15"),  # BOE-A-2025-13217
        (2026, 1): Decimal("10.15"),  # BOE-A-2025-27201 (ECB rate unchanged at 2.15 %)
    }
)


@dataclass(frozen=True)
class LateChargeRule:
    country: str
    fine_percent: Decimal = ZERO  # once, on the amount outstanding
    monthly_interest_percent: Decimal = ZERO  # simple interest, 1/30 of it per day
    # A fixed yearly rate (actual/365); when None, `semester_rates` gives the rate of each day.
    annual_interest_percent: Decimal | None = None
    semester_rates: Mapping[tuple[int, int], Decimal] | None = None
    fixed_compensation: Decimal = ZERO  # once per invoice, when it is paid late at all


BR_LATE_CHARGES = LateChargeRule(country="BR", fine_percent=Decimal(2), monthly_interest_percent=Decimal(1))
ES_LATE_CHARGES = LateChargeRule(
    country="ES", semester_rates=ES_LATE_PAYMENT_RATES, fixed_compensation=Decimal("40.00")
)
LATE_CHARGE_RULES = MappingProxyType({"BR": BR_LATE_CHARGES, "ES": ES_LATE_CHARGES})


@dataclass(frozen=True)
class LateCharges:
    fine: Decimal
    interest: Decimal
    compensation: Decimal
    total: Decimal
    days: int  # days overdue at `as_of`, 0 when not overdue


def _semester(day: date) -> tuple[int, int]:
    return (day.year, 1 if day.month <= 6 else 2)


def _semester_end(day: date) -> date:
    return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)


def semester_day_counts(due_date: date, as_of: date) -> list[tuple[tuple[int, int], int]]:
    """The days late (from the day after `due_date` to `as_of`) counted per half-year, in order."""
    counts = []
    day = due_date + timedelta(days=1)
    while day <= as_of:
        end = min(_semester_end(day), as_of)
        counts.append((_semester(day), (end - day).days + 1))
        day = end + timedelta(days=1)
    return counts


def _semester_rate(rates, semester) -> Decimal | None:
    """The half-year's rate; until the bookkeeper enters a newly published one, the latest
    earlier half-year's (the rate changes twice a year at most, by the BOE's resolution)."""
    if semester in rates:
        return rates[semester]
    earlier = [key for key in rates if key < semester]
    return rates[max(earlier)] if earlier else None


def late_charges(
    *, rule: LateChargeRule, amount: Decimal, due_date: date, as_of: date, paid: Decimal = ZERO
) -> LateCharges:
    """The charges for `amount` (less what was `paid`) due on `due_date`, as of `as_of`."""
    if amount < 0:
        raise ValidationFailed(_("The amount cannot be negative."), fields={"amount": [_("Enter a positive amount.")]})
    if paid < 0:
        raise ValidationFailed(
            _("The amount paid cannot be negative."), fields={"paid": [_("Enter a positive amount.")]}
        )
    days = max((as_of - due_date).days, 0)
    outstanding = amount - paid
    if days == 0 or outstanding <= 0:
        return LateCharges(fine=ZERO, interest=ZERO, compensation=ZERO, total=ZERO, days=days)

    fine = round_money(outstanding * rule.fine_percent / HUNDRED)
    # Each part is exact (Decimal division of a few digits); only their sum is rounded.
    interest = outstanding * rule.monthly_interest_percent * days / (HUNDRED * 30)
    if rule.annual_interest_percent is not None:
        interest += outstanding * rule.annual_interest_percent * days / (HUNDRED * 365)
    elif rule.semester_rates is not None:
        weighted = Decimal(0)
        for semester, count in semester_day_counts(due_date, as_of):
            rate = _semester_rate(rule.semester_rates, semester)
            if rate is None:
                year, half = semester
                message = (
                    _("No late-payment interest rate is set for the first half of %(year)s.")
                    if half == 1
                    else _("No late-payment interest rate is set for the second half of %(year)s.")
                ) % {"year": year}
                raise ValidationFailed(message, fields={"as_of": [message]})
            weighted += rate * count
        interest += outstanding * weighted / (HUNDRED * 365)
    interest = round_money(interest)
    compensation = round_money(rule.fixed_compensation)
    return LateCharges(
        fine=fine,
        interest=interest,
        compensation=compensation,
        total=fine + interest + compensation,
        days=days,
    )
