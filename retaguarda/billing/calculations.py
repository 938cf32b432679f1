"""Pure rules of billing: which fiscal position a party has by default, how a document's open
amount reads as a payment status, how invoices are numbered, and conversion to the company's
currency at the named rounding point."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from retaguarda.common.fields import round_money

from .choices import InvoiceKind, InvoicingBasis, PaymentStatus

ZERO = Decimal(0)
EU_COUNTRIES = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())


def fiscal_position_default(
    *,
    company_country: str,
    company_state: str,
    party_country: str,
    party_state: str,
    party_is_company: bool,
    party_has_tax_id: bool,
) -> str:
    """The fiscal position a party gets when none is set on it.

    Spain: a business in another EU country with a tax id buys intra-community (reverse charge),
    anyone outside the EU is an export, everyone else is domestic. Brazil: a company is a
    contribuinte, a person a final consumer, inside or outside the company's state.
    """
    if company_country == "BR":
        who = "contribuinte" if party_is_company else "consumer"
        where = "same_state" if (party_state or "").upper() == (company_state or "").upper() else "other_state"
        return f"{who}_{where}"
    if company_country in EU_COUNTRIES:
        if party_country == company_country or not party_country:
            return "domestic"
        if party_country in EU_COUNTRIES:
            return "intra_eu_b2b" if party_is_company and party_has_tax_id else "domestic"
        return "export"
    return "domestic"


def invoiceable_quantity(line, basis: str) -> Decimal:
    """What an order line has left to invoice: shipped net of returns (or, on the ordered basis,
    ordered) less what is already invoiced; negative when a return awaits its credit note."""
    if basis == InvoicingBasis.ORDERED:
        return line.quantity - line.quantity_invoiced
    return line.quantity_shipped - line.quantity_returned - line.quantity_invoiced


def payment_status(*, payable: Decimal, residual: Decimal) -> str:
    if residual <= 0:
        return PaymentStatus.PAID
    return PaymentStatus.PARTIALLY_PAID if residual < payable else PaymentStatus.NOT_PAID


def to_base(amount: Decimal, rate: Decimal) -> Decimal:
    """A document amount in the company's currency: the one rounding point of conversion."""
    return round_money(amount * rate)


# Series per country and kind. Spain numbers each series per year ("F2026-000123"; credit notes
# — facturas rectificativas — in their own series "R"). Brazil numbers NF-e per series without
# restarting each year. Supplier bills get an internal number per year.
SERIES = {
    "ES": {InvoiceKind.CUSTOMER_INVOICE: "F", InvoiceKind.CUSTOMER_CREDIT_NOTE: "R"},
    "BR": {InvoiceKind.CUSTOMER_INVOICE: "1", InvoiceKind.CUSTOMER_CREDIT_NOTE: "2"},
}
SERIES_DEFAULT = {
    InvoiceKind.CUSTOMER_INVOICE: "INV",
    InvoiceKind.CUSTOMER_CREDIT_NOTE: "CN",
    InvoiceKind.SUPPLIER_BILL: "BILL",
    InvoiceKind.SUPPLIER_CREDIT_NOTE: "BCN",
}


def series_for(country: str, kind: str) -> str:
    return SERIES.get(country, {}).get(kind) or SERIES_DEFAULT[kind]


def series_restarts_yearly(country: str, kind: str) -> bool:
    return not (country == "BR" and kind in (InvoiceKind.CUSTOMER_INVOICE, InvoiceKind.CUSTOMER_CREDIT_NOTE))


def number_format(*, country: str, kind: str, series: str, year: int, sequence_number: int) -> str:
    if not series_restarts_yearly(country, kind):
        return f"{series}-{sequence_number:09d}"
    return f"{series}{year}-{sequence_number:06d}"


def due_date_for(issue_date: date, days: int) -> date:
    from datetime import timedelta

    return issue_date + timedelta(days=max(int(days or 0), 0))
