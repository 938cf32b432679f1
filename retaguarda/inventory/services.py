"""The writers of inventory: warehouses and locations, receipts, adjustments, transfers,
allocations, replenishment limits and cycle counts. Every change of stock is a move, written
with its balances in one transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import or_

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from retaguarda.catalog.models import Product
from retaguarda.common.errors import Conflict, NotFound, ValidationFailed
from retaguarda.common.fields import QuantityField
from retaguarda.common.inputs import decimal_in, text_in
from retaguarda.core.choices import OPEN_DEVIATION_STATUSES, DeviationStatus
from retaguarda.core.deviations import deviation_clear, deviation_raise
from retaguarda.core.models import Deviation
from retaguarda.core.permissions import Actor, require, system_actor
from retaguarda.core.services import audit_record, event_emit, sequence_next
from retaguarda.core.workflow import transition_apply, transition_find

from .calculations import QUANTITY_SCALE, UNIT_COST_SCALE, moving_average_cost
from .choices import ADJUSTMENT_REASONS, RECEIPT_REASONS, VIRTUAL_KINDS, CycleCountStatus, LocationKind, MoveReason
from .deviations import DEVIATION_OVERSTOCK, DEVIATION_STOCK_LOW, DEVIATION_STOCK_OUT
from .models import (
    Allocation,
    CycleCount,
    CycleCountLine,
    Location,
    StockBalance,
    StockCost,
    StockLevel,
    StockMove,
    Warehouse,
)
from .workflows import COUNT_WORKFLOW

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# How deviations about a product's stock in a warehouse name their object.
LEVEL_TYPE = "inventory.stocklevel"


# --- input ------------------------------------------------------------------------------------


def _number(value, field: str, *, places: int = QUANTITY_SCALE, **limits) -> Decimal:
    # Inventory has always taken floats and bools, converted exactly; the other apps refuse them.
    return decimal_in(value, field, places=places, accept_float=True, **limits)


def _quantity(value, field: str = "quantity") -> Decimal:
    return _number(
        value, field, minimum=Decimal(0), strict_min=True, too_small=_("Enter a quantity greater than zero.")
    )


def _unit_cost(value) -> Decimal:
    return _number(
        value, "unit_cost", places=UNIT_COST_SCALE, minimum=Decimal(0), too_small=_("The cost cannot be negative.")
    )


def _zero_or_more(value, field: str) -> Decimal:
    return _number(value, field, minimum=Decimal(0), too_small=_("Enter zero or more."))


def _text(value, field: str, max_length: int, *, required: bool = False) -> str:
    # Inventory has always read any falsy value as blank and let control characters through.
    return text_in(value or "", field, max_length, required=required, keep_controls=True)


def _code(value, field: str = "code") -> str:
    code = _text(value, field, 32, required=True)
    if not CODE_RE.match(code):
        raise ValidationFailed(
            _("Check the highlighted fields."),
            fields={field: [_("Use letters, digits, hyphens and underscores only.")]},
        )
    return code


def _q(quantity: Decimal) -> Value:
    return Value(quantity, output_field=QuantityField())


# --- lookups scoped to the actor's company ------------------------------------------------------


def _product(actor: Actor, product_id) -> Product:
    product = Product.objects.filter(company=actor.company, pk=product_id).first()
    if product is None:
        raise NotFound(_("No such product."))
    return product


def _stock_location(actor: Actor, warehouse_id, field: str = "warehouse") -> Location:
    """The stock location of an active warehouse of the actor's company, with its warehouse."""
    location = (
        Location.objects.select_related("warehouse")
        .filter(company=actor.company, warehouse_id=warehouse_id, parent__isnull=True, warehouse__is_active=True)
        .first()
    )
    if location is None:
        raise NotFound(_("No such warehouse."), fields={field: [_("No such warehouse.")]})
    return location


def _virtual(actor: Actor, kind: str) -> Location:
    return Location.objects.get(company=actor.company, kind=kind)


# --- balances, levels and costs (the only code that changes them) ------------------------------
#
# Lock order, everywhere: cost rows (by warehouse), then level rows (by primary key), then
# location balance rows. Writers that follow it wait for each other instead of deadlocking.


def _row_add(model, create_fields: dict, quantity: Decimal) -> None:
    """Add `quantity` to the on-hand of the row matching `create_fields`, creating it if missing."""
    key = {k: v for k, v in create_fields.items() if k != "company"}
    rows = model.objects.filter(**key)
    if rows.update(on_hand=F("on_hand") + _q(quantity)):
        return
    try:
        with transaction.atomic():
            model.objects.create(**create_fields, on_hand=quantity)
    except IntegrityError:
        # Another writer created the row first; now it exists, so add to it.
        rows.update(on_hand=F("on_hand") + _q(quantity))


def _balance_add(company, product: Product, location: Location, quantity: Decimal) -> None:
    """Stock arrives at an internal location: its warehouse level, then the location balance."""
    _row_add(StockLevel, {"company": company, "product": product, "warehouse_id": location.warehouse_id}, quantity)
    _row_add(StockBalance, {"company": company, "product": product, "location": location}, quantity)


def _level(product: Product, warehouse_id) -> StockLevel | None:
    return StockLevel.objects.filter(product=product, warehouse_id=warehouse_id).first()


def _warehouse_on_hand(product: Product, warehouse: Warehouse) -> Decimal:
    level = _level(product, warehouse.pk)
    return level.on_hand if level else Decimal("0.000")


def _shortage_error(shortages: list[dict]) -> Conflict:
    """409 `insufficient_stock`: one field error and one detail per short line."""
    fields, details = {}, []
    for s in shortages:
        message = _("Not enough stock of %(sku)s: %(requested)s requested, %(available)s available.") % s
        fields.setdefault(s.get("field") or "quantity", []).append(message)
        details.append({k: str(v) for k, v in s.items() if k != "field"})
    if len(shortages) == 1:
        message = fields[shortages[0].get("field") or "quantity"][0]
    else:
        message = _("Not enough stock for %(count)d lines.") % {"count": len(shortages)}
    return Conflict(message, code="insufficient_stock", fields=fields, details=details)


def _insufficient(product: Product, warehouse_id, requested: Decimal) -> Conflict:
    level = _level(product, warehouse_id)
    available = level.available if level else Decimal("0.000")
    return _shortage_error([{"sku": product.sku, "requested": requested, "available": available}])


def _balance_take(product: Product, location: Location, quantity: Decimal) -> None:
    """Take `quantity` off the unallocated stock of the warehouse, from `location`, or refuse:
    never below what is allocated, never below zero at the location."""
    taken = StockLevel.objects.filter(
        product=product, warehouse_id=location.warehouse_id, on_hand__gte=F("allocated") + _q(quantity)
    ).update(on_hand=F("on_hand") - _q(quantity))
    if not taken:
        raise _insufficient(product, location.warehouse_id, quantity)
    taken = StockBalance.objects.filter(product=product, location=location, on_hand__gte=_q(quantity)).update(
        on_hand=F("on_hand") - _q(quantity)
    )
    if not taken:
        row = StockBalance.objects.filter(product=product, location=location).values_list("on_hand", flat=True)
        there = row.first() or Decimal("0.000")
        raise Conflict(
            _("Only %(available)s of %(sku)s at %(location)s.")
            % {"available": there, "sku": product.sku, "location": location.code},
            code="insufficient_stock",
            details=[
                {"sku": product.sku, "location": location.code, "requested": str(quantity), "available": str(there)}
            ],
        )


def _cost_for_update(company, product: Product, warehouse: Warehouse) -> StockCost:
    rows = StockCost.objects.select_for_update().filter(product=product, warehouse=warehouse)
    cost = rows.first()
    if cost is None:
        try:
            with transaction.atomic():
                cost = StockCost.objects.create(company=company, product=product, warehouse=warehouse)
        except IntegrityError:
            cost = rows.get()
    return cost


