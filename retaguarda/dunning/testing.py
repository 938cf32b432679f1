"""Builders for tests of any area that needs dunning: customers who read their letters in a
given language, and invoices that fell due on a given day."""

from __future__ import annotations

import datetime
from decimal import Decimal

from retaguarda.billing.testing import invoice_build
from retaguarda.parties.testing import party_build

INVOICE_TERM_DAYS = 30


def dunning_customer(company, *, language: str, email: str | None = "", legal_name: str | None = None, **fields):
    """A customer of `company` who reads `language`, with an e-mail address unless `email=None`."""
    if email == "":
        email = f"accounts{company.pk}.{language}@example.com"
    return party_build(company, legal_name=legal_name, language=language, email=email or "", **fields)


def overdue_invoice(company, *, party, net: Decimal, due_date: datetime.date, tax_category: str = "standard"):
    """A posted invoice of one line of `net`, issued INVOICE_TERM_DAYS before `due_date`."""
    return invoice_build(
        company,
        party=party,
        lines=((Decimal(1), Decimal(net), tax_category),),
        issue_date=due_date - datetime.timedelta(days=INVOICE_TERM_DAYS),
        due_days=INVOICE_TERM_DAYS,
    )
