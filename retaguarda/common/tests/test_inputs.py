"""The shared input parsers: exact accepted values and each refusal's field and message."""

import datetime
from decimal import Decimal

import pytest

from retaguarda.common.errors import ValidationFailed
from retaguarda.common.inputs import date_in, decimal_in, invalid, text_in, valid_id


def refusal(parse, *args, **kwargs) -> tuple[str, dict]:
    with pytest.raises(ValidationFailed) as exc:
        parse(*args, **kwargs)
    return exc.value.message, exc.value.fields


def test_invalid_names_the_field():
    error = invalid("code", "Scan the barcode.")
    assert isinstance(error, ValidationFailed)
    assert (error.message, error.fields, error.code, error.status) == (
        "Check the highlighted fields.",
        {"code": ["Scan the barcode."]},
        "validation_error",
        422,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        ("42", 42),
        (" 7 ", 7),
        (2**63 - 1, 2**63 - 1),
        (0, None),
        (-3, None),
        (2**63, None),
        ("", None),
        ("abc", None),
        ("1.5", None),
        (None, None),
        ([1], None),
        (True, None),
        (False, None),
    ],
)
def test_valid_id(value, expected):
    assert valid_id(value) == expected


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("1", 3, Decimal("1.000")),
        (" 2,5 ", 3, Decimal("2.500")),
        ("0.125", 3, Decimal("0.125")),
        ("1.50000", 3, Decimal("1.500")),
        (7, 2, Decimal("7.00")),
        (Decimal("3.1416"), 4, Decimal("3.1416")),
        ("-4", 0, Decimal("-4")),
    ],
)
def test_decimal_in_accepts(value, places, expected):
    number = decimal_in(value, "quantity", places=places)
    assert number == expected
    assert str(number) == str(expected)


@pytest.mark.parametrize(
    "value", [None, "", "  ", "abc", "1.2.3", "NaN", "Infinity", "-inf", [1], 1.5, 2.0, True, False]
)
def test_decimal_in_refuses_what_is_not_an_exact_number(value):
    assert refusal(decimal_in, value, "lines.0.quantity", places=3) == (
        "Check the highlighted fields.",
        {"lines.0.quantity": ["Enter a number."]},
    )


def test_decimal_in_converts_floats_and_bools_exactly_only_when_asked():
    assert decimal_in(1.5, "quantity", places=3, accept_float=True) == Decimal("1.500")
    assert decimal_in(True, "quantity", places=3, accept_float=True) == Decimal("1.000")
    assert refusal(decimal_in, 0.1, "quantity", places=3, accept_float=True) == (
        "Check the highlighted fields.",
        {"quantity": ["Use at most 3 decimal places."]},
    )
    assert refusal(decimal_in, None, "quantity", places=3, accept_float=True) == (
        "Check the highlighted fields.",
        {"quantity": ["Enter a number."]},
    )


def test_decimal_in_refuses_more_places():
    assert refusal(decimal_in, "1.0001", "unit_cost", places=3) == (
        "Check the highlighted fields.",
        {"unit_cost": ["Use at most 3 decimal places."]},
    )
    assert refusal(decimal_in, "0.5", "count", places=0) == (
        "Check the highlighted fields.",
        {"count": ["Use at most 0 decimal places."]},
    )


def test_decimal_in_minimum():
    assert decimal_in("0", "discount", places=2, minimum=Decimal(0)) == Decimal("0.00")
    assert refusal(decimal_in, "-0.01", "discount", places=2, minimum=Decimal(0)) == (
        "Check the highlighted fields.",
        {"discount": ["Enter a number of at least 0."]},
    )
    assert decimal_in("0.001", "weight", places=3, minimum=Decimal("0.000"), strict_min=True) == Decimal("0.001")
    assert refusal(decimal_in, "0", "weight", places=3, minimum=Decimal("0.000"), strict_min=True) == (
        "Check the highlighted fields.",
        {"weight": ["Enter a number greater than 0.000."]},
    )
    assert refusal(
        decimal_in,
        "-1",
        "quantity",
        places=3,
        minimum=Decimal(0),
        strict_min=True,
        too_small="Enter a quantity greater than zero.",
    ) == ("Check the highlighted fields.", {"quantity": ["Enter a quantity greater than zero."]})
    assert refusal(
        decimal_in, "-1", "reorder_point", places=3, minimum=Decimal(0), too_small="Enter zero or more."
    ) == ("Check the highlighted fields.", {"reorder_point": ["Enter zero or more."]})


