"""The batched stock services a document calls once for all its lines: reserve, release, ship;
relocations and customer returns; the low / out-of-stock events and deviations; and the ledger's
invariants after a long mixed sequence."""

import random
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum

from retaguarda.catalog.testing import product_build
from retaguarda.common.errors import Conflict, ValidationFailed
from retaguarda.core.deviations import deviation_raise, deviation_title
from retaguarda.core.models import AuditLog, Deviation, OutboxEvent
from retaguarda.inventory.models import Allocation, Location, StockBalance, StockCost, StockLevel, StockMove
from retaguarda.inventory.services import (
    AllocationRequest,
    ShipmentRequest,
    location_create,
    stock_adjust,
    stock_allocate_lines,
    stock_receive,
    stock_release_lines,
    stock_relocate,
    stock_return_receive,
    stock_ship_lines,
    stock_transfer,
)
from retaguarda.inventory.testing import stocked_product, warehouse_build

D = Decimal


@pytest.fixture
def warehouse(company):
    return warehouse_build(company, code="MAIN", name="Main")


def level(product, warehouse):
    """(on hand, allocated) of the product in the warehouse."""
    row = StockLevel.objects.get(product=product, warehouse=warehouse)
    return (row.on_hand, row.allocated)


def balances(product):
    return dict(StockBalance.objects.filter(product=product).values_list("location__code", "on_hand"))


def state():
    """Everything a refused action must leave untouched."""
    return (
        sorted(StockBalance.objects.values_list("pk", "on_hand")),
        sorted(StockLevel.objects.values_list("pk", "on_hand", "allocated")),
        sorted(StockCost.objects.values_list("pk", "average_cost")),
        sorted(Allocation.objects.values_list("pk", "quantity")),
        StockMove.objects.count(),
        AuditLog.objects.count(),
        OutboxEvent.objects.count(),
        sorted(Deviation.objects.values_list("pk", "status")),
    )


def qty(value) -> Decimal:
    """A quantity as the calling area hands it over: checked and with its three places."""
    return D(value).quantize(D("0.001"))


def allocate(actor, warehouse, lines, *, reference_id="1", partial=False):
    """Reserve for order `reference_id`: `lines` are (line id, product, quantity)."""
    return stock_allocate_lines(
        actor=actor,
        warehouse=warehouse,
        reference_type="sales.order",
        reference_id=reference_id,
        lines=[
            AllocationRequest(product_id=p.pk, sku=p.sku, quantity=qty(q), line_id=line_id, field=f"lines.{n}.quantity")
            for n, (line_id, p, q) in enumerate(lines)
        ],
        partial=partial,
    )


def ship(actor, warehouse, lines, *, reference_id="1", reference="SH-1"):
    """Ship for order `reference_id`: `lines` are (line id, product, quantity, location)."""
    return stock_ship_lines(
        actor=actor,
        warehouse=warehouse,
        reference_type="sales.order",
        reference_id=reference_id,
        reference=reference,
        lines=[
            ShipmentRequest(product_id=p.pk, sku=p.sku, quantity=qty(q), line_id=line_id, location_id=loc.pk)
            for line_id, p, q, loc in lines
        ],
    )


def refused(call):
    """Run a refused batched service as its caller would, inside the caller's transaction: the
    services do not take a savepoint of their own, so the caller's transaction is rolled back."""
    with pytest.raises(Conflict) as info, transaction.atomic():
        call()
    return info.value


# --- allocate -----------------------------------------------------------------------------------


