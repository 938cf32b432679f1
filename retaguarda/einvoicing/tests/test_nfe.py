"""NF-e 4.00: the access key, the XML built from an InvoiceDocument for both tax regimes, and
validation against the official XSD shipped in nfelib."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from lxml import etree

from retaguarda.common.errors import ValidationFailed
from retaguarda.einvoicing import nfe
from retaguarda.einvoicing.document import TaxAmount
from retaguarda.einvoicing.testing import BUYER_PERSON, normal_document, simples_document

NS = {"n": nfe.NFE_NS}


def build(document, **kwargs):
    return nfe.nfe_build(document, uf_code="35", city_code="3550308", numeric_code="12345678", **kwargs)


def values(xml: bytes, path: str) -> list[str]:
    return [node.text for node in etree.fromstring(xml).iterfind(path, NS)]


def value(xml: bytes, path: str) -> str:
    found = values(xml, path)
    assert len(found) == 1, (path, found)
    return found[0]


# --- access key ---------------------------------------------------------------------------------


def test_check_digit_of_a_published_key():
    # The key of a real NF-e (nfelib's sample 35180834128745000152550010000474281920007498).
    # Weights 2..9 from the right, cycling, over the first 43 digits:
    #   3x4 + 5x3 + 1x2 + 8x9 + 0x8 + 8x7 + 3x6 + 4x5 + 1x4 + 2x3 + 8x2 + 7x9 + 4x8 + 5x7
    #   + 0x6 + 0x5 + 0x4 + 1x3 + 5x2 + 2x9 + 5x8 + 5x7 + 0x6 + 0x5 + 1x4 + 0x3 + 0x2 + 0x9
    #   + 0x8 + 4x7 + 7x6 + 4x5 + 2x4 + 8x3 + 1x2 + 9x9 + 2x8 + 0x7 + 0x6 + 0x5 + 7x4 + 4x3 + 9x2
    #   = 740; 740 = 67 x 11 + 3; check digit = 11 - 3 = 8.
    assert nfe.nfe_check_digit("3518083412874500015255001000047428192000749") == "8"


def test_check_digit_is_zero_for_remainders_zero_and_one():
    # "1" alone: 1x2 = 2, remainder 2 -> 9. "6": 6x2 = 12, remainder 1 -> 0. "11": 1x3 + 1x2 = 5 -> 6.
    # "0": remainder 0 -> 0.
    assert [nfe.nfe_check_digit(k) for k in ("1", "6", "11", "0")] == ["9", "0", "6", "0"]


def test_check_digit_reads_letters_of_an_alphanumeric_cnpj_as_code_minus_48():
    # "A" counts 65 - 48 = 17: 17x2 = 34, remainder 1 -> 0. "B" = 18: 36, remainder 3 -> 8.
    assert nfe.nfe_check_digit("A") == "0"
    assert nfe.nfe_check_digit("B") == "8"


def test_access_key_parts_and_check_digit():
    key = nfe.nfe_access_key(
        uf_code="35",
        issued_at=datetime(2018, 8, 7, 12, 19, 15, tzinfo=UTC),
        cnpj="34128745000152",
        series=1,
        number=47428,
        numeric_code="92000749",
    )
    assert key == "35180834128745000152550010000474281920007498"


def test_access_key_month_is_brasilia_time():
    # 1 April 2026 01:30 UTC is still 31 March in Brasília (UTC-3): the key says 2603.
    key = nfe.nfe_access_key(
        uf_code="35",
        issued_at=datetime(2026, 4, 1, 1, 30, tzinfo=UTC),
        cnpj="12345678000195",
        series="1",
        number="123",
        numeric_code="12345678",
    )
    assert key[2:6] == "2603"
    assert key == "3526031234567800019555001000000123112345678" + nfe.nfe_check_digit(key[:43])
    assert len(key) == 44


def test_access_key_refuses_bad_parts_with_each_field_named():
    with pytest.raises(ValidationFailed) as refused:
        nfe.nfe_access_key(
            uf_code="99",
            issued_at=datetime(2026, 3, 1, tzinfo=UTC),
            cnpj="1234567800019",
            series="A1",
            number=0,
            numeric_code="123",
        )
    assert set(refused.value.fields) == {"uf_code", "cnpj", "series", "number", "numeric_code"}


def test_numeric_code_is_eight_digits_and_never_the_number():
    codes = {nfe.nfe_numeric_code(123) for _ in range(50)}
    assert all(len(code) == 8 and code.isdigit() and int(code) != 123 for code in codes)


# --- building and validating --------------------------------------------------------------------


def test_simples_nacional_document_is_valid_and_carries_its_figures():
    xml = build(simples_document())
    assert nfe.nfe_validate(xml) == []
    key = nfe.nfe_access_key_of(xml)
    assert key == "35260312345678000195550010000001231123456782"
    assert value(xml, "n:infNFe/n:ide/n:cDV") == "2"
    assert value(xml, "n:infNFe/n:emit/n:CRT") == "1"
    assert values(xml, ".//n:ICMSSN102/n:CSOSN") == ["102", "102"]
    # No PIS/COFINS given on a Simples Nacional line: CST 49 with nothing due.
    assert values(xml, ".//n:PISOutr/n:CST") == ["49", "49"]
    assert values(xml, ".//n:PISOutr/n:vPIS") == ["0.00", "0.00"]
    assert values(xml, ".//n:prod/n:vProd") == ["20.00", "35.50"]
    assert values(xml, ".//n:prod/n:vDesc") == ["5.50"]
    assert values(xml, ".//n:prod/n:qCom") == ["2.0000", "1.0000"]
    assert values(xml, ".//n:prod/n:vUnCom") == ["10.00", "35.50"]
    assert values(xml, ".//n:prod/n:cEAN") == ["7891234567895", "SEM GTIN"]
    assert value(xml, ".//n:ICMSTot/n:vProd") == "55.50"
    assert value(xml, ".//n:ICMSTot/n:vDesc") == "5.50"
    assert value(xml, ".//n:ICMSTot/n:vICMS") == "0.00"
    assert value(xml, ".//n:ICMSTot/n:vNF") == "50.00"
    # Same state, a person: internal operation, final consumer, not an ICMS contributor.
    assert value(xml, ".//n:ide/n:idDest") == "1"
    assert value(xml, ".//n:ide/n:indFinal") == "1"
    assert value(xml, ".//n:dest/n:CPF") == "52998224725"
    assert value(xml, ".//n:dest/n:indIEDest") == "9"
    # Homologation: SEFAZ requires this name for the buyer.
    assert value(xml, ".//n:dest/n:xNome") == nfe.HOMOLOGATION_NAME
    assert value(xml, ".//n:transp/n:modFrete") == "9"
    assert value(xml, ".//n:pag/n:detPag/n:tPag") == "17"
    assert value(xml, ".//n:pag/n:detPag/n:indPag") == "0"
    assert value(xml, ".//n:pag/n:detPag/n:vPag") == "50.00"
    assert value(xml, ".//n:infAdic/n:infCpl") == (
        "Documento emitido por ME ou EPP optante pelo Simples Nacional.; Pedido da loja 4711"
    )
    assert value(xml, ".//n:ide/n:dhEmi") == "2026-03-10T10:30:00-03:00"
    assert etree.fromstring(xml).find("n:infNFe/n:cobr", NS) is None


def test_regime_normal_document_is_valid_with_icms_ipi_pis_cofins():
    xml = build(normal_document())
    assert nfe.nfe_validate(xml) == []
    assert value(xml, ".//n:emit/n:CRT") == "3"
    icms = ".//n:ICMS/n:ICMS00/n:"
    assert [value(xml, icms + tag) for tag in ("CST", "modBC", "vBC", "pICMS", "vICMS")] == [
        "00",
        "3",
        "100.00",
        "12.00",
        "12.00",
    ]
    assert [value(xml, ".//n:IPI/n:IPITrib/n:" + tag) for tag in ("CST", "vBC", "pIPI", "vIPI")] == [
        "50",
        "100.00",
        "10.00",
        "10.00",
    ]
    assert value(xml, ".//n:IPI/n:cEnq") == "999"
    assert [value(xml, ".//n:PISAliq/n:" + tag) for tag in ("CST", "vBC", "pPIS", "vPIS")] == [
        "01",
        "100.00",
        "1.65",
        "1.65",
    ]
    assert [value(xml, ".//n:COFINSAliq/n:" + tag) for tag in ("CST", "vBC", "pCOFINS", "vCOFINS")] == [
        "01",
        "100.00",
        "7.60",
        "7.60",
    ]
    tot = ".//n:ICMSTot/n:"
    assert {tag: value(xml, tot + tag) for tag in ("vBC", "vICMS", "vProd", "vIPI", "vPIS", "vCOFINS", "vNF")} == {
        "vBC": "100.00",
        "vICMS": "12.00",
        "vProd": "100.00",
        "vIPI": "10.00",
        "vPIS": "1.65",
        "vCOFINS": "7.60",
        "vNF": "110.00",
    }
    # Another state, a company with its state registration.
    assert value(xml, ".//n:ide/n:idDest") == "2"
    assert value(xml, ".//n:ide/n:indFinal") == "0"
    assert value(xml, ".//n:dest/n:CNPJ") == "11222333000181"
    assert value(xml, ".//n:dest/n:indIEDest") == "1"
    assert value(xml, ".//n:dest/n:IE") == "0623079040081"
    # Paid by boleto in 30 days: deferred payment with its bill and instalment.
    assert value(xml, ".//n:pag/n:detPag/n:tPag") == "15"
    assert value(xml, ".//n:pag/n:detPag/n:indPag") == "1"
    assert value(xml, ".//n:cobr/n:fat/n:vLiq") == "110.00"
    assert value(xml, ".//n:cobr/n:dup/n:dVenc") == "2026-04-09"
    assert value(xml, ".//n:compra/n:xPed") == "4712"


def test_payment_and_freight_from_extra():
    xml = build(simples_document(extra={"nfe_payment_type": "03", "nfe_freight_mode": "0"}))
    assert nfe.nfe_validate(xml) == []
    assert value(xml, ".//n:pag/n:detPag/n:tPag") == "03"
    assert value(xml, ".//n:transp/n:modFrete") == "0"


def test_unit_values_keep_up_to_ten_decimals():
    line = replace(
        simples_document().lines[0],
        quantity=Decimal("3"),
        unit_price=Decimal("3.3333333333"),
        net_amount=Decimal("10.00"),
    )
    xml = build(
        simples_document(
            lines=(line,), net_total=Decimal("10.00"), grand_total=Decimal("10.00"), payable=Decimal("10.00")
        )
    )
    assert nfe.nfe_validate(xml) == []
    assert value(xml, ".//n:prod/n:vUnCom") == "3.3333333333"
    assert value(xml, ".//n:prod/n:vProd") == "10.00"


def test_credit_note_is_an_entry_return_referencing_the_invoice():
    referenced = "35260312345678000195550010000001231123456782"
    xml = build(simples_document(kind="credit_note", extra={"nfe_referenced_key": referenced}))
    assert nfe.nfe_validate(xml) == []
    assert value(xml, ".//n:ide/n:tpNF") == "0"
    assert value(xml, ".//n:ide/n:finNFe") == "4"
    assert value(xml, ".//n:ide/n:NFref/n:refNFe") == referenced
    assert value(xml, ".//n:pag/n:detPag/n:tPag") == "90"
    assert value(xml, ".//n:pag/n:detPag/n:vPag") == "0.00"


def test_credit_note_without_the_referenced_key_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        build(simples_document(kind="credit_note"))
    assert "nfe_referenced_key" in refused.value.fields


def test_broken_cnpj_fails_the_schema_with_a_useful_message():
    broken = simples_document(buyer=replace(normal_document().buyer, tax_id="1122233300018"))
    errors = nfe.nfe_validate(build(broken))
    assert len(errors) == 1
    assert "CNPJ" in errors[0]
    assert "'1122233300018' is not accepted by the pattern" in errors[0]
    assert errors[0].startswith("line 1: ")


def test_missing_ncm_fails_the_schema():
    line = replace(simples_document().lines[0], ncm="")
    document = simples_document(lines=(line, simples_document().lines[1]))
    errors = nfe.nfe_validate(build(document))
    assert any("NCM" in error for error in errors)


def test_not_xml_is_reported_not_raised():
    assert nfe.nfe_validate(b"<NFe>")[0].startswith("Not well-formed XML")


def test_unsigned_document_is_valid_only_when_the_signature_is_not_required():
    xml = build(simples_document())
    assert nfe.nfe_validate(xml) == []
    errors = nfe.nfe_validate(xml, require_signature=True)
    assert len(errors) == 1 and "Signature" in errors[0]


def test_total_that_adds_included_taxes_is_refused():
    # ICMS, PIS and COFINS are inside the price: 100.00 + IPI 10.00 = 110.00, not 131.25.
    document = normal_document(tax_total=Decimal("31.25"), grand_total=Decimal("131.25"), payable=Decimal("131.25"))
    with pytest.raises(ValidationFailed) as refused:
        build(document)
    assert "131.25" in refused.value.message and "110.00" in refused.value.message


def test_unsupported_icms_situation_is_refused_with_the_line():
    line = normal_document().lines[0]
    taxes = tuple(replace(tax, situation="60") if tax.code == "ICMS" else tax for tax in line.taxes)
    with pytest.raises(ValidationFailed) as refused:
        build(normal_document(lines=(replace(line, taxes=taxes),)))
    assert "CST 60" in refused.value.message
    assert set(refused.value.fields) == {"lines"}


def test_regime_normal_interstate_sale_to_a_consumer_needs_the_destination_share():
    buyer = replace(BUYER_PERSON, state="MG", city="Belo Horizonte", city_code="3106200")
    with pytest.raises(ValidationFailed) as refused:
        build(normal_document(buyer=buyer))
    assert "ICMSUFDEST" in refused.value.message

    line = normal_document().lines[0]
    share = TaxAmount(code="ICMSUFDEST", rate=Decimal("18"), base=Decimal("100.00"), amount=Decimal("6.00"))
    xml = build(normal_document(buyer=buyer, lines=(replace(line, taxes=(*line.taxes, share)),)))
    assert nfe.nfe_validate(xml) == []
    assert value(xml, ".//n:ICMSUFDest/n:pICMSInter") == "12.00"
    assert value(xml, ".//n:ICMSUFDest/n:vICMSUFDest") == "6.00"
    assert value(xml, ".//n:ICMSTot/n:vICMSUFDest") == "6.00"
    assert value(xml, ".//n:ide/n:indFinal") == "1"


def test_series_must_be_numeric():
    with pytest.raises(ValidationFailed) as refused:
        build(simples_document(series="F2026"))
    assert "series" in refused.value.fields


def test_text_is_cleaned_for_the_schema():
    line = replace(simples_document().lines[0], description="  Caneca\n“azul” 300 ml — edição  ")
    xml = build(simples_document(lines=(line, simples_document().lines[1])))
    assert nfe.nfe_validate(xml) == []
    assert values(xml, ".//n:prod/n:xProd")[0] == "Caneca azul 300 ml  edição"


# --- contingency re-issue -----------------------------------------------------------------------


def test_contingency_convert_changes_emission_type_key_and_adds_justification():
    xml = build(normal_document())
    at = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    converted = nfe.nfe_contingency_convert(xml, emission_type="6", at=at, reason="SEFAZ SP fora do ar desde as 11h")
    assert nfe.nfe_validate(converted) == []
    old, new = nfe.nfe_access_key_of(xml), nfe.nfe_access_key_of(converted)
    assert new[:34] == old[:34] and new[35:43] == old[35:43]
    assert new[34] == "6"
    assert new[43] == nfe.nfe_check_digit(new[:43])
    assert value(converted, ".//n:ide/n:tpEmis") == "6"
    assert value(converted, ".//n:ide/n:cDV") == new[43]
    assert value(converted, ".//n:ide/n:dhCont") == "2026-03-10T11:00:00-03:00"
    assert value(converted, ".//n:ide/n:xJust") == "SEFAZ SP fora do ar desde as 11h"


def test_build_directly_in_contingency_matches_the_conversion():
    at = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    reason = "SEFAZ SP fora do ar desde as 11h"
    direct = build(normal_document(), emission_type="6", contingency_at=at, contingency_reason=reason)
    converted = nfe.nfe_contingency_convert(build(normal_document()), emission_type="6", at=at, reason=reason)
    assert direct == converted


def test_contingency_needs_a_reason_of_fifteen_characters():
    with pytest.raises(ValidationFailed):
        nfe.nfe_contingency_convert(build(normal_document()), emission_type="6", at=datetime.now(UTC), reason="caiu")


def test_svc_of_each_state():
    assert nfe.svc_emission_type("35") == "6"  # SP: SVC-AN
    assert nfe.svc_emission_type("41") == "7"  # PR: SVC-RS
    assert nfe.svc_emission_type("29") == "7"  # BA: SVC-RS
    assert nfe.svc_emission_type("31") == "6"  # MG: SVC-AN
