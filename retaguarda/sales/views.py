"""Pages of sales orders: the list, the order page with its actions, the phone order form (new
and edit) with its htmx look-ups of customers and products, and the customer's order block."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from retaguarda.catalog.selectors import products_for
from retaguarda.common.errors import DomainError, NotFound
from retaguarda.core.selectors import timeline_for
from retaguarda.core.ui.decorators import permission_required
from retaguarda.core.workflow import transitions_available
from retaguarda.inventory.models import Warehouse
from retaguarda.inventory.selectors import availability
from retaguarda.parties.choices import AddressKind
from retaguarda.parties.selectors import CUSTOMER, party_get, party_search
from retaguarda.parties.services import party_block

from . import services
from .choices import OrderStatus
from .filters import ORDER_LISTING
from .forms import (
    LINE_ERROR,
    ROW_KEY,
    BlockForm,
    CancelForm,
    LineRow,
    OrderForm,
    plain,
    rows_add_service_errors,
    rows_from_lines,
    rows_from_post,
    rows_payload,
    ship_to_initial,
    text_clean,
)
from .selectors import order_get, order_search
from .workflows import ORDER_WORKFLOW

TIMELINE_LENGTH = 50
# Blocks that areas above sales add to the order page (billing's invoices), each a
# callable(request, order) -> HTML; registered from their AppConfig.ready().
ORDER_PANELS: list = []
CUSTOMER_RESULTS = 10
PRODUCT_CANDIDATES = 8
EDITABLE = (OrderStatus.DRAFT, OrderStatus.CONFIRMED)


# --- list ----------------------------------------------------------------------------------------


@permission_required("sales.view")
def order_list(request):
    actor = request.actor
    context = ORDER_LISTING.page(request, order_search(actor, {}))
    customer_filter = context["active_filters"].get("customer", "")
    context.update(
        can_change=actor.can("sales.change"),
        list_url=reverse("sales:order_list"),
        # The filtered customer's name comes from the rows already read, not from another query.
        customer_filter=customer_filter,
        customer_filter_name=next(
            (str(o.customer) for o in context["object_list"] if str(o.customer_id) == customer_filter), ""
        ),
    )
    template = "sales/partials/order_table.html" if request.htmx else "sales/order_list.html"
    return render(request, template, context)


# --- the order page and its actions -------------------------------------------------------------------


def _unit_price_places(price: Decimal) -> int:
    return 2 if price == price.quantize(Decimal("0.01")) else 4


def _actions(actor, order, lines) -> list[str]:
    """The workflow's actions for this actor now; an order that shipped anything is closed, not
    cancelled, so its cancel button is left out."""
    actions = [t.action for t in transitions_available(actor=actor, obj=order, workflow=ORDER_WORKFLOW)]
    if any(line.quantity_shipped for line in lines):
        actions = [action for action in actions if action != "cancel"]
    return actions


def _detail(request, order, *, status: int = 200, error: str = "", shortages=None, cancel_form=None):
    actor = request.actor
    lines = order.prefetched_lines
    short_lines = {str(item.get("line", "")) for item in shortages or []}
    for line in lines:
        line.price_places = _unit_price_places(line.unit_price)
        line.is_short = str(line.pk) in short_lines
    by_line = {str(line.pk): line for line in lines}
    for item in shortages or []:
        item["line_obj"] = by_line.get(str(item.get("line", "")))
    return render(
        request,
        "sales/order_detail.html",
        {
            "order": order,
            "lines": lines,
            "actions": _actions(actor, order, lines),
            "can_edit": actor.can("sales.change") and order.status in EDITABLE,
            "can_view_customer": actor.can("parties.view"),
            "show_backorders": order.status == OrderStatus.CONFIRMED,
            "timeline": list(timeline_for(company=actor.company, obj=order)[:TIMELINE_LENGTH]),
            "error": error,
            "shortages": shortages or [],
            "cancel_form": cancel_form or CancelForm(),
            "panels": [panel(request, order) for panel in ORDER_PANELS],
        },
        status=status,
    )


@permission_required("sales.view")
def order_detail(request, pk: int):
    return _detail(request, order_get(request.actor, pk))


def _shortages(exc: DomainError) -> list[dict]:
    """The short lines of a refused reservation, with the row each one names."""
    if exc.code != "insufficient_stock":
        return []
    fields = [key for key in exc.fields if key.startswith("lines.")]
    result = []
    for index, detail in enumerate(exc.details):
        item = {
            "sku": detail.get("sku", ""),
            "requested": Decimal(detail.get("requested") or 0),
            "available": Decimal(detail.get("available") or 0),
            "line": detail.get("line", ""),
            "field": fields[index] if index < len(fields) else None,
        }
        result.append(item)
    return result


def _shortages_on_rows(shortages: list[dict], rows: list[LineRow]) -> list[dict]:
    """Name each short line of the order form by its row's product (the lines were not saved)."""
    for item in shortages:
        match = LINE_ERROR.match(item.get("field") or "")
        row = rows[int(match.group(1))] if match and int(match.group(1)) < len(rows) else None
        if row is not None and row.product is not None:
            item["description"] = getattr(row.product, "display_name", "") or row.product.name
    return shortages