def test_allocate_lines_reserves_every_line_or_none(admin_actor, warehouse):
    company = admin_actor.company
    a = stocked_product(company, warehouse=warehouse, quantity="10", sku="A")
    b = stocked_product(company, warehouse=warehouse, quantity="2", sku="B")
    c = stocked_product(company, warehouse=warehouse, quantity="5", sku="C")
    before = state()
    error = refused(lambda: allocate(admin_actor, warehouse, [("1", a, "4"), ("2", b, "3"), ("3", c, "5")]))
    assert error.code == "insufficient_stock"
    assert error.message == "Not enough stock of B: 3.000 requested, 2.000 available."
    assert error.details == [{"line": "2", "sku": "B", "requested": "3.000", "available": "2.000"}]
    assert error.fields == {"lines.1.quantity": ["Not enough stock of B: 3.000 requested, 2.000 available."]}
    assert state() == before

    error = refused(lambda: allocate(admin_actor, warehouse, [("1", a, "11"), ("2", b, "3"), ("3", c, "5")]))
    assert error.message == "Not enough stock for 2 lines."
    assert error.details == [
        {"line": "1", "sku": "A", "requested": "11.000", "available": "10.000"},
        {"line": "2", "sku": "B", "requested": "3.000", "available": "2.000"},
    ]
    assert error.fields == {
        "lines.0.quantity": ["Not enough stock of A: 11.000 requested, 10.000 available."],
        "lines.1.quantity": ["Not enough stock of B: 3.000 requested, 2.000 available."],
    }
    assert state() == before

    granted = allocate(admin_actor, warehouse, [("1", a, "4"), ("2", b, "2"), ("3", c, "5")])
    assert granted == {"1": D("4.000"), "2": D("2.000"), "3": D("5.000")}
    assert [level(p, warehouse) for p in (a, b, c)] == [
        (D("10.000"), D("4.000")),
        (D("2.000"), D("2.000")),
        (D("5.000"), D("5.000")),
    ]
    rows = Allocation.objects.order_by("line_id").values_list("line_id", "product__sku", "warehouse__code", "quantity")
    assert list(rows) == [
        ("1", "A", "MAIN", D("4.000")),
        ("2", "B", "MAIN", D("2.000")),
        ("3", "C", "MAIN", D("5.000")),
    ]
    audit = AuditLog.objects.get(action="stock.allocate")
    assert (audit.object_type, audit.object_id) == ("sales.order", "1")
    assert audit.after == {
        "warehouse": "MAIN",
        "lines": [
            {"line": "1", "sku": "A", "quantity": "4.000"},
            {"line": "2", "sku": "B", "quantity": "2.000"},
            {"line": "3", "sku": "C", "quantity": "5.000"},
        ],
    }


def test_two_lines_of_one_product_are_summed_against_availability(admin_actor, warehouse):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="5", sku="A")
    before = state()
    error = refused(lambda: allocate(admin_actor, warehouse, [("1", a, "3"), ("2", a, "3")]))
    # The second line sees what the first left.
    assert error.details == [{"line": "2", "sku": "A", "requested": "3.000", "available": "2.000"}]
    assert error.fields == {"lines.1.quantity": ["Not enough stock of A: 3.000 requested, 2.000 available."]}
    assert state() == before
    assert allocate(admin_actor, warehouse, [("1", a, "3"), ("2", a, "2")]) == {"1": D("3.000"), "2": D("2.000")}
    assert level(a, warehouse) == (D("5.000"), D("5.000"))
    assert Allocation.objects.aggregate(total=Sum("quantity"))["total"] == D("5.000")


def test_partial_allocation_grants_what_there_is(admin_actor, warehouse):
    company = admin_actor.company
    a = stocked_product(company, warehouse=warehouse, quantity="5", sku="A")
    never = product_build(company, sku="NEVER")
    c = stocked_product(company, warehouse=warehouse, quantity="2", sku="C")
    granted = allocate(
        admin_actor,
        warehouse,
        [("1", a, "3"), ("2", a, "3"), ("3", never, "4"), ("4", c, "5")],
        partial=True,
    )
    assert granted == {"1": D("3.000"), "2": D("2.000"), "4": D("2.000")}
    assert (level(a, warehouse), level(c, warehouse)) == ((D("5.000"), D("5.000")), (D("2.000"), D("2.000")))
    assert not StockLevel.objects.filter(product=never).exists()
    assert sorted(Allocation.objects.values_list("line_id", "quantity")) == [
        ("1", D("3.000")),
        ("2", D("2.000")),
        ("4", D("2.000")),
    ]
    # Nothing left: a partial request grants nothing and writes nothing.
    before = state()
    assert allocate(admin_actor, warehouse, [("5", a, "1")], reference_id="2", partial=True) == {}
    assert state() == before


