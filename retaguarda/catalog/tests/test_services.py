"""Catalog services: what they write, what they audit and emit, and what they refuse."""

from decimal import Decimal

import pytest

from retaguarda.catalog.models import PriceList, PriceListItem, Product, ProductTranslation, TaxCategory, UnitOfMeasure
from retaguarda.catalog.services import (
    catalog_defaults_create,
    price_list_create,
    price_list_item_remove,
    price_list_item_set,
    price_list_update,
    product_archive,
    product_create,
    product_update,
    tax_category_create,
    uom_create,
)
from retaguarda.catalog.testing import product_build
from retaguarda.common.errors import NotFound, PermissionDenied, ValidationFailed
from retaguarda.core.models import AuditLog, OutboxEvent
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import actor_build

D = Decimal
EAN13 = "4006381333931"


def _create(actor, **overrides):
    fields = dict(sku="MUG-1", name="Taza azul", uom="un", tax_category="standard", list_price="12.50")
    fields.update(overrides)
    return product_create(actor=actor, **fields)


def test_defaults_give_units_and_tax_categories_once(company):
    actor = system_actor(company)
    catalog_defaults_create(actor=actor)
    catalog_defaults_create(actor=actor)
    codes = set(UnitOfMeasure.objects.filter(company=company).values_list("code", flat=True))
    assert {"un", "box12", "kg", "g", "l", "ml", "m", "cm", "h"} <= codes
    assert UnitOfMeasure.objects.filter(company=company).count() == len(codes)
    assert sorted(TaxCategory.objects.filter(company=company).values_list("code", flat=True)) == [
        "exempt",
        "reduced",
        "standard",
        "super-reduced",
    ]
    box = UnitOfMeasure.objects.get(company=company, code="box12")
    assert (box.category, box.factor, box.rounding) == ("unit", D("12"), D("1.000"))
    gram = UnitOfMeasure.objects.get(company=company, code="g")
    assert (gram.category, str(gram.factor), str(gram.rounding)) == ("weight", "0.001000000000", "1.000")


def test_product_create_writes_product_audit_and_event(catalog, admin_actor):
    product = _create(
        admin_actor,
        barcode="400-6381-33393-1",
        weight="0.35",
        standard_cost="4.1",
        description="Cerámica",
        translations={"en": {"name": "Blue mug", "description": "Ceramic"}},
    )
    product.refresh_from_db()
    assert (product.sku, product.barcode, product.name, product.kind) == ("MUG-1", EAN13, "Taza azul", "goods")
    assert (product.weight, product.list_price, product.standard_cost) == (D("0.350"), D("12.50"), D("4.10"))
    assert (product.uom.code, product.tax_category.code, product.is_active) == ("un", "standard", True)
    assert list(product.translations.values_list("language", "name", "description")) == [("en", "Blue mug", "Ceramic")]
    audit = AuditLog.objects.get(object_type="catalog.product", object_id=str(product.pk))
    assert audit.action == "product.create"
    assert audit.actor_id == admin_actor.user.pk
    assert audit.before is None
    assert audit.after == {
        "sku": "MUG-1",
        "barcode": EAN13,
        "name": "Taza azul",
        "description": "Cerámica",
        "kind": "goods",
        "weight": "0.350",
        "list_price": "12.50",
        "standard_cost": "4.10",
        "ncm": "",
        "is_active": True,
        "uom": "un",
        "tax_category": "standard",
        "translations": {"en": {"name": "Blue mug", "description": "Ceramic"}},
    }
    event = OutboxEvent.objects.get(name="product.created")
    assert (event.company_id, event.object_type, event.object_id) == (catalog.pk, "catalog.product", str(product.pk))
    assert event.payload["id"] == product.pk
    assert event.payload["sku"] == "MUG-1"
    assert event.payload["list_price"] == "12.50"


def test_product_update_audits_only_what_changed_and_emits_updated(catalog, admin_actor):
    product = _create(admin_actor, translations={"en": {"name": "Blue mug"}})
    product_update(
        actor=admin_actor,
        product_id=product.pk,
        list_price=D("13.00"),
        name="Taza azul",  # unchanged
        translations={"en": {"name": ""}, "pt-br": {"name": "Caneca azul"}},
    )
    product.refresh_from_db()
    assert product.list_price == D("13.00")
    assert dict(product.translations.values_list("language", "name")) == {"pt-br": "Caneca azul"}
    audit = AuditLog.objects.get(action="product.update", object_id=str(product.pk))
    assert audit.before == {"list_price": "12.50", "translations": {"en": {"name": "Blue mug", "description": ""}}}
    assert audit.after == {
        "list_price": "13.00",
        "translations": {"pt-br": {"name": "Caneca azul", "description": ""}},
    }
    event = OutboxEvent.objects.get(name="product.updated")
    assert event.payload == {
        "id": product.pk,
        "sku": "MUG-1",
        "changes": {"list_price": "13.00", "translations": {"pt-br": {"name": "Caneca azul", "description": ""}}},
    }


