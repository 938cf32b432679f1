import hashlib
import re
import tracemalloc
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from retaguarda.einvoicing.tests import documents
from retaguarda.einvoicing.verifactu import (
    ALTA,
    ANULACION,
    HASH_MISMATCH,
    PREVIOUS_MISMATCH,
    RegisterRecord,
    chain_verify,
    fingerprint_text,
    qr_svg,
    qr_url,
    record_chain,
    record_fingerprint,
    record_from_document,
)

CET = timezone(timedelta(hours=1))

# The three worked examples of the AEAT's "Detalle de las especificaciones técnicas para generación
# de la huella o hash de los registros de facturación" v0.1.2, section 6, with their published
# fingerprints: an alta that starts the chain, an alta chained to it, an anulación chained to that.
AEAT_HASH_1 = "3C464DAF61ACB827C65FDA19F352A4E3BDC2C640E9E9FC4CC058073F38F12F60"
AEAT_HASH_2 = "F7B94CFD8924EDFF273501B01EE5153E4CE8F259766F88CF6ACB8935802A2B97"
AEAT_HASH_3 = "177547C0D57AC74748561D054A9CEC14B4C4EA23D1BEFD6F2E69E3A388F90C68"


def aeat_alta(number: str, second: int) -> RegisterRecord:
    return RegisterRecord(
        kind=ALTA,
        issuer_tax_id="89890001K",
        number=number,
        issue_date=date(2024, 1, 1),
        invoice_type="F1",
        tax_total=Decimal("12.35"),
        total=Decimal("123.45"),
        generated_at=datetime(2024, 1, 1, 19, 20, second, tzinfo=CET),
    )


def aeat_chain() -> list[RegisterRecord]:
    first = record_chain(None, aeat_alta("12345678/G33", 30))
    second = record_chain(first, aeat_alta("12345679/G34", 35))
    cancellation = RegisterRecord(
        kind=ANULACION,
        issuer_tax_id="89890001K",
        number="12345679/G34",
        issue_date=date(2024, 1, 1),
        invoice_type="",
        tax_total=Decimal("0"),
        total=Decimal("0"),
        generated_at=datetime(2024, 1, 1, 19, 20, 40, tzinfo=CET),
    )
    return [first, second, record_chain(second, cancellation)]


def test_aeat_example_1_first_alta():
    record = aeat_alta("12345678/G33", 30)

    assert fingerprint_text(record) == (
        "IDEmisorFactura=89890001K&NumSerieFactura=12345678/G33&FechaExpedicionFactura=01-01-2024"
        "&TipoFactura=F1&CuotaTotal=12.35&ImporteTotal=123.45&Huella="
        "&FechaHoraHusoGenRegistro=2024-01-01T19:20:30+01:00"
    )
    assert record_fingerprint(record) == AEAT_HASH_1


def test_aeat_example_2_alta_chained_to_the_first():
    first, second, _ = aeat_chain()

    assert first.hash == AEAT_HASH_1
    assert second.previous_hash == AEAT_HASH_1
    assert fingerprint_text(second) == (
        "IDEmisorFactura=89890001K&NumSerieFactura=12345679/G34&FechaExpedicionFactura=01-01-2024"
        f"&TipoFactura=F1&CuotaTotal=12.35&ImporteTotal=123.45&Huella={AEAT_HASH_1}"
        "&FechaHoraHusoGenRegistro=2024-01-01T19:20:35+01:00"
    )
    assert second.hash == AEAT_HASH_2


def test_aeat_example_3_anulacion_chained_to_the_second():
    _, _, cancellation = aeat_chain()

    assert fingerprint_text(cancellation) == (
        "IDEmisorFacturaAnulada=89890001K&NumSerieFacturaAnulada=12345679/G34"
        f"&FechaExpedicionFacturaAnulada=01-01-2024&Huella={AEAT_HASH_2}"
        "&FechaHoraHusoGenRegistro=2024-01-01T19:20:40+01:00"
    )
    assert cancellation.hash == AEAT_HASH_3


