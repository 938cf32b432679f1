"""Fulfilment pages: lists (htmx fragments, pinned query counts), the picking screen and its
scan loop, shipments, returns; refusals shown with their status and nothing changed; roles."""

import re

import pytest
from django.test import Client

from retaguarda.core.choices import Area, Role
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import client_for, user_build
from retaguarda.fulfilment import services
from retaguarda.fulfilment.models import CustomerReturn, PickList, Shipment
from retaguarda.fulfilment.testing import shipments_build, shipped_build
from retaguarda.sales.testing import order_build

from .conftest import MUG_BARCODE, YEAR, everything, level, order_line_figures


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def _pick_list(floor, *lines):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=list(lines))
    pick_list = services.pick_list_create(actor=system_actor(floor.company), warehouse_id=floor.warehouse.pk)
    return order, pick_list


# --- lists ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("orders", [1, 4])
@pytest.mark.parametrize(
    "url, page_queries, fragment_queries",
    [("/fulfilment/pick-lists/", 7, 5), ("/fulfilment/shipments/", 7, 5), ("/fulfilment/returns/", 6, 5)],
)
def test_list_pages_take_a_fixed_number_of_queries(
    floor, admin_client, django_assert_num_queries, orders, url, page_queries, fragment_queries
):
    for _ in range(orders):
        order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 1)])
        shipped_build(floor.company, warehouse=floor.warehouse)
        services.return_register(
            actor=system_actor(floor.company),
            order_id=order.pk,
            lines=[{"line_id": order.prefetched_lines[0].pk, "quantity": "1"}],
            reason="other",
        )
    with django_assert_num_queries(page_queries):
        response = admin_client.get(url)
    assert response.status_code == 200
    assert len(response.context["object_list"]) == orders
    with django_assert_num_queries(fragment_queries):
        fragment = admin_client.get(url, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()


def test_lists_show_their_rows_and_filter(floor, admin_client):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 1)])
    (shipment,) = shipped_build(floor.company, warehouse=floor.warehouse)
    html = admin_client.get("/fulfilment/pick-lists/").content.decode()
    assert f"PL{YEAR}-000001" in html
    assert "Done" in html
    html = admin_client.get("/fulfilment/shipments/?q=" + order.number).content.decode()
    assert shipment.number in html and f"TRK{shipment.pk}" in html
    html = admin_client.get("/fulfilment/shipments/?status=draft").content.decode()
    assert shipment.number not in html
    assert "No shipments match." in html


# --- pick lists and picking -------------------------------------------------------------------------


def test_create_a_pick_list_from_the_form(floor, admin_client):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 1)])
    other = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.tea, 1)])
    assert admin_client.get("/fulfilment/pick-lists/new/").status_code == 200
    response = admin_client.post(
        "/fulfilment/pick-lists/new/",
        {"warehouse": floor.warehouse.pk, "scope": "chosen", "orders": ""},
    )
    assert response.status_code == 422
    assert "Give at least one order number." in response.content.decode()
    response = admin_client.post(
        "/fulfilment/pick-lists/new/",
        {"warehouse": floor.warehouse.pk, "scope": "chosen", "orders": "SO-NOPE"},
    )
    assert response.status_code == 422
    assert "No such order: SO-NOPE." in response.content.decode()
    assert PickList.objects.count() == 0
    response = admin_client.post(
        "/fulfilment/pick-lists/new/",
        {"warehouse": floor.warehouse.pk, "scope": "chosen", "orders": other.number},
    )
    pick_list = PickList.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/fulfilment/pick-lists/{pick_list.pk}/pick/"
    assert list(pick_list.lines.values_list("order_id", flat=True)) == [other.pk]
    assert pick_list.assigned_to_id is None  # the box was not ticked
    response = admin_client.post(
        "/fulfilment/pick-lists/new/", {"warehouse": floor.warehouse.pk, "scope": "all", "assign_to_me": "on"}
    )
    assert response.status_code == 302
    mine = PickList.objects.order_by("pk").last()
    assert list(mine.lines.values_list("order_id", flat=True)) == [order.pk]
    assert mine.assigned_to.username == response.wsgi_request.user.username
    response = admin_client.post("/fulfilment/pick-lists/new/", {"warehouse": floor.warehouse.pk, "scope": "all"})
    assert response.status_code == 409
    assert "Nothing to pick in MAIN" in response.content.decode()


