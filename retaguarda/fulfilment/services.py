"""The writers of fulfilment: pick lists and picks, shipments with their parcels, customer
returns. Order lines change only through sales' hooks and stock only through inventory's
services, each in the same transaction as the fulfilment document.

Hot paths (`pick_list_confirm_all`, `shipment_ship`) run a fixed number of queries whatever the
number of lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, F, Sum, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from retaguarda.common.errors import Conflict, NotFound, ValidationFailed
from retaguarda.common.fields import QuantityField, round_money
from retaguarda.common.inputs import decimal_in, invalid, text_in, valid_id
from retaguarda.core.choices import Role
from retaguarda.core.deviations import deviation_raise
from retaguarda.core.models import Membership
from retaguarda.core.permissions import Actor, require
from retaguarda.core.services import audit_record, event_emit, sequence_next
from retaguarda.core.workflow import transition_apply, transition_find
from retaguarda.inventory.models import Location, StockBalance, Warehouse
from retaguarda.inventory.services import ShipmentRequest, stock_return_receive, stock_ship_lines
from retaguarda.ledger.choices import AccountRole, JournalKind
from retaguarda.ledger.services import LineSpec, accounts_by_role, entry_post
from retaguarda.sales.choices import OrderStatus
from retaguarda.sales.models import SalesOrder, SalesOrderLine
from retaguarda.sales.selectors import order_lines_to_pick
from retaguarda.sales.services import sales_order_returned, sales_order_shipped, sales_order_short_pick

from .choices import (
    OPEN_SHIPMENT_STATUSES,
    Disposition,
    PickLineStatus,
    PickListStatus,
    ReturnReason,
    ShipmentStatus,
)
from .deviations import DEVIATION_SHORT_PICK
from .models import CustomerReturn, Parcel, PickList, PickListLine, ReturnLine, Shipment, ShipmentLine
from .selectors import returnable_by_line
from .workflows import PICK_LIST_WORKFLOW, RETURN_WORKFLOW, SHIPMENT_WORKFLOW

ORDER_REFERENCE_TYPE = "sales.order"
ZERO = Decimal("0.000")
QUANTITY_MAX = Decimal("999999999.999")
MEASURE_MAX = Decimal("99999.999")
MAX_ORDERS = 500
MAX_RETURN_LINES = 500


def _stock_actor(actor: Actor) -> Actor:
    """The actor for the inventory and sales calls a fulfilment step makes once it has checked
    `fulfilment.change`. Consuming or releasing an order's reservation is part of picking and
    shipping, but a logistics partner holds no `inventory.allocate` (it may not reserve stock
    for orders): it acts there as the warehouse staff would, still as itself in the audit."""
    if actor.can("inventory.allocate"):
        return actor
    return Actor(user=actor.user, company=actor.company, role=Role.WAREHOUSE)


def _user(actor: Actor):
    return actor.user if actor.user_id else None


def _number(actor: Actor, series: str, prefix: str) -> str:
    year = timezone.localdate().year
    return f"{prefix}{year}-{sequence_next(company=actor.company, series=series, year=year):06d}"


def _not_confirmed(order: SalesOrder) -> Conflict:
    # The same words as sales' own refusal, which the short-pick and shipping hooks raise.
    return Conflict(
        _("Order %(number)s is %(status)s; only confirmed orders are picked and shipped.")
        % {"number": order.number, "status": order.get_status_display()},
        code="order_not_confirmed",
    )


# --- what is already on its way -----------------------------------------------------------------
#
# An order line's reserved quantity is "on a pick list" while an open pick list holds it (pending
# lines for their quantity, picked or short ones for what was picked) and then "on a shipment"
# until that shipment ships or is cancelled. Picking and shipping never move stock between bins,
# so the same quantities still sit in their bins' balances and are claimed there too.


def _pick_claim():
    return Case(
        When(status=PickLineStatus.PENDING, then=F("quantity")),
        default=F("quantity_picked"),
        output_field=QuantityField(),
    )


def _claimed_by_line(line_ids: Iterable[int]) -> dict[int, Decimal]:
    """What open pick lists and unshipped shipments already hold of these order lines."""
    line_ids = list(line_ids)
    claimed: dict[int, Decimal] = {}
    picks = (
        PickListLine.objects.filter(order_line_id__in=line_ids, pick_list__status=PickListStatus.OPEN)
        .exclude(status=PickLineStatus.DROPPED)
        .order_by()
        .values("order_line_id")
        .annotate(total=Sum(_pick_claim()))
    )
    shipped = (
        ShipmentLine.objects.filter(order_line_id__in=line_ids, shipment__status__in=OPEN_SHIPMENT_STATUSES)
        .order_by()
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
    )
    for row in [*picks, *shipped]:
        claimed[row["order_line_id"]] = claimed.get(row["order_line_id"], ZERO) + row["total"]
    return claimed


def _claimed_by_bin(warehouse: Warehouse, product_ids: Iterable[int]) -> dict[tuple[int, int], Decimal]:
    """What open pick lists and unshipped shipments of confirmed orders will take from each
    (product, bin) of the warehouse: not free for a new pick list."""
    product_ids = list(product_ids)
    claimed: dict[tuple[int, int], Decimal] = {}
    picks = (
        PickListLine.objects.filter(
            pick_list__warehouse=warehouse,
            pick_list__status=PickListStatus.OPEN,
            product_id__in=product_ids,
            order__status=OrderStatus.CONFIRMED,
        )
        .exclude(status=PickLineStatus.DROPPED)
        .order_by()
        .values("product_id", "location_id")
        .annotate(total=Sum(_pick_claim()))
    )
    shipped = (
        ShipmentLine.objects.filter(
            shipment__warehouse=warehouse,
            shipment__status__in=OPEN_SHIPMENT_STATUSES,
            shipment__order__status=OrderStatus.CONFIRMED,
            product_id__in=product_ids,
        )
        .order_by()
        .values("product_id", "location_id")
        .annotate(total=Sum("quantity"))
    )
    for row in [*picks, *shipped]:
        key = (row["product_id"], row["location_id"])
        claimed[key] = claimed.get(key, ZERO) + row["total"]
    return claimed


# --- pick lists ---------------------------------------------------------------------------------


def _warehouse_locked(actor: Actor, warehouse_id, warehouse_code: str = "") -> Warehouse:
    # The warehouse row serializes pick-list creation per warehouse (PostgreSQL; SQLite holds
    # the database write lock): two pick lists never take the same reserved quantity.
    rows = Warehouse.objects.select_for_update().filter(company=actor.company, is_active=True)
    if warehouse_id not in (None, ""):
        warehouse = rows.filter(pk=valid_id(warehouse_id) or 0).first()
    elif warehouse_code:
        warehouse = rows.filter(code=str(warehouse_code)[:32]).first()
    else:
        raise invalid("warehouse", _("Choose the warehouse."))
    if warehouse is None:
        raise NotFound(_("No such warehouse."), fields={"warehouse": [_("No such warehouse.")]})
    return warehouse


def _orders_chosen(actor: Actor, order_ids, order_numbers) -> list[int] | None:
    """The ids of the orders named by id or number, or None for every ready order."""
    if order_ids is None and order_numbers is None:
        return None
    ids: list[int] = []
    if order_ids is not None:
        if not isinstance(order_ids, list | tuple) or len(order_ids) > MAX_ORDERS:
            raise invalid("order_ids", _("Give at most %(count)d orders.") % {"count": MAX_ORDERS})
        for value in order_ids:
            pk = valid_id(value)
            if pk is None:
                raise invalid("order_ids", _("No such order."))
            ids.append(pk)
        found = set(SalesOrder.objects.filter(company=actor.company, pk__in=ids).values_list("pk", flat=True))
        if set(ids) - found:
            raise invalid("order_ids", _("No such order."))
    if order_numbers is not None:
        if isinstance(order_numbers, str):
            order_numbers = order_numbers.replace(",", " ").split()
        numbers = [str(n).strip() for n in order_numbers if str(n).strip()]
        if len(numbers) > MAX_ORDERS:
            raise invalid("orders", _("Give at most %(count)d orders.") % {"count": MAX_ORDERS})
        rows = dict(SalesOrder.objects.filter(company=actor.company, number__in=numbers).values_list("number", "pk"))
        unknown = [n for n in numbers if n not in rows]
        if unknown:
            raise invalid("orders", _("No such order: %(numbers)s.") % {"numbers": ", ".join(unknown[:10])})
        ids.extend(rows[n] for n in numbers)
    if not ids:
        raise invalid("orders", _("Choose at least one order."))
    return list(dict.fromkeys(ids))


def _assignee(actor: Actor, user_id):
    if user_id in (None, ""):
        return None
    membership = (
        Membership.objects.select_related("user")
        .filter(company=actor.company, user_id=valid_id(user_id) or 0, is_active=True, user__is_active=True)
        .first()
    )
    if membership is None:
        raise invalid("assigned_to", _("Choose a member of the company."))
    return membership.user


def _bins_plan(warehouse: Warehouse, needs: list[tuple[SalesOrderLine, Decimal]]) -> list[tuple]:
    """Split each (order line, quantity) over the warehouse's bins holding its product, greedily
    by bin code: [(order line, location, quantity), …]. What the bins cannot cover (they should:
    reserved stock is on hand) goes to the warehouse's stock location, where a short pick will
    find it missing."""
    product_ids = {line.product_id for line, _q in needs}
    claimed = _claimed_by_bin(warehouse, product_ids)
    balances = (
        StockBalance.objects.select_related("location")
        .filter(location__warehouse=warehouse, location__is_active=True, product_id__in=product_ids, on_hand__gt=0)
        .order_by("location__code", "pk")
    )
    free: dict[int, list[list]] = {}
    for balance in balances:
        left = balance.on_hand - claimed.get((balance.product_id, balance.location_id), ZERO)
        if left > 0:
            free.setdefault(balance.product_id, []).append([balance.location, left])
    root = None
    plan = []
    for line, need in needs:
        for slot in free.get(line.product_id, []):
            if need <= 0:
                break
            take = min(need, slot[1])
            if take <= 0:
                continue
            slot[1] -= take
            need -= take
            plan.append((line, slot[0], take))
        if need > 0:
            root = root or Location.objects.get(warehouse=warehouse, parent__isnull=True)
            plan.append((line, root, need))
    return plan


@transaction.atomic
def pick_list_create(
    *,
    actor: Actor,
    warehouse_id=None,
    warehouse_code: str = "",
    order_ids=None,
    order_numbers=None,
    assigned_to_id=None,
) -> PickList:
    """A pick list "PL<year>-<n>" of a warehouse (by id or code): of its confirmed orders (all
    that are ready, or those named by id or number), every reserved quantity not yet shipped nor
    already on an open pick list or shipment, with a suggested bin per line (split over bins
    where one is not enough), sorted by bin code then SKU. 409 `nothing_to_pick` when there is
    nothing."""
    require(actor, "fulfilment.change")
    warehouse = _warehouse_locked(actor, warehouse_id, warehouse_code)
    chosen = _orders_chosen(actor, order_ids, order_numbers)
    assignee = _assignee(actor, assigned_to_id)
    lines = list(order_lines_to_pick(actor, warehouse_id=warehouse.pk, order_ids=chosen))
    claimed = _claimed_by_line(line.pk for line in lines)
    needs = [(line, line.quantity_allocated - claimed.get(line.pk, ZERO)) for line in lines]
    needs = [(line, need) for line, need in needs if need > 0]
    if not needs:
        raise Conflict(
            _(
                "Nothing to pick in %(warehouse)s: no confirmed order has reserved stock that is not "
                "already on a pick list or shipment."
            )
            % {"warehouse": warehouse.code},
            code="nothing_to_pick",
        )
    rank = {line.pk: index for index, (line, _need) in enumerate(needs)}
    plan = sorted(
        _bins_plan(warehouse, needs),
        key=lambda row: (row[1].code, row[0].product.sku, rank[row[0].pk]),
    )
    pick_list = PickList.objects.create(
        company=actor.company,
        number=_number(actor, "pick_list", "PL"),
        warehouse=warehouse,
        assigned_to=assignee,
        created_by=_user(actor),
    )
    PickListLine.objects.bulk_create(
        [
            PickListLine(
                company=actor.company,
                pick_list=pick_list,
                order=line.order,
                order_line=line,
                product=line.product,
                location=location,
                sort_key=position,
                quantity=quantity,
            )
            for position, (line, location, quantity) in enumerate(plan, start=1)
        ]
    )
    audit_record(
        actor=actor,
        company=actor.company,
        obj=pick_list,
        action="picklist.create",
        after={
            "warehouse": warehouse.code,
            "orders": sorted({line.order.number for line, _loc, _q in plan}),
            "lines": [
                {"order": line.order.number, "sku": line.product.sku, "location": location.code, "quantity": q}
                for line, location, q in plan
            ],
        },
    )
    return pick_list


def _pick_list_locked(actor: Actor, *, pick_list_id=None, line_id=None) -> PickList:
    rows = PickList.objects.select_for_update(of=("self",)).select_related("warehouse").filter(company=actor.company)
    if line_id is not None:
        rows = rows.filter(lines__pk=valid_id(line_id) or 0)
    else:
        rows = rows.filter(pk=valid_id(pick_list_id) or 0)
    pick_list = rows.first()
    if pick_list is None:
        raise NotFound(_("No such pick list line.") if line_id is not None else _("No such pick list."))
    return pick_list


def _pick_list_open(pick_list: PickList) -> None:
    if pick_list.status != PickListStatus.OPEN:
        raise Conflict(
            _("Pick list %(number)s is %(status)s; nothing more can be picked on it.")
            % {"number": pick_list.number, "status": pick_list.get_status_display()},
            code="invalid_transition",
        )


def _code_matches(code: str, product) -> bool:
    if code.casefold() == product.sku.casefold():
        return True
    return bool(product.barcode) and code == product.barcode


@transaction.atomic
def pick_line_confirm(*, actor: Actor, line_id, code, quantity=None) -> PickListLine:
    """The picker scanned `code` (barcode or SKU) at the line's bin and took `quantity` (the
    line's quantity when None). Less than asked is a short pick: the missing part is written off
    at the bin and the order line reserved again from elsewhere or back-ordered (sales'
    `sales_order_short_pick`), and a `fulfilment.short_pick` deviation is raised."""
    require(actor, "fulfilment.change")
    pick_list = _pick_list_locked(actor, line_id=line_id)
    line = (
        PickListLine.objects.select_for_update(of=("self",))
        .select_related("product", "location", "order", "order_line")
        .get(pk=valid_id(line_id))
    )
    _pick_list_open(pick_list)
    if line.status != PickLineStatus.PENDING:
        raise Conflict(
            _("This line is already %(status)s.") % {"status": line.get_status_display()}, code="already_picked"
        )
    if line.order.status != OrderStatus.CONFIRMED:
        raise _not_confirmed(line.order)
    scanned = text_in(code, "code", 200)
    if not scanned:
        raise invalid("code", _("Scan the barcode or type the SKU."))
    if not _code_matches(scanned, line.product):
        raise ValidationFailed(
            _("You scanned %(code)s, but this line is %(sku)s.") % {"code": scanned[:64], "sku": line.product.sku},
            fields={
                "code": [
                    _("You scanned %(code)s, but this line is %(sku)s.")
                    % {"code": scanned[:64], "sku": line.product.sku}
                ]
            },
        )
    if quantity is None or quantity == "":
        picked = line.quantity
    else:
        picked = decimal_in(quantity, "quantity", places=3, minimum=ZERO, maximum=line.quantity)
    missing = line.quantity - picked
    line.quantity_picked = picked
    line.status = PickLineStatus.PICKED if missing == 0 else PickLineStatus.SHORT
    line.picked_at = timezone.now()
    line.picked_by = _user(actor)
    line.save(update_fields=["quantity_picked", "status", "picked_at", "picked_by"])
    if missing > 0:
        sales_order_short_pick(
            actor=_stock_actor(actor),
            order_id=line.order_id,
            line_id=line.order_line_id,
            missing=missing,
            location_id=line.location_id,
            reference=pick_list.number,
        )
        deviation_raise(
            company=actor.company,
            kind=DEVIATION_SHORT_PICK,
            obj=line,
            object_repr=f"{pick_list.number} · {line.product.sku} @ {line.location.code}",
            params={
                "sku": line.product.sku,
                "location": line.location.code,
                "missing": missing,
                "pick_list": pick_list.number,
                "order": line.order.number,
            },
        )
    audit_record(
        actor=actor,
        company=actor.company,
        obj=pick_list,
        action="picklist.short_pick" if missing > 0 else "picklist.pick",
        after={
            "line": line.pk,
            "order": line.order.number,
            "sku": line.product.sku,
            "location": line.location.code,
            "quantity": line.quantity,
            "picked": picked,
            **({"missing": missing} if missing > 0 else {}),
        },
    )
    return line


@transaction.atomic
def pick_list_confirm_all(*, actor: Actor, pick_list_id) -> PickList:
    """Every pending line picked in full (a desk without a scanner). Lines of orders cancelled
    or closed meanwhile cannot be picked: they stay pending and completion drops them. Four
    queries whatever the number of lines."""
    require(actor, "fulfilment.change")
    pick_list = _pick_list_locked(actor, pick_list_id=pick_list_id)
    _pick_list_open(pick_list)
    pending = list(
        PickListLine.objects.filter(
            pick_list=pick_list, status=PickLineStatus.PENDING, order__status=OrderStatus.CONFIRMED
        ).values_list("pk", flat=True)
    )
    if not pending:
        raise Conflict(_("No line of this pick list is left to pick."), code="nothing_to_pick")
    PickListLine.objects.filter(pk__in=pending).update(
        status=PickLineStatus.PICKED, quantity_picked=F("quantity"), picked_at=timezone.now(), picked_by=_user(actor)
    )
    audit_record(
        actor=actor,
        company=actor.company,
        obj=pick_list,
        action="picklist.pick_all",
        after={"lines": len(pending)},
    )
    return pick_list


@transaction.atomic
def pick_list_complete(*, actor: Actor, pick_list_id) -> PickList:
    """Close a pick list with no line left to pick: one draft shipment per order with the picked
    quantities by line and bin. Pending lines of orders cancelled or closed meanwhile are dropped
    (their goods stay on the shelf); picked goods of such orders go back to their bins."""
    require(actor, "fulfilment.change")
    pick_list = _pick_list_locked(actor, pick_list_id=pick_list_id)
    transition = transition_find(actor=actor, obj=pick_list, workflow=PICK_LIST_WORKFLOW, action="complete")
    lines = list(
        PickListLine.objects.select_related("order", "product", "location")
        .filter(pick_list=pick_list)
        .order_by("sort_key")
    )
    live = [line for line in lines if line.order.status == OrderStatus.CONFIRMED]
    pending = [line for line in live if line.status == PickLineStatus.PENDING]
    if pending:
        raise Conflict(
            ngettext(
                "%(count)d line is still to pick (next: %(sku)s at %(location)s).",
                "%(count)d lines are still to pick (next: %(sku)s at %(location)s).",
                len(pending),
            )
            % {"count": len(pending), "sku": pending[0].product.sku, "location": pending[0].location.code},
            code="lines_pending",
        )
    dropped = [line.pk for line in lines if line.status == PickLineStatus.PENDING]
    if dropped:
        PickListLine.objects.filter(pk__in=dropped).update(status=PickLineStatus.DROPPED)
    by_order: dict[int, dict[tuple[int, int], Decimal]] = {}
    orders = {}
    products = {}
    for line in live:
        if line.quantity_picked > 0:
            orders[line.order_id] = line.order
            products[line.order_line_id] = line.product_id
            per_bin = by_order.setdefault(line.order_id, {})
            key = (line.order_line_id, line.location_id)
            per_bin[key] = per_bin.get(key, ZERO) + line.quantity_picked
    shipments = []
    for order_id, per_bin in by_order.items():
        shipment = Shipment.objects.create(
            company=actor.company,
            number=_number(actor, "shipment", "SH"),
            order=orders[order_id],
            warehouse=pick_list.warehouse,
            pick_list=pick_list,
            created_by=_user(actor),
        )
        ShipmentLine.objects.bulk_create(
            [
                ShipmentLine(
                    shipment=shipment,
                    order_line_id=order_line_id,
                    product_id=products[order_line_id],
                    location_id=location_id,
                    quantity=quantity,
                )
                for (order_line_id, location_id), quantity in per_bin.items()
            ]
        )
        audit_record(
            actor=actor,
            company=actor.company,
            obj=shipment,
            action="shipment.create",
            after={"order": orders[order_id].number, "pick_list": pick_list.number, "lines": len(per_bin)},
        )
        shipments.append(shipment)
    transition_apply(
        actor=actor,
        obj=pick_list,
        workflow=PICK_LIST_WORKFLOW,
        action="complete",
        transition=transition,
        audit_after={"shipments": [s.number for s in shipments], "dropped": len(dropped)},
    )
    pick_list.created_shipments = shipments
    return pick_list


@transaction.atomic
def pick_list_cancel(*, actor: Actor, pick_list_id) -> PickList:
    """Give up an open pick list: what it held can go on another one (picked goods go back to
    their bins; short picks already written off stay so)."""
    require(actor, "fulfilment.change")
    pick_list = _pick_list_locked(actor, pick_list_id=pick_list_id)
    transition_apply(actor=actor, obj=pick_list, workflow=PICK_LIST_WORKFLOW, action="cancel")
    return pick_list


# --- shipments ------------------------------------------------------------------------------------


def _shipment_locked(actor: Actor, shipment_id) -> Shipment:
    shipment = (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("order", "warehouse")
        .filter(company=actor.company, pk=valid_id(shipment_id) or 0)
        .first()
    )
    if shipment is None:
        raise NotFound(_("No such shipment."))
    return shipment


def _shipment_draft(shipment: Shipment) -> None:
    if shipment.status != ShipmentStatus.DRAFT:
        raise Conflict(
            _("Parcels change only while the shipment is a draft; it is %(status)s.")
            % {"status": shipment.get_status_display()},
            code="invalid_transition",
        )


def _parcel_state(parcel: Parcel) -> dict:
    return {"weight": parcel.weight, "length": parcel.length, "width": parcel.width, "height": parcel.height}


@transaction.atomic
def parcel_add(*, actor: Actor, shipment_id, weight, length=0, width=0, height=0) -> Parcel:
    """A box of a draft shipment: weight in kg (above zero), dimensions in cm (zero or more),
    three decimals at most."""
    require(actor, "fulfilment.change")
    shipment = _shipment_locked(actor, shipment_id)
    _shipment_draft(shipment)
    fields: dict[str, list[str]] = {}
    values = {}
    measures = (("weight", weight, True), ("length", length, False), ("width", width, False), ("height", height, False))
    for name, value, strict in measures:
        try:
            values[name] = decimal_in(value, name, places=3, minimum=ZERO, maximum=MEASURE_MAX, strict_min=strict)
        except ValidationFailed as exc:
            fields.update(exc.fields)
    if fields:
        raise ValidationFailed(_("Check the highlighted fields."), fields=fields)
    parcel = Parcel.objects.create(shipment=shipment, **values)
    audit_record(
        actor=actor, company=actor.company, obj=shipment, action="shipment.parcel_add", after=_parcel_state(parcel)
    )
    return parcel


@transaction.atomic
def parcel_remove(*, actor: Actor, shipment_id, parcel_id) -> Shipment:
    require(actor, "fulfilment.change")
    shipment = _shipment_locked(actor, shipment_id)
    parcel = Parcel.objects.filter(shipment=shipment, pk=valid_id(parcel_id) or 0).first()
    if parcel is None:
        raise NotFound(_("No such parcel."))
    _shipment_draft(shipment)
    state = _parcel_state(parcel)
    parcel.delete()
    audit_record(actor=actor, company=actor.company, obj=shipment, action="shipment.parcel_remove", before=state)
    return shipment


@transaction.atomic
def shipment_pack(*, actor: Actor, shipment_id) -> Shipment:
    """The goods are boxed: at least one parcel."""
    require(actor, "fulfilment.change")
    shipment = _shipment_locked(actor, shipment_id)
    transition = transition_find(actor=actor, obj=shipment, workflow=SHIPMENT_WORKFLOW, action="pack")
    parcels = Parcel.objects.filter(shipment=shipment).count()
    if not parcels:
        raise Conflict(
            _("Add at least one parcel before packing."), code="no_parcels", fields={"parcels": [_("Add a parcel.")]}
        )
    transition_apply(
        actor=actor,
        obj=shipment,
        workflow=SHIPMENT_WORKFLOW,
        action="pack",
        transition=transition,
        audit_after={"parcels": parcels},
    )
    return shipment


@transaction.atomic
def shipment_reopen(*, actor: Actor, shipment_id) -> Shipment:
    """Back to draft from packed, to change its parcels."""
    require(actor, "fulfilment.change")
    shipment = _shipment_locked(actor, shipment_id)
    transition_apply(actor=actor, obj=shipment, workflow=SHIPMENT_WORKFLOW, action="reopen")
    return shipment


@transaction.atomic
def shipment_cancel(*, actor: Actor, shipment_id) -> Shipment:
    """The shipment will not leave: its goods go back to their bins and can be picked again."""
    require(actor, "fulfilment.change")
    shipment = _shipment_locked(actor, shipment_id)
    transition_apply(actor=actor, obj=shipment, workflow=SHIPMENT_WORKFLOW, action="cancel")
    return shipment


@transaction.atomic
def shipment_ship(*, actor: Actor, shipment_id, carrier, tracking_number="") -> Shipment:
    """A packed shipment leaves with `carrier`: the stock leaves each line's bin for the customer
    (inventory's `stock_ship_lines`, consuming the reservations), the order lines' reserved
    quantities become shipped ones (sales' `sales_order_shipped`, which emits `order.shipped`),
    and `shipment.shipped` is emitted. A fixed number of queries whatever the number of lines."""
    require(actor, "fulfilment.change")
    shipment = _shipment_locked(actor, shipment_id)
    transition = transition_find(actor=actor, obj=shipment, workflow=SHIPMENT_WORKFLOW, action="ship")
    fields: dict[str, list[str]] = {}
    try:
        carrier = text_in(carrier, "carrier", 100, required=True)
    except ValidationFailed as exc:
        fields.update(exc.fields)
    try:
        tracking_number = text_in(tracking_number, "tracking_number", 100)
    except ValidationFailed as exc:
        fields.update(exc.fields)
    if fields:
        raise ValidationFailed(_("Check the highlighted fields."), fields=fields)
    if shipment.order.status != OrderStatus.CONFIRMED:
        raise _not_confirmed(shipment.order)
    lines = list(ShipmentLine.objects.select_related("product").filter(shipment=shipment).order_by("pk"))
    stock_actor = _stock_actor(actor)
    moves = stock_ship_lines(
        actor=stock_actor,
        warehouse=shipment.warehouse,
        reference_type=ORDER_REFERENCE_TYPE,
        reference_id=shipment.order_id,
        reference=shipment.number,
        lines=[
            ShipmentRequest(
                product_id=line.product_id,
                sku=line.product.sku,
                quantity=line.quantity,
                line_id=str(line.order_line_id),
                location_id=line.location_id,
            )
            for line in lines
        ],
    )
    _cost_of_goods_post(actor, shipment, moves)
    quantities: dict[int, Decimal] = {}
    for line in lines:
        quantities[line.order_line_id] = quantities.get(line.order_line_id, ZERO) + line.quantity
    sales_order_shipped(
        actor=stock_actor, order_id=shipment.order_id, quantities=quantities, shipment_ref=shipment.number
    )
    shipment.carrier = carrier
    shipment.tracking_number = tracking_number
    transition_apply(
        actor=actor,
        obj=shipment,
        workflow=SHIPMENT_WORKFLOW,
        action="ship",
        transition=transition,
        update_fields=("carrier", "tracking_number"),
        audit_after={"carrier": carrier, "tracking_number": tracking_number},
        event="shipment.shipped",
        payload={
            "id": shipment.pk,
            "number": shipment.number,
            "order_id": shipment.order_id,
            "order": shipment.order.number,
            "warehouse": shipment.warehouse.code,
            "carrier": carrier,
            "tracking_number": tracking_number,
            "lines": [
                {"order_line_id": line.order_line_id, "sku": line.product.sku, "quantity": line.quantity}
                for line in lines
            ],
        },
    )
    return shipment


def _cost_of_goods_post(actor: Actor, shipment: Shipment, moves) -> None:
    """The books follow the goods: cost of goods sold debited and inventory credited at the
    average cost the moves left at, rounded to the cent once for the shipment."""
    cost = round_money(sum((move.quantity * move.unit_cost for move in moves), ZERO))
    if cost <= 0:
        return
    roles = accounts_by_role(actor.company.pk)
    entry_post(
        actor=actor,
        company=actor.company,
        journal_kind=JournalKind.STOCK,
        date=timezone.localdate(),
        lines=[
            LineSpec(account_id=roles[AccountRole.COST_OF_GOODS].pk, debit=cost, reference=shipment.number),
            LineSpec(account_id=roles[AccountRole.INVENTORY].pk, credit=cost, reference=shipment.number),
        ],
        reference=shipment.number,
        description=shipment.order.number,
        source_type="fulfilment.shipment",
        source_id=str(shipment.pk),
    )


def _returned_goods_post(actor: Actor, customer_return, values: dict) -> None:
    """Goods back from a customer take their cost out of cost of goods sold: into inventory when
    restocked, into inventory losses when scrapped."""
    restocked, scrapped = round_money(values[Disposition.RESTOCK]), round_money(values[Disposition.SCRAP])
    if restocked + scrapped <= 0:
        return
    roles = accounts_by_role(actor.company.pk)
    lines = [LineSpec(account_id=roles[AccountRole.COST_OF_GOODS].pk, credit=restocked + scrapped)]
    if restocked:
        lines.append(LineSpec(account_id=roles[AccountRole.INVENTORY].pk, debit=restocked))
    if scrapped:
        lines.append(LineSpec(account_id=roles[AccountRole.INVENTORY_LOSS].pk, debit=scrapped))
    entry_post(
        actor=actor,
        company=actor.company,
        journal_kind=JournalKind.STOCK,
        date=timezone.localdate(),
        lines=lines,
        reference=customer_return.number,
        description=customer_return.order.number,
        source_type="fulfilment.return",
        source_id=str(customer_return.pk),
    )


# --- returns --------------------------------------------------------------------------------------


@transaction.atomic
def return_register(*, actor: Actor, order_id, lines, reason, note: str = "") -> CustomerReturn:
    """Announce goods coming back: `lines` as [{"line_id": order line id, "quantity": q}], each
    within what was shipped and has not come back or been announced yet."""
    require(actor, "fulfilment.change")
    order = (
        SalesOrder.objects.select_for_update(of=("self",))
        .select_related("customer", "warehouse")
        .filter(company=actor.company, pk=valid_id(order_id) or 0)
        .first()
    )
    if order is None:
        raise NotFound(_("No such order."), fields={"order_id": [_("No such order.")]})
    fields: dict[str, list[str]] = {}

    def add(field, message):
        fields.setdefault(field, []).append(str(message))

    if reason not in ReturnReason.values:
        add("reason", _("Choose a reason."))
    try:
        note = text_in(note, "note", 2000, multiline=True)
    except ValidationFailed as exc:
        fields.update(exc.fields)
    order_lines = {line.pk: line for line in SalesOrderLine.objects.select_related("product").filter(order=order)}
    returnable = returnable_by_line(list(order_lines.values()))
    wanted: dict[int, Decimal] = {}
    if not isinstance(lines, list | tuple) or not lines:
        add("lines", _("Add at least one line."))
        lines = []
    elif len(lines) > MAX_RETURN_LINES:
        add("lines", _("A return has at most %(count)d lines.") % {"count": MAX_RETURN_LINES})
        lines = []
    for index, row in enumerate(lines):
        prefix = f"lines.{index}."
        if not isinstance(row, Mapping):
            add(f"lines.{index}", _("Each line needs a line_id and a quantity."))
            continue
        line = order_lines.get(valid_id(row.get("line_id")) or 0)
        if line is None:
            add(prefix + "line_id", _("No such line on this order."))
            continue
        if line.pk in wanted:
            add(prefix + "line_id", _("This line is listed twice."))
            continue
        try:
            quantity = decimal_in(
                row.get("quantity"), prefix + "quantity", places=3, minimum=ZERO, maximum=QUANTITY_MAX
            )
        except ValidationFailed as exc:
            fields.update(exc.fields)
            continue
        if quantity <= 0:
            add(prefix + "quantity", _("Enter a quantity greater than zero."))
            continue
        if quantity > returnable[line.pk]:
            add(
                prefix + "quantity",
                _("At most %(quantity)s of %(sku)s can come back (shipped, not yet returned).")
                % {"quantity": max(returnable[line.pk], ZERO), "sku": line.product.sku},
            )
            continue
        wanted[line.pk] = quantity
    if fields:
        raise ValidationFailed(_("Check the highlighted fields."), fields=fields)
    customer_return = CustomerReturn.objects.create(
        company=actor.company,
        number=_number(actor, "customer_return", "RT"),
        order=order,
        reason=reason,
        note=note,
        created_by=_user(actor),
    )
    ReturnLine.objects.bulk_create(
        [
            ReturnLine(
                customer_return=customer_return,
                order_line_id=line_id,
                product_id=order_lines[line_id].product_id,
                quantity=quantity,
            )
            for line_id, quantity in wanted.items()
        ]
    )
    state = {
        "order": order.number,
        "reason": reason,
        "lines": [{"sku": order_lines[k].product.sku, "quantity": v} for k, v in wanted.items()],
    }
    audit_record(actor=actor, company=actor.company, obj=customer_return, action="customerreturn.register", after=state)
    event_emit(
        company=actor.company,
        name="return.registered",
        obj=customer_return,
        payload={"id": customer_return.pk, "number": customer_return.number, "order_id": order.pk, **state},
    )
    return customer_return


def _return_locked(actor: Actor, return_id) -> CustomerReturn:
    customer_return = (
        CustomerReturn.objects.select_for_update(of=("self",))
        .select_related("order", "order__warehouse")
        .filter(company=actor.company, pk=valid_id(return_id) or 0)
        .first()
    )
    if customer_return is None:
        raise NotFound(_("No such return."))
    return customer_return


@transaction.atomic
def return_receive(*, actor: Actor, return_id, dispositions: Mapping, location_id=None) -> CustomerReturn:
    """The goods arrived: each line (keyed by its order line id) back to stock (into
    `location_id`, default the warehouse's stock location) or to scrap, then the order lines'
    returned quantities follow (sales' `sales_order_returned`)."""
    require(actor, "fulfilment.change")
    customer_return = _return_locked(actor, return_id)
    transition = transition_find(actor=actor, obj=customer_return, workflow=RETURN_WORKFLOW, action="receive")
    lines = list(ReturnLine.objects.select_related("product").filter(customer_return=customer_return))
    if not isinstance(dispositions, Mapping):
        raise invalid("dispositions", _("Choose back to stock or scrap for each line."))
    given = {}
    for key, value in dispositions.items():
        line_id = valid_id(key)
        if line_id is None:
            raise invalid(f"dispositions.{key}"[:64], _("No such line on this return."))
        given[line_id] = value
    fields: dict[str, list[str]] = {}
    known = {line.order_line_id for line in lines}
    for line_id in given:
        if line_id not in known:
            fields.setdefault(f"dispositions.{line_id}", []).append(_("No such line on this return."))
    for line in lines:
        if given.get(line.order_line_id) not in Disposition.values:
            fields.setdefault(f"dispositions.{line.order_line_id}", []).append(
                _("Choose back to stock or scrap for %(sku)s.") % {"sku": line.product.sku}
            )
    if fields:
        raise ValidationFailed(_("Check the highlighted fields."), fields=fields)
    location = None
    if location_id not in (None, ""):
        location = Location.objects.filter(
            company=actor.company,
            warehouse_id=customer_return.order.warehouse_id,
            pk=valid_id(location_id) or 0,
            is_active=True,
        ).first()
        if location is None:
            raise invalid("location_id", _("Choose a location of this warehouse."))
    stock_actor = _stock_actor(actor)
    quantities: dict[int, Decimal] = {}
    values = {Disposition.RESTOCK: ZERO, Disposition.SCRAP: ZERO}
    for line in lines:
        line.disposition = given[line.order_line_id]
        move = stock_return_receive(
            actor=stock_actor,
            product_id=line.product_id,
            warehouse_id=customer_return.order.warehouse_id,
            quantity=line.quantity,
            restock=line.disposition == Disposition.RESTOCK,
            reference=customer_return.number,
            location_id=location.pk if location else None,
        )
        values[line.disposition] += move.quantity * move.unit_cost
        quantities[line.order_line_id] = line.quantity
    _returned_goods_post(actor, customer_return, values)
    ReturnLine.objects.bulk_update(lines, ["disposition"])
    sales_order_returned(
        actor=stock_actor,
        order_id=customer_return.order_id,
        quantities=quantities,
        return_ref=customer_return.number,
    )
    customer_return.location = location
    summary = [{"sku": line.product.sku, "quantity": line.quantity, "disposition": line.disposition} for line in lines]
    transition_apply(
        actor=actor,
        obj=customer_return,
        workflow=RETURN_WORKFLOW,
        action="receive",
        transition=transition,
        update_fields=("location",),
        audit_after={"lines": summary, "location": location.code if location else ""},
        event="return.received",
        payload={
            "id": customer_return.pk,
            "number": customer_return.number,
            "order_id": customer_return.order_id,
            "order": customer_return.order.number,
            "lines": summary,
        },
    )
    return customer_return


@transaction.atomic
def return_cancel(*, actor: Actor, return_id) -> CustomerReturn:
    """The goods will not come back after all."""
    require(actor, "fulfilment.change")
    customer_return = _return_locked(actor, return_id)
    transition_apply(actor=actor, obj=customer_return, workflow=RETURN_WORKFLOW, action="cancel")
    return customer_return


__all__ = [
    "parcel_add",
    "parcel_remove",
    "pick_line_confirm",
    "pick_list_cancel",
    "pick_list_complete",
    "pick_list_confirm_all",
    "pick_list_create",
    "return_cancel",
    "return_receive",
    "return_register",
    "shipment_cancel",
    "shipment_pack",
    "shipment_reopen",
    "shipment_ship",
]
