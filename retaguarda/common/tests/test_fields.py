from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from retaguarda.common.fields import MoneyField, QuantityField, ScaledDecimalField, round_money


def test_money_is_stored_as_minor_units_and_read_back_exactly():
    field = MoneyField()
    assert field.get_prep_value(Decimal("12.34")) == 1234
    assert field.get_prep_value("0.10") == 10
    assert field.get_prep_value("1,5") == 150
    assert field.from_db_value(1234, None, None) == Decimal("12.34")
    assert str(field.from_db_value(10, None, None)) == "0.10"


def test_quantity_has_three_places():
    field = QuantityField()
    assert field.get_prep_value(Decimal("2.125")) == 2125
    assert str(field.from_db_value(2125, None, None)) == "2.125"


def test_more_places_than_the_scale_are_refused_not_rounded():
    with pytest.raises(ValidationError) as info:
        MoneyField().get_prep_value(Decimal("0.005"))
    assert info.value.code == "max_decimal_places"


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", ""])
def test_non_numbers_are_refused(bad):
    with pytest.raises(ValidationError):
        ScaledDecimalField(scale=2).to_python(bad)


def test_sum_of_tenths_is_exact_where_floats_are_not():
    field = MoneyField()
    stored = sum(field.get_prep_value(Decimal("0.10")) for _ in range(10))
    assert field.from_db_value(stored, None, None) == Decimal("1.00")
    assert sum([0.1] * 10) != 1.0


@pytest.mark.parametrize(
    "value, expected", [("2.345", "2.35"), ("2.344", "2.34"), ("-2.345", "-2.35"), ("0.005", "0.01")]
)
def test_round_money_is_half_up(value, expected):
    assert round_money(Decimal(value)) == Decimal(expected)
