"""Tax ids by country: exact valid and invalid examples, normalization and display."""

import pytest
from stdnum.br import cnpj as stdnum_cnpj

from retaguarda.common.taxids import (
    TaxIdInvalid,
    cnpj_complete,
    cpf_complete,
    tax_id_compact,
    tax_id_example,
    tax_id_format,
    tax_id_label,
    tax_id_validate,
)


def valid(country, number, kind):
    return tax_id_validate(country=country, number=number, kind=kind)


def invalid_code(country, number, kind):
    with pytest.raises(TaxIdInvalid) as exc:
        tax_id_validate(country=country, number=number, kind=kind)
    return exc.value.code


# Brazil: CPF


@pytest.mark.parametrize(
    "number, compact",
    [
        ("390.533.447-05", "39053344705"),
        ("39053344705", "39053344705"),
        (" 390 533 447 05 ", "39053344705"),
        ("529.982.247-25", "52998224725"),
        ("000.000.001-91", "00000000191"),
    ],
)
def test_valid_cpf_is_stored_compact(number, compact):
    tax_id = valid("BR", number, "person")
    assert (tax_id.number, tax_id.scheme, tax_id.label) == (compact, "br.cpf", "CPF")


@pytest.mark.parametrize(
    "number, code",
    [
        ("390.533.447-06", "invalid_checksum"),
        ("529.982.247-52", "invalid_checksum"),
        ("390.533.447", "invalid_length"),
        ("390.533.447-051", "invalid_length"),
        ("390.533.44A-05", "invalid_format"),
        ("111.111.111-11", "repeated_digits"),
        ("000.000.000-00", "repeated_digits"),
        ("999.999.999-99", "repeated_digits"),
        ("22222222222", "repeated_digits"),
        ("11.222.333/0001-81", "wrong_kind"),
    ],
)
def test_invalid_cpf(number, code):
    assert invalid_code("BR", number, "person") == code


def test_repeated_digits_pass_stdnum_check_digits_but_are_refused():
    from stdnum.br import cpf

    assert cpf.is_valid("111.111.111-11")
    with pytest.raises(TaxIdInvalid) as exc:
        valid("BR", "111.111.111-11", "person")
    assert exc.value.message == "A number with every digit the same is not a valid tax id."


def test_cnpj_given_for_a_person_says_so():
    with pytest.raises(TaxIdInvalid) as exc:
        valid("BR", "11.222.333/0001-81", "person")
    assert exc.value.message == "This is a CNPJ, the number of a company: a person's tax id in Brazil is the CPF."


# Brazil: CNPJ, numeric and alphanumeric


@pytest.mark.parametrize(
    "number, compact",
    [
        ("11.222.333/0001-81", "11222333000181"),
        ("11222333000181", "11222333000181"),
        ("16.727.230/0001-97", "16727230000197"),
        ("00.000.000/0001-91", "00000000000191"),
        # The alphanumeric CNPJ (from July 2026), the Receita Federal's own example.
        ("12.ABC.345/01DE-35", "12ABC34501DE35"),
        ("12ABC34501DE35", "12ABC34501DE35"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),
    ],
)
def test_valid_cnpj_is_stored_compact(number, compact):
    tax_id = valid("BR", number, "company")
    assert (tax_id.number, tax_id.scheme, tax_id.label) == (compact, "br.cnpj", "CNPJ")


@pytest.mark.parametrize(
    "number, code",
    [
        ("11.222.333/0001-82", "invalid_checksum"),
        ("16.727.230/0001-98", "invalid_checksum"),
        ("12.ABC.345/01DE-36", "invalid_checksum"),
        ("12.ABC.345/01DF-35", "invalid_checksum"),
        ("12.ABC.345/01DE-3A", "invalid_format"),
        ("12.AB$.345/01DE-35", "invalid_format"),
        ("11.222.333/0001", "invalid_length"),
        ("11.222.333/0001-811", "invalid_length"),
        ("00.000.000/0000-00", "repeated_digits"),
        ("00000000000000", "repeated_digits"),
        ("11.111.111/1111-11", "repeated_digits"),
        ("AAAAAAAAAAAA" + stdnum_cnpj.calc_check_digits("AAAAAAAAAAAA00"), "repeated_digits"),
        ("390.533.447-05", "wrong_kind"),
    ],
)
def test_invalid_cnpj(number, code):
    assert invalid_code("BR", number, "company") == code


