"""The demo store's operations: warehouses with zones and bins, stock received at cost, reorder
limits, and twelve months of orders in every state, made through the areas' services like a
year of real work. A few products end low or out of stock, some orders wait for stock, and
today's orders wait in pick lists.

The services stamp "now"; once everything is written, `_backdate` moves each order's dates
(and its stock moves, audit rows and events) back to the day the plan gave it, so the history
reads like a year and the indicators have a past.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from retaguarda.catalog.models import Product
from retaguarda.common.errors import Conflict
from retaguarda.core.models import AuditLog, OutboxEvent
from retaguarda.inventory.choices import MoveReason
from retaguarda.inventory.models import StockMove
from retaguarda.inventory.receiving import ReceiptLine, stock_receive_lines
from retaguarda.inventory.services import location_create, stock_level_settings_set, warehouse_create
from retaguarda.parties.models import Party
from retaguarda.sales.models import SalesOrder
from retaguarda.sales.services import sales_order_cancel, sales_order_create

from .data import CountryDemo

MONTHS = 12
ORDERS_PER_MONTH = (8, 14)
ZONES = ("A", "B", "C")
BINS_PER_ZONE = 8
# Products that end the year scarce: low (a few units, under the reorder point) and out (none).
LOW_COUNT, OUT_COUNT = 4, 3
# Every product's replenishment limits in the main warehouse; a few were bought far above them.
REORDER_POINT, MAXIMUM = 15, 300
OVERSTOCKED = (11, 57, 123)
# Today's orders: more than a usual day's share, so every stage of the work is on screen.
TODAY_ORDERS = 24

WAREHOUSE_NAMES = {
    "BR": (("CD-SP", "Centro de distribuição São Paulo"), ("LOJA", "Loja da Vila Madalena")),
    "ES": (("ALM-VLC", "Almacén central Valencia"), ("TIENDA", "Tienda de Ruzafa")),
}


@dataclass
class Operations:
    """What the load made, for the counts and the later steps."""

    warehouse: object
    store: object
    bins: list = field(default_factory=list)
    scarce: dict = field(default_factory=dict)  # sku -> "low" | "out"
    orders: list = field(default_factory=list)  # (order, day)
    pick_lists: list = field(default_factory=list)  # (pick list, month)
    shipments: list = field(default_factory=list)  # (shipment, month)
    counts: dict = field(default_factory=dict)


def operations_load(*, actor, spec: CountryDemo, rng: random.Random) -> Operations:
    (main_code, main_name), (store_code, store_name) = WAREHOUSE_NAMES[spec.country]
    warehouse = warehouse_create(actor=actor, code=main_code, name=main_name)
    store = warehouse_create(actor=actor, code=store_code, name=store_name)
    ops = Operations(warehouse=warehouse, store=store)
    for zone in ZONES:
        parent = location_create(actor=actor, warehouse_id=warehouse.pk, code=zone, name=f"{zone}")
        for n in range(1, BINS_PER_ZONE + 1):
            ops.bins.append(
                location_create(actor=actor, warehouse_id=warehouse.pk, code=f"{zone}-{n:02d}", parent_id=parent.pk)
            )
    _stock_receive(actor, ops, rng)
    _orders_load(actor, ops, rng)
    return ops


def _goods(company) -> list[Product]:
    return list(Product.objects.filter(company=company, kind="goods").order_by("sku"))


def _stock_receive(actor, ops: Operations, rng: random.Random) -> None:
    goods = _goods(actor.company)
    scarce = rng.sample(goods, LOW_COUNT + OUT_COUNT)
    for product in scarce[:LOW_COUNT]:
        ops.scarce[product.sku] = "low"
    for product in scarce[LOW_COUNT:]:
        ops.scarce[product.sku] = "out"
    opening = "Inventário inicial" if actor.company.country == "BR" else "Inventario inicial"
    main_lines, store_lines = [], []
    for index, product in enumerate(goods):
        quantity = {"low": 22, "out": 5}.get(ops.scarce.get(product.sku), rng.randint(60, 240))
        if index in OVERSTOCKED:
            quantity = 420
        location = ops.bins[index % len(ops.bins)]
        main_lines.append(ReceiptLine(product.pk, quantity, product.standard_cost, location.pk))
        if index % 5 == 0:
            store_lines.append(ReceiptLine(product.pk, rng.randint(3, 12), product.standard_cost))
    for warehouse, lines in ((ops.warehouse, main_lines), (ops.store, store_lines)):
        stock_receive_lines(
            actor=actor, warehouse_id=warehouse.pk, lines=lines, reason=MoveReason.INITIAL, reference=opening
        )
    for product in goods:
        stock_level_settings_set(
            actor=actor,
            product_id=product.pk,
            warehouse_id=ops.warehouse.pk,
            reorder_point=REORDER_POINT,
            maximum=MAXIMUM,
        )
    ops.counts["stocked_products"] = len(goods)


def _orders_load(actor, ops: Operations, rng: random.Random) -> None:
    """A year of orders, oldest first; the scarce products are ordered more as the year ends."""
    company = actor.company
    customers = list(
        Party.objects.filter(company=company, is_customer=True, is_active=True).values_list("pk", flat=True)
    )
    goods = [p for p in _goods(company) if p.sku not in ops.scarce]
    scarce = [p for p in _goods(company) if p.sku in ops.scarce]
    today = timezone.localdate()
    month_orders: list = []
    for month in range(MONTHS, -1, -1):
        count = TODAY_ORDERS if month == 0 else rng.randint(*ORDERS_PER_MONTH)
        for n in range(count):
            day = today - datetime.timedelta(days=month * 30 + rng.randint(0, 29))
            if day > today:
                day = today
            lines = []
            for product in rng.sample(goods, rng.choice((1, 1, 2, 2, 3, 4))):
                lines.append({"product_id": product.pk, "quantity": str(rng.choice((1, 1, 1, 2, 2, 3)))})
            if month <= 2 and scarce and rng.random() < 0.6:
                lines.append({"product_id": rng.choice(scarce).pk, "quantity": str(rng.randint(2, 4))})
            fields = {
                "actor": actor,
                "customer_id": rng.choice(customers),
                "warehouse_id": ops.warehouse.pk,
                "external_ref": f"{'LV' if company.country == 'BR' else 'TW'}-{10000 + len(ops.orders)}",
                "channel": "api" if rng.random() < 0.85 else "phone",
                "confirm": not (month == 0 and n < 3),
            }
            try:
                order = sales_order_create(lines=lines, **fields)
            except Conflict:
                # The shop refused it for want of stock (no back-orders here): the customer
                # bought the rest.
                order = sales_order_create(lines=lines[:-1] or lines[:1], **fields)
            ops.orders.append((order, day))
            if month > 0 and rng.random() < 0.05 and order.status == "confirmed":
                sales_order_cancel(actor=actor, order_id=order.pk, reason=rng.choice(_CANCEL_REASONS[company.country]))
            elif order.status == "confirmed":
                month_orders.append(order)
        _fulfil(actor, ops, rng, month_orders, month)
        month_orders = []
    ops.counts["orders"] = len(ops.orders)


CARRIERS = {
    "BR": (("Correios SEDEX", "BR"), ("Jadlog", ""), ("Loggi", "")),
    "ES": (("Correos Express", ""), ("SEUR", ""), ("MRW", "")),
}
RETURN_REASONS = ("damaged", "wrong_item", "changed_mind", "changed_mind", "not_as_described")


def _tracking(rng: random.Random, carrier: str, suffix: str) -> str:
    if suffix:  # the Universal Postal Union's S10 shape of Correios codes
        return f"{rng.choice('JLOQ')}{rng.choice('BEFGHJ')}{rng.randint(10**8, 10**9 - 1)}{suffix}"
    return f"{carrier[:3].upper()}{rng.randint(10**9, 10**10 - 1)}"


def _fulfil(actor, ops: Operations, rng: random.Random, orders: list, month: int) -> None:
    """Pick, pack and ship a month's confirmed orders in weekly pick lists. This month's are
    caught in the act: the oldest shipped, some packed but not yet collected, and the newest in
    an open pick list or not yet picked."""
    from retaguarda.fulfilment.models import Shipment
    from retaguarda.fulfilment.services import (
        parcel_add,
        pick_line_confirm,
        pick_list_complete,
        pick_list_confirm_all,
        pick_list_create,
        return_receive,
        return_register,
        shipment_pack,
        shipment_ship,
    )
    from retaguarda.sales.services import sales_order_close

    country = actor.company.country
    if month == 0:
        # Today: the first orders shipped (one line found short in its bin), some packed for the
        # carrier, a pick list waiting for the picker, and the newest not picked yet.
        cut = [len(orders) * share // 10 for share in (3, 5, 8)]
        batches = [orders[: cut[0]], orders[cut[0] : cut[1]]]
        waiting = orders[cut[1] : cut[2]]
    else:
        batches = [orders[i : i + 5] for i in range(0, len(orders), 5)]
        waiting = []
    for index, batch in enumerate(batches):
        if not batch:
            continue
        pick_list = pick_list_create(actor=actor, warehouse_id=ops.warehouse.pk, order_ids=[o.pk for o in batch])
        if month == 0 and index == 0:
            short = pick_list.lines.order_by("sort_key").select_related("product").first()
            pick_line_confirm(actor=actor, line_id=short.pk, code=short.product.sku, quantity=short.quantity - 1)
        pick_list_confirm_all(actor=actor, pick_list_id=pick_list.pk)
        pick_list_complete(actor=actor, pick_list_id=pick_list.pk)
        ops.pick_lists.append((pick_list, month))
        for shipment in Shipment.objects.filter(pick_list=pick_list).order_by("pk"):
            parcel_add(
                actor=actor,
                shipment_id=shipment.pk,
                weight=Decimal(rng.randint(300, 4800)) / 1000,
                length=rng.choice((20, 30, 40)),
                width=rng.choice((15, 20, 30)),
                height=rng.choice((10, 15, 20)),
            )
            shipment_pack(actor=actor, shipment_id=shipment.pk)
            if month == 0 and index == 1:
                continue  # packed, waiting for the carrier
            carrier, suffix = rng.choice(CARRIERS[country])
            shipment_ship(
                actor=actor, shipment_id=shipment.pk, carrier=carrier, tracking_number=_tracking(rng, carrier, suffix)
            )
            ops.shipments.append((shipment, month))
            if month >= 1 and rng.random() < 0.04:
                lines = [{"line_id": line.pk, "quantity": "1"} for line in shipment.order.lines.all()[:1]]
                customer_return = return_register(
                    actor=actor, order_id=shipment.order_id, lines=lines, reason=rng.choice(RETURN_REASONS)
                )
                if month >= 2:
                    disposition = "scrap" if customer_return.reason == "damaged" else "restock"
                    return_receive(
                        actor=actor,
                        return_id=customer_return.pk,
                        dispositions={line["line_id"]: disposition for line in lines},
                    )
                ops.counts["returns"] = ops.counts.get("returns", 0) + 1
            if month >= 6:
                sales_order_close(actor=actor, order_id=shipment.order_id)
    if waiting:
        pick_list = pick_list_create(actor=actor, warehouse_id=ops.warehouse.pk, order_ids=[o.pk for o in waiting])
        ops.pick_lists.append((pick_list, 0))


_CANCEL_REASONS = {
    "BR": ("Cliente desistiu da compra", "Pagamento não aprovado", "Pedido duplicado"),
    "ES": ("El cliente anuló la compra", "Pago rechazado", "Pedido duplicado"),
}


def _moment(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def backdate(company, ops: Operations) -> None:
    """Date each order, and what it caused, to the day the plan gave it (see the module
    docstring): ordered and confirmed that morning, picked and packed the next day at noon,
    shipped that afternoon, returns received ten days later."""
    from retaguarda.fulfilment.models import CustomerReturn, PickList, Shipment

    today = timezone.localdate()
    day_of = {order.pk: day for order, day in ops.orders}
    for order, day in ops.orders:
        if day >= today:
            continue
        moment = _moment(day, 10)
        SalesOrder.objects.filter(pk=order.pk).update(
            ordered_at=moment,
            created_at=moment,
            confirmed_at=moment if order.confirmed_at else None,
            cancelled_at=moment if order.cancelled_at else None,
            promised_date=day + datetime.timedelta(days=company.handling_days),
        )
        for object_type in ("sales.salesorder", "sales.order"):
            AuditLog.objects.filter(company=company, object_type=object_type, object_id=str(order.pk)).update(at=moment)
        OutboxEvent.objects.filter(company=company, object_type="sales.salesorder", object_id=str(order.pk)).update(
            created_at=moment
        )
    for shipment in Shipment.objects.filter(company=company).select_related("order"):
        day = day_of.get(shipment.order_id, today)
        if day >= today:
            continue
        shipped_day = min(day + datetime.timedelta(days=1), today)
        Shipment.objects.filter(pk=shipment.pk).update(
            created_at=_moment(shipped_day, 12),
            packed_at=_moment(shipped_day, 13) if shipment.packed_at else None,
            shipped_at=_moment(shipped_day, 16) if shipment.shipped_at else None,
        )
        StockMove.objects.filter(company=company, reference=shipment.number).update(created_at=_moment(shipped_day, 16))
        AuditLog.objects.filter(company=company, object_type="fulfilment.shipment", object_id=str(shipment.pk)).update(
            at=_moment(shipped_day, 16)
        )
    for pick_list in PickList.objects.filter(company=company).prefetch_related("lines"):
        days = [day_of.get(line.order_id, today) for line in pick_list.lines.all()]
        day = min(max(days, default=today) + datetime.timedelta(days=1), today)
        if day >= today:
            continue
        PickList.objects.filter(pk=pick_list.pk).update(
            created_at=_moment(day, 11), done_at=_moment(day, 12) if pick_list.done_at else None
        )
        StockMove.objects.filter(company=company, reference=pick_list.number).update(created_at=_moment(day, 11))
    for customer_return in CustomerReturn.objects.filter(company=company):
        day = min(day_of.get(customer_return.order_id, today) + datetime.timedelta(days=10), today)
        CustomerReturn.objects.filter(pk=customer_return.pk).update(
            created_at=_moment(day - datetime.timedelta(days=3), 9),
            received_at=_moment(day, 9) if customer_return.received_at else None,
        )
        StockMove.objects.filter(company=company, reference=customer_return.number).update(created_at=_moment(day, 9))
    closed = set(SalesOrder.objects.filter(company=company, status="closed").values_list("pk", flat=True))
    for order, day in ops.orders:
        if order.pk in closed:
            SalesOrder.objects.filter(pk=order.pk).update(
                closed_at=_moment(min(day + datetime.timedelta(days=8), today), 9)
            )
