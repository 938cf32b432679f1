from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from retaguarda.einvoicing import ubl
from retaguarda.einvoicing.document import PartyInfo
from retaguarda.einvoicing.tests import documents
from retaguarda.einvoicing.ubl import ubl_invoice, ubl_report, ubl_validate

NS = {"inv": ubl.NS_INVOICE, "cn": ubl.NS_CREDIT_NOTE, "cac": ubl.NS_CAC, "cbc": ubl.NS_CBC}


def parse(xml: bytes):
    return etree.fromstring(xml)


def texts(root, path: str) -> list[str]:
    return [e.text for e in root.xpath(path, namespaces=NS)]


def text(root, path: str) -> str:
    (value,) = texts(root, path)
    return value


@pytest.mark.parametrize("name", sorted(documents.spanish_examples()))
def test_every_example_passes_the_schema_and_the_en16931_rules_without_a_warning(name):
    xml = ubl_invoice(documents.spanish_examples()[name])

    report = ubl_report(xml)

    assert report.errors == ()
    assert report.warnings == ()
    assert ubl_validate(xml) == []


def test_two_rate_invoice_totals_and_breakdown():
    doc = documents.spanish_b2b_two_rates()
    root = parse(ubl_invoice(doc))

    assert root.tag == f"{{{ubl.NS_INVOICE}}}Invoice"
    assert text(root, "cbc:CustomizationID") == "urn:cen.eu:en16931:2017"
    assert text(root, "cbc:ProfileID") == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    assert text(root, "cbc:ID") == "F2026-000123"
    assert text(root, "cbc:InvoiceTypeCode") == "380"
    assert text(root, "cbc:DueDate") == "2026-02-14"
    assert text(root, "cac:OrderReference/cbc:ID") == "PED-7781"
    subtotals = [
        (
            text(s, "cac:TaxCategory/cbc:ID"),
            text(s, "cac:TaxCategory/cbc:Percent"),
            text(s, "cbc:TaxableAmount"),
            text(s, "cbc:TaxAmount"),
        )
        for s in root.xpath("cac:TaxTotal/cac:TaxSubtotal", namespaces=NS)
    ]
    assert subtotals == [("S", "21", "330.93", "69.50"), ("S", "10", "24.90", "2.49")]
    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == "71.99"
    totals = {e.tag.split("}")[1]: e.text for e in root.find("cac:LegalMonetaryTotal", NS)}
    assert totals == {
        "LineExtensionAmount": "355.83",
        "TaxExclusiveAmount": "355.83",
        "TaxInclusiveAmount": "427.82",
        "PayableAmount": "427.82",
    }
    assert root.find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS).get("currencyID") == "EUR"


