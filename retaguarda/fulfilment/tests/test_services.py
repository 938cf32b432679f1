"""Fulfilment services: pick lists and their bins, picks and short picks, completion into
shipments, parcels, packing and shipping, returns; refusals that change nothing; roles; and the
pinned query counts of the hot paths."""

from decimal import Decimal

import pytest

from retaguarda.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from retaguarda.core.choices import Area, Role
from retaguarda.core.models import Deviation, OutboxEvent
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import actor_build
from retaguarda.fulfilment import services
from retaguarda.fulfilment.models import PickList, PickListLine, Shipment, ShipmentLine
from retaguarda.fulfilment.testing import binned_product, shipments_build, shipped_build
from retaguarda.inventory.models import StockMove
from retaguarda.sales.services import sales_order_cancel
from retaguarda.sales.testing import order_build

from .conftest import MUG_BARCODE, YEAR, bins_of, everything, level, order_line_figures


def _lines(pick_list):
    return [
        (line.location.code, line.product.sku, line.order.number, str(line.quantity))
        for line in PickListLine.objects.filter(pick_list=pick_list)
        .select_related("location", "product", "order")
        .order_by("sort_key")
    ]


def _line(pick_list, sort_key):
    return PickListLine.objects.get(pick_list=pick_list, sort_key=sort_key)


def _shipment_lines(shipment):
    return [
        (line.product.sku, line.location.code, str(line.quantity))
        for line in ShipmentLine.objects.filter(shipment=shipment)
        .select_related("product", "location")
        .order_by("location__code", "product__sku")
    ]


# --- pick lists ---------------------------------------------------------------------------------


def test_pick_list_batches_reserved_lines_with_bins_by_code_then_sku(floor, admin_actor):
    o1 = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 7), (floor.tea, 2)])
    o2 = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.tea, 5)])
    pick_list = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    assert pick_list.number == f"PL{YEAR}-000001"
    assert (pick_list.status, pick_list.warehouse_id, pick_list.created_by_id) == (
        "open",
        floor.warehouse.pk,
        admin_actor.user.pk,
    )
    # MUG 7 = all 4 of A-01 + 3 of B-01; TEA of the older order first: 2 of A-02, then the
    # second order's 5 = the 3 left at A-02 + 2 from the warehouse's stock location.
    assert _lines(pick_list) == [
        ("MAIN/A-01", "MUG", o1.number, "4.000"),
        ("MAIN/A-02", "TEA", o1.number, "2.000"),
        ("MAIN/A-02", "TEA", o2.number, "3.000"),
        ("MAIN/B-01", "MUG", o1.number, "3.000"),
        ("MAIN/STOCK", "TEA", o2.number, "2.000"),
    ]
    assert list(pick_list.lines.order_by("sort_key").values_list("sort_key", flat=True)) == [1, 2, 3, 4, 5]
    # Nothing moved: a pick list only says where to go.
    assert level(floor.mug) == ("10.000", "7.000")
    assert bins_of(floor.mug) == {"MAIN/A-01": "4.000", "MAIN/B-01": "6.000"}


def test_a_second_pick_list_takes_only_what_no_open_one_holds(floor, admin_actor):
    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 7)])
    services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    before = everything(floor.company)
    with pytest.raises(Conflict) as info:
        services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    assert info.value.code == "nothing_to_pick"
    assert info.value.message == (
        "Nothing to pick in MAIN: no confirmed order has reserved stock that is not already on a pick list or shipment."
    )
    assert everything(floor.company) == before
    # A new order: A-01's 4 are all on the first list, so its 2 come from B-01's 3 left free.
    o3 = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 2)])
    second = services.pick_list_create(actor=admin_actor, warehouse_code="MAIN")
    assert second.number == f"PL{YEAR}-000002"
    assert _lines(second) == [("MAIN/B-01", "MUG", o3.number, "2.000")]


def test_pick_list_for_chosen_orders_by_id_or_number(floor, admin_actor):
    o1 = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 1)])
    o2 = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.tea, 1)])
    by_number = services.pick_list_create(
        actor=admin_actor, warehouse_id=floor.warehouse.pk, order_numbers=f" {o2.number}, "
    )
    assert _lines(by_number) == [("MAIN/A-02", "TEA", o2.number, "1.000")]
    by_id = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk, order_ids=[o1.pk])
    assert _lines(by_id) == [("MAIN/A-01", "MUG", o1.number, "1.000")]