# --- release ------------------------------------------------------------------------------------


def test_release_lines_gives_back_everything(admin_actor, warehouse):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", sku="A")
    b = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", sku="B")
    allocate(admin_actor, warehouse, [("1", a, "3"), ("2", b, "2"), ("3", a, "1")])
    allocate(admin_actor, warehouse, [("1", a, "4")], reference_id="other")
    released = stock_release_lines(actor=admin_actor, reference_type="sales.order", reference_id="1")
    assert released == {"1": D("3.000"), "2": D("2.000"), "3": D("1.000")}
    assert (level(a, warehouse), level(b, warehouse)) == ((D("10.000"), D("4.000")), (D("10.000"), D("0.000")))
    assert list(Allocation.objects.values_list("reference_id", "line_id", "quantity")) == [("other", "1", D("4.000"))]
    audit = AuditLog.objects.get(action="stock.release")
    assert audit.before == {
        "lines": [
            {"line": "1", "quantity": "3.000"},
            {"line": "2", "quantity": "2.000"},
            {"line": "3", "quantity": "1.000"},
        ]
    }
    # Nothing left to release: nothing happens.
    before = state()
    assert stock_release_lines(actor=admin_actor, reference_type="sales.order", reference_id="1") == {}
    assert state() == before


def test_release_lines_partially_per_line(admin_actor, warehouse):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", sku="A")
    b = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", sku="B")
    allocate(admin_actor, warehouse, [("1", a, "3"), ("2", b, "2")])
    released = stock_release_lines(
        actor=admin_actor,
        reference_type="sales.order",
        reference_id="1",
        quantities={"1": D("1.5"), "2": D("5"), "9": D("1")},
    )
    # Line 2 had only 2 to give back; line 9 had nothing.
    assert released == {"1": D("1.500"), "2": D("2.000")}
    assert (level(a, warehouse), level(b, warehouse)) == ((D("10.000"), D("1.500")), (D("10.000"), D("0.000")))
    assert list(Allocation.objects.values_list("line_id", "quantity")) == [("1", D("1.500"))]


# --- ship ---------------------------------------------------------------------------------------


@pytest.fixture
def bins(admin_actor, warehouse):
    return (
        location_create(actor=admin_actor, warehouse_id=warehouse.pk, code="A-01"),
        location_create(actor=admin_actor, warehouse_id=warehouse.pk, code="A-02"),
    )


def _receive(actor, product, warehouse, quantity, unit_cost, location=None):
    stock_receive(
        actor=actor,
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        quantity=quantity,
        unit_cost=unit_cost,
        location_id=location.pk if location else None,
    )


