"""The writers of the catalog: products, units of measure, tax categories and price lists.

Every service checks `catalog.change`, validates all its input before writing (one
ValidationFailed carrying every field's errors), and writes its audit rows (and events for
products) in the same transaction.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.validators import ProhibitNullCharactersValidator
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumValidationError

from retaguarda.common.errors import NotFound, ValidationFailed
from retaguarda.core.choices import Currency, Language
from retaguarda.core.permissions import Actor, require
from retaguarda.core.services import audit_record, changed, event_emit, snapshot

from .choices import ProductKind, UomCategory
from .models import FACTOR_SCALE, PriceList, PriceListItem, Product, ProductTranslation, TaxCategory, UnitOfMeasure

# Largest amount and quantity accepted: keeps the scaled integers far inside 64 bits.
MAX_AMOUNT = Decimal("9999999999999.99")
MAX_QUANTITY = Decimal("999999999999.999")
MAX_FACTOR = Decimal("999999")

PRODUCT_FIELDS = (
    "sku",
    "barcode",
    "name",
    "description",
    "kind",
    "weight",
    "list_price",
    "standard_cost",
    "ncm",
    "is_active",
)
PRODUCT_CHANGEABLE = frozenset(PRODUCT_FIELDS) | {"uom", "tax_category", "translations"}
PRICE_LIST_FIELDS = ("name", "currency", "is_active", "valid_from", "valid_to")

_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class FieldErrors:
    """Collects field errors so one ValidationFailed reports them all."""

    def __init__(self):
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(str(message))

    def raise_if_any(self, message: str | None = None) -> None:
        if self.fields:
            raise ValidationFailed(message or _("Some fields are not valid."), fields=self.fields)


def text_clean(value, field: str, errors: FieldErrors, *, max_length: int, required: bool = False) -> str:
    """Trimmed text; "" when refused, so no query is ever run with it."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(field, _("Enter text."))
        return ""
    if "\x00" in value:  # PostgreSQL cannot store it
        errors.add(field, str(ProhibitNullCharactersValidator.message))
        return ""
    value = value.strip()
    if required and not value:
        errors.add(field, _("This field is required."))
    elif len(value) > max_length:
        errors.add(
            field, _("Use at most %(max)s characters (it has %(length)s).") % {"max": max_length, "length": len(value)}
        )
    return value


def _decimal(
    value,
    field: str,
    errors: FieldErrors,
    *,
    places: int,
    maximum: Decimal,
    allow_none: bool = False,
    positive: bool = False,
) -> Decimal | None:
    """A non-negative (or positive) Decimal with at most `places` decimals, quantized to them."""
    if value is None or value == "":
        if allow_none:
            return None
        errors.add(field, _("This field is required."))
        return None
    if isinstance(value, float | bool):
        errors.add(field, _("Enter a number."))
        return None
    try:
        number = Decimal(value.strip().replace(",", ".")) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        errors.add(field, _("Enter a number."))
        return None
    if not number.is_finite():
        errors.add(field, _("Enter a number."))
        return None
    if positive and number <= 0:
        errors.add(field, _("Enter a number greater than zero."))
        return None
    if number < 0:
        errors.add(field, _("Enter a number that is not negative."))
        return None
    if number > maximum:
        errors.add(field, _("Enter a number no larger than %(max)s.") % {"max": maximum})
        return None
    scaled = number.scaleb(places)
    if scaled != scaled.to_integral_value():
        errors.add(field, _("Use at most %(places)s decimal places.") % {"places": places})
        return None
    return number.quantize(Decimal(1).scaleb(-places))


def barcode_clean(value: str) -> str:
    """A barcode as stored: digits only, check digit verified (EAN-13, EAN-8, UPC-A, GTIN-14).

    Raises ValueError with a user-facing message when the number is not valid.
    """
    try:
        return ean.validate(value)
    except StdnumValidationError:
        raise ValueError(_("Enter a valid EAN-13, EAN-8, UPC-A or GTIN-14 barcode (check the check digit)."))