def test_pick_list_refuses_bad_input_and_changes_nothing(floor, admin_actor, company):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 1)])
    draft = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.tea, 1)], confirm=False)
    before = everything(company)
    with pytest.raises(ValidationFailed) as info:
        services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk, order_numbers="SO-NOPE X")
    assert info.value.fields == {"orders": ["No such order: SO-NOPE, X."]}
    with pytest.raises(ValidationFailed) as info:
        services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk, order_ids=["x"])
    assert info.value.fields == {"order_ids": ["No such order."]}
    with pytest.raises(ValidationFailed) as info:
        services.pick_list_create(actor=admin_actor)
    assert info.value.fields == {"warehouse": ["Choose the warehouse."]}
    with pytest.raises(NotFound):
        services.pick_list_create(actor=admin_actor, warehouse_id=10**30)
    # A draft has no reservation: nothing to pick.
    with pytest.raises(Conflict) as info:
        services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk, order_ids=[draft.pk])
    assert info.value.code == "nothing_to_pick"
    assert everything(company) == before
    assert order.status == "confirmed"


# --- picking --------------------------------------------------------------------------------------


def test_scanning_sku_or_barcode_picks_the_line(floor, admin_actor):
    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 7), (floor.tea, 2)])
    pick_list = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    first = services.pick_line_confirm(actor=admin_actor, line_id=_line(pick_list, 1).pk, code=MUG_BARCODE)
    assert (first.status, str(first.quantity_picked), first.picked_by_id) == ("picked", "4.000", admin_actor.user.pk)
    assert first.picked_at is not None
    second = services.pick_line_confirm(actor=admin_actor, line_id=_line(pick_list, 2).pk, code=" tea ", quantity="2")
    assert (second.status, str(second.quantity_picked)) == ("picked", "2.000")
    # Picking moves no stock and raises no deviation.
    assert level(floor.mug) == ("10.000", "7.000")
    assert Deviation.objects.filter(company=floor.company).count() == 0


def test_a_wrong_code_is_refused_naming_what_was_scanned(floor, admin_actor, company):
    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 2)])
    pick_list = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    line = _line(pick_list, 1)
    before = everything(company)
    with pytest.raises(ValidationFailed) as info:
        services.pick_line_confirm(actor=admin_actor, line_id=line.pk, code="TEA", quantity="2")
    assert info.value.status == 422
    assert info.value.fields == {"code": ["You scanned TEA, but this line is MUG."]}
    for code, quantity, fields in [
        ("", "2", {"code": ["Scan the barcode or type the SKU."]}),
        ("MUG", "3", {"quantity": ["Enter a number of at most 2.000."]}),
        ("MUG", "-1", {"quantity": ["Enter a number of at least 0.000."]}),
        ("MUG", "1.0001", {"quantity": ["Use at most 3 decimal places."]}),
        ("MUG", "lots", {"quantity": ["Enter a number."]}),
        ("MUG", 1.5, {"quantity": ["Enter a number."]}),
    ]:
        with pytest.raises(ValidationFailed) as info:
            services.pick_line_confirm(actor=admin_actor, line_id=line.pk, code=code, quantity=quantity)
        assert info.value.fields == fields
    with pytest.raises(NotFound):
        services.pick_line_confirm(actor=admin_actor, line_id=line.pk + 1000, code="MUG")
    assert everything(company) == before


def test_a_line_cannot_be_picked_twice(floor, admin_actor, company):
    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 2)])
    pick_list = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    line = _line(pick_list, 1)
    services.pick_line_confirm(actor=admin_actor, line_id=line.pk, code="MUG")
    before = everything(company)
    with pytest.raises(Conflict) as info:
        services.pick_line_confirm(actor=admin_actor, line_id=line.pk, code="MUG")
    assert (info.value.code, info.value.message) == ("already_picked", "This line is already Picked.")
    assert everything(company) == before


