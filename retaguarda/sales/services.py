"""The writers of sales orders: create (from the storefront or a phone call), confirm with an
all-or-nothing reservation, edit, cancel, close; and the hooks fulfilment calls when goods
leave or turn out to be missing.

Hot paths (create + confirm, shipment) run a fixed number of queries whatever the number of
lines: one query per kind of row, never one per line.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from retaguarda.catalog.models import Product
from retaguarda.common.errors import Conflict, NotFound, ValidationFailed
from retaguarda.common.inputs import date_in, decimal_in, text_in, valid_id
from retaguarda.common.taxids import TaxIdInvalid, tax_id_validate
from retaguarda.core.choices import Country, Currency
from retaguarda.core.permissions import Actor, require, system_actor
from retaguarda.core.services import audit_record, event_emit, sequence_next
from retaguarda.core.workflow import transition_apply, transition_find
from retaguarda.inventory.models import Warehouse
from retaguarda.inventory.services import (
    AllocationRequest,
    stock_adjust,
    stock_allocate_lines,
    stock_release_lines,
)
from retaguarda.parties.choices import PartyKind
from retaguarda.parties.models import Party
from retaguarda.parties.services import FieldErrors, party_create

from .calculations import ZERO, billing_status, fulfilment_status, is_backordered, line_amount
from .choices import BillingStatus, Channel, FulfilmentStatus, OrderStatus
from .models import UNIT_PRICE_SCALE, SalesOrder, SalesOrderLine
from .workflows import ORDER_WORKFLOW

REFERENCE_TYPE = "sales.order"
MAX_LINES = 500
QUANTITY_MAX = Decimal("999999999.999")
PRICE_MAX = Decimal("99999999999.9999")
SHIP_TO_FIELDS = ("name", "street", "number", "complement", "district", "city", "state", "postal_code", "country")
SHIP_TO_LENGTHS = {
    "name": 200,
    "street": 200,
    "number": 20,
    "complement": 100,
    "district": 100,
    "city": 100,
    "state": 100,
    "postal_code": 16,
    "country": 2,
}

# Why a customer may not get new orders. Billing adds credit-limit and dunning rules here;
# each rule takes (actor, party) and returns a reason or "".
CUSTOMER_BLOCK_RULES: list = [lambda actor, party: party.blocked_reason]


class Errors(FieldErrors):
    """Field errors collected over the whole payload, so one refusal names every bad field;
    the shared parsers' refusals are collected too."""

    def collect(self, parse: Callable, *args, default=None, **kwargs):
        """What `parse` returns, or `default` with its refusal added here, so parsing goes on."""
        try:
            return parse(*args, **kwargs)
        except ValidationFailed as exc:
            for field, messages in exc.fields.items():
                for message in messages:
                    self.add(field, message)
            return default


# --- input -------------------------------------------------------------------------------------


def _ship_to(errors: Errors, data: Mapping | None, company) -> dict:
    data = data or {}
    if not isinstance(data, Mapping):
        errors.add("ship_to", _("Enter the shipping address."))
        return {}
    result = {}
    for key in SHIP_TO_FIELDS:
        value = errors.collect(text_in, data.get(key), f"ship_to.{key}", SHIP_TO_LENGTHS[key], default="")
        result[f"ship_to_{key}"] = value.upper() if key == "country" else value
    if result["ship_to_country"] and result["ship_to_country"] not in Country.values:
        errors.add("ship_to.country", _("Choose a country."))
    if any(result.values()) and not result["ship_to_country"]:
        result["ship_to_country"] = company.country
    return result


# --- lookups ------------------------------------------------------------------------------------


def _warehouse(actor: Actor, errors: Errors, warehouse_id=None, warehouse_code: str = "") -> Warehouse | None:
    rows = Warehouse.objects.filter(company=actor.company, is_active=True)
    if warehouse_id not in (None, ""):
        found = rows.filter(pk=valid_id(warehouse_id) or 0).first()
    elif warehouse_code:
        found = rows.filter(code=str(warehouse_code)[:32]).first()
    else:
        found = rows.order_by("code").first()
        if found is None:
            errors.add("warehouse", _("Create a warehouse first."))
            return None
    if found is None:
        errors.add("warehouse", _("No such warehouse."))
    return found


def _customer_blocked(actor: Actor, party: Party) -> None:
    for rule in CUSTOMER_BLOCK_RULES:
        reason = rule(actor, party)
        if reason:
            raise Conflict(
                _("%(customer)s cannot place new orders: %(reason)s") % {"customer": party, "reason": reason},
                code="customer_blocked",
                fields={"customer": [str(reason)]},
            )


