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
from retaguarda.inventory.services import location_create, warehouse_create
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
        quantity = {"low": 40, "out": 30}.get(ops.scarce.get(product.sku), rng.randint(60, 240))
        location = ops.bins[index % len(ops.bins)]
        main_lines.append(ReceiptLine(product.pk, quantity, product.standard_cost, location.pk))
        if index % 5 == 0:
            store_lines.append(ReceiptLine(product.pk, rng.randint(3, 12), product.standard_cost))
    for warehouse, lines in ((ops.warehouse, main_lines), (ops.store, store_lines)):
        stock_receive_lines(
            actor=actor, warehouse_id=warehouse.pk, lines=lines, reason=MoveReason.INITIAL, reference=opening
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
    for month in range(MONTHS, -1, -1):
        count = rng.randint(*ORDERS_PER_MONTH)
        for n in range(count):
            day = today - datetime.timedelta(days=month * 30 + rng.randint(0, 29))
            if day > today:
                day = today
            lines = []
            for product in rng.sample(goods, rng.choice((1, 1, 2, 2, 3, 4))):
                lines.append({"product_id": product.pk, "quantity": str(rng.choice((1, 1, 1, 2, 2, 3)))})
            if month <= 2 and scarce and rng.random() < 0.5:
                lines.append({"product_id": rng.choice(scarce).pk, "quantity": str(rng.randint(2, 5))})
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
    ops.counts["orders"] = len(ops.orders)


_CANCEL_REASONS = {
    "BR": ("Cliente desistiu da compra", "Pagamento não aprovado", "Pedido duplicado"),
    "ES": ("El cliente anuló la compra", "Pago rechazado", "Pedido duplicado"),
}


def backdate(company, ops: Operations) -> None:
    """Date each order, and what it caused, to the day the plan gave it (see the module docstring)."""
    for order, day in ops.orders:
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))
        shift = timezone.now() - moment
        if shift < datetime.timedelta(hours=1):
            continue
        SalesOrder.objects.filter(pk=order.pk).update(
            ordered_at=moment,
            created_at=moment,
            confirmed_at=moment if order.confirmed_at else None,
            promised_date=day + datetime.timedelta(days=company.handling_days),
        )
        refs = [("sales.salesorder", str(order.pk)), ("sales.order", str(order.pk))]
        for object_type, object_id in refs:
            AuditLog.objects.filter(company=company, object_type=object_type, object_id=object_id).update(at=moment)
        OutboxEvent.objects.filter(company=company, object_type="sales.salesorder", object_id=str(order.pk)).update(
            created_at=moment
        )
        StockMove.objects.filter(company=company, reference=order.number).update(created_at=moment)


def scarce_summary(ops: Operations) -> dict[str, int]:
    return {
        "low": sum(1 for v in ops.scarce.values() if v == "low"),
        "out": sum(1 for v in ops.scarce.values() if v == "out"),
    }


ZERO = Decimal(0)
