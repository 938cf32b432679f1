"""Postal codes and states of addresses."""

import pytest

from retaguarda.parties.postal import AddressInvalid, postal_code_normalize, state_normalize


@pytest.mark.parametrize(
    "country, code, normalized",
    [
        ("BR", "01310-100", "01310-100"),
        ("BR", "01310100", "01310-100"),
        ("BR", " 20040-020 ", "20040-020"),
        ("ES", "28013", "28013"),
        ("ES", "01001", "01001"),
        ("ES", "52001", "52001"),
        ("PT", "1000-001", "1000-001"),
        ("PT", "1000001", "1000-001"),
        ("FR", "75008", "75008"),
        ("NL", "1012 js", "1012 JS"),
        ("US", "10001-0001", "10001-0001"),
        ("ES", "", ""),
    ],
)
def test_valid_postal_codes(country, code, normalized):
    assert postal_code_normalize(country, code) == normalized


@pytest.mark.parametrize(
    "country, code, message",
    [
        ("BR", "0131-100", "Enter a valid postal code, like 01310-100."),
        ("BR", "ABCDE-123", "Enter a valid postal code, like 01310-100."),
        ("ES", "53001", "Enter a valid postal code, like 28013."),
        ("ES", "00100", "Enter a valid postal code, like 28013."),
        ("ES", "2801", "Enter a valid postal code, like 28013."),
        ("PT", "100-001", "Enter a valid postal code, like 1000-001."),
        ("FR", "#75008", "Enter a valid postal code."),
        ("FR", "1" * 17, "Enter a valid postal code."),
    ],
)
def test_invalid_postal_codes(country, code, message):
    with pytest.raises(AddressInvalid) as exc:
        postal_code_normalize(country, code)
    assert (exc.value.field, exc.value.message) == ("postal_code", message)


def test_brazilian_states_by_code():
    assert state_normalize("BR", " sp ") == "SP"
    assert state_normalize("BR", "") == ""
    with pytest.raises(AddressInvalid) as exc:
        state_normalize("BR", "São Paulo")
    assert (exc.value.field, exc.value.message) == ("state", "Enter the state's two-letter code, like SP or RJ.")
    assert state_normalize("ES", "  Comunidad   de Madrid ") == "Comunidad de Madrid"