def test_short_pick_writes_off_the_missing_part_and_reserves_it_again_elsewhere(floor, admin_actor):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 7)])
    order_line = order.prefetched_lines[0]
    pick_list = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    a01 = _line(pick_list, 1)
    assert (a01.location.code, str(a01.quantity)) == ("MAIN/A-01", "4.000")
    line = services.pick_line_confirm(actor=admin_actor, line_id=a01.pk, code="MUG", quantity="3")
    assert (line.status, str(line.quantity_picked), str(line.missing)) == ("short", "3.000", "1.000")
    # A-01 held 3, not 4: one unit written off there; the order line is reserved again from
    # the 2 free units (10 - 1 lost - 7 reserved), so it is not back-ordered.
    assert bins_of(floor.mug) == {"MAIN/A-01": "3.000", "MAIN/B-01": "6.000"}
    assert level(floor.mug) == ("9.000", "7.000")
    assert order_line_figures(order_line) == ("7.000", "0.000", "0.000")
    order.refresh_from_db()
    assert order.is_backordered is False
    move = StockMove.objects.filter(company=floor.company, reason="count").get()
    assert (move.from_location.code, move.to_location.code, str(move.quantity), move.reference) == (
        "MAIN/A-01",
        "inventory_loss",
        "1.000",
        pick_list.number,
    )
    deviation = Deviation.objects.get(company=floor.company, kind="fulfilment.short_pick")
    assert (deviation.object_type, deviation.object_id, deviation.severity, deviation.owner_role) == (
        "fulfilment.picklistline",
        str(a01.pk),
        "medium",
        "warehouse",
    )
    assert deviation.params == {
        "sku": "MUG",
        "location": "MAIN/A-01",
        "missing": "1.000",
        "pick_list": pick_list.number,
        "order": order.number,
    }
    # The unit reserved again is on no pick list yet: the next one takes it from B-01.
    services.pick_list_confirm_all(actor=admin_actor, pick_list_id=pick_list.pk)
    again = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    assert _lines(again) == [("MAIN/B-01", "MUG", order.number, "1.000")]


def test_short_pick_with_no_stock_left_back_orders_the_line(floor, admin_actor):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.tea, 8)])
    pick_list = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    assert _lines(pick_list) == [
        ("MAIN/A-02", "TEA", order.number, "5.000"),
        ("MAIN/STOCK", "TEA", order.number, "3.000"),
    ]
    events_before = OutboxEvent.objects.filter(company=floor.company, name="order.backordered").count()
    services.pick_line_confirm(actor=admin_actor, line_id=_line(pick_list, 1).pk, code="TEA", quantity="0")
    assert bins_of(floor.tea) == {"MAIN/A-02": "0.000", "MAIN/STOCK": "3.000"}
    assert level(floor.tea) == ("3.000", "3.000")
    assert order_line_figures(order.prefetched_lines[0]) == ("3.000", "0.000", "0.000")
    order.refresh_from_db()
    assert order.is_backordered is True
    assert OutboxEvent.objects.filter(company=floor.company, name="order.backordered").count() == events_before + 1
    assert Deviation.objects.get(kind="fulfilment.short_pick").params["missing"] == "5.000"


def test_lines_of_an_order_cancelled_meanwhile_cannot_be_picked_and_are_dropped(floor, admin_actor, company):
    kept = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 2)])
    gone = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.tea, 1)])
    pick_list = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    sales_order_cancel(actor=system_actor(company), order_id=gone.pk)
    tea_line = PickListLine.objects.get(pick_list=pick_list, order=gone)
    before = everything(company)
    with pytest.raises(Conflict) as info:
        services.pick_line_confirm(actor=admin_actor, line_id=tea_line.pk, code="TEA")
    assert info.value.code == "order_not_confirmed"
    assert info.value.message == f"Order {gone.number} is Cancelled; only confirmed orders are picked and shipped."
    assert everything(company) == before
    # Picking everything skips it; completing drops it and ships only the confirmed order.
    services.pick_list_confirm_all(actor=admin_actor, pick_list_id=pick_list.pk)
    tea_line.refresh_from_db()
    assert tea_line.status == "pending"
    done = services.pick_list_complete(actor=admin_actor, pick_list_id=pick_list.pk)
    tea_line.refresh_from_db()
    assert (done.status, tea_line.status) == ("done", "dropped")
    assert [s.order_id for s in done.created_shipments] == [kept.pk]


