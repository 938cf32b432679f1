"""Inventory pages: stock by product and warehouse, moves, alerts, the stock forms, warehouses
and their locations, and cycle counts. Views parse input and call one service or selector."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from retaguarda.common.errors import Conflict, DomainError, ValidationFailed
from retaguarda.core.selectors import timeline_for
from retaguarda.core.ui.decorators import permission_required
from retaguarda.core.workflow import transitions_available

from . import services
from .choices import CycleCountStatus, MoveReason
from .filters import ALERT_LISTING, COUNT_LISTING, MOVE_LISTING, STATE_CHOICES, STOCK_LISTING, positive_int
from .forms import (
    AdjustmentForm,
    CountCreateForm,
    CountLineAddForm,
    CountRecordForm,
    LimitsForm,
    LocationForm,
    ReceiptForm,
    RelocationForm,
    TransferForm,
    WarehouseForm,
)
from .selectors import (
    cycle_count_get,
    cycle_count_lines,
    cycle_counts_for,
    location_tree,
    locations_for,
    moves_for,
    stock_alerts_for,
    stock_level_get,
    stock_levels_for,
    stock_product,
    warehouse_get,
    warehouses_for,
    with_values,
)
from .workflows import COUNT_WORKFLOW


def _template(request, page: str, partial: str) -> str:
    return partial if request.htmx else page


def _raise_access(exc: DomainError) -> None:
    """A refusal about access (403, 404) is the page's answer, not a form error."""
    if exc.status in (403, 404) and not exc.fields:
        raise exc


# ---------------------------------------------------------------------------------------------
# Stock by product and warehouse


def _levels_page(request, listing, queryset, *, page: str, partial: str, title: str):
    actor = request.actor
    context = listing.page(request, queryset)
    context["object_list"] = with_values(context["object_list"])
    context.update(
        title=title,
        list_url=request.path,
        currency=actor.company.base_currency,
        can_change=actor.can("inventory.change"),
        state_choices=STATE_CHOICES,
    )
    if not request.htmx:
        context["warehouses"] = list(warehouses_for(actor=actor))
    return render(request, _template(request, page, partial), context)


@permission_required("inventory.view")
def stock_list_view(request):
    return _levels_page(
        request,
        STOCK_LISTING,
        stock_levels_for(actor=request.actor),
        page="inventory/stock_list.html",
        partial="inventory/partials/stock_table.html",
        title=_("Stock"),
    )


@permission_required("inventory.view")
def alert_list_view(request):
    return _levels_page(
        request,
        ALERT_LISTING,
        stock_alerts_for(actor=request.actor),
        page="inventory/alert_list.html",
        partial="inventory/partials/stock_table.html",
        title=_("Replenishment"),
    )


def _product_page(request, product_id: int, *, limits_form=None, status=200):
    actor = request.actor
    context = stock_product(actor=actor, product_id=product_id)
    warehouses = list(warehouses_for(actor=actor).filter(is_active=True))
    if limits_form is None:
        # Filled with the limits of the warehouse asked for (?warehouse=), else of the first one.
        levels = {str(level.warehouse_id): level for level in context["levels"]}
        chosen = levels.get(request.GET.get("warehouse", "")) or next(iter(levels.values()), None)
        initial = {}
        if chosen is not None:
            initial = {
                "warehouse": str(chosen.warehouse_id),
                "reorder_point": chosen.reorder_point,
                "maximum": chosen.maximum,
            }
        limits_form = LimitsForm(warehouses=warehouses, initial=initial)
    context.update(
        currency=actor.company.base_currency,
        can_change=actor.can("inventory.change"),
        limits_form=limits_form,
    )
    return render(request, "inventory/stock_product.html", context, status=status)


@permission_required("inventory.view")
def stock_product_view(request, product_id: int):
    return _product_page(request, product_id)