def _action(request, pk: int, run, done: str):
    """Run one workflow action; a refusal shows the order again with the reason (409/422)."""
    try:
        order = run()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        cancel_form = None
        if exc.fields.get("reason"):
            cancel_form = CancelForm(request.POST)
            cancel_form.is_valid()
            for message in exc.fields["reason"]:
                cancel_form.add_error("reason", message)
        order = order_get(request.actor, pk)
        return _detail(
            request, order, status=exc.status, error=exc.message, shortages=_shortages(exc), cancel_form=cancel_form
        )
    messages.success(request, done % {"number": order.number})
    if order.is_backordered:
        messages.warning(request, _("Part of the order waits for stock: it ships when the stock arrives."))
    return redirect("sales:order_detail", pk=order.pk)


@require_POST
@permission_required("sales.change")
def order_confirm(request, pk: int):
    return _action(
        request,
        pk,
        lambda: services.sales_order_confirm(actor=request.actor, order_id=pk),
        _("Order %(number)s confirmed; its stock is reserved."),
    )


@require_POST
@permission_required("sales.change")
def order_cancel(request, pk: int):
    return _action(
        request,
        pk,
        lambda: services.sales_order_cancel(actor=request.actor, order_id=pk, reason=request.POST.get("reason", "")),
        _("Order %(number)s cancelled."),
    )


@require_POST
@permission_required("sales.change")
def order_close(request, pk: int):
    return _action(
        request,
        pk,
        lambda: services.sales_order_close(actor=request.actor, order_id=pk),
        _("Order %(number)s closed: nothing more will ship."),
    )


# --- the order form ------------------------------------------------------------------------------


def _warehouses(actor) -> list[Warehouse]:
    return list(Warehouse.objects.filter(company=actor.company, is_active=True).order_by("code", "pk"))


def _product_match(actor, text: str):
    """What a typed SKU, barcode or name finds: (product, candidates). An exact SKU or barcode
    wins; else a single product whose SKU or name contains the text; else up to a few candidates."""
    products = products_for(actor=actor).filter(is_active=True)
    exact = list(products.filter(Q(sku=text) | Q(barcode=text))[:2])
    if exact:
        return next((p for p in exact if p.sku == text), exact[0]), []
    candidates = list(
        products.filter(Q(sku__icontains=text) | Q(name__icontains=text) | Q(display_name__icontains=text)).order_by(
            "sku"
        )[: PRODUCT_CANDIDATES + 1]
    )
    if len(candidates) == 1:
        return candidates[0], []
    return None, candidates


def _products_by_text(actor, texts) -> dict:
    """The products named exactly by typed SKUs or barcodes, keyed by the text (one query)."""
    texts = {t for t in texts if t}
    if not texts:
        return {}
    found = {}
    for product in products_for(actor=actor).filter(is_active=True).filter(Q(sku__in=texts) | Q(barcode__in=texts)):
        if product.barcode in texts:
            found.setdefault(product.barcode, product)
        found[product.sku] = product  # a SKU wins over another product's barcode
    return found


def _rows_describe(actor, rows: list[LineRow], products: dict, warehouse: Warehouse | None) -> None:
    """Fill each row's product and availability in the warehouse (one query for all rows)."""
    for row in rows:
        row.product = row.product or products.get(row.sku)
    skus = [row.product.sku for row in rows if row.product is not None]
    if warehouse is None or not skus:
        return
    stock = availability(company=actor.company, skus=skus)
    for row in rows:
        if row.product is not None:
            row.available = stock[row.product.sku]["warehouses"].get(warehouse.code, Decimal("0.000"))
            row.warehouse_code = warehouse.code