def test_product_update_without_changes_writes_nothing(catalog, admin_actor):
    product = _create(admin_actor)
    updated_at = Product.objects.get(pk=product.pk).updated_at
    product_update(actor=admin_actor, product_id=product.pk, list_price="12.5", sku="MUG-1")
    assert not AuditLog.objects.filter(action="product.update").exists()
    assert not OutboxEvent.objects.filter(name="product.updated").exists()
    assert Product.objects.get(pk=product.pk).updated_at == updated_at


def test_product_archive_once_then_no_op(catalog, admin_actor):
    product = _create(admin_actor)
    product_archive(actor=admin_actor, product_id=product.pk)
    product_archive(actor=admin_actor, product_id=product.pk)
    assert Product.objects.get(pk=product.pk).is_active is False
    audit = AuditLog.objects.get(action="product.archive")
    assert (audit.before, audit.after) == ({"is_active": True}, {"is_active": False})
    assert list(OutboxEvent.objects.filter(name="product.updated").values_list("payload", flat=True)) == [
        {"id": product.pk, "sku": "MUG-1", "changes": {"is_active": False}}
    ]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"sku": ""}, {"sku": ["This field is required."]}),
        ({"sku": "MUG 1"}, {"sku": ["A SKU has no spaces."]}),
        ({"name": "  "}, {"name": ["This field is required."]}),
        (
            {"barcode": "4006381333932"},
            {"barcode": ["Enter a valid EAN-13, EAN-8, UPC-A or GTIN-14 barcode (check the check digit)."]},
        ),
        (
            {"barcode": "12345"},
            {"barcode": ["Enter a valid EAN-13, EAN-8, UPC-A or GTIN-14 barcode (check the check digit)."]},
        ),
        ({"uom": "parsec"}, {"uom": ["Unknown unit of measure."]}),
        ({"tax_category": "luxury"}, {"tax_category": ["Unknown tax category."]}),
        ({"list_price": "-1"}, {"list_price": ["Enter a number that is not negative."]}),
        ({"list_price": "1.005"}, {"list_price": ["Use at most 2 decimal places."]}),
        ({"list_price": "abc"}, {"list_price": ["Enter a number."]}),
        ({"list_price": 1.5}, {"list_price": ["Enter a number."]}),
        ({"list_price": "1e20"}, {"list_price": ["Enter a number no larger than 9999999999999.99."]}),
        ({"standard_cost": "NaN"}, {"standard_cost": ["Enter a number."]}),
        ({"weight": "0.0001"}, {"weight": ["Use at most 3 decimal places."]}),
        ({"ncm": "8471.30"}, {"ncm": ["An NCM code has 8 digits, such as 8471.30.12."]}),
        ({"kind": "robot"}, {"kind": ["Choose goods or service."]}),
        ({"translations": {"fr": {"name": "Tasse"}}}, {"translations.fr": ["Unknown language."]}),
        (
            {"translations": {"es": {"name": "Taza"}}},
            {
                "translations.es": [
                    "The product's own name and description are in the company's language; edit them there."
                ]
            },
        ),
        (
            {"translations": {"en": {"name": "", "description": "Ceramic"}}},
            {"translations.en.name": ["A translated description needs a translated name."]},
        ),
    ],
)
def test_product_create_refuses_bad_input_and_writes_nothing(catalog, admin_actor, overrides, fields):
    with pytest.raises(ValidationFailed) as info:
        _create(admin_actor, **overrides)
    assert info.value.fields == fields
    assert Product.objects.count() == 0
    assert ProductTranslation.objects.count() == 0
    assert not AuditLog.objects.filter(object_type="catalog.product").exists()
    assert not OutboxEvent.objects.exists()


def test_product_create_reports_every_bad_field_at_once(catalog, admin_actor):
    with pytest.raises(ValidationFailed) as info:
        _create(admin_actor, sku="", uom="x", list_price="-2")
    assert set(info.value.fields) == {"sku", "uom", "list_price"}


def test_ncm_and_upc_are_normalised(catalog, admin_actor):
    product = _create(admin_actor, ncm="8471.30.12", barcode="036000291452")
    product.refresh_from_db()
    assert (product.ncm, product.barcode) == ("84713012", "036000291452")