def _customer_by_id(actor: Actor, errors: Errors, customer_id) -> Party | None:
    party = Party.objects.filter(
        company=actor.company, pk=valid_id(customer_id) or 0, is_customer=True, is_active=True
    ).first()
    if party is None:
        errors.add("customer_id", _("No such customer."))
    return party


def _customer_from_payload(actor: Actor, errors: Errors, data: Mapping) -> Party | None:
    """The customer the storefront describes: found by tax id, else by e-mail, else created."""
    if not isinstance(data, Mapping):
        errors.add("customer", _("Give the customer's id or details."))
        return None
    country = (
        errors.collect(text_in, data.get("tax_country"), "customer.tax_country", 2, default="").upper()
        or actor.company.country
    )
    kind = errors.collect(text_in, data.get("kind"), "customer.kind", 10, default="") or PartyKind.PERSON
    raw_tax_id = errors.collect(text_in, data.get("tax_id"), "customer.tax_id", 64, default="")
    email = errors.collect(text_in, data.get("email"), "customer.email", 254, default="").lower()
    if kind not in PartyKind.values:
        errors.add("customer.kind", _("Choose person or company."))
        return None
    tax_id = ""
    if raw_tax_id:
        try:
            tax_id = tax_id_validate(country=country, number=raw_tax_id, kind=kind).number
        except TaxIdInvalid as exc:
            errors.add("customer.tax_id", exc.message)
            return None
    if not (tax_id or email):
        errors.add("customer", _("Give the customer's tax id or e-mail."))
        return None
    customers = Party.objects.filter(company=actor.company, is_active=True)
    found = None
    if tax_id:
        found = customers.filter(tax_country=country, tax_id=tax_id).first()
    if found is None and email:
        found = customers.filter(email__iexact=email).order_by("pk").first()
    if found is not None:
        if not found.is_customer:
            errors.add("customer", _("%(name)s is a supplier, not a customer.") % {"name": found})
            return None
        return found
    if errors.fields:
        return None
    try:
        return party_create(
            actor=actor,
            legal_name=data.get("name") or data.get("legal_name") or "",
            trade_name=data.get("trade_name") or "",
            kind=kind,
            tax_country=country,
            tax_id=tax_id,
            email=email,
            phone=data.get("phone") or "",
            language=data.get("language") or "",
        )
    except ValidationFailed as exc:
        for field, messages in exc.fields.items():
            name = {"legal_name": "name"}.get(field, field)
            for message in messages:
                errors.add(f"customer.{name}", message)
        return None


def _lines_parse(actor: Actor, errors: Errors, lines) -> list[dict]:
    """Check every line and find its product (one query for all lines)."""
    if not isinstance(lines, list | tuple) or not lines:
        errors.add("lines", _("Add at least one line."))
        return []
    if len(lines) > MAX_LINES:
        errors.add("lines", _("An order has at most %(count)d lines.") % {"count": MAX_LINES})
        return []
    skus, ids = set(), set()
    for row in lines:
        if isinstance(row, Mapping):
            if row.get("product_id") not in (None, ""):
                ids.add(valid_id(row.get("product_id")) or 0)
            elif isinstance(row.get("sku"), str):
                skus.add(row["sku"].strip())
    products = Product.objects.select_related("tax_category").filter(company=actor.company, is_active=True)
    products = list(products.filter(Q(sku__in=skus) | Q(pk__in=ids))) if (skus or ids) else []
    by_sku = {p.sku: p for p in products}
    by_id = {p.pk: p for p in products}
    parsed = []
    for index, row in enumerate(lines):
        prefix = f"lines.{index}."
        if not isinstance(row, Mapping):
            errors.add(f"lines.{index}", _("Each line needs a product and a quantity."))
            continue
        if row.get("product_id") not in (None, ""):
            product = by_id.get(valid_id(row.get("product_id")) or 0)
            field = "product_id"
        else:
            product = by_sku.get(row["sku"].strip()) if isinstance(row.get("sku"), str) else None
            field = "sku"
        if product is None:
            errors.add(prefix + field, _("No such product, or it is archived."))
        quantity = errors.collect(
            decimal_in,
            row.get("quantity"),
            prefix + "quantity",
            places=3,
            minimum=ZERO,
            maximum=QUANTITY_MAX,
            strict_min=True,
            too_small=_("Enter a quantity greater than zero."),
        )
        price = row.get("unit_price")
        if price in (None, "") and product is not None:
            price = product.list_price
        unit_price = None
        if price not in (None, ""):
            unit_price = errors.collect(
                decimal_in,
                price,
                prefix + "unit_price",
                places=UNIT_PRICE_SCALE,
                minimum=Decimal(0),
                maximum=PRICE_MAX,
            )
        discount = errors.collect(
            decimal_in,
            row.get("discount_percent") or "0",
            prefix + "discount_percent",
            places=2,
            minimum=Decimal(0),
            maximum=Decimal(100),
        )
        description = errors.collect(text_in, row.get("description"), prefix + "description", 200, default="")
        tax_category = errors.collect(text_in, row.get("tax_category"), prefix + "tax_category", 32, default="")
        if product is None or None in (quantity, unit_price, discount):
            continue
        parsed.append(
            {
                "product": product,
                "quantity": quantity,
                "unit_price": unit_price,
                "discount_percent": discount,
                "description": description or product.name,
                "tax_category": tax_category or product.tax_category.code,
            }
        )
    return parsed