def test_decimal_in_maximum():
    assert decimal_in("100", "discount", places=2, maximum=Decimal(100)) == Decimal("100.00")
    assert refusal(decimal_in, "100.01", "discount", places=2, maximum=Decimal(100)) == (
        "Check the highlighted fields.",
        {"discount": ["Enter a number of at most 100."]},
    )


def test_decimal_in_checks_places_before_range():
    assert refusal(decimal_in, "-0.0001", "weight", places=3, minimum=Decimal(0), maximum=Decimal(1)) == (
        "Check the highlighted fields.",
        {"weight": ["Use at most 3 decimal places."]},
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        ("  Madrid  ", "Madrid"),
        ("ação", "ação"),
        ("abcdef", "abcdef"),
    ],
)
def test_text_in_accepts(value, expected):
    assert text_in(value, "city", 6) == expected


def test_text_in_refusals():
    assert refusal(text_in, 5, "city", 10) == ("Check the highlighted fields.", {"city": ["Enter text."]})
    assert refusal(text_in, ["a"], "city", 10) == ("Check the highlighted fields.", {"city": ["Enter text."]})
    for bad in ("a\x00b", "a\x07", "a\x7fb", "a\nb", "a\tb", "a\ud800"):
        assert refusal(text_in, bad, "city", 10) == (
            "Check the highlighted fields.",
            {"city": ["Remove the control characters from this text."]},
        )
    assert refusal(text_in, "abcdef", "city", 5) == (
        "Check the highlighted fields.",
        {"city": ["Use at most 5 characters."]},
    )
    assert refusal(text_in, "   ", "carrier", 5, required=True) == (
        "Check the highlighted fields.",
        {"carrier": ["This field is required."]},
    )
    assert refusal(text_in, None, "carrier", 5, required=True) == (
        "Check the highlighted fields.",
        {"carrier": ["This field is required."]},
    )


def test_text_in_multiline_allows_line_breaks_and_tabs_only():
    assert text_in(" one\r\ntwo\tthree\n", "notes", 50, multiline=True) == "one\r\ntwo\tthree"
    assert refusal(text_in, "one\x00two", "notes", 50, multiline=True) == (
        "Check the highlighted fields.",
        {"notes": ["Remove the control characters from this text."]},
    )


def test_text_in_keep_controls():
    assert text_in(" a\x07b\x7f ", "note", 10, keep_controls=True) == "a\x07b\x7f"
    assert refusal(text_in, "a\x07bcdefghij", "note", 10, keep_controls=True) == (
        "Check the highlighted fields.",
        {"note": ["Use at most 10 characters."]},
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("2031-02-28", datetime.date(2031, 2, 28)),
        (datetime.date(2030, 1, 2), datetime.date(2030, 1, 2)),
        (datetime.datetime(2030, 1, 2, 23, 59), datetime.date(2030, 1, 2)),
    ],
)
def test_date_in_accepts(value, expected):
    result = date_in(value, "promised_date")
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("value", ["2031-02-30", "31/12/2031", "tomorrow", "2031\x00", 5])
def test_date_in_refuses(value):
    assert refusal(date_in, value, "promised_date") == (
        "Check the highlighted fields.",
        {"promised_date": ["Enter a date as YYYY-MM-DD."]},
    )


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        ("1e30", {"maximum": Decimal("100")}, "Enter a number of at most 100."),
        ("1e30", {}, "Enter a number."),
        ("-1e104", {"minimum": Decimal("0")}, "Enter a number of at least 0."),
        (Decimal("1.2e104"), {"minimum": Decimal("0"), "maximum": Decimal("100")}, "Enter a number of at most 100."),
    ],
)
def test_huge_numbers_are_refused_not_crashed(value, kwargs, message):
    with pytest.raises(ValidationFailed) as info:
        decimal_in(value, "q", places=3, **kwargs)
    assert info.value.fields == {"q": [message]}


def test_whole_numbers_with_trailing_zeros_are_not_too_precise():
    assert decimal_in("1.5000", "q", places=3) == Decimal("1.500")
    assert decimal_in("0.0000", "q", places=2) == Decimal("0.00")
    assert decimal_in("1E+3", "q", places=3) == Decimal("1000.000")


def test_nul_is_refused_even_where_control_characters_are_kept():
    assert text_in("a\tb", "t", 10, keep_controls=True) == "a\tb"
    with pytest.raises(ValidationFailed) as info:
        text_in("a\x00b", "t", 10, keep_controls=True)
    assert info.value.fields == {"t": ["Remove the control characters from this text."]}
