"""A posted invoice or credit note as the electronic formats read it (`InvoiceDocument`): the
company as seller, the party snapshot taken at issue as buyer, lines and tax summary as issued."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from retaguarda.billing.choices import InvoiceKind
from retaguarda.billing.models import Invoice, InvoiceLine, InvoiceTax

from .document import DocumentLine, InvoiceDocument, PartyInfo, TaxAmount
from .models import NFeSubmission, SubmissionStatus

ZERO = Decimal(0)
EU_VAT_PREFIX = {"GR": "EL"}


def _vat_id(country: str, tax_id: str) -> str:
    if not tax_id:
        return ""
    prefix = EU_VAT_PREFIX.get(country, country)
    return tax_id if tax_id[:2].upper() == prefix else f"{prefix}{tax_id}"


def _seller(company) -> PartyInfo:
    settings = company.fiscal_settings or {}
    return PartyInfo(
        name=company.legal_name,
        trade_name=company.trade_name,
        tax_id=company.tax_id,
        country=company.country,
        street=settings.get("street", ""),
        number=settings.get("number", ""),
        district=settings.get("district", ""),
        # The demo company names them "municipality" and "municipality_code".
        city=settings.get("city", "") or settings.get("municipality", ""),
        city_code=settings.get("city_code", "") or settings.get("municipality_code", ""),
        state=settings.get("state", "") or settings.get("province", ""),
        postal_code=settings.get("postal_code", ""),
        state_registration=settings.get("state_registration", ""),
        vat_id=_vat_id(company.country, company.tax_id) if company.country != "BR" else "",
    )


def _buyer(invoice: Invoice) -> PartyInfo:
    snap = invoice.party_snapshot or {}
    country = snap.get("country") or snap.get("tax_country") or ""
    tax_country = snap.get("tax_country") or country
    return PartyInfo(
        name=snap.get("name", ""),
        trade_name=snap.get("trade_name", ""),
        tax_id=snap.get("tax_id", ""),
        country=country,
        street=snap.get("street", ""),
        number=snap.get("number", ""),
        complement=snap.get("complement", ""),
        district=snap.get("district", ""),
        city=snap.get("city", ""),
        city_code=snap.get("city_code", ""),  # Brazil: the IBGE code, when the address has one
        state=snap.get("state", ""),
        postal_code=snap.get("postal_code", ""),
        email=snap.get("email", ""),
        is_company=snap.get("kind", "company") == "company",
        vat_id=_vat_id(tax_country, snap.get("tax_id", "")) if tax_country != "BR" else "",
    )


def document_for(invoice: Invoice) -> InvoiceDocument:
    """The issued document of `invoice` (which must be posted: it needs its number)."""
    company = invoice.company
    lines = list(InvoiceLine.objects.select_related("product").filter(invoice=invoice).order_by("position"))
    taxes = list(InvoiceTax.objects.select_related("tax").filter(invoice=invoice))
    mentions = {t.code: t.tax.legal_mention for t in taxes}
    doc_lines = []
    for line in lines:
        gross = line.quantity * line.unit_price
        doc_lines.append(
            DocumentLine(
                position=line.position,
                sku=line.product.sku if line.product_id else "",
                description=line.description,
                quantity=line.quantity,
                unit_code=line.unit_code,
                unit_price=line.unit_price,
                discount=max(gross - line.net_amount, ZERO).quantize(Decimal("0.01")),
                net_amount=line.net_amount,
                taxes=tuple(
                    TaxAmount(
                        code=t["family"],
                        rate=Decimal(t["rate"]),
                        base=Decimal(t["base"]),
                        amount=Decimal(t["amount"]),
                        withheld=t.get("withheld", False),
                        category=t.get("category", "S"),
                        exemption_reason=mentions.get(t["code"], ""),
                        situation=t.get("situation", ""),
                    )
                    for t in line.taxes
                ),
                barcode=line.barcode,
                ncm=line.ncm,
                cfop=line.cfop,
            )
        )
    corrected = invoice.corrected_invoice
    credit = invoice.kind == InvoiceKind.CUSTOMER_CREDIT_NOTE
    issued_at = invoice.posted_at or timezone.now()
    settings = company.fiscal_settings or {}
    return InvoiceDocument(
        kind="credit_note" if credit else "invoice",
        number=invoice.number,
        series=invoice.series,
        sequence_number=invoice.sequence_number or 0,
        issue_date=invoice.issue_date,
        issued_at=timezone.localtime(issued_at) if timezone.is_aware(issued_at) else issued_at,
        currency=invoice.currency,
        seller=_seller(company),
        buyer=_buyer(invoice),
        lines=tuple(doc_lines),
        net_total=invoice.net_total,
        tax_total=invoice.tax_total,
        withheld_total=invoice.withheld_total,
        grand_total=invoice.grand_total,
        payable=invoice.payable,
        tax_summary=tuple(
            TaxAmount(
                code=t.family,
                rate=t.rate,
                base=t.base,
                amount=t.amount,
                withheld=t.withheld,
                category=t.category,
                exemption_reason=t.tax.legal_mention,
                situation=t.tax.situation,
            )
            for t in taxes
        ),
        due_date=invoice.due_date,
        payment_iban=settings.get("iban", ""),
        payment_reference=invoice.number,
        notes=tuple(invoice.legal_mentions or ()),
        corrected_number=corrected.number if corrected else "",
        corrected_issue_date=corrected.issue_date if corrected else None,
        correction_reason=invoice.correction_reason,
        order_reference=invoice.order.external_ref if invoice.order_id else "",
        delivery_date=invoice.issue_date,
        delivery_country=(invoice.party_snapshot or {}).get("country", ""),
        operation_nature=_operation_nature(company.country, credit),
        crt="1" if settings.get("regime", "simples_nacional") == "simples_nacional" else "3",
        environment=str(settings.get("nfe_environment", "2")),
        extra=_nfe_extra(company.country, credit, corrected),
    )


def _operation_nature(country: str, credit: bool) -> str:
    if country != "BR":
        return ""
    return "Devolucao de venda" if credit else "Venda de mercadoria"


def _nfe_extra(country: str, credit: bool, corrected: Invoice | None) -> dict:
    """A Brazilian credit note (a return) must reference the NF-e it corrects."""
    if country != "BR" or not credit or corrected is None:
        return {}
    key = (
        NFeSubmission.objects.filter(invoice=corrected, status=SubmissionStatus.AUTHORIZED)
        .values_list("access_key", flat=True)
        .first()
    )
    return {"nfe_referenced_key": key} if key else {}
