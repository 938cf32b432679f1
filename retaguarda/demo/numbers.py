"""Valid identifiers for demo data: Brazilian CPF/CNPJ, Spanish DNI/NIE/CIF and EAN-13 barcodes.

Every number is built from random digits plus the check digits python-stdnum computes, so it
passes the same validation the parties and catalog services apply. Numbers whose digits are
all the same (`111.111.111-11`) pass their checksum but are refused by the services, so they
are never produced.
"""

from __future__ import annotations

import random

from stdnum import ean
from stdnum.br import cnpj, cpf
from stdnum.es import cif, dni, nie


def _digits(rng: random.Random, count: int) -> str:
    while True:
        value = "".join(rng.choice("0123456789") for _ in range(count))
        if len(set(value)) > 1:
            return value


def cpf_check_digits(base: str) -> str:
    """The two mod-11 check digits of a CPF's first nine digits.

    python-stdnum validates CPFs but keeps this computation private, so it is written out here;
    the tests check every generated number with `stdnum.br.cpf.is_valid`.
    """
    d1 = (11 - sum((10 - i) * int(base[i]) for i in range(9))) % 11 % 10
    d2 = (11 - sum((11 - i) * int(base[i]) for i in range(9)) - 2 * d1) % 11 % 10
    return f"{d1}{d2}"


def cpf_make(rng: random.Random) -> str:
    """A formatted CPF (`123.456.789-09`)."""
    base = _digits(rng, 9)
    return cpf.format(base + cpf_check_digits(base))


def cnpj_make(rng: random.Random, branch: int = 1) -> str:
    """A formatted CNPJ of a head office (`/0001`) or the given branch number."""
    base = _digits(rng, 8) + f"{branch:04d}"
    return cnpj.format(base + cnpj.calc_check_digits(base))


def dni_make(rng: random.Random) -> str:
    """A Spanish NIF of a resident citizen (DNI): eight digits and the control letter."""
    base = _digits(rng, 8)
    return base + dni.calc_check_digit(base)


def nie_make(rng: random.Random) -> str:
    """A Spanish NIF of a foreign resident (NIE): X, Y or Z, seven digits and the control letter."""
    base = rng.choice("XYZ") + _digits(rng, 7)
    return base + nie.calc_check_digit(base)


# Legal forms whose CIF ends in a digit (A: sociedad anónima, B: sociedad limitada, ...).
_CIF_DIGIT_LETTERS = "ABEH"


def cif_make(rng: random.Random, *, letter: str = "B", province: str | None = None) -> str:
    """A Spanish CIF (the NIF of a company): legal-form letter, province code, serial, control."""
    if letter not in _CIF_DIGIT_LETTERS:
        raise ValueError(f"CIF letter {letter!r} is not one with a numeric control digit")
    province = province or f"{rng.randint(1, 52):02d}"
    base = letter + province + _digits(rng, 5)
    return base + cif.calc_check_digits(base)[0]


def ean13_make(prefix: str, item: int) -> str:
    """The EAN-13 of item number `item` under a GS1 company `prefix` (12 digits before the check)."""
    body = f"{prefix}{item:0{12 - len(prefix)}d}"
    if len(body) != 12:
        raise ValueError(f"item {item} does not fit after prefix {prefix!r}")
    return body + ean.calc_check_digit(body)
