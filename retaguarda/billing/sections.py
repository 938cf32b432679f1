"""The customer (and supplier) page's "Invoices" section: the party's latest documents and what
it still owes. The page itself reads nothing of billing: the section loads its content with htmx
from billing:party_invoices, checked there for `billing.view`. Registered by BillingConfig."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from retaguarda.parties.sections import Section, register

INVOICES_SECTION = Section(
    code="invoices",
    title=_("Invoices"),
    template="billing/sections/party_invoices.html",
    permission="billing.view",
    order=45,
    applies=lambda party: party.is_customer or party.is_supplier,
)


def sections_register() -> None:
    register(INVOICES_SECTION)