def _line_build(actor: Actor, order: SalesOrder, position: int, data: dict) -> SalesOrderLine:
    return SalesOrderLine(
        company=actor.company,
        order=order,
        position=position,
        product=data["product"],
        description=data["description"],
        quantity=data["quantity"],
        unit_price=data["unit_price"],
        discount_percent=data["discount_percent"],
        tax_category=data["tax_category"],
        quantity_allocated=ZERO,
        quantity_shipped=ZERO,
        quantity_returned=ZERO,
        quantity_invoiced=ZERO,
        amount=line_amount(
            quantity=data["quantity"], unit_price=data["unit_price"], discount_percent=data["discount_percent"]
        ),
    )


def order_payload(order: SalesOrder, lines: Iterable[SalesOrderLine]) -> dict:
    """What the order's events (and so webhooks) carry."""
    return {
        "id": order.pk,
        "number": order.number,
        "external_ref": order.external_ref,
        "status": order.status,
        "fulfilment_status": order.fulfilment_status,
        "customer_id": order.customer_id,
        "warehouse": order.warehouse.code,
        "currency": order.currency,
        "amount_untaxed": order.amount_untaxed,
        "lines": [
            {
                "id": line.pk,
                "sku": line.product.sku,
                "quantity": line.quantity,
                "allocated": line.quantity_allocated,
                "shipped": line.quantity_shipped,
            }
            for line in lines
        ],
    }


def _order_locked(actor: Actor, order_id) -> SalesOrder:
    order = (
        SalesOrder.objects.select_for_update(of=("self",))
        .select_related("customer", "warehouse")
        .filter(company=actor.company, pk=valid_id(order_id) or 0)
        .first()
    )
    if order is None:
        raise NotFound(_("No such order."))
    return order


def _lines_of(order: SalesOrder) -> list[SalesOrderLine]:
    return list(SalesOrderLine.objects.select_related("product").filter(order=order).order_by("position"))


def _derive(order: SalesOrder, lines: list[SalesOrderLine]) -> list[str]:
    """Refresh the stored derived statuses from the lines; returns the fields that changed."""
    quantities = [line.quantities for line in lines]
    changed = []
    for field, value in (
        ("fulfilment_status", fulfilment_status(quantities)),
        ("is_backordered", order.status == OrderStatus.CONFIRMED and is_backordered(quantities)),
    ):
        if getattr(order, field) != value:
            setattr(order, field, value)
            changed.append(field)
    return changed


# --- reservation ---------------------------------------------------------------------------------


def _reserve(actor: Actor, order: SalesOrder, lines: list[SalesOrderLine], *, partial: bool) -> None:
    """Reserve what each line still needs: all of it, or (with `partial`) what there is."""
    requests = [
        AllocationRequest(
            product_id=line.product_id,
            sku=line.product.sku,
            quantity=line.backordered,
            line_id=str(line.pk),
            field=f"lines.{index}.quantity",
        )
        for index, line in enumerate(lines)
        if line.backordered > 0
    ]
    if not requests:
        return
    granted = stock_allocate_lines(
        actor=actor,
        warehouse=order.warehouse,
        reference_type=REFERENCE_TYPE,
        reference_id=order.pk,
        lines=requests,
        partial=partial,
    )
    touched = []
    for line in lines:
        quantity = granted.get(str(line.pk))
        if quantity:
            line.quantity_allocated += quantity
            touched.append(line)
    if touched:
        SalesOrderLine.objects.bulk_update(touched, ["quantity_allocated"])


