"""The one declaration of how product and price lists are searched, filtered and sorted:
used by the list pages and the API list endpoints alike."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from retaguarda.core.ui.listing import Filter, Listing, yes_no

from .choices import ProductKind

PRODUCT_LISTING = Listing(
    # display_name is the name in the reader's language; name the company's own.
    search_fields=("sku", "barcode", "name", "display_name"),
    sorts={
        "sku": "sku",
        "name": "display_name",
        "kind": "kind",
        "price": "list_price",
        "updated": "updated_at",
    },
    default_sort="sku",
    filters=(
        Filter("kind", "kind", _("Kind"), choices=tuple(ProductKind.choices)),
        Filter("active", "is_active", _("Active"), choices=(("1", _("Yes")), ("0", _("No"))), parse=yes_no),
        Filter("tax_category", "tax_category__code", _("Tax category")),
        Filter("sku", "sku", _("SKU")),
    ),
)

PRICE_LIST_LISTING = Listing(
    search_fields=("name",),
    sorts={"name": "name", "currency": "currency", "valid_from": "valid_from"},
    default_sort="name",
    filters=(Filter("active", "is_active", _("Active"), choices=(("1", _("Yes")), ("0", _("No"))), parse=yes_no),),
)