def test_alphanumeric_cnpj_check_digits_follow_the_official_algorithm():
    # value = ord(c) - 48, weights 2..9 cycling from the right, modulo 11; < 2 gives 0.
    def official(base):
        digits = ""
        for _ in range(2):
            values = [ord(c) - 48 for c in base + digits]
            weights = [2 + i % 8 for i in range(len(values))][::-1]
            remainder = sum(v * w for v, w in zip(values, weights, strict=True)) % 11
            digits += "0" if remainder < 2 else str(11 - remainder)
        return base + digits

    for base in ("12ABC34501DE", "ZZ1234560001", "A1B2C3D4E5F6", "112223330001"):
        assert cnpj_complete(base) == official(base)
        assert valid("BR", official(base), "company").number == official(base)
    assert official("12ABC34501DE") == "12ABC34501DE35"


# Spain: DNI, NIE, NIF of K/L/M, CIF


@pytest.mark.parametrize(
    "number, compact, scheme",
    [
        ("12345678Z", "12345678Z", "es.dni"),
        ("12345678-z", "12345678Z", "es.dni"),
        ("ES12345678Z", "12345678Z", "es.dni"),
        ("X1234567L", "X1234567L", "es.nie"),
        ("Y1234567X", "Y1234567X", "es.nie"),
        ("Z1234567R", "Z1234567R", "es.nie"),
        ("K1234567L", "K1234567L", "es.nif"),
    ],
)
def test_valid_spanish_person(number, compact, scheme):
    tax_id = valid("ES", number, "person")
    assert (tax_id.number, tax_id.scheme) == (compact, scheme)


@pytest.mark.parametrize(
    "number, code",
    [
        ("12345678A", "invalid_checksum"),
        ("X1234567A", "invalid_checksum"),
        ("1234567Z", "invalid_format"),
        ("123456789", "invalid_checksum"),
        ("00000000T", "repeated_digits"),
        ("11111111H", "repeated_digits"),
        ("X0000000T", "repeated_digits"),
        ("B58378431", "wrong_kind"),
        ("ABCDEFGHI", "invalid_format"),
    ],
)
def test_invalid_spanish_person(number, code):
    assert invalid_code("ES", number, "person") == code


@pytest.mark.parametrize(
    "number, compact",
    [
        ("B58378431", "B58378431"),
        ("b-58378431", "B58378431"),
        ("ES B58378431", "B58378431"),
        ("A28015865", "A28015865"),
        ("Q2826000H", "Q2826000H"),
        ("P2807900B", "P2807900B"),
    ],
)
def test_valid_spanish_company(number, compact):
    tax_id = valid("ES", number, "company")
    assert (tax_id.number, tax_id.scheme, tax_id.label) == (compact, "es.cif", "CIF")


@pytest.mark.parametrize(
    "number, code",
    [
        ("B58378432", "invalid_checksum"),
        ("A28015866", "invalid_checksum"),
        ("I58378431", "invalid_format"),
        ("B5837843", "invalid_format"),
        ("A00000000", "repeated_digits"),
        ("B11111111", "repeated_digits"),
        ("12345678Z", "wrong_kind"),
        ("X1234567L", "wrong_kind"),
    ],
)
def test_invalid_spanish_company(number, code):
    assert invalid_code("ES", number, "company") == code


def test_dni_given_for_a_company_says_so():
    with pytest.raises(TaxIdInvalid) as exc:
        valid("ES", "12345678Z", "company")
    assert exc.value.message == "This is a person's DNI or NIE: a company's tax id in Spain is the CIF."


# Other EU countries: VAT numbers


@pytest.mark.parametrize(
    "country, number, compact",
    [
        ("PT", "501964843", "PT501964843"),
        ("PT", "PT 501 964 843", "PT501964843"),
        ("FR", "40303265045", "FR40303265045"),
        ("FR", "FR 40 303 265 045", "FR40303265045"),
        ("DE", "DE136695976", "DE136695976"),
        ("IT", "IT00743110157", "IT00743110157"),
        ("NL", "NL004495445B01", "NL004495445B01"),
        ("BE", "BE0403019261", "BE0403019261"),
        ("AT", "ATU13585627", "ATU13585627"),
        ("IE", "IE6433435F", "IE6433435F"),
        ("GR", "094259216", "EL094259216"),
    ],
)
def test_valid_eu_vat_numbers_keep_their_prefix(country, number, compact):
    tax_id = valid(country, number, "company")
    assert (tax_id.number, tax_id.scheme, tax_id.label) == (compact, "eu.vat", "VAT")