def test_sku_is_unique_per_company_but_repeats_across_companies(catalog, other_company, admin_actor):
    _create(admin_actor, barcode=EAN13)
    with pytest.raises(ValidationFailed) as info:
        _create(admin_actor, name="Otra")
    assert info.value.fields == {"sku": ["Another product already has this SKU."]}
    other = _create(system_actor(other_company), barcode=EAN13)
    assert other.company_id == other_company.pk
    assert Product.objects.filter(sku="MUG-1").count() == 2


def test_barcode_is_unique_per_company_when_given(catalog, admin_actor):
    _create(admin_actor, sku="A", barcode=EAN13)
    _create(admin_actor, sku="B")
    _create(admin_actor, sku="C")  # two products without a barcode are fine
    with pytest.raises(ValidationFailed) as info:
        _create(admin_actor, sku="D", barcode=EAN13)
    assert info.value.fields == {"barcode": ["Another product already has this barcode."]}
    assert Product.objects.count() == 3


def test_update_refuses_a_taken_sku_and_keeps_the_row(catalog, admin_actor):
    _create(admin_actor, sku="A")
    b = _create(admin_actor, sku="B")
    with pytest.raises(ValidationFailed):
        product_update(actor=admin_actor, product_id=b.pk, sku="A", list_price="99")
    b.refresh_from_db()
    assert (b.sku, b.list_price) == ("B", D("12.50"))
    assert not AuditLog.objects.filter(action="product.update").exists()


def test_services_cannot_reach_another_companys_product(catalog, other_company, admin_actor):
    foreign = product_build(other_company, name="Caneca")
    with pytest.raises(NotFound):
        product_update(actor=admin_actor, product_id=foreign.pk, name="Hijacked")
    with pytest.raises(NotFound):
        product_archive(actor=admin_actor, product_id=foreign.pk)
    foreign.refresh_from_db()
    assert (foreign.name, foreign.is_active) == ("Caneca", True)
    assert not AuditLog.objects.filter(company=catalog, object_type="catalog.product").exists()


def test_product_cannot_use_another_companys_unit(catalog, other_company, admin_actor):
    foreign_unit = UnitOfMeasure.objects.get(company=other_company, code="kg")
    with pytest.raises(ValidationFailed) as info:
        _create(admin_actor, uom=foreign_unit)
    assert info.value.fields == {"uom": ["Unknown unit of measure."]}


