"""The fiscal document as the electronic formats need it, independent of how billing stores it.

Billing maps a posted invoice or credit note to an `InvoiceDocument`; the NF-e, UBL and
Verifactu builders read only this. Amounts are Decimals in the document's currency, already
rounded as they appear on the invoice (the builders never recompute a total)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class PartyInfo:
    name: str
    tax_id: str  # compact, without the country prefix (CNPJ/CPF digits, NIF/CIF, VAT number)
    country: str  # ISO 3166-1 alpha-2
    street: str = ""
    number: str = ""
    complement: str = ""
    district: str = ""
    city: str = ""
    city_code: str = ""  # Brazil: IBGE municipality code (7 digits)
    state: str = ""  # Brazil: UF; elsewhere the province as written
    postal_code: str = ""
    email: str = ""
    phone: str = ""
    trade_name: str = ""
    state_registration: str = ""  # Brazil: inscrição estadual ("" or "ISENTO")
    is_company: bool = True
    vat_id: str = ""  # EU VAT id with its country prefix when the party has one ("ESB12345678")


@dataclass(frozen=True)
class TaxAmount:
    """One tax on one line (or summed on the document): its code (IVA, RE, IRPF, ICMS, IPI, PIS,
    COFINS), the rate in percent, the base and the amount. Withholdings (IRPF) reduce the amount
    payable; `withheld` marks them."""

    code: str
    rate: Decimal
    base: Decimal
    amount: Decimal
    withheld: bool = False
    # EU category (UNCL5305: S standard, Z zero, E exempt, AE reverse charge, K intra-EU, O outside)
    category: str = "S"
    exemption_reason: str = ""  # legal mention for AE/E/K
    # Brazil: the CST/CSOSN situation code of this tax on this line
    situation: str = ""


@dataclass(frozen=True)
class DocumentLine:
    position: int
    sku: str
    description: str
    quantity: Decimal
    unit_code: str  # UN/ECE rec 20 for UBL ("C62", "KGM"); Brazil uses the commercial unit ("UN")
    unit_price: Decimal  # before tax, after no discount
    discount: Decimal  # amount, >= 0
    net_amount: Decimal  # quantity × unit price − discount, rounded to the cent
    taxes: tuple[TaxAmount, ...] = ()
    barcode: str = ""  # GTIN/EAN or ""
    ncm: str = ""  # Brazil: 8 digits
    cfop: str = ""  # Brazil: 4 digits, per operation
    # Brazil: the goods' origin for ICMS (0 national, 1 imported directly, 2 imported bought in
    # Brazil, ... as the NF-e manual lists); "" reads as 0.
    origin: str = ""


@dataclass(frozen=True)
class InvoiceDocument:
    kind: str  # "invoice" or "credit_note"
    number: str  # as printed: series and number ("F2026-000123")
    series: str
    sequence_number: int  # the number inside its series and year
    issue_date: date
    issued_at: datetime  # aware
    currency: str
    seller: PartyInfo
    buyer: PartyInfo
    lines: tuple[DocumentLine, ...]
    net_total: Decimal  # sum of line net amounts
    tax_total: Decimal  # sum of taxes that are not withheld
    withheld_total: Decimal  # sum of withheld taxes (IRPF), >= 0
    grand_total: Decimal  # net_total + tax_total
    payable: Decimal  # grand_total - withheld_total
    tax_summary: tuple[TaxAmount, ...] = ()  # per code and rate, summed over the lines
    due_date: date | None = None
    payment_iban: str = ""
    payment_reference: str = ""
    notes: tuple[str, ...] = ()  # legal mentions and free notes, printed in this order
    corrected_number: str = ""  # a credit note's corrected invoice
    corrected_issue_date: date | None = None
    correction_reason: str = ""
    order_reference: str = ""  # the customer's order (shop reference)
    # When and to which country the goods went: EN 16931 requires both on an intra-EU supply
    # (VAT category K, rules BR-IC-11/12). UBL falls back to the issue date and the buyer's country.
    delivery_date: date | None = None
    delivery_country: str = ""  # ISO 3166-1 alpha-2
    # Brazil (NF-e): operation nature text, the company's regime (1 Simples Nacional, 3 normal),
    # environment (1 production, 2 homologation), and the company's own IBGE code and UF.
    operation_nature: str = ""
    crt: str = ""
    environment: str = "2"
    extra: dict = field(default_factory=dict)