def _confirm(actor: Actor, order: SalesOrder, lines: list[SalesOrderLine]) -> None:
    transition = transition_find(actor=actor, obj=order, workflow=ORDER_WORKFLOW, action="confirm")
    _customer_blocked(actor, order.customer)
    _reserve(actor, order, lines, partial=actor.company.allow_backorders)
    if order.promised_date is None:
        order.promised_date = timezone.localdate() + datetime.timedelta(days=actor.company.handling_days)
    order.is_backordered = is_backordered([line.quantities for line in lines])
    transition_apply(
        actor=actor,
        obj=order,
        workflow=ORDER_WORKFLOW,
        action="confirm",
        transition=transition,
        update_fields=("promised_date", "is_backordered"),
        audit_after={"promised_date": order.promised_date, "backordered": order.is_backordered},
        event="order.confirmed",
        payload={**order_payload(order, lines), "status": OrderStatus.CONFIRMED},
    )


def _release_all(actor: Actor, order: SalesOrder, lines: list[SalesOrderLine]) -> dict[str, Decimal]:
    """Give back every reservation of the order (it will ship nothing more)."""
    released = stock_release_lines(actor=actor, reference_type=REFERENCE_TYPE, reference_id=order.pk)
    if released:
        SalesOrderLine.objects.filter(order=order).update(quantity_allocated=Decimal(0))
        for line in lines:
            line.quantity_allocated = Decimal("0.000")
    return released


# --- services ------------------------------------------------------------------------------------


@transaction.atomic
def sales_order_create(
    *,
    actor: Actor,
    lines,
    customer_id=None,
    customer: Mapping | None = None,
    external_ref: str = "",
    warehouse_id=None,
    warehouse_code: str = "",
    currency: str = "",
    promised_date=None,
    ordered_at=None,
    ship_to: Mapping | None = None,
    notes: str = "",
    channel: str = Channel.PHONE,
    confirm: bool = False,
) -> SalesOrder:
    """A new order, as a draft or (with `confirm`) confirmed with its stock reserved.

    The customer is `customer_id`, or found from `customer` by tax id or e-mail, or created from
    it. Everything is checked first and every bad field reported at once; a refusal (invalid
    input, blocked customer, insufficient stock) writes nothing.
    """
    require(actor, "sales.change")
    errors = Errors()
    external_ref = errors.collect(text_in, external_ref, "external_ref", 100, default="")
    notes = errors.collect(text_in, notes, "notes", 5000, multiline=True, default="")
    currency = (currency or actor.company.base_currency).upper() if isinstance(currency, str) else ""
    if currency not in Currency.values:
        errors.add("currency", _("Choose a currency."))
    if channel not in Channel.values:
        errors.add("channel", _("Choose a channel."))
    promised = errors.collect(date_in, promised_date, "promised_date")
    address = _ship_to(errors, ship_to, actor.company)
    warehouse = _warehouse(actor, errors, warehouse_id, warehouse_code)
    parsed = _lines_parse(actor, errors, lines)
    if external_ref and SalesOrder.objects.filter(company=actor.company, external_ref=external_ref).exists():
        existing = SalesOrder.objects.filter(company=actor.company, external_ref=external_ref).values_list(
            "pk", "number"
        )[0]
        raise Conflict(
            _("Order %(number)s already has the shop reference %(ref)s.")
            % {"number": existing[1], "ref": external_ref},
            code="duplicate_external_ref",
            fields={"external_ref": [_("Another order already has this reference.")]},
            details=[{"id": str(existing[0]), "number": existing[1]}],
        )
    if customer_id not in (None, ""):
        party = _customer_by_id(actor, errors, customer_id)
    elif customer is not None:
        party = None if errors.fields else _customer_from_payload(actor, errors, customer)
    else:
        party = None
        errors.add("customer_id", _("Choose the customer."))
    errors.raise_if_any()
    _customer_blocked(actor, party)
    year = timezone.localdate().year
    number = sequence_next(company=actor.company, series="sales_order", year=year)
    order = SalesOrder(
        company=actor.company,
        number=f"SO{year}-{number:06d}",
        external_ref=external_ref,
        channel=channel,
        customer=party,
        warehouse=warehouse,
        currency=currency,
        promised_date=promised,
        notes=notes,
        created_by=actor.user if actor.user_id else None,
        **address,
    )
    if ordered_at is not None:
        order.ordered_at = ordered_at
    order_lines = [_line_build(actor, order, position, data) for position, data in enumerate(parsed, start=1)]
    order.amount_untaxed = sum((line.amount for line in order_lines), Decimal("0.00"))
    try:
        order.save()
    except IntegrityError:
        # Another request took the shop reference between our check and our write.
        raise Conflict(
            _("Another order already has the shop reference %(ref)s.") % {"ref": external_ref},
            code="duplicate_external_ref",
            fields={"external_ref": [_("Another order already has this reference.")]},
        )
    SalesOrderLine.objects.bulk_create(order_lines)
    audit_record(
        actor=actor,
        company=actor.company,
        obj=order,
        action="salesorder.create",
        after={
            "customer": str(party),
            "external_ref": external_ref,
            "warehouse": warehouse.code,
            "amount_untaxed": order.amount_untaxed,
            "lines": [
                {"sku": line.product.sku, "quantity": line.quantity, "unit_price": line.unit_price}
                for line in order_lines
            ],
        },
    )
    if confirm:
        _confirm(actor, order, order_lines)
    order.prefetched_lines = order_lines
    return order


