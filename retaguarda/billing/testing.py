"""Builders for billing tests in any app: a company with its chart and taxes, and invoices
drafted or issued through the services."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from retaguarda.catalog.testing import product_build
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import company_build
from retaguarda.ledger.choices import AccountRole
from retaguarda.ledger.services import accounts_by_role
from retaguarda.parties.testing import party_build

from .calculations import due_date_for
from .choices import InvoiceKind
from .models import Invoice
from .services import _draft_compute, _draft_save, _new_invoice, _post

_counter = itertools.count(1)


def billing_company(country: str = "ES", **kwargs):
    """A company through company_create: its chart, journals, fiscal year and taxes installed."""
    return company_build(country=country, **kwargs)


def invoice_build(
    company,
    *,
    party=None,
    lines=((Decimal("1"), Decimal("100.00"), "standard"),),
    post: bool = True,
    issue_date: date | None = None,
    due_days: int = 30,
    currency: str | None = None,
    rate: Decimal | None = None,
    kind: str = InvoiceKind.CUSTOMER_INVOICE,
) -> Invoice:
    """An invoice (or supplier bill) of free lines (quantity, unit price, tax category), without an
    order, drafted with the company's taxes and issued unless `post` is false."""
    actor = system_actor(company)
    customer = kind in (InvoiceKind.CUSTOMER_INVOICE, InvoiceKind.CUSTOMER_CREDIT_NOTE)
    if party is None:
        party = party_build(company, is_customer=customer, is_supplier=not customer)
    issue_date = issue_date or date.today()
    invoice = _new_invoice(actor, kind=kind, party=party, address=None, issue_date=issue_date)
    invoice.due_date = due_date_for(issue_date, due_days)
    if kind == InvoiceKind.SUPPLIER_BILL:
        invoice.supplier_reference = f"SB-{next(_counter)}"
    if currency:
        invoice.currency = currency
        invoice.rate = rate or Decimal(1)
    roles = accounts_by_role(company.pk)
    account = roles[AccountRole.REVENUE if customer else AccountRole.PURCHASES]
    specs = []
    for quantity, price, category in lines:
        product = product_build(company, tax_category=category) if customer else None
        specs.append(
            {
                "product_id": product.pk if product else None,
                "description": product.name if product else f"Service {next(_counter)}",
                "quantity": Decimal(quantity),
                "unit_price": Decimal(price),
                "tax_category": category,
                "account_id": account.pk,
            }
        )
    lines_built, summary = _draft_compute(
        actor=actor, invoice=invoice, specs=specs, fiscal_position=invoice.fiscal_position
    )
    _draft_save(invoice, lines_built, summary)
    if post:
        from django.db import transaction

        with transaction.atomic():
            _post(actor, invoice, lines=lines_built)
    return invoice


def days_ago(n: int) -> date:
    return date.today() - timedelta(days=n)
