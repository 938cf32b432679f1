"""Order to return: a storefront order is confirmed, picked (one bin short), packed and shipped
in two shipments, and part of it comes back (one line to stock, one to scrap). Stock levels,
bin balances and order lines are checked at every step."""

from __future__ import annotations

from decimal import Decimal

from retaguarda.catalog.testing import product_build
from retaguarda.core.choices import Role
from retaguarda.core.models import Deviation, OutboxEvent
from retaguarda.core.testing import actor_build
from retaguarda.fulfilment import services as fulfilment
from retaguarda.fulfilment.models import PickListLine
from retaguarda.inventory.choices import MoveReason
from retaguarda.inventory.models import Location, StockBalance, StockLevel, StockMove
from retaguarda.inventory.services import location_create, stock_receive, warehouse_create
from retaguarda.parties.testing import party_build
from retaguarda.sales.services import sales_order_create


def stock(product) -> tuple[str, str]:
    level = StockLevel.objects.get(product=product)
    return str(level.on_hand), str(level.allocated)


def bins(product) -> dict[str, str]:
    rows = StockBalance.objects.filter(product=product).order_by("location__code")
    return {row.location.code: str(row.on_hand) for row in rows.select_related("location")}


def figures(line) -> tuple[str, str, str]:
    """(reserved, shipped, returned) of an order line."""
    line.refresh_from_db()
    return str(line.quantity_allocated), str(line.quantity_shipped), str(line.quantity_returned)


def pick(actor, pick_list, sort_key, code, quantity=None):
    line = PickListLine.objects.get(pick_list=pick_list, sort_key=sort_key)
    return fulfilment.pick_line_confirm(actor=actor, line_id=line.pk, code=code, quantity=quantity)


def walk(pick_list) -> list[tuple[str, str, str]]:
    return [
        (line.location.code, line.product.sku, str(line.quantity))
        for line in pick_list.lines.select_related("location", "product").order_by("sort_key")
    ]


