"""Sales order services: all-or-nothing confirmation, back-orders, edits, cancel, close."""

from decimal import Decimal

import pytest

from retaguarda.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from retaguarda.core.models import AuditLog, OutboxEvent, Sequence
from retaguarda.core.testing import actor_build
from retaguarda.inventory.models import Allocation, StockLevel
from retaguarda.inventory.services import stock_receive
from retaguarda.inventory.testing import stocked_product, warehouse_build
from retaguarda.parties.models import Party
from retaguarda.parties.services import party_block
from retaguarda.parties.testing import party_build
from retaguarda.sales.models import SalesOrder, SalesOrderLine
from retaguarda.sales.services import (
    sales_order_cancel,
    sales_order_close,
    sales_order_confirm,
    sales_order_create,
    sales_order_update,
)
from retaguarda.sales.testing import order_build

D = Decimal


@pytest.fixture
def warehouse(company):
    return warehouse_build(company, code="MAIN", name="Main")


@pytest.fixture
def customer(company):
    return party_build(company, legal_name="Loja Azul SL")


def level(product, warehouse):
    row = StockLevel.objects.get(product=product, warehouse=warehouse)
    return (row.on_hand, row.allocated)


def state():
    """Everything a refused action must leave untouched."""
    return (
        sorted(SalesOrder.objects.values_list("pk", "status", "is_backordered", "amount_untaxed")),
        sorted(
            SalesOrderLine.objects.values_list("pk", "quantity", "quantity_allocated", "quantity_shipped", "amount")
        ),
        sorted(StockLevel.objects.values_list("pk", "on_hand", "allocated")),
        sorted(Allocation.objects.values_list("pk", "line_id", "quantity")),
        sorted(Sequence.objects.values_list("series", "last_number")),
        Party.objects.count(),
        AuditLog.objects.count(),
        OutboxEvent.objects.count(),
    )


def test_create_and_confirm_reserves_every_line_and_prices_exactly(admin_actor, warehouse, customer):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", sku="A")
    b = stocked_product(admin_actor.company, warehouse=warehouse, quantity="4", sku="B")
    order = sales_order_create(
        actor=admin_actor,
        customer_id=customer.pk,
        external_ref="SHOP-1001",
        lines=[
            {"sku": "A", "quantity": "3", "unit_price": "19.99", "discount_percent": "10"},
            {"sku": "B", "quantity": "4", "unit_price": "0.3333"},
            {"product_id": a.pk, "quantity": "1.5"},
        ],
        confirm=True,
    )
    order.refresh_from_db()
    assert (order.status, order.number, order.fulfilment_status, order.is_backordered) == (
        "confirmed",
        f"SO{order.ordered_at.year}-000001",
        "not_shipped",
        False,
    )
    lines = list(order.lines.order_by("position"))
    # 3 × 19.99 × 0.9 = 53.973 → 53.97; 4 × 0.3333 = 1.3332 → 1.33; 1.5 × 10.00 (list price) = 15.00
    assert [(ln.product.sku, ln.quantity, ln.amount, ln.quantity_allocated) for ln in lines] == [
        ("A", D("3.000"), D("53.97"), D("3.000")),
        ("B", D("4.000"), D("1.33"), D("4.000")),
        ("A", D("1.500"), D("15.00"), D("1.500")),
    ]
    assert order.amount_untaxed == D("70.30")
    assert level(a, warehouse) == (D("10.000"), D("4.500"))
    assert level(b, warehouse) == (D("4.000"), D("4.000"))
    assert sorted(Allocation.objects.values_list("line_id", "quantity")) == sorted(
        [(str(lines[0].pk), D("3.000")), (str(lines[1].pk), D("4.000")), (str(lines[2].pk), D("1.500"))]
    )
    confirmed = OutboxEvent.objects.get(name="order.confirmed")
    assert (confirmed.payload["status"], confirmed.payload["external_ref"]) == ("confirmed", "SHOP-1001")
    assert OutboxEvent.objects.filter(name="stock.out", payload__sku="B").count() == 1
    assert list(
        AuditLog.objects.filter(object_id=str(order.pk), object_type="sales.salesorder")
        .values_list("action", flat=True)
        .order_by("pk")
    ) == ["salesorder.create", "salesorder.confirm"]