def test_ship_lines_takes_stock_from_the_bins_and_consumes_the_reservation(admin_actor, warehouse, bins):
    a01, a02 = bins
    a = product_build(admin_actor.company, sku="A")
    b = product_build(admin_actor.company, sku="B")
    _receive(admin_actor, a, warehouse, "10", "2", a01)
    _receive(admin_actor, b, warehouse, "4", "3", a02)
    allocate(admin_actor, warehouse, [("1", a, "6"), ("2", b, "4")])
    moves = ship(admin_actor, warehouse, [("1", a, "4", a01), ("2", b, "4", a02)])
    assert [(m.product.sku, m.quantity, m.from_location.code, m.to_location.code) for m in moves] == [
        ("A", D("4.000"), "MAIN/A-01", "customer"),
        ("B", D("4.000"), "MAIN/A-02", "customer"),
    ]
    rows = StockMove.objects.filter(reason="shipment").order_by("pk")
    assert list(rows.values_list("unit_cost", "reference", "actor")) == [
        (D("2.0000"), "SH-1", admin_actor.user.pk),
        (D("3.0000"), "SH-1", admin_actor.user.pk),
    ]
    assert (level(a, warehouse), level(b, warehouse)) == ((D("6.000"), D("2.000")), (D("0.000"), D("0.000")))
    assert (balances(a), balances(b)) == ({"MAIN/A-01": D("6.000")}, {"MAIN/A-02": D("0.000")})
    # Line 1's reservation shrank to what is still to ship; line 2's is gone.
    assert list(Allocation.objects.values_list("line_id", "quantity")) == [("1", D("2.000"))]
    audit = AuditLog.objects.get(action="stock.ship")
    assert audit.after == {
        "warehouse": "MAIN",
        "reference": "SH-1",
        "lines": [{"line": "1", "sku": "A", "quantity": "4.000"}, {"line": "2", "sku": "B", "quantity": "4.000"}],
    }


def test_ship_lines_refuses_what_is_not_reserved_and_changes_nothing(admin_actor, warehouse, bins):
    a01, _a02 = bins
    a = product_build(admin_actor.company, sku="A")
    b = product_build(admin_actor.company, sku="B")
    _receive(admin_actor, a, warehouse, "10", "2", a01)
    _receive(admin_actor, b, warehouse, "10", "2", a01)
    allocate(admin_actor, warehouse, [("1", a, "2")])
    before = state()
    error = refused(lambda: ship(admin_actor, warehouse, [("1", a, "3", a01), ("2", b, "1", a01)]))
    assert error.code == "not_allocated"
    assert error.message == "Only reserved stock can be shipped: A, B not reserved for this order."
    assert error.details == [
        {"line": "1", "sku": "A", "requested": "3.000", "allocated": "2.000"},
        {"line": "2", "sku": "B", "requested": "1.000", "allocated": "0.000"},
    ]
    assert state() == before


def test_ship_lines_refuses_a_bin_that_holds_less_and_changes_nothing(admin_actor, warehouse, bins):
    a01, a02 = bins
    a = product_build(admin_actor.company, sku="A")
    _receive(admin_actor, a, warehouse, "3", "2", a01)
    _receive(admin_actor, a, warehouse, "3", "2", a02)
    allocate(admin_actor, warehouse, [("1", a, "5")])
    before = state()
    # Reserved 5 in the warehouse, but A-01 holds 3: the allocation was consumed before the
    # bins were checked, and the rollback undoes it.
    error = refused(lambda: ship(admin_actor, warehouse, [("1", a, "4", a01)]))
    assert error.code == "insufficient_stock"
    assert state() == before
    # Two lines from one bin add up: 2 + 2 > 3.
    error = refused(lambda: ship(admin_actor, warehouse, [("1", a, "2", a01), ("1", a, "2", a01)]))
    assert error.code == "insufficient_stock"
    assert state() == before
    ship(admin_actor, warehouse, [("1", a, "2", a01), ("1", a, "3", a02)])
    assert level(a, warehouse) == (D("1.000"), D("0.000"))
    assert balances(a) == {"MAIN/A-01": D("1.000"), "MAIN/A-02": D("0.000")}


def test_ship_lines_from_another_warehouse_than_the_reservation_is_refused(admin_actor, warehouse):
    north = warehouse_build(admin_actor.company, code="NORTH")
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="5", sku="A")
    _receive(admin_actor, a, north, "5", "1")
    allocate(admin_actor, warehouse, [("1", a, "2")])
    before = state()
    north_stock = Location.objects.get(code="NORTH/STOCK")
    error = refused(lambda: ship(admin_actor, north, [("1", a, "2", north_stock)]))
    assert (error.code, error.details) == (
        "not_allocated",
        [{"line": "1", "sku": "A", "requested": "2.000", "allocated": "0.000"}],
    )
    assert state() == before


