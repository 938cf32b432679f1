"""Spain's invoice register (VERI*FACTU): the chained fingerprint of each billing record and the invoice's QR.

Real Decreto 1007/2023 and Orden HAC/1177/2024 make every invoicing system keep a register of
billing records ("registros de facturación"): one record when an invoice is issued ("alta") and
one when it is cancelled ("anulación"). Each record carries the SHA-256 fingerprint ("huella") of
a few of its fields together with the fingerprint of the record before it, so the register is a
chain in which a changed, removed or inserted record shows. The printed invoice carries a QR code
that lets the customer check the invoice with the tax agency (AEAT).

Sources, both published by the AEAT for developers:

* "Detalle de las especificaciones técnicas para generación de la huella o hash de los registros
  de facturación", version 0.1.2 (27/08/2024): the fields of each kind of record and their order,
  the trimming of values, the concatenation and the SHA-256, and three worked examples with
  their expected fingerprints (section 6: an alta with no previous record, an alta chained to
  it, and an anulación chained to that). The tests reproduce the three examples exactly.
* The AEAT's specification of the invoice QR code and of its checking service ("servicio de
  cotejo"), version 0.5.0: the QR content is the URL of the checking service (ValidarQR) with the
  parameters nif, numserie, fecha (dd-mm-yyyy) and importe, each URL-encoded; ISO/IEC 18004 with
  error correction level M, printed between 30x30 and 40x40 mm.

The fingerprint text is `name=value` pairs joined by `&`, in this order:

    alta:       IDEmisorFactura, NumSerieFactura, FechaExpedicionFactura, TipoFactura,
                CuotaTotal, ImporteTotal, Huella, FechaHoraHusoGenRegistro
    anulación:  IDEmisorFacturaAnulada, NumSerieFacturaAnulada, FechaExpedicionFacturaAnulada,
                Huella, FechaHoraHusoGenRegistro

`Huella` is the previous record's fingerprint (empty, but still written as "Huella=", for the first
record of the system). Each value is trimmed of leading and trailing spaces; dates are dd-mm-yyyy;
the generation time is ISO 8601 with its UTC offset to the second (2024-01-01T19:20:30+01:00). The
text is encoded as UTF-8, and the fingerprint is the SHA-256 as 64 uppercase hex characters.

Amounts are hashed exactly as the record writes them, and the specification warns that "123.1" and
"123.10" hash differently. So this module always writes them with two decimals ("12.35",
"241.40"). The record XML, the fingerprint and the QR then come from one rendering
(`amount_text`).

Not done here: the RegistroAlta / RegistroAnulacion XML and its submission to the AEAT. The AEAT
schema (SuministroLR.xsd) is not shipped by any installed package, so nothing could check such XML.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

import segno
from django.utils.translation import gettext as _

from retaguarda.einvoicing.document import InvoiceDocument

ALTA = "alta"
ANULACION = "anulacion"
RECORD_KINDS = (ALTA, ANULACION)

# TipoFactura (AEAT list L2): F1 invoice, F2 simplified invoice, F3 invoice replacing simplified
# ones, R1-R4 corrective invoices by legal ground (art. 80 LIVA), R5 corrective simplified invoice.
INVOICE_TYPES = ("F1", "F2", "F3", "R1", "R2", "R3", "R4", "R5")

# The checking service per kind of system (VERI*FACTU or not) and AEAT site (production or test).
QR_BASE_URLS = {
    (True, True): "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR",
    (True, False): "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR",
    (False, True): "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQRNoVerifactu",
    (False, False): "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQRNoVerifactu",
}
QR_ERROR_CORRECTION = "M"

HASH_MISMATCH = "hash_mismatch"
PREVIOUS_MISMATCH = "previous_mismatch"

CENT = Decimal("0.01")


@dataclass(frozen=True)
class RegisterRecord:
    """One billing record as far as the chain needs it.

    For an anulación, `issuer_tax_id`, `number` and `issue_date` identify the cancelled invoice;
    `invoice_type`, `tax_total` and `total` are not part of its fingerprint."""

    kind: str  # ALTA or ANULACION
    issuer_tax_id: str  # the issuer's NIF, without the ES prefix
    number: str  # series and number as printed
    issue_date: date
    invoice_type: str  # INVOICE_TYPES
    tax_total: Decimal  # CuotaTotal
    total: Decimal  # ImporteTotal
    generated_at: datetime  # aware: the moment the record was generated (FechaHoraHusoGenRegistro)
    previous_hash: str = ""  # the previous record's fingerprint; "" for the system's first record
    hash: str = ""


@dataclass(frozen=True)
class ChainCheck:
    """The result of `chain_verify`: `ok`, how many records were read, and for a broken chain the
    first bad record (its index from 0, its invoice number) and why (HASH_MISMATCH: the record's
    content no longer gives its fingerprint; PREVIOUS_MISMATCH: it does not point to the record
    before it)."""

    ok: bool
    count: int
    broken_index: int | None = None
    broken_number: str = ""
    reason: str = ""

    @property
    def message(self) -> str:
        if self.ok:
            return _("The register chain of %(count)d records is intact.") % {"count": self.count}
        if self.reason == PREVIOUS_MISMATCH:
            text = _("Record %(index)d (invoice %(number)s) does not point to the record before it.")
        else:
            text = _("Record %(index)d (invoice %(number)s) was changed after its fingerprint was computed.")
        return text % {"index": self.broken_index, "number": self.broken_number}


def amount_text(value: Decimal) -> str:
    """An amount as the record, its fingerprint and the QR write it: two decimals, a point."""
    rounded = value.quantize(CENT)
    if rounded != value:
        raise ValueError(f"The amount {value} has more than two decimals.")
    return format(rounded, "f")


def date_text(value: date) -> str:
    return value.strftime("%d-%m-%Y")


def timestamp_text(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("The record's generation time must carry its time zone.")
    return value.isoformat(timespec="seconds")


def fingerprint_text(record: RegisterRecord) -> str:
    """The exact text whose SHA-256 is the record's fingerprint (see the module docstring)."""
    if record.kind == ALTA:
        if record.invoice_type not in INVOICE_TYPES:
            raise ValueError(f"Unknown invoice type {record.invoice_type!r}.")
        fields = (
            ("IDEmisorFactura", record.issuer_tax_id),
            ("NumSerieFactura", record.number),
            ("FechaExpedicionFactura", date_text(record.issue_date)),
            ("TipoFactura", record.invoice_type),
            ("CuotaTotal", amount_text(record.tax_total)),
            ("ImporteTotal", amount_text(record.total)),
            ("Huella", record.previous_hash),
            ("FechaHoraHusoGenRegistro", timestamp_text(record.generated_at)),
        )
    elif record.kind == ANULACION:
        fields = (
            ("IDEmisorFacturaAnulada", record.issuer_tax_id),
            ("NumSerieFacturaAnulada", record.number),
            ("FechaExpedicionFacturaAnulada", date_text(record.issue_date)),
            ("Huella", record.previous_hash),
            ("FechaHoraHusoGenRegistro", timestamp_text(record.generated_at)),
        )
    else:
        raise ValueError(f"Unknown record kind {record.kind!r}.")
    return "&".join(f"{name}={value.strip()}" for name, value in fields)


