from decimal import Decimal

import pytest

from retaguarda.inventory.calculations import moving_average_cost, round_unit_cost

D = Decimal


@pytest.mark.parametrize(
    "on_hand, average, received, cost, expected",
    [
        ("0", "0", "10", "2", "2.0000"),
        ("-2", "5", "3", "1.23456", "1.2346"),
        ("10", "2", "5", "3.5", "2.5000"),
        ("18", "2.25", "7", "1.0001", "1.9000"),
        ("3", "1", "3", "0.00005", "0.5000"),
        ("1", "0", "2", "0.00015", "0.0001"),
    ],
)
def test_moving_average_cost(on_hand, average, received, cost, expected):
    result = moving_average_cost(on_hand=D(on_hand), average_cost=D(average), received=D(received), unit_cost=D(cost))
    assert str(result) == expected


def test_rounding_point_is_half_up_to_four_places():
    assert [str(round_unit_cost(D(v))) for v in ("1.00005", "1.00004999", "2.5")] == ["1.0001", "1.0000", "2.5000"]
