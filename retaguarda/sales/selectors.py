"""Reads of sales orders with business meaning: one order with its lines, the searchable list,
and what fulfilment needs to know (orders ready to pick)."""

from __future__ import annotations

from django.db.models import F, Prefetch, QuerySet
from django.utils.translation import gettext as _

from retaguarda.common.errors import NotFound
from retaguarda.core.permissions import Actor, require

from .choices import OrderStatus
from .filters import ORDER_LISTING
from .models import SalesOrder, SalesOrderLine


def order_queryset(actor: Actor) -> QuerySet[SalesOrder]:
    return SalesOrder.objects.filter(company=actor.company).select_related("customer", "warehouse")


def order_search(actor: Actor, params) -> QuerySet[SalesOrder]:
    """The list page's and the API's search: ORDER_LISTING's filters and sort on `params`."""
    require(actor, "sales.view")
    queryset = ORDER_LISTING.filter(order_queryset(actor), params)
    queryset, _sort = ORDER_LISTING.sort(queryset, params.get("sort"))
    return queryset


def order_get(actor: Actor, order_id, *, permission: str = "sales.view") -> SalesOrder:
    """One order of the actor's company with its lines (as `prefetched_lines`); NotFound otherwise."""
    require(actor, permission)
    try:
        pk = int(order_id)
    except (TypeError, ValueError):
        pk = 0
    order = (
        order_queryset(actor)
        .prefetch_related(Prefetch("lines", queryset=SalesOrderLine.objects.select_related("product")))
        .filter(pk=pk if 0 < pk < 2**63 else 0)
        .first()
    )
    if order is None:
        raise NotFound(_("No such order."))
    order.prefetched_lines = list(order.lines.all())
    return order


def order_lines_to_pick(actor: Actor, *, warehouse_id, order_ids=None) -> QuerySet[SalesOrderLine]:
    """Lines of confirmed orders in a warehouse with reserved stock not yet shipped, oldest
    promise first: what a pick list can take."""
    lines = SalesOrderLine.objects.filter(
        company=actor.company,
        order__warehouse_id=warehouse_id,
        order__status=OrderStatus.CONFIRMED,
        quantity_allocated__gt=0,
    ).select_related("order", "product")
    if order_ids is not None:
        lines = lines.filter(order_id__in=order_ids)
    return lines.order_by(F("order__promised_date").asc(nulls_last=True), "order__ordered_at", "order_id", "position")


def order_counts(actor: Actor) -> dict[str, int]:
    """Open orders by what they wait for, for the dashboard."""
    confirmed = SalesOrder.objects.filter(company=actor.company, status=OrderStatus.CONFIRMED)
    return {
        "draft": SalesOrder.objects.filter(company=actor.company, status=OrderStatus.DRAFT).count(),
        "to_ship": confirmed.exclude(fulfilment_status="shipped").count(),
        "backordered": confirmed.filter(is_backordered=True).count(),
    }