def test_one_short_line_rejects_the_whole_order_and_writes_nothing(admin_actor, warehouse, customer):
    stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", sku="A")
    stocked_product(admin_actor.company, warehouse=warehouse, quantity="1", sku="B")
    stocked_product(admin_actor.company, warehouse=warehouse, quantity="0", sku="C")
    before = state()
    with pytest.raises(Conflict) as info:
        sales_order_create(
            actor=admin_actor,
            customer_id=customer.pk,
            lines=[{"sku": "A", "quantity": "2"}, {"sku": "B", "quantity": "3"}, {"sku": "C", "quantity": "1"}],
            confirm=True,
        )
    assert info.value.code == "insufficient_stock"
    assert [(d["sku"], d["requested"], d["available"]) for d in info.value.details] == [
        ("B", "3.000", "1.000"),
        ("C", "1.000", "0.000"),
    ]
    assert set(info.value.fields) == {"lines.1.quantity", "lines.2.quantity"}
    assert state() == before


def test_back_orders_when_the_company_allows_them_and_arrivals_serve_them_in_promise_order(
    admin_actor, warehouse, customer
):
    company = admin_actor.company
    company.allow_backorders = True
    company.save()
    a = stocked_product(company, warehouse=warehouse, quantity="2", sku="A")
    late = order_build(company, warehouse=warehouse, customer=customer, lines=[(a, 2)], promised_date="2026-12-20")
    first = order_build(company, warehouse=warehouse, customer=customer, lines=[(a, 3)], promised_date="2026-12-01")
    second = order_build(company, warehouse=warehouse, customer=customer, lines=[(a, 2)], promised_date="2026-12-05")
    assert [(o.status, o.is_backordered) for o in (late, first, second)] == [
        ("confirmed", False),
        ("confirmed", True),
        ("confirmed", True),
    ]
    assert level(a, warehouse) == (D("2.000"), D("2.000"))
    stock_receive(actor=admin_actor, product_id=a.pk, warehouse_id=warehouse.pk, quantity="4", unit_cost="1")
    first_line = SalesOrderLine.objects.get(order=first)
    second_line = SalesOrderLine.objects.get(order=second)
    assert (first_line.quantity_allocated, second_line.quantity_allocated) == (D("3.000"), D("1.000"))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_backordered, second.is_backordered) == (False, True)
    assert level(a, warehouse) == (D("6.000"), D("6.000"))
    assert OutboxEvent.objects.filter(name="order.allocated").count() == 2


def test_cancel_releases_the_reservation_and_is_refused_twice(admin_actor, warehouse, customer):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="5", sku="A")
    order = order_build(admin_actor.company, warehouse=warehouse, customer=customer, lines=[(a, 4)])
    assert level(a, warehouse) == (D("5.000"), D("4.000"))
    sales_order_cancel(actor=admin_actor, order_id=order.pk, reason="Customer changed their mind")
    order.refresh_from_db()
    assert (order.status, order.cancel_reason, order.cancelled_by_id) == (
        "cancelled",
        "Customer changed their mind",
        admin_actor.user.pk,
    )
    assert level(a, warehouse) == (D("5.000"), D("0.000"))
    assert not Allocation.objects.exists()
    assert SalesOrderLine.objects.get(order=order).quantity_allocated == D("0.000")
    assert OutboxEvent.objects.filter(name="order.cancelled").count() == 1
    before = state()
    with pytest.raises(Conflict) as info:
        sales_order_cancel(actor=admin_actor, order_id=order.pk)
    assert info.value.code == "invalid_transition"
    with pytest.raises(Conflict):
        sales_order_confirm(actor=admin_actor, order_id=order.pk)
    assert state() == before


