"""The one filter definition behind the order list page and GET /sales/orders."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from retaguarda.core.ui.listing import Filter, Listing, yes_no

from .choices import BillingStatus, Channel, FulfilmentStatus, OrderStatus


def _id(raw: str):
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**63 else None


ORDER_LISTING = Listing(
    search_fields=("number", "external_ref", "customer__legal_name", "customer__trade_name", "customer__email"),
    sorts={
        "number": "number",
        "ordered": "ordered_at",
        "promised": "promised_date",
        "customer": "customer__legal_name",
        "amount": "amount_untaxed",
    },
    default_sort="-ordered",
    filters=(
        Filter("status", "status", _("Status"), choices=tuple(OrderStatus.choices)),
        Filter("fulfilment", "fulfilment_status", _("Fulfilment"), choices=tuple(FulfilmentStatus.choices)),
        Filter("billing", "billing_status", _("Billing"), choices=tuple(BillingStatus.choices)),
        Filter("channel", "channel", _("Channel"), choices=tuple(Channel.choices)),
        Filter("backordered", "is_backordered", _("Back-ordered"), parse=yes_no),
        Filter("customer", "customer_id", _("Customer"), parse=_id),
        Filter("external_ref", "external_ref", _("Shop reference"), parse=lambda raw: (raw or "").strip() or None),
    ),
    per_page=25,
)