def test_picking_screen_shows_one_line_at_a_time_with_an_autofocused_scan_input(floor, admin_client):
    order, pick_list = _pick_list(floor, (floor.mug, 7))
    response = admin_client.get(f"/fulfilment/pick-lists/{pick_list.pk}/pick/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<p class="pick-bin" data-testid="pick-bin">MAIN/A-01</p>' in html
    assert re.search(r'<input id="pick-code" name="code"[^>]* autofocus', html)
    assert 'id="pick-quantity" name="quantity" type="text" inputmode="decimal" class="pick-quantity" value="4"' in html
    assert "0 of 2 lines" in html


def test_scan_loop_with_htmx_moves_to_the_next_line(floor, admin_client):
    _order, pick_list = _pick_list(floor, (floor.mug, 7))
    first, second = pick_list.lines.order_by("sort_key")
    response = admin_client.post(
        f"/fulfilment/pick-lines/{first.pk}/confirm/", {"code": MUG_BARCODE, "quantity": "4"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<div id="picking"')
    assert "Picked 4.000 × MUG." in html
    assert '<p class="pick-bin" data-testid="pick-bin">MAIN/B-01</p>' in html
    assert "1 of 2 lines" in html
    # A wrong scan: the same line again with the error (200 so htmx swaps it in), nothing changed.
    before = everything(floor.company)
    response = admin_client.post(
        f"/fulfilment/pick-lines/{second.pk}/confirm/", {"code": "TEA", "quantity": "3"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "You scanned TEA, but this line is MUG." in html
    assert '<p class="pick-bin" data-testid="pick-bin">MAIN/B-01</p>' in html
    assert everything(floor.company) == before
    # The short path: the quantity actually found.
    response = admin_client.post(
        f"/fulfilment/pick-lines/{second.pk}/confirm/",
        {"code": "mug", "quantity": "2,5", "short": "1"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "Short pick: 2.500 of 3.000 × MUG; 0.500 missing reported." in html
    assert "All lines picked" in html
    second.refresh_from_db()
    assert (second.status, str(second.quantity_picked)) == ("short", "2.500")


def test_pick_without_htmx_redirects_and_refusals_are_422(floor, admin_client):
    _order, pick_list = _pick_list(floor, (floor.mug, 2))
    line = pick_list.lines.get()
    before = everything(floor.company)
    response = admin_client.post(f"/fulfilment/pick-lines/{line.pk}/confirm/", {"code": "NOPE"})
    assert response.status_code == 422
    assert "You scanned NOPE, but this line is MUG." in response.content.decode()
    response = admin_client.post(f"/fulfilment/pick-lines/{line.pk}/confirm/", {"code": "MUG", "short": "1"})
    assert response.status_code == 422
    assert "Enter the quantity you found." in response.content.decode()
    assert everything(floor.company) == before
    response = admin_client.post(f"/fulfilment/pick-lines/{line.pk}/confirm/", {"code": "MUG", "quantity": ""})
    assert response.status_code == 302
    assert response["Location"] == f"/fulfilment/pick-lists/{pick_list.pk}/pick/"
    line.refresh_from_db()
    assert line.status == "picked"
    assert admin_client.get(f"/fulfilment/pick-lines/{line.pk}/confirm/").status_code == 405
    assert admin_client.post("/fulfilment/pick-lines/999999/confirm/", {"code": "MUG"}).status_code == 404


def test_pick_list_detail_confirm_all_and_complete(floor, admin_client):
    order, pick_list = _pick_list(floor, (floor.mug, 2), (floor.tea, 1))
    url = f"/fulfilment/pick-lists/{pick_list.pk}/"
    assert admin_client.get(url).status_code == 200
    before = everything(floor.company)
    response = admin_client.post(url + "complete/")
    assert response.status_code == 409
    assert "2 lines are still to pick (next: MUG at MAIN/A-01)." in response.content.decode()
    assert everything(floor.company) == before
    response = admin_client.post(url + "confirm-all/")
    assert (response.status_code, response["Location"]) == (302, url)
    response = admin_client.post(url + "complete/")
    assert response.status_code == 302
    assert _messages(response)[-1] == f"Pick list {pick_list.number} is done: 1 shipment to pack."
    shipment = Shipment.objects.get()
    html = admin_client.get(url).content.decode()
    assert f'href="/fulfilment/shipments/{shipment.pk}/"' in html
    assert admin_client.post(url + "cancel/").status_code == 409


# --- shipments ----------------------------------------------------------------------------------


def test_parcels_pack_ship_and_delivery_note_from_the_shipment_page(floor, admin_client):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 2)])
    (shipment,) = shipments_build(floor.company, warehouse=floor.warehouse)
    url = f"/fulfilment/shipments/{shipment.pk}/"
    assert admin_client.get(url).status_code == 200
    before = everything(floor.company)
    assert admin_client.post(url + "pack/").status_code == 409
    response = admin_client.post(url + "parcels/", {"weight": "0", "length": "", "width": "", "height": ""})
    assert response.status_code == 422
    assert "Enter a number greater than 0.000." in response.content.decode()
    assert everything(floor.company) == before
    response = admin_client.post(url + "parcels/", {"weight": "1.250", "length": "30", "width": "", "height": ""})
    assert (response.status_code, response["Location"]) == (302, url)
    parcel = shipment.parcels.get()
    assert (str(parcel.weight), str(parcel.length), str(parcel.width)) == ("1.250", "30.000", "0.000")
    assert admin_client.post(url + "pack/").status_code == 302
    response = admin_client.post(url + "ship/", {"carrier": "", "tracking_number": ""})
    assert response.status_code == 422
    assert admin_client.post(url + "ship/", {"carrier": "Correos", "tracking_number": "PQ123ES"}).status_code == 302
    shipment.refresh_from_db()
    assert (shipment.status, shipment.tracking_number) == ("shipped", "PQ123ES")
    assert level(floor.mug) == ("8.000", "0.000")
    assert order_line_figures(order.prefetched_lines[0]) == ("0.000", "2.000", "0.000")
    html = admin_client.get(url).content.decode()
    assert f"/fulfilment/returns/new/?order={order.number}" in html
    pdf = admin_client.get(url + "delivery-note.pdf")
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF")


def test_remove_reopen_and_cancel_a_shipment(floor, admin_client):
    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 2)])
    (shipment,) = shipments_build(floor.company, warehouse=floor.warehouse, pack=True)
    url = f"/fulfilment/shipments/{shipment.pk}/"
    parcel = shipment.parcels.get()
    assert admin_client.post(url + f"parcels/{parcel.pk}/remove/").status_code == 409
    assert admin_client.post(url + "reopen/").status_code == 302
    assert admin_client.post(url + f"parcels/{parcel.pk}/remove/").status_code == 302
    assert shipment.parcels.count() == 0
    assert admin_client.post(url + "cancel/").status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == "cancelled"


# --- returns --------------------------------------------------------------------------------------


def test_register_and_receive_a_return_from_the_pages(floor, admin_client):
    order = order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 3), (floor.tea, 2)])
    shipped_build(floor.company, warehouse=floor.warehouse)
    mug_line, tea_line = order.prefetched_lines
    assert admin_client.get("/fulfilment/returns/new/").status_code == 200
    assert admin_client.get("/fulfilment/returns/new/?order=SO-NOPE").status_code == 404
    response = admin_client.get(f"/fulfilment/returns/new/?order={order.number}")
    assert response.status_code == 200
    assert f'name="line_{mug_line.pk}"' in response.content.decode()
    data = {"order_number": order.number, "reason": "damaged", "note": "", f"line_{mug_line.pk}": "4"}
    before = everything(floor.company)
    response = admin_client.post("/fulfilment/returns/new/", data)
    assert response.status_code == 422
    assert "At most 3.000 of MUG can come back (shipped, not yet returned)." in response.content.decode()
    response = admin_client.post("/fulfilment/returns/new/", {**data, f"line_{mug_line.pk}": ""})
    assert response.status_code == 422
    assert "Enter the quantity coming back of at least one line." in response.content.decode()
    assert everything(floor.company) == before
    response = admin_client.post(
        "/fulfilment/returns/new/", {**data, f"line_{mug_line.pk}": "1", f"line_{tea_line.pk}": "2"}
    )
    customer_return = CustomerReturn.objects.get()
    assert response["Location"] == f"/fulfilment/returns/{customer_return.pk}/"
    url = response["Location"]
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url + "receive/", {f"disposition_{mug_line.pk}": "restock", f"disposition_{tea_line.pk}": "bin"}
    )
    assert response.status_code == 422
    assert customer_return.lines.filter(disposition="").count() == 2
    response = admin_client.post(
        url + "receive/",
        {
            f"disposition_{mug_line.pk}": "restock",
            f"disposition_{tea_line.pk}": "scrap",
            "location": floor.bins["A-01"].pk,
        },
    )
    assert response.status_code == 302
    customer_return.refresh_from_db()
    assert (customer_return.status, customer_return.location_id) == ("received", floor.bins["A-01"].pk)
    assert order_line_figures(mug_line) == ("0.000", "3.000", "1.000")
    assert order_line_figures(tea_line) == ("0.000", "2.000", "2.000")
    assert admin_client.post(url + "cancel/").status_code == 409
    html = admin_client.get("/fulfilment/returns/").content.decode()
    assert customer_return.number in html