def test_editing_a_confirmed_order_reallocates_the_difference(admin_actor, warehouse, customer):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", sku="A")
    b = stocked_product(admin_actor.company, warehouse=warehouse, quantity="3", sku="B")
    c = stocked_product(admin_actor.company, warehouse=warehouse, quantity="2", sku="C")
    order = order_build(admin_actor.company, warehouse=warehouse, customer=customer, lines=[(a, 4, "5"), (b, 1, "2")])
    line_a, line_b = order.lines.order_by("position")
    sales_order_update(
        actor=admin_actor,
        order_id=order.pk,
        lines=[{"id": line_a.pk, "sku": "A", "quantity": "6", "unit_price": "5"}, {"sku": "C", "quantity": "2"}],
    )
    assert level(a, warehouse) == (D("10.000"), D("6.000"))
    assert level(b, warehouse) == (D("3.000"), D("0.000"))
    assert level(c, warehouse) == (D("2.000"), D("2.000"))
    order.refresh_from_db()
    assert order.amount_untaxed == D("50.00")
    assert [(ln.product.sku, ln.quantity, ln.quantity_allocated) for ln in order.lines.order_by("position")] == [
        ("A", D("6.000"), D("6.000")),
        ("C", D("2.000"), D("2.000")),
    ]
    # Asking for more than there is refuses the whole edit.
    before = state()
    with pytest.raises(Conflict) as info:
        sales_order_update(
            actor=admin_actor, order_id=order.pk, lines=[{"id": line_a.pk, "sku": "A", "quantity": "11"}]
        )
    assert info.value.details[0]["available"] == "4.000"
    assert state() == before
    # Lowering a quantity gives the stock back.
    sales_order_update(actor=admin_actor, order_id=order.pk, lines=[{"id": line_a.pk, "sku": "A", "quantity": "1"}])
    assert level(a, warehouse) == (D("10.000"), D("1.000"))
    assert level(c, warehouse) == (D("2.000"), D("0.000"))