@pytest.mark.parametrize("count", [1, 3, 30])
def test_allocate_and_ship_take_a_fixed_number_of_queries(admin_actor, warehouse, count, django_assert_num_queries):
    stock = Location.objects.get(code="MAIN/STOCK")
    products = [stocked_product(admin_actor.company, warehouse=warehouse, quantity="10") for _ in range(count)]
    # level lock, level update, allocations insert, audit
    with django_assert_num_queries(4):
        allocate(admin_actor, warehouse, [(str(n), p, "2") for n, p in enumerate(products)])
    # allocations lock, allocations delete, levels read, levels update, balances update, costs,
    # customer location, moves insert, audit
    with django_assert_num_queries(9):
        ship(admin_actor, warehouse, [(str(n), p, "2", stock) for n, p in enumerate(products)])
    assert {level(p, warehouse) for p in products} == {(D("8.000"), D("0.000"))}
    assert StockMove.objects.filter(reason="shipment").count() == count


# --- relocate and returns -----------------------------------------------------------------------


def test_relocate_moves_stock_between_locations_of_a_warehouse(admin_actor, warehouse, bins):
    a01, _a02 = bins
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", unit_cost="2.5", sku="A")
    allocate(admin_actor, warehouse, [("1", a, "3")])
    stock = Location.objects.get(code="MAIN/STOCK")
    move = stock_relocate(
        actor=admin_actor,
        product_id=a.pk,
        warehouse_id=warehouse.pk,
        from_location_id=stock.pk,
        to_location_id=a01.pk,
        quantity="4",
    )
    assert (move.from_location.code, move.to_location.code, move.quantity, move.unit_cost, move.reason) == (
        "MAIN/STOCK",
        "MAIN/A-01",
        D("4.000"),
        D("2.5000"),
        "relocation",
    )
    assert balances(a) == {"MAIN/STOCK": D("6.000"), "MAIN/A-01": D("4.000")}
    # The warehouse's figures do not change: same on hand, same reservation, same cost.
    assert level(a, warehouse) == (D("10.000"), D("3.000"))
    assert StockCost.objects.get(product=a).average_cost == D("2.5000")
    assert AuditLog.objects.filter(action="stock.relocate").count() == 1


def test_relocate_refusals_change_nothing(admin_actor, warehouse, bins):
    a01, _a02 = bins
    north = warehouse_build(admin_actor.company, code="NORTH")
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="6", sku="A")
    stock = Location.objects.get(code="MAIN/STOCK")
    before = state()

    def relocate(to, quantity="1", source=stock):
        return stock_relocate(
            actor=admin_actor,
            product_id=a.pk,
            warehouse_id=warehouse.pk,
            from_location_id=source.pk,
            to_location_id=to.pk,
            quantity=quantity,
        )

    with pytest.raises(Conflict) as info:
        relocate(a01, "7")
    assert (info.value.code, info.value.message, info.value.fields) == (
        "insufficient_stock",
        "Only 6.000 of A at MAIN/STOCK.",
        {"quantity": ["More than there is at the source location."]},
    )
    with pytest.raises(ValidationFailed) as info:
        relocate(stock)
    assert info.value.fields == {"to_location": ["Choose a location other than the source."]}
    with pytest.raises(ValidationFailed) as info:
        relocate(Location.objects.get(warehouse=north))
    assert info.value.fields == {"to_location": ["Choose a location of this warehouse."]}
    with pytest.raises(ValidationFailed) as info:
        relocate(a01, "0")
    assert info.value.fields == {"quantity": ["Enter a quantity greater than zero."]}
    assert state() == before


