"""The storefront's order API: create with idempotency, 409s with details, 422s per field,
lookups by id and shop reference, cancel, edit; permissions."""

import json

import pytest

from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog, OutboxEvent
from retaguarda.core.testing import api_client_for, company_build, user_build
from retaguarda.inventory.models import StockLevel
from retaguarda.inventory.testing import stocked_product, warehouse_build
from retaguarda.parties.testing import party_build
from retaguarda.sales.models import SalesOrder, SalesOrderLine

URL = "/api/v1/sales/orders"


@pytest.fixture
def shop(company):
    main = warehouse_build(company, code="MAIN", name="Main")
    stocked_product(company, warehouse=main, quantity="5", sku="MUG", list_price="12.50")
    stocked_product(company, warehouse=main, quantity="1", sku="TEE")
    return {"main": main, "customer": party_build(company, legal_name="Ana Shop SL", email="ana@example.com")}


def post(client, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(URL, data=json.dumps(body), content_type="application/json", **headers)


def available(sku):
    row = StockLevel.objects.get(product__sku=sku)
    return str(row.on_hand - row.allocated)


def snapshot():
    return (
        SalesOrder.objects.count(),
        SalesOrderLine.objects.count(),
        sorted(StockLevel.objects.values_list("pk", "allocated")),
        AuditLog.objects.filter(action__startswith="salesorder").count(),
        OutboxEvent.objects.filter(name__startswith="order.").count(),
    )


def test_create_confirms_and_answers_the_order(shop, admin_api):
    body = {
        "external_ref": "WEB-1001",
        "customer": {"email": "ana@example.com"},
        "ship_to": {"name": "Ana", "street": "Calle Mayor", "number": "1", "city": "Madrid", "postal_code": "28013"},
        "lines": [{"sku": "MUG", "quantity": "2"}, {"sku": "TEE", "quantity": 1, "unit_price": "9.90"}],
    }
    response = post(admin_api, body, key="k-1")
    assert response.status_code == 201, response.content
    data = response.json()
    order = SalesOrder.objects.get()
    lines = list(order.lines.order_by("position"))
    assert data["id"] == order.pk and data["number"] == order.number
    assert (data["status"], data["fulfilment_status"], data["backordered"], data["amount_untaxed"]) == (
        "confirmed",
        "not_shipped",
        False,
        "34.90",
    )
    assert data["customer"] == {
        "id": shop["customer"].pk,
        "name": "Ana Shop SL",
        "tax_id": shop["customer"].tax_id,
        "email": "ana@example.com",
    }
    assert data["ship_to"]["country"] == "ES"
    assert [(ln["sku"], ln["quantity"], ln["unit_price"], ln["amount"], ln["allocated"]) for ln in data["lines"]] == [
        ("MUG", "2.000", "12.5000", "25.00", "2.000"),
        ("TEE", "1.000", "9.9000", "9.90", "1.000"),
    ]
    assert data["allocations"] == [
        {"line_id": lines[0].pk, "sku": "MUG", "warehouse": "MAIN", "quantity": "2.000"},
        {"line_id": lines[1].pk, "sku": "TEE", "warehouse": "MAIN", "quantity": "1.000"},
    ]
    assert data["actions"] == ["cancel", "close"]
    assert (available("MUG"), available("TEE")) == ("3.000", "0.000")
    # A retry with the same key answers the first result and writes nothing more.
    before = snapshot()
    again = post(admin_api, body, key="k-1")
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (201, data, "true")
    assert snapshot() == before


def test_insufficient_stock_is_a_409_listing_the_short_lines(shop, admin_api):
    before = snapshot()
    response = post(
        admin_api,
        {
            "customer_id": shop["customer"].pk,
            "lines": [{"sku": "MUG", "quantity": "2"}, {"sku": "TEE", "quantity": "3"}],
        },
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["details"]) == (
        "insufficient_stock",
        [{"line": str(error["details"][0]["line"]), "sku": "TEE", "requested": "3.000", "available": "1.000"}],
    )
    assert error["fields"] == {"lines.1.quantity": ["Not enough stock of TEE: 3.000 requested, 1.000 available."]}
    assert snapshot() == before


def test_blocked_customer_is_a_409(shop, admin_api):
    party = shop["customer"]
    party.blocked_reason = "Unpaid invoices"
    party.save()
    before = snapshot()
    response = post(admin_api, {"customer_id": party.pk, "lines": [{"sku": "MUG", "quantity": "1"}]})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "customer_blocked")
    assert snapshot() == before


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"customer_id": 0, "lines": [{"sku": "MUG", "quantity": "1"}]}, {"customer_id": ["No such customer."]}),
        (
            {"customer": {"tax_id": "12345678A"}, "lines": [{"sku": "MUG", "quantity": "1"}]},
            {"customer.tax_id": ["The check letter does not match: this is not a valid DNI."]},
        ),
        (
            {"customer_id": "CUSTOMER", "lines": [{"sku": "NOPE", "quantity": "-1"}]},
            None,
        ),
        ({"customer": {"email": "x@example.com"}, "lines": []}, {"lines": ["Add at least one line."]}),
        (
            {"customer": {"email": "x@example.com"}, "lines": [{"sku": "NOPE", "quantity": "0"}]},
            {
                "lines.0.sku": ["No such product, or it is archived."],
                "lines.0.quantity": ["Enter a quantity greater than zero."],
            },
        ),
    ],
)
def test_invalid_input_is_a_422_per_field_and_writes_nothing(shop, admin_api, body, fields):
    before = snapshot()
    response = post(admin_api, body)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    if fields is not None:
        assert error["fields"] == fields
    assert snapshot() == before


