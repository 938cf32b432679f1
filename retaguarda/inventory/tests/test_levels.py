"""Reorder points and maximums: the settings service, the overstock deviation on the moves that
raise on hand, and the review that closes stock deviations whose condition cleared."""

from decimal import Decimal

import pytest

from retaguarda.catalog.testing import product_build
from retaguarda.common.errors import NotFound, PermissionDenied, ValidationFailed
from retaguarda.core.deviations import deviation_title
from retaguarda.core.models import AuditLog, Deviation
from retaguarda.core.testing import actor_build, company_build
from retaguarda.inventory.models import Location, StockLevel
from retaguarda.inventory.services import (
    AllocationRequest,
    ShipmentRequest,
    stock_adjust,
    stock_allocate_lines,
    stock_deviations_review,
    stock_level_settings_set,
    stock_receive,
    stock_return_receive,
    stock_ship_lines,
    stock_transfer,
)
from retaguarda.inventory.testing import stocked_product, warehouse_build

D = Decimal


@pytest.fixture
def warehouse(company):
    return warehouse_build(company, code="MAIN", name="Main")


def limits(product, warehouse):
    row = StockLevel.objects.get(product=product, warehouse=warehouse)
    return (row.reorder_point, row.maximum)


def open_kinds():
    return sorted(Deviation.objects.filter(status__in=("open", "acknowledged")).values_list("kind", flat=True))


def settings_state():
    return (
        sorted(StockLevel.objects.values_list("pk", "on_hand", "allocated", "reorder_point", "maximum")),
        AuditLog.objects.count(),
        sorted(Deviation.objects.values_list("pk", "status")),
    )


def set_limits(actor, product, warehouse, reorder_point, maximum):
    return stock_level_settings_set(
        actor=actor, product_id=product.pk, warehouse_id=warehouse.pk, reorder_point=reorder_point, maximum=maximum
    )


def test_settings_set_stores_the_limits_and_audits_them(admin_actor, warehouse):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="20", sku="A")
    level = set_limits(admin_actor, a, warehouse, "5", "50,5")
    assert limits(a, warehouse) == (D("5.000"), D("50.500"))
    audit = AuditLog.objects.get(action="stock_level.limits")
    assert (audit.object_type, audit.object_id) == ("inventory.stocklevel", str(level.pk))
    assert audit.before == {"sku": "A", "warehouse": "MAIN", "reorder_point": None, "maximum": None}
    assert audit.after == {"sku": "A", "warehouse": "MAIN", "reorder_point": "5.000", "maximum": "50.500"}
    # The same limits again: nothing to record.
    set_limits(admin_actor, a, warehouse, D("5"), "50.5")
    assert AuditLog.objects.filter(action="stock_level.limits").count() == 1
    # Blanks clear.
    set_limits(admin_actor, a, warehouse, "", None)
    assert limits(a, warehouse) == (None, None)
    assert AuditLog.objects.filter(action="stock_level.limits").count() == 2


def test_settings_for_a_product_never_stocked_there_make_its_level(admin_actor, warehouse):
    a = product_build(admin_actor.company, sku="A")
    set_limits(admin_actor, a, warehouse, "2", "")
    row = StockLevel.objects.get(product=a, warehouse=warehouse)
    assert (row.on_hand, row.allocated, row.reorder_point, row.maximum) == (D("0.000"), D("0.000"), D("2.000"), None)
    # Nothing available is out of stock, not low: no deviation from the settings alone.
    assert open_kinds() == []


@pytest.mark.parametrize(
    "reorder_point, maximum, fields",
    [
        ("-1", "", {"reorder_point": ["Enter zero or more."]}),
        ("", "-0.001", {"maximum": ["Enter zero or more."]}),
        ("abc", "1.0001", {"reorder_point": ["Enter a number."], "maximum": ["Use at most 3 decimal places."]}),
        ("5", "5", {"maximum": ["The maximum must be greater than the reorder point."]}),
        ("6", "5", {"maximum": ["The maximum must be greater than the reorder point."]}),
    ],
)
def test_bad_limits_are_refused_and_change_nothing(admin_actor, warehouse, reorder_point, maximum, fields):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="20", sku="A")
    set_limits(admin_actor, a, warehouse, "1", "30")
    before = settings_state()
    with pytest.raises(ValidationFailed) as info:
        set_limits(admin_actor, a, warehouse, reorder_point, maximum)
    assert info.value.fields == fields
    assert settings_state() == before


def test_limits_of_another_companys_product_or_warehouse_are_not_found(admin_actor, warehouse):
    other = company_build()
    theirs = stocked_product(other, warehouse=warehouse_build(other), quantity="1")
    mine = stocked_product(admin_actor.company, warehouse=warehouse, quantity="1")
    before = settings_state()
    with pytest.raises(NotFound):
        set_limits(admin_actor, theirs, warehouse, "1", "")
    with pytest.raises(NotFound):
        stock_level_settings_set(
            actor=admin_actor,
            product_id=mine.pk,
            warehouse_id=StockLevel.objects.get(product=theirs).warehouse_id,
            reorder_point="1",
            maximum="",
        )
    assert settings_state() == before