@permission_required("inventory.change")
@require_POST
def stock_limits_view(request, product_id: int):
    actor = request.actor
    form = LimitsForm(request.POST, warehouses=warehouses_for(actor=actor).filter(is_active=True))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.stock_level_settings_set(
                actor=actor,
                product_id=product_id,
                warehouse_id=int(data["warehouse"]),
                reorder_point=data["reorder_point"],
                maximum=data["maximum"],
            )
        except DomainError as exc:
            _raise_access(exc)
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Reorder point and maximum saved."))
            return redirect("inventory:stock_product", product_id=product_id)
    return _product_page(request, product_id, limits_form=form, status=422)


@permission_required("inventory.view")
def level_detail_view(request, level_id: int):
    """Where a deviation about a product's stock in a warehouse points: the product's stock page."""
    level = stock_level_get(actor=request.actor, level_id=level_id)
    return redirect("inventory:stock_product", product_id=level.product_id)


# ---------------------------------------------------------------------------------------------
# Moves


@permission_required("inventory.view")
def move_list_view(request):
    actor = request.actor
    warehouse_id = positive_int(request.GET.get("warehouse", ""))
    location_id = positive_int(request.GET.get("location", ""))
    context = MOVE_LISTING.page(request, moves_for(actor=actor, warehouse_id=warehouse_id, location_id=location_id))
    context.update(
        warehouse_id=warehouse_id,
        location_id=location_id,
        currency=actor.company.base_currency,
        reasons=MoveReason.choices,
    )
    if not request.htmx:
        context["warehouses"] = list(warehouses_for(actor=actor))
        context["locations"] = list(locations_for(actor=actor))
    return render(
        request, _template(request, "inventory/move_list.html", "inventory/partials/move_table.html"), context
    )


# ---------------------------------------------------------------------------------------------
# Receipts, adjustments, relocations and transfers