def test_confirm_all_picks_every_pending_line_in_full(floor, admin_actor, company):
    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 7), (floor.tea, 2)])
    pick_list = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    services.pick_line_confirm(actor=admin_actor, line_id=_line(pick_list, 1).pk, code="MUG", quantity="3")
    services.pick_list_confirm_all(actor=admin_actor, pick_list_id=pick_list.pk)
    rows = list(pick_list.lines.order_by("sort_key").values_list("status", "quantity_picked", "picked_by"))
    assert rows == [
        ("short", Decimal("3.000"), admin_actor.user.pk),
        ("picked", Decimal("2.000"), admin_actor.user.pk),
        ("picked", Decimal("3.000"), admin_actor.user.pk),
    ]
    before = everything(company)
    with pytest.raises(Conflict) as info:
        services.pick_list_confirm_all(actor=admin_actor, pick_list_id=pick_list.pk)
    assert info.value.code == "nothing_to_pick"
    assert everything(company) == before


@pytest.mark.parametrize("count", [1, 3, 30])
def test_confirm_all_takes_a_fixed_number_of_queries(company, admin_actor, django_assert_num_queries, count):
    from retaguarda.inventory.testing import warehouse_build

    warehouse = warehouse_build(company, code="MAIN")
    products = [binned_product(company, warehouse=warehouse, stock={None: 5}, sku=f"P{i:03d}") for i in range(count)]
    order_build(company, warehouse=warehouse, lines=[(p, 2) for p in products])
    pick_list = services.pick_list_create(actor=admin_actor, warehouse_id=warehouse.pk)
    with django_assert_num_queries(6):
        services.pick_list_confirm_all(actor=admin_actor, pick_list_id=pick_list.pk)
    assert pick_list.lines.filter(status="picked").count() == count


# --- completion and shipments -------------------------------------------------------------------


def test_complete_makes_one_draft_shipment_per_order_by_line_and_bin(floor, admin_actor):
    o1 = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 7), (floor.tea, 2)])
    o2 = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.tea, 5)])
    pick_list = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    services.pick_line_confirm(actor=admin_actor, line_id=_line(pick_list, 1).pk, code="MUG", quantity="3")
    services.pick_list_confirm_all(actor=admin_actor, pick_list_id=pick_list.pk)
    done = services.pick_list_complete(actor=admin_actor, pick_list_id=pick_list.pk)
    assert (done.status, done.done_by_id) == ("done", admin_actor.user.pk)
    assert done.done_at is not None
    first, second = done.created_shipments
    assert (first.number, first.order_id, first.status, first.pick_list_id) == (
        f"SH{YEAR}-000001",
        o1.pk,
        "draft",
        pick_list.pk,
    )
    assert _shipment_lines(first) == [
        ("MUG", "MAIN/A-01", "3.000"),
        ("TEA", "MAIN/A-02", "2.000"),
        ("MUG", "MAIN/B-01", "3.000"),
    ]
    assert (second.number, second.order_id) == (f"SH{YEAR}-000002", o2.pk)
    assert _shipment_lines(second) == [("TEA", "MAIN/A-02", "3.000"), ("TEA", "MAIN/STOCK", "2.000")]
    # Still nothing has left: stock is posted when the shipment ships.
    assert level(floor.mug) == ("9.000", "7.000")
    assert level(floor.tea) == ("8.000", "7.000")


def test_complete_is_refused_while_lines_are_pending(floor, admin_actor, company):
    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 7)])
    pick_list = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    services.pick_line_confirm(actor=admin_actor, line_id=_line(pick_list, 1).pk, code="MUG")
    before = everything(company)
    with pytest.raises(Conflict) as info:
        services.pick_list_complete(actor=admin_actor, pick_list_id=pick_list.pk)
    assert (info.value.code, info.value.message) == (
        "lines_pending",
        "1 line is still to pick (next: MUG at MAIN/B-01).",
    )
    assert everything(company) == before