def test_close_releases_what_is_left(admin_actor, warehouse, customer):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="5", sku="A")
    order = order_build(admin_actor.company, warehouse=warehouse, customer=customer, lines=[(a, 2)])
    sales_order_close(actor=admin_actor, order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "closed"
    assert level(a, warehouse) == (D("5.000"), D("0.000"))


def test_blocked_customer_gets_no_new_orders(admin_actor, warehouse, customer):
    stocked_product(admin_actor.company, warehouse=warehouse, quantity="5", sku="A")
    party_block(actor=admin_actor, party_id=customer.pk, reason="Overdue invoices")
    before = state()
    with pytest.raises(Conflict) as info:
        sales_order_create(actor=admin_actor, customer_id=customer.pk, lines=[{"sku": "A", "quantity": "1"}])
    assert (info.value.code, info.value.fields) == ("customer_blocked", {"customer": ["Overdue invoices"]})
    assert state() == before


def test_invalid_input_names_every_bad_field_and_writes_nothing(admin_actor, warehouse, customer):
    stocked_product(admin_actor.company, warehouse=warehouse, quantity="5", sku="A")
    before = state()
    with pytest.raises(ValidationFailed) as info:
        sales_order_create(
            actor=admin_actor,
            customer_id=customer.pk,
            currency="XXX",
            promised_date="tomorrow",
            lines=[
                {"sku": "NOPE", "quantity": "1"},
                {"sku": "A", "quantity": "0"},
                {"sku": "A", "quantity": "1.0005"},
                {"sku": "A", "quantity": "1", "unit_price": "-1", "discount_percent": "101"},
            ],
        )
    assert info.value.fields == {
        "currency": ["Choose a currency."],
        "promised_date": ["Enter a date as YYYY-MM-DD."],
        "lines.0.sku": ["No such product, or it is archived."],
        "lines.1.quantity": ["Enter a quantity greater than zero."],
        "lines.2.quantity": ["Use at most 3 decimal places."],
        "lines.3.unit_price": ["Enter a number of at least 0."],
        "lines.3.discount_percent": ["Enter a number of at most 100."],
    }
    assert state() == before


def test_customer_found_by_tax_id_or_email_or_created(admin_actor, warehouse):
    stocked_product(admin_actor.company, warehouse=warehouse, quantity="9", sku="A")
    known = party_build(admin_actor.company, kind="person", tax_id="12345678Z", email="ana@example.com")
    by_tax_id = sales_order_create(
        actor=admin_actor, customer={"tax_id": "12.345.678-z", "name": "Ana"}, lines=[{"sku": "A", "quantity": 1}]
    )
    by_email = sales_order_create(
        actor=admin_actor, customer={"email": "ANA@example.com"}, lines=[{"sku": "A", "quantity": 1}]
    )
    assert by_tax_id.customer_id == by_email.customer_id == known.pk
    created = sales_order_create(
        actor=admin_actor,
        customer={"email": "new@example.com", "name": "Nova Cliente", "language": "pt-br"},
        lines=[{"sku": "A", "quantity": 1}],
    )
    party = Party.objects.get(pk=created.customer_id)
    assert (party.legal_name, party.email, party.kind, party.language, party.is_customer) == (
        "Nova Cliente",
        "new@example.com",
        "person",
        "pt-br",
        True,
    )
    before = state()
    with pytest.raises(ValidationFailed) as info:
        sales_order_create(
            actor=admin_actor, customer={"tax_id": "12345678A", "name": "X"}, lines=[{"sku": "A", "quantity": 1}]
        )
    assert list(info.value.fields) == ["customer.tax_id"]
    assert state() == before


def test_duplicate_shop_reference_is_refused(admin_actor, warehouse, customer):
    stocked_product(admin_actor.company, warehouse=warehouse, quantity="5", sku="A")
    first = sales_order_create(
        actor=admin_actor, customer_id=customer.pk, external_ref="W-1", lines=[{"sku": "A", "quantity": 1}]
    )
    before = state()
    with pytest.raises(Conflict) as info:
        sales_order_create(
            actor=admin_actor, customer_id=customer.pk, external_ref="W-1", lines=[{"sku": "A", "quantity": 1}]
        )
    assert (info.value.code, info.value.details) == (
        "duplicate_external_ref",
        [{"id": str(first.pk), "number": first.number}],
    )
    assert state() == before


@pytest.mark.parametrize("role", ["warehouse", "finance", "support", "hr", "legal"])
def test_roles_without_sales_change_are_denied_and_nothing_changes(company, warehouse, customer, role):
    a = stocked_product(company, warehouse=warehouse, quantity="5", sku="A")
    order = order_build(company, warehouse=warehouse, customer=customer, lines=[(a, 1)], confirm=False)
    actor = actor_build(company, role)
    before = state()
    for call in (
        lambda: sales_order_create(actor=actor, customer_id=customer.pk, lines=[{"sku": "A", "quantity": 1}]),
        lambda: sales_order_confirm(actor=actor, order_id=order.pk),
        lambda: sales_order_cancel(actor=actor, order_id=order.pk),
        lambda: sales_order_update(actor=actor, order_id=order.pk, notes="x"),
        lambda: sales_order_close(actor=actor, order_id=order.pk),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert state() == before


def test_sales_role_takes_orders(company, warehouse, customer):
    stocked_product(company, warehouse=warehouse, quantity="5", sku="A")
    actor = actor_build(company, "sales")
    order = sales_order_create(actor=actor, customer_id=customer.pk, lines=[{"sku": "A", "quantity": 2}], confirm=True)
    assert order.status == "confirmed"


def test_other_companies_orders_are_not_found(admin_actor, warehouse, customer):
    from retaguarda.core.testing import company_build

    other = company_build()
    other_wh = warehouse_build(other)
    a = stocked_product(other, warehouse=other_wh, quantity="5")
    order = order_build(other, warehouse=other_wh, lines=[(a, 1)])
    with pytest.raises(NotFound):
        sales_order_cancel(actor=admin_actor, order_id=order.pk)
    assert SalesOrder.objects.get(pk=order.pk).status == "confirmed"


@pytest.mark.parametrize("count", [1, 3, 30])
def test_create_and_confirm_take_a_fixed_number_of_queries(
    admin_actor, warehouse, customer, count, django_assert_num_queries
):
    products = [stocked_product(admin_actor.company, warehouse=warehouse, quantity="100") for _ in range(count)]
    # Warm the sequence row, so the count is the steady state.
    order_build(admin_actor.company, warehouse=warehouse, customer=customer, lines=[(products[0], 1)])
    lines = [{"product_id": p.pk, "quantity": "2", "unit_price": "3.50"} for p in products]
    with django_assert_num_queries(18):
        sales_order_create(
            actor=admin_actor, customer_id=customer.pk, warehouse_id=warehouse.pk, lines=lines, confirm=True
        )
