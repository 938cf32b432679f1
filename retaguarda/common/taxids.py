"""Tax identifiers of companies, customers and suppliers: validation, normalization and display by country.

Pure functions over python-stdnum, no database and no import from the other layers (the company
in core and the parties both validate through it). Brazil: CPF for persons, CNPJ (numeric or the
alphanumeric form from July 2026) for companies. Spain: DNI or NIE for persons, CIF for
companies. Other EU countries: the VAT number, stored with its country prefix. Elsewhere any
run of letters and digits. Numbers whose every digit is the same (111.111.111-11,
00000000000000) are refused although their check digits pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.br import cnpj, cpf
from stdnum.es import cif, dni, nie
from stdnum.es import nif as es_nif
from stdnum.eu import vat
from stdnum.util import clean

PERSON = "person"
COMPANY = "company"

MAX_LENGTH = 32

# ISO country code -> VAT prefix, for the EU members other than Spain (Greece writes EL).
EU_VAT_PREFIX = {
    cc: ("EL" if cc == "GR" else cc)
    for cc in ("AT BE BG CY CZ DE DK EE FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())
}
_ALL_VAT_PREFIXES = frozenset(EU_VAT_PREFIX.values()) | {"ES"}
_OTHER_RE = re.compile(r"^[A-Z0-9]{1,32}$")


class TaxIdInvalid(ValueError):
    """The number is not a valid tax id for the country and kind; `message` says why."""

    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class TaxId:
    """A validated tax id: `number` is the compact form that is stored."""

    country: str
    scheme: str  # br.cpf, br.cnpj, es.dni, es.nie, es.nif, es.cif, eu.vat, other
    number: str

    @property
    def label(self) -> str:
        return SCHEME_LABELS.get(self.scheme, "")

    @property
    def formatted(self) -> str:
        return tax_id_format(self.country, self.number)


SCHEME_LABELS = {
    "br.cpf": "CPF",
    "br.cnpj": "CNPJ",
    "es.dni": "DNI",
    "es.nie": "NIE",
    "es.nif": "NIF",
    "es.cif": "CIF",
    "eu.vat": "VAT",
    "other": "",
}


def tax_id_validate(*, country: str, number: str, kind: str) -> TaxId:
    """Validate `number` as the tax id of a person or company of `country`.

    Returns the compact form; raises TaxIdInvalid with a message in the active language.
    """
    country = (country or "").strip().upper()
    raw = (number or "").strip()
    if not raw:
        raise TaxIdInvalid(_("Enter the tax id."), "required")
    if len(raw) > 64 or any(ord(c) < 32 or "\ud800" <= c <= "\udfff" for c in raw):
        raise TaxIdInvalid(_("This is not a valid tax id."), "invalid")
    if kind not in (PERSON, COMPANY):
        raise TaxIdInvalid(_("Choose whether the party is a person or a company."), "invalid_kind")
    if country == "BR":
        return _brazil(raw, kind)
    if country == "ES":
        return _spain(raw, kind)
    if country in EU_VAT_PREFIX:
        return _eu_vat(raw, country)
    compact = clean(raw, " -./").upper()
    if not _OTHER_RE.match(compact):
        raise TaxIdInvalid(_("Use only letters and digits, at most 32."), "invalid_format")
    _refuse_repeated(compact)
    return TaxId(country, "other", compact)


def tax_id_compact(country: str, number: str) -> str:
    """The stored form of a number, without validating it (for searching)."""
    country = (country or "").upper()
    number = clean(number or "", " -./").upper().strip()
    if country == "ES" and number.startswith("ES"):
        return number[2:]
    return number


def tax_id_format(country: str, number: str) -> str:
    """The number as people write it (11.222.333/0001-81); never raises."""
    if not number:
        return ""
    if (country or "").upper() == "BR":
        if len(number) == 11 and number.isdigit():
            return cpf.format(number)
        if len(number) == 14:
            return cnpj.format(number)
    return number


def tax_id_label(country: str, number: str) -> str:
    """The name of the kind of number (CPF, CNPJ, DNI, NIE, CIF, VAT) for display."""
    country = (country or "").upper()
    if not number:
        return ""
    if country == "BR":
        return "CPF" if len(number) == 11 else "CNPJ"
    if country == "ES":
        if number[:1] in "XYZ":
            return "NIE"
        if number[:1].isdigit():
            return "DNI"
        if number[:1] in "KLM":
            return "NIF"
        return "CIF"
    if country in EU_VAT_PREFIX:
        return "VAT"
    return ""


def _refuse_repeated(body: str) -> None:
    """Refuse a number (at most two letters besides digits) whose digits are all the same.

    Such numbers pass the check-digit algorithms, but nobody holds them: they are what people
    type to get past a required field.
    """
    digits = [c for c in body if c.isdigit()]
    if len(digits) >= 2 and len(set(digits)) == 1 and len(digits) >= len(body) - 2:
        raise TaxIdInvalid(_("A number with every digit the same is not a valid tax id."), "repeated_digits")


def _brazil(raw: str, kind: str) -> TaxId:
    compact = clean(raw, " -./").strip().upper()
    if kind == PERSON:
        if len(compact) == 14 and cnpj.is_valid(compact):
            raise TaxIdInvalid(
                _("This is a CNPJ, the number of a company: a person's tax id in Brazil is the CPF."), "wrong_kind"
            )
        if not compact.isdigit():
            raise TaxIdInvalid(_("A CPF has only digits."), "invalid_format")
        if len(compact) != 11:
            raise TaxIdInvalid(_("A CPF has 11 digits."), "invalid_length")
        _refuse_repeated(compact[:9])
        try:
            cpf.validate(compact)
        except stdnum_errors.ValidationError:
            raise TaxIdInvalid(_("The check digits do not match: this is not a valid CPF."), "invalid_checksum")
        return TaxId("BR", "br.cpf", compact)
    if len(compact) == 11 and cpf.is_valid(compact) and len(set(compact)) > 1:
        raise TaxIdInvalid(
            _("This is a CPF, the number of a person: a company's tax id in Brazil is the CNPJ."), "wrong_kind"
        )
    if len(compact) != 14:
        raise TaxIdInvalid(_("A CNPJ has 14 characters."), "invalid_length")
    if not re.match(r"^[0-9A-Z]{12}[0-9]{2}$", compact):
        raise TaxIdInvalid(
            _("A CNPJ has 12 letters or digits followed by 2 check digits."),
            "invalid_format",
        )
    if len(set(compact[:12])) == 1:
        raise TaxIdInvalid(_("A number with every digit the same is not a valid tax id."), "repeated_digits")
    try:
        # python-stdnum 2.2 computes the check digits of the alphanumeric CNPJ too (value =
        # ord(c) - 48, weights 2..9 from the right, modulo 11).
        cnpj.validate(compact)
    except stdnum_errors.ValidationError:
        raise TaxIdInvalid(_("The check digits do not match: this is not a valid CNPJ."), "invalid_checksum")
    return TaxId("BR", "br.cnpj", compact)


def _spain(raw: str, kind: str) -> TaxId:
    compact = tax_id_compact("ES", raw)
    if len(compact) != 9 or not compact[1:8].isdigit():
        if kind == PERSON:
            raise TaxIdInvalid(
                _(
                    "A person's NIF in Spain is a DNI (8 digits and a letter) "
                    "or an NIE (X, Y or Z, 7 digits and a letter)."
                ),
                "invalid_format",
            )
        raise TaxIdInvalid(
            _("A company's NIF in Spain is a CIF: a letter, 7 digits and a check character."), "invalid_format"
        )
    first = compact[0]
    person_scheme = None
    if first.isdigit():
        person_scheme = "es.dni"
    elif first in "XYZ":
        person_scheme = "es.nie"
    elif first in "KLM":
        person_scheme = "es.nif"
    if kind == PERSON:
        if person_scheme is None:
            raise TaxIdInvalid(
                _("This is a company's CIF: a person's NIF in Spain is a DNI or an NIE."),
                "wrong_kind",
            )
        _refuse_repeated(compact[:8] if person_scheme == "es.dni" else compact[1:8])
        module = {"es.dni": dni, "es.nie": nie, "es.nif": es_nif}[person_scheme]
        try:
            module.validate(compact)
        except stdnum_errors.ValidationError:
            raise TaxIdInvalid(
                _("The check letter does not match: this is not a valid %(scheme)s.")
                % {"scheme": SCHEME_LABELS[person_scheme]},
                "invalid_checksum",
            )
        return TaxId("ES", person_scheme, compact)
    if person_scheme is not None:
        raise TaxIdInvalid(
            _("This is a person's DNI or NIE: a company's tax id in Spain is the CIF."),
            "wrong_kind",
        )
    _refuse_repeated(compact[1:8])
    try:
        cif.validate(compact)
    except stdnum_errors.InvalidFormat:
        raise TaxIdInvalid(
            _("A company's NIF in Spain is a CIF: a letter, 7 digits and a check character."), "invalid_format"
        )
    except stdnum_errors.ValidationError:
        raise TaxIdInvalid(_("The check character does not match: this is not a valid CIF."), "invalid_checksum")
    return TaxId("ES", "es.cif", compact)


def _eu_vat(raw: str, country: str) -> TaxId:
    prefix = EU_VAT_PREFIX[country]
    compact = clean(raw, " -./").upper().strip()
    candidate = compact if compact.startswith(prefix) else prefix + compact
    foreign = compact[:2]
    if foreign != prefix and foreign in _ALL_VAT_PREFIXES and vat.is_valid(compact):
        raise TaxIdInvalid(
            _("This VAT number belongs to another country (%(code)s): choose that tax country.") % {"code": foreign},
            "wrong_country",
        )
    if len(candidate) > MAX_LENGTH:
        raise TaxIdInvalid(_("This is not a valid VAT number of %(country)s.") % {"country": country}, "invalid")
    _refuse_repeated(candidate[2:])
    try:
        number = vat.validate(candidate)
    except stdnum_errors.ValidationError:
        raise TaxIdInvalid(_("This is not a valid VAT number of %(country)s.") % {"country": country}, "invalid")
    return TaxId(country, "eu.vat", number)


def cpf_complete(base: str) -> str:
    """A CPF from its first 9 digits (for builders and demo data)."""
    d1 = sum((10 - i) * int(base[i]) for i in range(9))
    d1 = (11 - d1) % 11 % 10
    d2 = sum((11 - i) * int(base[i]) for i in range(9)) + 2 * d1
    d2 = (11 - d2) % 11 % 10
    return f"{base}{d1}{d2}"


def cnpj_complete(base: str) -> str:
    """A CNPJ from its first 12 characters, digits or capital letters."""
    return base + cnpj.calc_check_digits(base + "00")


def tax_id_example(*, country: str, kind: str, seed: int) -> str:
    """A valid tax id, distinct for each `seed` below 10**7 (builders and demo data); "" where none is known."""
    for attempt in range(3):
        # A multiplier coprime with 10**8 spreads consecutive seeds over plausible-looking numbers.
        n = (abs(int(seed)) * 7_654_321 + 10_203_040 + attempt) % 10**8
        number = _example(country, kind, n)
        try:
            return tax_id_validate(country=country, number=number, kind=kind).number if number else ""
        except TaxIdInvalid:  # a repeated-digit number: take the next
            continue
    return ""  # pragma: no cover - three repeated-digit numbers in a row cannot happen


def _example(country: str, kind: str, n: int) -> str:
    if country == "BR":
        if kind == PERSON:
            return cpf_complete(f"{n:09d}")
        return cnpj_complete(f"{n:08d}0001")
    if country == "ES":
        if kind == PERSON:
            body = f"{n:08d}"
            return body + dni.calc_check_digit(body)
        body = f"B{n % 10**7:07d}"
        return body + cif.calc_check_digits(body)[0]
    if country == "PT":
        body = ("1" if kind == PERSON else "5") + f"{n % 10**7:07d}"
        total = sum(int(d) * w for d, w in zip(body, range(9, 1, -1), strict=True))
        check = 11 - total % 11
        return "PT" + body + str(0 if check >= 10 else check)
    return ""
