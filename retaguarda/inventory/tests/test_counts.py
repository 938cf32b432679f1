"""Cycle counts: the snapshot, recording what was found, the workflow, and posting the
differences as count moves (refused when the stock moved meanwhile or a loss would cut into
reserved stock)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from retaguarda.catalog.testing import product_build
from retaguarda.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from retaguarda.core.models import AuditLog, Deviation, OutboxEvent
from retaguarda.core.testing import actor_build, company_build
from retaguarda.inventory.models import (
    Allocation,
    CycleCount,
    CycleCountLine,
    StockBalance,
    StockCost,
    StockLevel,
    StockMove,
)
from retaguarda.inventory.services import (
    AllocationRequest,
    cycle_count_cancel,
    cycle_count_complete,
    cycle_count_create,
    cycle_count_line_add,
    cycle_count_post,
    cycle_count_record,
    cycle_count_reopen,
    location_create,
    stock_allocate_lines,
    stock_level_settings_set,
    stock_receive,
)
from retaguarda.inventory.testing import warehouse_build

D = Decimal


@pytest.fixture
def warehouse(company):
    return warehouse_build(company, code="MAIN", name="Main")


@pytest.fixture
def layout(admin_actor, warehouse):
    """MAIN/STOCK with zone Z and bin Z-1 under it, and bin A-1: A at STOCK and Z-1, B at A-1."""
    zone = location_create(actor=admin_actor, warehouse_id=warehouse.pk, code="Z")
    z1 = location_create(actor=admin_actor, warehouse_id=warehouse.pk, code="Z-1", parent_id=zone.pk)
    a1 = location_create(actor=admin_actor, warehouse_id=warehouse.pk, code="A-1")
    a = product_build(admin_actor.company, sku="A")
    b = product_build(admin_actor.company, sku="B")
    receive(admin_actor, a, warehouse, "10", "2")
    receive(admin_actor, a, warehouse, "5", "2", z1)
    receive(admin_actor, b, warehouse, "4", "3", a1)
    return {"zone": zone, "z1": z1, "a1": a1, "a": a, "b": b}


def receive(actor, product, warehouse, quantity, unit_cost, location=None):
    stock_receive(
        actor=actor,
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        quantity=quantity,
        unit_cost=unit_cost,
        location_id=location.pk if location else None,
    )


def lines_of(count):
    return list(
        count.lines.order_by("location__code", "product__sku").values_list(
            "location__code", "product__sku", "expected", "counted", "variance"
        )
    )


def line_ids(count):
    return {
        (line.location.code, line.product.sku): line.pk for line in count.lines.select_related("location", "product")
    }


def state():
    return (
        sorted(StockBalance.objects.values_list("pk", "on_hand")),
        sorted(StockLevel.objects.values_list("pk", "on_hand", "allocated")),
        sorted(StockCost.objects.values_list("pk", "average_cost")),
        sorted(CycleCount.objects.values_list("pk", "status")),
        sorted(CycleCountLine.objects.values_list("pk", "expected", "counted", "variance")),
        StockMove.objects.count(),
        AuditLog.objects.count(),
        OutboxEvent.objects.count(),
        sorted(Deviation.objects.values_list("pk", "status")),
    )


def record(actor, count, values: dict):
    """Record counted quantities by (location code, SKU)."""
    ids = line_ids(count)
    return cycle_count_record(actor=actor, count_id=count.pk, quantities={ids[key]: v for key, v in values.items()})


def test_a_count_of_the_whole_warehouse_snapshots_every_balance(admin_actor, warehouse, layout):
    count = cycle_count_create(actor=admin_actor, warehouse_id=warehouse.pk, note="Monthly")
    year = timezone.localdate().year
    assert (count.number, count.status, count.location.code, count.note) == (
        f"CC{year}-00001",
        "draft",
        "MAIN/STOCK",
        "Monthly",
    )
    assert count.created_by == admin_actor.user
    assert lines_of(count) == [
        ("MAIN/A-1", "B", D("4.000"), None, None),
        ("MAIN/STOCK", "A", D("10.000"), None, None),
        ("MAIN/Z-1", "A", D("5.000"), None, None),
    ]
    audit = AuditLog.objects.get(action="cyclecount.create")
    assert audit.after == {"warehouse": "MAIN", "location": "MAIN/STOCK", "lines": 3, "note": "Monthly"}
    second = cycle_count_create(actor=admin_actor, warehouse_id=warehouse.pk)
    assert second.number == f"CC{year}-00002"


def test_a_count_of_a_zone_covers_its_bins_and_asked_for_products(admin_actor, warehouse, layout):
    c = product_build(admin_actor.company, sku="C")
    count = cycle_count_create(
        actor=admin_actor,
        warehouse_id=warehouse.pk,
        location_id=layout["zone"].pk,
        product_ids=[layout["a"].pk, c.pk],
    )
    # A is kept at Z-1; C never was there, so it is counted at the zone itself, expecting zero.
    assert lines_of(count) == [("MAIN/Z", "C", D("0.000"), None, None), ("MAIN/Z-1", "A", D("5.000"), None, None)]
    only_b = cycle_count_create(actor=admin_actor, warehouse_id=warehouse.pk, product_ids=[layout["b"].pk])
    assert lines_of(only_b) == [("MAIN/A-1", "B", D("4.000"), None, None)]


def test_bad_count_requests_are_refused_and_change_nothing(admin_actor, warehouse, layout):
    north = warehouse_build(admin_actor.company, code="NORTH")
    other = company_build()
    theirs = product_build(other, sku="THEIRS")
    stranger = actor_build(other)
    before = state()
    with pytest.raises(ValidationFailed) as info:
        cycle_count_create(actor=admin_actor, warehouse_id=north.pk)
    assert info.value.fields == {"location": ["No stock was ever kept at this location."]}
    with pytest.raises(ValidationFailed) as info:
        cycle_count_create(
            actor=admin_actor,
            warehouse_id=warehouse.pk,
            location_id=layout["z1"].pk,
            product_ids=[layout["b"].pk, theirs.pk],
        )
    assert info.value.fields == {"products": ["No such product."]}
    with pytest.raises(ValidationFailed) as info:
        cycle_count_create(actor=admin_actor, warehouse_id=north.pk, location_id=layout["z1"].pk)
    assert info.value.fields == {"location": ["Choose a location of this warehouse."]}
    with pytest.raises(NotFound):
        cycle_count_create(actor=stranger, warehouse_id=warehouse.pk)
    assert state() == before


def test_recording_checks_every_value_and_saves_all_or_nothing(admin_actor, warehouse, layout):
    count = cycle_count_create(actor=admin_actor, warehouse_id=warehouse.pk)
    ids = line_ids(count)
    before = state()
    with pytest.raises(ValidationFailed) as info:
        cycle_count_record(
            actor=admin_actor,
            count_id=count.pk,
            quantities={
                ids[("MAIN/STOCK", "A")]: "9",
                ids[("MAIN/Z-1", "A")]: "-1",
                ids[("MAIN/A-1", "B")]: "x",
                999999: "1",
            },
        )
    assert info.value.fields == {
        f"lines.{ids[('MAIN/Z-1', 'A')]}.counted": ["Enter zero or more."],
        f"lines.{ids[('MAIN/A-1', 'B')]}.counted": ["Enter a number."],
        "lines.999999.counted": ["No such line in this count."],
    }
    assert state() == before
    record(admin_actor, count, {("MAIN/STOCK", "A"): "9", ("MAIN/Z-1", "A"): "5,5", ("MAIN/A-1", "B"): ""})
    assert lines_of(count) == [
        ("MAIN/A-1", "B", D("4.000"), None, None),
        ("MAIN/STOCK", "A", D("10.000"), D("9.000"), D("-1.000")),
        ("MAIN/Z-1", "A", D("5.000"), D("5.500"), D("0.500")),
    ]
    audit = AuditLog.objects.get(action="cyclecount.record")
    assert audit.after == {
        "lines": [
            {"sku": "A", "location": "MAIN/STOCK", "counted": "9.000"},
            {"sku": "A", "location": "MAIN/Z-1", "counted": "5.500"},
        ]
    }
    # The same values again record nothing.
    record(admin_actor, count, {("MAIN/STOCK", "A"): "9.000"})
    assert AuditLog.objects.filter(action="cyclecount.record").count() == 1


def test_completing_needs_every_line_counted(admin_actor, warehouse, layout):
    count = cycle_count_create(actor=admin_actor, warehouse_id=warehouse.pk)
    ids = line_ids(count)
    record(admin_actor, count, {("MAIN/STOCK", "A"): "10"})
    before = state()
    with pytest.raises(ValidationFailed) as info:
        cycle_count_complete(actor=admin_actor, count_id=count.pk)
    assert info.value.message == "2 lines are not counted yet."
    assert info.value.fields == {
        f"lines.{ids[('MAIN/A-1', 'B')]}.counted": ["Enter the quantity counted, 0 if none was found."],
        f"lines.{ids[('MAIN/Z-1', 'A')]}.counted": ["Enter the quantity counted, 0 if none was found."],
    }
    assert state() == before
    record(admin_actor, count, {("MAIN/A-1", "B"): "0", ("MAIN/Z-1", "A"): "5"})
    cycle_count_complete(actor=admin_actor, count_id=count.pk)
    count.refresh_from_db()
    assert (count.status, count.counted_by, count.counted_at is not None) == ("counted", admin_actor.user, True)
    assert AuditLog.objects.get(action="cyclecount.complete").after == {"status": "counted"}
    # Counted: quantities are frozen until the count is reopened.
    before = state()
    with pytest.raises(Conflict) as info:
        record(admin_actor, count, {("MAIN/A-1", "B"): "1"})
    assert info.value.code == "invalid_transition"
    assert state() == before


def _counted(actor, warehouse, values, **create):
    count = cycle_count_create(actor=actor, warehouse_id=warehouse.pk, **create)
    record(actor, count, values)
    cycle_count_complete(actor=actor, count_id=count.pk)
    return count


def test_posting_turns_each_difference_into_a_count_move(admin_actor, warehouse, layout):
    a, b = layout["a"], layout["b"]
    count = _counted(
        admin_actor, warehouse, {("MAIN/STOCK", "A"): "8", ("MAIN/Z-1", "A"): "6.5", ("MAIN/A-1", "B"): "4"}
    )
    cycle_count_post(actor=admin_actor, count_id=count.pk)
    count.refresh_from_db()
    assert (count.status, count.posted_by) == ("posted", admin_actor.user)
    moves = StockMove.objects.filter(reason="count").order_by("pk")
    assert list(
        moves.values_list(
            "product__sku", "quantity", "from_location__code", "to_location__code", "unit_cost", "reference", "note"
        )
    ) == [
        ("A", D("2.000"), "MAIN/STOCK", "inventory_loss", D("2.0000"), count.number, ""),
        ("A", D("1.500"), "inventory_loss", "MAIN/Z-1", D("2.0000"), count.number, ""),
    ]
    # B matched the books: no move. A: 15 - 2 + 1.5 = 14.5.
    level_a = StockLevel.objects.get(product=a)
    assert (level_a.on_hand, level_a.allocated) == (D("14.500"), D("0.000"))
    assert StockLevel.objects.get(product=b).on_hand == D("4.000")
    assert dict(StockBalance.objects.filter(product=a).values_list("location__code", "on_hand")) == {
        "MAIN/STOCK": D("8.000"),
        "MAIN/Z-1": D("6.500"),
    }
    assert StockCost.objects.get(product=a).average_cost == D("2.0000")
    audit = AuditLog.objects.get(action="cyclecount.post")
    assert audit.after == {
        "status": "posted",
        "lines": [
            {"sku": "A", "location": "MAIN/STOCK", "change": "-2.000"},
            {"sku": "A", "location": "MAIN/Z-1", "change": "1.500"},
        ],
    }
    event = OutboxEvent.objects.get(name="stock.counted")
    assert event.payload == {"number": count.number, "warehouse": "MAIN", "lines": audit.after["lines"]}
    # Posted is final.
    before = state()
    for call in (cycle_count_post, cycle_count_cancel, cycle_count_reopen):
        with pytest.raises(Conflict):
            call(actor=admin_actor, count_id=count.pk)
    assert state() == before


def test_goods_found_where_the_books_had_none(admin_actor, warehouse, layout):
    c = product_build(admin_actor.company, sku="C")
    count = cycle_count_create(actor=admin_actor, warehouse_id=warehouse.pk, location_id=layout["a1"].pk)
    cycle_count_line_add(actor=admin_actor, count_id=count.pk, product_id=c.pk, location_id=layout["a1"].pk)
    with pytest.raises(ValidationFailed) as info:
        cycle_count_line_add(actor=admin_actor, count_id=count.pk, product_id=c.pk, location_id=layout["a1"].pk)
    assert info.value.fields == {"product": ["This product is already counted there."]}
    with pytest.raises(ValidationFailed) as info:
        cycle_count_line_add(actor=admin_actor, count_id=count.pk, product_id=c.pk, location_id=layout["z1"].pk)
    assert info.value.fields == {"location": ["Choose a location of this count."]}
    record(admin_actor, count, {("MAIN/A-1", "B"): "4", ("MAIN/A-1", "C"): "3"})
    cycle_count_complete(actor=admin_actor, count_id=count.pk)
    cycle_count_post(actor=admin_actor, count_id=count.pk)
    level = StockLevel.objects.get(product=c, warehouse=warehouse)
    assert (level.on_hand, level.allocated) == (D("3.000"), D("0.000"))
    assert dict(StockBalance.objects.filter(product=c).values_list("location__code", "on_hand")) == {
        "MAIN/A-1": D("3.000")
    }
    move = StockMove.objects.get(product=c)
    assert (move.from_location.code, move.to_location.code, move.unit_cost) == (
        "inventory_loss",
        "MAIN/A-1",
        D("0.0000"),
    )


def test_posting_is_refused_when_the_stock_moved_since_the_snapshot(admin_actor, warehouse, layout):
    count = _counted(admin_actor, warehouse, {("MAIN/STOCK", "A"): "9", ("MAIN/Z-1", "A"): "5", ("MAIN/A-1", "B"): "4"})
    receive(admin_actor, layout["a"], warehouse, "2", "2")  # MAIN/STOCK now holds 12
    before = state()
    with pytest.raises(Conflict) as info:
        cycle_count_post(actor=admin_actor, count_id=count.pk)
    assert info.value.code == "count_stale"
    assert info.value.message == (
        "Stock changed at MAIN/STOCK since the count began: reopen the count and count those lines again."
    )
    assert info.value.details == [
        {
            "line": line_ids(count)[("MAIN/STOCK", "A")],
            "sku": "A",
            "location": "MAIN/STOCK",
            "expected": "10.000",
            "on_hand": "12.000",
        }
    ]
    assert state() == before
    # Reopening takes the books' figure for that line and asks for it again; the rest stays counted.
    cycle_count_reopen(actor=admin_actor, count_id=count.pk)
    assert lines_of(count) == [
        ("MAIN/A-1", "B", D("4.000"), D("4.000"), D("0.000")),
        ("MAIN/STOCK", "A", D("12.000"), None, None),
        ("MAIN/Z-1", "A", D("5.000"), D("5.000"), D("0.000")),
    ]
    assert AuditLog.objects.get(action="cyclecount.reopen").after == {
        "status": "draft",
        "recount": [{"sku": "A", "location": "MAIN/STOCK"}],
    }
    record(admin_actor, count, {("MAIN/STOCK", "A"): "11"})
    cycle_count_complete(actor=admin_actor, count_id=count.pk)
    cycle_count_post(actor=admin_actor, count_id=count.pk)
    assert StockLevel.objects.get(product=layout["a"]).on_hand == D("16.000")


def test_a_loss_that_would_cut_into_reserved_stock_is_refused(admin_actor, warehouse, layout):
    a = layout["a"]
    stock_allocate_lines(
        actor=admin_actor,
        warehouse=warehouse,
        reference_type="sales.order",
        reference_id="1",
        lines=[AllocationRequest(product_id=a.pk, sku="A", quantity=D("12.000"), line_id="1")],
    )
    # 15 on hand, 12 reserved: losing 4 would leave 11.
    count = _counted(admin_actor, warehouse, {("MAIN/STOCK", "A"): "6", ("MAIN/Z-1", "A"): "5", ("MAIN/A-1", "B"): "4"})
    before = state()
    with pytest.raises(Conflict) as info:
        cycle_count_post(actor=admin_actor, count_id=count.pk)
    assert info.value.code == "allocated_stock"
    assert info.value.message == (
        "Posting would leave less on hand than is reserved for orders (A): "
        "ship or release those reservations first, or count again."
    )
    assert info.value.details == [{"sku": "A", "on_hand": "15.000", "allocated": "12.000", "change": "-4.000"}]
    assert state() == before
    # Found elsewhere in the same count, the loss nets out: 15 - 4 + 2 = 13 >= 12.
    cycle_count_reopen(actor=admin_actor, count_id=count.pk)
    record(admin_actor, count, {("MAIN/Z-1", "A"): "7"})
    cycle_count_complete(actor=admin_actor, count_id=count.pk)
    cycle_count_post(actor=admin_actor, count_id=count.pk)
    level = StockLevel.objects.get(product=a)
    assert (level.on_hand, level.allocated) == (D("13.000"), D("12.000"))
    assert Allocation.objects.get().quantity == D("12.000")


def test_posting_reports_stock_deviations(admin_actor, warehouse, layout):
    a = layout["a"]
    stock_level_settings_set(
        actor=admin_actor, product_id=a.pk, warehouse_id=warehouse.pk, reorder_point="12", maximum="20"
    )
    count = _counted(admin_actor, warehouse, {("MAIN/STOCK", "A"): "5", ("MAIN/Z-1", "A"): "5", ("MAIN/A-1", "B"): "4"})
    cycle_count_post(actor=admin_actor, count_id=count.pk)
    assert [(d.kind, d.params["available"]) for d in Deviation.objects.filter(status="open")] == [
        ("inventory.stock_low", "10.000")
    ]
    assert OutboxEvent.objects.filter(name="stock.low").count() == 1


def test_cancelling_a_count_changes_no_stock(admin_actor, warehouse, layout):
    count = _counted(admin_actor, warehouse, {("MAIN/STOCK", "A"): "1", ("MAIN/Z-1", "A"): "1", ("MAIN/A-1", "B"): "1"})
    before_stock = state()[:3]
    cycle_count_cancel(actor=admin_actor, count_id=count.pk)
    count.refresh_from_db()
    assert (count.status, count.cancelled_by) == ("cancelled", admin_actor.user)
    assert state()[:3] == before_stock and not StockMove.objects.filter(reason="count").exists()
    draft = cycle_count_create(actor=admin_actor, warehouse_id=warehouse.pk)
    cycle_count_cancel(actor=admin_actor, count_id=draft.pk)
    assert CycleCount.objects.get(pk=draft.pk).status == "cancelled"
    with pytest.raises(Conflict) as info:
        cycle_count_post(actor=admin_actor, count_id=draft.pk)
    assert info.value.message == "This cannot be done while the document is Cancelled."


@pytest.mark.parametrize(
    "role, areas", [("sales", ()), ("finance", ()), ("support", ()), ("hr", ()), ("partner", ("sales",))]
)
def test_wrong_roles_cannot_count_or_post(company, warehouse, layout, role, areas):
    admin = actor_build(company, "administrator")
    draft = cycle_count_create(actor=admin, warehouse_id=warehouse.pk)
    counted = _counted(admin, warehouse, {("MAIN/STOCK", "A"): "1", ("MAIN/Z-1", "A"): "5", ("MAIN/A-1", "B"): "4"})
    actor = actor_build(company, role, areas=areas)
    before = state()
    calls = [
        lambda: cycle_count_create(actor=actor, warehouse_id=warehouse.pk),
        lambda: record(actor, draft, {("MAIN/STOCK", "A"): "1"}),
        lambda: cycle_count_complete(actor=actor, count_id=draft.pk),
        lambda: cycle_count_post(actor=actor, count_id=counted.pk),
        lambda: cycle_count_reopen(actor=actor, count_id=counted.pk),
        lambda: cycle_count_cancel(actor=actor, count_id=counted.pk),
        lambda: cycle_count_line_add(
            actor=actor, count_id=draft.pk, product_id=layout["b"].pk, location_id=layout["z1"].pk
        ),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert state() == before


@pytest.mark.parametrize("role, areas", [("warehouse", ()), ("manager", ()), ("partner", ("warehouse",))])
def test_the_warehouse_counts_and_posts(company, warehouse, layout, role, areas):
    actor = actor_build(company, role, areas=areas)
    count = _counted(actor, warehouse, {("MAIN/STOCK", "A"): "9", ("MAIN/Z-1", "A"): "5", ("MAIN/A-1", "B"): "4"})
    cycle_count_post(actor=actor, count_id=count.pk)
    assert StockLevel.objects.get(product=layout["a"]).on_hand == D("14.000")


def test_another_companys_count_is_not_found(admin_actor, warehouse, layout):
    other = actor_build(company_build())
    count = cycle_count_create(actor=admin_actor, warehouse_id=warehouse.pk)
    before = state()
    for call in (cycle_count_complete, cycle_count_post, cycle_count_cancel, cycle_count_reopen):
        with pytest.raises(NotFound):
            call(actor=other, count_id=count.pk)
    with pytest.raises(NotFound):
        cycle_count_record(actor=other, count_id=count.pk, quantities={})
    assert state() == before


@pytest.mark.parametrize("size", [1, 3, 30])
def test_posting_takes_a_fixed_number_of_queries(admin_actor, warehouse, size, django_assert_num_queries):
    products = [product_build(admin_actor.company) for _ in range(size)]
    for product in products:
        receive(admin_actor, product, warehouse, "10", "1")
    count = cycle_count_create(actor=admin_actor, warehouse_id=warehouse.pk)
    cycle_count_record(
        actor=admin_actor,
        count_id=count.pk,
        quantities={line.pk: ("9" if n % 2 else "11") for n, line in enumerate(count.lines.order_by("pk"))},
    )
    cycle_count_complete(actor=admin_actor, count_id=count.pk)
    # savepoint, count lock, lines, level locks, balance locks, levels update, balances update,
    # costs, loss location, moves insert, count save, audit, event, webhook subscriptions, the
    # arrival consumers (sales: lines waiting for stock), release
    with django_assert_num_queries(16):
        cycle_count_post(actor=admin_actor, count_id=count.pk)
    assert StockMove.objects.filter(reason="count").count() == size
