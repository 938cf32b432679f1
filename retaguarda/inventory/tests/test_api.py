"""The availability API: per SKU and warehouse, allocations, isolation, limits, permissions."""

import pytest
from django.test import Client

from retaguarda.catalog.testing import product_build
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import api_client_for, company_build, user_build
from retaguarda.inventory.models import StockBalance
from retaguarda.inventory.services import stock_allocate, stock_receive
from retaguarda.inventory.testing import stocked_product, warehouse_build

URL = "/api/v1/inventory/availability"


def _query(skus):
    return "?" + "&".join(f"sku={s}" for s in skus)


@pytest.fixture
def stock(company):
    """SKU A: 10 in MAIN (3.5 allocated) and 1 in NORTH; B: 2.5 in NORTH; EMPTY: no stock.

    Another company holds 99 of its own A.
    """
    main = warehouse_build(company, code="MAIN", name="Main warehouse")
    north = warehouse_build(company, code="NORTH", name="North depot")
    a = stocked_product(company, warehouse=main, quantity="10", sku="A")
    stocked_product(company, warehouse=north, quantity="2.5", sku="B")
    actor = system_actor(company)
    stock_receive(actor=actor, product_id=a.pk, warehouse_id=north.pk, quantity="1", unit_cost="1")
    stock_allocate(
        actor=actor, product_id=a.pk, warehouse_id=main.pk, quantity="3.5", reference_type="order", reference_id="1"
    )
    product_build(company, sku="EMPTY")
    other = company_build(country="BR")
    other_wh = warehouse_build(other, code="MAIN", name="Other company's main")
    stocked_product(other, warehouse=other_wh, quantity="99", sku="A")
    stocked_product(other, warehouse=other_wh, quantity="5", sku="OTHER-ONLY")
    return {"main": main, "north": north}


def test_availability_per_sku_and_warehouse(stock, admin_api):
    response = admin_api.get(URL + _query(["B", "A", "EMPTY", "NOPE", "OTHER-ONLY", "A"]))
    assert response.status_code == 200
    assert response.json() == [
        {
            "sku": "B",
            "available": "2.500",
            "warehouses": [{"code": "NORTH", "name": "North depot", "available": "2.500"}],
        },
        {
            "sku": "A",
            "available": "7.500",
            "warehouses": [
                {"code": "MAIN", "name": "Main warehouse", "available": "6.500"},
                {"code": "NORTH", "name": "North depot", "available": "1.000"},
            ],
        },
        {"sku": "EMPTY", "available": "0.000", "warehouses": []},
        {"sku": "NOPE", "available": "0.000", "warehouses": []},
        {"sku": "OTHER-ONLY", "available": "0.000", "warehouses": []},
    ]


def test_allocations_reduce_availability(stock, company, admin_api):
    a = StockBalance.objects.get(company=company, product__sku="A", location__warehouse=stock["main"]).product
    stock_allocate(
        actor=system_actor(company),
        product_id=a.pk,
        warehouse_id=stock["main"].pk,
        quantity="6.5",
        reference_type="order",
        reference_id="2",
    )
    body = admin_api.get(URL + "?sku=A").json()
    assert body == [
        {
            "sku": "A",
            "available": "1.000",
            "warehouses": [
                {"code": "MAIN", "name": "Main warehouse", "available": "0.000"},
                {"code": "NORTH", "name": "North depot", "available": "1.000"},
            ],
        }
    ]


def test_another_company_sees_only_its_own_stock(stock):
    other = company_build(country="BR")
    wh = warehouse_build(other, code="MAIN", name="Theirs")
    stocked_product(other, warehouse=wh, quantity="4", sku="A")
    api = api_client_for(user_build(other, Role.ADMINISTRATOR), other)
    assert api.get(URL + "?sku=A&sku=B").json() == [
        {"sku": "A", "available": "4.000", "warehouses": [{"code": "MAIN", "name": "Theirs", "available": "4.000"}]},
        {"sku": "B", "available": "0.000", "warehouses": []},
    ]


def test_blank_and_nul_skus(stock, admin_api):
    response = admin_api.get(URL + "?sku=%20A%20&sku=&sku=X%00Y")
    assert response.status_code == 200
    assert [(item["sku"], item["available"]) for item in response.json()] == [("A", "7.500"), ("X\x00Y", "0.000")]


@pytest.mark.parametrize("query", ["", "?sku=", "?sku=%20&sku="])
def test_at_least_one_sku_is_required(stock, admin_api, query):
    response = admin_api.get(URL + query)
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "The request has invalid fields.",
            "fields": {"sku": ["Give at least one SKU."]},
        }
    }


def test_at_most_100_skus(stock, admin_api):
    assert admin_api.get(URL + _query([f"S{n}" for n in range(100)])).status_code == 200
    response = admin_api.get(URL + _query([f"S{n}" for n in range(101)]))
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"sku": ["Give at most 100 SKUs per request."]}
    # Repeats count once.
    assert admin_api.get(URL + _query([f"S{n}" for n in range(100)] + ["S0"])).status_code == 200


def test_query_count_does_not_grow_with_the_skus(stock, admin_api, django_assert_num_queries):
    admin_api.get(URL + "?sku=A")  # the token's first use stamps last_used_at
    # token + membership, availability, warehouse names
    with django_assert_num_queries(4):
        assert len(admin_api.get(URL + "?sku=A").json()) == 1
    with django_assert_num_queries(4):
        assert len(admin_api.get(URL + _query(["A", "B", "EMPTY"] + [f"S{n}" for n in range(97)])).json()) == 100
    # No stock anywhere: the warehouse names are not asked for.
    with django_assert_num_queries(3):
        assert len(admin_api.get(URL + _query([f"S{n}" for n in range(100)])).json()) == 100


def test_anonymous_gets_401(stock):
    audit_rows = AuditLog.objects.count()
    response = Client().get(URL + "?sku=A")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert AuditLog.objects.count() == audit_rows


@pytest.mark.parametrize(
    ("role", "areas", "status"),
    [
        ("hr", (), 403),
        ("partner", ("accounting",), 403),
        ("partner", ("warehouse",), 200),
        ("sales", (), 200),
        ("warehouse", (), 200),
    ],
)
def test_inventory_view_is_required(stock, company, role_user, role, areas, status):
    api = api_client_for(role_user(role, areas=areas), company)
    response = api.get(URL + "?sku=A")
    assert response.status_code == status
    if status == 403:
        assert response.json()["error"]["code"] == "permission_denied"
    else:
        assert response.json()[0]["available"] == "7.500"


def test_limit_errors_speak_the_callers_language(stock, admin_api):
    response = admin_api.get(URL + _query([f"S{n}" for n in range(101)]), HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"sku": ["Informe no máximo 100 SKUs por requisição."]}
    response = admin_api.get(URL, HTTP_ACCEPT_LANGUAGE="es")
    assert response.json()["error"]["fields"] == {"sku": ["Indique al menos un SKU."]}