def ncm_clean(value: str) -> str:
    """A Brazilian NCM code as stored: 8 digits (dots and spaces are dropped)."""
    digits = re.sub(r"[\s.]", "", value)
    if not re.fullmatch(r"[0-9]{8}", digits):
        raise ValueError(_("An NCM code has 8 digits, such as 8471.30.12."))
    return digits


# ---------------------------------------------------------------------------------------------
# Tax categories and units of measure


@transaction.atomic
def tax_category_create(*, actor: Actor, code: str, name: str) -> TaxCategory:
    require(actor, "catalog.change")
    errors = FieldErrors()
    code = text_clean(code, "code", errors, max_length=32, required=True).lower()
    name = text_clean(name, "name", errors, max_length=100, required=True)
    if code and not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", code):
        errors.add("code", _("Use letters, digits, hyphens and underscores only."))
    if code and TaxCategory.objects.filter(company=actor.company, code=code).exists():
        errors.add("code", _("A tax category with this code already exists."))
    errors.raise_if_any()
    category = TaxCategory.objects.create(company=actor.company, code=code, name=name)
    audit_record(
        actor=actor,
        company=actor.company,
        obj=category,
        action="tax_category.create",
        after={"code": code, "name": name},
    )
    return category


UOM_FIELDS = ("code", "name", "category", "factor", "rounding")


@transaction.atomic
def uom_create(
    *,
    actor: Actor,
    code: str,
    name: str,
    category: str,
    factor: Decimal | str | int = Decimal(1),
    rounding: Decimal | str | int = Decimal("0.001"),
) -> UnitOfMeasure:
    """A unit of `category` of which one equals `factor` reference units (the unit of factor 1)."""
    require(actor, "catalog.change")
    errors = FieldErrors()
    code = text_clean(code, "code", errors, max_length=16, required=True)
    name = text_clean(name, "name", errors, max_length=100, required=True)
    if code and not _CODE_RE.match(code):
        errors.add("code", _("Use letters, digits, dots, hyphens and underscores only."))
    if category not in UomCategory.values:
        errors.add("category", _("Choose a valid category."))
    factor = _decimal(factor, "factor", errors, places=FACTOR_SCALE, maximum=MAX_FACTOR, positive=True)
    rounding = _decimal(rounding, "rounding", errors, places=3, maximum=MAX_FACTOR, positive=True)
    if code and UnitOfMeasure.objects.filter(company=actor.company, code=code).exists():
        errors.add("code", _("A unit with this code already exists."))
    errors.raise_if_any()
    uom = UnitOfMeasure.objects.create(
        company=actor.company, code=code, name=name, category=category, factor=factor, rounding=rounding
    )
    audit_record(actor=actor, company=actor.company, obj=uom, action="uom.create", after=snapshot(uom, UOM_FIELDS))
    return uom


# code, name, category, factor, rounding
DEFAULT_UNITS = (
    ("un", gettext_lazy("Unit"), UomCategory.UNIT, "1", "1"),
    ("pair", gettext_lazy("Pair"), UomCategory.UNIT, "2", "1"),
    ("box6", gettext_lazy("Box of 6"), UomCategory.UNIT, "6", "1"),
    ("box12", gettext_lazy("Box of 12"), UomCategory.UNIT, "12", "1"),
    ("kg", gettext_lazy("Kilogram"), UomCategory.WEIGHT, "1", "0.001"),
    ("g", gettext_lazy("Gram"), UomCategory.WEIGHT, "0.001", "1"),
    ("t", gettext_lazy("Tonne"), UomCategory.WEIGHT, "1000", "0.001"),
    ("l", gettext_lazy("Litre"), UomCategory.VOLUME, "1", "0.001"),
    ("ml", gettext_lazy("Millilitre"), UomCategory.VOLUME, "0.001", "1"),
    ("m", gettext_lazy("Metre"), UomCategory.LENGTH, "1", "0.001"),
    ("cm", gettext_lazy("Centimetre"), UomCategory.LENGTH, "0.01", "0.1"),
    ("h", gettext_lazy("Hour"), UomCategory.TIME, "1", "0.01"),
)
DEFAULT_TAX_CATEGORIES = (
    ("standard", gettext_lazy("Standard rate")),
    ("reduced", gettext_lazy("Reduced rate")),
    ("super-reduced", gettext_lazy("Super-reduced rate")),
    ("exempt", gettext_lazy("Exempt")),
)


