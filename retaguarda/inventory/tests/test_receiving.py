"""Receipts of many lines: exact levels, bins and average costs, all or nothing, fixed queries."""

from decimal import Decimal

import pytest

from retaguarda.catalog.testing import product_build
from retaguarda.common.errors import PermissionDenied, ValidationFailed
from retaguarda.core.models import AuditLog, OutboxEvent
from retaguarda.core.testing import actor_build
from retaguarda.inventory.models import StockBalance, StockCost, StockLevel, StockMove
from retaguarda.inventory.receiving import ReceiptLine, stock_receive_lines
from retaguarda.inventory.services import location_create
from retaguarda.inventory.testing import stocked_product, warehouse_build

D = Decimal


@pytest.fixture
def warehouse(company):
    return warehouse_build(company, code="MAIN")


def state():
    return (
        sorted(StockLevel.objects.values_list("product_id", "on_hand")),
        sorted(StockBalance.objects.values_list("product_id", "location_id", "on_hand")),
        sorted(StockCost.objects.values_list("product_id", "average_cost")),
        StockMove.objects.count(),
        AuditLog.objects.count(),
        OutboxEvent.objects.count(),
    )


def test_many_lines_land_in_their_bins_at_exact_average_costs(admin_actor, warehouse):
    company = admin_actor.company
    a = stocked_product(company, warehouse=warehouse, quantity="10", unit_cost="2.0000")
    b = product_build(company)
    bin_1 = location_create(actor=admin_actor, warehouse_id=warehouse.pk, code="A-01")
    stock_receive_lines(
        actor=admin_actor,
        warehouse_id=warehouse.pk,
        reference="NF 123",
        lines=[
            ReceiptLine(product_id=a.pk, quantity="5", unit_cost="3.5", location_id=bin_1.pk),
            ReceiptLine(product_id=b.pk, quantity="3", unit_cost="1.2345"),
            ReceiptLine(product_id=a.pk, quantity="1", unit_cost="0"),
        ],
    )
    # a: (10 × 2 + 5 × 3.5) / 15 = 2.5; then (15 × 2.5 + 1 × 0) / 16 = 2.34375 → 2.3438
    assert StockCost.objects.get(product=a).average_cost == D("2.3438")
    assert StockCost.objects.get(product=b).average_cost == D("1.2345")
    assert StockLevel.objects.get(product=a).on_hand == D("16.000")
    assert StockLevel.objects.get(product=b).on_hand == D("3.000")
    assert sorted(StockBalance.objects.filter(product=a).values_list("location__code", "on_hand")) == [
        ("MAIN/A-01", D("5.000")),
        ("MAIN/STOCK", D("11.000")),
    ]
    moves = StockMove.objects.filter(reference="NF 123").order_by("pk")
    assert [(m.product_id, m.quantity, m.unit_cost, m.from_location.kind, m.to_location.code) for m in moves] == [
        (a.pk, D("5.000"), D("3.5000"), "supplier", "MAIN/A-01"),
        (b.pk, D("3.000"), D("1.2345"), "supplier", "MAIN/STOCK"),
        (a.pk, D("1.000"), D("0.0000"), "supplier", "MAIN/STOCK"),
    ]
    event = OutboxEvent.objects.filter(name="stock.received").latest("pk")
    assert event.payload["average_costs"] == {a.sku: "2.3438", b.sku: "1.2345"}


def test_a_bad_line_refuses_the_whole_receipt(admin_actor, warehouse, company):
    a = stocked_product(company, warehouse=warehouse, quantity="1")
    other = warehouse_build(company, code="OTHER")
    foreign_bin = location_create(actor=admin_actor, warehouse_id=other.pk, code="X-01")
    before = state()
    with pytest.raises(ValidationFailed) as info:
        stock_receive_lines(
            actor=admin_actor,
            warehouse_id=warehouse.pk,
            lines=[
                ReceiptLine(product_id=a.pk, quantity="1", unit_cost="1"),
                ReceiptLine(product_id=a.pk, quantity="0", unit_cost="1"),
                ReceiptLine(product_id=a.pk, quantity="1", unit_cost="1", location_id=foreign_bin.pk),
                ReceiptLine(product_id=999999, quantity="1", unit_cost="1"),
            ],
        )
    assert info.value.fields == {
        "lines.1.quantity": ["Enter a quantity greater than zero."],
        "lines.2.location": ["Choose a location of this warehouse."],
        "lines.3.product_id": ["No such product."],
    }
    assert state() == before


def test_sales_cannot_receive(company, warehouse):
    a = stocked_product(company, warehouse=warehouse, quantity="1")
    sales = actor_build(company, "sales")
    before = state()
    with pytest.raises(PermissionDenied):
        stock_receive_lines(
            actor=sales,
            warehouse_id=warehouse.pk,
            lines=[ReceiptLine(product_id=a.pk, quantity="1", unit_cost="1")],
        )
    assert state() == before


@pytest.mark.parametrize("count", [1, 3, 30])
def test_fixed_number_of_queries(admin_actor, warehouse, count, django_assert_num_queries):
    products = [stocked_product(admin_actor.company, warehouse=warehouse, quantity="1") for _ in range(count)]
    lines = [ReceiptLine(product_id=p.pk, quantity="2", unit_cost="1") for p in products]
    with django_assert_num_queries(17):
        stock_receive_lines(actor=admin_actor, warehouse_id=warehouse.pk, lines=lines)
