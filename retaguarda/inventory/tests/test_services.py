"""Stock ledger services: exact balances, moving average cost, refusals that change nothing."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from retaguarda.catalog.testing import product_build
from retaguarda.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from retaguarda.core.models import AuditLog, OutboxEvent
from retaguarda.core.testing import actor_build, company_build
from retaguarda.inventory.choices import LocationKind, MoveReason
from retaguarda.inventory.models import Allocation, Location, StockBalance, StockCost, StockLevel, StockMove, Warehouse
from retaguarda.inventory.services import (
    location_create,
    stock_adjust,
    stock_allocate,
    stock_receive,
    stock_release,
    stock_transfer,
    warehouse_create,
)
from retaguarda.inventory.testing import stocked_product, warehouse_build

D = Decimal


@pytest.fixture
def warehouse(company):
    return warehouse_build(company, code="MAIN", name="Main")


def on_hand(product, warehouse):
    """(on hand, allocated) of the warehouse, after checking its location balances add up to it."""
    row = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
    if row is None:
        return None
    located = StockBalance.objects.filter(product=product, location__warehouse=warehouse).aggregate(s=Sum("on_hand"))
    assert located["s"] == row.on_hand
    return (row.on_hand, row.allocated)


def average(product, warehouse):
    return StockCost.objects.get(product=product, warehouse=warehouse).average_cost


def state():
    """Everything a refused action must leave untouched."""
    return (
        sorted(StockBalance.objects.values_list("pk", "on_hand")),
        sorted(StockLevel.objects.values_list("pk", "on_hand", "allocated")),
        sorted(StockCost.objects.values_list("pk", "average_cost")),
        StockMove.objects.count(),
        Allocation.objects.count(),
        AuditLog.objects.count(),
        OutboxEvent.objects.count(),
    )


def test_warehouse_create_makes_its_stock_location_and_the_virtual_ones_once(admin_actor):
    first = warehouse_create(actor=admin_actor, code="MAIN", name="Main warehouse")
    second = warehouse_create(actor=admin_actor, code="NORTH", name="North")
    rows = Location.objects.filter(company=admin_actor.company).order_by("code")
    assert list(rows.values_list("code", "kind", "warehouse_id", "parent_id")) == [
        ("MAIN/STOCK", "internal", first.pk, None),
        ("NORTH/STOCK", "internal", second.pk, None),
        ("customer", "customer", None, None),
        ("inventory_loss", "inventory_loss", None, None),
        ("production", "production", None, None),
        ("scrap", "scrap", None, None),
        ("supplier", "supplier", None, None),
        ("transit", "transit", None, None),
    ]
    audit = AuditLog.objects.filter(action="warehouse.create").order_by("pk")
    assert [row.after["stock_location"] for row in audit] == ["MAIN/STOCK", "NORTH/STOCK"]


def test_warehouse_codes_are_unique_per_company_and_checked(admin_actor):
    warehouse_create(actor=admin_actor, code="MAIN", name="Main")
    before = (Warehouse.objects.count(), Location.objects.count(), AuditLog.objects.count())
    with pytest.raises(ValidationFailed) as info:
        warehouse_create(actor=admin_actor, code="MAIN", name="Again")
    assert list(info.value.fields) == ["code"]
    with pytest.raises(ValidationFailed) as info:
        warehouse_create(actor=admin_actor, code="a b/c", name="Bad")
    assert list(info.value.fields) == ["code"]
    with pytest.raises(ValidationFailed) as info:
        warehouse_create(actor=admin_actor, code="OK", name="  ")
    assert list(info.value.fields) == ["name"]
    assert (Warehouse.objects.count(), Location.objects.count(), AuditLog.objects.count()) == before
    other = actor_build(company_build(country="BR"))
    assert warehouse_create(actor=other, code="MAIN", name="Main").company == other.company


def test_zones_and_bins_nest_under_the_stock_location(admin_actor, warehouse):
    zone = location_create(actor=admin_actor, warehouse_id=warehouse.pk, code="A", name="Zone A")
    bin_ = location_create(actor=admin_actor, warehouse_id=warehouse.pk, code="A-01", parent_id=zone.pk)
    assert (zone.code, zone.parent.code, zone.kind) == ("MAIN/A", "MAIN/STOCK", "internal")
    assert (bin_.code, bin_.parent_id, bin_.warehouse_id) == ("MAIN/A-01", zone.pk, warehouse.pk)
    other = warehouse_build(admin_actor.company, code="NORTH")
    with pytest.raises(ValidationFailed) as info:
        location_create(actor=admin_actor, warehouse_id=other.pk, code="X", parent_id=zone.pk)
    assert list(info.value.fields) == ["parent"]
    with pytest.raises(ValidationFailed) as info:
        location_create(actor=admin_actor, warehouse_id=warehouse.pk, code="A")
    assert list(info.value.fields) == ["code"]
    assert Location.objects.filter(warehouse=warehouse).count() == 3


def test_receipts_add_up_and_the_moving_average_cost_is_exact(admin_actor, warehouse):
    product = product_build(admin_actor.company)

    def receive(quantity, cost, reason=MoveReason.RECEIPT):
        stock_receive(
            actor=admin_actor,
            product_id=product.pk,
            warehouse_id=warehouse.pk,
            quantity=quantity,
            unit_cost=cost,
            reason=reason,
        )
        return on_hand(product, warehouse)[0], average(product, warehouse)

    assert receive("10", "2.0000", MoveReason.INITIAL) == (D("10.000"), D("2.0000"))
    # (10 × 2 + 5 × 3.5) / 15 = 37.5 / 15 = 2.5
    assert receive("5", "3.5000") == (D("15.000"), D("2.5000"))
    # (15 × 2.5 + 3 × 1) / 18 = 40.5 / 18 = 2.25
    assert receive("3", "1") == (D("18.000"), D("2.2500"))
    # (18 × 2.25 + 7 × 1.0001) / 25 = 47.5007 / 25 = 1.900028 -> rounded half-up to 1.9000
    assert receive("7", "1.0001") == (D("25.000"), D("1.9000"))
    # (25 × 1.9 + 0.5 × 0.0003) / 25.5 = 47.50015 / 25.5 = 1.862750 (1.86275098…) -> 1.8628
    assert receive("0.5", "0.0003") == (D("25.500"), D("1.8628"))
    moves = StockMove.objects.filter(product=product).order_by("pk")
    assert [(m.from_location.code, m.to_location.code, m.quantity, m.unit_cost) for m in moves] == [
        ("inventory_loss", "MAIN/STOCK", D("10.000"), D("2.0000")),
        ("supplier", "MAIN/STOCK", D("5.000"), D("3.5000")),
        ("supplier", "MAIN/STOCK", D("3.000"), D("1.0000")),
        ("supplier", "MAIN/STOCK", D("7.000"), D("1.0001")),
        ("supplier", "MAIN/STOCK", D("0.500"), D("0.0003")),
    ]
    assert moves[0].actor_id == admin_actor.user_id
    audit = AuditLog.objects.filter(action="stock.receive").order_by("pk").last()
    assert (audit.before, audit.after["average_cost"], audit.after["quantity"]) == (
        {"average_cost": "1.9000"},
        "1.8628",
        "0.500",
    )
    events = OutboxEvent.objects.filter(name="stock.received").order_by("pk")
    assert [e.payload["average_cost"] for e in events] == ["2.0000", "2.5000", "2.2500", "1.9000", "1.8628"]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "1.0005"}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"unit_cost": "-0.01"}, "unit_cost"),
        ({"unit_cost": "1.00001"}, "unit_cost"),
        ({"reason": MoveReason.DAMAGE}, "reason"),
    ],
)
def test_bad_receipt_input_is_refused_with_the_field(admin_actor, warehouse, changes, field):
    product = product_build(admin_actor.company)
    before = state()
    arguments = dict(quantity="1", unit_cost="1", reason=MoveReason.RECEIPT) | changes
    with pytest.raises(ValidationFailed) as info:
        stock_receive(actor=admin_actor, product_id=product.pk, warehouse_id=warehouse.pk, **arguments)
    assert list(info.value.fields) == [field]
    assert state() == before


def test_products_and_warehouses_of_another_company_are_not_found(admin_actor, warehouse):
    other = company_build(country="BR")
    foreign_product = product_build(other)
    foreign_warehouse = warehouse_build(other)
    product = product_build(admin_actor.company)
    before = state()
    with pytest.raises(NotFound):
        stock_receive(
            actor=admin_actor, product_id=foreign_product.pk, warehouse_id=warehouse.pk, quantity=1, unit_cost=1
        )
    with pytest.raises(NotFound):
        stock_receive(
            actor=admin_actor, product_id=product.pk, warehouse_id=foreign_warehouse.pk, quantity=1, unit_cost=1
        )
    assert state() == before


def test_adjustments_go_to_and_from_inventory_loss_at_the_average_cost(admin_actor, warehouse):
    product = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", unit_cost="2.5000")
    stock_adjust(
        actor=admin_actor,
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        quantity="-3",
        reason=MoveReason.DAMAGE,
        note="Broken in the aisle",
    )
    stock_adjust(
        actor=admin_actor, product_id=product.pk, warehouse_id=warehouse.pk, quantity="1.25", reason=MoveReason.FOUND
    )
    assert on_hand(product, warehouse) == (D("8.250"), D("0.000"))
    assert average(product, warehouse) == D("2.5000")
    moves = StockMove.objects.filter(product=product, reason__in=["damage", "found"]).order_by("pk")
    assert [(m.from_location.code, m.to_location.code, m.quantity, m.unit_cost, m.note) for m in moves] == [
        ("MAIN/STOCK", "inventory_loss", D("3.000"), D("2.5000"), "Broken in the aisle"),
        ("inventory_loss", "MAIN/STOCK", D("1.250"), D("2.5000"), ""),
    ]
    events = OutboxEvent.objects.filter(name="stock.adjusted").order_by("pk")
    assert [e.payload["change"] for e in events] == ["-3.000", "1.250"]
    assert AuditLog.objects.filter(action="stock.adjust").count() == 2


def test_adjusting_below_the_allocated_stock_is_refused_and_changes_nothing(admin_actor, warehouse):
    product = stocked_product(admin_actor.company, warehouse=warehouse, quantity="5")
    stock_allocate(
        actor=admin_actor,
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        quantity="3",
        reference_type="order",
        reference_id="1",
    )
    before = state()
    with pytest.raises(Conflict) as info:
        stock_adjust(
            actor=admin_actor, product_id=product.pk, warehouse_id=warehouse.pk, quantity="-3", reason=MoveReason.LOSS
        )
    assert (info.value.code, info.value.details) == (
        "insufficient_stock",
        [{"sku": product.sku, "requested": "3.000", "available": "2.000"}],
    )
    with pytest.raises(ValidationFailed):
        stock_adjust(actor=admin_actor, product_id=product.pk, warehouse_id=warehouse.pk, quantity="0", reason="loss")
    with pytest.raises(ValidationFailed):
        stock_adjust(
            actor=admin_actor, product_id=product.pk, warehouse_id=warehouse.pk, quantity="1", reason="receipt"
        )
    assert state() == before


def test_transfer_goes_through_transit_and_carries_the_cost(admin_actor, warehouse):
    north = warehouse_build(admin_actor.company, code="NORTH")
    product = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", unit_cost="3.0000")
    stock_receive(actor=admin_actor, product_id=product.pk, warehouse_id=north.pk, quantity="2", unit_cost="1.5")
    out_move, in_move = stock_transfer(
        actor=admin_actor,
        product_id=product.pk,
        from_warehouse_id=warehouse.pk,
        to_warehouse_id=north.pk,
        quantity="4",
        reference="T-1",
    )
    assert (out_move.from_location.code, out_move.to_location.code) == ("MAIN/STOCK", "transit")
    assert (in_move.from_location.code, in_move.to_location.code) == ("transit", "NORTH/STOCK")
    assert (in_move.quantity, in_move.unit_cost, in_move.reference) == (D("4.000"), D("3.0000"), "T-1")
    assert on_hand(product, warehouse) == (D("6.000"), D("0.000"))
    assert on_hand(product, north) == (D("6.000"), D("0.000"))
    # North: (2 × 1.5 + 4 × 3) / 6 = 15 / 6 = 2.5; Main keeps its average.
    assert (average(product, warehouse), average(product, north)) == (D("3.0000"), D("2.5000"))
    assert AuditLog.objects.filter(action="stock.transfer").count() == 2
    before = state()
    with pytest.raises(Conflict):
        stock_transfer(
            actor=admin_actor,
            product_id=product.pk,
            from_warehouse_id=warehouse.pk,
            to_warehouse_id=north.pk,
            quantity="6.001",
        )
    with pytest.raises(ValidationFailed):
        stock_transfer(
            actor=admin_actor, product_id=product.pk, from_warehouse_id=north.pk, to_warehouse_id=north.pk, quantity=1
        )
    assert state() == before


def test_allocation_reserves_and_release_gives_back(admin_actor, warehouse):
    product = stocked_product(admin_actor.company, warehouse=warehouse, quantity="5")
    first = stock_allocate(
        actor=admin_actor,
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        quantity="2",
        reference_type="order",
        reference_id="7",
        line_id="1",
    )
    stock_allocate(
        actor=admin_actor,
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        quantity="1.5",
        reference_type="order",
        reference_id="7",
        line_id="2",
    )
    assert (first.quantity, first.warehouse.code, first.line_id) == (D("2.000"), "MAIN", "1")
    assert on_hand(product, warehouse) == (D("5.000"), D("3.500"))
    assert stock_release(actor=admin_actor, reference_type="order", reference_id="7", line_id="2") == D("1.500")
    assert on_hand(product, warehouse) == (D("5.000"), D("2.000"))
    assert stock_release(actor=admin_actor, reference_type="order", reference_id="7") == D("2.000")
    assert stock_release(actor=admin_actor, reference_type="order", reference_id="7") == D("0.000")
    assert on_hand(product, warehouse) == (D("5.000"), D("0.000"))
    assert Allocation.objects.count() == 0
    assert AuditLog.objects.filter(action="stock.allocate").count() == 2
    assert AuditLog.objects.filter(action="stock.release").count() == 2


def test_allocation_refused_leaves_nothing_changed(admin_actor, warehouse):
    product = stocked_product(admin_actor.company, warehouse=warehouse, quantity="5")
    stock_allocate(
        actor=admin_actor,
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        quantity="4",
        reference_type="order",
        reference_id="1",
    )
    never_stocked = product_build(admin_actor.company)
    before = state()
    with pytest.raises(Conflict) as info:
        stock_allocate(
            actor=admin_actor,
            product_id=product.pk,
            warehouse_id=warehouse.pk,
            quantity="1.001",
            reference_type="order",
            reference_id="2",
        )
    assert (info.value.status, info.value.code) == (409, "insufficient_stock")
    assert info.value.details == [{"line": "", "sku": product.sku, "requested": "1.001", "available": "1.000"}]
    assert info.value.fields == {"quantity": [f"Not enough stock of {product.sku}: 1.001 requested, 1.000 available."]}
    with pytest.raises(Conflict) as info:
        stock_allocate(
            actor=admin_actor,
            product_id=never_stocked.pk,
            warehouse_id=warehouse.pk,
            quantity="1",
            reference_type="order",
            reference_id="2",
        )
    assert info.value.details[0]["available"] == "0.000"
    assert state() == before


def test_stock_out_is_emitted_when_availability_reaches_zero(admin_actor, warehouse):
    product = stocked_product(admin_actor.company, warehouse=warehouse, quantity="3")
    stock_allocate(
        actor=admin_actor,
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        quantity="2",
        reference_type="order",
        reference_id="1",
    )
    assert not OutboxEvent.objects.filter(name="stock.out").exists()
    stock_allocate(
        actor=admin_actor,
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        quantity="1",
        reference_type="order",
        reference_id="2",
    )
    events = list(OutboxEvent.objects.filter(name="stock.out").values_list("payload", flat=True))
    assert events == [
        {"sku": product.sku, "warehouse": "MAIN", "available": "0.000", "reorder_point": None, "product_id": product.pk}
    ]
    stock_release(actor=admin_actor, reference_type="order", reference_id="2")
    stock_adjust(actor=admin_actor, product_id=product.pk, warehouse_id=warehouse.pk, quantity="-1", reason="loss")
    assert OutboxEvent.objects.filter(name="stock.out").count() == 2


WRONG_ROLES = [("sales", ()), ("finance", ()), ("support", ()), ("hr", ()), ("legal", ()), ("partner", ("sales",))]
RIGHT_ROLES = ["administrator", "manager", "warehouse"]


def _change_services(actor, product, warehouse, other):
    yield lambda: warehouse_create(actor=actor, code="NEW", name="New")
    yield lambda: location_create(actor=actor, warehouse_id=warehouse.pk, code="BIN")
    yield lambda: stock_receive(actor=actor, product_id=product.pk, warehouse_id=warehouse.pk, quantity=1, unit_cost=1)
    yield lambda: stock_adjust(
        actor=actor, product_id=product.pk, warehouse_id=warehouse.pk, quantity=-1, reason="loss"
    )
    yield lambda: stock_transfer(
        actor=actor, product_id=product.pk, from_warehouse_id=warehouse.pk, to_warehouse_id=other.pk, quantity=1
    )


def _allocation_services(actor, product, warehouse):
    yield lambda: stock_allocate(
        actor=actor, product_id=product.pk, warehouse_id=warehouse.pk, quantity=1, reference_type="o", reference_id="1"
    )
    yield lambda: stock_release(actor=actor, reference_type="o", reference_id="1")


def _every_service(actor, product, warehouse, other):
    yield from _change_services(actor, product, warehouse, other)
    yield from _allocation_services(actor, product, warehouse)


@pytest.mark.parametrize("role, areas", WRONG_ROLES)
def test_wrong_roles_are_denied_and_nothing_changes(company, warehouse, role, areas):
    """Stock changes are the warehouse's; reserving stock is also the sales team's (an order's
    confirmation does it), and no partner reserves stock."""
    product = stocked_product(company, warehouse=warehouse, quantity="5")
    other = warehouse_build(company, code="OTHER")
    actor = actor_build(company, role, areas=areas)
    before = state() + (Warehouse.objects.count(), Location.objects.count())
    calls = list(_change_services(actor, product, warehouse, other))
    if role != "sales":
        calls += list(_allocation_services(actor, product, warehouse))
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert state() + (Warehouse.objects.count(), Location.objects.count()) == before


def test_a_logistics_partner_runs_the_stock_but_reserves_nothing(company, warehouse):
    product = stocked_product(company, warehouse=warehouse, quantity="5")
    other = warehouse_build(company, code="OTHER")
    actor = actor_build(company, "partner", areas=("warehouse",))
    for call in _change_services(actor, product, warehouse, other):
        call()
    before = state()
    for call in _allocation_services(actor, product, warehouse):
        with pytest.raises(PermissionDenied):
            call()
    assert state() == before
    assert on_hand(product, warehouse) == (D("4.000"), D("0.000"))


def test_sales_reserves_stock_for_orders(company, warehouse):
    product = stocked_product(company, warehouse=warehouse, quantity="5")
    actor = actor_build(company, "sales")
    allocation = stock_allocate(
        actor=actor, product_id=product.pk, warehouse_id=warehouse.pk, quantity=2, reference_type="o", reference_id="1"
    )
    assert (allocation.quantity, on_hand(product, warehouse)) == (D("2.000"), (D("5.000"), D("2.000")))
    assert stock_release(actor=actor, reference_type="o", reference_id="1") == D("2.000")
    assert on_hand(product, warehouse) == (D("5.000"), D("0.000"))


@pytest.mark.parametrize("role", RIGHT_ROLES)
def test_right_roles_may_do_everything(company, warehouse, role):
    product = stocked_product(company, warehouse=warehouse, quantity="5")
    other = warehouse_build(company, code="OTHER")
    actor = actor_build(company, role)
    for call in _every_service(actor, product, warehouse, other):
        call()
    # 5 + 1 received - 1 adjusted - 1 transferred; the allocation of 1 was released again.
    assert on_hand(product, warehouse) == (D("4.000"), D("0.000"))
    assert on_hand(product, other) == (D("1.000"), D("0.000"))
    assert Location.objects.get(code="MAIN/BIN").warehouse == warehouse


def test_allocation_query_count_does_not_grow_with_the_ledger(admin_actor, warehouse, django_assert_num_queries):
    product = stocked_product(admin_actor.company, warehouse=warehouse, quantity="100")
    busy = stocked_product(admin_actor.company, warehouse=warehouse, quantity="100")
    for n in range(30):
        stock_receive(actor=admin_actor, product_id=busy.pk, warehouse_id=warehouse.pk, quantity=1, unit_cost=n)
        stock_allocate(
            actor=admin_actor,
            product_id=busy.pk,
            warehouse_id=warehouse.pk,
            quantity=1,
            reference_type="order",
            reference_id=str(n),
        )

    def allocate(item, reference):
        # savepoint, product, stock location, level lock, level update, allocation, audit, release
        with django_assert_num_queries(8):
            stock_allocate(
                actor=admin_actor,
                product_id=item.pk,
                warehouse_id=warehouse.pk,
                quantity=1,
                reference_type="order",
                reference_id=reference,
            )

    allocate(product, "a")
    allocate(busy, "b")
    # Refused: savepoint, product, stock location, level lock, rollback, release.
    with django_assert_num_queries(6), pytest.raises(Conflict):
        stock_allocate(
            actor=admin_actor,
            product_id=busy.pk,
            warehouse_id=warehouse.pk,
            quantity=1000,
            reference_type="order",
            reference_id="c",
        )
    assert LocationKind.TRANSIT in Location.objects.values_list("kind", flat=True)