@transaction.atomic
def sales_order_confirm(*, actor: Actor, order_id) -> SalesOrder:
    """Confirm a draft: every line's stock reserved, or 409 `insufficient_stock` and nothing
    changes (with back-orders allowed, the missing part waits for stock instead)."""
    require(actor, "sales.change")
    order = _order_locked(actor, order_id)
    lines = _lines_of(order)
    _confirm(actor, order, lines)
    order.prefetched_lines = lines
    return order


@transaction.atomic
def sales_order_cancel(*, actor: Actor, order_id, reason: str = "") -> SalesOrder:
    """Cancel an order that has shipped nothing: its reservations go back to stock."""
    require(actor, "sales.change")
    errors = Errors()
    reason = errors.collect(text_in, reason, "reason", 200, default="")
    errors.raise_if_any()
    order = _order_locked(actor, order_id)
    transition = transition_find(actor=actor, obj=order, workflow=ORDER_WORKFLOW, action="cancel")
    lines = _lines_of(order)
    if any(line.quantity_shipped > 0 for line in lines):
        raise Conflict(_("Part of this order has shipped; close it instead to drop the rest."), code="already_shipped")
    released = _release_all(actor, order, lines)
    order.cancel_reason = reason
    order.is_backordered = False
    transition_apply(
        actor=actor,
        obj=order,
        workflow=ORDER_WORKFLOW,
        action="cancel",
        transition=transition,
        update_fields=("cancel_reason", "is_backordered"),
        audit_after={"reason": reason, "released": {k: str(v) for k, v in released.items()}},
        event="order.cancelled",
        payload={**order_payload(order, lines), "reason": reason},
    )
    order.prefetched_lines = lines
    return order


@transaction.atomic
def sales_order_close(*, actor: Actor, order_id) -> SalesOrder:
    """Close a confirmed order: nothing more will ship, and any reservation left is released."""
    require(actor, "sales.change")
    order = _order_locked(actor, order_id)
    transition = transition_find(actor=actor, obj=order, workflow=ORDER_WORKFLOW, action="close")
    lines = _lines_of(order)
    released = _release_all(actor, order, lines)
    order.is_backordered = False
    transition_apply(
        actor=actor,
        obj=order,
        workflow=ORDER_WORKFLOW,
        action="close",
        transition=transition,
        update_fields=("is_backordered",),
        audit_after={"released": {k: str(v) for k, v in released.items()}},
        event="order.closed",
        payload=order_payload(order, lines),
    )
    order.prefetched_lines = lines
    return order


