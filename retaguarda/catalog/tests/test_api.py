"""The catalog API: listing with the page's filters, CRUD, errors, permissions, isolation."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from retaguarda.catalog.models import PriceListItem, Product, ProductTranslation
from retaguarda.catalog.testing import price_list_build, product_build
from retaguarda.core.models import AuditLog, OutboxEvent
from retaguarda.core.testing import api_client_for, user_build

D = Decimal
BASE = "/api/v1/catalog"
JSON = "application/json"


def _skus(response):
    return [item["sku"] for item in response.json()["items"]]


@pytest.fixture
def shelf(catalog):
    """Four products of a Spanish company, two with English names."""
    return [
        product_build(
            catalog,
            sku="MUG-1",
            name="Taza azul",
            list_price="12.50",
            barcode="4006381333931",
            translations={"en": {"name": "Blue mug"}},
        ),
        product_build(catalog, sku="MUG-2", name="Taza roja", list_price="9.90", tax_category="reduced"),
        product_build(
            catalog,
            sku="SRV-1",
            name="Grabado",
            kind="service",
            uom="h",
            list_price="30.00",
            translations={"en": {"name": "Engraving"}},
        ),
        product_build(catalog, sku="OLD-1", name="Taza vieja", list_price="1.00", is_active=False),
    ]


def test_product_list_shape_and_money_as_strings(shelf, admin_api):
    response = admin_api.get(f"{BASE}/products?sku=MUG-1", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    item.pop("created_at")
    item.pop("updated_at")
    assert item == {
        "id": shelf[0].pk,
        "sku": "MUG-1",
        "barcode": "4006381333931",
        "name": "Taza azul",
        "display_name": "Blue mug",
        "description": "",
        "translations": {"en": {"name": "Blue mug", "description": ""}},
        "kind": "goods",
        "uom": "un",
        "tax_category": "standard",
        "weight": None,
        "list_price": "12.50",
        "standard_cost": "0.00",
        "currency": "EUR",
        "ncm": "",
        "is_active": True,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["MUG-1", "MUG-2", "OLD-1", "SRV-1"]),
        ("?q=taza", ["MUG-1", "MUG-2", "OLD-1"]),
        ("?q=engraving", ["SRV-1"]),  # the name in the caller's language (English)
        ("?q=4006381333931", ["MUG-1"]),
        ("?q=mug-", ["MUG-1", "MUG-2"]),
        ("?sku=MUG", []),  # sku is exact
        ("?sku=MUG-2", ["MUG-2"]),
        ("?kind=service", ["SRV-1"]),
        ("?active=false", ["OLD-1"]),
        ("?active=true&kind=goods", ["MUG-1", "MUG-2"]),
        ("?tax_category=reduced", ["MUG-2"]),
        ("?tax_category=nothing", []),
        ("?sort=-price", ["SRV-1", "MUG-1", "MUG-2", "OLD-1"]),
        ("?sort=name", ["MUG-1", "SRV-1", "MUG-2", "OLD-1"]),  # Blue mug, Engraving, Taza roja, Taza vieja
        ("?sort=bogus", ["MUG-1", "MUG-2", "OLD-1", "SRV-1"]),
        ("?limit=2&offset=1", ["MUG-2", "OLD-1"]),
    ],
)
def test_product_list_filters_like_the_page(shelf, admin_api, query, expected):
    response = admin_api.get(f"{BASE}/products{query}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert _skus(response) == expected
    if "limit" in query:
        assert response.json()["count"] == 4


def test_product_list_refuses_an_unknown_kind(shelf, admin_api):
    response = admin_api.get(f"{BASE}/products?kind=robot")
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["kind"]


def test_product_list_query_count_does_not_grow_with_the_page(catalog, admin_api, django_assert_num_queries):
    for n in range(3):
        product_build(catalog, translations={"en": {"name": f"Thing {n}"}})
    admin_api.get(f"{BASE}/products")  # the token's first use stamps last_used_at
    # token + membership, count, page, translations
    with django_assert_num_queries(5):
        assert admin_api.get(f"{BASE}/products").json()["count"] == 3
    for n in range(20):
        product_build(catalog, translations={"en": {"name": f"More {n}"}, "pt-br": {"name": f"Mais {n}"}})
    with django_assert_num_queries(5):
        assert len(admin_api.get(f"{BASE}/products").json()["items"]) == 23


def test_product_post_creates_audits_and_emits(catalog, admin_api, admin_user):
    payload = {
        "sku": "TEA-1",
        "name": "Té verde",
        "translations": {"en": {"name": "Green tea", "description": "Loose leaf"}},
        "uom": "kg",
        "tax_category": "reduced",
        "barcode": "96385074",
        "weight": "1.2",
        "list_price": "24.9",
        "standard_cost": 11,
        "ncm": "0902.10.00",
    }
    response = admin_api.post(f"{BASE}/products", payload, content_type=JSON, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 201
    body = response.json()
    product = Product.objects.get(company=catalog, sku="TEA-1")
    assert body["id"] == product.pk
    assert (body["display_name"], body["weight"], body["list_price"], body["standard_cost"]) == (
        "Green tea",
        "1.200",
        "24.90",
        "11.00",
    )
    assert (body["barcode"], body["ncm"], body["uom"], body["tax_category"]) == (
        "96385074",
        "09021000",
        "kg",
        "reduced",
    )
    assert (product.list_price, product.weight) == (D("24.90"), D("1.200"))
    audit = AuditLog.objects.get(action="product.create", object_id=str(product.pk))
    assert audit.actor_id == admin_user.pk
    assert OutboxEvent.objects.filter(name="product.created", object_id=str(product.pk)).count() == 1


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"uom": "parsec"}, {"uom": ["Unknown unit of measure."]}),
        (
            {"barcode": "4006381333932"},
            {"barcode": ["Enter a valid EAN-13, EAN-8, UPC-A or GTIN-14 barcode (check the check digit)."]},
        ),
        ({"list_price": "-0.01"}, {"list_price": ["Enter a number that is not negative."]}),
        ({"list_price": "abc"}, {"list_price": ["Input should be a valid decimal"]}),
        ({"list_price": "1.999"}, {"list_price": ["Use at most 2 decimal places."]}),
        ({"sku": "MUG-1"}, {"sku": ["Another product already has this SKU."]}),
        ({"sku": ""}, {"sku": ["String should have at least 1 character"]}),
        ({"kind": "robot"}, {"kind": ["Input should be 'goods' or 'service'"]}),
        (
            {"translations": {"es": {"name": "Té"}}},
            {
                "translations.es": [
                    "The product's own name and description are in the company's language; edit them there."
                ]
            },
        ),
        ({"ncm": "12"}, {"ncm": ["An NCM code has 8 digits, such as 8471.30.12."]}),
    ],
)
def test_product_post_invalid_is_422_per_field_and_writes_nothing(shelf, admin_api, change, fields):
    payload = {"sku": "NEW-1", "name": "Nuevo", "list_price": "1.00"} | change
    products, audits, events = Product.objects.count(), AuditLog.objects.count(), OutboxEvent.objects.count()
    response = admin_api.post(f"{BASE}/products", payload, content_type=JSON)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["fields"] == fields
    assert (Product.objects.count(), AuditLog.objects.count(), OutboxEvent.objects.count()) == (
        products,
        audits,
        events,
    )


def test_product_detail_patch_and_delete(shelf, admin_api):
    mug = shelf[0]
    response = admin_api.get(f"{BASE}/products/{mug.pk}", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.status_code == 200
    assert (response.json()["sku"], response.json()["display_name"]) == ("MUG-1", "Taza azul")

    response = admin_api.patch(
        f"{BASE}/products/{mug.pk}",
        {"list_price": "13.00", "translations": {"pt-br": {"name": "Caneca azul"}}},
        content_type=JSON,
        HTTP_ACCEPT_LANGUAGE="pt-br",
    )
    assert response.status_code == 200
    assert (response.json()["list_price"], response.json()["display_name"], response.json()["name"]) == (
        "13.00",
        "Caneca azul",
        "Taza azul",
    )
    mug.refresh_from_db()
    assert (mug.list_price, mug.barcode, mug.is_active) == (D("13.00"), "4006381333931", True)
    assert ProductTranslation.objects.filter(product=mug).count() == 2

    response = admin_api.patch(f"{BASE}/products/{mug.pk}", {"weight": None, "barcode": ""}, content_type=JSON)
    assert response.status_code == 200
    assert (response.json()["weight"], response.json()["barcode"]) == (None, "")

    response = admin_api.delete(f"{BASE}/products/{mug.pk}")
    assert response.status_code == 204
    assert response.content == b""
    mug.refresh_from_db()
    assert mug.is_active is False
    assert list(
        AuditLog.objects.filter(object_type="catalog.product", object_id=str(mug.pk))
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "product.create",
        "product.update",
        "product.update",
        "product.archive",
    ]


def test_product_patch_invalid_changes_nothing(shelf, admin_api):
    mug = shelf[0]
    response = admin_api.patch(
        f"{BASE}/products/{mug.pk}", {"list_price": "-5", "name": "Renamed", "uom": "zz"}, content_type=JSON
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"list_price", "uom"}
    response = admin_api.patch(f"{BASE}/products/{mug.pk}", {"name": None}, content_type=JSON)
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["name"]
    mug.refresh_from_db()
    assert (mug.name, mug.list_price, mug.uom.code) == ("Taza azul", D("12.50"), "un")
    assert not AuditLog.objects.filter(action="product.update").exists()


def test_another_companys_product_is_404_and_untouched(shelf, other_company):
    foreign = product_build(other_company, sku="MUG-1", name="Caneca", list_price="5.00")
    api = api_client_for(user_build(shelf[0].company, "administrator"), shelf[0].company)
    for response in (
        api.get(f"{BASE}/products/{foreign.pk}"),
        api.patch(f"{BASE}/products/{foreign.pk}", {"name": "Mine"}, content_type=JSON),
        api.delete(f"{BASE}/products/{foreign.pk}"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    foreign.refresh_from_db()
    assert (foreign.name, foreign.is_active, foreign.list_price) == ("Caneca", True, D("5.00"))
    assert _skus(api.get(f"{BASE}/products?sku=MUG-1")) == ["MUG-1"]
    assert api.get(f"{BASE}/products?sku=MUG-1").json()["items"][0]["id"] == shelf[0].pk
    assert api.get(f"{BASE}/products").json()["count"] == 4


def _write_calls(product_id):
    return [
        ("post", f"{BASE}/products", {"sku": "NEW-1", "name": "Nuevo"}),
        ("patch", f"{BASE}/products/{product_id}", {"name": "Changed"}),
        ("delete", f"{BASE}/products/{product_id}", None),
    ]


def _call(client, method, url, payload):
    if payload is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, payload, content_type=JSON)


def _state():
    return (
        list(Product.objects.order_by("pk").values_list("sku", "name", "is_active")),
        AuditLog.objects.filter(object_type="catalog.product").count(),
        OutboxEvent.objects.count(),
    )


def test_anonymous_gets_401_everywhere_and_nothing_changes(shelf, client):
    mug = shelf[0]
    before = _state()
    price_list = price_list_build(mug.company, name="Retail")
    reads = [
        "/products",
        f"/products/{mug.pk}",
        "/units",
        "/tax-categories",
        "/price-lists",
        f"/price-lists/{price_list.pk}",
    ]
    for path in reads:
        assert client.get(BASE + path).status_code == 401
    for method, url, payload in _write_calls(mug.pk):
        response = _call(client, method, url, payload)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
    assert _state() == before


@pytest.mark.parametrize("role", ["hr", "partner"])
def test_roles_without_catalog_view_get_403(shelf, role):
    mug = shelf[0]
    api = api_client_for(user_build(mug.company, role), mug.company)
    before = _state()
    for path in ["/products", f"/products/{mug.pk}", "/units", "/tax-categories", "/price-lists"]:
        response = api.get(BASE + path)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    for method, url, payload in _write_calls(mug.pk):
        assert _call(api, method, url, payload).status_code == 403
    assert _state() == before


@pytest.mark.parametrize("role", ["warehouse", "finance", "support", "legal"])
def test_roles_with_view_only_read_but_cannot_write(shelf, role):
    mug = shelf[0]
    api = api_client_for(user_build(mug.company, role), mug.company)
    before = _state()
    assert api.get(f"{BASE}/products").json()["count"] == 4
    assert api.get(f"{BASE}/products/{mug.pk}").status_code == 200
    for method, url, payload in _write_calls(mug.pk):
        response = _call(api, method, url, payload)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    assert _state() == before


@pytest.mark.parametrize("role", ["administrator", "manager", "sales"])
def test_roles_with_catalog_change_can_write(shelf, role):
    mug = shelf[0]
    api = api_client_for(user_build(mug.company, role), mug.company)
    assert api.post(f"{BASE}/products", {"sku": "NEW-1", "name": "Nuevo"}, content_type=JSON).status_code == 201
    assert api.patch(f"{BASE}/products/{mug.pk}", {"name": "Changed"}, content_type=JSON).status_code == 200
    assert api.delete(f"{BASE}/products/{mug.pk}").status_code == 204
    mug.refresh_from_db()
    assert (mug.name, mug.is_active) == ("Changed", False)


def test_partner_with_warehouse_area_may_read_the_catalog(shelf):
    company = shelf[0].company
    api = api_client_for(user_build(company, "partner", areas=["warehouse"]), company)
    assert api.get(f"{BASE}/products").json()["count"] == 4
    assert api.post(f"{BASE}/products", {"sku": "X", "name": "X"}, content_type=JSON).status_code == 403


def test_units_and_tax_categories(catalog, admin_api):
    units = admin_api.get(f"{BASE}/units?limit=500").json()
    by_code = {u["code"]: u for u in units["items"]}
    assert units["count"] == len(by_code) == 12
    assert by_code["box12"] | {"name": ""} == {
        "code": "box12",
        "name": "",
        "category": "unit",
        "factor": "12",
        "rounding": "1",
    }
    assert [u["code"] for u in units["items"]] == [
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
    assert by_code["g"]["factor"] == "0.001"
    assert by_code["t"]["factor"] == "1000"
    taxes = admin_api.get(f"{BASE}/tax-categories").json()
    assert [t["code"] for t in taxes["items"]] == ["exempt", "reduced", "standard", "super-reduced"]


def test_price_lists(shelf, admin_api, other_company):
    mug, red = shelf[0], shelf[1]
    retail = price_list_build(
        mug.company,
        name="Retail",
        valid_from=date(2025, 1, 1),
        prices=[(mug, "10", "11.00"), (mug, "0", "12.00"), (red, "1", "9.00")],
    )
    price_list_build(mug.company, name="Old", is_active=False)
    foreign = price_list_build(other_company, name="Varejo")
    body = admin_api.get(f"{BASE}/price-lists").json()
    assert [p["name"] for p in body["items"]] == ["Old", "Retail"]
    assert admin_api.get(f"{BASE}/price-lists?active=true").json()["count"] == 1
    response = admin_api.get(f"{BASE}/price-lists/{retail.pk}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    detail = response.json()
    assert {k: detail[k] for k in ("name", "currency", "is_active", "valid_from", "valid_to")} == {
        "name": "Retail",
        "currency": "EUR",
        "is_active": True,
        "valid_from": "2025-01-01",
        "valid_to": None,
    }
    assert [(i["sku"], i["product_name"], i["min_quantity"], i["unit_price"]) for i in detail["items"]] == [
        ("MUG-1", "Blue mug", "0.000", "12.00"),
        ("MUG-1", "Blue mug", "10.000", "11.00"),
        ("MUG-2", "Taza roja", "1.000", "9.00"),
    ]
    assert admin_api.get(f"{BASE}/price-lists/{foreign.pk}").status_code == 404
    assert PriceListItem.objects.count() == 3


def test_openapi_documents_catalog_money_as_strings(db):
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/catalog/products" in schema["paths"]
    product_in = schema["components"]["schemas"]["ProductIn"]["properties"]
    assert product_in["list_price"]["type"] == "string"
    product_out = schema["components"]["schemas"]["ProductOut"]["properties"]
    assert product_out["list_price"]["type"] == "string"


@pytest.mark.parametrize(
    "query", ["?q=%00", "?q=mug%00", "?sku=%00", "?tax_category=%00", "?offset=99999999999999999999999"]
)
def test_odd_list_parameters_never_fail(shelf, admin_api, query):
    response = admin_api.get(f"{BASE}/products{query}")
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/products/99999999999999999999999", "/price-lists/99999999999999999999999"])
def test_ids_beyond_the_database_range_are_404(catalog, admin_api, path):
    assert admin_api.get(BASE + path).status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"sku": "A\x00", "name": "x"}, "sku"),
        ({"sku": "A", "name": "x\x00"}, "name"),
        ({"sku": "A", "name": "x", "uom": "\x00"}, "uom"),
        ({"sku": "A", "name": "x", "tax_category": "x\x00"}, "tax_category"),
        ({"sku": "A", "name": "x", "translations": {"en": {"name": "\x00"}}}, "translations.en.name"),
    ],
)
def test_nul_characters_are_refused_on_both_databases(catalog, admin_api, payload, field):
    response = admin_api.post(f"{BASE}/products", payload, content_type=JSON)
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == [field]
    assert not Product.objects.exists()
