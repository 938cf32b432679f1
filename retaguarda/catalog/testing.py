"""Builders for tests of any area that needs products, units or price lists."""

from __future__ import annotations

import itertools
from decimal import Decimal

from retaguarda.core.permissions import system_actor

from .models import PriceList, Product, TaxCategory, UnitOfMeasure
from .services import catalog_defaults_create, price_list_create, price_list_item_set, product_create

_counter = itertools.count(1)


def catalog_defaults_build(company) -> None:
    """The usual units ("un", "kg", "box12"…) and tax categories ("standard", "reduced"…)."""
    if not UnitOfMeasure.objects.filter(company=company, code="un").exists() or not (
        TaxCategory.objects.filter(company=company, code="standard").exists()
    ):
        catalog_defaults_create(actor=system_actor(company))


def product_build(
    company,
    *,
    sku: str | None = None,
    name: str | None = None,
    list_price: Decimal | str = Decimal("10.00"),
    uom: str = "un",
    tax_category: str = "standard",
    **fields,
) -> Product:
    """A product made through product_create (so audited like a real one), defaults created as needed."""
    catalog_defaults_build(company)
    n = next(_counter)
    return product_create(
        actor=system_actor(company),
        sku=sku or f"SKU-{n:05d}",
        name=name or f"Product {n}",
        list_price=list_price,
        uom=uom,
        tax_category=tax_category,
        **fields,
    )


def price_list_build(company, *, name: str | None = None, prices=(), **fields) -> PriceList:
    """A price list with `prices` given as (product, min_quantity, unit_price) tuples."""
    actor = system_actor(company)
    price_list = price_list_create(actor=actor, name=name or f"Price list {next(_counter)}", **fields)
    for product, min_quantity, unit_price in prices:
        price_list_item_set(
            actor=actor,
            price_list_id=price_list.pk,
            product_id=product.pk,
            min_quantity=min_quantity,
            unit_price=unit_price,
        )
    return price_list