@transaction.atomic
def sales_order_update(
    *,
    actor: Actor,
    order_id,
    lines=None,
    ship_to: Mapping | None = None,
    notes: str | None = None,
    promised_date=None,
) -> SalesOrder:
    """Edit a draft or confirmed order. `lines` replaces the lines: an entry with an `id` keeps
    that line (new quantity, price, discount), one without adds a line, a line left out is
    removed. On a confirmed order the reservations follow: what a line no longer needs is
    released, what it newly needs is reserved (all or nothing, unless back-orders are allowed).
    Shipped quantities cannot be edited away."""
    require(actor, "sales.change")
    order = _order_locked(actor, order_id)
    if order.status not in (OrderStatus.DRAFT, OrderStatus.CONFIRMED):
        raise Conflict(
            _("This cannot be done while the document is %(status)s.") % {"status": order.get_status_display()},
            code="invalid_transition",
        )
    errors = Errors()
    before = {"notes": order.notes, "promised_date": order.promised_date}
    fields = []
    if notes is not None:
        order.notes = errors.collect(text_in, notes, "notes", 5000, multiline=True, default="")
        fields.append("notes")
    if promised_date is not None:
        order.promised_date = errors.collect(date_in, promised_date, "promised_date")
        fields.append("promised_date")
    if ship_to is not None:
        for key, value in _ship_to(errors, ship_to, actor.company).items():
            setattr(order, key, value)
            fields.append(key)
    current = {line.pk: line for line in _lines_of(order)}
    kept, added, removed = [], [], []
    if lines is not None:
        parsed = _lines_parse(actor, errors, lines)
        if len(parsed) == len(lines):
            seen = set()
            for index, (row, data) in enumerate(zip(lines, parsed, strict=True)):
                line_id = valid_id(row.get("id")) if row.get("id") not in (None, "") else None
                if row.get("id") not in (None, "") and line_id not in current:
                    errors.add(f"lines.{index}.id", _("No such line on this order."))
                    continue
                if line_id is None:
                    added.append(data)
                    continue
                if line_id in seen:
                    errors.add(f"lines.{index}.id", _("This line is listed twice."))
                    continue
                seen.add(line_id)
                line = current[line_id]
                if line.product_id != data["product"].pk:
                    errors.add(f"lines.{index}.sku", _("A line's product cannot change; remove it and add another."))
                    continue
                if data["quantity"] < line.quantity_shipped:
                    errors.add(
                        f"lines.{index}.quantity",
                        _("%(shipped)s already shipped; the quantity cannot be less.")
                        % {"shipped": line.quantity_shipped},
                    )
                    continue
                kept.append((line, data))
            for pk, line in current.items():
                if pk not in seen:
                    if line.quantity_shipped > 0:
                        errors.add("lines", _("A line that has shipped cannot be removed."))
                    removed.append(line)
    errors.raise_if_any()
    released = {}
    if lines is not None:
        excess = {}
        for line, data in kept:
            open_after = data["quantity"] - line.quantity_shipped
            if line.quantity_allocated > open_after:
                excess[str(line.pk)] = line.quantity_allocated - open_after
        for line in removed:
            if line.quantity_allocated > 0:
                excess[str(line.pk)] = line.quantity_allocated
        if excess:
            released = stock_release_lines(
                actor=actor, reference_type=REFERENCE_TYPE, reference_id=order.pk, quantities=excess
            )
        for line, data in kept:
            line.quantity = data["quantity"]
            line.unit_price = data["unit_price"]
            line.discount_percent = data["discount_percent"]
            line.description = data["description"]
            line.tax_category = data["tax_category"]
            line.quantity_allocated -= released.get(str(line.pk), Decimal(0))
            line.amount = line_amount(
                quantity=line.quantity, unit_price=line.unit_price, discount_percent=line.discount_percent
            )
        if removed:
            SalesOrderLine.objects.filter(pk__in=[line.pk for line in removed]).delete()
        if kept:
            SalesOrderLine.objects.bulk_update(
                [line for line, _data in kept],
                [
                    "quantity",
                    "unit_price",
                    "discount_percent",
                    "description",
                    "tax_category",
                    "amount",
                    "quantity_allocated",
                ],
            )
        top = max([line.position for line in current.values()], default=0)
        new_lines = [_line_build(actor, order, top + i, data) for i, data in enumerate(added, start=1)]
        SalesOrderLine.objects.bulk_create(new_lines)
        all_lines = sorted([line for line, _d in kept] + new_lines, key=lambda line: line.position)
        if not all_lines:
            raise ValidationFailed(_("Some fields are not valid."), fields={"lines": [_("Add at least one line.")]})
        if order.status == OrderStatus.CONFIRMED:
            _reserve(actor, order, all_lines, partial=actor.company.allow_backorders)
        order.amount_untaxed = sum((line.amount for line in all_lines), Decimal("0.00"))
        fields.append("amount_untaxed")
    else:
        all_lines = list(current.values())
    fields += _derive(order, all_lines)
    if fields:
        order.save(update_fields=list(dict.fromkeys(fields)))
    audit_record(
        actor=actor,
        company=actor.company,
        obj=order,
        action="salesorder.update",
        before={**before, "lines": len(current)},
        after={
            "notes": order.notes,
            "promised_date": order.promised_date,
            "amount_untaxed": order.amount_untaxed,
            "lines": [{"sku": line.product.sku, "quantity": line.quantity} for line in all_lines],
        },
    )
    event_emit(company=actor.company, name="order.updated", obj=order, payload=order_payload(order, all_lines))
    order.prefetched_lines = all_lines
    return order


