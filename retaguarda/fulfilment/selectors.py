"""Reads of fulfilment with business meaning: pick lists with their lines in walking order,
shipments with lines and parcels, returns, what can still come back, and the dashboard counts."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from retaguarda.common.errors import NotFound
from retaguarda.core.permissions import Actor, require
from retaguarda.inventory.models import Location, Warehouse
from retaguarda.sales.choices import OrderStatus
from retaguarda.sales.models import SalesOrder, SalesOrderLine

from .choices import OPEN_SHIPMENT_STATUSES, PickLineStatus, PickListStatus, ReturnStatus
from .filters import PICK_LIST_LISTING, RETURN_LISTING, SHIPMENT_LISTING
from .models import CustomerReturn, PickList, PickListLine, ReturnLine, Shipment, ShipmentLine

ZERO = Decimal("0.000")


def _pk(value) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return 0
    return pk if 0 < pk < 2**63 else 0


# --- pick lists ---------------------------------------------------------------------------------


def pick_list_queryset(actor: Actor) -> QuerySet[PickList]:
    """The company's pick lists with their warehouse, picker and line counts (one query)."""
    return (
        PickList.objects.filter(company=actor.company)
        .select_related("warehouse", "assigned_to")
        .annotate(
            line_count=Count("lines"),
            pending_count=Count("lines", filter=Q(lines__status=PickLineStatus.PENDING)),
            order_count=Count("lines__order", distinct=True),
        )
    )


def pick_list_search(actor: Actor, params) -> QuerySet[PickList]:
    require(actor, "fulfilment.view")
    queryset = PICK_LIST_LISTING.filter(pick_list_queryset(actor), params)
    queryset, _sort = PICK_LIST_LISTING.sort(queryset, params.get("sort"))
    return queryset


def pick_list_get(actor: Actor, pick_list_id) -> PickList:
    """One pick list with its lines in walking order (`prefetched_lines`) and the shipments it
    made (`prefetched_shipments`); NotFound otherwise."""
    require(actor, "fulfilment.view")
    pick_list = (
        PickList.objects.filter(company=actor.company, pk=_pk(pick_list_id))
        .select_related("warehouse", "assigned_to", "created_by")
        .first()
    )
    if pick_list is None:
        raise NotFound(_("No such pick list."))
    pick_list.prefetched_lines = list(
        PickListLine.objects.filter(pick_list=pick_list)
        .select_related("order", "order_line", "product", "location", "picked_by")
        .order_by("sort_key")
    )
    pick_list.prefetched_shipments = list(
        Shipment.objects.filter(pick_list=pick_list).select_related("order").order_by("pk")
    )
    return pick_list


def pick_list_of_line(actor: Actor, line_id) -> int:
    """The id of the pick list a line belongs to; NotFound otherwise."""
    require(actor, "fulfilment.view")
    found = PickListLine.objects.filter(company=actor.company, pk=_pk(line_id)).values_list("pick_list_id", flat=True)
    pick_list_id = found.first()
    if pick_list_id is None:
        raise NotFound(_("No such pick list line."))
    return pick_list_id


def pick_progress(lines) -> dict:
    """How far the picker is: lines done (picked, short or dropped) of all, and the next one."""
    total = len(lines)
    pending = [line for line in lines if line.status == PickLineStatus.PENDING]
    return {
        "total": total,
        "done": total - len(pending),
        "pending": len(pending),
        "short": sum(1 for line in lines if line.status == PickLineStatus.SHORT),
        "next": pending[0] if pending else None,
    }


# --- shipments ------------------------------------------------------------------------------------


def shipment_queryset(actor: Actor) -> QuerySet[Shipment]:
    return (
        Shipment.objects.filter(company=actor.company)
        .select_related("order", "order__customer", "warehouse")
        .annotate(parcel_count=Count("parcels", distinct=True))
    )


def shipment_search(actor: Actor, params) -> QuerySet[Shipment]:
    require(actor, "fulfilment.view")
    queryset = SHIPMENT_LISTING.filter(shipment_queryset(actor), params)
    queryset, _sort = SHIPMENT_LISTING.sort(queryset, params.get("sort"))
    return queryset


def shipment_get(actor: Actor, shipment_id) -> Shipment:
    """One shipment with its order, customer and warehouse, its lines (`prefetched_lines`, with
    the order line and bin) and parcels (`prefetched_parcels`); NotFound otherwise."""
    require(actor, "fulfilment.view")
    shipment = (
        Shipment.objects.filter(company=actor.company, pk=_pk(shipment_id))
        .select_related("company", "order", "order__customer", "warehouse", "pick_list", "shipped_by")
        .first()
    )
    if shipment is None:
        raise NotFound(_("No such shipment."))
    shipment.prefetched_lines = list(
        ShipmentLine.objects.filter(shipment=shipment)
        .select_related("order_line", "product", "location")
        .order_by("location__code", "product__sku", "pk")
    )
    shipment.prefetched_parcels = list(shipment.parcels.order_by("pk"))
    return shipment


