"""Billing pages: the invoice list, the invoice page with its actions (post, delete a draft,
credit note, PDF and the other downloads), the credit note and supplier bill forms, the tax
set-up, and the fragments other pages load (an order's invoices and its "Invoice" button, a
customer's invoices). Views parse input and call one service; a refusal is shown on the page it
came from, with the refusal's status and nothing changed."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from retaguarda.common.errors import DomainError
from retaguarda.core.selectors import timeline_for
from retaguarda.core.ui.decorators import permission_required
from retaguarda.parties.models import Party

from . import services
from .documents import invoice_pdf
from .filters import INVOICE_LISTING
from .forms import BillLineFormSet, CreditNoteForm, SupplierBillForm, bill_lines_payload
from .models import Invoice
from .selectors import (
    creditable_quantities,
    invoice_actions,
    invoice_get,
    invoice_search,
    invoiceable_quantities,
    invoicing_basis,
    order_for_invoicing,
    order_invoices,
    party_invoices,
    party_open_amount,
    tax_rules_for,
    taxes_for,
)

# Extra downloads of the invoice page, each a callable(invoice) -> [(label, url)], registered at
# app ready by the areas that make other files of a document (the NF-e XML, the UBL invoice).
DOCUMENT_DOWNLOADS: list[Callable[[Invoice], list[tuple[str, str]]]] = []
TIMELINE_LENGTH = 50
PARTY_INVOICES = 10


# --- list ---------------------------------------------------------------------------------------


@permission_required("billing.view")
def invoice_list(request):
    actor = request.actor
    context = INVOICE_LISTING.page(request, invoice_search(actor, {}))
    party_filter = context["active_filters"].get("party", "")
    context.update(
        can_change=actor.can("billing.change"),
        list_url=reverse("billing:invoice_list"),
        # The filtered party's name comes from the rows already read, not from another query.
        party_filter=party_filter,
        party_filter_name=next((str(i.party) for i in context["object_list"] if str(i.party_id) == party_filter), ""),
    )
    template = "billing/partials/invoice_table.html" if request.htmx else "billing/invoice_list.html"
    return render(request, template, context)


# --- the invoice page and its actions -----------------------------------------------------------


def _downloads(invoice: Invoice) -> list[tuple[str, str]]:
    links = [(_("PDF"), reverse("billing:invoice_pdf", args=[invoice.pk]))]
    for provider in DOCUMENT_DOWNLOADS:
        links.extend(provider(invoice))
    return links


def _detail(request, invoice: Invoice, *, status: int = 200, error: str = ""):
    actor = request.actor
    creditable = creditable_quantities(invoice)
    for line in invoice.prefetched_lines:
        line.creditable = creditable.get(line.pk)
    return render(
        request,
        "billing/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": invoice.prefetched_lines,
            "taxes": invoice.prefetched_taxes,
            "corrections": invoice.prefetched_corrections,
            "actions": invoice_actions(actor, invoice, creditable),
            "show_creditable": bool(creditable),
            "legal_mentions": [_(mention) for mention in invoice.legal_mentions or [] if mention],
            "downloads": _downloads(invoice),
            "can_view_party": actor.can("parties.view"),
            "can_view_order": actor.can("sales.view"),
            "timeline": list(timeline_for(company=actor.company, obj=invoice)[:TIMELINE_LENGTH]),
            "error": error,
        },
        status=status,
    )


@permission_required("billing.view")
def invoice_detail(request, pk: int):
    return _detail(request, invoice_get(request.actor, pk))


def _refused(request, pk: int, exc: DomainError):
    """The invoice page again with the refusal (its status), or the 403/404 page."""
    if exc.status in (403, 404):
        raise exc
    return _detail(request, invoice_get(request.actor, pk), status=exc.status, error=exc.message)


@require_POST
@permission_required("billing.change")
def invoice_post_view(request, pk: int):
    try:
        invoice = services.invoice_post(actor=request.actor, invoice_id=pk)
    except DomainError as exc:
        return _refused(request, pk, exc)
    messages.success(request, _("%(number)s issued and posted to the books.") % {"number": invoice.number})
    return redirect("billing:invoice_detail", pk=invoice.pk)


@require_POST
@permission_required("billing.change")
def invoice_delete_view(request, pk: int):
    try:
        services.invoice_draft_delete(actor=request.actor, invoice_id=pk)
    except DomainError as exc:
        return _refused(request, pk, exc)
    messages.success(request, _("The draft was deleted."))
    return redirect("billing:invoice_list")


@permission_required("billing.view")
def invoice_pdf_view(request, pk: int):
    name, pdf = invoice_pdf(actor=request.actor, invoice_id=pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


# --- credit notes -------------------------------------------------------------------------------


@permission_required("billing.change")
def credit_note_create_view(request, pk: int):
    actor = request.actor
    invoice = invoice_get(actor, pk, permission="billing.change")
    creditable = creditable_quantities(invoice)
    if not any(quantity > 0 for quantity in creditable.values()):
        messages.error(request, _("Only issued customer invoices with something left to credit can be corrected."))
        return redirect("billing:invoice_detail", pk=invoice.pk)
    form = CreditNoteForm(request.POST or None, lines=invoice.prefetched_lines, creditable=creditable)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                note = services.credit_note_create(
                    actor=actor, invoice_id=invoice.pk, lines=form.service_lines(), reason=form.cleaned_data["reason"]
                )
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                form.add_service_errors(exc)
                status = exc.status
            else:
                messages.success(request, _("Credit note drafted: check it and issue it."))
                return redirect("billing:invoice_detail", pk=note.pk)
    return render(request, "billing/credit_note_form.html", {"invoice": invoice, "form": form}, status=status)


# --- supplier bills -----------------------------------------------------------------------------


def _suppliers(actor):
    return Party.objects.filter(company=actor.company, is_supplier=True, is_active=True).order_by("legal_name", "pk")


@permission_required("billing.change")
def supplier_bill_create_view(request):
    actor = request.actor
    country = actor.company.country
    data = request.POST if request.method == "POST" else None
    form = SupplierBillForm(data, suppliers=_suppliers(actor))
    lines = BillLineFormSet(data, prefix="line", form_kwargs={"country": country})
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid() and lines.is_valid():
            try:
                bill = services.supplier_bill_create(
                    actor=actor,
                    supplier_id=form.cleaned_data["supplier"],
                    supplier_reference=form.cleaned_data["supplier_reference"],
                    issue_date=form.cleaned_data["issue_date"],
                    due_date=form.cleaned_data.get("due_date"),
                    lines=bill_lines_payload(lines),
                )
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                form.add_service_errors(exc)
                status = exc.status
            else:
                messages.success(request, _("Supplier bill recorded as a draft: check it and post it."))
                return redirect("billing:invoice_detail", pk=bill.pk)
    return render(request, "billing/supplier_bill_form.html", {"form": form, "lines": lines}, status=status)


# --- taxes --------------------------------------------------------------------------------------


@permission_required("billing.view")
def tax_list(request):
    return render(request, "billing/tax_list.html", {"taxes": list(taxes_for(request.actor))})


@permission_required("billing.view")
def tax_rule_list(request):
    return render(request, "billing/tax_rule_list.html", {"rules": list(tax_rules_for(request.actor))})


# --- the order page's invoicing panel -----------------------------------------------------------


def order_panel(request, order) -> str:
    """The placeholder the sales order page shows for billing (registered in sales' ORDER_PANELS):
    it loads the order's invoices and "Invoice" button with htmx, so the order page itself reads
    nothing of billing. Empty for users who may not see invoices."""
    actor = getattr(request, "actor", None)
    if actor is None or not actor.can("billing.view"):
        return ""
    return render_to_string("billing/partials/order_panel_placeholder.html", {"order": order}, request=request)


@require_GET
@permission_required("billing.view")
def order_invoices_view(request, order_pk: int):
    actor = request.actor
    order = order_for_invoicing(actor, order_pk)
    invoiceable = invoiceable_quantities(order, basis=invoicing_basis(actor.company))
    return render(
        request,
        "billing/partials/order_invoices.html",
        {
            "order": order,
            "invoices": order_invoices(actor, order.pk),
            "can_invoice": bool(invoiceable) and actor.can("billing.change"),
        },
    )


@require_POST
@permission_required("billing.change")
def order_invoice_view(request, order_pk: int):
    """Draft the invoice of what the order has not been invoiced for, and open it."""
    try:
        invoice = services.invoice_create_for_order(actor=request.actor, order_id=order_pk)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
        return redirect("sales:order_detail", pk=order_pk)
    messages.success(request, _("Invoice drafted: check it and issue it."))
    return redirect("billing:invoice_detail", pk=invoice.pk)


# --- the customer page's invoices section -------------------------------------------------------


@require_GET
@permission_required("billing.view")
def party_invoices_view(request, party_pk: int):
    actor = request.actor
    invoices, has_more = party_invoices(actor, party_pk, limit=PARTY_INVOICES)
    return render(
        request,
        "billing/sections/party_invoices_content.html",
        {
            "party_pk": party_pk,
            "invoices": invoices,
            "has_more": has_more,
            "open_amount": party_open_amount(actor, party_pk),
            "currency": actor.company.base_currency,
        },
    )