def backorders_allocate(*, actor: Actor, warehouse: Warehouse, product_ids: list[int]) -> int:
    """Stock arrived: reserve it for confirmed orders waiting for these products in this
    warehouse, oldest promise first. Returns how many orders got stock. Runs inside the
    transaction of the arrival (inventory calls it), as the system."""
    order_ids = list(
        dict.fromkeys(
            SalesOrderLine.objects.filter(
                order__company=actor.company,
                order__warehouse=warehouse,
                order__status=OrderStatus.CONFIRMED,
                product_id__in=product_ids,
                quantity__gt=F("quantity_allocated") + F("quantity_shipped"),
            )
            .order_by(F("order__promised_date").asc(nulls_last=True), "order__ordered_at", "order_id")
            .values_list("order_id", flat=True)
        )
    )
    served = 0
    for order_id in order_ids:
        order = _order_locked(actor, order_id)
        all_lines = _lines_of(order)
        lines = [line for line in all_lines if line.product_id in product_ids]
        before = {line.pk: line.quantity_allocated for line in lines}
        _reserve(actor, order, lines, partial=True)
        gained = {
            str(line.pk): line.quantity_allocated - before[line.pk]
            for line in lines
            if line.quantity_allocated != before[line.pk]
        }
        if not gained:
            continue
        served += 1
        changed = _derive(order, all_lines)
        if changed:
            order.save(update_fields=changed)
        audit_record(
            actor=actor,
            company=actor.company,
            obj=order,
            action="salesorder.backorder_allocate",
            after={"lines": gained},
        )
        event_emit(company=actor.company, name="order.allocated", obj=order, payload=order_payload(order, all_lines))
    return served


# --- called by fulfilment ---------------------------------------------------------------------------


def _confirmed_for_fulfilment(actor: Actor, order_id) -> SalesOrder:
    order = _order_locked(actor, order_id)
    if order.status != OrderStatus.CONFIRMED:
        raise Conflict(
            _("Order %(number)s is %(status)s; only confirmed orders are picked and shipped.")
            % {"number": order.number, "status": order.get_status_display()},
            code="order_not_confirmed",
        )
    return order


@transaction.atomic
def sales_order_shipped(*, actor: Actor, order_id, quantities: Mapping[int, Decimal], shipment_ref: str) -> SalesOrder:
    """Record that `quantities` (per line id) left the warehouse in shipment `shipment_ref`.

    Fulfilment calls this after inventory posted the moves (which consumed the reservations):
    the lines' reserved quantities become shipped ones, the derived status follows, and
    `order.shipped` is emitted. A fixed number of queries whatever the number of lines.
    """
    require(actor, "fulfilment.change")
    order = _confirmed_for_fulfilment(actor, order_id)
    lines = _lines_of(order)
    by_id = {line.pk: line for line in lines}
    touched = []
    for line_id, quantity in quantities.items():
        line = by_id.get(int(line_id))
        if line is None or quantity <= 0 or quantity > line.quantity_allocated:
            raise Conflict(_("Only reserved quantities of this order's lines can ship."), code="not_allocated")
        line.quantity_allocated -= quantity
        line.quantity_shipped += quantity
        touched.append(line)
    SalesOrderLine.objects.bulk_update(touched, ["quantity_allocated", "quantity_shipped"])
    changed = _derive(order, lines)
    if changed:
        order.save(update_fields=changed)
    audit_record(
        actor=actor,
        company=actor.company,
        obj=order,
        action="salesorder.ship",
        after={"shipment": shipment_ref, "lines": {str(k): v for k, v in quantities.items()}},
    )
    event_emit(
        company=actor.company,
        name="order.shipped",
        obj=order,
        payload={
            **order_payload(order, lines),
            "shipment": shipment_ref,
            "complete": order.fulfilment_status == FulfilmentStatus.SHIPPED,
        },
    )
    order.prefetched_lines = lines
    return order


@transaction.atomic(savepoint=False)
def sales_order_invoiced(*, actor: Actor, order_id, quantities: Mapping[int, Decimal]) -> SalesOrder:
    """Record invoiced quantities per line id: positive for an invoice, negative for a credit
    note. Billing calls this in the transaction that drafts or cancels its document, so a
    quantity is never invoiced twice: a line can hold at most what was ordered, never below zero.
    A fixed number of queries whatever the number of lines."""
    require(actor, "billing.change")
    order = _order_locked(actor, order_id)
    lines = _lines_of(order)
    by_id = {line.pk: line for line in lines}
    touched = []
    for line_id, quantity in quantities.items():
        line = by_id.get(int(line_id))
        if line is None or not quantity:
            raise Conflict(_("Only this order's lines can be invoiced."), code="not_invoiceable")
        invoiced = line.quantity_invoiced + quantity
        if invoiced < 0 or invoiced > line.quantity:
            raise Conflict(
                _("Line %(position)s would be invoiced %(invoiced)s of %(ordered)s ordered.")
                % {"position": line.position, "invoiced": invoiced, "ordered": line.quantity},
                code="not_invoiceable",
            )
        line.quantity_invoiced = invoiced
        touched.append(line)
    SalesOrderLine.objects.bulk_update(touched, ["quantity_invoiced"])
    status = billing_status(line.quantities for line in lines)
    if order.billing_status != status:
        order.billing_status = status
        order.save(update_fields=["billing_status"])
    order.prefetched_lines = lines
    return order