@transaction.atomic
def catalog_defaults_create(*, actor: Actor) -> None:
    """Give a company the usual units of measure and tax categories it lacks (names in its language)."""
    require(actor, "catalog.change")
    company = actor.company
    have_units = set(UnitOfMeasure.objects.filter(company=company).values_list("code", flat=True))
    have_taxes = set(TaxCategory.objects.filter(company=company).values_list("code", flat=True))
    with translation.override(company.default_language):
        for code, name, category, factor, rounding in DEFAULT_UNITS:
            if code not in have_units:
                uom_create(actor=actor, code=code, name=str(name), category=category, factor=factor, rounding=rounding)
        for code, name in DEFAULT_TAX_CATEGORIES:
            if code not in have_taxes:
                tax_category_create(actor=actor, code=code, name=str(name))


# ---------------------------------------------------------------------------------------------
# Products


def _clean_translations(value, company, errors: FieldErrors) -> dict[str, tuple[str, str]]:
    """{language: {"name", "description"}} -> {language: (name, description)}; empty name removes."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add("translations", _("Give translations by language."))
        return {}
    cleaned = {}
    for language, entry in value.items():
        prefix = f"translations.{language}"
        if language not in Language.values:
            errors.add(prefix, _("Unknown language."))
            continue
        if language == company.default_language:
            errors.add(
                prefix, _("The product's own name and description are in the company's language; edit them there.")
            )
            continue
        if not isinstance(entry, dict):
            errors.add(prefix, _("Give a name and a description."))
            continue
        name = text_clean(entry.get("name"), f"{prefix}.name", errors, max_length=200)
        description = text_clean(entry.get("description"), f"{prefix}.description", errors, max_length=5000)
        if description and not name:
            errors.add(f"{prefix}.name", _("A translated description needs a translated name."))
        cleaned[language] = (name, description)
    return cleaned


def product_clean(actor: Actor, data: dict, product: Product | None) -> dict:
    """Validate the given product fields; `product` is None on create (then required ones must be there)."""
    errors = FieldErrors()
    company = actor.company
    cleaned: dict = {}
    creating = product is None
    unknown = set(data) - PRODUCT_CHANGEABLE
    if unknown:
        raise TypeError(f"unknown product fields: {sorted(unknown)}")

    if "sku" in data or creating:
        sku = text_clean(data.get("sku"), "sku", errors, max_length=64, required=True)
        if sku and any(ch.isspace() for ch in sku):
            errors.add("sku", _("A SKU has no spaces."))
        elif sku:
            taken = Product.objects.filter(company=company, sku=sku)
            if product is not None:
                taken = taken.exclude(pk=product.pk)
            if taken.exists():
                errors.add("sku", _("Another product already has this SKU."))
        cleaned["sku"] = sku
    if "barcode" in data:
        barcode = text_clean(data.get("barcode"), "barcode", errors, max_length=32)
        if barcode:
            try:
                barcode = barcode_clean(barcode)
            except ValueError as exc:
                errors.add("barcode", str(exc))
            else:
                taken = Product.objects.filter(company=company, barcode=barcode)
                if product is not None:
                    taken = taken.exclude(pk=product.pk)
                if taken.exists():
                    errors.add("barcode", _("Another product already has this barcode."))
        cleaned["barcode"] = barcode
    if "name" in data or creating:
        cleaned["name"] = text_clean(data.get("name"), "name", errors, max_length=200, required=True)
    if "description" in data:
        cleaned["description"] = text_clean(data.get("description"), "description", errors, max_length=5000)
    if "kind" in data:
        if data["kind"] not in ProductKind.values:
            errors.add("kind", _("Choose goods or service."))
        cleaned["kind"] = data["kind"]
    if "uom" in data or creating:
        code = data.get("uom")
        uom = code if isinstance(code, UnitOfMeasure) else None
        if uom is None and isinstance(code, str) and code and "\x00" not in code:
            uom = UnitOfMeasure.objects.filter(company=company, code=code).first()
        if uom is None or uom.company_id != company.pk:
            errors.add("uom", _("Unknown unit of measure."))
        cleaned["uom"] = uom
    if "tax_category" in data or creating:
        code = data.get("tax_category")
        category = code if isinstance(code, TaxCategory) else None
        if category is None and isinstance(code, str) and code and "\x00" not in code:
            category = TaxCategory.objects.filter(company=company, code=code).first()
        if category is None or category.company_id != company.pk:
            errors.add("tax_category", _("Unknown tax category."))
        cleaned["tax_category"] = category
    if "weight" in data:
        cleaned["weight"] = _decimal(data["weight"], "weight", errors, places=3, maximum=MAX_QUANTITY, allow_none=True)
    for money_field in ("list_price", "standard_cost"):
        if money_field in data:
            cleaned[money_field] = _decimal(data[money_field], money_field, errors, places=2, maximum=MAX_AMOUNT)
    if "ncm" in data:
        ncm = text_clean(data.get("ncm"), "ncm", errors, max_length=16)
        if ncm:
            try:
                ncm = ncm_clean(ncm)
            except ValueError as exc:
                errors.add("ncm", str(exc))
        cleaned["ncm"] = ncm
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors.add("is_active", _("Enter true or false."))
        cleaned["is_active"] = bool(data["is_active"])
    if "translations" in data:
        cleaned["translations"] = _clean_translations(data["translations"], company, errors)
    errors.raise_if_any(_("The product has invalid fields."))
    return cleaned


def _product_state(product: Product) -> dict:
    state = snapshot(product, PRODUCT_FIELDS)
    state["uom"] = product.uom.code
    state["tax_category"] = product.tax_category.code
    state["translations"] = {
        t.language: {"name": t.name, "description": t.description}
        for t in sorted(product.translations.all(), key=lambda t: t.language)
    }
    return state


def _translations_apply(product: Product, translations: dict[str, tuple[str, str]]) -> None:
    for language, (name, description) in translations.items():
        if not name:
            ProductTranslation.objects.filter(product=product, language=language).delete()
        else:
            ProductTranslation.objects.update_or_create(
                product=product, language=language, defaults={"name": name, "description": description}
            )


def _save_unique(instance, *, field_errors: dict) -> None:
    """Save inside a savepoint; a unique constraint lost to a concurrent writer becomes a field error."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ValidationFailed(_("Another record was saved with the same values first."), fields=field_errors)