# --- returns --------------------------------------------------------------------------------------


def return_queryset(actor: Actor) -> QuerySet[CustomerReturn]:
    return (
        CustomerReturn.objects.filter(company=actor.company)
        .select_related("order", "order__customer")
        .annotate(line_count=Count("lines"))
    )


def return_search(actor: Actor, params) -> QuerySet[CustomerReturn]:
    require(actor, "fulfilment.view")
    queryset = RETURN_LISTING.filter(return_queryset(actor), params)
    queryset, _sort = RETURN_LISTING.sort(queryset, params.get("sort"))
    return queryset


def return_get(actor: Actor, return_id) -> CustomerReturn:
    """One return with its order and lines (`prefetched_lines`); NotFound otherwise."""
    require(actor, "fulfilment.view")
    customer_return = (
        CustomerReturn.objects.filter(company=actor.company, pk=_pk(return_id))
        .select_related("order", "order__customer", "order__warehouse", "location")
        .first()
    )
    if customer_return is None:
        raise NotFound(_("No such return."))
    customer_return.prefetched_lines = list(
        ReturnLine.objects.filter(customer_return=customer_return)
        .select_related("order_line", "product")
        .order_by("order_line__position", "pk")
    )
    return customer_return


def returnable_by_line(order_lines: list[SalesOrderLine], *, exclude_return_id=None) -> dict[int, Decimal]:
    """Per order line: shipped, less what came back, less what registered returns announce."""
    announced = (
        ReturnLine.objects.filter(
            order_line_id__in=[line.pk for line in order_lines],
            customer_return__status=ReturnStatus.REGISTERED,
        )
        .exclude(customer_return_id=exclude_return_id)
        .order_by()
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
    )
    pending = {row["order_line_id"]: row["total"] for row in announced}
    return {
        line.pk: line.quantity_shipped - line.quantity_returned - pending.get(line.pk, ZERO) for line in order_lines
    }


def order_for_return(actor: Actor, *, order_id=None, number: str = "") -> SalesOrder | None:
    """An order of the company (by id or number) with its lines (`prefetched_lines`, each with
    `returnable`), for the return form; None when there is no such order."""
    require(actor, "fulfilment.view")
    orders = SalesOrder.objects.filter(company=actor.company).select_related("customer")
    if order_id not in (None, ""):
        order = orders.filter(pk=_pk(order_id)).first()
    elif number:
        order = orders.filter(number=number.strip()[:32]).first()
    else:
        return None
    if order is None:
        return None
    lines = list(SalesOrderLine.objects.filter(order=order).select_related("product").order_by("position"))
    returnable = returnable_by_line(lines)
    for line in lines:
        line.returnable = max(returnable[line.pk], ZERO)
    order.prefetched_lines = lines
    return order


def return_locations(actor: Actor, warehouse_id) -> list[Location]:
    """Where returned goods can go back to stock: the warehouse's active internal locations."""
    return list(Location.objects.filter(company=actor.company, warehouse_id=warehouse_id, is_active=True))


# --- forms and the dashboard --------------------------------------------------------------------


def warehouses_for(actor: Actor) -> QuerySet[Warehouse]:
    return Warehouse.objects.filter(company=actor.company, is_active=True).order_by("code")


def fulfilment_counts(actor: Actor) -> dict[str, int]:
    """Open work, for the dashboard: orders with reserved stock on no pick list yet, lines left
    on open pick lists, and shipments waiting to leave."""
    require(actor, "fulfilment.view")
    on_pick_list = PickListLine.objects.filter(
        order_line=OuterRef("pk"), pick_list__status=PickListStatus.OPEN
    ).exclude(status=PickLineStatus.DROPPED)
    on_shipment = ShipmentLine.objects.filter(order_line=OuterRef("pk"), shipment__status__in=OPEN_SHIPMENT_STATUSES)
    ready_orders = (
        SalesOrderLine.objects.filter(
            company=actor.company, order__status=OrderStatus.CONFIRMED, quantity_allocated__gt=0
        )
        .filter(~Exists(on_pick_list), ~Exists(on_shipment))
        .values("order_id")
        .distinct()
        .count()
    )
    lines_to_pick = PickListLine.objects.filter(
        company=actor.company, pick_list__status=PickListStatus.OPEN, status=PickLineStatus.PENDING
    ).count()
    to_ship = Shipment.objects.filter(company=actor.company, status__in=OPEN_SHIPMENT_STATUSES).count()
    return {"ready_orders": ready_orders, "lines_to_pick": lines_to_pick, "to_ship": to_ship}


__all__ = [
    "fulfilment_counts",
    "order_for_return",
    "pick_list_get",
    "pick_list_of_line",
    "pick_list_queryset",
    "pick_list_search",
    "pick_progress",
    "return_get",
    "return_locations",
    "return_queryset",
    "return_search",
    "returnable_by_line",
    "shipment_get",
    "shipment_queryset",
    "shipment_search",
    "warehouses_for",
]
