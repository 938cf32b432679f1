"""Catalog pages: products, price lists and units of measure. Views parse input and call one
service; lists come from the same Listing declarations as the API."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from retaguarda.common.errors import ValidationFailed
from retaguarda.core.selectors import timeline_for
from retaguarda.core.ui.decorators import permission_required

from .choices import ProductKind
from .filters import PRICE_LIST_LISTING, PRODUCT_LISTING
from .forms import PriceListForm, PriceListItemForm, ProductForm
from .selectors import (
    price_list_get,
    price_list_items,
    price_lists_for,
    product_get,
    product_prices,
    products_for,
    tax_categories_for,
    units_for,
)
from .services import (
    price_list_create,
    price_list_item_remove,
    price_list_item_set,
    price_list_update,
    product_archive,
    product_create,
    product_update,
)


def _listing_template(request, page: str, partial: str) -> str:
    return partial if getattr(request, "htmx", False) else page


# ---------------------------------------------------------------------------------------------
# Products


@permission_required("catalog.view")
def product_list_view(request):
    actor = request.actor
    context = PRODUCT_LISTING.page(request, products_for(actor=actor))
    context["currency"] = actor.company.base_currency
    context["can_change"] = actor.can("catalog.change")
    if not getattr(request, "htmx", False):
        context["kinds"] = ProductKind.choices
        context["tax_categories"] = list(tax_categories_for(actor=actor).order_by("code"))
    template = _listing_template(request, "catalog/product_list.html", "catalog/partials/product_table.html")
    return render(request, template, context)


@permission_required("catalog.view")
def product_detail_view(request, product_id: int):
    actor = request.actor
    product = product_get(actor=actor, product_id=product_id)
    prices = product_prices(actor=actor, product=product)
    return render(
        request,
        "catalog/product_detail.html",
        {
            "product": product,
            "prices": prices,
            "currency": actor.company.base_currency,
            "can_change": actor.can("catalog.change"),
            "timeline": timeline_for(company=actor.company, obj=product),
        },
    )


@permission_required("catalog.change")
def product_create_view(request):
    actor = request.actor
    form = ProductForm(request.POST or None, actor=actor)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                product = product_create(actor=actor, **form.service_data())
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Product %(sku)s created.") % {"sku": product.sku})
                return redirect("catalog:product_detail", product_id=product.pk)
        status = 422
    return render(request, "catalog/product_form.html", {"form": form, "product": None}, status=status)


@permission_required("catalog.change")
def product_edit_view(request, product_id: int):
    actor = request.actor
    product = product_get(actor=actor, product_id=product_id)
    form = ProductForm(request.POST or None, actor=actor, product=product)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                product_update(actor=actor, product_id=product.pk, **form.service_data())
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Product %(sku)s saved.") % {"sku": form.cleaned_data["sku"]})
                return redirect("catalog:product_detail", product_id=product.pk)
        status = 422
    return render(request, "catalog/product_form.html", {"form": form, "product": product}, status=status)


@permission_required("catalog.change")
@require_POST
def product_archive_view(request, product_id: int):
    product = product_archive(actor=request.actor, product_id=product_id)
    messages.success(request, _("Product %(sku)s archived.") % {"sku": product.sku})
    return redirect("catalog:product_detail", product_id=product.pk)


# ---------------------------------------------------------------------------------------------
# Price lists


@permission_required("catalog.view")
def price_list_list_view(request):
    actor = request.actor
    context = PRICE_LIST_LISTING.page(request, price_lists_for(actor=actor))
    context["can_change"] = actor.can("catalog.change")
    template = _listing_template(request, "catalog/pricelist_list.html", "catalog/partials/pricelist_table.html")
    return render(request, template, context)


def _price_list_page(request, price_list, *, item_form=None, status=200):
    actor = request.actor
    return render(
        request,
        "catalog/pricelist_detail.html",
        {
            "price_list": price_list,
            "items": price_list_items(actor=actor, price_list=price_list),
            "item_form": item_form or PriceListItemForm(),
            "can_change": actor.can("catalog.change"),
            "timeline": timeline_for(company=actor.company, obj=price_list),
        },
        status=status,
    )


@permission_required("catalog.view")
def price_list_detail_view(request, price_list_id: int):
    return _price_list_page(request, price_list_get(actor=request.actor, price_list_id=price_list_id))


@permission_required("catalog.change")
def price_list_create_view(request):
    actor = request.actor
    form = PriceListForm(request.POST or None, actor=actor)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                price_list = price_list_create(actor=actor, **form.cleaned_data)
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Price list created."))
                return redirect("catalog:pricelist_detail", price_list_id=price_list.pk)
        status = 422
    return render(request, "catalog/pricelist_form.html", {"form": form, "price_list": None}, status=status)


@permission_required("catalog.change")
def price_list_edit_view(request, price_list_id: int):
    actor = request.actor
    price_list = price_list_get(actor=actor, price_list_id=price_list_id)
    form = PriceListForm(request.POST or None, actor=actor, price_list=price_list)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                price_list_update(actor=actor, price_list_id=price_list.pk, **form.cleaned_data)
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Price list saved."))
                return redirect("catalog:pricelist_detail", price_list_id=price_list.pk)
        status = 422
    return render(request, "catalog/pricelist_form.html", {"form": form, "price_list": price_list}, status=status)


@permission_required("catalog.change")
@require_POST
def price_list_item_set_view(request, price_list_id: int):
    actor = request.actor
    price_list = price_list_get(actor=actor, price_list_id=price_list_id)
    form = PriceListItemForm(request.POST)
    if form.is_valid():
        product = products_for(actor=actor).filter(sku=form.cleaned_data["sku"].strip()).first()
        try:
            price_list_item_set(
                actor=actor,
                price_list_id=price_list.pk,
                product_id=product.pk if product else None,
                min_quantity=form.cleaned_data["min_quantity"],
                unit_price=form.cleaned_data["unit_price"],
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Price saved."))
            return redirect("catalog:pricelist_detail", price_list_id=price_list.pk)
    return _price_list_page(request, price_list, item_form=form, status=422)


@permission_required("catalog.change")
@require_POST
def price_list_item_remove_view(request, price_list_id: int, item_id: int):
    price_list_item_remove(actor=request.actor, price_list_id=price_list_id, item_id=item_id)
    messages.success(request, _("Price removed."))
    return redirect("catalog:pricelist_detail", price_list_id=price_list_id)


# ---------------------------------------------------------------------------------------------
# Units of measure


@permission_required("catalog.view")
def uom_list_view(request):
    units = units_for(actor=request.actor)
    return render(request, "catalog/uom_list.html", {"units": units})
