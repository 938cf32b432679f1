from datetime import date
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation


@pytest.mark.parametrize(
    "language, expected",
    [("en", "€1,234.50"), ("es", "1.234,50\xa0€"), ("pt-br", "€\xa01.234,50")],
)
def test_money_is_formatted_for_the_language(language, expected):
    with translation.override(language):
        rendered = Template("{% load rtg %}{{ amount|money:'EUR' }}").render(Context({"amount": Decimal("1234.50")}))
    assert rendered == expected


@pytest.mark.parametrize("language, expected", [("en", "R$1,234.50"), ("pt-br", "R$\xa01.234,50")])
def test_brl(language, expected):
    with translation.override(language):
        rendered = Template("{% load rtg %}{{ amount|money:'BRL' }}").render(Context({"amount": Decimal("1234.5")}))
    assert rendered == expected


@pytest.mark.parametrize(
    "language, expected", [("en", "Mar 5, 2026"), ("es", "5 mar 2026"), ("pt-br", "5 de mar. de 2026")]
)
def test_dates(language, expected):
    with translation.override(language):
        rendered = Template("{% load rtg %}{{ d|date_local }}").render(Context({"d": date(2026, 3, 5)}))
    assert rendered == expected


def test_number_places():
    with translation.override("pt-br"):
        rendered = Template("{% load rtg %}{{ n|number:3 }}").render(Context({"n": Decimal("12345.5")}))
    assert rendered == "12.345,500"
