"""The printed invoice: in the document's language, with seller, buyer, lines, tax box, totals,
withholding, legal mentions, what a credit note corrects, how to pay (IBAN in Spain, PIX in
Brazil), the blocks other areas add; and its PDF."""

import re
from decimal import Decimal

import pytest
from babel.numbers import format_currency
from django.utils import translation
from django.utils.translation import gettext, pgettext

from retaguarda.billing import documents
from retaguarda.billing.documents import iban_display, invoice_html, invoice_pdf
from retaguarda.billing.models import Invoice, InvoiceLine
from retaguarda.billing.pix import pix_payload
from retaguarda.billing.selectors import invoice_get
from retaguarda.billing.services import credit_note_create, invoice_post
from retaguarda.billing.taxdata import _spain_taxes
from retaguarda.billing.testing import invoice_build
from retaguarda.catalog.services import tax_category_create
from retaguarda.core.choices import Role
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import actor_build
from retaguarda.parties.models import Party
from retaguarda.parties.testing import party_build

pytestmark = pytest.mark.django_db
IBAN = "ES9121000418450200051332"


def eur(amount: str, locale: str = "es_ES") -> str:
    return format_currency(Decimal(amount), "EUR", locale=locale)


def brl(amount: str) -> str:
    return format_currency(Decimal(amount), "BRL", locale="pt_BR")


def _settings(company, **values):
    company.fiscal_settings = {**(company.fiscal_settings or {}), **values}
    company.save(update_fields=["fiscal_settings"])


def _html(company, invoice) -> str:
    return invoice_html(invoice_get(system_actor(company), invoice.pk))


def _customer(company, *, position: str = "", **fields) -> Party:
    party = party_build(company, **fields)
    if position:
        Party.objects.filter(pk=party.pk).update(fiscal_position=position)
        party.refresh_from_db()
    return party


def test_a_spanish_invoice_in_spanish_with_totals_and_the_iban(company):
    _settings(company, street="Calle Mayor", number="1", postal_code="28013", city="Madrid", province="Madrid")
    _settings(company, iban="es91 2100 0418 4502 0005 1332")
    customer = _customer(company, legal_name="Bar Pepe SL", language="es")
    invoice = invoice_build(company, party=customer, lines=((Decimal("2"), Decimal("50.00"), "standard"),))
    Invoice.objects.filter(pk=invoice.pk).update(
        party_snapshot={**invoice.party_snapshot, "street": "Gran Vía", "number": "7", "postal_code": "08001",
                        "city": "Barcelona", "country": "ES"}
    )  # fmt: skip

    html = _html(company, invoice)

    assert '<html lang="es">' in html
    assert f'<dd id="document-number">{invoice.number}</dd>' in html
    assert invoice.number == f"F{invoice.issue_date.year}-000001"
    for text in (company.legal_name, company.tax_id, "Calle Mayor 1", "28013 Madrid", "Bar Pepe SL", customer.tax_id):
        assert text in html, text
    assert "Gran Vía 7" in html and "08001 Barcelona" in html and "España" in html
    # 2 × 50.00 = 100.00; IVA 21 % = 21.00; 121.00 due
    assert f'<td class="num" id="grand-total">{eur("121.00")}</td>' in html
    assert f'<td class="num" id="payable">{eur("121.00")}</td>' in html
    assert f'<td>IVA</td><td class="num">21 %</td><td class="num">{eur("100.00")}</td>' in html
    assert f'<strong id="iban">{iban_display(IBAN)}</strong>' in html
    assert iban_display(IBAN) == "ES91 2100 0418 4502 0005 1332"
    assert f"<strong>{invoice.number}</strong>" in html  # the transfer's reference
    assert 'id="pix-code"' not in html and 'id="draft-mark"' not in html


def test_an_intra_community_invoice_carries_its_legal_mention_in_the_invoice_language(company):
    customer = _customer(company, position="intra_eu_b2b", language="es")
    invoice = invoice_build(company, party=customer, lines=((Decimal("3"), Decimal("10.00"), "standard"),))
    mention = _spain_taxes()["IVA0_EU"].legal_mention
    assert invoice.legal_mentions == [mention]

    html = _html(company, invoice)

    with translation.override("es"):
        printed = gettext(mention)
    assert f"<p>{printed}</p>" in html
    assert invoice.tax_total == Decimal("0.00")
    assert f'<td class="num" id="payable">{eur("30.00")}</td>' in html


def test_legal_mentions_are_translated_when_printed(company):
    # A mention is stored in English and translated into the document's language at print time.
    invoice = invoice_build(company, party=_customer(company, language="es"))
    Invoice.objects.filter(pk=invoice.pk).update(legal_mentions=["Not given"])
    html = _html(company, invoice)
    assert "<p>No indicado</p>" in html
    Invoice.objects.filter(pk=invoice.pk).update(language="en")
    assert "<p>Not given</p>" in _html(company, invoice)