def _customer_picked(actor, raw):
    """The customer chosen on the form, when it is one of the company's active customers."""
    if not raw or not str(raw).isdigit():
        return None
    try:
        party = party_get(actor, raw)
    except NotFound:
        return None
    return party if party.is_customer and party.is_active else None


def _shipping_address(party):
    addresses = [a for a in party.addresses.all() if a.kind == AddressKind.SHIPPING]
    return next((a for a in addresses if a.is_default), addresses[0] if addresses else None)


def _form_page(request, *, form, rows, order=None, customer=None, errors=(), shortages=(), status=200):
    next_key = max((int(row.key) for row in rows), default=-1) + 1
    if not rows:
        rows = [LineRow(key=str(next_key))]
        next_key += 1
    return render(
        request,
        "sales/order_form.html",
        {
            "form": form,
            "order": order,
            "rows": rows,
            "next_key": next_key,
            "blank_row": LineRow(key="__key__"),
            "customer": customer,
            "line_errors": list(errors),
            "shortages": list(shortages),
            "currency": order.currency if order else request.actor.company.base_currency,
        },
        status=status,
    )


@permission_required("sales.change")
def order_create(request):
    actor = request.actor
    warehouses = _warehouses(actor)
    if request.method != "POST":
        customer = _customer_picked(actor, request.GET.get("customer"))
        initial = {"warehouse": str(warehouses[0].pk) if warehouses else ""}
        if customer is not None:
            initial.update(customer=str(customer.pk), **ship_to_initial(_shipping_address(customer), customer))
        form = OrderForm(initial=initial, warehouses=warehouses)
        return _form_page(request, form=form, rows=[], customer=customer)

    form = OrderForm(request.POST, warehouses=warehouses)
    rows = rows_from_post(request.POST)
    products = _products_by_text(actor, [row.sku for row in rows])
    confirm = request.POST.get("action") == "confirm"
    valid = form.is_valid()  # the fields are optional text, refused only for NUL characters
    data = dict(form.cleaned_data)  # a copy: placing an error on the form drops its value
    order, errors, shortages, status = None, [], [], 422
    if valid:
        try:
            order = services.sales_order_create(
                actor=actor,
                customer_id=data.get("customer") or None,
                warehouse_id=data.get("warehouse") or None,
                promised_date=data.get("promised_date") or None,
                ship_to=form.ship_to(),
                notes=data.get("notes", ""),
                lines=rows_payload(rows, products),
                channel="phone",
                confirm=confirm,
            )
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            errors, shortages, status = rows_add_service_errors(form, rows, exc), _shortages(exc), exc.status
    if order is None:
        warehouse = next((w for w in warehouses if str(w.pk) == data.get("warehouse")), None)
        _rows_describe(actor, rows, products, warehouse)
        return _form_page(
            request,
            form=form,
            rows=rows,
            customer=_customer_picked(actor, data.get("customer")),
            errors=errors,
            shortages=_shortages_on_rows(shortages, rows),
            status=status,
        )
    if confirm:
        messages.success(request, _("Order %(number)s confirmed; its stock is reserved.") % {"number": order.number})
        if order.is_backordered:
            messages.warning(request, _("Part of the order waits for stock: it ships when the stock arrives."))
    else:
        messages.success(request, _("Order %(number)s saved as a draft.") % {"number": order.number})
    return redirect("sales:order_detail", pk=order.pk)