def test_two_rate_invoice_parties_lines_and_payment():
    root = parse(ubl_invoice(documents.spanish_b2b_two_rates()))

    seller = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    assert text(seller, "cbc:EndpointID") == "ESB87654323"
    assert seller.find("cbc:EndpointID", NS).get("schemeID") == "9920"
    assert text(seller, "cac:PartyTaxScheme/cbc:CompanyID") == "ESB87654323"
    assert text(seller, "cac:PartyLegalEntity/cbc:RegistrationName") == "Retaguarda Demo S.L."
    assert text(seller, "cac:PostalAddress/cbc:StreetName") == "Calle de Alcalá, 45"
    buyer = root.find("cac:AccountingCustomerParty/cac:Party", NS)
    assert text(buyer, "cac:PartyTaxScheme/cbc:CompanyID") == "ESA58818501"
    assert text(buyer, "cac:PostalAddress/cbc:AdditionalStreetName") == "3º 1ª"

    assert text(root, "cac:PaymentMeans/cbc:PaymentMeansCode") == "58"
    assert text(root, "cac:PaymentMeans/cbc:PaymentID") == "F2026-000123"
    assert text(root, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == "ES9121000418450200051332"

    first = root.find("cac:InvoiceLine", NS)
    assert text(first, "cbc:InvoicedQuantity") == "3"
    assert first.find("cbc:InvoicedQuantity", NS).get("unitCode") == "C62"
    assert text(first, "cbc:LineExtensionAmount") == "242.73"
    assert text(first, "cac:AllowanceCharge/cbc:ChargeIndicator") == "false"
    assert text(first, "cac:AllowanceCharge/cbc:Amount") == "26.97"
    assert text(first, "cac:Price/cbc:PriceAmount") == "89.90"
    assert text(first, "cac:Item/cbc:Name") == "Taladro percutor 800 W"
    assert text(first, "cac:Item/cac:StandardItemIdentification/cbc:ID") == "8412345678905"
    assert texts(root, "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:Percent") == ["21", "21", "10"]


def test_reverse_charge_states_the_category_and_the_legal_ground():
    root = parse(ubl_invoice(documents.intra_eu_services_reverse_charge()))

    category = root.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
    assert text(category, "cbc:ID") == "AE"
    assert text(category, "cbc:Percent") == "0"
    assert text(category, "cbc:TaxExemptionReasonCode") == "VATEX-EU-AE"
    assert text(category, "cbc:TaxExemptionReason") == documents.REVERSE_CHARGE_SERVICES
    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == "0.00"
    assert text(root, "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount") == "1520.00"
    buyer = root.find("cac:AccountingCustomerParty/cac:Party", NS)
    assert text(buyer, "cbc:EndpointID") == "DE123456788"
    assert buyer.find("cbc:EndpointID", NS).get("schemeID") == "9930"


def test_intra_eu_goods_supply_says_when_and_where_the_goods_went():
    root = parse(ubl_invoice(documents.intra_eu_goods_supply()))

    assert text(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == "K"
    assert text(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReasonCode") == "VATEX-EU-IC"
    assert text(root, "cac:Delivery/cbc:ActualDeliveryDate") == "2026-01-13"
    assert text(root, "cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode") == "PT"


def test_intra_eu_goods_supply_without_delivery_facts_falls_back_to_issue_date_and_buyer_country():
    doc = replace(documents.intra_eu_goods_supply(), delivery_date=None, delivery_country="")
    xml = ubl_invoice(doc)
    root = parse(xml)

    assert text(root, "cac:Delivery/cbc:ActualDeliveryDate") == "2026-01-15"
    assert text(root, "cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode") == "PT"
    assert ubl_validate(xml) == []


def test_exempt_supply_carries_its_exemption_text():
    root = parse(ubl_invoice(documents.exempt_training()))

    category = root.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
    assert text(category, "cbc:ID") == "E"
    assert texts(category, "cbc:TaxExemptionReasonCode") == []
    assert text(category, "cbc:TaxExemptionReason") == "Exenta de IVA (art. 20.Uno.9º LIVA)"


def test_credit_note_refers_to_the_corrected_invoice():
    doc = documents.credit_note()
    xml = ubl_invoice(doc)
    root = parse(xml)

    assert root.tag == f"{{{ubl.NS_CREDIT_NOTE}}}CreditNote"
    assert text(root, "cbc:CreditNoteTypeCode") == "381"
    assert text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == "F2026-000123"
    assert text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate") == "2026-01-15"
    assert texts(root, "cbc:Note") == ["Devolución de mercancía y cargo duplicado"]
    assert texts(root, "cac:CreditNoteLine/cbc:CreditedQuantity") == ["1", "10"]
    assert texts(root, "cac:InvoiceLine") == []
    assert text(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == "125.29"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "125.29"
    # No due date and no payment means: BR-CO-25 is met by payment terms.
    assert text(root, "cac:PaymentTerms/cbc:Note") == "Payable on receipt of this document."
    assert ubl_report(xml).errors == ()


def test_credit_note_with_iban_and_due_date_puts_the_due_date_on_the_payment_means():
    doc = replace(documents.credit_note(), payment_iban=documents.IBAN, due_date=date(2026, 2, 1))
    xml = ubl_invoice(doc)
    root = parse(xml)

    assert text(root, "cac:PaymentMeans/cbc:PaymentDueDate") == "2026-02-01"
    assert texts(root, "cac:PaymentTerms") == []
    assert ubl_validate(xml) == []


def test_irpf_is_left_out_of_vat_and_settled_as_paid_amount():
    doc = documents.professional_with_irpf()
    assert (doc.net_total, doc.tax_total, doc.withheld_total, doc.payable) == (
        Decimal("1000.00"),
        Decimal("210.00"),
        Decimal("150.00"),
        Decimal("1060.00"),
    )
    root = parse(ubl_invoice(doc))

    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == "210.00"
    assert texts(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent") == ["21"]
    assert text(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == "1210.00"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PrepaidAmount") == "150.00"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "1060.00"
    assert texts(root, "cbc:Note") == ["IRPF withheld at 15 % on 1000.00 EUR: 150.00 EUR"]
    assert texts(root, "//cac:WithholdingTaxTotal") == []
    # The professional is a person: their NIF becomes the VAT id with the ES prefix.
    assert text(root, "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID") == "ES12345678Z"


def test_seller_without_vat_id_gets_the_national_number_with_its_prefix():
    doc = documents.spanish_b2b_two_rates()
    doc = replace(doc, seller=replace(doc.seller, vat_id=""))
    root = parse(ubl_invoice(doc))

    assert text(root, "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID") == "ESB87654323"


def test_totals_that_do_not_add_up_are_reported_with_the_rule():
    doc = replace(documents.spanish_b2b_two_rates(), grand_total=Decimal("430.00"), payable=Decimal("430.00"))

    errors = ubl_validate(ubl_invoice(doc))

    assert any(e.startswith("[BR-CO-15]-") for e in errors), errors
    assert all(e.startswith("[BR-") for e in errors), errors


def test_reverse_charge_without_the_buyer_vat_number_is_reported_with_the_rule():
    doc = documents.intra_eu_services_reverse_charge()
    doc = replace(doc, buyer=replace(doc.buyer, vat_id="", tax_id=""))

    errors = ubl_validate(ubl_invoice(doc))

    assert any(e.startswith("[BR-AE-02]-") for e in errors), errors


def test_exempt_supply_without_a_reason_is_reported_with_the_rule():
    doc = documents.exempt_training()
    doc = replace(doc, tax_summary=tuple(replace(t, exemption_reason="") for t in doc.tax_summary))

    errors = ubl_validate(ubl_invoice(doc))

    assert any(e.startswith("[BR-E-10]-") for e in errors), errors


def test_schema_errors_are_reported():
    xml = ubl_invoice(documents.spanish_b2b_two_rates()).replace(
        b"<cbc:DocumentCurrencyCode>", b"<cbc:Colour>blue</cbc:Colour><cbc:DocumentCurrencyCode>"
    )

    errors = ubl_validate(xml)

    assert any(e.startswith("XSD line ") and "Colour" in e for e in errors), errors


def test_not_xml_and_not_ubl_are_reported():
    assert ubl_validate(b"<Invoice>")[0].startswith("XML: ")
    assert ubl_validate(b"<Invoice/>") == ["XML: the root element Invoice is not a UBL Invoice or CreditNote."]


def test_a_tax_that_is_neither_vat_nor_withheld_is_refused():
    doc = documents.spanish_b2b_two_rates()
    surcharge = documents.tax("RE", "5.2")
    lines = (documents.line(1, "Taladro", "1", "100.00", documents.vat("21"), surcharge),)
    doc = documents.document(number="F2026-000200", buyer=doc.buyer, lines=lines, due_date=doc.due_date)

    with pytest.raises(ValueError, match="RE"):
        ubl_invoice(doc)


def test_an_amount_with_more_than_two_decimals_is_refused():
    doc = replace(documents.spanish_b2b_two_rates(), net_total=Decimal("355.825"))

    with pytest.raises(ValueError, match="355.825"):
        ubl_invoice(doc)


def test_compiled_rules_and_schemas_are_kept_for_the_process():
    assert ubl._schematron() is ubl._schematron()
    assert ubl._xsd("Invoice") is ubl._xsd("Invoice")


def test_consumer_without_tax_number_is_addressed_by_email():
    consumer = PartyInfo(
        name="Marta López", tax_id="", country="ES", city="Sevilla", email="marta@example.com", is_company=False
    )
    doc = replace(documents.spanish_b2b_two_rates(), buyer=consumer)
    xml = ubl_invoice(doc)
    buyer = parse(xml).find("cac:AccountingCustomerParty/cac:Party", NS)

    assert text(buyer, "cbc:EndpointID") == "marta@example.com"
    assert buyer.find("cbc:EndpointID", NS).get("schemeID") == "EM"
    assert texts(buyer, "cac:PartyTaxScheme") == []
    assert texts(buyer, "cac:PartyLegalEntity/cbc:CompanyID") == []
    assert ubl_report(xml).errors == ()
