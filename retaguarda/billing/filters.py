"""The one filter definition behind the invoice list page and GET /billing/invoices."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext_lazy as _

from retaguarda.core.ui.listing import Filter, Listing, yes_no

from .choices import InvoiceKind, InvoiceStatus, PaymentStatus

# Dates outside this range are typing mistakes; ignoring them keeps date arithmetic in range.
DATE_MIN = datetime.date(1900, 1, 1)
DATE_MAX = datetime.date(9000, 12, 31)


def _id(raw: str):
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**63 else None


def date_param(raw: str):
    """A YYYY-MM-DD date within DATE_MIN..DATE_MAX, else None (the filter is ignored)."""
    try:
        value = datetime.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return value if DATE_MIN <= value <= DATE_MAX else None


INVOICE_LISTING = Listing(
    search_fields=("number", "supplier_reference", "party__legal_name", "party__trade_name", "party__tax_id"),
    sorts={
        "number": "number",
        "issued": "issue_date",
        "due": "due_date",
        "party": "party__legal_name",
        "total": "grand_total",
        "open": "residual",
    },
    default_sort="-issued",
    filters=(
        Filter("kind", "kind", _("Kind"), choices=tuple(InvoiceKind.choices)),
        Filter("status", "status", _("Status"), choices=tuple(InvoiceStatus.choices)),
        Filter("payment", "payment_status", _("Payment"), choices=tuple(PaymentStatus.choices)),
        Filter("party", "party_id", _("Customer or supplier"), parse=_id),
        Filter("order", "order_id", _("Order"), parse=_id),
        Filter("issued_from", "issue_date__gte", _("Issued from"), parse=date_param),
        Filter("issued_to", "issue_date__lte", _("Issued until"), parse=date_param),
        # `is_overdue` is annotated by selectors.invoice_queryset (it depends on today's date).
        Filter("overdue", "is_overdue", _("Overdue"), parse=yes_no),
    ),
    per_page=25,
)
