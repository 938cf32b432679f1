"""Pure rules of dunning: how overdue an invoice is, which level that reaches, what a letter
charges on top of what was charged before, and whether a promise to pay was kept."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

from retaguarda.common.fields import round_money

ZERO = Decimal("0.00")


class LevelLike(Protocol):
    days_overdue: int


L = TypeVar("L", bound=LevelLike)


def days_overdue(due_date: datetime.date, as_of: datetime.date) -> int:
    """Whole days past the due date (0 on the due date and before)."""
    return max((as_of - due_date).days, 0)


def level_reached(levels: Iterable[L], days: int) -> L | None:
    """The highest level whose threshold `days` reaches, or None below the first."""
    reached = None
    for level in sorted(levels, key=lambda lv: lv.days_overdue):
        if level.days_overdue <= days:
            reached = level
    return reached


def level_advanced(
    levels: Sequence[L], *, current: L | None = None, current_days: int, days: int
) -> tuple[L | None, bool]:
    """(the level an invoice stands at, whether it moved up now). Levels only move up: an
    invoice keeps the threshold it reached (`current_days`) and the level it reached
    (`current`) even when the procedure changes, so a level moved to more days is not sent
    twice."""
    target = level_reached(levels, days)
    if target is not None and target.days_overdue > current_days and target != current:
        return target, True
    if current is not None and current in levels:
        return current, False
    return level_reached(levels, current_days), False


@dataclass(frozen=True)
class Charges:
    """What a letter adds for one invoice, in the invoice's currency."""

    fine: Decimal = ZERO
    compensation: Decimal = ZERO
    interest: Decimal = ZERO

    @property
    def fixed(self) -> Decimal:
        return self.fine + self.compensation

    @property
    def total(self) -> Decimal:
        return self.fine + self.compensation + self.interest


def charges_due(
    *, now: Charges, until_before: Charges, fine_charged: Decimal, compensation_charged: Decimal
) -> Charges:
    """This letter's share of the late charges of an invoice.

    `now` are the charges accrued from the due date to the letter's date on the amount open
    today, `until_before` those accrued up to the date interest was last charged, on the same
    amount: interest is their difference (never negative). The fine and the compensation are
    one-off: charged by the first letter that charges, never again.
    """
    return Charges(
        fine=ZERO if fine_charged > 0 else round_money(now.fine),
        compensation=ZERO if compensation_charged > 0 else round_money(now.compensation),
        interest=max(round_money(now.interest) - round_money(until_before.interest), ZERO),
    )


def promise_kept(*, open_at_promise: Decimal, open_now: Decimal, amount: Decimal) -> bool:
    """A promise is kept once what was open when it was made fell by the promised amount."""
    return open_now <= open_at_promise - amount