def test_order_to_return(company):
    manager = actor_build(company, Role.MANAGER)
    seller = actor_build(company, Role.SALES)
    picker = actor_build(company, Role.WAREHOUSE)

    # The floor: LAMP in two bins (3 at A-01, 5 at B-01), SHADE on the warehouse's stock location.
    warehouse = warehouse_create(actor=manager, code="MAIN", name="Main warehouse")
    a01 = location_create(actor=manager, warehouse_id=warehouse.pk, code="A-01")
    b01 = location_create(actor=manager, warehouse_id=warehouse.pk, code="B-01")
    lamp = product_build(company, sku="LAMP", name="Desk lamp", list_price=Decimal("49.90"))
    shade = product_build(company, sku="SHADE", name="Lamp shade", list_price=Decimal("12.50"))
    for product, quantity, cost, location in ((lamp, "3", "20", a01), (lamp, "5", "20", b01), (shade, "4", "5", None)):
        stock_receive(
            actor=manager,
            product_id=product.pk,
            warehouse_id=warehouse.pk,
            quantity=quantity,
            unit_cost=cost,
            reason=MoveReason.RECEIPT,
            location_id=location.pk if location else None,
        )
    assert (stock(lamp), bins(lamp)) == (("8.000", "0.000"), {"MAIN/A-01": "3.000", "MAIN/B-01": "5.000"})
    assert (stock(shade), bins(shade)) == (("4.000", "0.000"), {"MAIN/STOCK": "4.000"})

    # 1. The order: 6 lamps and 4 shades, confirmed with every unit reserved.
    customer = party_build(company, legal_name="Oficina Luz SL")
    order = sales_order_create(
        actor=seller,
        customer_id=customer.pk,
        warehouse_id=warehouse.pk,
        lines=[{"sku": "LAMP", "quantity": "6"}, {"sku": "SHADE", "quantity": "4"}],
        confirm=True,
    )
    lamp_line, shade_line = order.prefetched_lines
    assert stock(lamp) == ("8.000", "6.000")
    assert stock(shade) == ("4.000", "4.000")
    assert figures(lamp_line) == ("6.000", "0.000", "0.000")
    assert figures(shade_line) == ("4.000", "0.000", "0.000")

    # 2. The pick list: lamps from A-01 (all 3) then B-01, the shades from the stock location.
    pick_list = fulfilment.pick_list_create(actor=picker, warehouse_id=warehouse.pk)
    assert walk(pick_list) == [
        ("MAIN/A-01", "LAMP", "3.000"),
        ("MAIN/B-01", "LAMP", "3.000"),
        ("MAIN/STOCK", "SHADE", "4.000"),
    ]
    assert stock(lamp) == ("8.000", "6.000")  # a pick list moves nothing

    # 3. A-01 holds only 2 lamps: a short pick. One lamp is written off at A-01 and the line
    #    reserved again from B-01's spare units; a deviation tells the warehouse.
    short = pick(picker, pick_list, 1, "LAMP", "2")
    assert (short.status, str(short.quantity_picked)) == ("short", "2.000")
    assert stock(lamp) == ("7.000", "6.000")
    assert bins(lamp) == {"MAIN/A-01": "2.000", "MAIN/B-01": "5.000"}
    assert figures(lamp_line) == ("6.000", "0.000", "0.000")
    deviation = Deviation.objects.get(company=company, kind="fulfilment.short_pick")
    assert deviation.params == {
        "sku": "LAMP",
        "location": "MAIN/A-01",
        "missing": "1.000",
        "pick_list": pick_list.number,
        "order": order.number,
    }
    assert (deviation.owner_role, deviation.severity, deviation.status) == ("warehouse", "medium", "open")
    pick(picker, pick_list, 2, "lamp")
    pick(picker, pick_list, 3, "SHADE", "4")
    done = fulfilment.pick_list_complete(actor=picker, pick_list_id=pick_list.pk)
    (first,) = done.created_shipments
    assert sorted(
        (line.product.sku, line.location.code, str(line.quantity))
        for line in first.lines.select_related("product", "location")
    ) == [("LAMP", "MAIN/A-01", "2.000"), ("LAMP", "MAIN/B-01", "3.000"), ("SHADE", "MAIN/STOCK", "4.000")]

    # 4. Packed in two parcels and shipped: stock leaves the bins it was picked from.
    fulfilment.parcel_add(actor=picker, shipment_id=first.pk, weight="4.2", length="40", width="30", height="30")
    fulfilment.parcel_add(actor=picker, shipment_id=first.pk, weight="1.1", length="30", width="30", height="10")
    fulfilment.shipment_pack(actor=picker, shipment_id=first.pk)
    assert stock(lamp) == ("7.000", "6.000")
    fulfilment.shipment_ship(actor=picker, shipment_id=first.pk, carrier="SEUR", tracking_number="SEUR-1")
    assert stock(lamp) == ("2.000", "1.000")
    assert bins(lamp) == {"MAIN/A-01": "0.000", "MAIN/B-01": "2.000"}
    assert stock(shade) == ("0.000", "0.000")
    assert bins(shade) == {"MAIN/STOCK": "0.000"}
    assert figures(lamp_line) == ("1.000", "5.000", "0.000")
    assert figures(shade_line) == ("0.000", "4.000", "0.000")
    order.refresh_from_db()
    assert (order.fulfilment_status, order.is_backordered) == ("partially_shipped", False)
    shipped_event = OutboxEvent.objects.filter(company=company, name="order.shipped").get()
    assert (shipped_event.payload["shipment"], shipped_event.payload["complete"]) == (first.number, False)

    # 5. The lamp reserved again after the short pick goes on the next pick list, from B-01.
    second_list = fulfilment.pick_list_create(actor=picker, warehouse_id=warehouse.pk)
    assert walk(second_list) == [("MAIN/B-01", "LAMP", "1.000")]
    fulfilment.pick_list_confirm_all(actor=picker, pick_list_id=second_list.pk)
    (second,) = fulfilment.pick_list_complete(actor=picker, pick_list_id=second_list.pk).created_shipments
    fulfilment.parcel_add(actor=picker, shipment_id=second.pk, weight="1.5")
    fulfilment.shipment_pack(actor=picker, shipment_id=second.pk)
    fulfilment.shipment_ship(actor=picker, shipment_id=second.pk, carrier="SEUR", tracking_number="SEUR-2")
    assert stock(lamp) == ("1.000", "0.000")
    assert bins(lamp) == {"MAIN/A-01": "0.000", "MAIN/B-01": "1.000"}
    assert figures(lamp_line) == ("0.000", "6.000", "0.000")
    order.refresh_from_db()
    assert order.fulfilment_status == "shipped"
    customer_moves = StockMove.objects.filter(company=company, reason=MoveReason.SHIPMENT)
    assert sorted((m.product.sku, str(m.quantity), str(m.unit_cost)) for m in customer_moves) == [
        ("LAMP", "1.000", "20.0000"),
        ("LAMP", "2.000", "20.0000"),
        ("LAMP", "3.000", "20.0000"),
        ("SHADE", "4.000", "5.0000"),
    ]

    # 6. Two lamps and a shade come back: the lamps to A-01, the damaged shade to scrap.
    customer_return = fulfilment.return_register(
        actor=picker,
        order_id=order.pk,
        lines=[{"line_id": lamp_line.pk, "quantity": "2"}, {"line_id": shade_line.pk, "quantity": "1"}],
        reason="damaged",
        note="One shade arrived cracked; the customer sends back two lamps too.",
    )
    assert figures(lamp_line) == ("0.000", "6.000", "0.000")  # announced, not yet back
    assert stock(lamp) == ("1.000", "0.000")
    fulfilment.return_receive(
        actor=picker,
        return_id=customer_return.pk,
        dispositions={lamp_line.pk: "restock", shade_line.pk: "scrap"},
        location_id=a01.pk,
    )
    assert stock(lamp) == ("3.000", "0.000")
    assert bins(lamp) == {"MAIN/A-01": "2.000", "MAIN/B-01": "1.000"}
    assert stock(shade) == ("0.000", "0.000")
    assert figures(lamp_line) == ("0.000", "6.000", "2.000")
    assert figures(shade_line) == ("0.000", "4.000", "1.000")
    scrap = Location.objects.get(company=company, kind="scrap")
    assert StockMove.objects.filter(company=company, reason=MoveReason.RETURN, to_location=scrap).get().product == shade
    assert OutboxEvent.objects.filter(company=company, name="order.returned").get().payload["return"] == (
        customer_return.number
    )
    # Nothing more can come back than what shipped and has not come back yet.
    remaining = fulfilment.return_register(
        actor=picker, order_id=order.pk, lines=[{"line_id": lamp_line.pk, "quantity": "4"}], reason="changed_mind"
    )
    assert str(remaining.lines.get().quantity) == "4.000"
