"""Aging buckets and late-payment charges, with hand-computed exact cents."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from retaguarda.collections.calculations import (
    AGING_BUCKET_LABELS,
    AGING_BUCKETS,
    BR_LATE_CHARGES,
    ES_LATE_CHARGES,
    ES_LATE_PAYMENT_RATES,
    LATE_CHARGE_RULES,
    LateChargeRule,
    LateCharges,
    aging_bucket,
    aging_summarise,
    late_charges,
    semester_day_counts,
)
from retaguarda.common.errors import ValidationFailed

D = Decimal
AS_OF = date(2026, 4, 30)


@pytest.mark.parametrize(
    "days_overdue, bucket",
    [
        (-10, "current"),
        (0, "current"),
        (1, "1_30"),
        (30, "1_30"),
        (31, "31_60"),
        (60, "31_60"),
        (61, "61_90"),
        (90, "61_90"),
        (91, "over_90"),
        (400, "over_90"),
    ],
)
def test_aging_bucket_boundaries(days_overdue, bucket):
    assert aging_bucket(AS_OF - timedelta(days=days_overdue), AS_OF) == bucket


def test_every_bucket_has_a_label():
    assert set(AGING_BUCKET_LABELS) == set(AGING_BUCKETS)
    assert str(AGING_BUCKET_LABELS["over_90"]) == "Over 90 days overdue"


def test_aging_summarise_per_party_and_total_in_one_pass():
    items = iter(
        [
            (1, AS_OF, D("100.00")),  # due today: current
            (1, AS_OF - timedelta(days=30), D("20.50")),
            (1, AS_OF - timedelta(days=31), D("0.01")),
            (2, AS_OF - timedelta(days=91), D("1000.00")),
            (2, AS_OF - timedelta(days=61), D("3.33")),
            (1, AS_OF - timedelta(days=5), D("9.50")),
        ]
    )
    summary = aging_summarise(items, AS_OF)
    zero = D("0.00")
    assert summary == {
        1: {"current": D("100.00"), "1_30": D("30.00"), "31_60": D("0.01"), "61_90": zero, "over_90": zero},
        2: {"current": zero, "1_30": zero, "31_60": zero, "61_90": D("3.33"), "over_90": D("1000.00")},
        None: {
            "current": D("100.00"),
            "1_30": D("30.00"),
            "31_60": D("0.01"),
            "61_90": D("3.33"),
            "over_90": D("1000.00"),
        },
    }
    assert list(summary[1]) == list(AGING_BUCKETS)


def test_aging_summarise_of_nothing_has_zero_totals():
    assert aging_summarise([], AS_OF) == {None: dict.fromkeys(AGING_BUCKETS, D("0.00"))}


def test_br_fine_and_interest_pro_rata_die():
    # 2 % fine = 20.00; 1 % a month for 45 days = 1000 × 0.01 / 30 × 45 = 15.00.
    charges = late_charges(
        rule=BR_LATE_CHARGES, amount=D("1000.00"), due_date=date(2026, 1, 10), as_of=date(2026, 2, 24)
    )
    assert charges == LateCharges(
        fine=D("20.00"), interest=D("15.00"), compensation=D("0.00"), total=D("35.00"), days=45
    )


def test_br_interest_rounds_half_up_once():
    # 333.33 × 0.02 = 6.6666 → 6.67; 333.33 × 0.01 × 7 / 30 = 0.77777 → 0.78.
    charges = late_charges(rule=BR_LATE_CHARGES, amount=D("333.33"), due_date=date(2026, 3, 1), as_of=date(2026, 3, 8))
    assert (charges.fine, charges.interest, charges.total, charges.days) == (D("6.67"), D("0.78"), D("7.45"), 7)


def test_br_charges_apply_to_what_is_still_owed():
    # 600.00 outstanding: fine 600 × 2 % = 12.00; interest 600 × 0.01 × 45 / 30 = 9.00.
    charges = late_charges(
        rule=BR_LATE_CHARGES, amount=D("1000.00"), paid=D("400.00"), due_date=date(2026, 1, 10), as_of=date(2026, 2, 24)
    )
    assert (charges.fine, charges.interest, charges.total) == (D("12.00"), D("9.00"), D("21.00"))


def test_es_interest_at_the_semester_rate_and_compensation():
    # Second half of 2025: 10.15 %. 1,210.00 × 10.15 % × 60 / 365 = 20.18876… → 20.19.
    charges = late_charges(
        rule=ES_LATE_CHARGES, amount=D("1210.00"), due_date=date(2025, 7, 1), as_of=date(2025, 8, 30)
    )
    assert charges == LateCharges(
        fine=D("0.00"), interest=D("20.19"), compensation=D("40.00"), total=D("60.19"), days=60
    )


def test_es_interest_across_two_semesters_takes_each_days_rate():
    # 2 to 30 June 2025: 29 days at 11.15 %; 1 to 31 July: 31 days at 10.15 %.
    # 1,210.00 × (29 × 11.15 + 31 × 10.15) / 36,500 = 1,210 × 638 / 36,500 = 21.15014… → 21.15.
    assert semester_day_counts(date(2025, 6, 1), date(2025, 7, 31)) == [((2025, 1), 29), ((2025, 2), 31)]
    charges = late_charges(
        rule=ES_LATE_CHARGES, amount=D("1210.00"), due_date=date(2025, 6, 1), as_of=date(2025, 7, 31)
    )
    assert (charges.interest, charges.compensation, charges.total, charges.days) == (
        D("21.15"),
        D("40.00"),
        D("61.15"),
        60,
    )


def test_es_leap_year_still_counts_over_365():
    # 29 Feb 2024 is a day late like any other: 10,000.00 × 12.50 % × 1 / 365 = 3.42465… → 3.42.
    charges = late_charges(
        rule=ES_LATE_CHARGES, amount=D("10000.00"), due_date=date(2024, 2, 28), as_of=date(2024, 2, 29)
    )
    assert (charges.interest, charges.days) == (D("3.42"), 1)


def test_es_half_year_not_entered_yet_keeps_the_latest_rate_and_before_the_table_is_refused():
    # 2026 H2 is not in the table: 2026 H1's 10.15 % applies. 10,000.00 × 10.15 % × 10 / 365 = 27.808… → 27.81
    charges = late_charges(
        rule=ES_LATE_CHARGES, amount=D("10000.00"), due_date=date(2026, 7, 5), as_of=date(2026, 7, 15)
    )
    assert charges.interest == D("27.81")
    with pytest.raises(ValidationFailed) as refused:
        late_charges(rule=ES_LATE_CHARGES, amount=D("100.00"), due_date=date(2019, 6, 15), as_of=date(2019, 7, 2))
    assert refused.value.message == "No late-payment interest rate is set for the first half of 2019."


def test_es_rates_table_holds_the_published_values():
    assert ES_LATE_PAYMENT_RATES[(2024, 1)] == D("12.50")
    assert ES_LATE_PAYMENT_RATES[(2025, 1)] == D("11.15")
    assert ES_LATE_PAYMENT_RATES[(2025, 2)] == D("10.15")
    assert LATE_CHARGE_RULES["ES"] is ES_LATE_CHARGES and LATE_CHARGE_RULES["BR"] is BR_LATE_CHARGES


def test_fixed_annual_rate_rule_is_configurable():
    rule = LateChargeRule(country="PT", annual_interest_percent=D("10.00"), fixed_compensation=D("40"))
    # 730.00 × 10 % × 73 / 365 = 14.60.
    charges = late_charges(rule=rule, amount=D("730.00"), due_date=date(2026, 1, 1), as_of=date(2026, 3, 15))
    assert charges == LateCharges(
        fine=D("0.00"), interest=D("14.60"), compensation=D("40.00"), total=D("54.60"), days=73
    )


@pytest.mark.parametrize("rule", [BR_LATE_CHARGES, ES_LATE_CHARGES])
@pytest.mark.parametrize("as_of", [date(2026, 1, 10), date(2026, 1, 1)])
def test_not_overdue_costs_nothing(rule, as_of):
    charges = late_charges(rule=rule, amount=D("1000.00"), due_date=date(2026, 1, 10), as_of=as_of)
    assert charges == LateCharges(fine=D("0.00"), interest=D("0.00"), compensation=D("0.00"), total=D("0.00"), days=0)


def test_fully_paid_costs_nothing():
    charges = late_charges(
        rule=ES_LATE_CHARGES, amount=D("500.00"), paid=D("500.00"), due_date=date(2025, 7, 1), as_of=date(2025, 9, 1)
    )
    assert (charges.total, charges.compensation, charges.days) == (D("0.00"), D("0.00"), 62)


@pytest.mark.parametrize("field, kwargs", [("amount", {"amount": D("-1.00")}), ("paid", {"paid": D("-0.01")})])
def test_negative_amounts_are_refused(field, kwargs):
    arguments = {"rule": BR_LATE_CHARGES, "amount": D("10.00"), "due_date": date(2026, 1, 1), "as_of": date(2026, 2, 1)}
    arguments.update(kwargs)
    with pytest.raises(ValidationFailed) as refused:
        late_charges(**arguments)
    assert field in refused.value.fields