def test_parcels_pack_and_ship_post_the_stock_and_the_order(floor, admin_actor, company):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 7), (floor.tea, 2)])
    (shipment,) = shipments_build(company, warehouse=floor.warehouse, actor=admin_actor)
    before = everything(company)
    with pytest.raises(Conflict) as info:
        services.shipment_pack(actor=admin_actor, shipment_id=shipment.pk)
    assert (info.value.code, info.value.message) == ("no_parcels", "Add at least one parcel before packing.")
    with pytest.raises(Conflict) as info:
        services.shipment_ship(actor=admin_actor, shipment_id=shipment.pk, carrier="UPS")
    assert info.value.code == "invalid_transition"
    with pytest.raises(ValidationFailed) as info:
        services.parcel_add(actor=admin_actor, shipment_id=shipment.pk, weight="0", length="-1", width="1.0005")
    assert info.value.fields == {
        "weight": ["Enter a number greater than 0.000."],
        "length": ["Enter a number of at least 0.000."],
        "width": ["Use at most 3 decimal places."],
    }
    assert everything(company) == before

    parcel = services.parcel_add(
        actor=admin_actor, shipment_id=shipment.pk, weight="2.5", length="30", width="20", height="10.125"
    )
    assert (str(parcel.weight), str(parcel.length), str(parcel.width), str(parcel.height)) == (
        "2.500",
        "30.000",
        "20.000",
        "10.125",
    )
    extra = services.parcel_add(actor=admin_actor, shipment_id=shipment.pk, weight="1")
    services.parcel_remove(actor=admin_actor, shipment_id=shipment.pk, parcel_id=extra.pk)
    packed = services.shipment_pack(actor=admin_actor, shipment_id=shipment.pk)
    assert (packed.status, packed.packed_by_id) == ("packed", admin_actor.user.pk)
    with pytest.raises(Conflict):
        services.parcel_add(actor=admin_actor, shipment_id=shipment.pk, weight="1")
    with pytest.raises(ValidationFailed) as info:
        services.shipment_ship(actor=admin_actor, shipment_id=shipment.pk, carrier=" ", tracking_number="x" * 101)
    assert info.value.fields == {
        "carrier": ["This field is required."],
        "tracking_number": ["Use at most 100 characters."],
    }

    shipped = services.shipment_ship(
        actor=admin_actor, shipment_id=shipment.pk, carrier="SEUR", tracking_number="SEUR123"
    )
    assert (shipped.status, shipped.carrier, shipped.tracking_number, shipped.shipped_by_id) == (
        "shipped",
        "SEUR",
        "SEUR123",
        admin_actor.user.pk,
    )
    # The stock left each bin it was picked from, and the reservations with it.
    assert level(floor.mug) == ("3.000", "0.000")
    assert bins_of(floor.mug) == {"MAIN/A-01": "0.000", "MAIN/B-01": "3.000"}
    assert level(floor.tea) == ("6.000", "0.000")
    assert bins_of(floor.tea) == {"MAIN/A-02": "3.000", "MAIN/STOCK": "3.000"}
    mug_line, tea_line = order.prefetched_lines
    assert order_line_figures(mug_line) == ("0.000", "7.000", "0.000")
    assert order_line_figures(tea_line) == ("0.000", "2.000", "0.000")
    order.refresh_from_db()
    assert order.fulfilment_status == "shipped"
    moves = StockMove.objects.filter(company=company, reason="shipment").order_by("pk")
    assert [(m.from_location.code, m.to_location.code, str(m.quantity), m.reference) for m in moves] == [
        ("MAIN/A-01", "customer", "4.000", shipment.number),
        ("MAIN/A-02", "customer", "2.000", shipment.number),
        ("MAIN/B-01", "customer", "3.000", shipment.number),
    ]
    events = OutboxEvent.objects.filter(company=company, name__in=["order.shipped", "shipment.shipped"])
    assert [e.name for e in events.order_by("pk")] == ["order.shipped", "shipment.shipped"]
    order_event, shipment_event = events.order_by("pk")
    assert (order_event.payload["shipment"], order_event.payload["complete"]) == (shipment.number, True)
    assert shipment_event.payload["tracking_number"] == "SEUR123"
    assert shipment_event.payload["lines"] == [
        {"order_line_id": mug_line.pk, "sku": "MUG", "quantity": "4.000"},
        {"order_line_id": tea_line.pk, "sku": "TEA", "quantity": "2.000"},
        {"order_line_id": mug_line.pk, "sku": "MUG", "quantity": "3.000"},
    ]
    # Shipped is final.
    before = everything(company)
    for call in (
        lambda: services.shipment_ship(actor=admin_actor, shipment_id=shipment.pk, carrier="SEUR"),
        lambda: services.shipment_cancel(actor=admin_actor, shipment_id=shipment.pk),
    ):
        with pytest.raises(Conflict) as info:
            call()
        assert info.value.code == "invalid_transition"
    assert everything(company) == before