def test_withholding_lowers_the_amount_due(company):
    tax_category_create(actor=system_actor(company), code="professional-service", name="Professional services")
    customer = _customer(company, position="domestic_business", language="en")
    invoice = invoice_build(
        company, party=customer, lines=((Decimal("1"), Decimal("1000.00"), "professional-service"),)
    )
    assert (invoice.grand_total, invoice.withheld_total, invoice.payable) == (
        Decimal("1210.00"),
        Decimal("150.00"),
        Decimal("1060.00"),
    )
    html = _html(company, invoice)
    assert '<html lang="en">' in html
    assert f'<td class="num" id="grand-total">{eur("1210.00", "en_US")}</td>' in html
    assert f'<td>Withheld</td><td class="num">−{eur("150.00", "en_US")}</td>' in html
    assert f'<td class="num" id="payable">{eur("1060.00", "en_US")}</td>' in html
    assert 'IRPF <span class="muted">(withheld)</span>' in html
    assert '<td class="num">21 % −15 %</td>' in html  # the line's rates


def test_a_brazilian_invoice_has_a_pix_code_of_the_open_amount(company_br):
    _settings(company_br, pix_key="+5511912345678", city="São Paulo")
    customer = _customer(company_br, language="pt-br")
    invoice = invoice_build(company_br, party=customer, lines=((Decimal("3"), Decimal("19.90"), "standard"),))
    assert invoice.payable == Decimal("59.70")

    html = _html(company_br, invoice)

    code = pix_payload(
        key="+5511912345678",
        merchant_name=company_br.legal_name,
        merchant_city="São Paulo",
        amount=Decimal("59.70"),
        txid=invoice.number,
    )
    assert "540559.70" in code and "6009Sao Paulo" in code
    assert f'<span class="pix-code" id="pix-code">{code}</span>' in html
    assert re.search(r"<svg[^>]*>.*</svg>", html, re.S)
    assert '<html lang="pt-br">' in html
    # Simples Nacional: the taxes are included in the price, so the line rows show no rate.
    assert "0 % + 0 %" not in html and "<td>ICMS <span" in html
    assert f'<td class="num" id="payable">{brl("59.70")}</td>' in html
    assert 'id="iban"' not in html


def test_without_a_pix_key_or_iban_no_payment_block_is_printed(company, company_br):
    for c in (company, company_br):
        assert 'id="payment"' not in _html(c, invoice_build(c))


def test_a_credit_note_names_the_invoice_it_corrects_and_why(company):
    actor = system_actor(company)
    invoice = invoice_build(company, party=_customer(company, language="es"))
    line = InvoiceLine.objects.get(invoice=invoice)
    note = credit_note_create(actor=actor, invoice_id=invoice.pk, lines=[(line.pk, Decimal("1"))], reason="Roto")
    note = invoice_post(actor=actor, invoice_id=note.pk)

    html = _html(company, note)

    with translation.override("es"):
        title = pgettext("fiscal document", "Credit note")
    assert f'<h1 id="document-title">{title}</h1>' in html
    assert invoice.number in html and "Roto" in html
    assert f'<td class="num" id="payable">{eur("121.00")}</td>' in html
    assert 'id="payment"' not in html  # nothing to pay on a credit note


def test_a_draft_is_marked_and_has_no_number(company):
    draft = invoice_build(company, post=False, party=_customer(company, language="en"))
    html = _html(company, draft)
    assert 'id="draft-mark"' in html
    assert '<dd id="document-number">—</dd>' in html


def test_pdf_extras_are_printed_near_the_totals(company, monkeypatch):
    monkeypatch.setattr(documents, "PDF_EXTRAS", [lambda invoice: f'<p id="extra">QR {invoice.number}</p>'])
    invoice = invoice_build(company)
    html = _html(company, invoice)
    assert f'<div class="extra"><p id="extra">QR {invoice.number}</p></div>' in html


def test_the_pdf_is_a_pdf_for_who_may_see_invoices(company_br):
    _settings(company_br, pix_key="12345678000195", city="Recife")
    invoice = invoice_build(company_br)
    name, pdf = invoice_pdf(actor=actor_build(company_br, Role.SALES), invoice_id=invoice.pk)
    assert name == f"invoice-{invoice.number}.pdf"
    assert pdf.startswith(b"%PDF")


def test_the_pdf_needs_billing_view_and_the_company(company, company_br):
    from retaguarda.common.errors import NotFound, PermissionDenied

    invoice = invoice_build(company)
    with pytest.raises(PermissionDenied):
        invoice_pdf(actor=actor_build(company, Role.WAREHOUSE), invoice_id=invoice.pk)
    with pytest.raises(NotFound):
        invoice_pdf(actor=actor_build(company_br, Role.ADMINISTRATOR), invoice_id=invoice.pk)
