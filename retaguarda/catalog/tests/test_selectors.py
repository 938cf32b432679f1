"""Reads: names in the reader's language with fallback, prices from price lists, scoping."""

from datetime import date
from decimal import Decimal

import pytest

from retaguarda.catalog.selectors import (
    Price,
    language_code,
    price_for,
    price_list_items,
    product_count,
    product_get,
    products_for,
)
from retaguarda.catalog.testing import price_list_build, product_build
from retaguarda.common.errors import NotFound, PermissionDenied
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import actor_build

D = Decimal


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("en", "en"),
        ("pt-br", "pt-br"),
        ("pt-BR", "pt-br"),
        ("pt_BR", "pt-br"),
        ("pt", "pt-br"),
        ("es-mx", "es"),
        ("fr", ""),
    ],
)
def test_language_code(given, expected):
    assert language_code(given) == expected


def test_names_in_the_readers_language_fall_back_to_the_companys(catalog):
    actor = system_actor(catalog)  # a Spanish company: names are in Spanish
    product_build(catalog, sku="A", name="Taza", translations={"en": {"name": "Mug"}, "pt-br": {"name": "Caneca"}})
    product_build(catalog, sku="B", name="Plato", translations={"en": {"name": "Plate"}})
    product_build(catalog, sku="C", name="Vaso")

    def names(language):
        return list(products_for(actor=actor, language=language).order_by("sku").values_list("display_name", flat=True))

    assert names("en") == ["Mug", "Plate", "Vaso"]
    assert names("pt-br") == ["Caneca", "Plato", "Vaso"]
    assert names("es") == ["Taza", "Plato", "Vaso"]
    assert names("fr") == ["Taza", "Plato", "Vaso"]


def test_product_get_gives_translated_description_and_is_scoped(catalog, other_company):
    product = product_build(
        catalog, name="Taza", description="De cerámica", translations={"en": {"name": "Mug", "description": "Ceramic"}}
    )
    found = product_get(actor=system_actor(catalog), product_id=product.pk, language="en")
    assert (found.display_name, found.display_description) == ("Mug", "Ceramic")
    found = product_get(actor=system_actor(catalog), product_id=product.pk, language="pt-br")
    assert (found.display_name, found.display_description) == ("Taza", "De cerámica")
    with pytest.raises(NotFound):
        product_get(actor=system_actor(other_company), product_id=product.pk)
    with pytest.raises(NotFound):
        product_get(actor=system_actor(catalog), product_id="abc")


def test_product_count_and_reads_need_catalog_view(catalog):
    product_build(catalog)
    archived = product_build(catalog, is_active=False)
    assert archived.is_active is False
    actor = system_actor(catalog)
    assert product_count(actor=actor) == 1
    assert product_count(actor=actor, active_only=False) == 2
    hr = actor_build(catalog, "hr")
    with pytest.raises(PermissionDenied):
        product_count(actor=hr)
    with pytest.raises(PermissionDenied):
        products_for(actor=hr)
    assert product_count(actor=actor_build(catalog, "warehouse")) == 1


@pytest.fixture
def priced(catalog):
    product = product_build(catalog, sku="MUG", list_price="12.00")
    other = product_build(catalog, sku="PLATE", name="Plato", list_price="7.00")
    wholesale = price_list_build(
        catalog,
        name="Wholesale",
        valid_from=date(2025, 1, 1),
        valid_to=date(2025, 12, 31),
        prices=[(product, "0", "11.00"), (product, "10", "10.00"), (product, "100", "8.75"), (other, "5", "6.00")],
    )
    return product, other, wholesale


@pytest.mark.parametrize(
    ("quantity", "amount", "min_quantity"),
    [
        ("1", "11.00", "0.000"),
        ("9.999", "11.00", "0.000"),
        ("10", "10.00", "10.000"),
        ("99", "10.00", "10.000"),
        ("100", "8.75", "100.000"),
        ("5000", "8.75", "100.000"),
    ],
)
def test_price_for_takes_the_best_tier(priced, quantity, amount, min_quantity):
    product, _other, wholesale = priced
    price = price_for(product, D(quantity), wholesale, date(2025, 6, 1))
    assert price == Price(
        amount=D(amount), currency="EUR", source="price_list", price_list_id=wholesale.pk, min_quantity=D(min_quantity)
    )
    assert str(price.amount) == amount


def test_price_for_falls_back_to_the_list_price(priced, catalog):
    product, other, wholesale = priced
    list_price = Price(amount=D("7.00"), currency="EUR", source="list_price")
    assert price_for(other, D("4"), wholesale, date(2025, 6, 1)) == list_price  # below the only tier
    assert price_for(other, D("5"), wholesale, date(2025, 6, 1)).amount == D("6.00")
    assert price_for(other, D("5"), None, date(2025, 6, 1)) == list_price  # no price list
    assert price_for(other, D("5"), wholesale, date(2024, 12, 31)) == list_price  # before valid_from
    assert price_for(other, D("5"), wholesale, date(2026, 1, 1)) == list_price  # after valid_to
    assert price_for(other, D("5"), wholesale, date(2025, 12, 31)).amount == D("6.00")  # valid_to inclusive
    assert price_for(other, D("5"), wholesale, date(2025, 1, 1)).amount == D("6.00")  # valid_from inclusive
    wholesale.is_active = False
    wholesale.save()
    assert price_for(other, D("5"), wholesale, date(2025, 6, 1)) == list_price  # inactive list
    unpriced = product_build(catalog, list_price="3.30")
    open_list = price_list_build(catalog, name="Open")
    assert price_for(unpriced, D("1"), open_list) == Price(amount=D("3.30"), currency="EUR", source="list_price")


def test_price_for_uses_the_price_lists_currency(catalog):
    product = product_build(catalog, list_price="10.00")
    export = price_list_build(catalog, name="Export", currency="USD", prices=[(product, "1", "11.90")])
    assert price_for(product, D("2"), export) == Price(
        amount=D("11.90"), currency="USD", source="price_list", price_list_id=export.pk, min_quantity=D("1.000")
    )
    assert price_for(product, D("0.5"), export) == Price(amount=D("10.00"), currency="EUR", source="list_price")


def test_price_for_refuses_another_companys_price_list(catalog, other_company):
    product = product_build(catalog)
    foreign = price_list_build(other_company, name="Varejo")
    with pytest.raises(ValueError):
        price_for(product, D("1"), foreign)


def test_price_list_items_name_products_in_the_readers_language(priced, catalog):
    product, _other, wholesale = priced
    from retaguarda.catalog.services import product_update

    product_update(actor=system_actor(catalog), product_id=product.pk, translations={"en": {"name": "Mug"}})
    items = price_list_items(actor=system_actor(catalog), price_list=wholesale, language="en")
    assert [(i.product.sku, i.product_name, str(i.min_quantity), str(i.unit_price)) for i in items] == [
        ("MUG", "Mug", "0.000", "11.00"),
        ("MUG", "Mug", "10.000", "10.00"),
        ("MUG", "Mug", "100.000", "8.75"),
        ("PLATE", "Plato", "5.000", "6.00"),
    ]