def test_a_partial_shipment_ships_what_was_picked(floor, admin_actor, company):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.tea, 8)])
    pick_list = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    services.pick_line_confirm(actor=admin_actor, line_id=_line(pick_list, 1).pk, code="TEA", quantity="4")
    services.pick_list_confirm_all(actor=admin_actor, pick_list_id=pick_list.pk)
    (shipment,) = services.pick_list_complete(actor=admin_actor, pick_list_id=pick_list.pk).created_shipments
    services.parcel_add(actor=admin_actor, shipment_id=shipment.pk, weight="1")
    services.shipment_pack(actor=admin_actor, shipment_id=shipment.pk)
    services.shipment_ship(actor=admin_actor, shipment_id=shipment.pk, carrier="CTT")
    # 8 ordered: 1 missing at A-02 and back-ordered (nothing else free), 7 shipped.
    assert order_line_figures(order.prefetched_lines[0]) == ("0.000", "7.000", "0.000")
    order.refresh_from_db()
    assert (order.fulfilment_status, order.is_backordered) == ("partially_shipped", True)
    assert level(floor.tea) == ("0.000", "0.000")


def test_cancelling_a_shipment_frees_its_quantities_for_a_new_pick_list(floor, admin_actor):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 2)])
    (shipment,) = shipments_build(floor.company, warehouse=floor.warehouse, actor=admin_actor)
    cancelled = services.shipment_cancel(actor=admin_actor, shipment_id=shipment.pk)
    assert cancelled.status == "cancelled"
    again = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    assert _lines(again) == [("MAIN/A-01", "MUG", order.number, "2.000")]
    assert level(floor.mug) == ("10.000", "2.000")


@pytest.mark.parametrize("count", [1, 3, 30])
def test_ship_takes_a_fixed_number_of_queries(company, admin_actor, django_assert_num_queries, count):
    from retaguarda.inventory.testing import warehouse_build

    warehouse = warehouse_build(company, code="MAIN")
    products = [binned_product(company, warehouse=warehouse, stock={None: 5}, sku=f"P{i:03d}") for i in range(count)]
    order = order_build(company, warehouse=warehouse, lines=[(p, 2) for p in products])
    (shipment,) = shipments_build(company, warehouse=warehouse, actor=admin_actor, pack=True)
    # 26 for the stock and the order, 14 for the cost-of-goods entry: the account roles, the
    # stock journal's first counter of the year and the accounts' first balance rows included.
    with django_assert_num_queries(40):
        services.shipment_ship(actor=admin_actor, shipment_id=shipment.pk, carrier="UPS", tracking_number="1Z")
    order.refresh_from_db()
    assert order.fulfilment_status == "shipped"
    assert StockMove.objects.filter(company=company, reason="shipment").count() == count


# --- returns --------------------------------------------------------------------------------------