def test_returns_go_back_to_stock_or_to_scrap(admin_actor, warehouse, bins):
    a01, _a02 = bins
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", unit_cost="2", sku="A")
    back = stock_return_receive(
        actor=admin_actor,
        product_id=a.pk,
        warehouse_id=warehouse.pk,
        quantity="2",
        restock=True,
        reference="RMA-1",
        location_id=a01.pk,
    )
    assert (back.from_location.code, back.to_location.code, back.reason, back.unit_cost, back.reference) == (
        "customer",
        "MAIN/A-01",
        "return",
        D("2.0000"),
        "RMA-1",
    )
    assert level(a, warehouse) == (D("12.000"), D("0.000"))
    assert balances(a) == {"MAIN/STOCK": D("10.000"), "MAIN/A-01": D("2.000")}
    scrapped = stock_return_receive(
        actor=admin_actor, product_id=a.pk, warehouse_id=warehouse.pk, quantity="1", restock=False, reference="RMA-2"
    )
    assert (scrapped.from_location.code, scrapped.to_location.code, scrapped.unit_cost) == (
        "customer",
        "scrap",
        D("2.0000"),
    )
    # Scrapped goods never enter the warehouse; the average cost does not move either way.
    assert level(a, warehouse) == (D("12.000"), D("0.000"))
    assert balances(a) == {"MAIN/STOCK": D("10.000"), "MAIN/A-01": D("2.000")}
    assert StockCost.objects.get(product=a).average_cost == D("2.0000")
    assert list(AuditLog.objects.filter(action="stock.return").order_by("pk").values_list("after__to", flat=True)) == [
        "MAIN/A-01",
        "scrap",
    ]


# --- stock.low / stock.out and their deviations ------------------------------------------------------


def _open(kind):
    return list(Deviation.objects.filter(kind=kind, status__in=("open", "acknowledged")))


def test_low_and_out_events_and_deviations_open_and_close_with_availability(admin_actor, warehouse):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", sku="A")
    level_row = StockLevel.objects.get(product=a)
    StockLevel.objects.filter(pk=level_row.pk).update(reorder_point=D("4"))

    allocate(admin_actor, warehouse, [("1", a, "5")])
    assert _open("inventory.stock_low") == []  # 5 available, still above the reorder point
    allocate(admin_actor, warehouse, [("1", a, "1")], reference_id="2")
    events = list(OutboxEvent.objects.filter(name__startswith="stock.").exclude(name="stock.received"))
    assert [(e.name, e.payload) for e in events] == [
        (
            "stock.low",
            {"sku": "A", "warehouse": "MAIN", "available": "4.000", "reorder_point": "4.000", "product_id": a.pk},
        )
    ]
    (low,) = _open("inventory.stock_low")
    assert (low.object_type, low.object_id, low.object_repr, low.severity, low.owner_role, low.area) == (
        "inventory.stocklevel",
        str(level_row.pk),
        "A @ MAIN",
        "medium",
        "warehouse",
        "warehouse",
    )
    assert deviation_title(low) == "A is at or below its reorder point in MAIN (4.000 available)"

    allocate(admin_actor, warehouse, [("1", a, "4")], reference_id="3")
    assert OutboxEvent.objects.filter(name="stock.out").count() == 1
    (out,) = _open("inventory.stock_out")
    assert deviation_title(out) == "A is out of stock in MAIN"
    assert [d.pk for d in _open("inventory.stock_low")] == [low.pk]

    # Back above zero but not above the reorder point: out closes, low stays (the same row).
    _receive(admin_actor, a, warehouse, "2", "1")
    out.refresh_from_db()
    assert (out.status, out.ended_at is not None) == ("closed", True)
    assert [d.pk for d in _open("inventory.stock_low")] == [low.pk]
    # Above the reorder point: low closes too.
    stock_release_lines(actor=admin_actor, reference_type="sales.order", reference_id="3")
    low.refresh_from_db()
    assert low.status == "closed"
    assert _open("inventory.stock_out") == [] and _open("inventory.stock_low") == []
    assert OutboxEvent.objects.filter(name="stock.low").count() == 1