@pytest.mark.parametrize("role", ["warehouse", "hr", "finance", "support", "legal"])
def test_roles_without_catalog_change_cannot_write(catalog, role):
    actor = actor_build(catalog, role)
    product = product_build(catalog, name="Product name")
    audits = AuditLog.objects.count()
    calls = [
        lambda: _create(actor, sku="NEW"),
        lambda: product_update(actor=actor, product_id=product.pk, name="x"),
        lambda: product_archive(actor=actor, product_id=product.pk),
        lambda: uom_create(actor=actor, code="dz", name="Dozen", category="unit", factor="12", rounding="1"),
        lambda: tax_category_create(actor=actor, code="zero", name="Zero"),
        lambda: price_list_create(actor=actor, name="Wholesale"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    product.refresh_from_db()
    assert (product.name, product.is_active, Product.objects.count()) == ("Product name", True, 1)
    assert not PriceList.objects.exists()
    assert AuditLog.objects.count() == audits


@pytest.mark.parametrize("role", ["administrator", "manager", "sales"])
def test_roles_with_catalog_change_can_write(catalog, role):
    product = _create(actor_build(catalog, role))
    assert Product.objects.filter(pk=product.pk).exists()


def test_uom_create_validates_and_audits(catalog, admin_actor):
    unit = uom_create(
        actor=admin_actor, code="lb", name="Pound", category="weight", factor="0.45359237", rounding="0.001"
    )
    unit.refresh_from_db()
    assert (unit.factor, unit.rounding) == (D("0.45359237"), D("0.001"))
    assert AuditLog.objects.get(action="uom.create", object_id=str(unit.pk)).after == {
        "code": "lb",
        "name": "Pound",
        "category": "weight",
        "factor": "0.453592370000",
        "rounding": "0.001",
    }
    with pytest.raises(ValidationFailed) as info:
        uom_create(actor=admin_actor, code="lb", name="", category="mass", factor="0", rounding="0.0001")
    assert info.value.fields == {
        "code": ["A unit with this code already exists."],
        "name": ["This field is required."],
        "category": ["Choose a valid category."],
        "factor": ["Enter a number greater than zero."],
        "rounding": ["Use at most 3 decimal places."],
    }


def test_tax_category_create_refuses_duplicates(catalog, admin_actor):
    with pytest.raises(ValidationFailed) as info:
        tax_category_create(actor=admin_actor, code="Standard", name="Again")
    assert info.value.fields == {"code": ["A tax category with this code already exists."]}
    zero = tax_category_create(actor=admin_actor, code="zero", name="Zero rated")
    assert AuditLog.objects.get(action="tax_category.create", object_id=str(zero.pk)).after == {
        "code": "zero",
        "name": "Zero rated",
    }


def test_price_list_services_write_and_audit(catalog, admin_actor):
    product = product_build(catalog, sku="P1")
    price_list = price_list_create(actor=admin_actor, name="Wholesale")
    assert (price_list.currency, price_list.is_active) == ("EUR", True)
    item = price_list_item_set(
        actor=admin_actor, price_list_id=price_list.pk, product_id=product.pk, min_quantity="10", unit_price="8.5"
    )
    same = price_list_item_set(
        actor=admin_actor, price_list_id=price_list.pk, product_id=product.pk, min_quantity="10.000", unit_price="8.00"
    )
    assert same.pk == item.pk
    assert list(PriceListItem.objects.values_list("min_quantity", "unit_price")) == [(D("10.000"), D("8.00"))]
    price_list_update(actor=admin_actor, price_list_id=price_list.pk, name="Wholesale 2025", is_active=False)
    price_list_item_remove(actor=admin_actor, price_list_id=price_list.pk, item_id=item.pk)
    assert not PriceListItem.objects.exists()
    rows = list(
        AuditLog.objects.filter(object_type="catalog.pricelist", object_id=str(price_list.pk))
        .order_by("id")
        .values_list("action", "before", "after")
    )
    assert rows == [
        (
            "price_list.create",
            None,
            {"name": "Wholesale", "currency": "EUR", "is_active": True, "valid_from": None, "valid_to": None},
        ),
        ("price_list.item_set", None, {"product": "P1", "min_quantity": "10.000", "unit_price": "8.50"}),
        (
            "price_list.item_set",
            {"unit_price": "8.50"},
            {"product": "P1", "min_quantity": "10.000", "unit_price": "8.00"},
        ),
        ("price_list.update", {"name": "Wholesale", "is_active": True}, {"name": "Wholesale 2025", "is_active": False}),
        (
            "price_list.item_remove",
            {"unit_price": "8.00"},
            {"product": "P1", "min_quantity": "10.000", "unit_price": None},
        ),
    ]


def test_price_list_validation(catalog, other_company, admin_actor):
    from datetime import date

    price_list_create(actor=admin_actor, name="Retail")
    with pytest.raises(ValidationFailed) as info:
        price_list_create(
            actor=admin_actor, name="Retail", currency="XYZ", valid_from=date(2025, 2, 1), valid_to=date(2025, 1, 31)
        )
    assert info.value.fields == {
        "name": ["Another price list already has this name."],
        "currency": ["Choose a valid currency."],
        "valid_to": ["The end date is before the start date."],
    }
    price_list = PriceList.objects.get(name="Retail")
    foreign = product_build(other_company)
    with pytest.raises(ValidationFailed) as info:
        price_list_item_set(
            actor=admin_actor, price_list_id=price_list.pk, product_id=foreign.pk, unit_price="-1", min_quantity="1"
        )
    assert info.value.fields == {
        "product": ["Unknown product."],
        "unit_price": ["Enter a number that is not negative."],
    }
    assert not PriceListItem.objects.exists()
    foreign_list = price_list_create(actor=system_actor(other_company), name="Varejo")
    with pytest.raises(NotFound):
        price_list_item_set(actor=admin_actor, price_list_id=foreign_list.pk, product_id=foreign.pk, unit_price="1")
    assert not PriceListItem.objects.exists()


def test_price_list_currency_is_fixed_once_it_has_prices(catalog, admin_actor):
    product = product_build(catalog)
    price_list = price_list_create(actor=admin_actor, name="Export", currency="USD")
    price_list_item_set(actor=admin_actor, price_list_id=price_list.pk, product_id=product.pk, unit_price="3")
    with pytest.raises(ValidationFailed) as info:
        price_list_update(actor=admin_actor, price_list_id=price_list.pk, currency="EUR")
    assert info.value.fields == {"currency": ["Remove the prices first."]}
    assert PriceList.objects.get(pk=price_list.pk).currency == "USD"