def _receive_at_cost(
    company, product: Product, location: Location, quantity: Decimal, unit_cost: Decimal, cost: StockCost | None = None
) -> tuple[Decimal, Decimal]:
    """Add stock to `location` and fold its cost into the warehouse's moving average.

    Lock order, everywhere: cost rows (by warehouse) before balance rows. The cost row is locked
    first, so concurrent receipts of a product in one warehouse apply one after the other.
    `cost` is the already locked row, if the caller took it. Returns (average before, after).
    """
    cost = cost or _cost_for_update(company, product, location.warehouse)
    on_hand = _warehouse_on_hand(product, location.warehouse)
    _balance_add(company, product, location, quantity)
    before = cost.average_cost
    cost.average_cost = moving_average_cost(
        on_hand=on_hand, average_cost=before, received=quantity, unit_cost=unit_cost
    )
    if cost.average_cost != before:
        cost.save(update_fields=["average_cost"])
    return before, cost.average_cost


def _availability_crossed(
    actor: Actor,
    *,
    product_id: int,
    sku: str,
    warehouse_code: str,
    level_id: int,
    before: Decimal,
    after: Decimal,
    reorder_point: Decimal | None,
) -> None:
    """Tell the staff when availability falls to the reorder point (`stock.low`) or to zero
    (`stock.out`): an outbox event and a deviation; close the deviations it rose above.

    Coming back from zero to no more than the reorder point opens the low-stock deviation (no
    event: `stock.low` says availability fell), so the inbox still asks for replenishment.
    Queries only when a threshold is crossed.
    """
    repr_ = f"{sku} @ {warehouse_code}"
    target = {"object_type": LEVEL_TYPE, "object_id": level_id}
    payload = {"sku": sku, "warehouse": warehouse_code, "available": after, "reorder_point": reorder_point}
    low = reorder_point is not None and after <= reorder_point
    if after <= 0 < before:
        event_emit(company=actor.company, name="stock.out", payload={**payload, "product_id": product_id})
        deviation_raise(company=actor.company, kind=DEVIATION_STOCK_OUT, object_repr=repr_, params=payload, **target)
    elif low and reorder_point < before:
        event_emit(company=actor.company, name="stock.low", payload={**payload, "product_id": product_id})
        deviation_raise(company=actor.company, kind=DEVIATION_STOCK_LOW, object_repr=repr_, params=payload, **target)
    if before <= 0 < after:
        deviation_clear(company=actor.company, kind=DEVIATION_STOCK_OUT, **target)
        if low:
            deviation_raise(
                company=actor.company, kind=DEVIATION_STOCK_LOW, object_repr=repr_, params=payload, **target
            )
    if reorder_point is not None and before <= reorder_point < after:
        deviation_clear(company=actor.company, kind=DEVIATION_STOCK_LOW, **target)


def _overstock_crossed(
    actor: Actor,
    *,
    sku: str,
    warehouse_code: str,
    level_id: int,
    before: Decimal,
    after: Decimal,
    maximum: Decimal | None,
) -> None:
    """Open the overstock deviation when on hand rises above the maximum, close it when it
    falls back to it. Queries only when the maximum is crossed."""
    if maximum is None:
        return
    target = {"object_type": LEVEL_TYPE, "object_id": level_id}
    if before <= maximum < after:
        params = {"sku": sku, "warehouse": warehouse_code, "on_hand": after, "maximum": maximum}
        repr_ = f"{sku} @ {warehouse_code}"
        deviation_raise(company=actor.company, kind=DEVIATION_OVERSTOCK, object_repr=repr_, params=params, **target)
    elif after <= maximum < before:
        deviation_clear(company=actor.company, kind=DEVIATION_OVERSTOCK, **target)


def _level_changed(actor: Actor, product: Product, warehouse: Warehouse, before: StockLevel | None) -> None:
    """After a single-product change: compare availability and on hand with `before` (the
    level read before the change) and report the crossings."""
    after = _level(product, warehouse.pk)
    if after is None:
        return
    _availability_crossed(
        actor,
        product_id=product.pk,
        sku=product.sku,
        warehouse_code=warehouse.code,
        level_id=after.pk,
        before=before.available if before else Decimal("0.000"),
        after=after.available,
        reorder_point=after.reorder_point,
    )
    _overstock_crossed(
        actor,
        sku=product.sku,
        warehouse_code=warehouse.code,
        level_id=after.pk,
        before=before.on_hand if before else Decimal("0.000"),
        after=after.on_hand,
        maximum=after.maximum,
    )


def _move(actor: Actor, product, quantity, from_location, to_location, reason, *, unit_cost, reference="", note=""):
    move = StockMove.objects.create(
        company=actor.company,
        product=product,
        quantity=quantity,
        from_location=from_location,
        to_location=to_location,
        unit_cost=unit_cost,
        reason=reason,
        reference=reference,
        note=note,
        actor=actor.user if actor.user_id else None,
    )
    return move


def _move_state(move: StockMove) -> dict:
    return {
        "product": move.product.sku,
        "quantity": move.quantity,
        "from": move.from_location.code,
        "to": move.to_location.code,
        "unit_cost": move.unit_cost,
        "reason": move.reason,
        "reference": move.reference,
    }


# --- warehouses and locations --------------------------------------------------------------------


@transaction.atomic
def warehouse_create(*, actor: Actor, code: str, name: str) -> Warehouse:
    """A warehouse with its stock location; the company's virtual locations are created if missing."""
    require(actor, "inventory.change")
    code = _code(code)
    name = _text(name, "name", 100, required=True)
    warehouse = Warehouse(company=actor.company, code=code, name=name)
    try:
        with transaction.atomic():
            warehouse.save()
    except IntegrityError:
        raise ValidationFailed(
            _("Check the highlighted fields."), fields={"code": [_("Another warehouse already has this code.")]}
        )
    Location.objects.bulk_create(
        [Location(company=actor.company, kind=kind, code=kind) for kind in VIRTUAL_KINDS], ignore_conflicts=True
    )
    stock = Location.objects.create(
        company=actor.company, warehouse=warehouse, kind=LocationKind.INTERNAL, code=f"{code}/STOCK", name=name
    )
    audit_record(
        actor=actor,
        company=actor.company,
        obj=warehouse,
        action="warehouse.create",
        after={"code": code, "name": name, "stock_location": stock.code},
    )
    return warehouse


@transaction.atomic
def location_create(*, actor: Actor, warehouse_id: int, code: str, name: str = "", parent_id: int | None = None):
    """A zone or bin inside a warehouse, under `parent_id` (default: the warehouse's stock location).

    Its full code is the warehouse code and `code`: "MAIN/A-01".
    """
    require(actor, "inventory.change")
    stock = _stock_location(actor, warehouse_id)
    code = _code(code)
    name = _text(name, "name", 100)
    parent = stock
    if parent_id is not None:
        parent = Location.objects.filter(company=actor.company, warehouse=stock.warehouse, pk=parent_id).first()
        if parent is None:
            raise ValidationFailed(
                _("Check the highlighted fields."), fields={"parent": [_("Choose a location of this warehouse.")]}
            )
    location = Location(
        company=actor.company,
        warehouse=stock.warehouse,
        parent=parent,
        kind=LocationKind.INTERNAL,
        code=f"{stock.warehouse.code}/{code}",
        name=name,
    )
    try:
        with transaction.atomic():
            location.save()
    except IntegrityError:
        raise ValidationFailed(
            _("Check the highlighted fields."), fields={"code": [_("Another location already has this code.")]}
        )
    audit_record(
        actor=actor,
        company=actor.company,
        obj=location,
        action="location.create",
        after={"code": location.code, "name": name, "parent": parent.code},
    )
    return location


