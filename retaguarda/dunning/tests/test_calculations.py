"""The pure rules of dunning: days overdue, the level reached (never going back), a letter's
share of the late charges, and when a promise counts as kept."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest

from retaguarda.dunning.calculations import (
    Charges,
    charges_due,
    days_overdue,
    level_advanced,
    level_reached,
    promise_kept,
)


@dataclass(frozen=True)
class Level:
    days_overdue: int
    name: str


REMINDER, SECOND, FINAL, LEGAL = Level(7, "reminder"), Level(21, "second"), Level(45, "final"), Level(60, "legal")
LEVELS = [SECOND, REMINDER, LEGAL, FINAL]  # in no particular order


def test_days_overdue_counts_from_the_day_after_the_due_date():
    due = datetime.date(2026, 2, 4)
    assert [days_overdue(due, due + datetime.timedelta(days=n)) for n in (-3, 0, 1, 28)] == [0, 0, 1, 28]


@pytest.mark.parametrize(
    "days, expected", [(0, None), (6, None), (7, REMINDER), (20, REMINDER), (21, SECOND), (59, FINAL), (400, LEGAL)]
)
def test_the_highest_level_the_days_reach(days, expected):
    assert level_reached(LEVELS, days) == expected


def test_levels_move_up_even_past_several_at_once_and_never_down():
    assert level_advanced(LEVELS, current=None, current_days=0, days=50) == (FINAL, True)
    assert level_advanced(LEVELS, current=FINAL, current_days=45, days=50) == (FINAL, False)
    assert level_advanced(LEVELS, current=FINAL, current_days=45, days=10) == (FINAL, False)
    assert level_advanced(LEVELS, current=None, current_days=0, days=3) == (None, False)


def test_a_level_moved_to_more_days_is_not_sent_again():
    moved = Level(30, "second")
    levels = [REMINDER, moved, FINAL]
    assert level_advanced(levels, current=moved, current_days=21, days=30) == (moved, False)
    assert level_advanced(levels, current=moved, current_days=21, days=45) == (FINAL, True)
    # The level reached was removed: the invoice stands at the highest one its threshold reaches.
    assert level_advanced([REMINDER, FINAL], current=None, current_days=21, days=30) == (REMINDER, False)


def test_one_off_charges_are_charged_once_and_interest_by_difference():
    now = Charges(fine=Decimal("20.00"), compensation=Decimal("40.00"), interest=Decimal("15.00"))
    before = Charges(interest=Decimal("7.00"))
    first = charges_due(now=now, until_before=Charges(), fine_charged=Decimal(0), compensation_charged=Decimal(0))
    later = charges_due(
        now=now, until_before=before, fine_charged=Decimal("20.00"), compensation_charged=Decimal("40.00")
    )
    assert (first.fine, first.compensation, first.interest, first.total) == (
        Decimal("20.00"),
        Decimal("40.00"),
        Decimal("15.00"),
        Decimal("75.00"),
    )
    assert (later.fixed, later.interest) == (Decimal("0.00"), Decimal("8.00"))
    # After a partial payment, interest up to the last letter may exceed today's on what is left.
    shrunk = charges_due(
        now=Charges(interest=Decimal("3.00")),
        until_before=before,
        fine_charged=Decimal(1),
        compensation_charged=Decimal(1),
    )
    assert shrunk.total == Decimal("0.00")


@pytest.mark.parametrize(
    "open_now, kept",
    [(Decimal("1210.00"), False), (Decimal("710.01"), False), (Decimal("710.00"), True), (Decimal(0), True)],
)
def test_a_promise_is_kept_once_the_open_amount_fell_by_the_amount(open_now, kept):
    assert promise_kept(open_at_promise=Decimal("1210.00"), open_now=open_now, amount=Decimal("500.00")) is kept
