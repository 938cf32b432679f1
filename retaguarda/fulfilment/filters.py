"""The one declaration of how pick lists, shipments and returns are searched, filtered and
sorted: used by the list pages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from retaguarda.core.ui.listing import Filter, Listing

from .choices import PickListStatus, ReturnReason, ReturnStatus, ShipmentStatus

PICK_LIST_LISTING = Listing(
    search_fields=("number",),
    sorts={"number": "number", "created": "created_at", "status": "status", "warehouse": "warehouse__code"},
    default_sort="-created",
    filters=(
        Filter("status", "status", _("Status"), choices=tuple(PickListStatus.choices)),
        Filter("warehouse", "warehouse__code", _("Warehouse")),
    ),
)

SHIPMENT_LISTING = Listing(
    search_fields=("number", "order__number", "tracking_number", "order__customer__legal_name"),
    sorts={
        "number": "number",
        "created": "created_at",
        "status": "status",
        "order": "order__number",
        "shipped": "shipped_at",
    },
    default_sort="-created",
    filters=(
        Filter("status", "status", _("Status"), choices=tuple(ShipmentStatus.choices)),
        Filter("warehouse", "warehouse__code", _("Warehouse")),
    ),
)

RETURN_LISTING = Listing(
    search_fields=("number", "order__number", "order__customer__legal_name"),
    sorts={"number": "number", "created": "created_at", "status": "status", "order": "order__number"},
    default_sort="-created",
    filters=(
        Filter("status", "status", _("Status"), choices=tuple(ReturnStatus.choices)),
        Filter("reason", "reason", _("Reason"), choices=tuple(ReturnReason.choices)),
    ),
)
