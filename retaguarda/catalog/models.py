"""Products, their translations, units of measure, tax categories and price lists."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from retaguarda.common.fields import MoneyField, QuantityField, ScaledDecimalField
from retaguarda.core.choices import Currency, Language
from retaguarda.core.models import Company

from .choices import ProductKind, UomCategory

# Conversion factors keep 12 decimal places: exact for metric prefixes and for the
# international pound (0.45359237 kg) and ounce (0.028349523125 kg).
FACTOR_SCALE = 12


class TaxCategory(models.Model):
    """How a product is taxed ("standard", "reduced", "exempt"…); billing attaches the rates."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("tax category")
        verbose_name_plural = _("tax categories")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="taxcategory_unique_code")]

    def __str__(self) -> str:
        return self.name or self.code


class UnitOfMeasure(models.Model):
    """A unit such as "un", "kg" or "box12": `factor` reference units of its category make one."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("code"), max_length=16)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=16, choices=UomCategory.choices)
    factor = ScaledDecimalField(_("factor"), scale=FACTOR_SCALE, default=Decimal(1))
    # The smallest step a quantity in this unit is rounded to (1 for pieces, 0.001 for kg).
    rounding = QuantityField(_("rounding precision"), default=Decimal("0.001"))

    class Meta:
        verbose_name = _("unit of measure")
        verbose_name_plural = _("units of measure")
        ordering = ["category", "factor", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="uom_unique_code")]

    def __str__(self) -> str:
        return self.code

    @property
    def is_reference(self) -> bool:
        return self.factor == 1

    @property
    def factor_places(self) -> int:
        """Decimal places needed to show the factor exactly (0.45359237 -> 8)."""
        return max(0, -self.factor.normalize().as_tuple().exponent)

    @property
    def rounding_places(self) -> int:
        return max(0, -self.rounding.normalize().as_tuple().exponent)


class Product(models.Model):
    """Something the company sells or buys. `name` and `description` are in the company's
    default language; ProductTranslation rows give them in the other languages."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    sku = models.CharField(_("SKU"), max_length=64)
    barcode = models.CharField(_("barcode"), max_length=14, blank=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ProductKind.choices, default=ProductKind.GOODS)
    uom = models.ForeignKey(
        UnitOfMeasure, verbose_name=_("unit of measure"), on_delete=models.PROTECT, related_name="products"
    )
    weight = QuantityField(_("weight (kg)"), null=True, blank=True)
    tax_category = models.ForeignKey(
        TaxCategory, verbose_name=_("tax category"), on_delete=models.PROTECT, related_name="products"
    )
    list_price = MoneyField(_("list price"), default=Decimal(0))
    standard_cost = MoneyField(_("standard cost"), default=Decimal(0))
    ncm = models.CharField(_("NCM code"), max_length=8, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(fields=["company", "sku"], name="product_unique_sku"),
            models.UniqueConstraint(
                fields=["company", "barcode"], condition=~Q(barcode=""), name="product_unique_barcode"
            ),
        ]
        indexes = [models.Index(fields=["company", "name"], name="product_company_name_idx")]

    def __str__(self) -> str:
        return f"{self.sku} · {self.name}"


class ProductTranslation(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("product translation")
        constraints = [
            models.UniqueConstraint(fields=["product", "language"], name="producttranslation_unique_language")
        ]

    def __str__(self) -> str:
        return f"{self.language}: {self.name}"


class PriceList(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    is_active = models.BooleanField(_("active"), default=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="pricelist_unique_name")]

    def __str__(self) -> str:
        return self.name

    def applies_on(self, day) -> bool:
        return (
            self.is_active
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_to is None or day <= self.valid_to)
        )


class PriceListItem(models.Model):
    """The unit price of a product in a list from `min_quantity` (in the product's unit) up."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="price_list_items")
    min_quantity = QuantityField(_("minimum quantity"), default=Decimal(0))
    unit_price = MoneyField(_("unit price"))

    class Meta:
        verbose_name = _("price list item")
        ordering = ["price_list_id", "product_id", "min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product", "min_quantity"], name="pricelistitem_unique_tier")
        ]

    def __str__(self) -> str:
        return f"{self.price_list_id}/{self.product_id} ≥ {self.min_quantity}: {self.unit_price}"
