import random

import pytest
from stdnum import ean
from stdnum.br import cnpj, cpf
from stdnum.es import cif, dni, nie

from retaguarda.common.taxids import tax_id_validate
from retaguarda.demo import numbers


class ScriptedRandom(random.Random):
    """A Random whose first choices are given: to force an all-same-digits draw."""

    def __init__(self, script: str):
        super().__init__(7)
        self.script = list(script)

    def choice(self, seq):
        if self.script:
            return self.script.pop(0)
        return super().choice(seq)


@pytest.mark.parametrize(
    "make, module, kind",
    [
        (numbers.cpf_make, cpf, "person"),
        (numbers.cnpj_make, cnpj, "company"),
        (numbers.dni_make, dni, "person"),
        (numbers.nie_make, nie, "person"),
        (numbers.cif_make, cif, "company"),
    ],
)
def test_generated_tax_ids_pass_stdnum_and_the_parties_validation(make, module, kind):
    rng = random.Random(2024)
    country = "BR" if module in (cpf, cnpj) else "ES"
    for _ in range(2000):
        number = make(rng)
        assert module.is_valid(number), number
        tax_id_validate(country=country, number=number, kind=kind)


def test_cpf_check_digits_match_known_numbers():
    # Published examples: 111.444.777-35 and 529.982.247-25.
    assert numbers.cpf_check_digits("111444777") == "35"
    assert numbers.cpf_check_digits("529982247") == "25"


def test_repeated_digit_draws_are_thrown_away():
    rng = ScriptedRandom("1" * 9)
    number = numbers.cpf_make(rng)
    assert number != "111.111.111-11"
    assert len(set(number.replace(".", "").replace("-", "")[:9])) > 1
    assert cpf.is_valid(number)


def test_cif_letter_and_province():
    rng = random.Random(1)
    number = numbers.cif_make(rng, letter="A", province="46")
    assert number[:3] == "A46"
    assert cif.is_valid(number)
    with pytest.raises(ValueError):
        numbers.cif_make(rng, letter="P")


def test_ean13_is_valid_and_distinct_per_item():
    codes = [numbers.ean13_make("7898357", item) for item in range(1, 501)]
    assert codes[0] == "7898357000018"
    assert all(len(code) == 13 and ean.is_valid(code) for code in codes)
    assert len(set(codes)) == 500
    with pytest.raises(ValueError):
        numbers.ean13_make("7898357", 100000)
