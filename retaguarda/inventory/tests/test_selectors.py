"""Availability: what can be promised per SKU, in total and per warehouse, in one query."""

from decimal import Decimal

from retaguarda.catalog.testing import product_build
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import company_build
from retaguarda.inventory.selectors import availability
from retaguarda.inventory.services import stock_allocate
from retaguarda.inventory.testing import stocked_product, warehouse_build

D = Decimal


def test_availability_per_sku_and_warehouse(company, django_assert_num_queries):
    main = warehouse_build(company, code="MAIN")
    north = warehouse_build(company, code="NORTH")
    closed = warehouse_build(company, code="CLOSED")
    a = stocked_product(company, warehouse=main, quantity="10", sku="A")
    stocked_product(company, warehouse=north, quantity="2.5", sku="B")
    from retaguarda.inventory.services import stock_receive

    actor = system_actor(company)
    stock_receive(actor=actor, product_id=a.pk, warehouse_id=north.pk, quantity="1", unit_cost="1")
    stock_receive(actor=actor, product_id=a.pk, warehouse_id=closed.pk, quantity="50", unit_cost="1")
    closed.is_active = False
    closed.save()
    stock_allocate(
        actor=actor, product_id=a.pk, warehouse_id=main.pk, quantity="3.5", reference_type="order", reference_id="1"
    )
    product_build(company, sku="EMPTY")
    other = company_build(country="BR")
    stocked_product(other, warehouse=warehouse_build(other), quantity="99", sku="A")

    with django_assert_num_queries(1):
        result = availability(company=company, skus=["A", "B", "EMPTY", "NOPE", "A"])
    assert result == {
        "A": {"total": D("7.500"), "warehouses": {"MAIN": D("6.500"), "NORTH": D("1.000")}},
        "B": {"total": D("2.500"), "warehouses": {"NORTH": D("2.500")}},
        "EMPTY": {"total": D("0.000"), "warehouses": {}},
        "NOPE": {"total": D("0.000"), "warehouses": {}},
    }
    assert str(result["A"]["total"]) == "7.500"


def test_availability_of_no_skus_asks_nothing(company, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert availability(company=company, skus=[]) == {}
