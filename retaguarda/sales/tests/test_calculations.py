"""The pure arithmetic of orders: line amounts rounded once, and statuses derived from quantities."""

from decimal import Decimal

import pytest

from retaguarda.sales.calculations import (
    LineQuantities,
    billing_status,
    fulfilment_status,
    is_backordered,
    line_amount,
)

D = Decimal


@pytest.mark.parametrize(
    "quantity, price, discount, amount",
    [
        ("3", "19.99", "10", "53.97"),  # 53.973
        ("4", "0.3333", "0", "1.33"),  # 1.3332
        ("1", "0.125", "0", "0.13"),  # half-up, not banker's
        ("2.5", "3.3333", "12.5", "7.29"),  # 7.29160…
        ("1", "10", "100", "0.00"),
        ("0.001", "0.0001", "0", "0.00"),
    ],
)
def test_line_amount_rounds_once_half_up_to_the_cent(quantity, price, discount, amount):
    assert line_amount(quantity=D(quantity), unit_price=D(price), discount_percent=D(discount)) == D(amount)


def q(quantity, allocated="0", shipped="0", invoiced="0"):
    return LineQuantities(quantity=D(quantity), allocated=D(allocated), shipped=D(shipped), invoiced=D(invoiced))


@pytest.mark.parametrize(
    "lines, status",
    [
        ([q("2"), q("1")], "not_shipped"),
        ([q("2", shipped="1"), q("1")], "partially_shipped"),
        ([q("2", shipped="2"), q("1", shipped="1")], "shipped"),
        ([q("2", shipped="2"), q("1", allocated="1")], "partially_shipped"),
        ([], "not_shipped"),
    ],
)
def test_fulfilment_status_follows_the_shipped_quantities(lines, status):
    assert fulfilment_status(lines) == status


@pytest.mark.parametrize(
    "lines, status",
    [
        ([q("2", shipped="2")], "not_invoiced"),
        ([q("2", shipped="2", invoiced="1")], "partially_invoiced"),
        ([q("2", shipped="2", invoiced="2"), q("1", invoiced="1")], "invoiced"),
    ],
)
def test_billing_status_follows_the_invoiced_quantities(lines, status):
    assert billing_status(lines) == status


def test_backordered_is_what_is_neither_reserved_nor_shipped():
    line = q("5", allocated="2", shipped="1")
    assert (line.open, line.backordered) == (D("4"), D("2"))
    assert q("5", allocated="4", shipped="1").backordered == D("0.000")
    assert is_backordered([q("1", allocated="1"), line]) is True
    assert is_backordered([q("1", allocated="1"), q("2", shipped="2")]) is False
