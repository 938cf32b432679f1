"""Fulfilment pages: pick lists and the phone-first picking screen, shipments with parcels,
packing and shipping, and returns. Views parse input and call one service; a refusal is shown
on the page it came from, with the refusal's status and nothing changed."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from retaguarda.common.errors import Conflict, ValidationFailed
from retaguarda.core.selectors import timeline_for
from retaguarda.core.ui.decorators import permission_required
from retaguarda.core.workflow import transitions_available

from . import services
from .choices import PickListStatus, ReturnReason, ReturnStatus, ShipmentStatus
from .documents import delivery_note_pdf
from .filters import PICK_LIST_LISTING, RETURN_LISTING, SHIPMENT_LISTING
from .forms import ParcelForm, PickForm, PickListCreateForm, ReturnReceiveForm, ReturnRegisterForm, ShipForm
from .selectors import (
    order_for_return,
    pick_list_get,
    pick_list_of_line,
    pick_list_queryset,
    pick_progress,
    return_get,
    return_locations,
    return_queryset,
    shipment_get,
    shipment_queryset,
    warehouses_for,
)
from .workflows import PICK_LIST_WORKFLOW, RETURN_WORKFLOW, SHIPMENT_WORKFLOW

REFUSALS = (ValidationFailed, Conflict)


def _htmx(request) -> bool:
    return bool(getattr(request, "htmx", False))


def _actions(request, obj, workflow) -> set[str]:
    return {t.action for t in transitions_available(actor=request.actor, obj=obj, workflow=workflow)}


# ---------------------------------------------------------------------------------------------
# Pick lists


@permission_required("fulfilment.view")
def pick_list_list_view(request):
    actor = request.actor
    context = PICK_LIST_LISTING.page(request, pick_list_queryset(actor))
    context["can_change"] = actor.can("fulfilment.change")
    if not _htmx(request):
        context["statuses"] = PickListStatus.choices
        context["warehouses"] = list(warehouses_for(actor))
    template = "fulfilment/partials/picklist_table.html" if _htmx(request) else "fulfilment/picklist_list.html"
    return render(request, template, context)


@permission_required("fulfilment.change")
def pick_list_create_view(request):
    actor = request.actor
    warehouses = list(warehouses_for(actor))
    form = PickListCreateForm(
        request.POST or None,
        warehouses=warehouses,
        initial={"warehouse": str(warehouses[0].pk)} if len(warehouses) == 1 else None,
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                pick_list = services.pick_list_create(actor=actor, **form.service_data(request.user))
            except REFUSALS as exc:
                form.add_service_errors(exc)
                status = exc.status
            else:
                messages.success(request, _("Pick list %(number)s created.") % {"number": pick_list.number})
                return redirect("fulfilment:picklist_pick", pick_list_id=pick_list.pk)
    return render(request, "fulfilment/picklist_form.html", {"form": form}, status=status)


def _pick_list_page(request, pick_list_id, *, error: str = "", status: int = 200):
    actor = request.actor
    pick_list = pick_list_get(actor, pick_list_id)
    return render(
        request,
        "fulfilment/picklist_detail.html",
        {
            "pick_list": pick_list,
            "lines": pick_list.prefetched_lines,
            "shipments": pick_list.prefetched_shipments,
            "progress": pick_progress(pick_list.prefetched_lines),
            "actions": _actions(request, pick_list, PICK_LIST_WORKFLOW),
            "error": error,
            "timeline": timeline_for(company=actor.company, obj=pick_list),
        },
        status=status,
    )


@permission_required("fulfilment.view")
def pick_list_detail_view(request, pick_list_id: int):
    return _pick_list_page(request, pick_list_id)


def _picking(request, pick_list_id, *, form=None, short_form=None, done: str = "", status: int = 200):
    """The picking screen, or only its body for htmx (always 200 there: htmx swaps no 4xx)."""
    pick_list = pick_list_get(request.actor, pick_list_id)
    progress = pick_progress(pick_list.prefetched_lines)
    line = progress["next"]
    context = {
        "pick_list": pick_list,
        "lines": pick_list.prefetched_lines,
        "progress": progress,
        "line": line,
        "form": form or PickForm(),
        "short_form": short_form or PickForm(),
        "done": done,
        "can_change": request.actor.can("fulfilment.change"),
        "is_open": pick_list.status == PickListStatus.OPEN,
    }
    if _htmx(request):
        return render(request, "fulfilment/partials/picking.html", context)
    return render(request, "fulfilment/picking.html", context, status=status)


@permission_required("fulfilment.view")
def pick_list_pick_view(request, pick_list_id: int):
    return _picking(request, pick_list_id)


@permission_required("fulfilment.change")
@require_POST
def pick_line_confirm_view(request, line_id: int):
    short = request.POST.get("short") == "1"
    form = PickForm(request.POST)
    if short and not (request.POST.get("quantity") or "").strip():
        form.is_valid()
        form.add_error("quantity", _("Enter the quantity you found."))
    if form.is_valid():
        try:
            line = services.pick_line_confirm(
                actor=request.actor,
                line_id=line_id,
                code=form.cleaned_data["code"],
                quantity=form.cleaned_data["quantity"],
            )
        except REFUSALS as exc:
            form.add_service_errors(exc)
            status = exc.status
        else:
            if line.missing:
                done = _("Short pick: %(picked)s of %(quantity)s × %(sku)s; %(missing)s missing reported.") % {
                    "picked": line.quantity_picked,
                    "quantity": line.quantity,
                    "sku": line.product.sku,
                    "missing": line.missing,
                }
            else:
                done = _("Picked %(quantity)s × %(sku)s.") % {"quantity": line.quantity, "sku": line.product.sku}
            if _htmx(request):
                return _picking(request, line.pick_list_id, done=done)
            messages.success(request, done)
            return redirect("fulfilment:picklist_pick", pick_list_id=line.pick_list_id)
    else:
        status = 422
    pick_list_id = pick_list_of_line(request.actor, line_id)
    if short:
        return _picking(request, pick_list_id, short_form=form, status=status)
    return _picking(request, pick_list_id, form=form, status=status)


def _pick_list_action(request, pick_list_id, service, done_message, *, redirect_to="fulfilment:picklist_detail"):
    try:
        pick_list = service(actor=request.actor, pick_list_id=pick_list_id)
    except REFUSALS as exc:
        return _pick_list_page(request, pick_list_id, error=exc.message, status=exc.status)
    messages.success(request, done_message(pick_list))
    return redirect(redirect_to, pick_list_id=pick_list.pk)


@permission_required("fulfilment.change")
@require_POST
def pick_list_confirm_all_view(request, pick_list_id: int):
    return _pick_list_action(
        request,
        pick_list_id,
        services.pick_list_confirm_all,
        lambda p: _("Every line of %(number)s is picked.") % {"number": p.number},
    )


@permission_required("fulfilment.change")
@require_POST
def pick_list_complete_view(request, pick_list_id: int):
    def done(pick_list):
        count = len(pick_list.created_shipments)
        message = ngettext(
            "Pick list %(number)s is done: %(count)d shipment to pack.",
            "Pick list %(number)s is done: %(count)d shipments to pack.",
            count,
        )
        return message % {
            "number": pick_list.number,
            "count": count,
        }

    return _pick_list_action(request, pick_list_id, services.pick_list_complete, done)


@permission_required("fulfilment.change")
@require_POST
def pick_list_cancel_view(request, pick_list_id: int):
    return _pick_list_action(
        request,
        pick_list_id,
        services.pick_list_cancel,
        lambda p: _("Pick list %(number)s cancelled.") % {"number": p.number},
    )


# ---------------------------------------------------------------------------------------------
# Shipments


@permission_required("fulfilment.view")
def shipment_list_view(request):
    actor = request.actor
    context = SHIPMENT_LISTING.page(request, shipment_queryset(actor))
    if not _htmx(request):
        context["statuses"] = ShipmentStatus.choices
        context["warehouses"] = list(warehouses_for(actor))
    template = "fulfilment/partials/shipment_table.html" if _htmx(request) else "fulfilment/shipment_list.html"
    return render(request, template, context)


def _shipment_page(request, shipment_id, *, parcel_form=None, ship_form=None, error: str = "", status: int = 200):
    actor = request.actor
    shipment = shipment_get(actor, shipment_id)
    return render(
        request,
        "fulfilment/shipment_detail.html",
        {
            "shipment": shipment,
            "lines": shipment.prefetched_lines,
            "parcels": shipment.prefetched_parcels,
            "actions": _actions(request, shipment, SHIPMENT_WORKFLOW),
            "can_change": actor.can("fulfilment.change"),
            "parcel_form": parcel_form or ParcelForm(),
            "ship_form": ship_form or ShipForm(initial={"carrier": shipment.carrier}),
            "error": error,
            "timeline": timeline_for(company=actor.company, obj=shipment),
        },
        status=status,
    )


@permission_required("fulfilment.view")
def shipment_detail_view(request, shipment_id: int):
    return _shipment_page(request, shipment_id)


@permission_required("fulfilment.change")
@require_POST
def parcel_add_view(request, shipment_id: int):
    form = ParcelForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.parcel_add(actor=request.actor, shipment_id=shipment_id, **form.service_data())
        except REFUSALS as exc:
            form.add_service_errors(exc)
            status = exc.status
        else:
            messages.success(request, _("Parcel added."))
            return redirect("fulfilment:shipment_detail", shipment_id=shipment_id)
    return _shipment_page(request, shipment_id, parcel_form=form, status=status)


def _shipment_action(request, shipment_id, call, done: str):
    try:
        call()
    except REFUSALS as exc:
        return _shipment_page(request, shipment_id, error=exc.message, status=exc.status)
    messages.success(request, done)
    return redirect("fulfilment:shipment_detail", shipment_id=shipment_id)


@permission_required("fulfilment.change")
@require_POST
def parcel_remove_view(request, shipment_id: int, parcel_id: int):
    return _shipment_action(
        request,
        shipment_id,
        lambda: services.parcel_remove(actor=request.actor, shipment_id=shipment_id, parcel_id=parcel_id),
        _("Parcel removed."),
    )


@permission_required("fulfilment.change")
@require_POST
def shipment_pack_view(request, shipment_id: int):
    return _shipment_action(
        request,
        shipment_id,
        lambda: services.shipment_pack(actor=request.actor, shipment_id=shipment_id),
        _("Shipment packed."),
    )


@permission_required("fulfilment.change")
@require_POST
def shipment_reopen_view(request, shipment_id: int):
    return _shipment_action(
        request,
        shipment_id,
        lambda: services.shipment_reopen(actor=request.actor, shipment_id=shipment_id),
        _("Shipment reopened: its parcels can change."),
    )


@permission_required("fulfilment.change")
@require_POST
def shipment_cancel_view(request, shipment_id: int):
    return _shipment_action(
        request,
        shipment_id,
        lambda: services.shipment_cancel(actor=request.actor, shipment_id=shipment_id),
        _("Shipment cancelled: its goods go back to their bins."),
    )


@permission_required("fulfilment.change")
@require_POST
def shipment_ship_view(request, shipment_id: int):
    form = ShipForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            shipment = services.shipment_ship(actor=request.actor, shipment_id=shipment_id, **form.cleaned_data)
        except REFUSALS as exc:
            form.add_service_errors(exc)
            status = exc.status
        else:
            messages.success(request, _("Shipment %(number)s shipped.") % {"number": shipment.number})
            return redirect("fulfilment:shipment_detail", shipment_id=shipment_id)
    return _shipment_page(request, shipment_id, ship_form=form, status=status)


@permission_required("fulfilment.view")
def shipment_delivery_note_view(request, shipment_id: int):
    name, pdf = delivery_note_pdf(actor=request.actor, shipment_id=shipment_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


# ---------------------------------------------------------------------------------------------
# Returns


@permission_required("fulfilment.view")
def return_list_view(request):
    actor = request.actor
    context = RETURN_LISTING.page(request, return_queryset(actor))
    context["can_change"] = actor.can("fulfilment.change")
    if not _htmx(request):
        context["statuses"] = ReturnStatus.choices
        context["reasons"] = ReturnReason.choices
    template = "fulfilment/partials/return_table.html" if _htmx(request) else "fulfilment/return_list.html"
    return render(request, template, context)


@permission_required("fulfilment.change")
def return_create_view(request):
    """Step one: find the order by number; step two: the quantities coming back per shipped line."""
    actor = request.actor
    number = (request.POST.get("order_number") or request.GET.get("order") or "").strip()
    order = order_for_return(actor, number=number) if number else None
    context = {"number": number, "order": order, "form": None}
    status = 200
    if number and order is None:
        context["lookup_error"] = _("No such order: %(number)s.") % {"number": number[:32]}
        status = 404 if request.method == "GET" else 422
    if order is not None:
        form = ReturnRegisterForm(request.POST or None, order=order)
        context["form"] = form
        if request.method == "POST":
            status = 422
            if form.is_valid():
                try:
                    customer_return = services.return_register(
                        actor=actor,
                        order_id=order.pk,
                        lines=form.service_lines(),
                        reason=form.cleaned_data["reason"],
                        note=form.cleaned_data["note"],
                    )
                except REFUSALS as exc:
                    form.add_service_errors(exc)
                    status = exc.status
                else:
                    messages.success(request, _("Return %(number)s registered.") % {"number": customer_return.number})
                    return redirect("fulfilment:return_detail", return_id=customer_return.pk)
    return render(request, "fulfilment/return_form.html", context, status=status)


def _return_page(request, return_id, *, form=None, error: str = "", status: int = 200):
    actor = request.actor
    customer_return = return_get(actor, return_id)
    if form is None and customer_return.status == ReturnStatus.REGISTERED:
        form = ReturnReceiveForm(
            customer_return=customer_return,
            locations=return_locations(actor, customer_return.order.warehouse_id),
        )
    return render(
        request,
        "fulfilment/return_detail.html",
        {
            "customer_return": customer_return,
            "lines": customer_return.prefetched_lines,
            "actions": _actions(request, customer_return, RETURN_WORKFLOW),
            "form": form,
            "error": error,
            "timeline": timeline_for(company=actor.company, obj=customer_return),
        },
        status=status,
    )


@permission_required("fulfilment.view")
def return_detail_view(request, return_id: int):
    return _return_page(request, return_id)


@permission_required("fulfilment.change")
@require_POST
def return_receive_view(request, return_id: int):
    actor = request.actor
    customer_return = return_get(actor, return_id)
    form = ReturnReceiveForm(
        request.POST,
        customer_return=customer_return,
        locations=return_locations(actor, customer_return.order.warehouse_id),
    )
    status = 422
    if form.is_valid():
        try:
            services.return_receive(actor=actor, return_id=customer_return.pk, **form.service_data())
        except REFUSALS as exc:
            form.add_service_errors(exc)
            status = exc.status
        else:
            messages.success(request, _("Return %(number)s received.") % {"number": customer_return.number})
            return redirect("fulfilment:return_detail", return_id=customer_return.pk)
    return _return_page(request, customer_return.pk, form=form, status=status)


@permission_required("fulfilment.change")
@require_POST
def return_cancel_view(request, return_id: int):
    try:
        customer_return = services.return_cancel(actor=request.actor, return_id=return_id)
    except REFUSALS as exc:
        return _return_page(request, return_id, error=exc.message, status=exc.status)
    messages.success(request, _("Return %(number)s cancelled.") % {"number": customer_return.number})
    return redirect("fulfilment:return_detail", return_id=customer_return.pk)