def sales_order_complete(*, actor: Actor, order_id) -> SalesOrder | None:
    """Close a confirmed order once everything ordered has shipped and been invoiced (billing
    calls it when the order's invoices are paid). Returns the order when it closed."""
    order = SalesOrder.objects.filter(company=actor.company, pk=order_id, status=OrderStatus.CONFIRMED).first()
    if order is None:
        return None
    lines = _lines_of(order)
    if fulfilment_status(line.quantities for line in lines) != FulfilmentStatus.SHIPPED:
        return None
    if billing_status(line.quantities for line in lines) != BillingStatus.INVOICED:
        return None
    transition_apply(
        actor=actor,
        obj=order,
        workflow=ORDER_WORKFLOW,
        action="close",
        transition=ORDER_WORKFLOW.find(order.status, "close"),
        event="order.closed",
        payload=order_payload(order, lines),
    )
    return order


@transaction.atomic
def sales_order_short_pick(
    *, actor: Actor, order_id, line_id: int, missing: Decimal, location_id: int, reference: str = ""
) -> SalesOrder:
    """The bin held less than the pick list said: the missing quantity is written off at the
    location (an adjustment), the line's reservation shrinks by it, and the line is reserved
    again from whatever else the warehouse has; what cannot be is back-ordered."""
    require(actor, "fulfilment.change")
    order = _confirmed_for_fulfilment(actor, order_id)
    lines = _lines_of(order)
    line = next((line for line in lines if line.pk == int(line_id)), None)
    if line is None or missing <= 0 or missing > line.quantity_allocated:
        raise Conflict(_("Only a reserved quantity of this order can be short."), code="not_allocated")
    stock_release_lines(
        actor=actor, reference_type=REFERENCE_TYPE, reference_id=order.pk, quantities={str(line.pk): missing}
    )
    line.quantity_allocated -= missing
    SalesOrderLine.objects.filter(pk=line.pk).update(quantity_allocated=line.quantity_allocated)
    stock_adjust(
        actor=actor,
        product_id=line.product_id,
        warehouse_id=order.warehouse_id,
        quantity=-missing,
        reason="count",
        note=_("Short pick"),
        reference=reference or order.number,
        location_id=location_id,
    )
    _reserve(system_actor(actor.company), order, [line], partial=True)
    changed = _derive(order, lines)
    if changed:
        order.save(update_fields=changed)
    audit_record(
        actor=actor,
        company=actor.company,
        obj=order,
        action="salesorder.short_pick",
        after={"line": line.pk, "sku": line.product.sku, "missing": missing, "backordered": line.backordered},
    )
    if line.backordered > 0:
        event_emit(company=actor.company, name="order.backordered", obj=order, payload=order_payload(order, lines))
    order.prefetched_lines = lines
    return order


@transaction.atomic
def sales_order_returned(*, actor: Actor, order_id, quantities: Mapping[int, Decimal], return_ref: str) -> SalesOrder:
    """Record goods of shipped lines coming back (fulfilment's returns call this)."""
    require(actor, "fulfilment.change")
    order = _order_locked(actor, order_id)
    lines = _lines_of(order)
    by_id = {line.pk: line for line in lines}
    touched = []
    for line_id, quantity in quantities.items():
        line = by_id.get(int(line_id))
        if line is None or quantity <= 0 or line.quantity_returned + quantity > line.quantity_shipped:
            raise Conflict(_("Only shipped quantities can come back."), code="not_shipped")
        line.quantity_returned += quantity
        touched.append(line)
    SalesOrderLine.objects.bulk_update(touched, ["quantity_returned"])
    audit_record(
        actor=actor,
        company=actor.company,
        obj=order,
        action="salesorder.return",
        after={"return": return_ref, "lines": {str(k): v for k, v in quantities.items()}},
    )
    event_emit(
        company=actor.company,
        name="order.returned",
        obj=order,
        payload={**order_payload(order, lines), "return": return_ref},
    )
    return order