# --- roles and the dashboard -----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.SALES, Role.SUPPORT, Role.FINANCE, Role.HR])
def test_pages_refuse_changes_without_fulfilment_change(floor, company, role):
    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 2)])
    (shipment,) = shipments_build(floor.company, warehouse=floor.warehouse)
    pick_list = PickList.objects.get()
    client = client_for(user_build(company, role))
    before = everything(company)
    for url, data in [
        ("/fulfilment/pick-lists/new/", {"warehouse": floor.warehouse.pk, "scope": "all"}),
        (f"/fulfilment/pick-lists/{pick_list.pk}/confirm-all/", {}),
        (f"/fulfilment/pick-lines/{pick_list.lines.first().pk}/confirm/", {"code": "MUG"}),
        (f"/fulfilment/shipments/{shipment.pk}/parcels/", {"weight": "1"}),
        (f"/fulfilment/shipments/{shipment.pk}/pack/", {}),
        (f"/fulfilment/shipments/{shipment.pk}/cancel/", {}),
        ("/fulfilment/returns/new/", {"order_number": "x"}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert everything(company) == before
    viewer = role in (Role.SALES, Role.SUPPORT)
    for url in ("/fulfilment/pick-lists/", f"/fulfilment/shipments/{shipment.pk}/", "/fulfilment/returns/"):
        assert client.get(url).status_code == (200 if viewer else 403), url
    if viewer:
        html = client.get(f"/fulfilment/shipments/{shipment.pk}/").content.decode()
        assert "Add parcel" not in html


@pytest.mark.parametrize("role, areas", [(Role.WAREHOUSE, ()), (Role.PARTNER, (Area.WAREHOUSE,))])
def test_warehouse_and_logistics_partner_use_the_pages(floor, company, role, areas):
    _order, pick_list = _pick_list(floor, (floor.mug, 1))
    client = client_for(user_build(company, role, areas=areas))
    html = client.get("/").content.decode()
    assert '<a href="/fulfilment/pick-lists/">Pick lists</a>' in html
    line = pick_list.lines.get()
    assert client.post(f"/fulfilment/pick-lines/{line.pk}/confirm/", {"code": "MUG"}).status_code == 302
    assert client.post(f"/fulfilment/pick-lists/{pick_list.pk}/complete/").status_code == 302


def test_anonymous_users_are_sent_to_log_in(db):
    response = Client().get("/fulfilment/pick-lists/")
    assert (response.status_code, response["Location"]) == (302, "/login/?next=/fulfilment/pick-lists/")


def test_dashboard_widget_counts_what_is_to_pick_and_to_ship(floor, admin_client, role_user):
    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 1)])
    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.tea, 1)])
    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.tea, 1)])
    shipments_build(floor.company, warehouse=floor.warehouse, order_ids=None, pack=False)  # all three
    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 1), (floor.tea, 1)])
    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 1)])
    services.pick_list_create(actor=system_actor(floor.company), warehouse_id=floor.warehouse.pk)
    order_build(floor.company, warehouse=floor.warehouse, lines=[(floor.mug, 1)])
    response = admin_client.get("/dashboard/widgets/fulfilment/")
    assert response.status_code == 200
    stats = re.findall(
        r'<p class="stat"><a href="([^"]+)">(\d+)</a></p>\s*<p class="muted">([^<]+)</p>', response.content.decode()
    )
    assert stats == [
        ("/fulfilment/pick-lists/new/", "1", "orders ready for a pick list"),
        ("/fulfilment/pick-lists/?status=open", "3", "lines to pick"),
        ("/fulfilment/shipments/", "3", "shipments to pack or ship"),
    ]
    assert client_for(role_user(Role.HR)).get("/dashboard/widgets/fulfilment/").status_code == 403
