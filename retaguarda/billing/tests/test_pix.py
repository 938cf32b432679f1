"""The PIX "copia e cola" payload: the CRC16/CCITT-FALSE check value, the Banco Central's own
example, a payload assembled field by field, and the limits on name, city and txid."""

from decimal import Decimal

import pytest

from retaguarda.billing.pix import ascii_fold, crc16_ccitt_false, pix_payload, pix_qr_svg, txid_clean


def _crc_bitwise(data: bytes) -> int:
    """CRC16/CCITT-FALSE written out bit by bit, to check the implementation against."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def test_crc_is_ccitt_false_by_its_check_value():
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert _crc_bitwise(b"123456789") == 0x29B1
    assert crc16_ccitt_false(b"") == 0xFFFF


@pytest.mark.parametrize("data", [b"0002010102", b"\x00\xff" * 17, b"6304", bytes(range(256))])
def test_crc_matches_the_bitwise_definition(data):
    assert crc16_ccitt_false(data) == _crc_bitwise(data)


def test_the_central_bank_example_without_amount():
    # The example of the BR Code manual (Anexo I): random key, no amount, no txid.
    assert (
        pix_payload(
            key="123e4567-e12b-12d1-a456-426655440000",
            merchant_name="Fulano de Tal",
            merchant_city="BRASILIA",
            amount=None,
        )
        == "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
        "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
    )


def test_a_payload_with_amount_and_txid_assembled_by_hand():
    payload = pix_payload(
        key="+5511912345678",
        merchant_name="Padaria São João Comércio de Alimentos Ltda",
        merchant_city="São Paulo",
        amount=Decimal("1234.50"),
        txid="F2026-000123",
    )
    body = (
        "000201"
        + "2636" + "0014br.gov.bcb.pix" + "0114+5511912345678"
        + "52040000"
        + "5303986"
        + "5407" + "1234.50"
        + "5802BR"
        + "5925" + "Padaria Sao Joao Comercio"  # folded to ASCII, cut at 25
        + "6009" + "Sao Paulo"
        + "6215" + "0511F2026000123"  # the invoice number, letters and digits only
        + "6304"
    )  # fmt: skip
    assert payload == body + "5968"
    assert _crc_bitwise(body.encode()) == 0x5968


def test_limits_of_name_city_and_txid():
    payload = pix_payload(
        key="loja@example.com",
        merchant_name="A" * 40,
        merchant_city="Vila Bela da Santíssima Trindade",
        amount=Decimal("0.01"),
        txid="X" * 30,
    )
    assert "5925" + "A" * 25 + "6015Vila Bela da Sa62" in payload
    assert "6229" + "0525" + "X" * 25 + "6304" in payload
    assert "54040.01" in payload
    assert txid_clean("F2026-000001/ñ") == "F2026000001n"
    assert txid_clean("--") == "***"
    assert ascii_fold("Ação Çedilha") == "Acao Cedilha"


@pytest.mark.parametrize("key", ["", "   ", "chave-com-ç", "k" * 78])
def test_a_key_the_code_cannot_carry_is_refused(key):
    with pytest.raises(ValueError):
        pix_payload(key=key, merchant_name="Loja", merchant_city="Recife", amount=Decimal("1"))


def test_the_qr_is_inline_svg():
    svg = pix_qr_svg("00020126580014br.gov.bcb.pix")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