# --- stock ----------------------------------------------------------------------------------------


def _internal_location(actor: Actor, warehouse_id, location_id, field: str = "location") -> Location:
    """A location of the warehouse (a zone or bin), or its stock location when none is named."""
    stock = _stock_location(actor, warehouse_id)
    if location_id in (None, ""):
        return stock
    location = (
        Location.objects.select_related("warehouse")
        .filter(company=actor.company, warehouse=stock.warehouse, pk=location_id, is_active=True)
        .first()
    )
    if location is None:
        raise ValidationFailed(
            _("Check the highlighted fields."), fields={field: [_("Choose a location of this warehouse.")]}
        )
    return location


@transaction.atomic
def stock_receive(
    *,
    actor: Actor,
    product_id: int,
    warehouse_id: int,
    quantity,
    unit_cost,
    reason: str = MoveReason.RECEIPT,
    reference: str = "",
    location_id: int | None = None,
) -> StockMove:
    """Goods in: from the supplier (a receipt) or from nowhere (initial stock), at a unit cost
    that updates the product's moving average cost in the warehouse; into a bin if named."""
    require(actor, "inventory.change")
    quantity = _quantity(quantity)
    unit_cost = _unit_cost(unit_cost)
    if reason not in RECEIPT_REASONS:
        raise ValidationFailed(_("Check the highlighted fields."), fields={"reason": [_("Choose a valid reason.")]})
    reference = _text(reference, "reference", 100)
    product = _product(actor, product_id)
    target = _internal_location(actor, warehouse_id, location_id)
    source = _virtual(actor, LocationKind.SUPPLIER if reason == MoveReason.RECEIPT else LocationKind.INVENTORY_LOSS)
    cost = _cost_for_update(actor.company, product, target.warehouse)
    level_before = _level(product, target.warehouse_id)
    before, after = _receive_at_cost(actor.company, product, target, quantity, unit_cost, cost)
    move = _move(actor, product, quantity, source, target, reason, unit_cost=unit_cost, reference=reference)
    state = _move_state(move)
    audit_record(
        actor=actor,
        company=actor.company,
        obj=move,
        action="stock.receive",
        before={"average_cost": before},
        after={**state, "average_cost": after},
    )
    event_emit(
        company=actor.company,
        name="stock.received",
        obj=move,
        payload={**state, "warehouse": target.warehouse.code, "average_cost": after},
    )
    _level_changed(actor, product, target.warehouse, level_before)
    _arrival_notify(actor, warehouse=target.warehouse, product_ids=[product.pk])
    return move


@transaction.atomic
def stock_adjust(
    *,
    actor: Actor,
    product_id: int,
    warehouse_id: int,
    quantity,
    reason: str,
    note: str = "",
    reference: str = "",
    location_id: int | None = None,
) -> StockMove:
    """Correct the stock by a signed `quantity`: found goods come from, lost goods go to the
    inventory-loss location. Allocated stock cannot be adjusted away."""
    require(actor, "inventory.change")
    delta = _number(quantity, "quantity")
    if delta == 0:
        raise ValidationFailed(
            _("Check the highlighted fields."), fields={"quantity": [_("Enter a quantity other than zero.")]}
        )
    if reason not in ADJUSTMENT_REASONS:
        raise ValidationFailed(_("Check the highlighted fields."), fields={"reason": [_("Choose a valid reason.")]})
    note = _text(note, "note", 200)
    reference = _text(reference, "reference", 100)
    product = _product(actor, product_id)
    location = _internal_location(actor, warehouse_id, location_id)
    loss = _virtual(actor, LocationKind.INVENTORY_LOSS)
    cost = StockCost.objects.filter(product=product, warehouse=location.warehouse).values_list(
        "average_cost", flat=True
    )
    unit_cost = cost.first() or Decimal("0.0000")
    level_before = _level(product, location.warehouse_id)
    if delta > 0:
        _balance_add(actor.company, product, location, delta)
        source, target = loss, location
    else:
        _balance_take(product, location, -delta)
        source, target = location, loss
    move = _move(
        actor, product, abs(delta), source, target, reason, unit_cost=unit_cost, reference=reference, note=note
    )
    state = {**_move_state(move), "note": note}
    audit_record(actor=actor, company=actor.company, obj=move, action="stock.adjust", after=state)
    event_emit(
        company=actor.company,
        name="stock.adjusted",
        obj=move,
        payload={**state, "warehouse": location.warehouse.code, "change": delta},
    )
    _level_changed(actor, product, location.warehouse, level_before)
    if delta > 0:
        _arrival_notify(actor, warehouse=location.warehouse, product_ids=[product.pk])
    return move


@transaction.atomic
def stock_relocate(
    *, actor: Actor, product_id: int, warehouse_id: int, from_location_id, to_location_id, quantity
) -> StockMove:
    """Move stock between two locations of one warehouse (put away into a bin, re-slot): the
    warehouse's on-hand, allocations and cost do not change."""
    require(actor, "inventory.change")
    quantity = _quantity(quantity)
    product = _product(actor, product_id)
    source = _internal_location(actor, warehouse_id, from_location_id, "from_location")
    target = _internal_location(actor, warehouse_id, to_location_id, "to_location")
    if source.pk == target.pk:
        raise ValidationFailed(
            _("Check the highlighted fields."), fields={"to_location": [_("Choose a location other than the source.")]}
        )
    taken = StockBalance.objects.filter(product=product, location=source, on_hand__gte=_q(quantity)).update(
        on_hand=F("on_hand") - _q(quantity)
    )
    if not taken:
        there = StockBalance.objects.filter(product=product, location=source).values_list("on_hand", flat=True)
        available = there.first() or Decimal("0.000")
        raise Conflict(
            _("Only %(available)s of %(sku)s at %(location)s.")
            % {"available": available, "sku": product.sku, "location": source.code},
            code="insufficient_stock",
            fields={"quantity": [_("More than there is at the source location.")]},
        )
    _row_add(StockBalance, {"company": actor.company, "product": product, "location": target}, quantity)
    unit_cost = StockCost.objects.filter(product=product, warehouse=source.warehouse).values_list(
        "average_cost", flat=True
    ).first() or Decimal("0.0000")
    move = _move(actor, product, quantity, source, target, MoveReason.RELOCATION, unit_cost=unit_cost)
    audit_record(actor=actor, company=actor.company, obj=move, action="stock.relocate", after=_move_state(move))
    return move


@transaction.atomic
def stock_transfer(
    *, actor: Actor, product_id: int, from_warehouse_id: int, to_warehouse_id: int, quantity, reference: str = ""
) -> tuple[StockMove, StockMove]:
    """Move stock between two warehouses through the transit location (two moves), at the
    source's average cost, which the destination folds into its own average."""
    require(actor, "inventory.change")
    quantity = _quantity(quantity)
    reference = _text(reference, "reference", 100)
    if str(from_warehouse_id) == str(to_warehouse_id):
        raise ValidationFailed(
            _("Check the highlighted fields."),
            fields={"to_warehouse": [_("Choose a warehouse other than the source.")]},
        )
    product = _product(actor, product_id)
    source = _stock_location(actor, from_warehouse_id, "from_warehouse")
    target = _stock_location(actor, to_warehouse_id, "to_warehouse")
    transit = _virtual(actor, LocationKind.TRANSIT)
    # Both cost rows in warehouse order before any level or balance row: two opposite
    # transfers, or a transfer and a receipt, wait for each other instead of deadlocking.
    costs = {
        warehouse.pk: _cost_for_update(actor.company, product, warehouse)
        for warehouse in sorted((source.warehouse, target.warehouse), key=lambda w: w.pk)
    }
    unit_cost = costs[source.warehouse.pk].average_cost
    source_before = _level(product, source.warehouse_id)
    target_before = _level(product, target.warehouse_id)
    _balance_take(product, source, quantity)
    out_move = _move(
        actor, product, quantity, source, transit, MoveReason.TRANSFER, unit_cost=unit_cost, reference=reference
    )
    before, after = _receive_at_cost(actor.company, product, target, quantity, unit_cost, costs[target.warehouse.pk])
    in_move = _move(
        actor, product, quantity, transit, target, MoveReason.TRANSFER, unit_cost=unit_cost, reference=reference
    )
    for move in (out_move, in_move):
        audit_record(actor=actor, company=actor.company, obj=move, action="stock.transfer", after=_move_state(move))
    event_emit(
        company=actor.company,
        name="stock.transferred",
        obj=in_move,
        payload={
            "product": product.sku,
            "quantity": quantity,
            "from_warehouse": source.warehouse.code,
            "to_warehouse": target.warehouse.code,
            "unit_cost": unit_cost,
            "average_cost": after,
        },
    )
    _level_changed(actor, product, source.warehouse, source_before)
    _level_changed(actor, product, target.warehouse, target_before)
    _arrival_notify(actor, warehouse=target.warehouse, product_ids=[product.pk])
    return out_move, in_move