def test_fingerprint_is_the_uppercase_sha256_of_the_text():
    record = record_chain(None, replace(aeat_alta("F2026-000123", 30), tax_total=Decimal("71.99")))

    expected = hashlib.sha256(fingerprint_text(record).encode("utf-8")).hexdigest().upper()
    assert record.hash == expected
    assert re.fullmatch(r"[0-9A-F]{64}", record.hash)


def test_values_are_trimmed():
    padded = replace(aeat_alta("   12345678/G33  ", 30), issuer_tax_id=" 89890001K ")

    assert record_fingerprint(padded) == AEAT_HASH_1


def test_amounts_are_written_with_two_decimals():
    record = replace(aeat_alta("A-1", 30), tax_total=Decimal("21"), total=Decimal("121.5"))

    assert "&CuotaTotal=21.00&ImporteTotal=121.50&" in fingerprint_text(record)


def test_negative_amounts_and_utc_times_are_written_as_such():
    record = replace(
        aeat_alta("R-1", 30),
        invoice_type="R1",
        tax_total=Decimal("-19.48"),
        total=Decimal("-125.29"),
        generated_at=datetime(2026, 7, 1, 8, 5, 9, 123456, tzinfo=UTC),
    )

    assert fingerprint_text(record).endswith(
        "&TipoFactura=R1&CuotaTotal=-19.48&ImporteTotal=-125.29&Huella=&FechaHoraHusoGenRegistro=2026-07-01T08:05:09+00:00"
    )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"total": Decimal("123.455")}, "more than two decimals"),
        ({"generated_at": datetime(2024, 1, 1, 19, 20, 30)}, "time zone"),
        ({"invoice_type": "F9"}, "Unknown invoice type"),
        ({"kind": "evento"}, "Unknown record kind"),
    ],
)
def test_records_that_cannot_be_fingerprinted_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        record_fingerprint(replace(aeat_alta("A-1", 30), **change))


def test_chain_needs_a_fingerprinted_previous_record():
    with pytest.raises(ValueError, match="no fingerprint"):
        record_chain(aeat_alta("A-1", 30), aeat_alta("A-2", 31))


def test_a_chain_of_three_verifies():
    check = chain_verify(aeat_chain())

    assert (check.ok, check.count, check.broken_index, check.reason) == (True, 3, None, "")
    assert check.message == "The register chain of 3 records is intact."


def test_an_altered_amount_is_the_first_broken_link():
    records = aeat_chain()
    records[1] = replace(records[1], total=Decimal("1234.50"))

    check = chain_verify(records)

    assert (check.ok, check.count, check.broken_index, check.broken_number, check.reason) == (
        False,
        2,
        1,
        "12345679/G34",
        HASH_MISMATCH,
    )
    assert check.message == "Record 1 (invoice 12345679/G34) was changed after its fingerprint was computed."


def test_a_record_pointing_to_a_wrong_previous_hash_is_reported_even_with_a_recomputed_fingerprint():
    records = aeat_chain()
    wrong = replace(records[2], previous_hash=AEAT_HASH_1)
    records[2] = replace(wrong, hash=record_fingerprint(wrong))

    check = chain_verify(records)

    assert (check.ok, check.broken_index, check.broken_number, check.reason) == (
        False,
        2,
        "12345679/G34",
        PREVIOUS_MISMATCH,
    )
    assert check.message == "Record 2 (invoice 12345679/G34) does not point to the record before it."


def test_a_removed_record_breaks_the_chain_at_the_next_one():
    first, _, cancellation = aeat_chain()

    check = chain_verify([first, cancellation])

    assert (check.ok, check.broken_index, check.reason) == (False, 1, PREVIOUS_MISMATCH)


def test_the_first_record_must_start_the_chain_unless_a_continuation_is_checked():
    records = aeat_chain()

    assert chain_verify(records[1:]).reason == PREVIOUS_MISMATCH
    assert chain_verify(records[1:], previous_hash=AEAT_HASH_1).ok is True
    assert chain_verify([]).ok is True