def record_fingerprint(record: RegisterRecord) -> str:
    """The record's fingerprint ("huella"): SHA-256 of `fingerprint_text`, 64 uppercase hex digits."""
    return hashlib.sha256(fingerprint_text(record).encode("utf-8")).hexdigest().upper()


def record_chain(previous: RegisterRecord | None, record_without_hash: RegisterRecord) -> RegisterRecord:
    """The record linked after `previous` (None for the system's first record), with its fingerprint."""
    if previous is not None and not previous.hash:
        raise ValueError("The previous record has no fingerprint yet.")
    linked = replace(record_without_hash, previous_hash=previous.hash if previous else "", hash="")
    return replace(linked, hash=record_fingerprint(linked))


def chain_verify(records: Iterable[RegisterRecord], *, previous_hash: str = "") -> ChainCheck:
    """Walk the records in register order and report the first broken link, holding one fingerprint
    at a time (a register of any length streams through).

    `previous_hash` is the fingerprint that the first record must point to: "" when the records
    start at the system's first record, the last verified fingerprint when checking a continuation.
    A record that points elsewhere is reported before its own fingerprint is checked."""
    expected_previous = previous_hash
    count = 0
    for index, record in enumerate(records):
        count = index + 1
        if record.previous_hash != expected_previous:
            return ChainCheck(False, count, index, record.number, PREVIOUS_MISMATCH)
        if record_fingerprint(record) != record.hash:
            return ChainCheck(False, count, index, record.number, HASH_MISMATCH)
        expected_previous = record.hash
    return ChainCheck(True, count)


def record_from_document(
    document: InvoiceDocument,
    *,
    generated_at: datetime,
    invoice_type: str = "",
) -> RegisterRecord:
    """The alta record of an issued invoice or credit note, still unlinked (give it to `record_chain`).

    CuotaTotal is the VAT charged and ImporteTotal the invoice total with it: IRPF withheld does
    not lower either. A credit note is recorded as a corrective invoice by differences, so its
    amounts (positive on the document) are recorded negative. Its type defaults to R1, the ground
    of returns, discounts and corrections under art. 80 LIVA. Pass R2-R5 when another ground
    applies."""
    credit = document.kind == "credit_note"
    sign = Decimal(-1) if credit else Decimal(1)
    return RegisterRecord(
        kind=ALTA,
        issuer_tax_id=document.seller.tax_id,
        number=document.number,
        issue_date=document.issue_date,
        invoice_type=invoice_type or ("R1" if credit else "F1"),
        tax_total=sign * document.tax_total,
        total=sign * document.grand_total,
        generated_at=generated_at,
    )


def qr_url(
    *,
    issuer_tax_id: str,
    number: str,
    issue_date: date,
    total: Decimal,
    verifiable: bool = True,
    production: bool = False,
) -> str:
    """The QR content: the AEAT checking URL for the invoice.

    `verifiable` is True for a VERI*FACTU system (records sent to the AEAT), False for a system that
    keeps its records; `production` chooses the AEAT's production site over its test site. Each
    value is percent-encoded as UTF-8, so a "&" or "/" in the invoice number cannot split the query."""
    parameters = (
        ("nif", issuer_tax_id.strip()),
        ("numserie", number.strip()),
        ("fecha", date_text(issue_date)),
        ("importe", amount_text(total)),
    )
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in parameters)
    return f"{QR_BASE_URLS[(verifiable, production)]}?{query}"


def qr_svg(url: str) -> str:
    """The QR code of `url` as an SVG document (error correction M, exactly, as the AEAT requires).

    The SVG has a viewBox and no size, so the PDF template prints it at 30-40 mm as specified."""
    code = segno.make(url, error=QR_ERROR_CORRECTION, boost_error=False, micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", xmldecl=False, omitsize=True, border=4, svgclass="verifactu-qr")
    return out.getvalue().decode("utf-8")