# --- reservations and shipments: a fixed number of queries per document ------------------------


@dataclass(frozen=True)
class AllocationRequest:
    """One line to reserve stock for; `field` names the line in an error ("lines.2.quantity")."""

    product_id: int
    sku: str
    quantity: Decimal
    line_id: str
    field: str = "quantity"


@dataclass(frozen=True)
class ShipmentRequest:
    """One line leaving the warehouse from `location_id`, consuming the line's allocation."""

    product_id: int
    sku: str
    quantity: Decimal
    line_id: str
    location_id: int


def _case(pairs) -> Case:
    """A CASE over primary keys giving each row its own quantity: one UPDATE for many rows."""
    return Case(*[When(pk=pk, then=_q(q)) for pk, q in pairs], default=_q(Decimal(0)), output_field=QuantityField())


def _bin_case(per_bin: dict[tuple[int, int], Decimal]) -> Case:
    """The same over location balances, keyed by (product id, location id)."""
    return Case(
        *[When(product_id=p, location_id=loc, then=_q(q)) for (p, loc), q in per_bin.items()],
        default=_q(Decimal(0)),
        output_field=QuantityField(),
    )


def _levels_locked(warehouse: Warehouse, product_ids) -> dict[int, dict]:
    """The warehouse's level rows of these products, locked in primary-key order (PostgreSQL;
    SQLite holds the database write lock for the whole transaction)."""
    rows = (
        StockLevel.objects.select_for_update()
        .filter(warehouse=warehouse, product_id__in=set(product_ids))
        .order_by("pk")
        .values("pk", "product_id", "on_hand", "allocated", "reorder_point", "maximum")
    )
    return {row["product_id"]: row for row in rows}


@transaction.atomic(savepoint=False)
def stock_allocate_lines(
    *,
    actor: Actor,
    warehouse: Warehouse,
    reference_type: str,
    reference_id,
    lines: list[AllocationRequest],
    partial: bool = False,
) -> dict[str, Decimal]:
    """Reserve stock in `warehouse` for the lines of one document: every line in full, or none
    (409 `insufficient_stock` listing each short line with requested and available).

    With `partial`, lines get what there is and the rest waits (a back-order). Returns the
    quantity reserved per line id. Four queries whatever the number of lines, plus one event
    per product whose availability fell to its reorder point or to zero.
    """
    require(actor, "inventory.allocate")
    allocations = _allocate_lines(actor, warehouse, reference_type, reference_id, lines, partial)
    return {a.line_id: a.quantity for a in allocations}


def _allocate_lines(actor, warehouse, reference_type, reference_id, lines, partial) -> list[Allocation]:
    if not lines:
        return []
    levels = _levels_locked(warehouse, [line.product_id for line in lines])
    left = {pid: row["on_hand"] - row["allocated"] for pid, row in levels.items()}
    granted: dict[str, Decimal] = {}
    shortages = []
    for line in lines:
        available = left.get(line.product_id, Decimal("0.000"))
        take = min(available, line.quantity) if partial else line.quantity
        if take > available or take < 0:
            shortages.append(
                {
                    "field": line.field,
                    "line": line.line_id,
                    "sku": line.sku,
                    "requested": line.quantity,
                    "available": max(available, Decimal("0.000")),
                }
            )
            continue
        left[line.product_id] = available - take
        if take > 0:
            granted[line.line_id] = take
    if shortages:
        raise _shortage_error(shortages)
    per_level: dict[int, Decimal] = {}
    for line in lines:
        if line.line_id in granted:
            pk = levels[line.product_id]["pk"]
            per_level[pk] = per_level.get(pk, Decimal(0)) + granted[line.line_id]
    if not per_level:
        return []
    StockLevel.objects.filter(pk__in=per_level).update(allocated=F("allocated") + _case(per_level.items()))
    by_line = {line.line_id: line for line in lines}
    allocations = Allocation.objects.bulk_create(
        [
            Allocation(
                company=actor.company,
                product_id=by_line[line_id].product_id,
                warehouse=warehouse,
                quantity=quantity,
                reference_type=reference_type,
                reference_id=str(reference_id),
                line_id=line_id,
            )
            for line_id, quantity in granted.items()
        ]
    )
    audit_record(
        actor=actor,
        company=actor.company,
        object_type=reference_type,
        object_id=reference_id,
        action="stock.allocate",
        after={
            "warehouse": warehouse.code,
            "lines": [{"line": k, "sku": by_line[k].sku, "quantity": v} for k, v in granted.items()],
        },
    )
    skus = {line.product_id: line.sku for line in lines}
    for pid, row in levels.items():
        before = row["on_hand"] - row["allocated"]
        if left[pid] != before:
            _availability_crossed(
                actor,
                product_id=pid,
                sku=skus[pid],
                warehouse_code=warehouse.code,
                level_id=row["pk"],
                before=before,
                after=left[pid],
                reorder_point=row["reorder_point"],
            )
    return allocations


def _allocations_locked(
    actor: Actor, reference_type: str, reference_id, line_ids=None, warehouse: Warehouse | None = None
) -> list[Allocation]:
    rows = Allocation.objects.select_for_update().filter(
        company=actor.company, reference_type=reference_type, reference_id=str(reference_id)
    )
    if line_ids is not None:
        rows = rows.filter(line_id__in=[str(i) for i in line_ids])
    if warehouse is not None:
        rows = rows.filter(warehouse=warehouse)
    return list(rows.order_by("pk"))


def _allocations_consume(allocations: list[Allocation], wanted: dict[str, Decimal]) -> dict[tuple, Decimal]:
    """Take up to `wanted[line]` from each line's allocations, oldest first: shrink or delete
    them (two queries at most). Returns the quantity taken per (product, warehouse)."""
    taken: dict[tuple, Decimal] = {}
    shrunk, emptied = [], []
    for allocation in allocations:
        need = wanted.get(allocation.line_id, Decimal(0))
        if need <= 0:
            continue
        take = min(need, allocation.quantity)
        wanted[allocation.line_id] = need - take
        key = (allocation.product_id, allocation.warehouse_id)
        taken[key] = taken.get(key, Decimal(0)) + take
        if take == allocation.quantity:
            emptied.append(allocation.pk)
        else:
            allocation.quantity -= take
            shrunk.append(allocation)
    if emptied:
        Allocation.objects.filter(pk__in=emptied).delete()
    if shrunk:
        Allocation.objects.bulk_update(shrunk, ["quantity"])
    return taken