def test_returns_register_within_what_shipped_and_receive_to_stock_or_scrap(floor, admin_actor, company):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 3), (floor.tea, 2)])
    shipped_build(company, warehouse=floor.warehouse, actor=admin_actor)
    mug_line, tea_line = order.prefetched_lines
    assert level(floor.mug) == ("7.000", "0.000")
    before = everything(company)
    with pytest.raises(ValidationFailed) as info:
        services.return_register(
            actor=admin_actor,
            order_id=order.pk,
            lines=[
                {"line_id": mug_line.pk, "quantity": "4"},
                {"line_id": tea_line.pk, "quantity": "0"},
                {"line_id": 10**6, "quantity": "1"},
            ],
            reason="broken",
        )
    assert info.value.fields == {
        "reason": ["Choose a reason."],
        "lines.0.quantity": ["At most 3.000 of MUG can come back (shipped, not yet returned)."],
        "lines.1.quantity": ["Enter a quantity greater than zero."],
        "lines.2.line_id": ["No such line on this order."],
    }
    assert everything(company) == before

    customer_return = services.return_register(
        actor=admin_actor,
        order_id=order.pk,
        lines=[{"line_id": mug_line.pk, "quantity": "2"}, {"line_id": tea_line.pk, "quantity": "1"}],
        reason="damaged",
        note="Box crushed",
    )
    assert (customer_return.number, customer_return.status, customer_return.reason) == (
        f"RT{YEAR}-000001",
        "registered",
        "damaged",
    )
    # What a registered return announces cannot be announced again.
    with pytest.raises(ValidationFailed) as info:
        services.return_register(
            actor=admin_actor, order_id=order.pk, lines=[{"line_id": mug_line.pk, "quantity": "2"}], reason="other"
        )
    assert info.value.fields == {
        "lines.0.quantity": ["At most 1.000 of MUG can come back (shipped, not yet returned)."]
    }
    # Nothing changes in stock or on the order until the goods arrive.
    assert order_line_figures(mug_line) == ("0.000", "3.000", "0.000")
    before = everything(company)
    with pytest.raises(ValidationFailed) as info:
        services.return_receive(
            actor=admin_actor, return_id=customer_return.pk, dispositions={str(mug_line.pk): "restock"}
        )
    assert info.value.fields == {f"dispositions.{tea_line.pk}": ["Choose back to stock or scrap for TEA."]}
    with pytest.raises(ValidationFailed) as info:
        services.return_receive(
            actor=admin_actor,
            return_id=customer_return.pk,
            dispositions={mug_line.pk: "restock", tea_line.pk: "scrap"},
            location_id=10**6,
        )
    assert info.value.fields == {"location_id": ["Choose a location of this warehouse."]}
    assert everything(company) == before

    received = services.return_receive(
        actor=admin_actor,
        return_id=customer_return.pk,
        dispositions={str(mug_line.pk): "restock", str(tea_line.pk): "scrap"},
        location_id=floor.bins["B-01"].pk,
    )
    assert (received.status, received.received_by_id, received.location_id) == (
        "received",
        admin_actor.user.pk,
        floor.bins["B-01"].pk,
    )
    assert list(received.lines.order_by("pk").values_list("disposition", flat=True)) == ["restock", "scrap"]
    assert level(floor.mug) == ("9.000", "0.000")
    assert bins_of(floor.mug) == {"MAIN/A-01": "1.000", "MAIN/B-01": "8.000"}
    assert level(floor.tea) == ("6.000", "0.000")
    assert order_line_figures(mug_line) == ("0.000", "3.000", "2.000")
    assert order_line_figures(tea_line) == ("0.000", "2.000", "1.000")
    returns = StockMove.objects.filter(company=company, reason="return").order_by("pk")
    assert [(m.product.sku, m.from_location.code, m.to_location.code, str(m.quantity)) for m in returns] == [
        ("MUG", "customer", "MAIN/B-01", "2.000"),
        ("TEA", "customer", "scrap", "1.000"),
    ]
    names = list(OutboxEvent.objects.filter(company=company, name__startswith="return").values_list("name", flat=True))
    assert names == ["return.registered", "return.received"]
    assert OutboxEvent.objects.filter(company=company, name="order.returned").count() == 1
    with pytest.raises(Conflict):
        services.return_cancel(actor=admin_actor, return_id=customer_return.pk)


def test_nothing_shipped_nothing_to_return(floor, admin_actor, company):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 3)])
    before = everything(company)
    with pytest.raises(ValidationFailed) as info:
        services.return_register(
            actor=admin_actor,
            order_id=order.pk,
            lines=[{"line_id": order.prefetched_lines[0].pk, "quantity": "1"}],
            reason="other",
        )
    assert info.value.fields == {
        "lines.0.quantity": ["At most 0.000 of MUG can come back (shipped, not yet returned)."]
    }
    with pytest.raises(NotFound):
        services.return_register(actor=admin_actor, order_id=10**30, lines=[], reason="other")
    assert everything(company) == before