@permission_required("sales.change")
def order_edit(request, pk: int):
    actor = request.actor
    order = order_get(actor, pk, permission="sales.change")
    if order.status not in EDITABLE:
        messages.error(
            request,
            _("This cannot be done while the document is %(status)s.") % {"status": order.get_status_display()},
        )
        return redirect("sales:order_detail", pk=order.pk)
    if request.method != "POST":
        initial = {f"ship_to_{key}": getattr(order, f"ship_to_{key}") for key in services.SHIP_TO_FIELDS}
        initial.update(
            promised_date=order.promised_date.isoformat() if order.promised_date else "",
            notes=order.notes,
        )
        rows = rows_from_lines(order.prefetched_lines)
        _rows_describe(actor, rows, {}, order.warehouse)
        return _form_page(request, form=OrderForm(initial=initial, editing=True), rows=rows, order=order)

    form = OrderForm(request.POST, editing=True)
    rows = rows_from_post(request.POST)
    products = _products_by_text(actor, [row.sku for row in rows])
    valid = form.is_valid()
    data = dict(form.cleaned_data)
    errors, shortages, status = [], [], 422
    if valid:
        try:
            services.sales_order_update(
                actor=actor,
                order_id=order.pk,
                lines=rows_payload(rows, products),
                ship_to=form.ship_to(),
                notes=data.get("notes", ""),
                promised_date=data.get("promised_date", ""),
            )
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            if exc.code == "invalid_transition":
                messages.error(request, exc.message)
                return redirect("sales:order_detail", pk=order.pk)
            errors, shortages, status = rows_add_service_errors(form, rows, exc), _shortages(exc), exc.status
            valid = False
    if not valid:
        shipped = {str(line.pk): line.quantity_shipped for line in order.prefetched_lines}
        for row in rows:
            row.shipped = shipped.get(row.id, Decimal(0))
        _rows_describe(actor, rows, products, order.warehouse)
        return _form_page(
            request,
            form=form,
            rows=rows,
            order=order,
            errors=errors,
            shortages=_shortages_on_rows(shortages, rows),
            status=status,
        )
    messages.success(request, _("Order %(number)s saved.") % {"number": order.number})
    return redirect("sales:order_detail", pk=order.pk)


# --- htmx look-ups of the order form -----------------------------------------------------------------


@require_GET
@permission_required("sales.change")
def customer_lookup(request):
    """Customers matching a name, tax id or e-mail, as buttons that choose one."""
    q = text_clean(request.GET.get("q"))
    customers = []
    if q:
        customers = list(party_search(request.actor, {"q": q}, role=CUSTOMER)[:CUSTOMER_RESULTS])
    return render(request, "sales/partials/customer_results.html", {"customers": customers, "q": q})


@require_GET
@permission_required("sales.change")
def customer_pick(request):
    """The chosen customer, and (out of band) the ship-to fields from its shipping address."""
    customer = _customer_picked(request.actor, request.GET.get("customer"))
    initial = {}
    if customer is not None:
        initial = ship_to_initial(_shipping_address(customer), customer)
    form = OrderForm(initial=initial, warehouses=())
    return render(
        request,
        "sales/partials/customer_pick.html",
        {"customer": customer, "form": form, "not_found": customer is None},
    )


@require_GET
@permission_required("sales.change")
def product_lookup(request):
    """A row's product from its typed SKU, barcode or name: name, list price and what is
    available in the chosen warehouse; fills in the row's price while it is the list price."""
    actor = request.actor
    key = request.GET.get("key", "")
    if not ROW_KEY.match(key):
        return render(request, "sales/partials/line_product.html", {"row": None})
    text = text_clean(request.GET.get(f"line-{key}-sku"))
    row = LineRow(key=key, sku=text, unit_price=text_clean(request.GET.get(f"line-{key}-unit_price")))
    candidates = []
    if text:
        row.product, candidates = _product_match(actor, text)
    warehouse = None
    warehouse_id = request.GET.get("warehouse") or ""
    if warehouse_id.isdigit():
        warehouse = Warehouse.objects.filter(company=actor.company, is_active=True, pk=int(warehouse_id)).first()
    _rows_describe(actor, [row], {}, warehouse)
    previous_list_price = text_clean(request.GET.get(f"line-{key}-list_price"))
    # The price follows the product while nobody has typed another one.
    set_price = row.product is not None and row.unit_price in ("", previous_list_price)
    if set_price:
        row.unit_price = plain(row.product.list_price, 2)
    return render(
        request,
        "sales/partials/line_product.html",
        {
            "row": row,
            "candidates": candidates[:PRODUCT_CANDIDATES],
            "set_price": set_price,
            "text": text,
            "currency": actor.company.base_currency,
        },
    )


# --- the customer's order block (the customer page's orders section) -----------------------------------


@require_POST
@permission_required("parties.change")
def customer_block(request, party_pk: int):
    form = BlockForm(request.POST)
    form.is_valid()
    url = reverse("parties:party_detail", args=[party_pk]) + "#section-orders"
    try:
        party = party_block(actor=request.actor, party_id=party_pk, reason=form.cleaned_data.get("reason", ""))
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        reasons = [m for messages_ in exc.fields.values() for m in messages_] or [exc.message]
        messages.error(request, " ".join(str(m) for m in reasons))
        return redirect(url)
    if party.blocked_reason:
        messages.success(request, _("%(name)s cannot place new orders now.") % {"name": party})
    else:
        messages.success(request, _("%(name)s may place new orders.") % {"name": party})
    return redirect(url)