@transaction.atomic(savepoint=False)
def stock_release_lines(
    *, actor: Actor, reference_type: str, reference_id, quantities: dict[str, Decimal] | None = None
) -> dict[str, Decimal]:
    """Give back a document's reservations: all of them, or up to `quantities[line_id]` per line.
    Returns what was released per line. Releasing what is not allocated releases nothing."""
    require(actor, "inventory.allocate")
    line_ids = list(quantities) if quantities is not None else None
    allocations = _allocations_locked(actor, reference_type, reference_id, line_ids)
    if not allocations:
        return {}
    if quantities is None:
        wanted: dict[str, Decimal] = {}
        for allocation in allocations:
            wanted[allocation.line_id] = wanted.get(allocation.line_id, Decimal(0)) + allocation.quantity
    else:
        wanted = {str(k): v for k, v in quantities.items()}
    asked = dict(wanted)
    taken = _allocations_consume(allocations, wanted)
    released = {line: asked[line] - wanted[line] for line in asked if asked[line] - wanted[line] > 0}
    if not taken:
        return released
    # Locked (after the allocations, like shipments) so that the availability read here is the
    # one the update changes: the deviations it rose above are closed on that figure.
    levels = list(
        StockLevel.objects.select_for_update(of=("self",))
        .filter(reduce(or_, (Q(product_id=p, warehouse_id=w) for p, w in taken)))
        .order_by("pk")
        .values_list("pk", "product_id", "warehouse_id", "on_hand", "allocated", "reorder_point")
        .annotate(sku=F("product__sku"), warehouse_code=F("warehouse__code"))
    )
    per_level = {row[0]: taken[(row[1], row[2])] for row in levels}
    StockLevel.objects.filter(pk__in=per_level).update(allocated=F("allocated") - _case(per_level.items()))
    audit_record(
        actor=actor,
        company=actor.company,
        object_type=reference_type,
        object_id=reference_id,
        action="stock.release",
        before={"lines": [{"line": k, "quantity": v} for k, v in released.items()]},
    )
    for pk, product_id, _warehouse_id, on_hand, allocated, reorder_point, sku, warehouse_code in levels:
        _availability_crossed(
            actor,
            product_id=product_id,
            sku=sku,
            warehouse_code=warehouse_code,
            level_id=pk,
            before=on_hand - allocated,
            after=on_hand - allocated + per_level[pk],
            reorder_point=reorder_point,
        )
    return released


@transaction.atomic(savepoint=False)
def stock_ship_lines(
    *,
    actor: Actor,
    warehouse: Warehouse,
    reference_type: str,
    reference_id,
    reference: str,
    lines: list[ShipmentRequest],
) -> list[StockMove]:
    """Goods leave the warehouse for the customer: each line from its location, consuming the
    line's reservation, at the warehouse's average cost. All lines or none. A fixed number of
    queries whatever the number of lines."""
    require(actor, "inventory.allocate")
    wanted: dict[str, Decimal] = {}
    for line in lines:
        wanted[line.line_id] = wanted.get(line.line_id, Decimal(0)) + line.quantity
    # Only this warehouse's reservations: a line reserved elsewhere is not allocated here.
    allocations = _allocations_locked(actor, reference_type, reference_id, list(wanted), warehouse)
    asked = dict(wanted)
    taken = _allocations_consume(allocations, wanted)
    short = [line for line in lines if wanted.get(line.line_id, Decimal(0)) > 0]
    if short:
        raise Conflict(
            _("Only reserved stock can be shipped: %(skus)s not reserved for this order.")
            % {"skus": ", ".join(sorted({line.sku for line in short}))},
            code="not_allocated",
            details=[
                {
                    "line": line.line_id,
                    "sku": line.sku,
                    "requested": str(asked[line.line_id]),
                    "allocated": str(asked[line.line_id] - wanted[line.line_id]),
                }
                for line in short
            ],
        )
    levels = StockLevel.objects.filter(warehouse=warehouse, product_id__in=[p for p, _w in taken]).values_list(
        "pk", "product_id"
    )
    per_level = {pk: taken[(pid, warehouse.pk)] for pk, pid in levels}
    delta = _case(per_level.items())
    StockLevel.objects.filter(pk__in=per_level).update(on_hand=F("on_hand") - delta, allocated=F("allocated") - delta)
    per_bin: dict[tuple, Decimal] = {}
    for line in lines:
        key = (line.product_id, line.location_id)
        per_bin[key] = per_bin.get(key, Decimal(0)) + line.quantity
    guard = reduce(or_, (Q(product_id=p, location_id=loc, on_hand__gte=_q(q)) for (p, loc), q in per_bin.items()))
    updated = StockBalance.objects.filter(guard, location__warehouse=warehouse).update(
        on_hand=F("on_hand") - _bin_case(per_bin)
    )
    if updated != len(per_bin):
        raise Conflict(
            _("A location holds less than is being shipped from it; count it and pick again."),
            code="insufficient_stock",
        )
    costs = dict(
        StockCost.objects.filter(warehouse=warehouse, product_id__in=[line.product_id for line in lines]).values_list(
            "product_id", "average_cost"
        )
    )
    customer = _virtual(actor, LocationKind.CUSTOMER)
    moves = StockMove.objects.bulk_create(
        [
            StockMove(
                company=actor.company,
                product_id=line.product_id,
                quantity=line.quantity,
                from_location_id=line.location_id,
                to_location=customer,
                unit_cost=costs.get(line.product_id, Decimal("0.0000")),
                reason=MoveReason.SHIPMENT,
                reference=reference,
                actor=actor.user if actor.user_id else None,
            )
            for line in lines
        ]
    )
    audit_record(
        actor=actor,
        company=actor.company,
        object_type=reference_type,
        object_id=reference_id,
        action="stock.ship",
        after={
            "warehouse": warehouse.code,
            "reference": reference,
            "lines": [{"line": line.line_id, "sku": line.sku, "quantity": line.quantity} for line in lines],
        },
    )
    return moves


@transaction.atomic
def stock_return_receive(
    *,
    actor: Actor,
    product_id: int,
    warehouse_id: int,
    quantity,
    restock: bool,
    reference: str = "",
    note: str = "",
    location_id: int | None = None,
) -> StockMove:
    """Goods back from a customer: into stock (at the warehouse's average cost, which does not
    change) or to scrap."""
    require(actor, "inventory.change")
    quantity = _quantity(quantity)
    reference = _text(reference, "reference", 100)
    note = _text(note, "note", 200)
    product = _product(actor, product_id)
    location = _internal_location(actor, warehouse_id, location_id)
    customer = _virtual(actor, LocationKind.CUSTOMER)
    unit_cost = StockCost.objects.filter(product=product, warehouse=location.warehouse).values_list(
        "average_cost", flat=True
    ).first() or Decimal("0.0000")
    level_before = _level(product, location.warehouse_id)
    if restock:
        _balance_add(actor.company, product, location, quantity)
        target = location
    else:
        target = _virtual(actor, LocationKind.SCRAP)
    move = _move(
        actor,
        product,
        quantity,
        customer,
        target,
        MoveReason.RETURN,
        unit_cost=unit_cost,
        reference=reference,
        note=note,
    )
    audit_record(actor=actor, company=actor.company, obj=move, action="stock.return", after=_move_state(move))
    if restock:
        _level_changed(actor, product, location.warehouse, level_before)
        _arrival_notify(actor, warehouse=location.warehouse, product_ids=[product.pk])
    return move


# Compatibility with single-line callers: one line through the batched services.


