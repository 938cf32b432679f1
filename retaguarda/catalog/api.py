"""Catalog endpoints under /api/v1/catalog/: products, units, tax categories, price lists.

Amounts and quantities travel as decimal strings ("12.50"), never as floats.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import StringConstraints, WithJsonSchema

from retaguarda.core.apikit import ERRORS, Pagination
from retaguarda.core.choices import Language

from .filters import PRICE_LIST_LISTING, PRODUCT_LISTING
from .selectors import (
    language_code,
    price_list_get,
    price_list_items,
    price_lists_for,
    product_get,
    products_for,
    tax_categories_for,
    units_for,
)
from .services import product_archive, product_create, product_update

router = Router(tags=["catalog"])

LanguageCode = Literal[tuple(Language.values)]  # "en", "pt-br", "es"

# Decimals in: a JSON string such as "12.50" (a number is accepted too). The service checks
# sign, size and decimal places, so the API and the forms give the same (translated) messages.
Money = Annotated[
    Decimal,
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{1,13}(\.[0-9]{1,2})?$", "examples": ["12.50"]}),
]
Quantity = Annotated[
    Decimal,
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,3})?$", "examples": ["1.500"]}),
]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
ProductName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _str(value) -> str | None:
    return None if value is None else str(value)


def _plain(value: Decimal) -> str:
    """A decimal without trailing zeros and never in exponent form: 0.010000 -> "0.01", 1E+3 -> "1000"."""
    return format(value.normalize(), "f")


def _language(request) -> str:
    """The language of names in responses: the request's Accept-Language, else the user's own."""
    if request.META.get("HTTP_ACCEPT_LANGUAGE"):
        return language_code()
    return language_code(getattr(request.actor.user, "language", "") or None)


# ---------------------------------------------------------------------------------------------
# Products


class TranslationIn(Schema):
    name: str = Field("", max_length=200, description="Empty removes the translation.")
    description: str = Field("", max_length=5000)


class TranslationOut(Schema):
    name: str
    description: str


class ProductIn(Schema):
    sku: Sku
    name: ProductName = Field(description="In the company's default language.")
    description: str = Field("", max_length=5000)
    translations: dict[LanguageCode, TranslationIn] = Field(
        default_factory=dict, description="Name and description in the company's other languages."
    )
    kind: Literal["goods", "service"] = "goods"
    uom: str = Field("un", max_length=16, description="Code of a unit of measure of the company.")
    tax_category: str = Field("standard", max_length=32, description="Code of a tax category of the company.")
    barcode: str = Field("", max_length=32, description="EAN-13, EAN-8, UPC-A or GTIN-14.")
    weight: Quantity | None = Field(None, description="Kilograms.")
    list_price: Money = Decimal("0.00")
    standard_cost: Money = Decimal("0.00")
    ncm: str = Field("", max_length=16, description="Brazilian NCM code (8 digits).")
    is_active: bool = True


class ProductPatch(Schema):
    """Only the fields sent are changed."""

    sku: Sku = None
    name: ProductName = None
    description: str = Field(None, max_length=5000)
    translations: dict[LanguageCode, TranslationIn] = None
    kind: Literal["goods", "service"] = None
    uom: str = Field(None, max_length=16)
    tax_category: str = Field(None, max_length=32)
    barcode: str = Field(None, max_length=32)
    weight: Quantity | None = None
    list_price: Money = None
    standard_cost: Money = None
    ncm: str = Field(None, max_length=16)
    is_active: bool = None


class ProductOut(Schema):
    id: int
    sku: str
    barcode: str
    name: str
    display_name: str = Field(description="The name in the caller's language, else the company's.")
    description: str
    translations: dict[str, TranslationOut]
    kind: str
    uom: str
    tax_category: str
    weight: str | None = Field(description="Kilograms, 3 decimal places.")
    list_price: str
    standard_cost: str
    currency: str
    ncm: str
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_display_name(obj) -> str:
        return getattr(obj, "display_name", None) or obj.name

    @staticmethod
    def resolve_translations(obj) -> dict:
        return {t.language: {"name": t.name, "description": t.description} for t in obj.translations.all()}

    @staticmethod
    def resolve_uom(obj) -> str:
        return obj.uom.code

    @staticmethod
    def resolve_tax_category(obj) -> str:
        return obj.tax_category.code

    @staticmethod
    def resolve_weight(obj) -> str | None:
        return _str(obj.weight)

    @staticmethod
    def resolve_list_price(obj) -> str:
        return str(obj.list_price)

    @staticmethod
    def resolve_standard_cost(obj) -> str:
        return str(obj.standard_cost)

    @staticmethod
    def resolve_currency(obj, context) -> str:
        return context["request"].actor.company.base_currency


class ProductFilters(Schema):
    q: str | None = Field(None, description="Searches SKU, barcode and name.")
    sku: str | None = Field(None, description="Exact SKU.")
    kind: Literal["goods", "service"] | None = None
    active: bool | None = None
    tax_category: str | None = Field(None, description="Tax category code.")
    sort: str | None = Field(None, description="sku, name, kind, price or updated; prefix - to reverse.")

    def params(self) -> dict:
        params = self.model_dump(exclude_none=True)
        if "active" in params:
            params["active"] = "1" if params["active"] else "0"
        return params


def _product_detail(request, product_id):
    return product_get(actor=request.actor, product_id=product_id, language=_language(request))


@router.get("/products", response={200: list[ProductOut], **ERRORS})
@paginate(Pagination)
def product_list(request, filters: Query[ProductFilters]):
    params = filters.params()
    queryset = PRODUCT_LISTING.filter(products_for(actor=request.actor, language=_language(request)), params)
    queryset, _sort = PRODUCT_LISTING.sort(queryset, params.get("sort"))
    return queryset.prefetch_related("translations")


@router.post("/products", response={201: ProductOut, **ERRORS})
def product_post(request, payload: ProductIn):
    data = payload.model_dump()
    data["translations"] = {lang: dict(t) for lang, t in data["translations"].items()}
    product = product_create(actor=request.actor, **data)
    return Status(201, _product_detail(request, product.pk))


@router.get("/products/{product_id}", response={200: ProductOut, **ERRORS})
def product_detail(request, product_id: int):
    return _product_detail(request, product_id)


@router.patch("/products/{product_id}", response={200: ProductOut, **ERRORS})
def product_patch(request, product_id: int, payload: ProductPatch):
    changes = payload.model_dump(exclude_unset=True)
    if changes.get("translations") is not None:
        changes["translations"] = {lang: dict(t) for lang, t in changes["translations"].items()}
    product_update(actor=request.actor, product_id=product_id, **changes)
    return _product_detail(request, product_id)


@router.delete("/products/{product_id}", response={204: None, **ERRORS})
def product_delete(request, product_id: int):
    """Archives the product (it stays for history, inactive)."""
    product_archive(actor=request.actor, product_id=product_id)
    return Status(204, None)


# ---------------------------------------------------------------------------------------------
# Units, tax categories, price lists


class UnitOut(Schema):
    code: str
    name: str
    category: str
    factor: str = Field(description="Reference units of the category in one of this unit.")
    rounding: str

    @staticmethod
    def resolve_factor(obj) -> str:
        return _plain(obj.factor)

    @staticmethod
    def resolve_rounding(obj) -> str:
        return _plain(obj.rounding)


class TaxCategoryOut(Schema):
    code: str
    name: str


@router.get("/units", response={200: list[UnitOut], **ERRORS})
@paginate(Pagination)
def unit_list(request):
    return units_for(actor=request.actor)


@router.get("/tax-categories", response={200: list[TaxCategoryOut], **ERRORS})
@paginate(Pagination)
def tax_category_list(request):
    return tax_categories_for(actor=request.actor).order_by("code", "pk")


class PriceListOut(Schema):
    id: int
    name: str
    currency: str
    is_active: bool
    valid_from: date | None
    valid_to: date | None


class PriceListItemOut(Schema):
    id: int
    product_id: int
    sku: str
    product_name: str
    min_quantity: str
    unit_price: str

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.product.sku

    @staticmethod
    def resolve_min_quantity(obj) -> str:
        return str(obj.min_quantity)

    @staticmethod
    def resolve_unit_price(obj) -> str:
        return str(obj.unit_price)


class PriceListDetailOut(PriceListOut):
    items: list[PriceListItemOut]


class PriceListFilters(Schema):
    q: str | None = None
    active: bool | None = None
    sort: str | None = Field(None, description="name, currency or valid_from; prefix - to reverse.")

    def params(self) -> dict:
        params = self.model_dump(exclude_none=True)
        if "active" in params:
            params["active"] = "1" if params["active"] else "0"
        return params


@router.get("/price-lists", response={200: list[PriceListOut], **ERRORS})
@paginate(Pagination)
def price_list_list(request, filters: Query[PriceListFilters]):
    params = filters.params()
    queryset = PRICE_LIST_LISTING.filter(price_lists_for(actor=request.actor), params)
    queryset, _sort = PRICE_LIST_LISTING.sort(queryset, params.get("sort"))
    return queryset


@router.get("/price-lists/{price_list_id}", response={200: PriceListDetailOut, **ERRORS})
def price_list_detail(request, price_list_id: int):
    actor = request.actor
    price_list = price_list_get(actor=actor, price_list_id=price_list_id)
    return {
        "id": price_list.pk,
        "name": price_list.name,
        "currency": price_list.currency,
        "is_active": price_list.is_active,
        "valid_from": price_list.valid_from,
        "valid_to": price_list.valid_to,
        "items": list(price_list_items(actor=actor, price_list=price_list, language=_language(request))),
    }
