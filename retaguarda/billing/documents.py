"""The printed invoice, credit note or supplier bill: HTML in the document's language, printed to
PDF by weasyprint. Seller and buyer, lines, the tax box per rate, totals, withholding and the
amount due, the legal mentions (translated when printed), what a credit note corrects, and how
to pay: the company's IBAN with the invoice number as reference in Spain and the EU, a PIX code
and its QR in Brazil. Other areas add blocks near the totals through PDF_EXTRAS."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext

from retaguarda.core.choices import Country, Language
from retaguarda.core.permissions import Actor

from .calculations import EU_COUNTRIES
from .choices import InvoiceKind, InvoiceStatus
from .models import Invoice, InvoiceLine, InvoiceTax
from .pix import pix_payload, pix_qr_svg, txid_clean
from .selectors import invoice_get

# Blocks printed near the totals, each a callable(invoice) -> HTML, called in the document's
# language; registered at app ready by the areas that need them (Spain's Verifactu QR). Their
# HTML is trusted as it is: it comes from code, never from input.
PDF_EXTRAS: list[Callable[[Invoice], str]] = []

ADDRESS_KEYS = ("street", "number", "complement", "district", "postal_code", "city", "state", "province", "country")


def document_language(invoice: Invoice) -> str:
    """The document's language, else the company's, else English."""
    for language in (invoice.language, invoice.company.default_language):
        if language in Language.values:
            return language
    return "en"


def document_title(invoice: Invoice) -> str:
    """The document's name in the active language ("Factura rectificativa" for a Spanish credit
    note: the context lets each language use its legal wording)."""
    titles = {
        InvoiceKind.CUSTOMER_INVOICE: pgettext("fiscal document", "Invoice"),
        InvoiceKind.CUSTOMER_CREDIT_NOTE: pgettext("fiscal document", "Credit note"),
        InvoiceKind.SUPPLIER_BILL: pgettext("fiscal document", "Supplier bill"),
        InvoiceKind.SUPPLIER_CREDIT_NOTE: pgettext("fiscal document", "Supplier credit note"),
    }
    return titles.get(invoice.kind, invoice.kind)


def _country_name(code: str) -> str:
    return str(dict(Country.choices).get(code, code)) if code else ""


def address_lines(data: dict) -> list[str]:
    """Postal address lines from a dict with street, number, complement, district, postal_code,
    city, state or province and country keys (any may be missing)."""
    get = {key: str(data.get(key) or "").strip() for key in ADDRESS_KEYS}
    lines = [
        " ".join(p for p in (get["street"], get["number"]) if p),
        get["complement"],
        get["district"],
        " ".join(p for p in (get["postal_code"], get["city"]) if p),
        get["state"] or get["province"],
        _country_name(get["country"]),
    ]
    return [line for line in lines if line]


def iban_display(iban: str) -> str:
    """An IBAN in groups of four, as printed: "ES91 2100 0418 4502 0005 1332"."""
    compact = "".join((iban or "").split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def payment_instructions(invoice: Invoice) -> dict | None:
    """How the customer pays a customer invoice with something to pay: the company's IBAN with
    the invoice number as reference (Spain and the EU), or a PIX code of the open amount
    (Brazil, in reais); None when there is nothing to say or the company has not set it up."""
    if invoice.kind != InvoiceKind.CUSTOMER_INVOICE or invoice.payable <= 0:
        return None
    company = invoice.company
    settings = company.fiscal_settings or {}
    reference = invoice.number
    if company.country == "BR":
        key = str(settings.get("pix_key") or "").strip()
        if not key or invoice.currency != "BRL":
            return None
        amount = invoice.residual if invoice.status == InvoiceStatus.POSTED else invoice.payable
        if amount <= 0:
            return None
        try:
            code = pix_payload(
                key=key,
                merchant_name=company.legal_name,
                merchant_city=str(settings.get("city") or ""),
                amount=amount,
                txid=txid_clean(reference) if reference else "",
            )
        except ValueError:  # a key the BR Code cannot carry: print no code rather than a wrong one
            return None
        return {"method": "pix", "code": code, "qr_svg": mark_safe(pix_qr_svg(code)), "amount": amount}
    if company.country in EU_COUNTRIES:
        iban = str(settings.get("iban") or "").strip()
        if not iban:
            return None
        return {
            "method": "iban",
            "iban": iban_display(iban),
            "bic": str(settings.get("bic") or "").strip(),
            "reference": reference,
        }
    return None


def _prefetch(invoice: Invoice) -> None:
    """Lines and tax summary of an invoice not read through selectors.invoice_get."""
    if getattr(invoice, "prefetched_lines", None) is None:
        invoice.prefetched_lines = list(
            InvoiceLine.objects.filter(invoice=invoice).select_related("product").order_by("position")
        )
    if getattr(invoice, "prefetched_taxes", None) is None:
        invoice.prefetched_taxes = list(InvoiceTax.objects.filter(invoice=invoice).order_by("family", "rate", "code"))


def _line_rates(line: InvoiceLine) -> str:
    """The rates of the taxes a line adds or has withheld, for its row: "21 %", "21 % + 5.2 %",
    "21 % −15 %". Taxes included in the price show in the tax box only."""
    added, withheld = [], []
    for tax in line.taxes or []:
        if tax.get("included"):
            continue
        rate = Decimal(str(tax.get("rate") or "0")).normalize()
        (withheld if tax.get("withheld") else added).append(f"{rate:f} %")
    return " ".join([" + ".join(added), *(f"−{text}" for text in withheld)]).strip()


def invoice_context(invoice: Invoice) -> dict:
    """The template's variables, in the active language."""
    _prefetch(invoice)
    company = invoice.company
    settings = company.fiscal_settings or {}
    snapshot = invoice.party_snapshot or {}
    for line in invoice.prefetched_lines:
        line.rates_text = _line_rates(line)
    taxes = [t for t in invoice.prefetched_taxes if not t.withheld]
    withheld = [t for t in invoice.prefetched_taxes if t.withheld]
    return {
        "invoice": invoice,
        "company": company,
        "title": document_title(invoice),
        "is_draft": invoice.status == InvoiceStatus.DRAFT,
        "seller_address": address_lines({**settings, "country": settings.get("country") or company.country}),
        "buyer": snapshot,
        "buyer_address": address_lines(snapshot),
        "lines": invoice.prefetched_lines,
        "taxes": taxes,
        "withheld_taxes": withheld,
        "legal_mentions": [gettext(mention) for mention in invoice.legal_mentions or [] if mention],
        "corrected": invoice.corrected_invoice if invoice.corrected_invoice_id else None,
        "payment": payment_instructions(invoice),
        "extras": [mark_safe(extra(invoice)) for extra in PDF_EXTRAS],
    }


def invoice_html(invoice: Invoice) -> str:
    """The document as HTML in its language (dates, numbers and legal mentions too)."""
    language = document_language(invoice)
    with translation.override(language):
        context = invoice_context(invoice)
        context["language"] = language
        return render_to_string("billing/invoice_document.html", context)


def invoice_file_name(invoice: Invoice) -> str:
    stem = {
        InvoiceKind.CUSTOMER_CREDIT_NOTE: "credit-note",
        InvoiceKind.SUPPLIER_BILL: "supplier-bill",
        InvoiceKind.SUPPLIER_CREDIT_NOTE: "supplier-credit-note",
    }.get(invoice.kind, "invoice")
    number = "".join(c for c in invoice.number if c.isalnum() or c in "-_") or f"draft-{invoice.pk}"
    return f"{stem}-{number}.pdf"


def invoice_pdf(*, actor: Actor, invoice_id) -> tuple[str, bytes]:
    """(file name, PDF bytes) of a document; needs `billing.view`."""
    import weasyprint  # loaded on demand: Pango and fonts cost time at start-up

    invoice = invoice_get(actor, invoice_id)
    return invoice_file_name(invoice), weasyprint.HTML(string=invoice_html(invoice)).write_pdf()
