"""The one filter definition behind the customer and supplier list pages and GET /parties."""

from __future__ import annotations

import re

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from retaguarda.common.taxids import tax_id_compact
from retaguarda.core.choices import Country
from retaguarda.core.ui.listing import Filter, Listing, yes_no

from .choices import PartyKind

# A search term that looks like a formatted tax id (11.222.333/0001-81, B-58378431): searched
# in its compact, stored form.
_TAX_ID_LIKE = re.compile(r"^[0-9A-Za-z./-]*[0-9][0-9A-Za-z./-]*$")


def active_parse(raw: str):
    """yes/no/true/false/1/0; "all" (and anything else) means no filter."""
    return yes_no(raw)


def search_normalize(q: str) -> str:
    terms = []
    for term in "".join(c for c in (q or "") if c.isprintable()).split():
        digits = sum(c.isdigit() for c in term)
        if digits >= 5 and _TAX_ID_LIKE.match(term) and re.search(r"[./-]", term):
            term = tax_id_compact("", term)
        terms.append(term)
    return " ".join(terms)


class PartyListing(Listing):
    """Listing for parties: archived parties hidden unless `active` is given, tax ids matched
    compact, and distinct rows (searching cities joins the addresses)."""

    def filter(self, queryset: QuerySet, params) -> QuerySet:
        raw_q = params.get("q") or ""
        q = search_normalize(raw_q)
        if q != raw_q:
            params = params.copy()
            params["q"] = q
        if not (params.get("active") or "").strip():
            queryset = queryset.filter(is_active=True)
        queryset = super().filter(queryset, params)
        return queryset.distinct() if q else queryset


PARTY_LISTING = PartyListing(
    search_fields=("legal_name", "trade_name", "tax_id", "email", "addresses__city"),
    sorts={
        "name": "legal_name",
        "tax_id": "tax_id",
        "email": "email",
        "city": "city",
        "credit_limit": "credit_limit",
        "created": "created_at",
    },
    default_sort="name",
    filters=(
        Filter("active", "is_active", _("Status"), parse=active_parse),
        Filter("kind", "kind", _("Kind"), choices=tuple(PartyKind.choices)),
        Filter("country", "tax_country", _("Country"), choices=tuple(Country.choices)),
        Filter("is_customer", "is_customer", _("Customer"), parse=yes_no),
        Filter("is_supplier", "is_supplier", _("Supplier"), parse=yes_no),
    ),
    per_page=25,
)
