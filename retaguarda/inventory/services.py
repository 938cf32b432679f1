"""The writers of inventory: warehouses and locations, receipts, adjustments, transfers and
allocations. Every change of stock is a move, written with its balances in one transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import reduce
from operator import or_

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Sum, Value, When
from django.utils.translation import gettext as _

from retaguarda.catalog.models import Product
from retaguarda.common.errors import Conflict, NotFound, ValidationFailed
from retaguarda.common.fields import QuantityField
from retaguarda.core.deviations import deviation_clear, deviation_raise
from retaguarda.core.permissions import Actor, require, system_actor
from retaguarda.core.services import audit_record, event_emit

from .calculations import QUANTITY_SCALE, UNIT_COST_SCALE, moving_average_cost
from .choices import ADJUSTMENT_REASONS, RECEIPT_REASONS, VIRTUAL_KINDS, LocationKind, MoveReason
from .deviations import DEVIATION_STOCK_LOW, DEVIATION_STOCK_OUT
from .models import Allocation, Location, StockBalance, StockCost, StockLevel, StockMove, Warehouse

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


# --- input ------------------------------------------------------------------------------------


def _decimal(value, field: str, places: int) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", ".")) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationFailed(_("Check the highlighted fields."), fields={field: [_("Enter a number.")]})
    if not number.is_finite():
        raise ValidationFailed(_("Check the highlighted fields."), fields={field: [_("Enter a number.")]})
    if number != number.quantize(Decimal(1).scaleb(-places), rounding="ROUND_DOWN"):
        message = _("Use at most %(places)s decimal places.") % {"places": places}
        raise ValidationFailed(_("Check the highlighted fields."), fields={field: [message]})
    return number.quantize(Decimal(1).scaleb(-places))


def _quantity(value, field: str = "quantity") -> Decimal:
    number = _decimal(value, field, QUANTITY_SCALE)
    if number <= 0:
        raise ValidationFailed(
            _("Check the highlighted fields."), fields={field: [_("Enter a quantity greater than zero.")]}
        )
    return number


def _unit_cost(value) -> Decimal:
    number = _decimal(value, "unit_cost", UNIT_COST_SCALE)
    if number < 0:
        raise ValidationFailed(
            _("Check the highlighted fields."), fields={"unit_cost": [_("The cost cannot be negative.")]}
        )
    return number


def _text(value, field: str, max_length: int, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(_("Check the highlighted fields."), fields={field: [_("This field is required.")]})
    if len(text) > max_length:
        message = _("Use at most %(count)s characters.") % {"count": max_length}
        raise ValidationFailed(_("Check the highlighted fields."), fields={field: [message]})
    return text


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
    warehouse: Warehouse,
    level_id: int,
    before: Decimal,
    after: Decimal,
    reorder_point: Decimal | None,
) -> None:
    """Tell the staff when availability falls to the reorder point (`stock.low`) or to zero
    (`stock.out`): an outbox event and a deviation; close the deviations it rose above."""
    repr_ = f"{sku} @ {warehouse.code}"
    target = {"object_type": "inventory.stocklevel", "object_id": level_id}
    payload = {"sku": sku, "warehouse": warehouse.code, "available": after, "reorder_point": reorder_point}
    if after <= 0 < before:
        event_emit(company=actor.company, name="stock.out", payload={**payload, "product_id": product_id})
        deviation_raise(company=actor.company, kind=DEVIATION_STOCK_OUT, object_repr=repr_, params=payload, **target)
    elif reorder_point is not None and after <= reorder_point < before:
        event_emit(company=actor.company, name="stock.low", payload={**payload, "product_id": product_id})
        deviation_raise(company=actor.company, kind=DEVIATION_STOCK_LOW, object_repr=repr_, params=payload, **target)
    if before <= 0 < after:
        deviation_clear(company=actor.company, kind=DEVIATION_STOCK_OUT, **target)
    if reorder_point is not None and before <= reorder_point < after:
        deviation_clear(company=actor.company, kind=DEVIATION_STOCK_LOW, **target)


def _level_changed(actor: Actor, product: Product, warehouse: Warehouse, before: StockLevel | None) -> None:
    """After a single-product change: compare availability with `before` (the level read
    before the change) and report the crossings."""
    after = _level(product, warehouse.pk)
    if after is None:
        return
    _availability_crossed(
        actor,
        product_id=product.pk,
        sku=product.sku,
        warehouse=warehouse,
        level_id=after.pk,
        before=before.available if before else Decimal("0.000"),
        after=after.available,
        reorder_point=after.reorder_point,
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
    delta = _decimal(quantity, "quantity", QUANTITY_SCALE)
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


def _levels_locked(warehouse: Warehouse, product_ids) -> dict[int, dict]:
    """The warehouse's level rows of these products, locked in primary-key order (PostgreSQL;
    SQLite holds the database write lock for the whole transaction)."""
    rows = (
        StockLevel.objects.select_for_update()
        .filter(warehouse=warehouse, product_id__in=set(product_ids))
        .order_by("pk")
        .values("pk", "product_id", "on_hand", "allocated", "reorder_point")
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
                warehouse=warehouse,
                level_id=row["pk"],
                before=before,
                after=left[pid],
                reorder_point=row["reorder_point"],
            )
    return allocations


def _allocations_locked(actor: Actor, reference_type: str, reference_id, line_ids=None) -> list[Allocation]:
    rows = Allocation.objects.select_for_update().filter(
        company=actor.company, reference_type=reference_type, reference_id=str(reference_id)
    )
    if line_ids is not None:
        rows = rows.filter(line_id__in=[str(i) for i in line_ids])
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
    keys = list(taken)
    levels = StockLevel.objects.filter(reduce(or_, (Q(product_id=p, warehouse_id=w) for p, w in keys))).values_list(
        "pk", "product_id", "warehouse_id"
    )
    per_level = {pk: taken[(p, w)] for pk, p, w in levels}
    StockLevel.objects.filter(pk__in=per_level).update(allocated=F("allocated") - _case(per_level.items()))
    audit_record(
        actor=actor,
        company=actor.company,
        object_type=reference_type,
        object_id=reference_id,
        action="stock.release",
        before={"lines": [{"line": k, "quantity": v} for k, v in released.items()]},
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
    allocations = _allocations_locked(actor, reference_type, reference_id, list(wanted))
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
    bin_delta = Case(
        *[When(product_id=p, location_id=loc, then=_q(q)) for (p, loc), q in per_bin.items()],
        default=_q(Decimal(0)),
        output_field=QuantityField(),
    )
    updated = StockBalance.objects.filter(guard, location__warehouse=warehouse).update(on_hand=F("on_hand") - bin_delta)
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