def test_get_by_id_and_by_shop_reference_and_cancel(shop, admin_api, company):
    created = post(
        admin_api,
        {"external_ref": "WEB-7", "customer_id": shop["customer"].pk, "lines": [{"sku": "MUG", "quantity": "4"}]},
    ).json()
    fetched = admin_api.get(f"{URL}/{created['id']}").json()
    assert fetched["lines"] == created["lines"], str((fetched["lines"], created["lines"]))
    assert fetched == created
    listed = admin_api.get(URL + "?external_ref=WEB-7").json()
    assert (listed["count"], [o["id"] for o in listed["items"]]) == (1, [created["id"]])
    assert admin_api.get(URL + "?external_ref=NONE").json() == {"items": [], "count": 0}
    response = admin_api.post(
        f"{URL}/{created['id']}/cancel", data=json.dumps({"reason": "Fraud check"}), content_type="application/json"
    )
    assert (response.status_code, response.json()["status"], response.json()["actions"]) == (200, "cancelled", [])
    assert available("MUG") == "5.000"
    again = admin_api.post(f"{URL}/{created['id']}/cancel")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "invalid_transition")
    # Another company's order is not found.
    other = company_build(country="BR")
    other_api = api_client_for(user_build(other, Role.ADMINISTRATOR), other)
    assert other_api.get(f"{URL}/{created['id']}").status_code == 404
    assert other_api.post(f"{URL}/{created['id']}/cancel").status_code == 404


def test_patch_reallocates(shop, admin_api):
    created = post(admin_api, {"customer_id": shop["customer"].pk, "lines": [{"sku": "MUG", "quantity": "1"}]}).json()
    line_id = created["lines"][0]["id"]
    response = admin_api.patch(
        f"{URL}/{created['id']}",
        data=json.dumps({"lines": [{"id": line_id, "sku": "MUG", "quantity": "5"}]}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["lines"][0]["allocated"], available("MUG")) == ("5.000", "0.000")
    response = admin_api.patch(
        f"{URL}/{created['id']}",
        data=json.dumps({"lines": [{"id": line_id, "sku": "MUG", "quantity": "6"}]}),
        content_type="application/json",
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "insufficient_stock")
    assert available("MUG") == "0.000"


@pytest.mark.parametrize("role, status", [(Role.WAREHOUSE, 403), (Role.FINANCE, 403), (Role.HR, 403)])
def test_roles_without_sales_change_cannot_create(shop, company, role, status):
    client = api_client_for(user_build(company, role), company)
    before = snapshot()
    response = post(client, {"customer_id": shop["customer"].pk, "lines": [{"sku": "MUG", "quantity": "1"}]})
    assert (response.status_code, response.json()["error"]["code"]) == (status, "permission_denied")
    assert snapshot() == before


def test_hr_cannot_read_orders_but_warehouse_can(shop, company, admin_api):
    created = post(admin_api, {"customer_id": shop["customer"].pk, "lines": [{"sku": "MUG", "quantity": "1"}]}).json()
    hr = api_client_for(user_build(company, Role.HR), company)
    warehouse = api_client_for(user_build(company, Role.WAREHOUSE), company)
    assert hr.get(f"{URL}/{created['id']}").status_code == 403
    assert hr.get(URL).status_code == 403
    response = warehouse.get(f"{URL}/{created['id']}")
    assert (response.status_code, response.json()["actions"]) == (200, [])


def test_unauthenticated_is_a_401(shop, client):
    assert post(client, {"lines": []}).status_code == 401


@pytest.mark.parametrize("count", [1, 3, 30])
def test_order_intake_through_http_takes_a_fixed_number_of_queries(
    company, admin_api, count, django_assert_num_queries
):
    main = warehouse_build(company, code="MAIN")
    customer = party_build(company)
    skus = [stocked_product(company, warehouse=main, quantity="100").sku for _ in range(count)]
    post(admin_api, {"customer_id": customer.pk, "lines": [{"sku": skus[0], "quantity": "1"}]}, key="warm")
    body = {"customer_id": customer.pk, "lines": [{"sku": s, "quantity": "1"} for s in skus]}
    with django_assert_num_queries(24):
        response = post(admin_api, body, key=f"n-{count}")
    assert response.status_code == 201