def test_releasing_a_reservation_closes_the_out_of_stock_deviation(admin_actor, warehouse):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="3", sku="A")
    allocate(admin_actor, warehouse, [("1", a, "3")])
    (out,) = _open("inventory.stock_out")
    stock_release_lines(actor=admin_actor, reference_type="sales.order", reference_id="1", quantities={"1": D("1")})
    out.refresh_from_db()
    assert out.status == "closed"


def test_coming_back_from_zero_under_the_reorder_point_opens_the_low_deviation(admin_actor, warehouse):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", sku="A")
    StockLevel.objects.filter(product=a).update(reorder_point=D("4"))
    # Straight from 10 to 0: out of stock, never reported low on the way.
    allocate(admin_actor, warehouse, [("1", a, "10")])
    assert (len(_open("inventory.stock_out")), len(_open("inventory.stock_low"))) == (1, 0)
    stock_release_lines(actor=admin_actor, reference_type="sales.order", reference_id="1", quantities={"1": D("3")})
    (low,) = _open("inventory.stock_low")
    assert deviation_title(low) == "A is at or below its reorder point in MAIN (3.000 available)"
    assert low.params == {"sku": "A", "warehouse": "MAIN", "available": "3.000", "reorder_point": "4.000"}
    assert _open("inventory.stock_out") == []
    assert OutboxEvent.objects.filter(name="stock.low").count() == 0


def test_never_two_open_deviations_for_one_level(admin_actor, warehouse):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", sku="A")
    level_row = StockLevel.objects.get(product=a)
    StockLevel.objects.filter(pk=level_row.pk).update(reorder_point=D("4"))
    # Someone (a detector) already reported it, and a member of staff acknowledged it.
    first = deviation_raise(
        company=admin_actor.company,
        kind="inventory.stock_low",
        object_type="inventory.stocklevel",
        object_id=level_row.pk,
        params={"sku": "A", "warehouse": "MAIN", "available": "4", "reorder_point": "4"},
    )
    Deviation.objects.filter(pk=first.pk).update(status="acknowledged")
    allocate(admin_actor, warehouse, [("1", a, "6")])
    assert OutboxEvent.objects.filter(name="stock.low").count() == 1
    assert [d.pk for d in _open("inventory.stock_low")] == [first.pk]
    # Down to zero and back into the low band: still the one low deviation.
    allocate(admin_actor, warehouse, [("1", a, "4")], reference_id="2")
    stock_release_lines(actor=admin_actor, reference_type="sales.order", reference_id="2", quantities={"1": D("1")})
    assert [d.pk for d in _open("inventory.stock_low")] == [first.pk]
    assert Deviation.objects.filter(kind="inventory.stock_low").count() == 1


# --- invariants ---------------------------------------------------------------------------------


