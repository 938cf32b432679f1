"""Reads of the catalog: products with names in the reader's language, units, price lists, prices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Case, F, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from retaguarda.common.errors import NotFound
from retaguarda.core.choices import Language
from retaguarda.core.permissions import Actor, require

from .calculations import best_tier
from .choices import UomCategory
from .models import PriceList, PriceListItem, Product, ProductTranslation, TaxCategory, UnitOfMeasure


def language_code(language: str | None = None) -> str:
    """One of the catalog's languages for `language` (default: the active one): "pt" -> "pt-br"."""
    language = (language or translation.get_language() or "").lower().replace("_", "-")
    if language in Language.values:
        return language
    base = language.split("-")[0]
    for code in Language.values:
        if code.split("-")[0] == base:
            return code
    return ""


def translated(field: str, language: str | None, product_ref: str = "pk"):
    """An expression for a product's `field` ("name" or "description") in `language`, falling
    back to the product's own value (the company's default language)."""
    own = F(field if product_ref == "pk" else f"{product_ref.removesuffix('_id')}__{field}")
    language = language_code(language)
    if not language:
        return own
    translation_value = ProductTranslation.objects.filter(product=OuterRef(product_ref), language=language).values(
        field
    )[:1]
    return Coalesce(Subquery(translation_value), own)


def products_for(*, actor: Actor, language: str | None = None) -> QuerySet[Product]:
    """The actor's company's products, each with `display_name` in `language` (default: the active one)."""
    require(actor, "catalog.view")
    return (
        Product.objects.filter(company=actor.company)
        .select_related("uom", "tax_category")
        .annotate(display_name=translated("name", language))
    )


def product_get(*, actor: Actor, product_id, language: str | None = None) -> Product:
    """One product of the actor's company with its translations; NotFound for anything else."""
    try:
        product_id = int(product_id)
    except (TypeError, ValueError):
        raise NotFound(_("No such product."))
    product = (
        products_for(actor=actor, language=language)
        .annotate(display_description=translated("description", language))
        .prefetch_related("translations")
        .filter(pk=product_id)
        .first()
    )
    if product is None:
        raise NotFound(_("No such product."))
    return product


def product_count(*, actor: Actor, active_only: bool = True) -> int:
    require(actor, "catalog.view")
    products = Product.objects.filter(company=actor.company)
    if active_only:
        products = products.filter(is_active=True)
    return products.count()


def units_for(*, actor: Actor) -> QuerySet[UnitOfMeasure]:
    """The company's units, by category (in UomCategory's order), then size."""
    require(actor, "catalog.view")
    category_order = Case(
        *[When(category=code, then=Value(i)) for i, code in enumerate(UomCategory.values)],
        default=Value(len(UomCategory.values)),
    )
    return UnitOfMeasure.objects.filter(company=actor.company).order_by(category_order, "factor", "code", "pk")


def tax_categories_for(*, actor: Actor) -> QuerySet[TaxCategory]:
    require(actor, "catalog.view")
    return TaxCategory.objects.filter(company=actor.company)


def price_lists_for(*, actor: Actor) -> QuerySet[PriceList]:
    require(actor, "catalog.view")
    return PriceList.objects.filter(company=actor.company)


def price_list_get(*, actor: Actor, price_list_id) -> PriceList:
    try:
        price_list_id = int(price_list_id)
    except (TypeError, ValueError):
        raise NotFound(_("No such price list."))
    price_list = price_lists_for(actor=actor).filter(pk=price_list_id).first()
    if price_list is None:
        raise NotFound(_("No such price list."))
    return price_list


def price_list_items(*, actor: Actor, price_list: PriceList, language: str | None = None) -> QuerySet[PriceListItem]:
    """The list's prices by product SKU and tier, each with `product_name` in the reader's language."""
    require(actor, "catalog.view")
    return (
        PriceListItem.objects.filter(company=actor.company, price_list=price_list)
        .select_related("product")
        .annotate(product_name=translated("name", language, product_ref="product_id"))
        .order_by("product__sku", "min_quantity", "pk")
    )


def product_prices(*, actor: Actor, product: Product) -> QuerySet[PriceListItem]:
    """A product's tiers across the company's price lists, by list name and quantity."""
    require(actor, "catalog.view")
    return (
        PriceListItem.objects.filter(company=actor.company, product=product)
        .select_related("price_list")
        .order_by("price_list__name", "min_quantity", "pk")
    )


@dataclass(frozen=True)
class Price:
    """A unit price and where it came from: a price list's tier or the product's list price."""

    amount: Decimal
    currency: str
    source: str  # "price_list" or "list_price"
    price_list_id: int | None = None
    min_quantity: Decimal | None = None


def price_for(
    product: Product, quantity: Decimal, price_list: PriceList | None = None, on: date | None = None
) -> Price:
    """The best unit price of `quantity` of `product` on day `on` (default today).

    The price list counts when it is active and valid on that day; then the lowest price among
    its tiers whose minimum quantity `quantity` reaches wins. Otherwise, or when no tier
    applies, the product's list price in the company's base currency.
    """
    on = on or timezone.localdate()
    quantity = Decimal(quantity)
    if price_list is not None:
        if price_list.company_id != product.company_id:
            raise ValueError("the price list belongs to another company")
        if price_list.applies_on(on):
            tiers = PriceListItem.objects.filter(price_list=price_list, product=product).values_list(
                "min_quantity", "unit_price"
            )
            tier = best_tier(tiers, quantity)
            if tier is not None:
                return Price(
                    amount=tier[1],
                    currency=price_list.currency,
                    source="price_list",
                    price_list_id=price_list.pk,
                    min_quantity=tier[0],
                )
    return Price(amount=product.list_price, currency=product.company.base_currency, source="list_price")