def stock_allocate(
    *,
    actor: Actor,
    product_id: int,
    warehouse_id: int,
    quantity,
    reference_type: str,
    reference_id: str,
    line_id: str = "",
) -> Allocation:
    """Reserve `quantity` of a product in a warehouse for one document line, or refuse."""
    require(actor, "inventory.allocate")
    quantity = _quantity(quantity)
    reference_type = _text(reference_type, "reference_type", 50, required=True)
    reference_id = _text(str(reference_id), "reference_id", 64, required=True)
    line_id = _text(str(line_id), "line_id", 64)
    with transaction.atomic():
        product = _product(actor, product_id)
        stock = _stock_location(actor, warehouse_id)
        line = AllocationRequest(product_id=product.pk, sku=product.sku, quantity=quantity, line_id=line_id)
        (allocation,) = _allocate_lines(actor, stock.warehouse, reference_type, reference_id, [line], False)
        return allocation


def stock_release(*, actor: Actor, reference_type: str, reference_id: str, line_id: str | None = None) -> Decimal:
    """Give back every allocation of a document (or of one of its lines); returns the quantity
    released."""
    require(actor, "inventory.allocate")
    with transaction.atomic():
        if line_id is None:
            released = stock_release_lines(actor=actor, reference_type=reference_type, reference_id=reference_id)
        else:
            everything = Allocation.objects.filter(
                company=actor.company,
                reference_type=reference_type,
                reference_id=str(reference_id),
                line_id=str(line_id),
            ).aggregate(total=Sum("quantity"))["total"] or Decimal(0)
            released = stock_release_lines(
                actor=actor,
                reference_type=reference_type,
                reference_id=reference_id,
                quantities={str(line_id): everything},
            )
    return sum(released.values(), Decimal("0.000"))


# --- arrivals: who waits for stock ------------------------------------------------------------------
#
# An area whose documents wait for stock (a sales order's back-ordered lines) registers a
# consumer here; every arrival (receipt, found stock, transfer in, return to stock) calls it in
# the same transaction, so waiting lines are served in their order before anyone else's.

ARRIVAL_CONSUMERS: list = []


def arrival_consumer_register(consumer) -> None:
    """`consumer(actor=, warehouse=, product_ids=)`; registered once by the area's AppConfig."""
    if consumer not in ARRIVAL_CONSUMERS:
        ARRIVAL_CONSUMERS.append(consumer)


def _arrival_notify(actor: Actor, *, warehouse: Warehouse, product_ids: list[int]) -> None:
    for consumer in ARRIVAL_CONSUMERS:
        consumer(actor=system_actor(actor.company), warehouse=warehouse, product_ids=product_ids)


# --- replenishment limits and the stock deviations --------------------------------------------------


def _limit(value, field: str) -> Decimal | None:
    """A reorder point or maximum: blank clears it, otherwise zero or more."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _zero_or_more(value, field)


def _level_for_update(company, product: Product, warehouse: Warehouse) -> StockLevel:
    """The product's level in the warehouse, locked; created (empty) if the product never was there."""
    rows = StockLevel.objects.select_for_update().filter(product=product, warehouse=warehouse)
    level = rows.first()
    if level is None:
        try:
            with transaction.atomic():
                level = StockLevel.objects.create(company=company, product=product, warehouse=warehouse)
        except IntegrityError:
            level = rows.get()
    return level


def _limits_review(actor: Actor, level: StockLevel, sku: str, warehouse_code: str) -> None:
    """Open or close the low-stock and overstock deviations of `level` for its current figures
    and limits. Out of stock is left to the moves that reach zero."""
    target = {"object_type": LEVEL_TYPE, "object_id": level.pk}
    repr_ = f"{sku} @ {warehouse_code}"
    available, reorder_point, maximum = level.available, level.reorder_point, level.maximum
    if reorder_point is not None and 0 < available <= reorder_point:
        params = {"sku": sku, "warehouse": warehouse_code, "available": available, "reorder_point": reorder_point}
        deviation_raise(company=actor.company, kind=DEVIATION_STOCK_LOW, object_repr=repr_, params=params, **target)
    elif reorder_point is None or available > reorder_point:
        deviation_clear(company=actor.company, kind=DEVIATION_STOCK_LOW, **target)
    if maximum is not None and level.on_hand > maximum:
        params = {"sku": sku, "warehouse": warehouse_code, "on_hand": level.on_hand, "maximum": maximum}
        deviation_raise(company=actor.company, kind=DEVIATION_OVERSTOCK, object_repr=repr_, params=params, **target)
    else:
        deviation_clear(company=actor.company, kind=DEVIATION_OVERSTOCK, **target)


@transaction.atomic
def stock_level_settings_set(*, actor: Actor, product_id: int, warehouse_id: int, reorder_point, maximum) -> StockLevel:
    """Set a product's reorder point and maximum in a warehouse (blank clears either), and open
    or close its low-stock and overstock deviations for the new limits."""
    require(actor, "inventory.change")
    errors: dict[str, list] = {}
    limits = {}
    for field, value in (("reorder_point", reorder_point), ("maximum", maximum)):
        try:
            limits[field] = _limit(value, field)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if not errors and None not in limits.values() and limits["maximum"] <= limits["reorder_point"]:
        errors["maximum"] = [_("The maximum must be greater than the reorder point.")]
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    product = _product(actor, product_id)
    stock = _stock_location(actor, warehouse_id)
    level = _level_for_update(actor.company, product, stock.warehouse)
    before = {"reorder_point": level.reorder_point, "maximum": level.maximum}
    if before == limits:
        return level
    level.reorder_point, level.maximum = limits["reorder_point"], limits["maximum"]
    level.save(update_fields=["reorder_point", "maximum"])
    audit_record(
        actor=actor,
        company=actor.company,
        obj=level,
        action="stock_level.limits",
        before={"sku": product.sku, "warehouse": stock.warehouse.code, **before},
        after={"sku": product.sku, "warehouse": stock.warehouse.code, **limits},
    )
    _limits_review(actor, level, product.sku, stock.warehouse.code)
    return level


@transaction.atomic
def stock_deviations_review(*, actor: Actor) -> int:
    """Close the company's open stock deviations whose condition no longer holds (a shipment
    that brings on hand back under the maximum does not look, to stay cheap). For the worker;
    returns how many it closed. Three queries whatever the number of deviations."""
    require(actor, "inventory.change")
    kinds = (DEVIATION_STOCK_OUT, DEVIATION_STOCK_LOW, DEVIATION_OVERSTOCK)
    open_rows = list(
        Deviation.objects.filter(
            company=actor.company, kind__in=kinds, object_type=LEVEL_TYPE, status__in=OPEN_DEVIATION_STATUSES
        ).values_list("pk", "kind", "object_id")
    )
    if not open_rows:
        return 0
    levels = {
        str(pk): (on_hand, allocated, reorder_point, maximum)
        for pk, on_hand, allocated, reorder_point, maximum in StockLevel.objects.filter(
            company=actor.company, pk__in={int(object_id) for _pk, _kind, object_id in open_rows}
        ).values_list("pk", "on_hand", "allocated", "reorder_point", "maximum")
    }

    def holds(kind: str, object_id: str) -> bool:
        if object_id not in levels:
            return False
        on_hand, allocated, reorder_point, maximum = levels[object_id]
        if kind == DEVIATION_STOCK_OUT:
            return on_hand - allocated <= 0
        if kind == DEVIATION_STOCK_LOW:
            return reorder_point is not None and on_hand - allocated <= reorder_point
        return maximum is not None and on_hand > maximum

    stale = [pk for pk, kind, object_id in open_rows if not holds(kind, object_id)]
    if stale:
        Deviation.objects.filter(pk__in=stale).update(status=DeviationStatus.CLOSED, ended_at=timezone.now())
    return len(stale)


# --- cycle counts -------------------------------------------------------------------------------
#
# A count snapshots what the books hold at each location of a subtree, staff record what they
# find, and posting turns each difference into a COUNT move to or from inventory loss. Posting
# refuses lines whose location changed since the snapshot (reopen the count to count them
# again) and a loss that would leave less on hand than is reserved.