def _stock_form_view(request, form_class, service, *, title: str, done: str, submit: str):
    actor = request.actor
    initial = {"sku": request.GET.get("sku", "")}
    form = form_class(request.POST or None, actor=actor, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                result = service(actor=actor, **form.service_data())
            except DomainError as exc:
                _raise_access(exc)
                form.add_service_errors(exc)
                status = exc.status if isinstance(exc, Conflict) else 422
            else:
                move = result[-1] if isinstance(result, tuple) else result
                messages.success(request, done % {"quantity": move.quantity, "sku": form.product.sku})
                return redirect("inventory:stock_product", product_id=form.product.pk)
    return render(request, "inventory/stock_form.html", {"form": form, "title": title, "submit": submit}, status=status)


@permission_required("inventory.change")
def receive_view(request):
    return _stock_form_view(
        request,
        ReceiptForm,
        services.stock_receive,
        title=_("Receive goods"),
        done=_("%(quantity)s of %(sku)s received."),
        submit=_("Receive"),
    )


@permission_required("inventory.change")
def adjust_view(request):
    return _stock_form_view(
        request,
        AdjustmentForm,
        services.stock_adjust,
        title=_("Adjust stock"),
        done=_("Stock of %(sku)s adjusted by %(quantity)s."),
        submit=_("Adjust"),
    )


@permission_required("inventory.change")
def relocate_view(request):
    return _stock_form_view(
        request,
        RelocationForm,
        services.stock_relocate,
        title=_("Move stock between locations"),
        done=_("%(quantity)s of %(sku)s moved."),
        submit=_("Move"),
    )


@permission_required("inventory.change")
def transfer_view(request):
    return _stock_form_view(
        request,
        TransferForm,
        services.stock_transfer,
        title=_("Transfer between warehouses"),
        done=_("%(quantity)s of %(sku)s transferred."),
        submit=_("Transfer"),
    )


# ---------------------------------------------------------------------------------------------
# Warehouses and locations


@permission_required("inventory.view")
def warehouse_list_view(request):
    actor = request.actor
    warehouses = list(warehouses_for(actor=actor))
    return render(
        request,
        "inventory/warehouse_list.html",
        {"warehouses": warehouses, "can_change": actor.can("inventory.change")},
    )


@permission_required("inventory.change")
def warehouse_create_view(request):
    form = WarehouseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                warehouse = services.warehouse_create(actor=request.actor, **form.cleaned_data)
            except DomainError as exc:
                _raise_access(exc)
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Warehouse %(code)s created.") % {"code": warehouse.code})
                return redirect("inventory:warehouse_detail", warehouse_id=warehouse.pk)
    return render(request, "inventory/warehouse_form.html", {"form": form}, status=status)


def _warehouse_page(request, warehouse_id: int, *, form=None, status=200):
    actor = request.actor
    warehouse = warehouse_get(actor=actor, warehouse_id=warehouse_id)
    tree = location_tree(actor=actor, warehouse=warehouse)
    return render(
        request,
        "inventory/warehouse_detail.html",
        {
            "warehouse": warehouse,
            "tree": tree,
            "form": form or LocationForm(tree=tree),
            "can_change": actor.can("inventory.change"),
            "timeline": timeline_for(company=actor.company, obj=warehouse),
        },
        status=status,
    )


@permission_required("inventory.view")
def warehouse_detail_view(request, warehouse_id: int):
    return _warehouse_page(request, warehouse_id)


@permission_required("inventory.change")
@require_POST
def location_create_view(request, warehouse_id: int):
    actor = request.actor
    warehouse = warehouse_get(actor=actor, warehouse_id=warehouse_id)
    form = LocationForm(request.POST, tree=location_tree(actor=actor, warehouse=warehouse))
    if form.is_valid():
        data = form.cleaned_data
        try:
            location = services.location_create(
                actor=actor,
                warehouse_id=warehouse.pk,
                code=data["code"],
                name=data["name"],
                parent_id=int(data["parent"]),
            )
        except DomainError as exc:
            _raise_access(exc)
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Location %(code)s created.") % {"code": location.code})
            return redirect("inventory:warehouse_detail", warehouse_id=warehouse.pk)
    return _warehouse_page(request, warehouse.pk, form=form, status=422)


# ---------------------------------------------------------------------------------------------
# Cycle counts


@permission_required("inventory.view")
def count_list_view(request):
    actor = request.actor
    context = COUNT_LISTING.page(request, cycle_counts_for(actor=actor))
    context.update(can_change=actor.can("inventory.change"), statuses=CycleCountStatus.choices)
    if not request.htmx:
        context["warehouses"] = list(warehouses_for(actor=actor))
    return render(
        request, _template(request, "inventory/count_list.html", "inventory/partials/count_table.html"), context
    )


@permission_required("inventory.change")
def count_create_view(request):
    actor = request.actor
    form = CountCreateForm(request.POST or None, actor=actor)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                count = services.cycle_count_create(actor=actor, **form.service_data())
            except DomainError as exc:
                _raise_access(exc)
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Cycle count %(number)s started.") % {"number": count.number})
                return redirect("inventory:count_detail", count_id=count.pk)
    return render(request, "inventory/count_form.html", {"form": form}, status=status)


def _count_page(request, count_id: int, *, record_form=None, add_form=None, error: str = "", status=200):
    actor = request.actor
    count = cycle_count_get(actor=actor, count_id=count_id)
    lines = cycle_count_lines(actor=actor, count=count)
    editable = count.status == CycleCountStatus.DRAFT and actor.can("inventory.change")
    record_form = record_form or CountRecordForm(lines=lines)
    for line in lines:
        line.field = record_form[f"counted_{line.pk}"]
    tree = []
    if editable and add_form is None:
        tree = location_tree(actor=actor, warehouse=count.warehouse)
    subtree = _subtree_of(tree, count.location_id)
    return render(
        request,
        "inventory/count_detail.html",
        {
            "count": count,
            "lines": lines,
            "record_form": record_form,
            "add_form": add_form or (CountLineAddForm(actor=actor, tree=subtree) if editable else None),
            "editable": editable,
            "actions": transitions_available(actor=actor, obj=count, workflow=COUNT_WORKFLOW),
            "error": error,
            "differences": sum(1 for line in lines if line.variance),
            "timeline": timeline_for(company=actor.company, obj=count),
        },
        status=status,
    )


def _subtree_of(tree, root_id) -> list:
    """The part of a location tree under `root_id` (itself included), depths rebased."""
    found, depth0 = [], None
    for location, depth in tree:
        if depth0 is not None and depth <= depth0:
            break
        if location.pk == root_id:
            depth0 = depth
        if depth0 is not None:
            found.append((location, depth - depth0))
    return found


@permission_required("inventory.view")
def count_detail_view(request, count_id: int):
    return _count_page(request, count_id)


@permission_required("inventory.change")
@require_POST
def count_record_view(request, count_id: int):
    actor = request.actor
    count = cycle_count_get(actor=actor, count_id=count_id)
    form = CountRecordForm(request.POST, lines=cycle_count_lines(actor=actor, count=count))
    if form.is_valid():
        try:
            services.cycle_count_record(actor=actor, count_id=count.pk, quantities=form.quantities())
        except DomainError as exc:
            _raise_access(exc)
            form.add_service_errors(exc)
            status = exc.status if isinstance(exc, Conflict) else 422
            return _count_page(request, count.pk, record_form=form, error=exc.message, status=status)
        if request.POST.get("then") == "complete":
            return _count_action(request, count.pk, "complete", record_form=form)
        messages.success(request, _("Counted quantities saved."))
    return redirect("inventory:count_detail", count_id=count.pk)


COUNT_ACTIONS = {
    "complete": (services.cycle_count_complete, gettext_lazy("Counting finished: the count waits for approval.")),
    "reopen": (services.cycle_count_reopen, gettext_lazy("The count is open for counting again.")),
    "post": (services.cycle_count_post, gettext_lazy("Count posted: the differences are in the stock.")),
    "cancel": (services.cycle_count_cancel, gettext_lazy("Count cancelled.")),
}


def _count_action(request, count_id: int, action: str, record_form=None):
    service, done = COUNT_ACTIONS[action]
    try:
        service(actor=request.actor, count_id=count_id)
    except DomainError as exc:
        _raise_access(exc)
        if isinstance(exc, ValidationFailed) and record_form is None:
            count = cycle_count_get(actor=request.actor, count_id=count_id)
            record_form = CountRecordForm.as_saved(cycle_count_lines(actor=request.actor, count=count))
        if record_form is not None:
            record_form.add_service_errors(exc)
        status = exc.status if isinstance(exc, Conflict) else 422
        return _count_page(request, count_id, record_form=record_form, error=exc.message, status=status)
    messages.success(request, str(done))
    return redirect("inventory:count_detail", count_id=count_id)


@permission_required("inventory.change")
@require_POST
def count_action_view(request, count_id: int, action: str):
    if action not in COUNT_ACTIONS:
        raise Http404(action)
    return _count_action(request, count_id, action)


@permission_required("inventory.change")
@require_POST
def count_line_add_view(request, count_id: int):
    actor = request.actor
    count = cycle_count_get(actor=actor, count_id=count_id)
    subtree = _subtree_of(location_tree(actor=actor, warehouse=count.warehouse), count.location_id)
    form = CountLineAddForm(request.POST, actor=actor, tree=subtree)
    if form.is_valid():
        try:
            services.cycle_count_line_add(
                actor=actor,
                count_id=count.pk,
                product_id=form.product.pk,
                location_id=int(form.cleaned_data["location"]),
            )
        except DomainError as exc:
            _raise_access(exc)
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Line added."))
            return redirect("inventory:count_detail", count_id=count.pk)
    return _count_page(request, count.pk, add_form=form, status=422)
