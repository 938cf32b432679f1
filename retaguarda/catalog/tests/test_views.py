"""Catalog pages: lists with search, filters and htmx fragments, forms, archive, permissions."""

from decimal import Decimal

import pytest
from django.urls import reverse

from retaguarda.catalog.models import PriceList, PriceListItem, Product, ProductTranslation
from retaguarda.catalog.testing import price_list_build, product_build
from retaguarda.core.models import AuditLog, OutboxEvent
from retaguarda.core.testing import client_for, user_build

D = Decimal


@pytest.fixture
def shelf(catalog):
    return [
        product_build(
            catalog, sku="MUG-1", name="Taza azul", list_price="1234.50", translations={"en": {"name": "Blue mug"}}
        ),
        product_build(catalog, sku="MUG-2", name="Taza roja", list_price="9.90", tax_category="reduced"),
        product_build(catalog, sku="SRV-1", name="Grabado", kind="service", uom="h", list_price="30.00"),
        product_build(catalog, sku="OLD-1", name="Taza vieja", is_active=False),
    ]


def _rows(response):
    return [p.sku for p in response.context["object_list"]]


def test_product_list_shows_names_in_the_users_language_and_money_for_the_locale(shelf, catalog):
    client = client_for(user_build(catalog, "sales", language="en"))
    response = client.get(reverse("catalog:product_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Blue mug" in html and "Taza azul" not in html  # English user, English name
    assert "Taza roja" in html  # no English name: the company's Spanish one
    assert "€1,234.50" in html
    assert 'data-label="SKU"' in html
    client = client_for(user_build(catalog, "sales", language="es"))
    html = client.get(reverse("catalog:product_list")).content.decode()
    assert "Taza azul" in html and "Blue mug" not in html
    assert "1234,50\xa0€" in html or "1.234,50\xa0€" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["MUG-1", "MUG-2", "OLD-1", "SRV-1"]),
        ("?q=taza", ["MUG-1", "MUG-2", "OLD-1"]),
        ("?q=blue", ["MUG-1"]),
        ("?kind=service", ["SRV-1"]),
        ("?active=0", ["OLD-1"]),
        ("?active=1&tax_category=reduced", ["MUG-2"]),
        ("?sort=-price", ["MUG-1", "SRV-1", "OLD-1", "MUG-2"]),
        ("?kind=robot", ["MUG-1", "MUG-2", "OLD-1", "SRV-1"]),  # unknown values are ignored
        ("?q=taza%00&tax_category=%00", ["MUG-1", "MUG-2", "OLD-1"]),  # NUL never reaches PostgreSQL
    ],
)
def test_product_list_search_filters_and_sorting(shelf, admin_client, query, expected):
    response = admin_client.get(reverse("catalog:product_list") + query)
    assert response.status_code == 200
    assert _rows(response) == expected


