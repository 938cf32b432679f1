"""Pages of customers and suppliers: lists, the customer page, forms, and POST actions."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from retaguarda.common.errors import DomainError
from retaguarda.core.ui.decorators import forbidden, permission_required

from . import services
from .filters import PARTY_LISTING
from .forms import AddressForm, ContactForm, PartyForm, PaymentTermForm, apply_domain_error
from .sections import sections_render
from .selectors import (
    CUSTOMER,
    SUPPLIER,
    party_address_get,
    party_contact_get,
    party_get,
    party_queryset,
    party_with_details,
    payment_term_usage,
    payment_terms_for,
)


def _list(request, role: str):
    context = PARTY_LISTING.page(request, party_queryset(request.actor, role=role))
    context.update(
        role=role,
        title=_("Customers") if role == CUSTOMER else _("Suppliers"),
        list_url=reverse("parties:customer_list" if role == CUSTOMER else "parties:supplier_list"),
        can_change=request.actor.can("parties.change"),
        can_import=request.actor.can("parties.import"),
        currency=request.actor.company.base_currency,
    )
    template = "parties/partials/party_table.html" if request.htmx else "parties/party_list.html"
    return render(request, template, context)


@permission_required("parties.view")
def customer_list(request):
    return _list(request, CUSTOMER)


@permission_required("parties.view")
def supplier_list(request):
    return _list(request, SUPPLIER)


@permission_required("parties.view")
def party_detail(request, pk: int):
    party = party_with_details(request.actor, pk)
    return render(
        request,
        "parties/party_detail.html",
        {
            "party": party,
            "sections": sections_render(request, party),
            "can_change": request.actor.can("parties.change"),
            "currency": request.actor.company.base_currency,
        },
    )


@permission_required("parties.change")
def party_create(request):
    role = request.GET.get("role")
    initial = {"is_customer": role != SUPPLIER, "is_supplier": role == SUPPLIER}
    form = PartyForm(request.POST if request.method == "POST" else None, actor=request.actor, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            party = services.party_create(actor=request.actor, **form.service_data())
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("%(name)s was created.") % {"name": party})
            return redirect("parties:party_detail", pk=party.pk)
    return render(
        request,
        "parties/party_form.html",
        {"form": form, "party": None, "title": _("New supplier") if role == SUPPLIER else _("New customer")},
        status=422 if form.errors else 200,
    )


@permission_required("parties.change")
def party_edit(request, pk: int):
    party = party_get(request.actor, pk)
    form = PartyForm(request.POST if request.method == "POST" else None, instance=party, actor=request.actor)
    if request.method == "POST" and form.is_valid():
        try:
            services.party_update(actor=request.actor, party_id=party.pk, **form.service_data())
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("parties:party_detail", pk=party.pk)
    party = party_get(request.actor, pk)  # the form changed its instance in place
    return render(
        request,
        "parties/party_form.html",
        {"form": form, "party": party, "title": _("Edit %(name)s") % {"name": party}},
        status=422 if form.errors else 200,
    )


def _post_action(request, action, success: str, pk: int):
    try:
        action()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect("parties:party_detail", pk=pk)


@require_POST
@permission_required("parties.change")
def party_archive(request, pk: int):
    return _post_action(
        request,
        lambda: services.party_archive(actor=request.actor, party_id=pk),
        _("Archived. It no longer shows in the lists; its history stays."),
        pk,
    )


@require_POST
@permission_required("parties.change")
def party_restore(request, pk: int):
    return _post_action(request, lambda: services.party_restore(actor=request.actor, party_id=pk), _("Restored."), pk)


# Contacts and addresses


def _child_form(request, pk: int, *, form, title: str, save):
    party = party_get(request.actor, pk)
    if request.method == "POST" and form.is_valid():
        try:
            save(party, form.cleaned_data)
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("parties:party_detail", pk=party.pk)
    return render(
        request,
        "parties/child_form.html",
        {"form": form, "party": party, "title": title},
        status=422 if form.errors else 200,
    )


@permission_required("parties.change")
def contact_create(request, pk: int):
    return _child_form(
        request,
        pk,
        form=ContactForm(request.POST if request.method == "POST" else None),
        title=_("New contact"),
        save=lambda party, data: services.party_contact_add(actor=request.actor, party_id=party.pk, **data),
    )


@permission_required("parties.change")
def contact_edit(request, pk: int, contact_pk: int):
    contact = party_contact_get(request.actor, pk, contact_pk)
    return _child_form(
        request,
        pk,
        form=ContactForm(request.POST if request.method == "POST" else None, instance=contact),
        title=_("Edit contact"),
        save=lambda party, data: services.party_contact_update(
            actor=request.actor, party_id=party.pk, contact_id=contact.pk, **data
        ),
    )


@require_POST
@permission_required("parties.change")
def contact_remove(request, pk: int, contact_pk: int):
    return _post_action(
        request,
        lambda: services.party_contact_remove(actor=request.actor, party_id=pk, contact_id=contact_pk),
        _("Contact removed."),
        pk,
    )


@permission_required("parties.change")
def address_create(request, pk: int):
    return _child_form(
        request,
        pk,
        form=AddressForm(request.POST if request.method == "POST" else None, actor=request.actor),
        title=_("New address"),
        save=lambda party, data: services.party_address_add(actor=request.actor, party_id=party.pk, **data),
    )


@permission_required("parties.change")
def address_edit(request, pk: int, address_pk: int):
    address = party_address_get(request.actor, pk, address_pk)
    return _child_form(
        request,
        pk,
        form=AddressForm(request.POST if request.method == "POST" else None, instance=address, actor=request.actor),
        title=_("Edit address"),
        save=lambda party, data: services.party_address_update(
            actor=request.actor, party_id=party.pk, address_id=address.pk, **data
        ),
    )


@require_POST
@permission_required("parties.change")
def address_remove(request, pk: int, address_pk: int):
    return _post_action(
        request,
        lambda: services.party_address_remove(actor=request.actor, party_id=pk, address_id=address_pk),
        _("Address removed."),
        pk,
    )


# Payment terms


@permission_required("parties.view")
def payment_term_list(request):
    form = PaymentTermForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not request.actor.can("parties.change"):
            return forbidden(request)
        if form.is_valid():
            try:
                services.payment_term_create(actor=request.actor, **form.cleaned_data)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("Payment term added."))
                return redirect("parties:payment_term_list")
        status = 422
    return render(
        request,
        "parties/payment_terms.html",
        {
            "terms": list(payment_terms_for(request.actor)),
            "usage": payment_term_usage(request.actor),
            "form": form,
            "can_change": request.actor.can("parties.change"),
        },
        status=status,
    )


@require_POST
@permission_required("parties.change")
def payment_term_remove(request, term_pk: int):
    try:
        services.payment_term_remove(actor=request.actor, payment_term_id=term_pk)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Payment term removed."))
    return redirect("parties:payment_term_list")
