"""Brazil's NF-e 4.00 (model 55): the access key, the XML built from an `InvoiceDocument` with
nfelib's bindings, validation against the official XSD that nfelib ships, the switch of an
unsigned NF-e to SVC contingency, the cancellation event and the authorized file (nfeProc).

Pure functions over bytes: no database. Signing is in `signing`, transmission in `authority`.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import nfelib
from django.utils.translation import gettext as _
from lxml import etree
from nfelib.nfe.bindings.v4_0 import leiaute_nfe_v4_00 as lay
from nfelib.nfe.bindings.v4_0.nfe_v4_00 import Nfe
from nfelib.nfe.bindings.v4_0.tipos_basico_v4_00 import Tamb, TcodUfIbge, Tmod, Tuf, TufEmi
from nfelib.nfe_evento_cancel.bindings.v1_0 import leiaute_evento_canc_nfe_v1_00 as canc
from nfelib.nfe_evento_cancel.bindings.v1_0.e110111_v1_00 import DetEventoDescEvento, DetEventoVersao
from nfelib.nfe_evento_cancel.bindings.v1_0.evento_canc_nfe_v1_00 import Evento
from nfelib.nfe_evento_cancel.bindings.v1_0.tipos_basico_v1_03 import TcorgaoIbge

from retaguarda.common.errors import ValidationFailed

from .document import DocumentLine, InvoiceDocument, TaxAmount

NFE_NS = "http://www.portalfiscal.inf.br/nfe"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
VERSION = "4.00"
APPLICATION = "retaguarda"

_NFELIB_DIR = Path(nfelib.__file__).parent
NFE_SCHEMA = _NFELIB_DIR / "nfe" / "schemas" / "v4_0" / "nfe_v4.00.xsd"
PROC_SCHEMA = _NFELIB_DIR / "nfe" / "schemas" / "v4_0" / "procNFe_v4.00.xsd"
CANCEL_EVENT_SCHEMA = _NFELIB_DIR / "nfe_evento_cancel" / "schemas" / "v1_0" / "eventoCancNFe_v1.00.xsd"

# IBGE codes of the states (the first two digits of every municipality code and access key).
UF_CODES = {
    "RO": "11", "AC": "12", "AM": "13", "RR": "14", "PA": "15", "AP": "16", "TO": "17",
    "MA": "21", "PI": "22", "CE": "23", "RN": "24", "PB": "25", "PE": "26", "AL": "27",
    "SE": "28", "BA": "29", "MG": "31", "ES": "32", "RJ": "33", "SP": "35", "PR": "41",
    "SC": "42", "RS": "43", "MS": "50", "MT": "51", "GO": "52", "DF": "53",
}  # fmt: skip
UF_BY_CODE = {code: uf for uf, code in UF_CODES.items()}

EMISSION_NORMAL = "1"
EMISSION_SVC_AN = "6"
EMISSION_SVC_RS = "7"
EMISSION_TYPES = (EMISSION_NORMAL, EMISSION_SVC_AN, EMISSION_SVC_RS)

# Which virtual contingency authority (SVC) stands in for each state's own, as the national
# portal publishes it: SVC-RS for these states, SVC-AN for all the others.
_SVC_RS_STATES = frozenset({"AM", "BA", "GO", "MA", "MS", "MT", "PE", "PR"})

# tPag: 01 cash, 03 credit card, 04 debit card, 15 boleto, 17 PIX, 90 no payment, 99 other.
PAYMENT_BOLETO = "15"
PAYMENT_PIX = "17"
PAYMENT_NONE = "90"
FREIGHT_MODES = ("0", "1", "2", "3", "4", "9")
HOMOLOGATION_NAME = "NF-E EMITIDA EM AMBIENTE DE HOMOLOGACAO - SEM VALOR FISCAL"
NO_GTIN = "SEM GTIN"

CANCEL_EVENT_TYPE = "110111"
CANCEL_REASON_MIN = 15
CANCEL_REASON_MAX = 255

# dhEmi carries the emitter's offset; Brasília time serves every state (the instant is what counts).
BRASILIA = ZoneInfo("America/Sao_Paulo")

CENT = Decimal("0.01")
_ICMS_SIMPLES_PLAIN = ("102", "103", "300", "400")
_ICMS_NORMAL_EXEMPT = ("40", "41", "50")
_IPI_TAXED = ("00", "49", "50", "99")
_IPI_UNTAXED = ("01", "02", "03", "04", "05", "51", "52", "53", "54", "55")
_PIS_RATE = ("01", "02")
_PIS_UNTAXED = ("04", "05", "06", "07", "08", "09")


def uf_code_for(state: str) -> str:
    """The IBGE code of a state given by its two letters ("SP" -> "35")."""
    code = UF_CODES.get((state or "").upper())
    if not code:
        raise _refuse(_("%(state)s is not a Brazilian state.") % {"state": state or "''"}, "state")
    return code


def svc_emission_type(uf_code: str) -> str:
    """The contingency emission type for a state: 6 (SVC-AN) or 7 (SVC-RS)."""
    return EMISSION_SVC_RS if UF_BY_CODE.get(uf_code) in _SVC_RS_STATES else EMISSION_SVC_AN


# --- access key ---------------------------------------------------------------------------------


def nfe_check_digit(key43: str) -> str:
    """The access key's modulus-11 check digit (Manual de Orientação do Contribuinte, 5.4).

    Weights 2, 3, ..., 9, 2, 3, ... from the rightmost character leftwards; each character counts
    as its code minus 48, so a digit counts as itself and a letter of an alphanumeric CNPJ as the
    2026 technical note says (A = 17). A remainder of 0 or 1 gives 0, else 11 - remainder.
    """
    total = 0
    for position, char in enumerate(reversed(key43)):
        total += (ord(char) - 48) * (2 + position % 8)
    remainder = total % 11
    return "0" if remainder < 2 else str(11 - remainder)


def nfe_access_key(
    *,
    uf_code: str,
    issued_at: datetime,
    cnpj: str,
    model: str = "55",
    series,
    number,
    emission_type: str = EMISSION_NORMAL,
    numeric_code: str,
) -> str:
    """The 44-character access key: cUF, YYMM of issue, CNPJ, model, series (3), number (9),
    emission type, numeric code (8) and the check digit."""
    errors = {}
    uf_code = str(uf_code)
    if uf_code not in UF_BY_CODE:
        errors["uf_code"] = _("Not a Brazilian state code.")
    cnpj = (cnpj or "").upper()
    if len(cnpj) != 14 or not cnpj.isalnum() or not cnpj[12:].isdigit():
        errors["cnpj"] = _("A CNPJ has 14 characters, the last two digits.")
    if model not in ("55", "65"):
        errors["model"] = _("The model is 55 (NF-e) or 65 (NFC-e).")
    series_text, number_text = str(series), str(number)
    if not series_text.isdigit() or int(series_text) > 999:
        errors["series"] = _("An NF-e series is a number from 0 to 999.")
    if not number_text.isdigit() or not 1 <= int(number_text) <= 999_999_999:
        errors["number"] = _("An NF-e number is from 1 to 999999999.")
    if len(emission_type) != 1 or not emission_type.isdigit():
        errors["emission_type"] = _("The emission type is one digit.")
    if len(numeric_code) != 8 or not numeric_code.isdigit():
        errors["numeric_code"] = _("The numeric code has 8 digits.")
    if errors:
        raise ValidationFailed(_("The NF-e access key cannot be formed."), fields=errors)
    local = issued_at.astimezone(BRASILIA)
    key43 = (
        f"{uf_code}{local:%y%m}{cnpj}{model}{int(series_text):03d}{int(number_text):09d}{emission_type}{numeric_code}"
    )
    return key43 + nfe_check_digit(key43)


def nfe_numeric_code(number) -> str:
    """A random 8-digit code for cNF, different from the note's number as the manual requires."""
    while True:
        code = f"{secrets.randbelow(10**8):08d}"
        if int(code) != int(number):
            return code


