"""Reads of inventory with business meaning: what can be promised per SKU and warehouse, stock
by product and warehouse with its state, moves, locations and cycle counts."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from retaguarda.catalog.models import Product
from retaguarda.catalog.selectors import translated
from retaguarda.common.errors import NotFound
from retaguarda.common.fields import QuantityField, ScaledDecimalField, round_money
from retaguarda.core.permissions import Actor, require

from .calculations import UNIT_COST_SCALE
from .choices import ALERT_STATES, LevelState, LocationKind
from .models import CycleCount, CycleCountLine, Location, StockBalance, StockCost, StockLevel, StockMove, Warehouse

ZERO = Decimal("0.000")


def availability(*, company, skus) -> dict[str, dict]:
    """Available (on hand − allocated) per SKU: {"A": {"total": D, "warehouses": {"MAIN": D}}}.

    One query whatever the number of SKUs and warehouses; SKUs without stock get zero, and only
    active warehouses count.
    """
    skus = list(dict.fromkeys(skus))
    result = {sku: {"total": ZERO, "warehouses": {}} for sku in skus}
    rows = (
        StockLevel.objects.filter(company=company, product__sku__in=skus, warehouse__is_active=True)
        .values_list("product__sku", "warehouse__code", "on_hand", "allocated")
        .order_by("product__sku", "warehouse__code")
    )
    for sku, warehouse, on_hand, allocated in rows:
        entry = result[sku]
        entry["warehouses"][warehouse] = on_hand - allocated
        entry["total"] += on_hand - allocated
    return result


# --- pages ----------------------------------------------------------------------------------------


def warehouses_for(*, actor: Actor) -> QuerySet[Warehouse]:
    require(actor, "inventory.view")
    return Warehouse.objects.filter(company=actor.company).order_by("code")


def warehouse_get(*, actor: Actor, warehouse_id) -> Warehouse:
    warehouse = warehouses_for(actor=actor).filter(pk=_int(warehouse_id)).first()
    if warehouse is None:
        raise NotFound(_("No such warehouse."))
    return warehouse


def locations_for(*, actor: Actor, warehouse: Warehouse | None = None) -> QuerySet[Location]:
    """The internal locations (stock locations, zones and bins) of the company, by code."""
    require(actor, "inventory.view")
    rows = Location.objects.filter(company=actor.company, kind=LocationKind.INTERNAL).select_related("warehouse")
    if warehouse is not None:
        rows = rows.filter(warehouse=warehouse)
    return rows.order_by("code")


def location_tree(*, actor: Actor, warehouse: Warehouse) -> list[tuple[Location, int]]:
    """The warehouse's locations as (location, depth), each under its parent: one query."""
    rows = list(locations_for(actor=actor, warehouse=warehouse))
    children: dict[int | None, list[Location]] = {}
    for location in rows:
        children.setdefault(location.parent_id, []).append(location)
    tree: list[tuple[Location, int]] = []

    def walk(parent_id, depth):
        for location in children.get(parent_id, ()):
            tree.append((location, depth))
            walk(location.pk, depth + 1)

    walk(None, 0)
    return tree


def _average_cost():
    cost = StockCost.objects.filter(product=OuterRef("product_id"), warehouse=OuterRef("warehouse_id"))
    return Coalesce(
        Subquery(cost.values("average_cost")[:1]),
        Value(0),
        output_field=ScaledDecimalField(scale=UNIT_COST_SCALE),
    )


def level_state_expression() -> Case:
    """A level's state, worst first: out (nothing available), low (available at or under the
    reorder point), over (on hand above the maximum), else ok."""
    return Case(
        When(on_hand__lte=F("allocated"), then=Value(LevelState.OUT)),
        When(reorder_point__isnull=False, available_qty__lte=F("reorder_point"), then=Value(LevelState.LOW)),
        When(maximum__isnull=False, on_hand__gt=F("maximum"), then=Value(LevelState.OVER)),
        default=Value(LevelState.OK),
        output_field=CharField(),
    )