@transaction.atomic
def product_create(
    *,
    actor: Actor,
    sku: str,
    name: str,
    uom: str | UnitOfMeasure,
    tax_category: str | TaxCategory,
    kind: str = ProductKind.GOODS,
    barcode: str = "",
    description: str = "",
    weight: Decimal | str | None = None,
    list_price: Decimal | str = Decimal(0),
    standard_cost: Decimal | str = Decimal(0),
    ncm: str = "",
    is_active: bool = True,
    translations: dict | None = None,
) -> Product:
    """A new product; `uom` and `tax_category` are codes (or rows) of the actor's company."""
    require(actor, "catalog.change")
    data = dict(
        sku=sku,
        name=name,
        uom=uom,
        tax_category=tax_category,
        kind=kind,
        barcode=barcode,
        description=description,
        weight=weight,
        list_price=list_price,
        standard_cost=standard_cost,
        ncm=ncm,
        is_active=is_active,
        translations=translations or {},
    )
    cleaned = product_clean(actor, data, None)
    translations_clean = cleaned.pop("translations")
    product = Product(company=actor.company, **cleaned)
    _save_unique(product, field_errors={"sku": [_("Another product already has this SKU or barcode.")]})
    _translations_apply(product, {language: text for language, text in translations_clean.items() if text[0]})
    state = _product_state(product)
    audit_record(actor=actor, company=actor.company, obj=product, action="product.create", after=state)
    event_emit(company=actor.company, name="product.created", obj=product, payload={"id": product.pk, **state})
    return product