def test_verification_streams_a_long_register():
    def register(count: int):
        previous = None
        for n in range(count):
            record = aeat_alta(f"F2026-{n:06d}", n % 60)
            previous = record_chain(previous, record)
            yield previous

    tracemalloc.start()
    try:
        check = chain_verify(register(5000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (check.ok, check.count) == (True, 5000)
    # Holding the 5,000 records would take megabytes; the walk holds a couple at a time.
    assert peak < 200_000


def test_record_from_an_invoice_counts_vat_and_total_before_irpf():
    doc = documents.professional_with_irpf()
    record = record_from_document(doc, generated_at=datetime(2026, 1, 15, 10, 0, tzinfo=CET))

    assert (record.kind, record.issuer_tax_id, record.number, record.issue_date, record.invoice_type) == (
        ALTA,
        "12345678Z",
        "P2026-000031",
        date(2026, 1, 15),
        "F1",
    )
    assert (record.tax_total, record.total) == (Decimal("210.00"), Decimal("1210.00"))
    assert (record.previous_hash, record.hash) == ("", "")


def test_record_from_a_credit_note_is_a_corrective_by_differences():
    doc = documents.credit_note()
    record = record_from_document(doc, generated_at=datetime(2026, 1, 22, 10, 0, tzinfo=CET))

    assert (record.invoice_type, record.tax_total, record.total) == ("R1", Decimal("-19.48"), Decimal("-125.29"))
    assert record_from_document(doc, generated_at=record.generated_at, invoice_type="R4").invoice_type == "R4"


def test_qr_url_of_the_aeat_example():
    url = qr_url(issuer_tax_id="89890001K", number="12345678&G33", issue_date=date(2024, 1, 1), total=Decimal("241.4"))

    # The AEAT's example prints "importe=241.4"; this module writes every amount with two decimals,
    # as in the record itself.
    assert url == (
        "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR"
        "?nif=89890001K&numserie=12345678%26G33&fecha=01-01-2024&importe=241.40"
    )


@pytest.mark.parametrize(
    "verifiable, production, base",
    [
        (True, True, "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR"),
        (True, False, "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR"),
        (False, True, "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQRNoVerifactu"),
        (False, False, "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQRNoVerifactu"),
    ],
)
def test_qr_url_per_system_and_site(verifiable, production, base):
    url = qr_url(
        issuer_tax_id="B87654323",
        number="F2026/000123 B",
        issue_date=date(2026, 1, 15),
        total=Decimal("427.82"),
        verifiable=verifiable,
        production=production,
    )

    assert url == f"{base}?nif=B87654323&numserie=F2026%2F000123%20B&fecha=15-01-2026&importe=427.82"


def svg_dark_modules(svg: str, border: int = 4) -> set[tuple[int, int]]:
    """The dark modules (row, column) drawn by segno's single-path SVG."""
    path = re.search(r' d="([^"]+)"', svg).group(1)
    dark, x, y = set(), 0.0, 0.0
    for op, args in re.findall(r"([Mmh])([-\d.\s]+)", path):
        numbers = [float(n) for n in args.split()]
        if op == "M":
            x, y = numbers
        elif op == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            dark.update((int(y) - border, int(x) + i - border) for i in range(int(numbers[0])))
            x += numbers[0]
    return dark


def test_qr_svg_is_a_deterministic_svg_with_error_correction_m():
    url = qr_url(issuer_tax_id="89890001K", number="12345678&G33", issue_date=date(2024, 1, 1), total=Decimal("241.4"))

    svg = qr_svg(url)

    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 53 53" class="verifactu-qr">')
    assert svg.rstrip().endswith("</svg>")
    assert "width=" not in svg.split(">")[0]
    assert qr_svg(url) == svg
    assert qr_svg(url.replace("241.40", "241.41")) != svg
    # Format information next to the top-left finder (ISO/IEC 18004): after the fixed mask, the
    # first two bits read 1,0 for level M (L gives 1,1, Q 0,1, H 0,0).
    dark = svg_dark_modules(svg)
    assert ((8, 0) in dark, (8, 1) in dark) == (True, False)
    # 45 modules plus the quiet zone: version 7, the size level M needs for this URL.
    assert max(c for _, c in dark) == 44
