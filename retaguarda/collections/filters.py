"""The one filter definition behind each collections list page and its API list endpoint:
payments, and bank statement lines to reconcile."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from retaguarda.common.inputs import valid_id
from retaguarda.core.ui.listing import Filter, Listing

from .choices import Direction, PaymentKind, PaymentMethod, PaymentStatus, StatementLineStatus


def _id(raw: str):
    return valid_id((raw or "").strip()) if (raw or "").strip().isdigit() else None


PAYMENT_LISTING = Listing(
    search_fields=("number", "reference", "party__legal_name", "party__trade_name"),
    sorts={"date": "date", "number": "number", "party": "party__legal_name", "amount": "amount"},
    default_sort="-date",
    filters=(
        Filter("direction", "direction", _("Direction"), choices=tuple(Direction.choices)),
        Filter("kind", "kind", _("Kind"), choices=tuple(PaymentKind.choices)),
        Filter("status", "status", _("Status"), choices=tuple(PaymentStatus.choices)),
        Filter("method", "method", _("Method"), choices=tuple(PaymentMethod.choices)),
        Filter("party", "party_id", _("Customer or supplier"), parse=_id),
        Filter("bank_account", "bank_account_id", _("Bank account"), parse=_id),
    ),
    per_page=25,
)

STATEMENT_LINE_LISTING = Listing(
    search_fields=("counterparty_name", "reference", "bank_reference"),
    sorts={"date": "booking_date", "amount": "amount", "counterparty": "counterparty_name"},
    default_sort="date",
    filters=(
        Filter("status", "status", _("Status"), choices=tuple(StatementLineStatus.choices)),
        Filter("statement", "statement_id", _("Statement"), parse=_id),
        Filter("bank_account", "bank_account_id", _("Bank account"), parse=_id),
    ),
    per_page=50,
)