@pytest.mark.parametrize("role, areas", [("sales", ()), ("finance", ()), ("support", ()), ("partner", ("sales",))])
def test_wrong_roles_cannot_set_limits(company, warehouse, role, areas):
    a = stocked_product(company, warehouse=warehouse, quantity="5")
    actor = actor_build(company, role, areas=areas)
    before = settings_state()
    with pytest.raises(PermissionDenied):
        set_limits(actor, a, warehouse, "1", "10")
    assert settings_state() == before


@pytest.mark.parametrize(
    "role, areas", [("administrator", ()), ("manager", ()), ("warehouse", ()), ("partner", ("warehouse",))]
)
def test_right_roles_set_limits(company, warehouse, role, areas):
    a = stocked_product(company, warehouse=warehouse, quantity="5")
    set_limits(actor_build(company, role, areas=areas), a, warehouse, "1", "10")
    assert limits(a, warehouse) == (D("1.000"), D("10.000"))


def test_settings_open_and_close_the_low_and_overstock_deviations(admin_actor, warehouse):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", sku="A")
    set_limits(admin_actor, a, warehouse, "10", "")
    (low,) = Deviation.objects.filter(kind="inventory.stock_low")
    assert deviation_title(low) == "A is at or below its reorder point in MAIN (10.000 available)"
    set_limits(admin_actor, a, warehouse, "5", "8")
    low.refresh_from_db()
    assert low.status == "closed"
    (over,) = Deviation.objects.filter(kind="inventory.overstock", status="open")
    assert (over.severity, over.owner_role, over.object_repr) == ("low", "warehouse", "A @ MAIN")
    assert deviation_title(over) == "A is above its maximum in MAIN (10.000 on hand, maximum 8.000)"
    set_limits(admin_actor, a, warehouse, "5", "20")
    over.refresh_from_db()
    assert over.status == "closed"
    assert open_kinds() == []


def test_overstock_follows_receipts_adjustments_returns_and_transfers(admin_actor, warehouse):
    north = warehouse_build(admin_actor.company, code="NORTH")
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", sku="A")
    set_limits(admin_actor, a, warehouse, "", "12")
    assert open_kinds() == []
    stock_receive(actor=admin_actor, product_id=a.pk, warehouse_id=warehouse.pk, quantity="3", unit_cost="1")
    assert open_kinds() == ["inventory.overstock"]
    first = Deviation.objects.get(kind="inventory.overstock")
    assert first.params == {"sku": "A", "warehouse": "MAIN", "on_hand": "13.000", "maximum": "12.000"}
    stock_adjust(actor=admin_actor, product_id=a.pk, warehouse_id=warehouse.pk, quantity="-1", reason="damage")
    assert open_kinds() == []
    stock_return_receive(actor=admin_actor, product_id=a.pk, warehouse_id=warehouse.pk, quantity="1", restock=True)
    assert open_kinds() == ["inventory.overstock"]
    stock_transfer(
        actor=admin_actor, product_id=a.pk, from_warehouse_id=warehouse.pk, to_warehouse_id=north.pk, quantity="2"
    )
    assert open_kinds() == []
    assert list(Deviation.objects.order_by("pk").values_list("kind", "status")) == [
        ("inventory.overstock", "closed"),
        ("inventory.overstock", "closed"),
    ]


def test_the_review_closes_what_shipments_brought_back_under_the_limits(
    admin_actor, warehouse, django_assert_num_queries
):
    a = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", sku="A")
    b = stocked_product(admin_actor.company, warehouse=warehouse, quantity="10", sku="B")
    set_limits(admin_actor, a, warehouse, "", "8")
    set_limits(admin_actor, b, warehouse, "", "8")
    assert open_kinds() == ["inventory.overstock", "inventory.overstock"]
    stock = Location.objects.get(code="MAIN/STOCK")
    stock_allocate_lines(
        actor=admin_actor,
        warehouse=warehouse,
        reference_type="sales.order",
        reference_id="1",
        lines=[AllocationRequest(product_id=a.pk, sku="A", quantity=D("3.000"), line_id="1")],
    )
    stock_ship_lines(
        actor=admin_actor,
        warehouse=warehouse,
        reference_type="sales.order",
        reference_id="1",
        reference="SH-1",
        lines=[ShipmentRequest(product_id=a.pk, sku="A", quantity=D("3.000"), line_id="1", location_id=stock.pk)],
    )
    # The shipment does not look at the maximum (hot path): A is under it, its deviation still open.
    assert open_kinds() == ["inventory.overstock", "inventory.overstock"]
    # savepoint, open deviations, their levels, one update, release
    with django_assert_num_queries(5):
        assert stock_deviations_review(actor=admin_actor) == 1
    assert list(Deviation.objects.filter(status="open").values_list("object_repr", flat=True)) == ["B @ MAIN"]
    assert Deviation.objects.get(object_repr="A @ MAIN").ended_at is not None
    with django_assert_num_queries(4):
        assert stock_deviations_review(actor=admin_actor) == 0
    with pytest.raises(PermissionDenied):
        stock_deviations_review(actor=actor_build(admin_actor.company, "sales"))
