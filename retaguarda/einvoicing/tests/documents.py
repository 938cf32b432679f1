"""Example `InvoiceDocument`s for the e-invoice builders' tests, and the small builders that make them.

`tax`, `line` and `document` compute what billing would hand over (line nets, a tax summary per
code, category and rate rounded once per document, the totals), so each example states only its
business facts. The Spanish examples cover a B2B invoice with two VAT rates, intra-EU services
under reverse charge, an intra-EU supply of goods, an exempt supply, a credit note and a
professional's invoice with IRPF withheld. Their totals are pinned in the tests, so a slip in the
builders here shows up there.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from retaguarda.einvoicing.document import DocumentLine, InvoiceDocument, PartyInfo, TaxAmount

MADRID_WINTER = timezone(timedelta(hours=1))

SELLER = PartyInfo(
    name="Retaguarda Demo S.L.",
    tax_id="B87654323",
    vat_id="ESB87654323",
    country="ES",
    street="Calle de Alcalá",
    number="45",
    city="Madrid",
    state="Madrid",
    postal_code="28014",
    email="facturas@retaguarda.example",
    phone="+34910000000",
)

SPANISH_BUYER = PartyInfo(
    name="Ferretería Núñez S.A.",
    tax_id="A58818501",
    vat_id="ESA58818501",
    country="ES",
    street="Avinguda Diagonal",
    number="200",
    complement="3º 1ª",
    city="Barcelona",
    state="Barcelona",
    postal_code="08018",
    email="compras@ferreteria-nunez.example",
)

GERMAN_BUYER = PartyInfo(
    name="Beispiel Handels GmbH",
    tax_id="DE123456788",
    vat_id="DE123456788",
    country="DE",
    street="Hauptstraße",
    number="5",
    city="Berlin",
    postal_code="10115",
    email="rechnung@beispiel-handels.example",
)

PORTUGUESE_BUYER = PartyInfo(
    name="Exemplo Comércio Lda.",
    tax_id="PT123456789",
    vat_id="PT123456789",
    country="PT",
    street="Rua Augusta",
    number="100",
    city="Lisboa",
    postal_code="1100-053",
)

# A self-employed professional: IRPF is withheld by the (company) customer.
PROFESSIONAL = PartyInfo(
    name="Lucía Martín Gómez",
    tax_id="12345678Z",
    vat_id="ES12345678Z",
    country="ES",
    street="Calle Mayor",
    number="12",
    city="Valencia",
    state="Valencia",
    postal_code="46001",
    email="lucia.martin@consultora.example",
    is_company=False,
)

IBAN = "ES9121000418450200051332"

REVERSE_CHARGE_SERVICES = "Inversión del sujeto pasivo (art. 84.Uno.2º LIVA; art. 196 Directiva 2006/112/CE)"
INTRA_EU_GOODS = "Entrega intracomunitaria exenta (art. 25 LIVA; art. 138 Directiva 2006/112/CE)"
EXEMPT_EDUCATION = "Exenta de IVA (art. 20.Uno.9º LIVA)"

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def tax(
    code: str,
    rate: str,
    *,
    category: str = "S",
    withheld: bool = False,
    exemption_reason: str = "",
) -> TaxAmount:
    """A tax to apply to a line: base and amount are filled in by `line`."""
    return TaxAmount(
        code=code,
        rate=Decimal(rate),
        base=Decimal("0"),
        amount=Decimal("0"),
        withheld=withheld,
        category=category,
        exemption_reason=exemption_reason,
    )


def vat(rate: str) -> TaxAmount:
    return tax("IVA", rate)


def line(
    position: int,
    description: str,
    quantity: str,
    unit_price: str,
    *taxes: TaxAmount,
    discount: str = "0",
    sku: str = "",
    unit_code: str = "C62",
    barcode: str = "",
) -> DocumentLine:
    qty, price, disc = Decimal(quantity), Decimal(unit_price), Decimal(discount)
    net = money(qty * price - disc)
    applied = tuple(
        TaxAmount(
            code=t.code,
            rate=t.rate,
            base=net,
            amount=money(net * t.rate / 100),
            withheld=t.withheld,
            category=t.category,
            exemption_reason=t.exemption_reason,
        )
        for t in taxes
    )
    return DocumentLine(
        position=position,
        sku=sku or f"SKU-{position:03d}",
        description=description,
        quantity=qty,
        unit_code=unit_code,
        unit_price=price,
        discount=disc,
        net_amount=net,
        taxes=applied,
        barcode=barcode,
    )


def summarize(lines: tuple[DocumentLine, ...]) -> tuple[TaxAmount, ...]:
    """One entry per code, category and rate: bases summed, the tax rounded once on the sum."""
    bases: dict[tuple, Decimal] = defaultdict(Decimal)
    reasons: dict[tuple, str] = {}
    for ln in lines:
        for t in ln.taxes:
            key = (t.code, t.category, t.rate, t.withheld)
            bases[key] += t.base
            reasons.setdefault(key, t.exemption_reason)
    return tuple(
        TaxAmount(
            code=code,
            rate=rate,
            base=base,
            amount=money(base * rate / 100),
            withheld=withheld,
            category=category,
            exemption_reason=reasons[(code, category, rate, withheld)],
        )
        for (code, category, rate, withheld), base in bases.items()
    )


def document(
    *,
    number: str,
    lines: tuple[DocumentLine, ...],
    buyer: PartyInfo,
    seller: PartyInfo = SELLER,
    kind: str = "invoice",
    issue_date: date = date(2026, 1, 15),
    currency: str = "EUR",
    series: str = "",
    **optional,
) -> InvoiceDocument:
    summary = summarize(lines)
    net_total = sum((ln.net_amount for ln in lines), Decimal("0.00"))
    tax_total = sum((t.amount for t in summary if not t.withheld), Decimal("0.00"))
    withheld_total = sum((t.amount for t in summary if t.withheld), Decimal("0.00"))
    grand_total = net_total + tax_total
    series = series or number.split("-")[0]
    return InvoiceDocument(
        kind=kind,
        number=number,
        series=series,
        sequence_number=int(number.rsplit("-", 1)[-1]),
        issue_date=issue_date,
        issued_at=datetime.combine(issue_date, datetime.min.time(), MADRID_WINTER).replace(hour=10),
        currency=currency,
        seller=seller,
        buyer=buyer,
        lines=lines,
        net_total=net_total,
        tax_total=tax_total,
        withheld_total=withheld_total,
        grand_total=grand_total,
        payable=grand_total - withheld_total,
        tax_summary=summary,
        **optional,
    )


def spanish_b2b_two_rates() -> InvoiceDocument:
    """Goods at 21 % and at 10 %, one line discounted, paid by SEPA transfer in 30 days."""
    return document(
        number="F2026-000123",
        buyer=SPANISH_BUYER,
        lines=(
            line(1, "Taladro percutor 800 W", "3", "89.90", vat("21"), discount="26.97", barcode="8412345678905"),
            line(2, "Caja de tornillos 4x40 (500 uds.)", "12", "7.35", vat("21"), unit_code="C62"),
            line(3, "Agua mineral 1,5 l (pack de 6)", "10", "2.49", vat("10")),
        ),
        due_date=date(2026, 2, 14),
        payment_iban=IBAN,
        payment_reference="F2026-000123",
        order_reference="PED-7781",
    )


def intra_eu_services_reverse_charge() -> InvoiceDocument:
    """Services to a German company: no Spanish VAT, the customer accounts for it (AE)."""
    reverse = tax("IVA", "0", category="AE", exemption_reason=REVERSE_CHARGE_SERVICES)
    return document(
        number="F2026-000124",
        buyer=GERMAN_BUYER,
        lines=(
            line(1, "Configuración de tienda online", "16", "65.00", reverse, unit_code="HUR"),
            line(2, "Licencia anual de soporte", "1", "480.00", reverse),
        ),
        due_date=date(2026, 2, 14),
        payment_iban=IBAN,
        notes=(REVERSE_CHARGE_SERVICES,),
    )


def intra_eu_goods_supply() -> InvoiceDocument:
    """Goods shipped to a Portuguese company: exempt intra-community supply (K)."""
    exempt = tax("IVA", "0", category="K", exemption_reason=INTRA_EU_GOODS)
    return document(
        number="F2026-000125",
        buyer=PORTUGUESE_BUYER,
        lines=(line(1, "Taladro percutor 800 W", "20", "74.50", exempt),),
        due_date=date(2026, 2, 14),
        payment_iban=IBAN,
        delivery_date=date(2026, 1, 13),
        delivery_country="PT",
        notes=(INTRA_EU_GOODS,),
    )


def exempt_training() -> InvoiceDocument:
    """A course exempt from VAT (E) with its legal ground."""
    exempt = tax("IVA", "0", category="E", exemption_reason=EXEMPT_EDUCATION)
    return document(
        number="F2026-000126",
        buyer=SPANISH_BUYER,
        lines=(line(1, "Curso de formación en prevención de riesgos", "4", "150.00", exempt),),
        due_date=date(2026, 2, 14),
        payment_iban=IBAN,
        notes=(EXEMPT_EDUCATION,),
    )


def credit_note() -> InvoiceDocument:
    """Corrects F2026-000123: one returned drill and the water charged twice (amounts positive)."""
    return document(
        kind="credit_note",
        number="R2026-000007",
        buyer=SPANISH_BUYER,
        issue_date=date(2026, 1, 22),
        lines=(
            line(1, "Taladro percutor 800 W (devolución)", "1", "80.91", vat("21")),
            line(2, "Agua mineral 1,5 l (pack de 6), cobrada dos veces", "10", "2.49", vat("10")),
        ),
        corrected_number="F2026-000123",
        corrected_issue_date=date(2026, 1, 15),
        correction_reason="Devolución de mercancía y cargo duplicado",
    )


def professional_with_irpf() -> InvoiceDocument:
    """A consultant's fees: 21 % VAT charged, 15 % IRPF withheld by the customer."""
    taxes = (vat("21"), tax("IRPF", "15", category="S", withheld=True))
    return document(
        number="P2026-000031",
        seller=PROFESSIONAL,
        buyer=SPANISH_BUYER,
        lines=(
            line(1, "Asesoría fiscal, enero 2026", "10", "60.00", *taxes, unit_code="HUR"),
            line(2, "Informe de cumplimiento Verifactu", "1", "400.00", *taxes),
        ),
        due_date=date(2026, 2, 14),
        payment_iban="ES7921000813610123456789",
    )


def spanish_examples() -> dict[str, InvoiceDocument]:
    return {
        "spanish_b2b_two_rates": spanish_b2b_two_rates(),
        "intra_eu_services_reverse_charge": intra_eu_services_reverse_charge(),
        "intra_eu_goods_supply": intra_eu_goods_supply(),
        "exempt_training": exempt_training(),
        "credit_note": credit_note(),
        "professional_with_irpf": professional_with_irpf(),
    }