@pytest.mark.parametrize(
    "country, number, code",
    [
        ("PT", "501964844", "invalid"),
        ("FR", "40303265046", "invalid"),
        ("DE", "DE136695977", "invalid"),
        ("IT", "IT00743110158", "invalid"),
        ("PT", "FR40303265045", "wrong_country"),
        ("DE", "PT501964843", "wrong_country"),
        ("PT", "000000000", "repeated_digits"),
        ("PT", "PT" + "9" * 40, "invalid"),
    ],
)
def test_invalid_eu_vat_numbers(country, number, code):
    assert invalid_code(country, number, "company") == code


def test_vat_of_another_country_names_it():
    with pytest.raises(TaxIdInvalid) as exc:
        valid("PT", "FR40303265045", "company")
    assert exc.value.message == "This VAT number belongs to another country (FR): choose that tax country."


# Elsewhere, and bad input of any kind


def test_other_countries_accept_letters_and_digits_compact():
    tax_id = valid("US", "12-3456789", "company")
    assert (tax_id.number, tax_id.scheme, tax_id.label) == ("123456789", "other", "")


@pytest.mark.parametrize(
    "country, number, kind, code",
    [
        ("US", "00-0000000", "company", "repeated_digits"),
        ("US", "12#3456789", "company", "invalid_format"),
        ("US", "1" * 33 + "2", "company", "invalid_format"),
        ("BR", "", "person", "required"),
        ("BR", "   ", "person", "required"),
        ("BR", "390.533.447-05\x00", "person", "invalid"),
        ("BR", "390.533.447-0\ud800", "person", "invalid"),
        ("BR", "9" * 65, "person", "invalid"),
        ("BR", "390.533.447-05", "robot", "invalid_kind"),
    ],
)
def test_bad_input_is_refused(country, number, kind, code):
    assert invalid_code(country, number, kind) == code


def test_messages_follow_the_active_language():
    from django.utils import translation

    with translation.override("en"):
        with pytest.raises(TaxIdInvalid) as exc:
            valid("BR", "390.533.447", "person")
    assert exc.value.message == "A CPF has 11 digits."


# Display and compaction


@pytest.mark.parametrize(
    "country, number, shown, label",
    [
        ("BR", "39053344705", "390.533.447-05", "CPF"),
        ("BR", "11222333000181", "11.222.333/0001-81", "CNPJ"),
        ("BR", "12ABC34501DE35", "12.ABC.345/01DE-35", "CNPJ"),
        ("ES", "B58378431", "B58378431", "CIF"),
        ("ES", "12345678Z", "12345678Z", "DNI"),
        ("ES", "X1234567L", "X1234567L", "NIE"),
        ("ES", "K1234567L", "K1234567L", "NIF"),
        ("PT", "PT501964843", "PT501964843", "VAT"),
        ("US", "123456789", "123456789", ""),
        ("BR", "", "", ""),
    ],
)
def test_format_and_label(country, number, shown, label):
    assert tax_id_format(country, number) == shown
    assert tax_id_label(country, number) == label


def test_compact_strips_separators_and_the_spanish_prefix():
    assert tax_id_compact("BR", "11.222.333/0001-81") == "11222333000181"
    assert tax_id_compact("ES", "ES-B58378431") == "B58378431"
    assert tax_id_compact("PT", "pt 501 964 843") == "PT501964843"


def test_builders_complete_check_digits():
    assert cpf_complete("390533447") == "39053344705"
    assert cnpj_complete("112223330001") == "11222333000181"


@pytest.mark.parametrize("country", ["BR", "ES", "PT"])
@pytest.mark.parametrize("kind", ["person", "company"])
def test_examples_are_valid_and_distinct(country, kind):
    numbers = [tax_id_example(country=country, kind=kind, seed=seed) for seed in range(1, 400)]
    assert len(set(numbers)) == 399
    for number in numbers:
        assert valid(country, number, kind).number == number


def test_no_example_where_no_scheme_is_known():
    assert tax_id_example(country="US", kind="company", seed=1) == ""
