"""Reads of parties, always scoped to the actor's company and checked against `parties.view`."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from retaguarda.common.errors import NotFound
from retaguarda.core.permissions import Actor, require

from .filters import PARTY_LISTING
from .models import Address, Contact, Party, PaymentTerm

MAX_ID = 2**63 - 1
CUSTOMER = "customer"
SUPPLIER = "supplier"


def _main_city() -> Subquery:
    """The city of the default billing address, else of the default shipping one, else any."""
    return Subquery(
        Address.objects.filter(party=OuterRef("pk")).order_by("-is_default", "kind", "pk").values("city")[:1]
    )


def party_queryset(actor: Actor, *, role: str | None = None) -> QuerySet[Party]:
    """The actor's company's parties (customers or suppliers only with `role`), with `city`."""
    require(actor, "parties.view")
    queryset = (
        Party.objects.filter(company=actor.company)
        .select_related("payment_term")
        .annotate(city=Coalesce(_main_city(), Value("")))
    )
    if role == CUSTOMER:
        queryset = queryset.filter(is_customer=True)
    elif role == SUPPLIER:
        queryset = queryset.filter(is_supplier=True)
    return queryset


def party_search(actor: Actor, params, *, role: str | None = None) -> QuerySet[Party]:
    """The list pages' and the API's search: PARTY_LISTING's filters and sort on `params`."""
    queryset = PARTY_LISTING.filter(party_queryset(actor, role=role), params)
    queryset, _sort = PARTY_LISTING.sort(queryset, params.get("sort"))
    return queryset


def party_get(actor: Actor, party_id) -> Party:
    """One party of the actor's company, archived ones included; NotFound otherwise."""
    require(actor, "parties.view")
    pk = _pk(party_id)
    party = None
    if pk is not None:
        party = Party.objects.filter(company=actor.company, pk=pk).select_related("payment_term").first()
    if party is None:
        raise NotFound(_("No such customer or supplier."))
    return party


def party_with_details(actor: Actor, party_id) -> Party:
    """A party with its contacts and addresses loaded (detail page, API detail)."""
    party = party_get(actor, party_id)
    party_details_prefetch([party])
    return party


def _pk(value) -> int | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk <= MAX_ID else None


def party_contact_get(actor: Actor, party_id, contact_id) -> Contact:
    party = party_get(actor, party_id)
    contact = Contact.objects.filter(company=actor.company, party=party, pk=_pk(contact_id)).first()
    if contact is None:
        raise NotFound(_("No such contact."))
    return contact


def party_address_get(actor: Actor, party_id, address_id) -> Address:
    party = party_get(actor, party_id)
    address = Address.objects.filter(company=actor.company, party=party, pk=_pk(address_id)).first()
    if address is None:
        raise NotFound(_("No such address."))
    return address


def party_details_prefetch(parties) -> None:
    prefetch_related_objects(list(parties), "contacts", "addresses")


def party_counts(actor: Actor) -> dict[str, int]:
    """Active customers and suppliers of the actor's company (a party that is both counts in both)."""
    require(actor, "parties.view")
    return Party.objects.filter(company=actor.company, is_active=True).aggregate(
        customers=Count("pk", filter=Q(is_customer=True)),
        suppliers=Count("pk", filter=Q(is_supplier=True)),
    )


def payment_terms_for(actor: Actor) -> QuerySet[PaymentTerm]:
    require(actor, "parties.view")
    return PaymentTerm.objects.filter(company=actor.company).order_by("days", "name", "pk")


def payment_term_usage(actor: Actor) -> dict[int, int]:
    """How many parties use each payment term (to show which can be removed)."""
    require(actor, "parties.view")
    rows = (
        Party.objects.filter(company=actor.company, payment_term__isnull=False)
        .values("payment_term_id")
        .annotate(n=Count("pk"))
    )
    return {row["payment_term_id"]: row["n"] for row in rows}
