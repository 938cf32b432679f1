"""Spain's invoice register kept as invoices are issued: each issued invoice or credit note of a
Spanish company gets a record in billing's VerifactuRecord table, chained by fingerprint to the
one before, in the transaction that issues it; and the chain can be verified end to end."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone

from retaguarda.billing.choices import InvoiceKind
from retaguarda.billing.models import Invoice, VerifactuRecord
from retaguarda.core.services import sequence_next

from .verifactu import ALTA, ChainCheck, RegisterRecord, chain_verify, qr_svg, qr_url, record_chain

CHAIN_SERIES = "verifactu"
REGISTERED_KINDS = (InvoiceKind.CUSTOMER_INVOICE, InvoiceKind.CUSTOMER_CREDIT_NOTE)


def _as_record(row: VerifactuRecord) -> RegisterRecord:
    return RegisterRecord(
        kind=row.kind,
        issuer_tax_id=row.issuer_tax_id,
        number=row.number,
        issue_date=row.issue_date,
        invoice_type=row.invoice_type,
        tax_total=row.tax_total,
        total=row.total,
        generated_at=timezone.localtime(row.generated_at),
        previous_hash=row.previous_hash,
        hash=row.hash,
    )


def register_invoice(actor, invoice: Invoice) -> VerifactuRecord | None:
    """The alta record of an issued Spanish invoice (an INVOICE_POSTED_HOOKS hook).

    The chain's counter row is locked until the issuing transaction ends (sequence_next), so
    records are chained one after another even when invoices are issued concurrently.
    """
    company = invoice.company
    if company.country != "ES" or invoice.kind not in REGISTERED_KINDS:
        return None
    position = sequence_next(company=company, series=CHAIN_SERIES, year=0)
    previous_row = VerifactuRecord.objects.filter(company=company, position=position - 1).first()
    credit = invoice.kind == InvoiceKind.CUSTOMER_CREDIT_NOTE
    sign = -1 if credit else 1
    record = record_chain(
        _as_record(previous_row) if previous_row else None,
        RegisterRecord(
            kind=ALTA,
            issuer_tax_id=company.tax_id,
            number=invoice.number,
            issue_date=invoice.issue_date,
            invoice_type="R1" if credit else "F1",
            tax_total=sign * invoice.tax_total,
            total=sign * invoice.grand_total,
            generated_at=timezone.localtime(timezone.now()).replace(microsecond=0),
        ),
    )
    return VerifactuRecord.objects.create(
        company=company,
        invoice=invoice,
        position=position,
        kind=record.kind,
        issuer_tax_id=record.issuer_tax_id,
        number=record.number,
        issue_date=record.issue_date,
        invoice_type=record.invoice_type,
        tax_total=record.tax_total,
        total=record.total,
        generated_at=record.generated_at,
        previous_hash=record.previous_hash,
        hash=record.hash,
    )


def _records(company_id) -> Iterator[RegisterRecord]:
    rows = VerifactuRecord.objects.filter(company_id=company_id).order_by("position")
    for row in rows.iterator(chunk_size=2000):
        yield _as_record(row)


def register_verify(company_id) -> ChainCheck:
    """Walk a company's whole register in order and report the first broken link."""
    return chain_verify(_records(company_id))


def register_qr_html(invoice: Invoice) -> str:
    """The verification QR printed on a Spanish invoice (a billing PDF_EXTRAS hook)."""
    if invoice.company.country != "ES" or not invoice.number or invoice.kind not in REGISTERED_KINDS:
        return ""
    record = VerifactuRecord.objects.filter(invoice=invoice).order_by("position").first()
    if record is None:
        return ""
    url = qr_url(
        issuer_tax_id=record.issuer_tax_id,
        number=record.number,
        issue_date=record.issue_date,
        total=record.total,
        verifiable=bool((invoice.company.fiscal_settings or {}).get("verifactu", True)),
    )
    return f'<div class="verifactu">{qr_svg(url)}<p>VERI*FACTU</p></div>'