def _product_for_update(actor: Actor, product_id) -> Product:
    product = (
        Product.objects.select_for_update()
        .select_related("uom", "tax_category")
        .filter(company=actor.company, pk=product_id)
        .first()
    )
    if product is None:
        raise NotFound(_("No such product."))
    return product


@transaction.atomic
def product_update(*, actor: Actor, product_id: int, **changes) -> Product:
    """Change the given fields of a product (any of PRODUCT_CHANGEABLE); nothing else is touched.

    `translations` updates only the languages it names; an empty name removes that language.
    """
    require(actor, "catalog.change")
    product = _product_for_update(actor, product_id)
    cleaned = product_clean(actor, changes, product)
    before = _product_state(product)
    translations_clean = cleaned.pop("translations", {})
    if any(getattr(product, field) != value for field, value in cleaned.items()):
        for field, value in cleaned.items():
            setattr(product, field, value)
        _save_unique(product, field_errors={"sku": [_("Another product already has this SKU or barcode.")]})
    _translations_apply(product, translations_clean)
    old, new = changed(before, _product_state(product))
    if new:
        audit_record(actor=actor, company=actor.company, obj=product, action="product.update", before=old, after=new)
        event_emit(
            company=actor.company,
            name="product.updated",
            obj=product,
            payload={"id": product.pk, "sku": product.sku, "changes": new},
        )
    return product


@transaction.atomic
def product_archive(*, actor: Actor, product_id: int) -> Product:
    """Retire a product: it stays for history but is no longer active. Archiving twice is a no-op."""
    require(actor, "catalog.change")
    product = _product_for_update(actor, product_id)
    if product.is_active:
        product.is_active = False
        product.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=actor,
            company=actor.company,
            obj=product,
            action="product.archive",
            before={"is_active": True},
            after={"is_active": False},
        )
        event_emit(
            company=actor.company,
            name="product.updated",
            obj=product,
            payload={"id": product.pk, "sku": product.sku, "changes": {"is_active": False}},
        )
    return product


# ---------------------------------------------------------------------------------------------
# Price lists


def _clean_price_list(actor: Actor, data: dict, price_list: PriceList | None) -> dict:
    errors = FieldErrors()
    cleaned: dict = {}
    creating = price_list is None
    if "name" in data or creating:
        name = text_clean(data.get("name"), "name", errors, max_length=100, required=True)
        taken = PriceList.objects.filter(company=actor.company, name=name)
        if price_list is not None:
            taken = taken.exclude(pk=price_list.pk)
        if name and taken.exists():
            errors.add("name", _("Another price list already has this name."))
        cleaned["name"] = name
    if "currency" in data or creating:
        currency = data.get("currency") or actor.company.base_currency
        if currency not in Currency.values:
            errors.add("currency", _("Choose a valid currency."))
        cleaned["currency"] = currency
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors.add("is_active", _("Enter true or false."))
        cleaned["is_active"] = bool(data["is_active"])
    for field in ("valid_from", "valid_to"):
        if field in data:
            value = data[field]
            if value is not None and not isinstance(value, date):
                errors.add(field, _("Enter a valid date."))
                value = None
            cleaned[field] = value
    valid_from = cleaned.get("valid_from", price_list.valid_from if price_list else None)
    valid_to = cleaned.get("valid_to", price_list.valid_to if price_list else None)
    if valid_from and valid_to and valid_to < valid_from:
        errors.add("valid_to", _("The end date is before the start date."))
    errors.raise_if_any(_("The price list has invalid fields."))
    return cleaned