def test_product_list_htmx_returns_only_the_table(shelf, admin_client):
    response = admin_client.get(reverse("catalog:product_list") + "?q=roja", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith("<table")
    assert "<html" not in html
    assert "MUG-2" in html and "MUG-1" not in html


def test_product_list_paginates(catalog, admin_client):
    for n in range(30):
        product_build(catalog, sku=f"P{n:02d}")
    response = admin_client.get(reverse("catalog:product_list") + "?page=2")
    assert _rows(response) == [f"P{n:02d}" for n in range(25, 30)]
    assert "Page 2 of 2" in response.content.decode()


def test_product_list_query_count_is_pinned(catalog, admin_client, django_assert_num_queries):
    for n in range(3):
        product_build(catalog, translations={"en": {"name": f"Thing {n}"}})
    url = reverse("catalog:product_list")
    # session, user, membership, count, page, tax categories, companies menu
    with django_assert_num_queries(7):
        assert admin_client.get(url).status_code == 200
    for n in range(22):
        product_build(catalog, translations={"en": {"name": f"More {n}"}})
    with django_assert_num_queries(7):
        assert len(admin_client.get(url).context["object_list"]) == 25
    with django_assert_num_queries(5):
        assert admin_client.get(url, HTTP_HX_REQUEST="true").status_code == 200


def test_product_detail_shows_timeline_and_prices(shelf, catalog, admin_client):
    mug = shelf[0]
    price_list_build(catalog, name="Mayorista", prices=[(mug, "10", "1000.00")])
    response = admin_client.get(reverse("catalog:product_detail", args=[mug.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Blue mug" in html
    assert "Mayorista" in html and "€1,000.00" in html
    assert "product.create" in html  # the audit timeline
    assert reverse("catalog:product_archive", args=[mug.pk]) in html


def test_product_detail_of_another_company_is_404(catalog, other_company, admin_client):
    foreign = product_build(other_company)
    assert admin_client.get(reverse("catalog:product_detail", args=[foreign.pk])).status_code == 404
    assert admin_client.get(reverse("catalog:product_edit", args=[foreign.pk])).status_code == 404
    response = admin_client.post(reverse("catalog:product_archive", args=[foreign.pk]))
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.is_active is True


def _form(**overrides):
    data = {
        "sku": "TEA-1",
        "barcode": "",
        "name": "Té verde",
        "description": "",
        "kind": "goods",
        "uom": "kg",
        "weight": "1.2",
        "tax_category": "reduced",
        "list_price": "24.90",
        "standard_cost": "10",
        "ncm": "",
        "is_active": "on",
        "name_en": "Green tea",
        "description_en": "",
        "name_pt_br": "",
        "description_pt_br": "",
    }
    data.update(overrides)
    return data


def test_product_create_form(catalog, admin_client):
    response = admin_client.get(reverse("catalog:product_create"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Name (Español)" in html and "Name (English)" in html and "Name (Português (Brasil))" in html
    response = admin_client.post(reverse("catalog:product_create"), _form())
    product = Product.objects.get(company=catalog, sku="TEA-1")
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:product_detail", args=[product.pk])
    assert (product.weight, product.list_price, product.uom.code, product.tax_category.code) == (
        D("1.200"),
        D("24.90"),
        "kg",
        "reduced",
    )
    assert dict(product.translations.values_list("language", "name")) == {"en": "Green tea"}
    assert AuditLog.objects.filter(action="product.create", object_id=str(product.pk)).count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"barcode": "4006381333932"}, "barcode", "Enter a valid EAN-13, EAN-8, UPC-A or GTIN-14 barcode"),
        ({"list_price": "-3"}, "list_price", "Ensure this value is greater than or equal to 0."),
        ({"sku": "MUG-1"}, "sku", "Another product already has this SKU."),
        ({"name_en": "", "description_en": "Only a description"}, "name_en", "A translated description needs"),
        ({"ncm": "123"}, "ncm", "An NCM code has 8 digits"),
        ({"uom": "parsec"}, "uom", "Select a valid choice."),
    ],
)
def test_product_create_form_shows_errors_and_writes_nothing(shelf, admin_client, overrides, field, message):
    products, audits = Product.objects.count(), AuditLog.objects.count()
    response = admin_client.post(reverse("catalog:product_create"), _form(**overrides))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    assert message in response.content.decode().replace("&#x27;", "'")
    assert (Product.objects.count(), AuditLog.objects.count()) == (products, audits)


def test_product_form_shows_every_error_at_once(catalog, admin_client):
    response = admin_client.post(reverse("catalog:product_create"), _form(sku="X 1", barcode="123", name="", ncm="12"))
    assert response.status_code == 422
    assert sorted(response.context["form"].errors) == ["barcode", "name", "ncm", "sku"]
    assert not Product.objects.exists()


def test_product_form_errors_are_in_the_users_language(catalog):
    client = client_for(user_build(catalog, "sales", language="es"))
    response = client.post(reverse("catalog:product_create"), _form(list_price="-3"))
    assert response.status_code == 422
    assert "Asegúrese de que este valor es mayor o igual a 0." in response.content.decode()


def test_product_edit_form(shelf, admin_client):
    mug = shelf[0]
    response = admin_client.get(reverse("catalog:product_edit", args=[mug.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    assert (form.initial["sku"], form.initial["name_en"], form.initial["list_price"]) == (
        "MUG-1",
        "Blue mug",
        D("1234.50"),
    )
    data = _form(
        sku="MUG-1", name="Taza azul", uom="un", tax_category="standard", weight="", list_price="1300", name_en=""
    )
    response = admin_client.post(reverse("catalog:product_edit", args=[mug.pk]), data)
    assert response.status_code == 302
    mug.refresh_from_db()
    assert (mug.list_price, mug.weight) == (D("1300.00"), None)
    assert not ProductTranslation.objects.filter(product=mug).exists()
    audit = AuditLog.objects.get(action="product.update", object_id=str(mug.pk))
    assert audit.after["list_price"] == "1300.00"


def test_archive_is_post_only(shelf, admin_client):
    mug = shelf[0]
    url = reverse("catalog:product_archive", args=[mug.pk])
    assert admin_client.get(url).status_code == 405
    mug.refresh_from_db()
    assert mug.is_active is True
    response = admin_client.post(url)
    assert response.status_code == 302
    mug.refresh_from_db()
    assert mug.is_active is False


def _state():
    return (
        list(Product.objects.order_by("pk").values_list("sku", "name", "is_active", "list_price")),
        list(PriceList.objects.order_by("pk").values_list("name", "is_active")),
        PriceListItem.objects.count(),
        AuditLog.objects.count(),
        OutboxEvent.objects.count(),
    )


def _write_requests(mug, price_list, item):
    return [
        (reverse("catalog:product_create"), _form()),
        (reverse("catalog:product_edit", args=[mug.pk]), _form(sku="MUG-1", name="Cambiado")),
        (reverse("catalog:product_archive", args=[mug.pk]), {}),
        (reverse("catalog:pricelist_create"), {"name": "Nueva", "currency": "EUR", "is_active": "on"}),
        (reverse("catalog:pricelist_edit", args=[price_list.pk]), {"name": "Renamed", "currency": "EUR"}),
        (
            reverse("catalog:pricelist_item_set", args=[price_list.pk]),
            {"sku": "MUG-1", "min_quantity": "1", "unit_price": "1"},
        ),
        (reverse("catalog:pricelist_item_remove", args=[price_list.pk, item.pk]), {}),
    ]


@pytest.fixture
def world(shelf, catalog):
    mug = shelf[0]
    price_list = price_list_build(catalog, name="Retail", prices=[(mug, "0", "1200.00")])
    return mug, price_list, price_list.items.get()


def test_anonymous_is_sent_to_log_in_and_nothing_changes(world, client):
    mug, price_list, item = world
    before = _state()
    reads = [
        reverse("catalog:product_list"),
        reverse("catalog:product_detail", args=[mug.pk]),
        reverse("catalog:pricelist_list"),
        reverse("catalog:pricelist_detail", args=[price_list.pk]),
        reverse("catalog:uom_list"),
    ]
    for url in reads:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:login"))
    for url, data in _write_requests(*world):
        response = client.post(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:login"))
    assert _state() == before


def test_hr_gets_403_on_every_catalog_page_and_nothing_changes(world, catalog):
    mug, price_list, item = world
    client = client_for(user_build(catalog, "hr"))
    before = _state()
    for url in [
        reverse("catalog:product_list"),
        reverse("catalog:product_detail", args=[mug.pk]),
        reverse("catalog:product_create"),
        reverse("catalog:pricelist_list"),
        reverse("catalog:pricelist_detail", args=[price_list.pk]),
        reverse("catalog:uom_list"),
    ]:
        assert client.get(url).status_code == 403
    for url, data in _write_requests(*world):
        assert client.post(url, data).status_code == 403
    assert _state() == before


@pytest.mark.parametrize("role", ["warehouse", "finance"])
def test_view_only_roles_read_but_get_403_on_changes(world, catalog, role):
    mug, price_list, item = world
    client = client_for(user_build(catalog, role))
    before = _state()
    for url in [
        reverse("catalog:product_list"),
        reverse("catalog:product_detail", args=[mug.pk]),
        reverse("catalog:pricelist_list"),
        reverse("catalog:pricelist_detail", args=[price_list.pk]),
        reverse("catalog:uom_list"),
    ]:
        response = client.get(url)
        assert response.status_code == 200
        assert reverse("catalog:product_create") not in response.content.decode()
    assert (
        reverse("catalog:product_archive", args=[mug.pk])
        not in client.get(reverse("catalog:product_detail", args=[mug.pk])).content.decode()
    )
    assert client.get(reverse("catalog:product_create")).status_code == 403
    for url, data in _write_requests(*world):
        assert client.post(url, data).status_code == 403
    assert _state() == before


@pytest.mark.parametrize("role", ["administrator", "manager", "sales"])
def test_change_roles_can_use_every_write_page(world, catalog, role):
    mug, price_list, item = world
    client = client_for(user_build(catalog, role))
    for url, data in _write_requests(*world):
        response = client.post(url, data)
        assert response.status_code == 302, (
            url,
            getattr(response, "context", None) and response.context.get("form").errors,
        )
    mug.refresh_from_db()
    assert (mug.name, mug.is_active) == ("Cambiado", False)
    assert Product.objects.filter(sku="TEA-1").exists()
    assert list(PriceList.objects.order_by("pk").values_list("name", flat=True)) == ["Renamed", "Nueva"]
    assert list(PriceListItem.objects.values_list("min_quantity", "unit_price")) == [(D("1.000"), D("1.00"))]


def test_price_list_pages(world, catalog, admin_client):
    mug, price_list, item = world
    response = admin_client.get(reverse("catalog:pricelist_list"))
    assert [p.name for p in response.context["object_list"]] == ["Retail"]
    response = admin_client.get(reverse("catalog:pricelist_detail", args=[price_list.pk]))
    html = response.content.decode()
    assert "MUG-1" in html and "Blue mug" in html and "€1,200.00" in html
    assert "price_list.item_set" in html
    response = admin_client.post(
        reverse("catalog:pricelist_item_set", args=[price_list.pk]),
        {"sku": "NOPE", "min_quantity": "1", "unit_price": "-1"},
    )
    assert response.status_code == 422
    assert response.context["item_form"].errors == {
        "unit_price": ["Ensure this value is greater than or equal to 0."],
    }
    response = admin_client.post(
        reverse("catalog:pricelist_item_set", args=[price_list.pk]),
        {"sku": "NOPE", "min_quantity": "1", "unit_price": "1"},
    )
    assert response.status_code == 422
    assert response.context["item_form"].errors == {"sku": ["Unknown product."]}
    assert PriceListItem.objects.count() == 1
    response = admin_client.post(
        reverse("catalog:pricelist_edit", args=[price_list.pk]),
        {"name": "Retail", "currency": "EUR", "valid_from": "2025-02-01", "valid_to": "2025-01-01"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {"valid_to": ["The end date is before the start date."]}


def test_price_list_of_another_company_is_404(world, other_company, admin_client):
    foreign = price_list_build(other_company, name="Varejo")
    assert admin_client.get(reverse("catalog:pricelist_detail", args=[foreign.pk])).status_code == 404
    assert (
        admin_client.post(
            reverse("catalog:pricelist_edit", args=[foreign.pk]), {"name": "x", "currency": "EUR"}
        ).status_code
        == 404
    )
    assert PriceList.objects.get(pk=foreign.pk).name == "Varejo"


def test_uom_list(catalog, admin_client):
    response = admin_client.get(reverse("catalog:uom_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-label="Factor">12</td>' in html
    assert 'data-label="Factor">0.001</td>' in html  # the gram, exactly
    assert [u.code for u in response.context["units"]] == [
        "un",
        "pair",
        "box6",
        "box12",
        "g",
        "kg",
        "t",
        "ml",
        "l",
        "cm",
        "m",
        "h",
    ]
