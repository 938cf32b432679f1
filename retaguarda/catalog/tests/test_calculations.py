"""Unit conversion and price tiers: pure functions, exact values."""

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

import pytest

from retaguarda.catalog.calculations import best_tier, convert, round_to_step
from retaguarda.common.errors import ValidationFailed

D = Decimal


@dataclass
class Unit:
    code: str
    category: str
    factor: Decimal
    rounding: Decimal


UN = Unit("un", "unit", D("1"), D("1.000"))
BOX12 = Unit("box12", "unit", D("12"), D("1.000"))
KG = Unit("kg", "weight", D("1"), D("0.001"))
G = Unit("g", "weight", D("0.001"), D("1.000"))
LB = Unit("lb", "weight", D("0.45359237"), D("0.001"))
OZ = Unit("oz", "weight", D("0.028349523125"), D("0.001"))
L = Unit("l", "volume", D("1"), D("0.001"))
ML = Unit("ml", "volume", D("0.001"), D("1.000"))
CM = Unit("cm", "length", D("0.01"), D("0.100"))
M = Unit("m", "length", D("1"), D("0.001"))


@pytest.mark.parametrize(
    ("quantity", "source", "target", "expected"),
    [
        ("2.5", KG, G, "2500.000"),
        ("1500", G, KG, "1.500"),
        ("1", G, KG, "0.001"),
        ("0.4", G, KG, "0.000"),  # 0.0004 kg rounds half-up to the kg precision
        ("0.5", G, KG, "0.001"),
        ("2", BOX12, UN, "24.000"),
        ("24", UN, BOX12, "2.000"),
        ("13", UN, BOX12, "1.000"),  # 1.083 boxes: whole boxes only
        ("18", UN, BOX12, "2.000"),  # 1.5 boxes rounds half-up
        ("1", LB, KG, "0.454"),  # 0.45359237
        ("1", KG, LB, "2.205"),  # 2.20462262…
        ("16", OZ, LB, "1.000"),  # exactly 1 lb
        ("750", ML, L, "0.750"),
        ("1.234", L, ML, "1234.000"),
        ("123", CM, M, "1.230"),
        ("1.234", M, CM, "123.400"),
        ("0", KG, G, "0.000"),
    ],
)
def test_convert_exact(quantity, source, target, expected):
    result = convert(D(quantity), source, target)
    assert result == D(expected)
    assert str(result) == expected


def test_convert_to_the_same_unit_returns_the_quantity_unchanged():
    assert str(convert(D("1.235"), KG, KG)) == "1.235"


def test_convert_rounding_mode_can_be_chosen():
    assert convert(D("18"), UN, BOX12, rounding=ROUND_DOWN) == D("1")


@pytest.mark.parametrize(("source", "target"), [(KG, L), (UN, KG), (ML, CM), (M, G)])
def test_convert_refuses_units_of_different_categories(source, target):
    with pytest.raises(ValidationFailed) as info:
        convert(D("1"), source, target)
    assert info.value.code == "uom_category_mismatch"
    assert info.value.fields == {"uom": ["Choose a unit of the same category."]}


@pytest.mark.parametrize(
    ("value", "step", "expected"),
    [
        ("1.4999", "1", "1.000"),
        ("1.5", "1", "2.000"),
        ("0.26", "0.5", "0.500"),
        ("0.24", "0.5", "0.000"),
        ("1.2345", "0.001", "1.235"),
    ],
)
def test_round_to_step(value, step, expected):
    assert str(round_to_step(D(value), D(step))) == expected


def test_round_to_step_refuses_a_zero_step():
    with pytest.raises(ValueError):
        round_to_step(D("1"), D("0"))


TIERS = [(D("0"), D("10.00")), (D("10"), D("9.00")), (D("100"), D("7.50"))]


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        ("1", (D("0"), D("10.00"))),
        ("9.999", (D("0"), D("10.00"))),
        ("10", (D("10"), D("9.00"))),
        ("250", (D("100"), D("7.50"))),
    ],
)
def test_best_tier_takes_the_lowest_price_reached(quantity, expected):
    assert best_tier(TIERS, D(quantity)) == expected


def test_best_tier_prefers_the_lower_price_even_from_a_lower_minimum():
    # A misconfigured list where the bigger tier is dearer: the customer gets the better price.
    assert best_tier([(D("1"), D("5.00")), (D("10"), D("6.00"))], D("20")) == (D("1"), D("5.00"))


def test_best_tier_none_when_no_minimum_is_reached():
    assert best_tier([(D("5"), D("1.00"))], D("4.999")) is None
    assert best_tier([], D("4")) is None
