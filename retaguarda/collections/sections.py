"""The customer page's "Payments" section: balance, overdue and credit, the latest invoices and
credit notes, the latest payments and refunds, and a link to register a payment. Registered by
CollectionsConfig."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from retaguarda.core.permissions import Actor
from retaguarda.parties.models import Party
from retaguarda.parties.sections import Section, register

from .selectors import customer_history


def party_payments_context(actor: Actor, party: Party) -> dict:
    """What the customer owes and has paid (a fixed number of queries), and what the reader may do."""
    return {
        **customer_history(actor, party),
        "can_register": actor.can("collections.change") and party.is_active,
        "currency": actor.company.base_currency,
    }


PAYMENTS_SECTION = Section(
    code="payments",
    title=_("Payments"),
    template="collections/sections/party_payments.html",
    permission="collections.view",
    order=47,
    context=party_payments_context,
    applies=lambda party: party.is_customer,
)


def sections_register() -> None:
    register(PAYMENTS_SECTION)
