"""The writers of inventory: warehouses and locations, receipts, adjustments, transfers and
allocations. Every change of stock is a move, written with its balances in one transaction."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F, Sum, Value
from django.utils.translation import gettext as _

from retaguarda.catalog.models import Product
from retaguarda.common.errors import Conflict, NotFound, ValidationFailed
from retaguarda.common.fields import QuantityField
from retaguarda.core.permissions import Actor, require
from retaguarda.core.services import audit_record, event_emit

from .calculations import QUANTITY_SCALE, UNIT_COST_SCALE, moving_average_cost
from .choices import ADJUSTMENT_REASONS, RECEIPT_REASONS, VIRTUAL_KINDS, LocationKind, MoveReason
from .models import Allocation, Location, StockBalance, StockCost, StockMove, Warehouse

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


# --- balances and costs (the only code that changes them) -----------------------------------------


def _balance_add(company, product: Product, location: Location, quantity: Decimal) -> None:
    rows = StockBalance.objects.filter(product=product, location=location)
    if rows.update(on_hand=F("on_hand") + _q(quantity)):
        return
    try:
        with transaction.atomic():
            StockBalance.objects.create(company=company, product=product, location=location, on_hand=quantity)
    except IntegrityError:
        # Another writer created the row first; now it exists, so add to it.
        rows.update(on_hand=F("on_hand") + _q(quantity))


def _warehouse_available(product: Product, warehouse: Warehouse) -> Decimal:
    total = StockBalance.objects.filter(product=product, location__warehouse=warehouse).aggregate(
        available=Sum(F("on_hand") - F("allocated"), output_field=QuantityField())
    )["available"]
    return total or Decimal("0.000")


def _warehouse_on_hand(product: Product, warehouse: Warehouse) -> Decimal:
    total = StockBalance.objects.filter(product=product, location__warehouse=warehouse).aggregate(
        on_hand=Sum("on_hand")
    )["on_hand"]
    return total or Decimal("0.000")


def _insufficient(product: Product, location: Location, requested: Decimal) -> Conflict:
    available = (
        StockBalance.objects.filter(product=product, location=location).values_list("on_hand", "allocated").first()
    )
    available = (available[0] - available[1]) if available else Decimal("0.000")
    return Conflict(
        _("Not enough stock of %(sku)s: %(requested)s requested, %(available)s available.")
        % {"sku": product.sku, "requested": requested, "available": available},
        code="insufficient_stock",
        fields={"sku": product.sku, "requested": str(requested), "available": str(available)},
    )


def _balance_take(product: Product, location: Location, quantity: Decimal) -> None:
    """Take `quantity` off the unallocated stock at `location`, or refuse: never below allocated."""
    taken = StockBalance.objects.filter(
        product=product, location=location, on_hand__gte=F("allocated") + _q(quantity)
    ).update(on_hand=F("on_hand") - _q(quantity))
    if not taken:
        raise _insufficient(product, location, quantity)


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


def _stock_out_check(actor: Actor, product: Product, warehouse: Warehouse, taken: Decimal) -> None:
    """Emit stock.out when this change brought the warehouse's availability down to zero."""
    available = _warehouse_available(product, warehouse)
    if available == 0 and taken > 0:
        event_emit(
            company=actor.company,
            name="stock.out",
            obj=product,
            payload={"sku": product.sku, "warehouse": warehouse.code, "available": available},
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
) -> StockMove:
    """Goods in: from the supplier (a receipt) or from nowhere (initial stock), at a unit cost
    that updates the product's moving average cost in the warehouse."""
    require(actor, "inventory.change")
    quantity = _quantity(quantity)
    unit_cost = _unit_cost(unit_cost)
    if reason not in RECEIPT_REASONS:
        raise ValidationFailed(_("Check the highlighted fields."), fields={"reason": [_("Choose a valid reason.")]})
    reference = _text(reference, "reference", 100)
    product = _product(actor, product_id)
    stock = _stock_location(actor, warehouse_id)
    source = _virtual(actor, LocationKind.SUPPLIER if reason == MoveReason.RECEIPT else LocationKind.INVENTORY_LOSS)
    before, after = _receive_at_cost(actor.company, product, stock, quantity, unit_cost)
    move = _move(actor, product, quantity, source, stock, reason, unit_cost=unit_cost, reference=reference)
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
        payload={**state, "warehouse": stock.warehouse.code, "average_cost": after},
    )
    return move


