"""The fulfilment API through the test client with bearer tokens: the whole floor from pick list
to return, error shapes, and roles (403 and nothing changed)."""

import pytest
from django.test import Client

from retaguarda.core.choices import Area, Role
from retaguarda.core.testing import api_client_for, company_build, user_build
from retaguarda.fulfilment.models import PickList, Shipment
from retaguarda.fulfilment.testing import shipments_build, shipped_build
from retaguarda.sales.testing import order_build

from .conftest import MUG_BARCODE, YEAR, bins_of, everything, level, order_line_figures

URL = "/api/v1/fulfilment"


def _post(client, path, body=None):
    return client.post(URL + path, body if body is not None else {}, content_type="application/json")


def test_pick_list_to_shipped_through_the_api(floor, admin_api, admin_user, company):
    order = order_build(company, warehouse=floor.warehouse, lines=[(floor.mug, 7), (floor.tea, 2)])
    response = _post(admin_api, "/pick-lists", {"warehouse": "MAIN", "assigned_to_id": admin_user.pk})
    assert response.status_code == 201
    body = response.json()
    assert body["assigned_to"] == admin_user.username
    assert (body["number"], body["warehouse"], body["status"], body["actions"]) == (
        f"PL{YEAR}-000001",
        "MAIN",
        "open",
        ["complete", "cancel"],
    )
    assert body["progress"] == {"total": 3, "done": 0, "pending": 3, "short": 0}
    assert [(ln["sequence"], ln["location"], ln["sku"], ln["quantity"], ln["status"]) for ln in body["lines"]] == [
        (1, "MAIN/A-01", "MUG", "4.000", "pending"),
        (2, "MAIN/A-02", "TEA", "2.000", "pending"),
        (3, "MAIN/B-01", "MUG", "3.000", "pending"),
    ]
    assert body["lines"][0]["order_number"] == order.number
    assert body["lines"][0]["description"] == "Blue mug"
    first, second, third = (line["id"] for line in body["lines"])

    # A wrong product is a 422 naming the scanned code; nothing changes.
    before = everything(company)
    response = _post(admin_api, f"/pick-lines/{first}/confirm", {"code": "TEA"})
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "You scanned TEA, but this line is MUG.",
            "fields": {"code": ["You scanned TEA, but this line is MUG."]},
        }
    }
    assert everything(company) == before

    response = _post(admin_api, f"/pick-lines/{first}/confirm", {"code": MUG_BARCODE, "quantity": "3.5"})
    assert response.status_code == 200
    assert {k: response.json()[k] for k in ("status", "quantity", "quantity_picked")} == {
        "status": "short",
        "quantity": "4.000",
        "quantity_picked": "3.500",
    }
    assert _post(admin_api, f"/pick-lines/{second}/confirm", {"code": "TEA", "quantity": 2}).status_code == 200
    response = _post(admin_api, f"/pick-lists/{body['id']}/complete")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "lines_pending"
    response = _post(admin_api, f"/pick-lists/{body['id']}/confirm-all")
    assert response.status_code == 200
    assert response.json()["progress"] == {"total": 3, "done": 3, "pending": 0, "short": 1}
    response = _post(admin_api, f"/pick-lists/{body['id']}/complete")
    assert response.status_code == 200
    done = response.json()
    assert (done["status"], done["actions"]) == ("done", [])
    (shipment_ref,) = done["shipments"]
    assert (shipment_ref["number"], shipment_ref["order_number"], shipment_ref["status"]) == (
        f"SH{YEAR}-000001",
        order.number,
        "draft",
    )
    assert admin_api.get(f"{URL}/pick-lists/{body['id']}").json() == done
    shipment_id = shipment_ref["id"]

    response = _post(admin_api, f"/shipments/{shipment_id}/pack")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "no_parcels")
    response = _post(admin_api, f"/shipments/{shipment_id}/parcels", {"weight_kg": "0"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"weight": ["Enter a number greater than 0.000."]}
    response = _post(
        admin_api,
        f"/shipments/{shipment_id}/parcels",
        {"weight_kg": "3.25", "length_cm": "40", "width_cm": 30, "height_cm": "20.5"},
    )
    assert response.status_code == 201
    shipment = response.json()
    assert [{k: v for k, v in p.items() if k != "id"} for p in shipment["parcels"]] == [
        {"weight_kg": "3.250", "length_cm": "40.000", "width_cm": "30.000", "height_cm": "20.500"}
    ]
    assert [(ln["sku"], ln["location"], ln["quantity"]) for ln in shipment["lines"]] == [
        ("MUG", "MAIN/A-01", "3.500"),
        ("TEA", "MAIN/A-02", "2.000"),
        ("MUG", "MAIN/B-01", "3.000"),
    ]
    assert shipment["actions"] == ["pack", "cancel"]
    response = _post(admin_api, f"/shipments/{shipment_id}/pack")
    assert (response.status_code, response.json()["status"]) == (200, "packed")
    response = _post(admin_api, f"/shipments/{shipment_id}/ship", {"carrier": "MRW", "tracking_number": "MRW-77"})
    assert response.status_code == 200
    shipped = response.json()
    assert (shipped["status"], shipped["carrier"], shipped["tracking_number"], shipped["actions"]) == (
        "shipped",
        "MRW",
        "MRW-77",
        [],
    )
    assert shipped["shipped_at"] is not None
    # 0.5 written off at A-01, reserved again from the free stock; 6.5 of MUG shipped.
    assert level(floor.mug) == ("3.000", "0.500")
    assert bins_of(floor.mug) == {"MAIN/A-01": "0.000", "MAIN/B-01": "3.000"}
    assert order_line_figures(order.prefetched_lines[0]) == ("0.500", "6.500", "0.000")
    assert admin_api.get(f"{URL}/shipments/{shipment_id}").json() == shipped


def test_delivery_note_pdf(floor, admin_api, company):
    order_build(company, warehouse=floor.warehouse, lines=[(floor.mug, 1)])
    (shipment,) = shipments_build(company, warehouse=floor.warehouse, pack=True)
    response = admin_api.get(f"{URL}/shipments/{shipment.pk}/delivery-note.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="delivery-note-{shipment.number}.pdf"'
    assert response.content.startswith(b"%PDF")
    assert admin_api.get(f"{URL}/shipments/{10**6}/delivery-note.pdf").status_code == 404


def test_returns_through_the_api(floor, admin_api, company):
    order = order_build(company, warehouse=floor.warehouse, lines=[(floor.mug, 3), (floor.tea, 2)])
    shipped_build(company, warehouse=floor.warehouse)
    mug_line, tea_line = order.prefetched_lines
    before = everything(company)
    response = _post(
        admin_api,
        "/returns",
        {"order_id": order.pk, "lines": [{"line_id": mug_line.pk, "quantity": "9"}], "reason": "damaged"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "lines.0.quantity": ["At most 3.000 of MUG can come back (shipped, not yet returned)."]
    }
    assert everything(company) == before
    response = _post(
        admin_api,
        "/returns",
        {
            "order_id": order.pk,
            "lines": [{"line_id": mug_line.pk, "quantity": "1"}, {"line_id": tea_line.pk, "quantity": 2}],
            "reason": "not_as_described",
            "note": "Colour differs",
        },
    )
    assert response.status_code == 201
    created = response.json()
    assert (created["number"], created["status"], created["reason"], created["note"], created["actions"]) == (
        f"RT{YEAR}-000001",
        "registered",
        "not_as_described",
        "Colour differs",
        ["receive", "cancel"],
    )
    assert [(ln["line_id"], ln["sku"], ln["quantity"], ln["disposition"]) for ln in created["lines"]] == [
        (mug_line.pk, "MUG", "1.000", ""),
        (tea_line.pk, "TEA", "2.000", ""),
    ]
    response = _post(
        admin_api,
        f"/returns/{created['id']}/receive",
        {"dispositions": {str(mug_line.pk): "restock", str(tea_line.pk): "melt"}},
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        f"dispositions.{tea_line.pk}": ["Choose back to stock or scrap for TEA."]
    }
    response = _post(
        admin_api,
        f"/returns/{created['id']}/receive",
        {"dispositions": {str(mug_line.pk): "restock", str(tea_line.pk): "scrap"}},
    )
    assert response.status_code == 200
    received = response.json()
    assert (received["status"], received["location"]) == ("received", None)
    assert [ln["disposition"] for ln in received["lines"]] == ["restock", "scrap"]
    assert level(floor.mug) == ("8.000", "0.000")
    assert level(floor.tea) == ("6.000", "0.000")
    assert order_line_figures(mug_line) == ("0.000", "3.000", "1.000")
    assert order_line_figures(tea_line) == ("0.000", "2.000", "2.000")
    assert admin_api.get(f"{URL}/returns/{created['id']}").json() == received


@pytest.mark.parametrize(
    "body, fields",
    [
        ({}, {"warehouse": ["Choose the warehouse."]}),
        ({"warehouse": "MAIN", "order_ids": [0]}, {"order_ids": ["No such order."]}),
        ({"warehouse": "MAIN", "assigned_to_id": 10**6}, {"assigned_to": ["Choose a member of the company."]}),
        (
            {"warehouse_id": "x"},
            {"warehouse_id": ["Input should be a valid integer, unable to parse string as an integer"]},
        ),
    ],
)
def test_invalid_pick_list_requests_are_422_and_write_nothing(floor, admin_api, company, body, fields):
    order_build(company, warehouse=floor.warehouse, lines=[(floor.mug, 1)])
    before = everything(company)
    response = _post(admin_api, "/pick-lists", body)
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == fields
    assert everything(company) == before


def test_nothing_to_pick_is_a_409(floor, admin_api):
    response = _post(admin_api, "/pick-lists", {"warehouse_id": floor.warehouse.pk})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "nothing_to_pick"


def test_unknown_or_foreign_documents_are_404(floor, admin_api, company):
    order_build(company, warehouse=floor.warehouse, lines=[(floor.mug, 1)])
    (shipment,) = shipments_build(company, warehouse=floor.warehouse)
    other = company_build(country="BR")
    stranger = api_client_for(user_build(other, Role.ADMINISTRATOR), other)
    assert stranger.get(f"{URL}/shipments/{shipment.pk}").status_code == 404
    assert stranger.get(f"{URL}/pick-lists/{shipment.pick_list_id}").status_code == 404
    assert _post(stranger, f"/shipments/{shipment.pk}/pack").status_code == 404
    for path in ("/pick-lists/999999", "/shipments/999999", "/returns/999999", f"/pick-lists/{2**70}"):
        response = admin_api.get(URL + path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert Client().get(f"{URL}/shipments/{shipment.pk}").status_code == 401


@pytest.mark.parametrize("role", [Role.SALES, Role.SUPPORT, Role.FINANCE, Role.HR])
def test_roles_without_fulfilment_change_get_403_and_nothing_changes(floor, company, role):
    order = order_build(company, warehouse=floor.warehouse, lines=[(floor.mug, 2)])
    (shipment,) = shipments_build(company, warehouse=floor.warehouse, pack=True)
    pick_list = PickList.objects.get()
    client = api_client_for(user_build(company, role), company)
    before = everything(company)
    requests = [
        ("/pick-lists", {"warehouse_id": floor.warehouse.pk}),
        (f"/pick-lines/{pick_list.lines.first().pk}/confirm", {"code": "MUG"}),
        (f"/pick-lists/{pick_list.pk}/confirm-all", {}),
        (f"/pick-lists/{pick_list.pk}/complete", {}),
        (f"/shipments/{shipment.pk}/parcels", {"weight_kg": "1"}),
        (f"/shipments/{shipment.pk}/pack", {}),
        (f"/shipments/{shipment.pk}/ship", {"carrier": "UPS"}),
        ("/returns", {"order_id": order.pk, "lines": [], "reason": "other"}),
        ("/returns/1/receive", {"dispositions": {}}),
    ]
    for path, body in requests:
        response = _post(client, path, body)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "permission_denied"
    assert everything(company) == before
    # Sales and support still see the documents; finance and HR do not.
    expected = 200 if role in (Role.SALES, Role.SUPPORT) else 403
    assert client.get(f"{URL}/shipments/{shipment.pk}").status_code == expected
    assert client.get(f"{URL}/pick-lists/{pick_list.pk}").status_code == expected


def test_a_logistics_partner_ships_through_the_api(floor, company):
    order_build(company, warehouse=floor.warehouse, lines=[(floor.mug, 2)])
    (shipment,) = shipments_build(company, warehouse=floor.warehouse, pack=True)
    partner = api_client_for(user_build(company, Role.PARTNER, areas=[Area.WAREHOUSE]), company)
    response = _post(partner, f"/shipments/{shipment.pk}/ship", {"carrier": "DHL", "tracking_number": "JD01"})
    assert response.status_code == 200
    assert response.json()["status"] == "shipped"
    assert Shipment.objects.get().status == "shipped"
    assert level(floor.mug) == ("8.000", "0.000")