def _count_for_update(actor: Actor, count_id) -> CycleCount:
    try:
        count_id = int(count_id)
    except (TypeError, ValueError):
        raise NotFound(_("No such cycle count."))
    count = (
        CycleCount.objects.select_for_update(of=("self",))
        .select_related("warehouse", "location")
        .filter(company=actor.company, pk=count_id)
        .first()
    )
    if count is None:
        raise NotFound(_("No such cycle count."))
    return count


def _count_editable(count: CycleCount) -> None:
    if count.status != CycleCountStatus.DRAFT:
        raise Conflict(
            _("This count is %(status)s: counted quantities can only change while counting.")
            % {"status": count.get_status_display()},
            code="invalid_transition",
        )


def _subtree(warehouse: Warehouse, root: Location) -> list[int]:
    """The ids of `root` and every location under it, in one query."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Location.objects.filter(warehouse=warehouse).values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, queue = [], [root.pk]
    while queue:
        pk = queue.pop()
        found.append(pk)
        queue.extend(children.get(pk, ()))
    return found


def _line_field(line_id) -> str:
    return f"lines.{line_id}.counted"


@transaction.atomic
def cycle_count_create(
    *, actor: Actor, warehouse_id: int, location_id: int | None = None, product_ids=None, note: str = ""
) -> CycleCount:
    """A count of a warehouse, or of one location and everything under it: a line for every
    product the books hold there (even at zero), limited to `product_ids` if given; a product
    asked for but never kept there gets a line at the counted location, expected zero."""
    require(actor, "inventory.change")
    note = _text(note, "note", 200)
    root = _internal_location(actor, warehouse_id, location_id)
    wanted = None
    if product_ids is not None:
        try:
            wanted = {int(pk) for pk in product_ids}
        except (TypeError, ValueError):
            raise ValidationFailed(_("Check the highlighted fields."), fields={"products": [_("No such product.")]})
        known = set(Product.objects.filter(company=actor.company, pk__in=wanted).values_list("pk", flat=True))
        if not wanted or known != wanted:
            raise ValidationFailed(_("Check the highlighted fields."), fields={"products": [_("No such product.")]})
    balances = StockBalance.objects.filter(location_id__in=_subtree(root.warehouse, root))
    if wanted is not None:
        balances = balances.filter(product_id__in=wanted)
    items = {(p, loc): on_hand for p, loc, on_hand in balances.values_list("product_id", "location_id", "on_hand")}
    for product_id in sorted(wanted or ()):
        if not any(p == product_id for p, _loc in items):
            items[(product_id, root.pk)] = Decimal("0.000")
    if not items:
        raise ValidationFailed(
            _("Nothing to count: no stock was ever kept there."),
            fields={"location": [_("No stock was ever kept at this location.")]},
        )
    year = timezone.localdate().year
    number = sequence_next(company=actor.company, series="cycle_count", year=year)
    count = CycleCount.objects.create(
        company=actor.company,
        number=f"CC{year}-{number:05d}",
        warehouse=root.warehouse,
        location=root,
        note=note,
        created_by=actor.user if actor.user_id else None,
    )
    CycleCountLine.objects.bulk_create(
        CycleCountLine(count=count, product_id=p, location_id=loc, expected=on_hand)
        for (p, loc), on_hand in sorted(items.items())
    )
    audit_record(
        actor=actor,
        company=actor.company,
        obj=count,
        action="cyclecount.create",
        after={"warehouse": root.warehouse.code, "location": root.code, "lines": len(items), "note": note},
    )
    return count


@transaction.atomic
def cycle_count_line_add(*, actor: Actor, count_id: int, product_id: int, location_id: int) -> CycleCountLine:
    """Goods found where the count did not expect them: a line for the product at a location of
    the count, expecting what the books hold there."""
    require(actor, "inventory.change")
    count = _count_for_update(actor, count_id)
    _count_editable(count)
    product = _product(actor, product_id)
    location = None
    if str(location_id).isdigit() and int(location_id) in _subtree(count.warehouse, count.location):
        location = Location.objects.filter(pk=location_id).first()
    if location is None:
        raise ValidationFailed(
            _("Check the highlighted fields."), fields={"location": [_("Choose a location of this count.")]}
        )
    expected = StockBalance.objects.filter(product=product, location=location).values_list("on_hand", flat=True)
    line = CycleCountLine(count=count, product=product, location=location, expected=expected.first() or Decimal(0))
    try:
        with transaction.atomic():
            line.save()
    except IntegrityError:
        raise ValidationFailed(
            _("Check the highlighted fields."), fields={"product": [_("This product is already counted there.")]}
        )
    audit_record(
        actor=actor,
        company=actor.company,
        obj=count,
        action="cyclecount.line_add",
        after={"sku": product.sku, "location": location.code, "expected": line.expected},
    )
    return line


@transaction.atomic
def cycle_count_record(*, actor: Actor, count_id: int, quantities: dict) -> CycleCount:
    """Record what was found, per line id (blank: not counted yet). Every error is reported at
    once, keyed "lines.<id>.counted"; nothing is saved if any value is wrong."""
    require(actor, "inventory.change")
    count = _count_for_update(actor, count_id)
    _count_editable(count)
    ids = {str(k) for k in quantities}
    lines = {str(line.pk): line for line in count.lines.select_related("product", "location") if str(line.pk) in ids}
    errors: dict[str, list] = {}
    values: dict[str, Decimal | None] = {}
    for key, raw in quantities.items():
        key = str(key)
        if key not in lines:
            errors[_line_field(key)] = [_("No such line in this count.")]
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            values[key] = None
            continue
        try:
            values[key] = _zero_or_more(raw, _line_field(key))
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    changed, before, after = [], [], []
    for key, value in values.items():
        line = lines[key]
        if line.counted == value:
            continue
        before.append({"sku": line.product.sku, "location": line.location.code, "counted": line.counted})
        line.counted = value
        line.variance = None if value is None else value - line.expected
        after.append({"sku": line.product.sku, "location": line.location.code, "counted": value})
        changed.append(line)
    if changed:
        CycleCountLine.objects.bulk_update(changed, ["counted", "variance"])
        audit_record(
            actor=actor,
            company=actor.company,
            obj=count,
            action="cyclecount.record",
            before={"lines": before},
            after={"lines": after},
        )
    return count


@transaction.atomic
def cycle_count_complete(*, actor: Actor, count_id: int) -> CycleCount:
    """Counting is done: every line needs a counted quantity (0 when nothing was found)."""
    require(actor, "inventory.change")
    count = _count_for_update(actor, count_id)
    transition = transition_find(actor=actor, obj=count, workflow=COUNT_WORKFLOW, action="complete")
    missing = list(count.lines.filter(counted__isnull=True).values_list("pk", flat=True))
    if missing:
        message = _("Enter the quantity counted, 0 if none was found.")
        raise ValidationFailed(
            ngettext("%(count)d line is not counted yet.", "%(count)d lines are not counted yet.", len(missing))
            % {"count": len(missing)},
            fields={_line_field(pk): [message] for pk in missing},
        )
    transition_apply(actor=actor, obj=count, workflow=COUNT_WORKFLOW, action="complete", transition=transition)
    return count


@transaction.atomic
def cycle_count_reopen(*, actor: Actor, count_id: int) -> CycleCount:
    """Back to counting. Lines whose location changed since the snapshot take what the books
    hold now and must be counted again."""
    require(actor, "inventory.change")
    count = _count_for_update(actor, count_id)
    transition = transition_find(actor=actor, obj=count, workflow=COUNT_WORKFLOW, action="reopen")
    lines = list(count.lines.select_related("product", "location"))
    now = _balances_of(lines)
    stale = [
        line for line in lines if now.get((line.product_id, line.location_id), (None, Decimal(0)))[1] != line.expected
    ]
    for line in stale:
        line.expected = now.get((line.product_id, line.location_id), (None, Decimal("0.000")))[1]
        line.counted = line.variance = None
    if stale:
        CycleCountLine.objects.bulk_update(stale, ["expected", "counted", "variance"])
    transition_apply(
        actor=actor,
        obj=count,
        workflow=COUNT_WORKFLOW,
        action="reopen",
        transition=transition,
        audit_after={"recount": [{"sku": line.product.sku, "location": line.location.code} for line in stale]},
    )
    return count


@transaction.atomic
def cycle_count_cancel(*, actor: Actor, count_id: int) -> CycleCount:
    require(actor, "inventory.change")
    count = _count_for_update(actor, count_id)
    transition_apply(actor=actor, obj=count, workflow=COUNT_WORKFLOW, action="cancel")
    return count


def _balances_of(lines, *, lock: bool = False) -> dict[tuple[int, int], tuple[int, Decimal]]:
    """(product, location) -> (balance id, on hand) for the lines' locations, in one query."""
    if not lines:
        return {}
    rows = StockBalance.objects.filter(
        product_id__in={line.product_id for line in lines}, location_id__in={line.location_id for line in lines}
    )
    if lock:
        rows = rows.select_for_update().order_by("pk")
    return {
        (p, loc): (pk, on_hand)
        for pk, p, loc, on_hand in rows.values_list("pk", "product_id", "location_id", "on_hand")
    }