def stock_levels_for(*, actor: Actor, language: str | None = None) -> QuerySet[StockLevel]:
    """Products by warehouse, each with `display_name`, `available_qty`, `average_cost`, `state` and
    `state_rank` (0 for the worst)."""
    require(actor, "inventory.view")
    return (
        StockLevel.objects.filter(company=actor.company)
        .select_related("product", "warehouse")
        .annotate(
            display_name=translated("name", language, "product_id"),
            available_qty=ExpressionWrapper(F("on_hand") - F("allocated"), output_field=QuantityField()),
            average_cost=_average_cost(),
        )
        .annotate(state=level_state_expression())
        .annotate(
            state_rank=Case(
                *[When(state=state, then=Value(rank)) for rank, state in enumerate(ALERT_STATES)],
                default=Value(len(ALERT_STATES)),
                output_field=IntegerField(),
            )
        )
    )


def stock_alerts_for(*, actor: Actor, language: str | None = None) -> QuerySet[StockLevel]:
    """Levels out of stock, at or under their reorder point, or over their maximum."""
    return stock_levels_for(actor=actor, language=language).filter(state__in=ALERT_STATES)


def with_values(levels) -> list:
    """Each level with `value`: on hand at the average cost, rounded to cents once."""
    levels = list(levels)
    for level in levels:
        level.value = round_money(level.on_hand * (level.average_cost or ZERO))
    return levels


def stock_product(*, actor: Actor, product_id, language: str | None = None, moves: int = 20) -> dict:
    """A product's stock: its levels per warehouse, balances per location and latest moves."""
    require(actor, "inventory.view")
    product = (
        Product.objects.filter(company=actor.company, pk=_int(product_id))
        .annotate(display_name=translated("name", language))
        .first()
    )
    if product is None:
        raise NotFound(_("No such product."))
    levels = with_values(stock_levels_for(actor=actor).filter(product=product).order_by("warehouse__code"))
    balances = list(
        StockBalance.objects.filter(product=product).select_related("location__warehouse").order_by("location__code")
    )
    recent = list(moves_for(actor=actor).filter(product=product).order_by("-created_at", "-pk")[:moves])
    return {"product": product, "levels": levels, "balances": balances, "moves": recent}


def stock_level_get(*, actor: Actor, level_id) -> StockLevel:
    require(actor, "inventory.view")
    level = StockLevel.objects.filter(company=actor.company, pk=_int(level_id)).first()
    if level is None:
        raise NotFound(_("No such stock level."))
    return level


def moves_for(*, actor: Actor, warehouse_id=None, location_id=None) -> QuerySet[StockMove]:
    """The company's moves, newest first, optionally those into or out of a warehouse or a location."""
    require(actor, "inventory.view")
    rows = StockMove.objects.filter(company=actor.company).select_related(
        "product", "from_location", "to_location", "actor"
    )
    if _int(warehouse_id) is not None:
        rows = rows.filter(Q(from_location__warehouse_id=warehouse_id) | Q(to_location__warehouse_id=warehouse_id))
    if _int(location_id) is not None:
        rows = rows.filter(Q(from_location_id=location_id) | Q(to_location_id=location_id))
    return rows.order_by("-created_at", "-pk")


def cycle_counts_for(*, actor: Actor) -> QuerySet[CycleCount]:
    require(actor, "inventory.view")
    return (
        CycleCount.objects.filter(company=actor.company)
        .select_related("warehouse", "location", "created_by")
        .annotate(
            line_count=Count("lines"),
            counted_count=Count("lines", filter=Q(lines__counted__isnull=False)),
            difference_count=Count("lines", filter=Q(lines__variance__lt=0) | Q(lines__variance__gt=0)),
        )
    )


def cycle_count_get(*, actor: Actor, count_id) -> CycleCount:
    require(actor, "inventory.view")
    count = (
        CycleCount.objects.filter(company=actor.company, pk=_int(count_id))
        .select_related("warehouse", "location", "created_by", "counted_by", "posted_by", "cancelled_by")
        .first()
    )
    if count is None:
        raise NotFound(_("No such cycle count."))
    return count


def cycle_count_lines(*, actor: Actor, count: CycleCount, language: str | None = None) -> list[CycleCountLine]:
    """A count's lines in walking order: by location, then SKU."""
    require(actor, "inventory.view")
    return list(
        count.lines.select_related("product", "location")
        .annotate(display_name=translated("name", language, "product_id"))
        .order_by("location__code", "product__sku", "pk")
    )


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
