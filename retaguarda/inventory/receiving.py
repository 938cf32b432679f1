"""Receipts of many lines at once (a supplier's delivery, an opening inventory): one document,
a fixed number of queries whatever the number of lines."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from retaguarda.catalog.models import Product
from retaguarda.common.errors import ValidationFailed
from retaguarda.core.permissions import Actor, require
from retaguarda.core.services import audit_record, event_emit

from .calculations import moving_average_cost
from .choices import RECEIPT_REASONS, LocationKind, MoveReason
from .models import Location, StockBalance, StockCost, StockLevel, StockMove
from .services import (
    _arrival_notify,
    _availability_crossed,
    _bin_case,
    _case,
    _overstock_crossed,
    _quantity,
    _stock_location,
    _text,
    _unit_cost,
    _virtual,
)


@dataclass(frozen=True)
class ReceiptLine:
    product_id: int
    quantity: object
    unit_cost: object
    location_id: int | None = None


def _ensure(model, company, keys: list[dict]) -> None:
    """Create the rows that do not exist yet (at zero); a concurrent creator wins harmlessly."""
    model.objects.bulk_create([model(company=company, **key) for key in keys], ignore_conflicts=True)


@transaction.atomic
def stock_receive_lines(
    *, actor: Actor, warehouse_id, lines: list[ReceiptLine], reason: str = MoveReason.RECEIPT, reference: str = ""
) -> list[StockMove]:
    """Goods in on many lines: each into the warehouse's stock location or the bin it names, at
    its unit cost, folded into the product's moving average in line order. All lines or none."""
    require(actor, "inventory.change")
    if reason not in RECEIPT_REASONS:
        raise ValidationFailed(_("Check the highlighted fields."), fields={"reason": [_("Choose a valid reason.")]})
    if not lines:
        raise ValidationFailed(_("Check the highlighted fields."), fields={"lines": [_("Add at least one line.")]})
    reference = _text(reference, "reference", 100)
    errors: dict[str, list[str]] = {}
    parsed = []
    for index, line in enumerate(lines):
        try:
            quantity = _quantity(line.quantity, f"lines.{index}.quantity")
            unit_cost = _unit_cost(line.unit_cost)
        except ValidationFailed as exc:
            for field, messages in exc.fields.items():
                name = field if field.startswith("lines.") else f"lines.{index}.{field}"
                errors.setdefault(name, []).extend(messages)
            continue
        parsed.append((index, line, quantity, unit_cost))
    stock = _stock_location(actor, warehouse_id)
    warehouse = stock.warehouse
    products = Product.objects.filter(company=actor.company, pk__in={line.product_id for line in lines})
    products = {p.pk: p for p in products}
    wanted_locations = {line.location_id for line in lines if line.location_id not in (None, "")}
    locations = {stock.pk: stock}
    if wanted_locations:
        found = Location.objects.filter(
            company=actor.company, warehouse=warehouse, is_active=True, pk__in=wanted_locations
        )
        locations.update({loc.pk: loc for loc in found})
    for index, line, *_rest in parsed:
        if line.product_id not in products:
            errors.setdefault(f"lines.{index}.product_id", []).append(_("No such product."))
        if line.location_id not in (None, "") and line.location_id not in locations:
            errors.setdefault(f"lines.{index}.location", []).append(_("Choose a location of this warehouse."))
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    company = actor.company
    product_ids = sorted({line.product_id for line in lines})
    # Lock order: cost rows, then level rows, then location balances (as everywhere in inventory).
    _ensure(StockCost, company, [{"product_id": pid, "warehouse": warehouse} for pid in product_ids])
    costs = {
        c.product_id: c
        for c in StockCost.objects.select_for_update()
        .filter(warehouse=warehouse, product_id__in=product_ids)
        .order_by("pk")
    }
    _ensure(StockLevel, company, [{"product_id": pid, "warehouse": warehouse} for pid in product_ids])
    levels = {
        row["product_id"]: row
        for row in StockLevel.objects.select_for_update()
        .filter(warehouse=warehouse, product_id__in=product_ids)
        .order_by("pk")
        .values("pk", "product_id", "on_hand", "allocated", "reorder_point", "maximum")
    }
    on_hand = {pid: levels[pid]["on_hand"] for pid in product_ids}
    averages_before = {pid: costs[pid].average_cost for pid in product_ids}
    added: dict[int, Decimal] = {}
    per_bin: dict[tuple[int, int], Decimal] = {}
    moves = []
    source = _virtual(actor, LocationKind.SUPPLIER if reason == MoveReason.RECEIPT else LocationKind.INVENTORY_LOSS)
    for _index, line, quantity, unit_cost in parsed:
        pid = line.product_id
        cost = costs[pid]
        cost.average_cost = moving_average_cost(
            on_hand=on_hand[pid], average_cost=cost.average_cost, received=quantity, unit_cost=unit_cost
        )
        on_hand[pid] += quantity
        added[pid] = added.get(pid, Decimal(0)) + quantity
        location_id = line.location_id if line.location_id not in (None, "") else stock.pk
        per_bin[(pid, location_id)] = per_bin.get((pid, location_id), Decimal(0)) + quantity
        moves.append(
            StockMove(
                company=company,
                product_id=pid,
                quantity=quantity,
                from_location=source,
                to_location_id=location_id,
                unit_cost=unit_cost,
                reason=reason,
                reference=reference,
                actor=actor.user if actor.user_id else None,
            )
        )
    StockLevel.objects.filter(pk__in=[levels[pid]["pk"] for pid in added]).update(
        on_hand=F("on_hand") + _case((levels[pid]["pk"], q) for pid, q in added.items())
    )
    _ensure(StockBalance, company, [{"product_id": p, "location_id": loc} for p, loc in per_bin])
    StockBalance.objects.filter(Q(location_id__in={loc for _p, loc in per_bin}) & Q(product_id__in=set(added))).update(
        on_hand=F("on_hand") + _bin_case(per_bin)
    )
    changed = [cost for pid, cost in costs.items() if cost.average_cost != averages_before[pid]]
    if changed:
        StockCost.objects.bulk_update(changed, ["average_cost"])
    moves = StockMove.objects.bulk_create(moves)
    skus = {pid: products[pid].sku for pid in product_ids}
    summary = [
        {"sku": skus[line.product_id], "quantity": quantity, "unit_cost": unit_cost}
        for _i, line, quantity, unit_cost in parsed
    ]
    audit_record(
        actor=actor,
        company=company,
        object_type="inventory.receipt",
        object_id=reference or moves[0].pk,
        action="stock.receive",
        after={"warehouse": warehouse.code, "reason": reason, "reference": reference, "lines": summary},
    )
    event_emit(
        company=company,
        name="stock.received",
        payload={
            "warehouse": warehouse.code,
            "reason": reason,
            "reference": reference,
            "lines": summary,
            "average_costs": {skus[pid]: costs[pid].average_cost for pid in product_ids},
        },
    )
    for pid in product_ids:
        row = levels[pid]
        _availability_crossed(
            actor,
            product_id=pid,
            sku=skus[pid],
            warehouse_code=warehouse.code,
            level_id=row["pk"],
            before=row["on_hand"] - row["allocated"],
            after=on_hand[pid] - row["allocated"],
            reorder_point=row["reorder_point"],
        )
        _overstock_crossed(
            actor,
            sku=skus[pid],
            warehouse_code=warehouse.code,
            level_id=row["pk"],
            before=row["on_hand"],
            after=on_hand[pid],
            maximum=row["maximum"],
        )
    _arrival_notify(actor, warehouse=warehouse, product_ids=product_ids)
    return moves