@transaction.atomic
def cycle_count_post(*, actor: Actor, count_id: int) -> CycleCount:
    """Approve a counted count: each difference becomes a COUNT move from inventory loss (found)
    or to it (lost) at the average cost, balances and levels change with it, and the count is
    posted. Refused, with nothing changed, when a location changed since the snapshot
    (`count_stale`) or a loss would leave less on hand than is reserved (`allocated_stock`).
    A fixed number of queries whatever the number of lines, plus one per threshold crossed."""
    require(actor, "inventory.change")
    count = _count_for_update(actor, count_id)
    transition = transition_find(actor=actor, obj=count, workflow=COUNT_WORKFLOW, action="post")
    warehouse = count.warehouse
    lines = [
        line
        for line in count.lines.select_related("product", "location").order_by("pk")
        if line.variance is not None and line.variance != 0
    ]
    net: dict[int, Decimal] = {}
    for line in lines:
        net[line.product_id] = net.get(line.product_id, Decimal(0)) + line.variance
    # Lock order as everywhere: level rows (by primary key), then location balance rows.
    levels = _levels_locked(warehouse, net) if net else {}
    balances = _balances_of(lines, lock=True)
    stale = [
        line
        for line in lines
        if balances.get((line.product_id, line.location_id), (None, Decimal("0.000")))[1] != line.expected
    ]
    if stale:
        raise Conflict(
            _("Stock changed at %(locations)s since the count began: reopen the count and count those lines again.")
            % {"locations": ", ".join(sorted({line.location.code for line in stale}))},
            code="count_stale",
            details=[
                {
                    "line": line.pk,
                    "sku": line.product.sku,
                    "location": line.location.code,
                    "expected": str(line.expected),
                    "on_hand": str(balances.get((line.product_id, line.location_id), (None, Decimal("0.000")))[1]),
                }
                for line in stale
            ],
        )
    skus = {line.product_id: line.product.sku for line in lines}
    short = []
    for product_id, change in net.items():
        row = levels.get(product_id, {"on_hand": Decimal("0.000"), "allocated": Decimal("0.000")})
        if row["on_hand"] + change < row["allocated"]:
            short.append(
                {
                    "sku": skus[product_id],
                    "on_hand": str(row["on_hand"]),
                    "allocated": str(row["allocated"]),
                    "change": str(change),
                }
            )
    if short:
        raise Conflict(
            _(
                "Posting would leave less on hand than is reserved for orders (%(skus)s): "
                "ship or release those reservations first, or count again."
            )
            % {"skus": ", ".join(s["sku"] for s in short)},
            code="allocated_stock",
            details=short,
        )
    if lines:
        _count_moves_write(actor, count, lines, net, levels, balances)
    transition_apply(
        actor=actor,
        obj=count,
        workflow=COUNT_WORKFLOW,
        action="post",
        transition=transition,
        audit_after={
            "lines": [
                {"sku": line.product.sku, "location": line.location.code, "change": line.variance} for line in lines
            ]
        },
        event="stock.counted",
        payload={
            "number": count.number,
            "warehouse": warehouse.code,
            "lines": [
                {"sku": line.product.sku, "location": line.location.code, "change": line.variance} for line in lines
            ],
        },
    )
    for product_id, change in net.items():
        row = levels.get(product_id)
        if row is None or change == 0:
            continue
        available = row["on_hand"] - row["allocated"]
        _availability_crossed(
            actor,
            product_id=product_id,
            sku=skus[product_id],
            warehouse_code=warehouse.code,
            level_id=row["pk"],
            before=available,
            after=available + change,
            reorder_point=row["reorder_point"],
        )
        _overstock_crossed(
            actor,
            sku=skus[product_id],
            warehouse_code=warehouse.code,
            level_id=row["pk"],
            before=row["on_hand"],
            after=row["on_hand"] + change,
            maximum=row["maximum"],
        )
    found = sorted(p for p, change in net.items() if change > 0)
    if found:
        _arrival_notify(actor, warehouse=warehouse, product_ids=found)
    return count


def _count_moves_write(actor: Actor, count: CycleCount, lines, net, levels, balances) -> None:
    """The writes of a posting: levels, balances (rows created where the books had none) and
    one move per line; a row another writer created meanwhile makes the posting stale."""
    company, warehouse = actor.company, count.warehouse
    level_changes = {levels[p]["pk"]: change for p, change in net.items() if p in levels and change}
    if level_changes:
        StockLevel.objects.filter(pk__in=level_changes).update(on_hand=F("on_hand") + _case(level_changes.items()))
    balance_changes = {
        balances[(line.product_id, line.location_id)][0]: line.variance
        for line in lines
        if (line.product_id, line.location_id) in balances
    }
    if balance_changes:
        StockBalance.objects.filter(pk__in=balance_changes).update(
            on_hand=F("on_hand") + _case(balance_changes.items())
        )
    new_levels = [
        StockLevel(company=company, product_id=p, warehouse=warehouse, on_hand=change)
        for p, change in net.items()
        if p not in levels and change
    ]
    new_balances = [
        StockBalance(company=company, product_id=line.product_id, location_id=line.location_id, on_hand=line.variance)
        for line in lines
        if (line.product_id, line.location_id) not in balances
    ]
    if new_levels or new_balances:
        try:
            with transaction.atomic():
                StockLevel.objects.bulk_create(new_levels)
                StockBalance.objects.bulk_create(new_balances)
        except IntegrityError:
            raise Conflict(_("Stock changed while the count was being posted; try again."), code="count_stale")
    costs = dict(
        StockCost.objects.filter(warehouse=warehouse, product_id__in=list(net)).values_list(
            "product_id", "average_cost"
        )
    )
    loss = _virtual(actor, LocationKind.INVENTORY_LOSS)
    user = actor.user if actor.user_id else None
    StockMove.objects.bulk_create(
        StockMove(
            company=company,
            product_id=line.product_id,
            quantity=abs(line.variance),
            from_location=loss if line.variance > 0 else line.location,
            to_location=line.location if line.variance > 0 else loss,
            unit_cost=costs.get(line.product_id, Decimal("0.0000")),
            reason=MoveReason.COUNT,
            reference=count.number,
            actor=user,
        )
        for line in lines
    )
