"""The one declaration of how the stock, move, alert and cycle count lists are searched,
filtered and sorted."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext_lazy as _

from retaguarda.core.ui.listing import Filter, Listing

from .choices import ALERT_STATES, CycleCountStatus, MoveReason


def positive_int(raw: str):
    return int(raw) if raw.isdigit() else None


def iso_date(raw: str):
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


STATE_CHOICES = tuple((state.value, state.label) for state in ALERT_STATES)
_LEVEL_SORTS = {
    "sku": "product__sku",
    "name": "display_name",
    "warehouse": "warehouse__code",
    "on_hand": "on_hand",
    "allocated": "allocated",
    "available": "available_qty",
    "state": "state_rank",
}
_LEVEL_FILTERS = (
    Filter("warehouse", "warehouse_id", _("Warehouse"), parse=positive_int),
    Filter("state", "state", _("Show"), choices=STATE_CHOICES),
)

STOCK_LISTING = Listing(
    search_fields=("product__sku", "product__name", "display_name"),
    sorts=_LEVEL_SORTS,
    default_sort="sku",
    filters=_LEVEL_FILTERS,
)

ALERT_LISTING = Listing(
    search_fields=("product__sku", "product__name", "display_name"),
    sorts=_LEVEL_SORTS,
    default_sort="state",
    filters=_LEVEL_FILTERS,
)

MOVE_LISTING = Listing(
    search_fields=("product__sku", "product__name", "reference", "note"),
    sorts={"date": "created_at", "sku": "product__sku", "quantity": "quantity", "reason": "reason"},
    default_sort="-date",
    filters=(
        Filter("reason", "reason", _("Reason"), choices=tuple(MoveReason.choices)),
        Filter("sku", "product__sku", _("SKU")),
        Filter("from", "created_at__date__gte", _("From"), parse=iso_date),
        Filter("to", "created_at__date__lte", _("To"), parse=iso_date),
        Filter("reference", "reference__icontains", _("Reference")),
    ),
)

COUNT_LISTING = Listing(
    search_fields=("number", "note", "location__code"),
    sorts={"number": "number", "created": "created_at", "status": "status"},
    default_sort="-created",
    filters=(
        Filter("status", "status", _("Status"), choices=tuple(CycleCountStatus.choices)),
        Filter("warehouse", "warehouse_id", _("Warehouse"), parse=positive_int),
    ),
)
