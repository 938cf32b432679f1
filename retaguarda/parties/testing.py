"""Builders for tests of any area that needs customers or suppliers."""

from __future__ import annotations

import itertools

from retaguarda.common.taxids import tax_id_example
from retaguarda.core.models import Company
from retaguarda.core.permissions import Actor, system_actor

from .models import Party, PaymentTerm
from .services import party_create, payment_term_create

_counter = itertools.count(1)


def party_build(
    company: Company,
    *,
    kind: str = "company",
    is_customer: bool = True,
    is_supplier: bool = False,
    legal_name: str | None = None,
    tax_country: str | None = None,
    tax_id: str | None = None,
    actor: Actor | None = None,
    **fields,
) -> Party:
    """A party of `company` made through party_create, with a valid tax id of its own.

    `tax_id=None` picks a fresh valid number for the tax country (blank where none is known);
    pass "" for a party without one. Other fields (email, credit_limit, contacts, addresses…)
    go straight to party_create.
    """
    n = next(_counter)
    tax_country = tax_country or company.country
    if tax_id is None:
        tax_id = tax_id_example(country=tax_country, kind=kind, seed=n + 1000 * company.pk)
    if legal_name is None:
        legal_name = f"Person {n}" if kind == "person" else f"Company {n} Ltd"
    return party_create(
        actor=actor or system_actor(company),
        legal_name=legal_name,
        kind=kind,
        is_customer=is_customer,
        is_supplier=is_supplier,
        tax_country=tax_country,
        tax_id=tax_id,
        **fields,
    )


def payment_term_build(company: Company, *, name: str | None = None, days: int = 30) -> PaymentTerm:
    n = next(_counter)
    return payment_term_create(actor=system_actor(company), name=name or f"{days} days #{n}", days=days)