@transaction.atomic
def price_list_create(
    *,
    actor: Actor,
    name: str,
    currency: str | None = None,
    is_active: bool = True,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> PriceList:
    """A price list in `currency` (the company's base currency when not given)."""
    require(actor, "catalog.change")
    cleaned = _clean_price_list(
        actor,
        dict(name=name, currency=currency, is_active=is_active, valid_from=valid_from, valid_to=valid_to),
        None,
    )
    price_list = PriceList(company=actor.company, **cleaned)
    _save_unique(price_list, field_errors={"name": [_("Another price list already has this name.")]})
    audit_record(
        actor=actor,
        company=actor.company,
        obj=price_list,
        action="price_list.create",
        after=snapshot(price_list, PRICE_LIST_FIELDS),
    )
    return price_list


def _price_list_for_update(actor: Actor, price_list_id) -> PriceList:
    price_list = PriceList.objects.select_for_update().filter(company=actor.company, pk=price_list_id).first()
    if price_list is None:
        raise NotFound(_("No such price list."))
    return price_list


@transaction.atomic
def price_list_update(*, actor: Actor, price_list_id: int, **changes) -> PriceList:
    require(actor, "catalog.change")
    unknown = set(changes) - set(PRICE_LIST_FIELDS)
    if unknown:
        raise TypeError(f"unknown price list fields: {sorted(unknown)}")
    price_list = _price_list_for_update(actor, price_list_id)
    cleaned = _clean_price_list(actor, changes, price_list)
    if "currency" in cleaned and cleaned["currency"] != price_list.currency and price_list.items.exists():
        raise ValidationFailed(
            _("The price list has prices; remove them before changing its currency."),
            fields={"currency": [_("Remove the prices first.")]},
        )
    before = snapshot(price_list, PRICE_LIST_FIELDS)
    for field, value in cleaned.items():
        setattr(price_list, field, value)
    _save_unique(price_list, field_errors={"name": [_("Another price list already has this name.")]})
    old, new = changed(before, snapshot(price_list, PRICE_LIST_FIELDS))
    if new:
        audit_record(
            actor=actor, company=actor.company, obj=price_list, action="price_list.update", before=old, after=new
        )
    return price_list


@transaction.atomic
def price_list_item_set(
    *,
    actor: Actor,
    price_list_id: int,
    product_id: int,
    unit_price: Decimal | str,
    min_quantity: Decimal | str = Decimal(0),
) -> PriceListItem:
    """Set the unit price of a product in a list from `min_quantity` up (adds or replaces the tier)."""
    require(actor, "catalog.change")
    price_list = _price_list_for_update(actor, price_list_id)
    errors = FieldErrors()
    product = Product.objects.filter(company=actor.company, pk=product_id).first() if product_id else None
    if product is None:
        errors.add("product", _("Unknown product."))
    unit_price = _decimal(unit_price, "unit_price", errors, places=2, maximum=MAX_AMOUNT)
    min_quantity = _decimal(min_quantity, "min_quantity", errors, places=3, maximum=MAX_QUANTITY)
    errors.raise_if_any(_("The price has invalid fields."))
    item = PriceListItem.objects.filter(price_list=price_list, product=product, min_quantity=min_quantity).first()
    before = None
    if item is None:
        item = PriceListItem(
            company=actor.company,
            price_list=price_list,
            product=product,
            min_quantity=min_quantity,
            unit_price=unit_price,
        )
    else:
        if item.unit_price == unit_price:
            return item
        before = {"unit_price": item.unit_price}
        item.unit_price = unit_price
    _save_unique(item, field_errors={"min_quantity": [_("This product already has a price from this quantity.")]})
    audit_record(
        actor=actor,
        company=actor.company,
        obj=price_list,
        action="price_list.item_set",
        before=before,
        after={"product": product.sku, "min_quantity": min_quantity, "unit_price": unit_price},
    )
    return item


@transaction.atomic
def price_list_item_remove(*, actor: Actor, price_list_id: int, item_id: int) -> None:
    require(actor, "catalog.change")
    price_list = _price_list_for_update(actor, price_list_id)
    item = (
        PriceListItem.objects.select_related("product")
        .filter(company=actor.company, price_list=price_list, pk=item_id)
        .first()
    )
    if item is None:
        raise NotFound(_("No such price."))
    before = {"unit_price": item.unit_price}
    after = {"product": item.product.sku, "min_quantity": item.min_quantity, "unit_price": None}
    item.delete()
    audit_record(
        actor=actor, company=actor.company, obj=price_list, action="price_list.item_remove", before=before, after=after
    )
