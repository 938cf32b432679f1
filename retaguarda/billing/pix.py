"""Brazil's PIX "copia e cola" code: the BR Code (EMV merchant-presented QR) payload of a static
key with the amount and a transaction id, as the Banco Central's BR Code manual lays it out.

Each field is ID (2 digits) + length (2 digits) + value; the payload ends with field 63, the
CRC16/CCITT-FALSE of everything before it including "6304", as four uppercase hex digits.
"""

from __future__ import annotations

import binascii
import re
import unicodedata
from decimal import Decimal

GUI = "br.gov.bcb.pix"
NAME_MAX = 25
CITY_MAX = 15
TXID_MAX = 25
# A static code without a transaction id carries "***" (the payer's bank fills nothing in).
TXID_NONE = "***"
AMOUNT_MAX_LENGTH = 13


def crc16_ccitt_false(data: bytes) -> int:
    """CRC16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR
    (binascii's CRC-CCITT with that initial value)."""
    return binascii.crc_hqx(data, 0xFFFF)


def ascii_fold(text: str) -> str:
    """Accents dropped and anything outside printable ASCII removed: "São Paulo" -> "Sao Paulo"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if " " <= c <= "~").strip()


def _field(field_id: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"PIX field {field_id} is longer than 99 characters")
    return f"{field_id}{len(value):02d}{value}"


def txid_clean(reference: str) -> str:
    """A transaction id from a document number: letters and digits only, at most 25."""
    return re.sub(r"[^A-Za-z0-9]", "", ascii_fold(reference))[:TXID_MAX] or TXID_NONE


def pix_payload(*, key: str, merchant_name: str, merchant_city: str, amount: Decimal | None, txid: str = "") -> str:
    """The "pix copia e cola" text of a static key. `amount` (BRL) is left out when None or
    zero; `txid` is reduced to letters and digits (at most 25), "***" when empty."""
    key = (key or "").strip()
    if not key or not key.isascii() or len(key) > 77:
        raise ValueError("a PIX key is printable ASCII of at most 77 characters")
    merchant = _field("00", GUI) + _field("01", key)
    parts = [
        _field("00", "01"),
        _field("26", merchant),
        _field("52", "0000"),
        _field("53", "986"),
    ]
    if amount:
        text = f"{Decimal(amount).quantize(Decimal('0.01')):f}"
        if len(text) > AMOUNT_MAX_LENGTH or Decimal(amount) < 0:
            raise ValueError(f"PIX amount out of range: {amount}")
        parts.append(_field("54", text))
    parts += [
        _field("58", "BR"),
        _field("59", ascii_fold(merchant_name)[:NAME_MAX].strip() or "-"),
        _field("60", ascii_fold(merchant_city)[:CITY_MAX].strip() or "-"),
        _field("62", _field("05", txid_clean(txid) if txid and txid != TXID_NONE else TXID_NONE)),
    ]
    body = "".join(parts) + "6304"
    return body + f"{crc16_ccitt_false(body.encode('ascii')):04X}"


def pix_qr_svg(payload: str) -> str:
    """The payload as an inline SVG QR code (error correction M), for HTML and the PDF."""
    import segno  # loaded on demand, like the PDF renderer

    qr = segno.make(payload, error="m", micro=False)
    return qr.svg_inline(scale=3, border=2)