# --- formatting -----------------------------------------------------------------------------------


def _money(value) -> str:
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def _quantity(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def _unit_value(value) -> str:
    """A unit value with at least 2 and at most 10 decimals (TDec_1110v)."""
    exact = Decimal(value).quantize(Decimal("1E-10"), rounding=ROUND_HALF_UP)
    text = f"{exact:f}".rstrip("0")
    whole, _dot, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def _rate(value) -> str:
    """A percentage with 2 to 4 decimals (TDec_0302a04)."""
    exact = Decimal(value).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    two = exact.quantize(CENT)
    return str(two if two == exact else exact)


def _text(value, limit: int) -> str:
    """Free text as the schema's TString takes it: one line, no edge spaces, Latin-1 letters."""
    cleaned = []
    for char in unicodedata.normalize("NFC", " ".join(str(value or "").split())):
        if ord(char) > 0xFF:
            char = "".join(c for c in unicodedata.normalize("NFKD", char) if ord(c) <= 0xFF and c.isprintable())
        cleaned.append(char)
    return "".join(cleaned)[:limit].strip()


def _digits(value) -> str:
    return "".join(c for c in str(value or "") if c.isdigit())


def _datetime(value: datetime) -> str:
    return value.astimezone(BRASILIA).replace(microsecond=0).isoformat()


def _refuse(message: str, *names: str) -> ValidationFailed:
    """A refusal naming the document's fields (or `extra` keys) at fault."""
    return ValidationFailed(message, fields=dict.fromkeys(names, message))


# --- the document -------------------------------------------------------------------------------


@dataclass
class _Totals:
    icms_base: Decimal = Decimal("0")
    icms: Decimal = Decimal("0")
    icms_dest: Decimal = Decimal("0")
    fcp_dest: Decimal = Decimal("0")
    has_dest: bool = False
    products: Decimal = Decimal("0")
    discount: Decimal = Decimal("0")
    ipi: Decimal = Decimal("0")
    pis: Decimal = Decimal("0")
    cofins: Decimal = Decimal("0")


def _taxes_by_code(line: DocumentLine) -> dict[str, TaxAmount]:
    found: dict[str, TaxAmount] = {}
    for tax in line.taxes:
        code = tax.code.upper()
        if code in found:
            raise _refuse(
                _("Line %(position)s has two %(code)s taxes.") % {"position": line.position, "code": code},
                "lines",
            )
        found[code] = tax
    return found


def _icms(line: DocumentLine, tax: TaxAmount | None, crt: str, totals: _Totals) -> lay.Tnfe.InfNfe.Det.Imposto.Icms:
    Icms = lay.Tnfe.InfNfe.Det.Imposto.Icms
    origin = lay.Torig(line.origin or "0")
    if crt == "1":
        csosn = (tax.situation if tax else "") or "102"
        if csosn not in _ICMS_SIMPLES_PLAIN:
            raise _refuse(
                _("Line %(position)s: ICMS CSOSN %(code)s is not supported; use 102, 103, 300 or 400.")
                % {"position": line.position, "code": csosn},
                "lines",
            )
        return Icms(ICMSSN102=Icms.Icmssn102(orig=origin, CSOSN=lay.Icmssn102Csosn(csosn)))
    if tax is None:
        raise _refuse(_("Line %(position)s has no ICMS.") % {"position": line.position}, "lines")
    cst = tax.situation or "00"
    if cst == "00":
        totals.icms_base += tax.base
        totals.icms += tax.amount
        return Icms(
            ICMS00=Icms.Icms00(
                orig=origin,
                CST=lay.Icms00Cst.VALUE_00,
                modBC=lay.Icms00ModBc.VALUE_3,  # the base is the operation's value
                vBC=_money(tax.base),
                pICMS=_rate(tax.rate),
                vICMS=_money(tax.amount),
            )
        )
    if cst in _ICMS_NORMAL_EXEMPT:
        return Icms(ICMS40=Icms.Icms40(orig=origin, CST=lay.Icms40Cst(cst)))
    raise _refuse(
        _("Line %(position)s: ICMS CST %(code)s is not supported; use 00, 40, 41 or 50.")
        % {"position": line.position, "code": cst},
        "lines",
    )


def _icms_dest(line: DocumentLine, taxes: dict[str, TaxAmount], totals: _Totals):
    """The destination state's share (DIFAL) of an interstate sale to a final consumer who does
    not pay ICMS: the destination's internal rate on the base, all of it due to the destination."""
    dest = taxes.get("ICMSUFDEST")
    if dest is None:
        return None
    icms = taxes.get("ICMS")
    fcp = taxes.get("FCPUFDEST")
    inter_rate = icms.rate if icms is not None else Decimal("0")
    if inter_rate not in (Decimal("4"), Decimal("7"), Decimal("12")):
        raise _refuse(
            _("Line %(position)s: the interstate ICMS rate must be 4%%, 7%% or 12%% for the destination's share.")
            % {"position": line.position},
            "lines",
        )
    totals.has_dest = True
    totals.icms_dest += dest.amount
    totals.fcp_dest += fcp.amount if fcp else Decimal("0")
    return lay.Tnfe.InfNfe.Det.Imposto.Icmsufdest(
        vBCUFDest=_money(dest.base),
        vBCFCPUFDest=_money(fcp.base) if fcp else None,
        pFCPUFDest=_rate(fcp.rate) if fcp else None,
        pICMSUFDest=_rate(dest.rate),
        pICMSInter=lay.IcmsufdestPIcmsinter(_rate(inter_rate)),
        pICMSInterPart=_rate(Decimal("100")),
        vFCPUFDest=_money(fcp.amount) if fcp else None,
        vICMSUFDest=_money(dest.amount),
        vICMSUFRemet=_money(Decimal("0")),
    )


def _ipi(line: DocumentLine, tax: TaxAmount | None, totals: _Totals) -> lay.Tipi | None:
    if tax is None:
        return None
    cst = tax.situation or "50"
    if cst in _IPI_TAXED:
        totals.ipi += tax.amount
        return lay.Tipi(
            cEnq="999",  # no special legal framing
            IPITrib=lay.Tipi.Ipitrib(
                CST=lay.IpitribCst(cst), vBC=_money(tax.base), pIPI=_rate(tax.rate), vIPI=_money(tax.amount)
            ),
        )
    if cst in _IPI_UNTAXED:
        return lay.Tipi(cEnq="999", IPINT=lay.Tipi.Ipint(CST=lay.IpintCst(cst)))
    raise _refuse(
        _("Line %(position)s: IPI CST %(code)s is not valid.") % {"position": line.position, "code": cst},
        "lines",
    )


def _contribution(line: DocumentLine, tax: TaxAmount | None, crt: str, name: str):
    """PIS or COFINS of one line: (the group, its amount). Simples Nacional companies pay both
    inside the single DAS, so a line without them reads as CST 49 with nothing due."""
    Imposto = lay.Tnfe.InfNfe.Det.Imposto
    group = Imposto.Pis if name == "PIS" else Imposto.Cofins
    rate_tag, amount_tag = ("pPIS", "vPIS") if name == "PIS" else ("pCOFINS", "vCOFINS")
    if tax is None:
        if crt != "1":
            raise _refuse(_("Line %(position)s has no %(tax)s.") % {"position": line.position, "tax": name}, "lines")
        tax = TaxAmount(code=name, rate=Decimal("0"), base=Decimal("0"), amount=Decimal("0"), situation="49")
    cst = tax.situation or "01"
    figures = {"vBC": _money(tax.base), rate_tag: _rate(tax.rate), amount_tag: _money(tax.amount)}
    if cst in _PIS_RATE:
        cls = group.Pisaliq if name == "PIS" else group.Cofinsaliq
        cst_enum = lay.PisaliqCst if name == "PIS" else lay.CofinsaliqCst
        return group(**{f"{name}Aliq": cls(CST=cst_enum(cst), **figures)}), tax.amount
    if cst in _PIS_UNTAXED:
        cls = group.Pisnt if name == "PIS" else group.Cofinsnt
        cst_enum = lay.PisntCst if name == "PIS" else lay.CofinsntCst
        return group(**{f"{name}NT": cls(CST=cst_enum(cst))}), Decimal("0")
    cst_enum = lay.PisoutrCst if name == "PIS" else lay.CofinsoutrCst
    try:
        code = cst_enum(cst)
    except ValueError:
        raise _refuse(
            _("Line %(position)s: %(tax)s CST %(code)s is not valid.")
            % {"position": line.position, "tax": name, "code": cst},
            "lines",
        ) from None
    cls = group.Pisoutr if name == "PIS" else group.Cofinsoutr
    return group(**{f"{name}Outr": cls(CST=code, **figures)}), tax.amount


def _det(line: DocumentLine, crt: str, totals: _Totals, *, final_interstate: bool) -> lay.Tnfe.InfNfe.Det:
    Det = lay.Tnfe.InfNfe.Det
    taxes = _taxes_by_code(line)
    gross = line.net_amount + line.discount
    totals.products += gross
    totals.discount += line.discount
    gtin = _digits(line.barcode) or NO_GTIN
    unit = _text(line.unit_code or "UN", 6)
    prod = Det.Prod(
        cProd=_text(line.sku, 60),
        cEAN=gtin,
        xProd=_text(line.description, 120),
        NCM=_digits(line.ncm),
        CFOP=_digits(line.cfop),
        uCom=unit,
        qCom=_quantity(line.quantity),
        vUnCom=_unit_value(line.unit_price),
        vProd=_money(gross),
        cEANTrib=gtin,
        uTrib=unit,
        qTrib=_quantity(line.quantity),
        vUnTrib=_unit_value(line.unit_price),
        vDesc=_money(line.discount) if line.discount else None,
        indTot=lay.ProdIndTot.VALUE_1,
    )
    pis, pis_amount = _contribution(line, taxes.get("PIS"), crt, "PIS")
    cofins, cofins_amount = _contribution(line, taxes.get("COFINS"), crt, "COFINS")
    totals.pis += pis_amount
    totals.cofins += cofins_amount
    icms_dest = _icms_dest(line, taxes, totals)
    if final_interstate and crt == "3" and icms_dest is None:
        raise _refuse(
            _(
                "Line %(position)s: an interstate sale to a final consumer who does not pay ICMS needs "
                "the destination state's share (an ICMSUFDEST tax)."
            )
            % {"position": line.position},
            "lines",
        )
    imposto = Det.Imposto(
        ICMS=_icms(line, taxes.get("ICMS"), crt, totals),
        IPI=_ipi(line, taxes.get("IPI"), totals),
        PIS=pis,
        COFINS=cofins,
        ICMSUFDest=icms_dest,
    )
    return Det(prod=prod, imposto=imposto, nItem=str(line.position))


def _address(party, cls, uf_cls, city_code: str):
    return cls(
        xLgr=_text(party.street, 60),
        nro=_text(party.number or "S/N", 60),
        xCpl=_text(party.complement, 60) or None,
        xBairro=_text(party.district, 60),
        cMun=_digits(city_code or party.city_code),
        xMun=_text(party.city, 60),
        UF=uf_cls(party.state.upper()) if party.state.upper() in UF_CODES else party.state,
        CEP=_digits(party.postal_code),
        cPais="1058",
        xPais="BRASIL",
        fone=_phone(party.phone),
    )


def _phone(value: str) -> str | None:
    digits = _digits(value)
    if digits.startswith("55") and len(digits) > 11:
        digits = digits[2:]  # the country code is not written
    return digits if 6 <= len(digits) <= 14 else None


def _emit(document: InvoiceDocument, city_code: str) -> lay.Tnfe.InfNfe.Emit:
    seller = document.seller
    address = _address(seller, lay.TenderEmi, TufEmi, city_code)
    address.cPais = lay.TenderEmiCPais.VALUE_1058
    address.xPais = lay.TenderEmiXPais.BRASIL_1
    return lay.Tnfe.InfNfe.Emit(
        CNPJ=seller.tax_id.upper(),
        xNome=_text(seller.name, 60),
        xFant=_text(seller.trade_name, 60) or None,
        enderEmit=address,
        IE=_digits(seller.state_registration) or seller.state_registration.upper() or None,
        CRT=lay.EmitCrt(document.crt),
    )


def _dest(document: InvoiceDocument) -> tuple[lay.Tnfe.InfNfe.Dest, str]:
    """The buyer and its ICMS standing: 1 contributor (with IE), 2 exempt, 9 not a contributor."""
    buyer = document.buyer
    registration = (buyer.state_registration or "").strip().upper()
    if registration == "ISENTO":
        standing, ie = "2", None
    elif _digits(registration):
        standing, ie = "1", _digits(registration)
    else:
        standing, ie = "9", None
    tax_id = buyer.tax_id.upper()
    name = HOMOLOGATION_NAME if document.environment == "2" else _text(buyer.name, 60)
    dest = lay.Tnfe.InfNfe.Dest(
        CNPJ=tax_id if buyer.is_company else None,
        CPF=None if buyer.is_company else tax_id,
        xNome=name,
        enderDest=_address(buyer, lay.Tendereco, Tuf, ""),
        indIEDest=lay.DestIndIedest(standing),
        IE=ie,
        email=_text(buyer.email, 60) or None,
    )
    return dest, standing


def _pag(document: InvoiceDocument, credit: bool) -> lay.Tnfe.InfNfe.Pag:
    DetPag = lay.Tnfe.InfNfe.Pag.DetPag
    if credit:
        # A return gives back goods, not money: the manual requires "no payment" here.
        return lay.Tnfe.InfNfe.Pag(detPag=[DetPag(tPag=PAYMENT_NONE, vPag=_money(0))])
    deferred = document.due_date is not None and document.due_date > document.issue_date
    kind = str(document.extra.get("nfe_payment_type") or (PAYMENT_BOLETO if deferred else PAYMENT_PIX))
    if len(kind) != 2 or not kind.isdigit():
        raise _refuse(_("The NF-e payment type is two digits (15 boleto, 17 PIX, ...)."), "nfe_payment_type")
    return lay.Tnfe.InfNfe.Pag(
        detPag=[
            DetPag(
                indPag=lay.DetPagIndPag.VALUE_1 if deferred else lay.DetPagIndPag.VALUE_0,
                tPag=kind,
                xPag=_text(document.extra.get("nfe_payment_description") or "Outros", 60) if kind == "99" else None,
                vPag=_money(document.payable),
            )
        ]
    )


def _cobr(document: InvoiceDocument, credit: bool):
    """The bill and its single instalment, for a sale paid after the issue date."""
    if credit or document.due_date is None or document.due_date <= document.issue_date:
        return None
    Cobr = lay.Tnfe.InfNfe.Cobr
    amount = _money(document.payable)
    return Cobr(
        fat=Cobr.Fat(nFat=_text(document.number, 60), vOrig=amount, vDesc=_money(0), vLiq=amount),
        dup=[Cobr.Dup(nDup="001", dVenc=document.due_date.isoformat(), vDup=amount)],
    )


def _series_and_number(document: InvoiceDocument) -> tuple[int, int]:
    series = str(document.extra.get("nfe_series", document.series))
    if not series.isdigit() or int(series) > 999:
        raise _refuse(
            _("An NF-e series is a number from 0 to 999, not %(series)s.") % {"series": series or "''"}, "series"
        )
    if not 1 <= int(document.sequence_number) <= 999_999_999:
        raise _refuse(_("An NF-e number is from 1 to 999999999."), "sequence_number")
    return int(series), int(document.sequence_number)


def nfe_build(
    document: InvoiceDocument,
    *,
    uf_code: str,
    city_code: str,
    numeric_code: str,
    emission_type: str = EMISSION_NORMAL,
    contingency_at: datetime | None = None,
    contingency_reason: str = "",
) -> bytes:
    """The unsigned NF-e of `document` (UTF-8, no XML declaration, ready to sign).

    `uf_code` and `city_code` are the IBGE codes of the issuing state and municipality (cUF,
    cMunFG); `numeric_code` is cNF (see `nfe_numeric_code`). With emission type 6 or 7 (SVC-AN,
    SVC-RS) `contingency_at` and `contingency_reason` (15 to 256 characters) are required.

    Totals follow the NF-e rule: vNF = products - discounts + IPI (ICMS, PIS and COFINS are
    inside the prices in Brazil); it must equal the document's grand total, which the builder
    never recomputes. Read from `document.extra`: nfe_payment_type (tPag, default 15 boleto when
    paid after the issue date, else 17 PIX), nfe_freight_mode (modFrete, default 9 no freight),
    nfe_presence (indPres, default 2 internet), nfe_referenced_key (the returned NF-e's key,
    required for a credit note), nfe_intermediary_cnpj and nfe_intermediary_id (a marketplace),
    nfe_series (when the NF-e series differs from `document.series`).
    """
    if document.crt not in ("1", "3"):
        raise _refuse(_("The company's tax regime (CRT) must be 1 (Simples Nacional) or 3 (normal)."), "crt")
    if emission_type not in EMISSION_TYPES:
        raise _refuse(_("The emission type must be 1, 6 or 7."), "emission_type")
    if document.buyer.country != "BR" or document.seller.country != "BR":
        raise _refuse(_("NF-e for exports or foreign issuers is not supported."), "buyer")
    if not document.lines:
        raise _refuse(_("An NF-e needs at least one line."), "lines")
    contingency = emission_type != EMISSION_NORMAL
    if contingency and (contingency_at is None or not 15 <= len(_text(contingency_reason, 256)) <= 256):
        raise _refuse(
            _("A contingency NF-e needs the time contingency started and a reason of 15 to 256 characters."),
            "contingency_reason",
        )
    series, number = _series_and_number(document)
    credit = document.kind == "credit_note"
    key = nfe_access_key(
        uf_code=uf_code,
        issued_at=document.issued_at,
        cnpj=document.seller.tax_id,
        series=series,
        number=number,
        emission_type=emission_type,
        numeric_code=numeric_code,
    )
    dest, standing = _dest(document)
    interstate = document.buyer.state.upper() != document.seller.state.upper()
    final_consumer = standing == "9" or not document.buyer.is_company
    totals = _Totals()
    det = [
        _det(line, document.crt, totals, final_interstate=interstate and standing == "9")
        for line in sorted(document.lines, key=lambda line: line.position)
    ]
    total_nf = totals.products - totals.discount + totals.ipi
    if _money(total_nf) != _money(document.grand_total):
        raise _refuse(
            _(
                "The invoice total %(total)s differs from the NF-e total %(nfe_total)s (products - discounts + "
                "IPI; ICMS, PIS and COFINS are inside the prices)."
            )
            % {"total": _money(document.grand_total), "nfe_total": _money(total_nf)},
            "grand_total",
        )

    Ide = lay.Tnfe.InfNfe.Ide
    presence = str(document.extra.get("nfe_presence", "2"))
    intermediary_cnpj = _digits(document.extra.get("nfe_intermediary_cnpj"))
    remote = presence in ("2", "3", "4", "9")
    references = []
    if credit:
        referenced = str(document.extra.get("nfe_referenced_key") or "")
        if len(referenced) != 44:
            raise _refuse(
                _("A credit note (return) NF-e needs the access key of the NF-e it corrects."),
                "nfe_referenced_key",
            )
        references.append(Ide.Nfref(refNFe=referenced))
    ide = Ide(
        cUF=TcodUfIbge(uf_code),
        cNF=numeric_code,
        natOp=_text(document.operation_nature or ("Devolucao de venda" if credit else "Venda de mercadoria"), 60),
        mod=Tmod.VALUE_55,
        serie=str(series),
        nNF=str(number),
        dhEmi=_datetime(document.issued_at),
        tpNF=lay.IdeTpNf.VALUE_0 if credit else lay.IdeTpNf.VALUE_1,
        idDest=lay.IdeIdDest.VALUE_2 if interstate else lay.IdeIdDest.VALUE_1,
        cMunFG=_digits(city_code),
        tpImp=lay.IdeTpImp.VALUE_1,
        tpEmis=lay.IdeTpEmis(emission_type),
        cDV=key[-1],
        tpAmb=Tamb(document.environment),
        finNFe=lay.TfinNfe.VALUE_4 if credit else lay.TfinNfe.VALUE_1,
        indFinal=lay.IdeIndFinal.VALUE_1 if final_consumer else lay.IdeIndFinal.VALUE_0,
        indPres=lay.IdeIndPres(presence),
        indIntermed=(lay.IdeIndIntermed.VALUE_1 if intermediary_cnpj else lay.IdeIndIntermed.VALUE_0)
        if remote
        else None,
        procEmi=lay.TprocEmi.VALUE_0,
        verProc=APPLICATION,
        dhCont=_datetime(contingency_at) if contingency else None,
        xJust=_text(contingency_reason, 256) if contingency else None,
        NFref=references,
    )
    icms_tot = lay.Tnfe.InfNfe.Total.Icmstot(
        vBC=_money(totals.icms_base),
        vICMS=_money(totals.icms),
        vICMSDeson=_money(0),
        vFCPUFDest=_money(totals.fcp_dest) if totals.has_dest else None,
        vICMSUFDest=_money(totals.icms_dest) if totals.has_dest else None,
        vICMSUFRemet=_money(0) if totals.has_dest else None,
        vFCP=_money(0),
        vBCST=_money(0),
        vST=_money(0),
        vFCPST=_money(0),
        vFCPSTRet=_money(0),
        vProd=_money(totals.products),
        vFrete=_money(0),
        vSeg=_money(0),
        vDesc=_money(totals.discount),
        vII=_money(0),
        vIPI=_money(totals.ipi),
        vIPIDevol=_money(0),
        vPIS=_money(totals.pis),
        vCOFINS=_money(totals.cofins),
        vOutro=_money(0),
        vNF=_money(total_nf),
    )
    freight = str(document.extra.get("nfe_freight_mode", "9"))
    if freight not in FREIGHT_MODES:
        raise _refuse(_("The freight mode must be 0, 1, 2, 3, 4 or 9."), "nfe_freight_mode")
    notes = _text("; ".join(note for note in document.notes if note), 5000)
    InfNfe = lay.Tnfe.InfNfe
    inf = InfNfe(
        ide=ide,
        emit=_emit(document, city_code),
        dest=dest,
        det=det,
        total=InfNfe.Total(ICMSTot=icms_tot),
        transp=InfNfe.Transp(modFrete=lay.TranspModFrete(freight)),
        cobr=_cobr(document, credit),
        pag=_pag(document, credit),
        infIntermed=(
            InfNfe.InfIntermed(
                CNPJ=intermediary_cnpj, idCadIntTran=_text(document.extra.get("nfe_intermediary_id"), 60)
            )
            if intermediary_cnpj and remote
            else None
        ),
        infAdic=InfNfe.InfAdic(infCpl=notes) if notes else None,
        compra=InfNfe.Compra(xPed=_text(document.order_reference, 60)) if document.order_reference.strip() else None,
        versao=VERSION,
        Id=f"NFe{key}",
    )
    text = Nfe(infNFe=inf).to_xml(indent="")
    root = etree.fromstring(text.encode())
    return etree.tostring(root, encoding="UTF-8", xml_declaration=False)


# --- reading and changing a built NF-e ----------------------------------------------------------


def _q(tag: str) -> str:
    return f"{{{NFE_NS}}}{tag}"


def _inf_nfe(root) -> etree._Element:
    inf = root.find(_q("infNFe"))
    if inf is None:
        raise _refuse(_("This is not an NF-e: it has no infNFe."), "xml")
    return inf


def nfe_access_key_of(xml: bytes) -> str:
    """The access key of an NF-e, read from its infNFe Id."""
    return _inf_nfe(etree.fromstring(xml)).get("Id", "")[3:]


def nfe_contingency_convert(xml: bytes, *, emission_type: str, at: datetime, reason: str) -> bytes:
    """The same NF-e issued in SVC contingency (tpEmis 6 or 7): emission type, dhCont and xJust
    set, check digit and Id recomputed (the key contains the emission type), signature removed.
    The result must be signed again; the old key is no longer this document's."""
    if emission_type not in (EMISSION_SVC_AN, EMISSION_SVC_RS):
        raise _refuse(_("The contingency emission type must be 6 (SVC-AN) or 7 (SVC-RS)."), "emission_type")
    reason = _text(reason, 256)
    if len(reason) < 15:
        raise _refuse(_("The contingency reason needs 15 to 256 characters."), "contingency_reason")
    root = etree.fromstring(xml)
    for signature in root.findall(f"{{{DS_NS}}}Signature"):
        root.remove(signature)
    inf = _inf_nfe(root)
    ide = inf.find(_q("ide"))
    ide.find(_q("tpEmis")).text = emission_type
    for tag in ("dhCont", "xJust"):
        old = ide.find(_q(tag))
        if old is not None:
            ide.remove(old)
    # dhCont and xJust come right after verProc in the schema's sequence.
    anchor = ide.find(_q("verProc"))
    dh_cont = etree.Element(_q("dhCont"))
    dh_cont.text = _datetime(at)
    justification = etree.Element(_q("xJust"))
    justification.text = reason
    anchor.addnext(dh_cont)
    dh_cont.addnext(justification)
    key43 = inf.get("Id")[3:46]
    key43 = key43[:34] + emission_type + key43[35:]
    digit = nfe_check_digit(key43)
    ide.find(_q("cDV")).text = digit
    inf.set("Id", f"NFe{key43}{digit}")
    return etree.tostring(root, encoding="UTF-8", xml_declaration=False)


# --- validation ---------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path)))


def _schema_errors(xml: bytes, path: Path, *, unsigned_ok: bool = False) -> list[str]:
    try:
        root = etree.fromstring(xml)
    except etree.XMLSyntaxError as error:
        return [_("Not well-formed XML: %(error)s") % {"error": error}]
    schema = _schema(path)
    if schema.validate(root):
        return []
    errors = [f"line {error.line}: {error.message}" for error in schema.error_log]
    if not unsigned_ok or root.find(f"{{{DS_NS}}}Signature") is not None:
        return errors
    signature = f"{{{DS_NS}}}Signature"
    return [error for error in errors if not ("Missing child element" in error and signature in error)]


def nfe_validate(xml: bytes, *, require_signature: bool = False) -> list[str]:
    """The errors of `xml` against the official NF-e 4.00 XSD (nfelib's copy); empty when valid.

    The schema requires the XML signature; an NF-e not yet signed is checked for everything
    else unless `require_signature`."""
    return _schema_errors(xml, NFE_SCHEMA, unsigned_ok=not require_signature)


def nfe_event_validate(xml: bytes) -> list[str]:
    """The errors of a signed cancellation event against its official XSD; empty when valid."""
    return _schema_errors(xml, CANCEL_EVENT_SCHEMA)


def nfe_proc_validate(xml: bytes) -> list[str]:
    return _schema_errors(xml, PROC_SCHEMA)


# --- events and the authorized file -------------------------------------------------------------


def nfe_cancel_event_build(
    *, access_key: str, protocol: str, reason: str, environment: str, at: datetime, sequence: int = 1
) -> bytes:
    """The unsigned cancellation event (110111) of an authorized NF-e. The issuer's CNPJ and
    state come from the access key; the reason must have 15 to 255 characters."""
    reason = _text(reason, CANCEL_REASON_MAX + 1)
    if not CANCEL_REASON_MIN <= len(reason) <= CANCEL_REASON_MAX:
        raise _refuse(
            _("The cancellation reason needs %(min)s to %(max)s characters.")
            % {"min": CANCEL_REASON_MIN, "max": CANCEL_REASON_MAX},
            "reason",
        )
    Inf = canc.Tevento.InfEvento
    inf = Inf(
        cOrgao=TcorgaoIbge(access_key[:2]),
        tpAmb=canc.Tamb(environment),
        CNPJ=access_key[6:20],
        chNFe=access_key,
        dhEvento=_datetime(at),
        tpEvento=canc.InfEventoTpEvento(CANCEL_EVENT_TYPE),
        nSeqEvento=str(sequence),
        verEvento=canc.InfEventoVerEvento.VALUE_1_00,
        detEvento=Inf.DetEvento(
            descEvento=DetEventoDescEvento.CANCELAMENTO,
            nProt=protocol,
            xJust=reason,
            versao=DetEventoVersao.VALUE_1_00,
        ),
        Id=f"ID{CANCEL_EVENT_TYPE}{access_key}{sequence:02d}",
    )
    text = Evento(infEvento=inf, versao="1.00").to_xml(indent="")
    return etree.tostring(etree.fromstring(text.encode()), encoding="UTF-8", xml_declaration=False)


def nfe_proc_build(signed_xml: bytes, protocol_xml: bytes) -> bytes:
    """The file the issuer keeps and sends the buyer: the signed NF-e with its authorization
    (nfeProc = NFe + protNFe)."""
    proc = etree.Element(_q("nfeProc"), nsmap={None: NFE_NS}, versao=VERSION)
    proc.append(etree.fromstring(signed_xml))
    proc.append(etree.fromstring(protocol_xml))
    return etree.tostring(proc, encoding="UTF-8", xml_declaration=True)