@transaction.atomic
def stock_adjust(
    *, actor: Actor, product_id: int, warehouse_id: int, quantity, reason: str, note: str = "", reference: str = ""
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
    stock = _stock_location(actor, warehouse_id)
    loss = _virtual(actor, LocationKind.INVENTORY_LOSS)
    cost = StockCost.objects.filter(product=product, warehouse=stock.warehouse).values_list("average_cost", flat=True)
    unit_cost = cost.first() or Decimal("0.0000")
    if delta > 0:
        _balance_add(actor.company, product, stock, delta)
        source, target = loss, stock
    else:
        _balance_take(product, stock, -delta)
        source, target = stock, loss
    move = _move(
        actor, product, abs(delta), source, target, reason, unit_cost=unit_cost, reference=reference, note=note
    )
    state = {**_move_state(move), "note": note}
    audit_record(actor=actor, company=actor.company, obj=move, action="stock.adjust", after=state)
    event_emit(
        company=actor.company,
        name="stock.adjusted",
        obj=move,
        payload={**state, "warehouse": stock.warehouse.code, "change": delta},
    )
    if delta < 0:
        _stock_out_check(actor, product, stock.warehouse, -delta)
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
    # Both cost rows in warehouse order before any balance row: two opposite transfers, or a
    # transfer and a receipt, wait for each other instead of deadlocking.
    costs = {
        warehouse.pk: _cost_for_update(actor.company, product, warehouse)
        for warehouse in sorted((source.warehouse, target.warehouse), key=lambda w: w.pk)
    }
    unit_cost = costs[source.warehouse.pk].average_cost
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
    _stock_out_check(actor, product, source.warehouse, quantity)
    return out_move, in_move


@transaction.atomic
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
    """Reserve `quantity` of a product in a warehouse for a document line, or refuse.

    One guarded UPDATE (`allocated + q` only where `on_hand - allocated >= q`) decides: no
    read-then-write window, so concurrent allocations never oversell, on either database.
    """
    require(actor, "inventory.change")
    quantity = _quantity(quantity)
    reference_type = _text(reference_type, "reference_type", 50, required=True)
    reference_id = _text(str(reference_id), "reference_id", 64, required=True)
    line_id = _text(str(line_id), "line_id", 64)
    product = _product(actor, product_id)
    stock = _stock_location(actor, warehouse_id)
    reserved = StockBalance.objects.filter(
        product=product, location=stock, on_hand__gte=F("allocated") + _q(quantity)
    ).update(allocated=F("allocated") + _q(quantity))
    if not reserved:
        raise _insufficient(product, stock, quantity)
    allocation = Allocation.objects.create(
        company=actor.company,
        product=product,
        location=stock,
        quantity=quantity,
        reference_type=reference_type,
        reference_id=reference_id,
        line_id=line_id,
    )
    audit_record(
        actor=actor,
        company=actor.company,
        obj=allocation,
        action="stock.allocate",
        after={
            "product": product.sku,
            "location": stock.code,
            "quantity": quantity,
            "reference": f"{reference_type}:{reference_id}/{line_id}",
        },
    )
    _stock_out_check(actor, product, stock.warehouse, quantity)
    return allocation


@transaction.atomic
def stock_release(*, actor: Actor, reference_type: str, reference_id: str, line_id: str | None = None) -> Decimal:
    """Give back every allocation of a document (or of one of its lines); returns the quantity
    released. Releasing what is not allocated releases nothing."""
    require(actor, "inventory.change")
    allocations = Allocation.objects.select_for_update().filter(
        company=actor.company, reference_type=reference_type, reference_id=str(reference_id)
    )
    if line_id is not None:
        allocations = allocations.filter(line_id=str(line_id))
    released = Decimal("0.000")
    for allocation in list(allocations.select_related("product", "location").order_by("pk")):
        StockBalance.objects.filter(product_id=allocation.product_id, location_id=allocation.location_id).update(
            allocated=F("allocated") - _q(allocation.quantity)
        )
        audit_record(
            actor=actor,
            company=actor.company,
            obj=allocation,
            action="stock.release",
            before={
                "product": allocation.product.sku,
                "location": allocation.location.code,
                "quantity": allocation.quantity,
                "reference": f"{reference_type}:{reference_id}/{allocation.line_id}",
            },
        )
        released += allocation.quantity
        allocation.delete()
    return released