def test_a_cancelled_return_frees_its_quantities(floor, admin_actor, company):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 1)])
    shipped_build(company, warehouse=floor.warehouse, actor=admin_actor)
    line = {"line_id": order.prefetched_lines[0].pk, "quantity": "1"}
    first = services.return_register(actor=admin_actor, order_id=order.pk, lines=[line], reason="changed_mind")
    assert services.return_cancel(actor=admin_actor, return_id=first.pk).status == "cancelled"
    second = services.return_register(actor=admin_actor, order_id=order.pk, lines=[line], reason="changed_mind")
    assert second.number == f"RT{YEAR}-000002"


# --- roles ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.SALES, Role.FINANCE, Role.HR, Role.SUPPORT, Role.LEGAL])
def test_roles_without_fulfilment_change_are_denied_and_nothing_changes(floor, company, role):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 2)])
    pick_list = services.pick_list_create(actor=system_actor(company), warehouse_id=floor.warehouse.pk)
    line = _line(pick_list, 1)
    actor = actor_build(company, role)
    before = everything(company)
    calls = [
        lambda: services.pick_list_create(actor=actor, warehouse_id=floor.warehouse.pk),
        lambda: services.pick_line_confirm(actor=actor, line_id=line.pk, code="MUG"),
        lambda: services.pick_line_confirm(actor=actor, line_id=line.pk, code="MUG", quantity="1"),
        lambda: services.pick_list_confirm_all(actor=actor, pick_list_id=pick_list.pk),
        lambda: services.pick_list_complete(actor=actor, pick_list_id=pick_list.pk),
        lambda: services.pick_list_cancel(actor=actor, pick_list_id=pick_list.pk),
        lambda: services.return_register(
            actor=actor, order_id=order.pk, lines=[{"line_id": line.order_line_id, "quantity": "1"}], reason="other"
        ),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert everything(company) == before


@pytest.mark.parametrize(
    "role, areas",
    [(Role.WAREHOUSE, ()), (Role.MANAGER, ()), (Role.ADMINISTRATOR, ()), (Role.PARTNER, (Area.WAREHOUSE,))],
)
def test_warehouse_staff_and_logistics_partners_run_the_whole_flow(floor, company, role, areas):
    """Including the steps that consume or release reservations in inventory, which a partner
    could not do there directly."""
    actor = actor_build(company, role, areas=areas)
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 7)])
    pick_list = services.pick_list_create(actor=actor, warehouse_id=floor.warehouse.pk)
    services.pick_line_confirm(actor=actor, line_id=_line(pick_list, 1).pk, code="MUG", quantity="3")
    services.pick_list_confirm_all(actor=actor, pick_list_id=pick_list.pk)
    (shipment,) = services.pick_list_complete(actor=actor, pick_list_id=pick_list.pk).created_shipments
    services.parcel_add(actor=actor, shipment_id=shipment.pk, weight="1")
    services.shipment_pack(actor=actor, shipment_id=shipment.pk)
    services.shipment_ship(actor=actor, shipment_id=shipment.pk, carrier="GLS", tracking_number="G1")
    line = order.prefetched_lines[0]
    assert order_line_figures(line) == ("1.000", "6.000", "0.000")
    customer_return = services.return_register(
        actor=actor, order_id=order.pk, lines=[{"line_id": line.pk, "quantity": "1"}], reason="wrong_item"
    )
    services.return_receive(actor=actor, return_id=customer_return.pk, dispositions={line.pk: "restock"})
    assert order_line_figures(line) == ("1.000", "6.000", "1.000")
    assert level(floor.mug) == ("4.000", "1.000")
    ship_move = StockMove.objects.filter(company=company, reason="shipment").first()
    assert ship_move.actor_id == actor.user.pk


def test_other_companies_documents_are_not_found(floor, admin_actor):
    from retaguarda.core.testing import company_build

    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 1)])
    pick_list = services.pick_list_create(actor=admin_actor, warehouse_id=floor.warehouse.pk)
    stranger = actor_build(company_build(country="BR"), Role.ADMINISTRATOR)
    with pytest.raises(NotFound):
        services.pick_list_create(actor=stranger, warehouse_id=floor.warehouse.pk)
    with pytest.raises(NotFound):
        services.pick_line_confirm(actor=stranger, line_id=_line(pick_list, 1).pk, code="MUG")
    with pytest.raises(NotFound):
        services.pick_list_complete(actor=stranger, pick_list_id=pick_list.pk)
    assert PickList.objects.count() == 1
    assert Shipment.objects.count() == 0