def test_levels_match_their_balances_and_allocations_after_a_mixed_sequence(admin_actor, warehouse):
    """A fixed-seed walk of receipts, adjustments, relocations, transfers, reservations,
    releases, shipments and returns, refusals included; then every level is the sum of its
    location balances and of its allocations, and nothing is negative."""
    company = admin_actor.company
    north = warehouse_build(company, code="NORTH")
    main_bins = [Location.objects.get(code="MAIN/STOCK")] + [
        location_create(actor=admin_actor, warehouse_id=warehouse.pk, code=f"B{n}") for n in range(3)
    ]
    north_stock = Location.objects.get(code="NORTH/STOCK")
    products = [product_build(company, sku=f"P{n}") for n in range(4)]
    rng = random.Random(20261125)
    orders: dict[str, list] = {}
    outcomes = {"done": 0, "refused": 0}

    def run(call, *args, **kwargs):
        try:
            with transaction.atomic():
                call(*args, **kwargs)
            outcomes["done"] += 1
        except (Conflict, ValidationFailed):
            outcomes["refused"] += 1

    def reserve(order, lines, partial):
        granted = allocate(admin_actor, warehouse, lines, reference_id=order, partial=partial)
        by_id = {line_id: product for line_id, product, _q in lines}
        orders[order] = [(line_id, by_id[line_id], quantity) for line_id, quantity in granted.items()]

    for step in range(150):
        p = rng.choice(products)
        q = str(rng.randint(1, 6))
        op = rng.choice(["receive", "adjust", "relocate", "transfer", "allocate", "release", "ship", "return"])
        if op == "receive":
            where = rng.choice(main_bins + [north_stock])
            run(
                stock_receive,
                actor=admin_actor,
                product_id=p.pk,
                warehouse_id=where.warehouse_id,
                quantity=q,
                unit_cost=str(rng.randint(1, 9)),
                location_id=where.pk,
            )
        elif op == "adjust":
            sign = rng.choice(["", "-"])
            run(
                stock_adjust,
                actor=admin_actor,
                product_id=p.pk,
                warehouse_id=warehouse.pk,
                quantity=sign + q,
                reason="found" if not sign else "loss",
                location_id=rng.choice(main_bins).pk,
            )
        elif op == "relocate":
            source, target = rng.sample(main_bins, 2)
            run(
                stock_relocate,
                actor=admin_actor,
                product_id=p.pk,
                warehouse_id=warehouse.pk,
                from_location_id=source.pk,
                to_location_id=target.pk,
                quantity=q,
            )
        elif op == "transfer":
            run(
                stock_transfer,
                actor=admin_actor,
                product_id=p.pk,
                from_warehouse_id=north.pk,
                to_warehouse_id=warehouse.pk,
                quantity=q,
            )
        elif op == "allocate":
            lines = [(str(n), rng.choice(products), str(rng.randint(1, 4))) for n in range(rng.randint(1, 3))]
            run(reserve, str(step), lines, rng.random() < 0.5)
        elif op == "release" and orders:
            order = rng.choice(sorted(orders))
            run(stock_release_lines, actor=admin_actor, reference_type="sales.order", reference_id=order)
            orders.pop(order)
        elif op == "ship" and orders:
            order = rng.choice(sorted(orders))
            lines = [
                (line_id, product, quantity, rng.choice(main_bins)) for line_id, product, quantity in orders[order]
            ]
            run(ship, admin_actor, warehouse, lines, reference_id=order, reference=f"SH-{order}")
        elif op == "return":
            run(
                stock_return_receive,
                actor=admin_actor,
                product_id=p.pk,
                warehouse_id=warehouse.pk,
                quantity=q,
                restock=rng.random() < 0.7,
                location_id=rng.choice(main_bins).pk,
            )

    # The walk did real work and met real refusals.
    assert outcomes["done"] > 60 and outcomes["refused"] > 10
    levels = list(StockLevel.objects.all())
    assert len(levels) >= 7
    for row in levels:
        located = StockBalance.objects.filter(product=row.product, location__warehouse=row.warehouse).aggregate(
            total=Sum("on_hand")
        )["total"]
        reserved = Allocation.objects.filter(product=row.product, warehouse=row.warehouse).aggregate(
            total=Sum("quantity")
        )["total"] or D("0.000")
        assert (row.on_hand, row.allocated) == (located, reserved)
        assert D(0) <= row.allocated <= row.on_hand
    assert not StockBalance.objects.filter(on_hand__lt=0).exists()
    # Every unit on hand arrived by a move and did not leave by another.
    for row in levels:
        internal = Location.objects.filter(warehouse=row.warehouse)
        arrived = StockMove.objects.filter(product=row.product, to_location__in=internal).exclude(
            from_location__in=internal
        ).aggregate(total=Sum("quantity"))["total"] or D(0)
        left = StockMove.objects.filter(product=row.product, from_location__in=internal).exclude(
            to_location__in=internal
        ).aggregate(total=Sum("quantity"))["total"] or D(0)
        assert arrived - left == row.on_hand
