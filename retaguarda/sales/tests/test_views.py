"""The order pages: list, order page and its actions, the phone order form and its look-ups,
the dashboard widget; by role, with refusals that change nothing and pinned query counts."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog, OutboxEvent, Sequence
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import client_for, company_build, user_build
from retaguarda.inventory.models import Allocation, StockLevel
from retaguarda.inventory.testing import stocked_product, warehouse_build
from retaguarda.parties.models import Party
from retaguarda.parties.services import party_block
from retaguarda.parties.testing import party_build
from retaguarda.sales.models import SalesOrder, SalesOrderLine
from retaguarda.sales.services import sales_order_cancel, sales_order_shipped
from retaguarda.sales.testing import order_build

D = Decimal
LIST_URL = "/sales/orders/"
NEW_URL = "/sales/orders/new/"
CAN_ACT = [Role.SALES, Role.MANAGER, Role.ADMINISTRATOR]
VIEW_ONLY = [Role.WAREHOUSE, Role.FINANCE, Role.SUPPORT]
NO_ACCESS = [Role.HR, Role.LEGAL]


@pytest.fixture
def warehouse(company):
    return warehouse_build(company, code="MAIN", name="Main")


@pytest.fixture
def customer(company):
    return party_build(
        company,
        legal_name="Loja Azul SL",
        email="compras@azul.example",
        addresses=[
            {"kind": "billing", "street": "Gran Vía", "number": "1", "city": "Madrid", "country": "ES"},
            {
                "kind": "shipping",
                "street": "Calle Mayor",
                "number": "5",
                "district": "Centro",
                "city": "Madrid",
                "state": "Madrid",
                "postal_code": "28013",
                "country": "ES",
                "is_default": True,
            },
        ],
    )


@pytest.fixture
def mug(company, warehouse):
    return stocked_product(
        company,
        warehouse=warehouse,
        quantity="10",
        sku="MUG-BLUE",
        name="Blue mug",
        list_price=D("9.90"),
        barcode="4006381333931",
    )


@pytest.fixture
def teapot(company, warehouse):
    return stocked_product(
        company, warehouse=warehouse, quantity="4", sku="TEA-GREEN", name="Green teapot", list_price=D("24.00")
    )


def client_as(company, role):
    return client_for(user_build(company, role))


def state():
    """Everything a refused request must leave untouched."""
    return (
        sorted(SalesOrder.objects.values_list("pk", "status", "is_backordered", "amount_untaxed", "cancel_reason")),
        sorted(SalesOrderLine.objects.values_list("pk", "quantity", "unit_price", "quantity_allocated", "amount")),
        sorted(StockLevel.objects.values_list("pk", "on_hand", "allocated")),
        sorted(Allocation.objects.values_list("pk", "line_id", "quantity")),
        sorted(Sequence.objects.values_list("series", "last_number")),
        sorted(Party.objects.values_list("pk", "blocked_reason")),
        AuditLog.objects.count(),
        OutboxEvent.objects.count(),
    )


def html_of(response) -> str:
    return response.content.decode()


def text_of(html: str) -> str:
    """The page's visible text, tags dropped and spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def row_texts(html: str, table_id: str | None = None) -> list[str]:
    if table_id:
        html = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    body = re.search(r"<tbody[^>]*>(.*?)</tbody>", html, re.S).group(1)
    return [text_of(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def draft(company, warehouse, customer, *lines, **fields):
    return order_build(company, warehouse=warehouse, customer=customer, lines=lines, confirm=False, **fields)


def confirmed(company, warehouse, customer, *lines, **fields):
    return order_build(company, warehouse=warehouse, customer=customer, lines=lines, confirm=True, **fields)


def test_the_urls_are_named():
    assert reverse("sales:index") == "/sales/"
    assert reverse("sales:order_list") == LIST_URL
    assert reverse("sales:order_create") == NEW_URL
    assert reverse("sales:order_detail", args=[7]) == "/sales/orders/7/"
    assert reverse("sales:order_edit", args=[7]) == "/sales/orders/7/edit/"
    assert reverse("sales:order_confirm", args=[7]) == "/sales/orders/7/confirm/"
    assert reverse("sales:order_cancel", args=[7]) == "/sales/orders/7/cancel/"
    assert reverse("sales:order_close", args=[7]) == "/sales/orders/7/close/"


# --- list ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [(r, 200) for r in CAN_ACT + VIEW_ONLY] + [(r, 403) for r in NO_ACCESS])
def test_list_access_by_role(company, role, status):
    response = client_as(company, role).get(LIST_URL)
    assert response.status_code == status
    if status == 200:
        assert ('href="/sales/orders/new/"' in html_of(response)) is (role in CAN_ACT)


def test_list_needs_login(db):
    from django.test import Client

    response = Client().get(LIST_URL)
    assert (response.status_code, response.url) == (302, f"/login/?next={LIST_URL}")


def test_list_shows_orders_with_badges_and_amounts(company, admin_client, warehouse, customer, mug, teapot):
    first = confirmed(company, warehouse, customer, (mug, "3", "19.99"), external_ref="SHOP-1001")
    second = draft(company, warehouse, customer, (teapot, "1"))
    html = html_of(admin_client.get(LIST_URL))
    rows = row_texts(html)
    assert len(rows) == 2
    assert rows[0].startswith(second.number)
    assert "Loja Azul SL" in rows[0] and rows[0].endswith("Draft €24.00")
    assert rows[1].startswith(f"{first.number} SHOP-1001 Loja Azul SL")
    assert rows[1].endswith("Confirmed Not shipped Not invoiced €59.97")
    assert '<span class="badge ok">Confirmed</span>' in html
    assert '<span class="badge">Draft</span>' in html


def test_list_filters_search_and_sort(company, admin_client, warehouse, customer, mug, teapot):
    other = party_build(company, legal_name="Café Norte SL", email="pedidos@norte.example")
    a = confirmed(company, warehouse, customer, (mug, "2"), external_ref="SHOP-1")
    b = draft(company, warehouse, other, (teapot, "1"))
    c = confirmed(company, warehouse, other, (teapot, "3"))
    sales_order_cancel(actor=system_actor(company), order_id=c.pk, reason="")
    d = confirmed(company, warehouse, customer, (teapot, "3"), external_ref="SHOP-2")
    sales_order_shipped(
        actor=system_actor(company),
        order_id=d.pk,
        quantities={d.prefetched_lines[0].pk: D("1")},
        shipment_ref="SH-1",
    )
    company.allow_backorders = True
    company.save()
    e = confirmed(company, warehouse, other, (teapot, "5"), channel="api")
    SalesOrder.objects.filter(pk=a.pk).update(billing_status="invoiced")

    def numbers(query: str) -> list[str]:
        response = admin_client.get(f"{LIST_URL}?{query}")
        return [o.number for o in response.context["object_list"]]

    assert numbers("") == [e.number, d.number, c.number, b.number, a.number]
    assert numbers("status=draft") == [b.number]
    assert numbers("status=cancelled") == [c.number]
    assert numbers("fulfilment=partially_shipped") == [d.number]
    assert numbers("billing=invoiced") == [a.number]
    assert numbers("channel=api") == [e.number]
    assert numbers("backordered=yes") == [e.number]
    assert numbers(f"customer={customer.pk}") == [d.number, a.number]
    assert numbers("q=SHOP-2") == [d.number]
    assert numbers("q=norte") == [e.number, c.number, b.number]
    assert numbers(f"q={b.number}") == [b.number]
    assert numbers("q=pedidos@norte") == [e.number, c.number, b.number]
    assert numbers("sort=number") == [a.number, b.number, c.number, d.number, e.number]
    assert numbers("sort=-amount") == [e.number, d.number, c.number, b.number, a.number]  # 120, 72, 72, 24, 19.80
    # Unknown values are ignored rather than refused.
    assert numbers("status=lost&sort=nonsense") == [e.number, d.number, c.number, b.number, a.number]
    html = html_of(admin_client.get(f"{LIST_URL}?customer={customer.pk}"))
    assert f'<input type="hidden" name="customer" value="{customer.pk}">Loja Azul SL' in html
    assert '<span class="badge warn">Back-ordered</span>' in html_of(admin_client.get(LIST_URL))


def test_list_htmx_request_gets_the_table_only(company, admin_client, warehouse, customer, mug):
    order = draft(company, warehouse, customer, (mug, "1"))
    html = html_of(admin_client.get(f"{LIST_URL}?q={order.number}", HTTP_HX_REQUEST="true"))
    assert "<html" not in html
    assert html.lstrip().startswith('<table class="responsive">')
    assert order.number in html


def test_list_paginates(company, admin_client, warehouse, customer, mug):
    for _ in range(26):
        draft(company, warehouse, customer, (mug, "1"))
    first = admin_client.get(LIST_URL)
    assert len(first.context["object_list"]) == 25
    assert "Page 1 of 2" in html_of(first)
    second = admin_client.get(f"{LIST_URL}?page=2")
    assert len(second.context["object_list"]) == 1
    assert "26 records" in html_of(second)


def test_list_shows_only_the_companys_orders(company, admin_client, warehouse, customer, mug):
    other = company_build(country="BR")
    other_warehouse = warehouse_build(other, code="SP")
    other_product = stocked_product(other, warehouse=other_warehouse, quantity="5")
    foreign = order_build(other, warehouse=other_warehouse, lines=[(other_product, "1")])
    mine = draft(company, warehouse, customer, (mug, "1"))
    numbers = [o.number for o in admin_client.get(LIST_URL).context["object_list"]]
    assert numbers == [mine.number]
    assert foreign.number == mine.number  # each company numbers its own orders
    assert admin_client.get(f"/sales/orders/{foreign.pk}/").status_code == 404


def test_list_query_count_is_pinned(company, admin_client, warehouse, customer, mug, django_assert_num_queries):
    draft(company, warehouse, customer, (mug, "1"))
    # session, user, membership, count, the page of orders with customer and warehouse, companies
    # for the switcher
    with django_assert_num_queries(6):
        admin_client.get(LIST_URL)
    for _ in range(10):
        confirmed(company, warehouse, party_build(company), (mug, "0.5"))
    with django_assert_num_queries(6):
        response = admin_client.get(f"{LIST_URL}?status=confirmed&q=SO")
    assert len(response.context["object_list"]) == 10


# --- the order page --------------------------------------------------------------------------------------


def test_detail_shows_header_lines_totals_and_timeline(company, admin_client, warehouse, customer, mug, teapot):
    order = confirmed(
        company,
        warehouse,
        customer,
        (mug, "3", "19.99"),
        (teapot, "2", "0.3333"),
        external_ref="SHOP-77",
        ship_to={"name": "Ana Costa", "street": "Calle Mayor", "number": "5", "city": "Madrid", "postal_code": "28013"},
        notes="Leave at the door.",
    )
    line = order.prefetched_lines[0]
    sales_order_shipped(
        actor=system_actor(company), order_id=order.pk, quantities={line.pk: D("1")}, shipment_ref="SH-9"
    )
    response = admin_client.get(f"/sales/orders/{order.pk}/")
    assert response.status_code == 200
    html = html_of(response)
    text = text_of(html)
    assert f"Order {order.number}" in text
    assert "Confirmed Partially shipped Not invoiced" in text
    assert "Shop reference SHOP-77" in text
    assert f'<a href="/parties/{customer.pk}/">Loja Azul SL</a>' in html
    assert "Warehouse MAIN · Main" in text
    assert "Ana Costa Calle Mayor 5 28013 Madrid Spain" in text
    assert "Leave at the door." in text
    # SKU, description, ordered, reserved, back-ordered, shipped, returned, invoiced, price, discount, amount
    assert row_texts(html, "order-lines") == [
        "MUG-BLUE Blue mug 3 2 0 1 0 0 19.99 €59.97",
        "TEA-GREEN Green teapot 2 2 0 0 0 0 0.3333 €0.67",
    ]
    assert "Total before tax €60.64" in text
    # Part of it shipped: it can be closed, no longer cancelled.
    assert re.findall(rf'<form method="post" action="/sales/orders/{order.pk}/(\w+)/"', html) == ["close"]
    timeline = re.findall(r'<li><strong title="([\w.]+)">([^<]+)</strong>', html)
    assert timeline == [
        ("salesorder.ship", "Shipped"),
        ("salesorder.confirm", "Confirmed"),
        ("salesorder.create", "Created"),
    ]


@pytest.mark.parametrize(
    ("status", "buttons", "editable"),
    [
        ("draft", ["confirm", "cancel"], True),
        ("confirmed", ["close", "cancel"], True),
        ("cancelled", [], False),
        ("closed", [], False),
    ],
)
def test_detail_offers_the_actions_the_status_allows(
    company, admin_client, warehouse, customer, mug, status, buttons, editable
):
    order = (
        confirmed(company, warehouse, customer, (mug, "1"))
        if status != "draft"
        else draft(company, warehouse, customer, (mug, "1"))
    )
    if status in ("cancelled", "closed"):
        SalesOrder.objects.filter(pk=order.pk).update(status=status)
    html = html_of(admin_client.get(f"/sales/orders/{order.pk}/"))
    shown = re.findall(rf'<form method="post" action="/sales/orders/{order.pk}/(\w+)/"', html)
    assert sorted(shown) == sorted(buttons)
    assert (f'href="/sales/orders/{order.pk}/edit/"' in html) is editable
    assert ('name="reason"' in html) is ("cancel" in buttons)


@pytest.mark.parametrize("role", VIEW_ONLY)
def test_viewers_see_the_order_without_actions(company, warehouse, customer, mug, role):
    order = draft(company, warehouse, customer, (mug, "1"))
    response = client_as(company, role).get(f"/sales/orders/{order.pk}/")
    assert response.status_code == 200
    html = html_of(response)
    assert order.number in html
    assert "/confirm/" not in html and "/cancel/" not in html and "/edit/" not in html
    # Warehouse staff cannot open customers: the name is not a link for them.
    assert (f'href="/parties/{customer.pk}/"' in html) is (role != Role.WAREHOUSE)


@pytest.mark.parametrize("role", NO_ACCESS)
def test_detail_is_forbidden_without_sales_view(company, warehouse, customer, mug, role):
    order = draft(company, warehouse, customer, (mug, "1"))
    assert client_as(company, role).get(f"/sales/orders/{order.pk}/").status_code == 403


def test_detail_query_count_is_pinned(
    company, admin_client, warehouse, customer, mug, teapot, django_assert_num_queries
):
    order = confirmed(company, warehouse, customer, (mug, "1"))
    # session, user, membership, order with customer and warehouse, lines with products,
    # timeline, companies for the switcher
    with django_assert_num_queries(7):
        admin_client.get(f"/sales/orders/{order.pk}/")
    big = confirmed(company, warehouse, customer, *[(mug, "0.1")] * 8, *[(teapot, "0.1")] * 8)
    with django_assert_num_queries(7):
        response = admin_client.get(f"/sales/orders/{big.pk}/")
    assert len(response.context["lines"]) == 16


def test_unknown_order_is_404(admin_client):
    assert admin_client.get("/sales/orders/999999/").status_code == 404


# --- actions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", CAN_ACT)
def test_confirm_reserves_the_stock(company, warehouse, customer, mug, teapot, role):
    order = draft(company, warehouse, customer, (mug, "3"), (teapot, "4"))
    client = client_as(company, role)
    response = client.post(f"/sales/orders/{order.pk}/confirm/")
    assert (response.status_code, response.url) == (302, f"/sales/orders/{order.pk}/")
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert list(order.lines.values_list("quantity_allocated", flat=True)) == [D("3.000"), D("4.000")]
    assert StockLevel.objects.get(product=mug).allocated == D("3.000")
    page = client.get(response.url)
    assert f"Order {order.number} confirmed; its stock is reserved." in html_of(page)


@pytest.mark.parametrize("role", VIEW_ONLY + NO_ACCESS)
@pytest.mark.parametrize("action", ["confirm", "cancel", "close"])
def test_actions_are_refused_to_other_roles(company, warehouse, customer, mug, role, action):
    order = (
        draft(company, warehouse, customer, (mug, "3"))
        if action != "close"
        else confirmed(company, warehouse, customer, (mug, "3"))
    )
    client = client_as(company, role)
    before = state()
    response = client.post(f"/sales/orders/{order.pk}/{action}/", {"reason": "No"})
    assert response.status_code == 403
    assert state() == before


def test_actions_are_post_only(company, admin_client, warehouse, customer, mug):
    order = draft(company, warehouse, customer, (mug, "3"))
    before = state()
    for action in ("confirm", "cancel", "close"):
        assert admin_client.get(f"/sales/orders/{order.pk}/{action}/").status_code == 405
    assert state() == before


def test_confirm_without_stock_shows_each_short_line_and_changes_nothing(
    company, admin_client, warehouse, customer, mug, teapot
):
    order = draft(company, warehouse, customer, (mug, "12"), (teapot, "1"), (teapot, "5"))
    before = state()
    response = admin_client.post(f"/sales/orders/{order.pk}/confirm/")
    assert response.status_code == 409
    assert state() == before
    html = html_of(response)
    assert "Not enough stock for 2 lines." in html
    shortages = re.search(r'<section class="card" id="shortages".*?</section>', html, re.S).group(0)
    assert row_texts(shortages) == ["MUG-BLUE Blue mug 12 10", "TEA-GREEN Green teapot 5 3"]
    marked = re.findall(r'<tr id="line-(\d+)" class="short">', html)
    lines = order.prefetched_lines
    assert marked == [str(lines[0].pk), str(lines[2].pk)]


def test_with_back_orders_allowed_the_missing_part_waits_for_stock(company, admin_client, warehouse, customer, mug):
    company.allow_backorders = True
    company.save()
    order = draft(company, warehouse, customer, (mug, "12"))
    response = admin_client.post(f"/sales/orders/{order.pk}/confirm/", follow=True)
    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.status, order.is_backordered) == ("confirmed", True)
    html = html_of(response)
    assert "Part of the order waits for stock: it ships when the stock arrives." in html
    assert '<span class="badge warn">Back-ordered</span>' in html
    assert row_texts(html, "order-lines") == ["MUG-BLUE Blue mug 12 10 2 0 0 0 9.90 €118.80"]


@pytest.mark.parametrize("role", CAN_ACT)
def test_cancel_with_a_reason_releases_the_stock(company, warehouse, customer, mug, role):
    client = client_as(company, role)
    order = confirmed(company, warehouse, customer, (mug, "3"))
    response = client.post(f"/sales/orders/{order.pk}/cancel/", {"reason": "Customer called back"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == ("cancelled", "Customer called back")
    assert StockLevel.objects.get(product=mug).allocated == D("0.000")
    html = html_of(client.get(f"/sales/orders/{order.pk}/"))
    assert "Customer called back" in html
    assert f"Order {order.number} cancelled." in html


def test_a_refused_cancel_reason_is_shown_at_the_field(company, admin_client, warehouse, customer, mug):
    order = confirmed(company, warehouse, customer, (mug, "3"))
    before = state()
    response = admin_client.post(f"/sales/orders/{order.pk}/cancel/", {"reason": "x" * 201})
    assert response.status_code == 422
    assert state() == before
    assert response.context["cancel_form"].errors == {"reason": ["Use at most 200 characters."]}
    assert 'value="' + "x" * 201 + '"' in html_of(response)


@pytest.mark.parametrize("role", CAN_ACT)
def test_close_releases_what_is_left(company, warehouse, customer, mug, role):
    client = client_as(company, role)
    order = confirmed(company, warehouse, customer, (mug, "3"))
    response = client.post(f"/sales/orders/{order.pk}/close/")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "closed"
    assert StockLevel.objects.get(product=mug).allocated == D("0.000")


def test_an_action_the_status_does_not_allow_is_refused(company, admin_client, warehouse, customer, mug):
    order = draft(company, warehouse, customer, (mug, "3"))
    sales_order_cancel(actor=system_actor(company), order_id=order.pk)
    before = state()
    response = admin_client.post(f"/sales/orders/{order.pk}/confirm/")
    assert response.status_code == 409
    assert "This cannot be done while the document is Cancelled." in html_of(response)
    assert state() == before


def test_refusals_are_in_the_users_language(company, warehouse, customer, mug):
    order = draft(company, warehouse, customer, (mug, "30"))
    client = client_for(user_build(company, Role.SALES, language="es"))
    before = state()
    response = client.post(f"/sales/orders/{order.pk}/confirm/")
    assert response.status_code == 409
    assert state() == before
    assert response.context["error"] == (
        "Existencias insuficientes de MUG-BLUE: se solicitan 30.000 y hay 10.000 disponibles."
    )
    assert "Existencias insuficientes de MUG-BLUE" in html_of(response)


# --- the phone order form ------------------------------------------------------------------------------


def form_data(customer, warehouse, *rows, action="draft", **fields) -> dict:
    """The POST of the order form: rows given as (sku, quantity, unit_price, discount)."""
    data = {"customer": str(customer.pk) if customer else "", "warehouse": str(warehouse.pk), "action": action}
    data["line"] = []
    for key, row in enumerate(rows):
        sku, quantity, price, discount = (*row, "", "")[:4]
        data["line"].append(str(key * 3))  # keys are not positions: rows removed in the page leave gaps
        data[f"line-{key * 3}-sku"] = sku
        data[f"line-{key * 3}-quantity"] = quantity
        data[f"line-{key * 3}-unit_price"] = price
        data[f"line-{key * 3}-discount_percent"] = discount
    data.update(fields)
    return data


@pytest.mark.parametrize(("role", "status"), [(r, 200) for r in CAN_ACT] + [(r, 403) for r in VIEW_ONLY + NO_ACCESS])
def test_new_order_page_access(company, warehouse, role, status):
    assert client_as(company, role).get(NEW_URL).status_code == status


def test_new_order_page_defaults_to_the_first_warehouse(company, admin_client):
    warehouse_build(company, code="ZETA", name="Last")
    first = warehouse_build(company, code="ALFA", name="First")
    html = html_of(admin_client.get(NEW_URL))
    options = re.findall(r'<option value="(\d+)"( selected)?>([^<]+)</option>', html)
    assert [(label, bool(selected)) for _pk, selected, label in options if "·" in label] == [
        ("ALFA · First", True),
        ("ZETA · Last", False),
    ]
    assert options[0][0] == str(first.pk)
    assert 'name="action" value="draft"' in html and 'name="action" value="confirm"' in html


def test_new_order_for_a_customer_is_prefilled_with_the_shipping_address(company, admin_client, warehouse, customer):
    response = admin_client.get(f"{NEW_URL}?customer={customer.pk}")
    html = html_of(response)
    assert f'<input type="hidden" name="customer" value="{customer.pk}">' in html
    form = response.context["form"]
    assert {k: v for k, v in form.initial.items() if k.startswith("ship_to_")} == {
        "ship_to_name": "Loja Azul SL",
        "ship_to_street": "Calle Mayor",
        "ship_to_number": "5",
        "ship_to_complement": "",
        "ship_to_district": "Centro",
        "ship_to_city": "Madrid",
        "ship_to_state": "Madrid",
        "ship_to_postal_code": "28013",
        "ship_to_country": "ES",
    }
    assert 'name="ship_to_street" value="Calle Mayor"' in html


def test_save_as_draft_with_two_lines(company, warehouse, customer, mug, teapot):
    client = client_as(company, Role.SALES)
    data = form_data(
        customer,
        warehouse,
        ("MUG-BLUE", "3", "", "10"),
        ("TEA-GREEN", "2", "20,50"),
        promised_date="2031-05-20",
        ship_to_name="Ana Costa",
        ship_to_street="Calle Mayor",
        ship_to_city="Madrid",
        notes="Call before delivery.",
    )
    response = client.post(NEW_URL, data)
    order = SalesOrder.objects.get()
    assert (response.status_code, response.url) == (302, f"/sales/orders/{order.pk}/")
    assert (order.status, order.channel, order.customer_id, order.warehouse_id) == (
        "draft",
        "phone",
        customer.pk,
        warehouse.pk,
    )
    assert (str(order.promised_date), order.ship_to_name, order.ship_to_city, order.ship_to_country) == (
        "2031-05-20",
        "Ana Costa",
        "Madrid",
        "ES",
    )
    assert order.notes == "Call before delivery."
    # The list price when no price is typed; 3 × 9.90 less 10 % = 26.73; 2 × 20.50 = 41.00
    assert list(order.lines.values_list("product__sku", "quantity", "unit_price", "discount_percent", "amount")) == [
        ("MUG-BLUE", D("3.000"), D("9.9000"), D("10.00"), D("26.73")),
        ("TEA-GREEN", D("2.000"), D("20.5000"), D("0.00"), D("41.00")),
    ]
    assert order.amount_untaxed == D("67.73")
    assert StockLevel.objects.get(product=mug).allocated == D("0.000")
    assert f"Order {order.number} saved as a draft." in html_of(client.get(response.url))


@pytest.mark.parametrize("role", CAN_ACT)
def test_confirm_from_the_form_reserves_the_stock(company, warehouse, customer, mug, teapot, role):
    client = client_as(company, role)
    response = client.post(
        NEW_URL, form_data(customer, warehouse, ("MUG-BLUE", "3"), ("TEA-GREEN", "4"), action="confirm")
    )
    assert response.status_code == 302
    order = SalesOrder.objects.get()
    assert order.status == "confirmed"
    assert list(order.lines.values_list("quantity_allocated", flat=True)) == [D("3.000"), D("4.000")]
    assert (StockLevel.objects.get(product=mug).allocated, StockLevel.objects.get(product=teapot).allocated) == (
        D("3.000"),
        D("4.000"),
    )


def test_a_barcode_finds_the_product(company, admin_client, warehouse, customer, mug):
    response = admin_client.post(NEW_URL, form_data(customer, warehouse, ("4006381333931", "1")))
    assert response.status_code == 302
    assert list(SalesOrderLine.objects.values_list("product__sku", flat=True)) == ["MUG-BLUE"]


def test_errors_are_shown_at_their_rows_and_nothing_is_written(company, admin_client, warehouse, customer, mug):
    before = state()
    data = form_data(
        customer,
        warehouse,
        ("MUG-BLUE", "1"),
        ("NO-SUCH", "1"),
        ("MUG-BLUE", "0"),
        ("MUG-BLUE", "1", "abc", "120"),
        promised_date="20-05-2031",
    )
    response = admin_client.post(NEW_URL, data)
    assert response.status_code == 422
    assert state() == before
    rows = response.context["rows"]
    assert [row.sku for row in rows] == ["MUG-BLUE", "NO-SUCH", "MUG-BLUE", "MUG-BLUE"]
    assert [row.errors for row in rows] == [
        {},
        {"sku": ["No such product, or it is archived."]},
        {"quantity": ["Enter a quantity greater than zero."]},
        {"unit_price": ["Enter a number."], "discount_percent": ["Enter a number of at most 100."]},
    ]
    assert response.context["form"].errors == {"promised_date": ["Enter a date as YYYY-MM-DD."]}
    html = html_of(response)
    # Each message sits in its own row, under the input it is about.
    row_html = re.findall(r'<tr id="line-(\d+)" data-row>(.*?)</tr>', html, re.S)
    assert [key for key, _ in row_html][:4] == ["0", "3", "6", "9"]
    assert "No such product, or it is archived." in row_html[1][1]
    assert "Enter a quantity greater than zero." in row_html[2][1]
    assert 'name="line-9-unit_price" id="line-9-unit_price" value="abc"' in row_html[3][1]
    assert "Blue mug" in row_html[0][1] and "10 available in MAIN" in row_html[0][1]


def test_a_missing_customer_and_no_lines_are_refused(company, admin_client, warehouse):
    before = state()
    response = admin_client.post(NEW_URL, form_data(None, warehouse))
    assert response.status_code == 422
    assert state() == before
    assert response.context["form"].errors == {"customer": ["Choose the customer."]}
    assert response.context["line_errors"] == ["Add at least one line."]
    html = html_of(response)
    assert "Choose the customer." in html and "Add at least one line." in html
    assert len(response.context["rows"]) == 1  # a blank row to start again


def test_confirm_without_stock_shows_the_short_lines_and_keeps_what_was_typed(
    company, admin_client, warehouse, customer, mug, teapot
):
    before = state()
    data = form_data(customer, warehouse, ("MUG-BLUE", "2"), ("TEA-GREEN", "7", "22"), action="confirm")
    response = admin_client.post(NEW_URL, data)
    assert response.status_code == 409
    assert state() == before
    html = html_of(response)
    shortages = re.search(r'<section class="card" id="shortages".*?</section>', html, re.S).group(0)
    assert row_texts(shortages) == ["TEA-GREEN Green teapot 7 4"]
    rows = response.context["rows"]
    assert rows[1].errors == {"quantity": ["Not enough stock of TEA-GREEN: 7.000 requested, 4.000 available."]}
    assert (rows[1].quantity, rows[1].unit_price) == ("7", "22")
    assert rows[0].errors == {}
    # Saving the same rows as a draft works.
    data["action"] = "draft"
    assert admin_client.post(NEW_URL, data).status_code == 302
    assert SalesOrder.objects.get().status == "draft"


def test_a_blocked_customer_is_refused_with_the_reason(company, admin_client, warehouse, customer, mug):
    party_block(actor=system_actor(company), party_id=customer.pk, reason="Unpaid invoices")
    before = state()
    response = admin_client.post(NEW_URL, form_data(customer, warehouse, ("MUG-BLUE", "1")))
    assert response.status_code == 409
    assert state() == before
    assert response.context["form"].errors == {"customer": ["Unpaid invoices"]}
    assert "Blocked for new orders: Unpaid invoices" in html_of(response)


def test_another_companys_customer_or_warehouse_is_refused(company, admin_client, warehouse, customer, mug):
    other = company_build(country="BR")
    foreign_customer = party_build(other)
    foreign_warehouse = warehouse_build(other, code="SP")
    before = state()
    response = admin_client.post(NEW_URL, form_data(foreign_customer, foreign_warehouse, ("MUG-BLUE", "1")))
    assert response.status_code == 422
    assert state() == before
    assert response.context["form"].errors == {
        "customer": ["No such customer."],
        "warehouse": ["No such warehouse."],
    }


def test_control_characters_are_refused_not_a_500(company, admin_client, warehouse, customer, mug):
    before = state()
    # NUL characters in a row are dropped; elsewhere they are refused, and nothing is saved even
    # though the rest of the order is fine.
    data = form_data(customer, warehouse, ("MUG\x00-BLUE", "1\x00"), notes="Call\x00me", promised_date="2031\x00")
    response = admin_client.post(NEW_URL, data)
    assert response.status_code == 422
    assert state() == before
    assert [(row.sku, row.quantity, row.errors) for row in response.context["rows"]] == [("MUG-BLUE", "1", {})]
    assert response.context["form"].errors == {
        "notes": ["Null characters are not allowed."],
        "promised_date": ["Null characters are not allowed."],
    }
    data = form_data(customer, warehouse, ("\x00", "1"), ship_to_city="Ma\x07drid")
    response = admin_client.post(NEW_URL, data)
    assert response.status_code == 422
    assert state() == before
    assert [(row.sku, row.errors) for row in response.context["rows"]] == [
        ("", {"sku": ["No such product, or it is archived."]})
    ]
    assert response.context["form"].errors == {"ship_to_city": ["Remove the control characters from this text."]}
    order = draft(company, warehouse, customer, (mug, "1"))
    before = state()
    response = admin_client.post(
        f"/sales/orders/{order.pk}/edit/",
        {"line": ["0"], "line-0-sku": "MUG-BLUE", "line-0-quantity": "2", "notes": "\x00"},
    )
    assert response.status_code == 422
    assert state() == before
    assert lookup(admin_client, **{"line-4-sku": "MUG\x00"}).status_code == 200
    assert admin_client.get(reverse("sales:customer_lookup"), {"q": "azul\x00"}).status_code == 200
    assert admin_client.get(reverse("sales:customer_pick"), {"customer": "1\x00"}).status_code == 200
    assert admin_client.get(LIST_URL, {"q": "SO\x00", "customer": "x\x00", "page": "\x00"}).status_code == 200


@pytest.mark.parametrize("role", VIEW_ONLY + NO_ACCESS)
def test_other_roles_cannot_create(company, warehouse, customer, mug, role):
    client = client_as(company, role)
    before = state()
    response = client.post(NEW_URL, form_data(customer, warehouse, ("MUG-BLUE", "1")))
    assert response.status_code == 403
    assert state() == before


# --- edit ----------------------------------------------------------------------------------------------


def edit_data(order, rows, **fields) -> dict:
    """rows: (line id or "", sku, quantity, unit_price)."""
    data = {"line": [], "notes": order.notes, "promised_date": "", **{f"ship_to_{k}": "" for k in ("name", "city")}}
    for key, (line_id, sku, quantity, price) in enumerate(rows):
        data["line"].append(str(key))
        data[f"line-{key}-id"] = str(line_id)
        data[f"line-{key}-sku"] = sku
        data[f"line-{key}-quantity"] = quantity
        data[f"line-{key}-unit_price"] = price
    data.update(fields)
    return data


def test_edit_page_shows_the_lines_with_their_ids(company, admin_client, warehouse, customer, mug, teapot):
    order = confirmed(company, warehouse, customer, (mug, "3", "19.99"), (teapot, "1"), promised_date="2031-01-31")
    response = admin_client.get(f"/sales/orders/{order.pk}/edit/")
    assert response.status_code == 200
    rows = response.context["rows"]
    lines = order.prefetched_lines
    assert [(r.id, r.sku, r.quantity, r.unit_price) for r in rows] == [
        (str(lines[0].pk), "MUG-BLUE", "3", "19.99"),
        (str(lines[1].pk), "TEA-GREEN", "1", "24.00"),
    ]
    html = html_of(response)
    assert f'name="line-0-id" value="{lines[0].pk}"' in html
    assert 'value="MUG-BLUE" maxlength="64" size="14" autocomplete="off" data-sku' in html
    assert "7 available in MAIN" in html  # 10 on hand, 3 reserved by this order
    assert 'value="2031-01-31"' in html
    assert 'name="action" value="confirm"' not in html


@pytest.mark.parametrize("role", CAN_ACT)
def test_edit_keeps_changes_adds_and_removes_lines_and_reservations_follow(
    company, warehouse, customer, mug, teapot, role
):
    client = client_as(company, role)
    order = confirmed(company, warehouse, customer, (mug, "3"), (teapot, "1"))
    lines = order.prefetched_lines
    data = edit_data(
        order,
        [(lines[0].pk, "MUG-BLUE", "5", "9.90"), ("", "TEA-GREEN", "2", "")],
        notes="Second call",
        promised_date="2031-02-01",
    )
    response = client.post(f"/sales/orders/{order.pk}/edit/", data)
    assert (response.status_code, response.url) == (302, f"/sales/orders/{order.pk}/")
    order.refresh_from_db()
    assert (order.notes, str(order.promised_date), order.amount_untaxed) == ("Second call", "2031-02-01", D("97.50"))
    assert list(
        order.lines.order_by("position").values_list("pk", "product__sku", "quantity", "quantity_allocated")
    ) == [
        (lines[0].pk, "MUG-BLUE", D("5.000"), D("5.000")),
        (order.lines.get(position=3).pk, "TEA-GREEN", D("2.000"), D("2.000")),
    ]
    assert not SalesOrderLine.objects.filter(pk=lines[1].pk).exists()
    assert StockLevel.objects.get(product=teapot).allocated == D("2.000")


def test_edit_errors_are_shown_at_their_rows(company, admin_client, warehouse, customer, mug, teapot):
    order = confirmed(company, warehouse, customer, (mug, "3"), (teapot, "1"))
    lines = order.prefetched_lines
    before = state()
    data = edit_data(order, [(lines[0].pk, "MUG-BLUE", "3", ""), (lines[1].pk, "TEA-GREEN", "9", "")])
    response = admin_client.post(f"/sales/orders/{order.pk}/edit/", data)
    assert response.status_code == 409
    assert state() == before
    assert [r.errors for r in response.context["rows"]] == [
        {},
        {"quantity": ["Not enough stock of TEA-GREEN: 8.000 requested, 3.000 available."]},
    ]


def test_a_cancelled_order_cannot_be_edited(company, admin_client, warehouse, customer, mug):
    order = draft(company, warehouse, customer, (mug, "3"))
    sales_order_cancel(actor=system_actor(company), order_id=order.pk)
    response = admin_client.get(f"/sales/orders/{order.pk}/edit/")
    assert (response.status_code, response.url) == (302, f"/sales/orders/{order.pk}/")
    before = state()
    response = admin_client.post(f"/sales/orders/{order.pk}/edit/", edit_data(order, [("", "MUG-BLUE", "1", "")]))
    assert response.status_code == 302
    assert state() == before


@pytest.mark.parametrize("role", VIEW_ONLY + NO_ACCESS)
def test_other_roles_cannot_edit(company, warehouse, customer, mug, role):
    order = draft(company, warehouse, customer, (mug, "3"))
    client = client_as(company, role)
    assert client.get(f"/sales/orders/{order.pk}/edit/").status_code == 403
    before = state()
    response = client.post(f"/sales/orders/{order.pk}/edit/", edit_data(order, [("", "MUG-BLUE", "1", "")]))
    assert response.status_code == 403
    assert state() == before


# --- look-ups ------------------------------------------------------------------------------------------


def test_customer_lookup_by_name_tax_id_and_email(company, admin_client, customer):
    party_build(company, legal_name="Azul Proveedor SA", is_customer=False, is_supplier=True)
    party_build(company_build(country="BR"), legal_name="Azul Brasil Ltda")
    url = reverse("sales:customer_lookup")

    def found(q):
        return [c.pk for c in admin_client.get(url, {"q": q}).context["customers"]]

    assert found("azul") == [customer.pk]
    assert found(customer.tax_id) == [customer.pk]
    assert found("compras@azul") == [customer.pk]
    assert found("") == []
    html = html_of(admin_client.get(url, {"q": "azul"}))
    assert f'hx-get="/sales/lookup/customer/?customer={customer.pk}"' in html
    assert "No customer matches." in html_of(admin_client.get(url, {"q": "nobody"}))


def test_customer_pick_fills_the_ship_to_fields(company, admin_client, customer):
    html = html_of(admin_client.get(reverse("sales:customer_pick"), {"customer": customer.pk}))
    assert f'<input type="hidden" name="customer" value="{customer.pk}">' in html
    assert '<fieldset id="ship-to" class="card" hx-swap-oob="true">' in html
    assert 'name="ship_to_street" value="Calle Mayor"' in html
    assert 'name="ship_to_postal_code" value="28013"' in html
    assert '<option value="ES" selected>' in html
    assert '<ul id="customer-results" class="customer-results" hx-swap-oob="true"></ul>' in html


def test_customer_pick_refuses_suppliers_and_other_companies(company, admin_client):
    supplier = party_build(company, is_customer=False, is_supplier=True)
    foreign = party_build(company_build(country="BR"))
    for party in (supplier, foreign):
        html = html_of(admin_client.get(reverse("sales:customer_pick"), {"customer": party.pk}))
        assert "No such customer." in html
        assert 'name="customer"' not in html and "ship-to" not in html


def lookup(client, key="4", **params):
    return client.get(reverse("sales:product_lookup"), {"key": key, **params})


def test_product_lookup_by_sku_barcode_and_name(company, admin_client, warehouse, mug, teapot):
    confirmed(company, warehouse, party_build(company), (mug, "3"))
    for text in ("MUG-BLUE", "4006381333931", "blue", "mug"):
        response = lookup(admin_client, **{"line-4-sku": text, "warehouse": warehouse.pk})
        row = response.context["row"]
        assert (row.product.pk, row.available, row.unit_price) == (mug.pk, D("7.000"), "9.90"), text
    html = html_of(lookup(admin_client, **{"line-4-sku": "MUG-BLUE", "warehouse": warehouse.pk}))
    assert text_of(html) == "Blue mug List price €9.90 · 7 available in MAIN"
    assert '<input type="hidden" name="line-4-list_price" id="line-4-list_price" value="9.90">' in html
    assert (
        'id="line-4-unit_price" value="9.90" size="9" maxlength="20" aria-label="Unit price" hx-swap-oob="true">'
        in html
    )


def test_product_lookup_keeps_a_typed_price_and_follows_the_list_price(company, admin_client, warehouse, mug, teapot):
    kept = lookup(admin_client, **{"line-4-sku": "TEA-GREEN", "line-4-unit_price": "20", "line-4-list_price": "9.90"})
    assert "hx-swap-oob" not in html_of(kept)
    followed = lookup(
        admin_client, **{"line-4-sku": "TEA-GREEN", "line-4-unit_price": "9.90", "line-4-list_price": "9.90"}
    )
    assert 'id="line-4-unit_price" value="24.00"' in html_of(followed)
    # Without a warehouse there is no availability to show.
    assert "available" not in text_of(html_of(followed))


def test_product_lookup_offers_candidates_or_says_nothing_matches(company, admin_client, warehouse, mug, teapot):
    html = html_of(lookup(admin_client, **{"line-4-sku": "e", "warehouse": warehouse.pk}))
    assert re.findall(r'data-sku="([^"]+)"', html) == ["MUG-BLUE", "TEA-GREEN"]
    assert "hx-swap-oob" not in html
    html = html_of(lookup(admin_client, **{"line-4-sku": "chair"}))
    assert "No active product matches “chair”." in html
    assert html_of(lookup(admin_client, key="x", **{"line-x-sku": "MUG-BLUE"})).strip() == ""


@pytest.mark.parametrize("role", VIEW_ONLY + NO_ACCESS)
def test_lookups_are_for_who_may_take_orders(company, customer, role):
    client = client_as(company, role)
    assert client.get(reverse("sales:customer_lookup"), {"q": "azul"}).status_code == 403
    assert client.get(reverse("sales:customer_pick"), {"customer": customer.pk}).status_code == 403
    assert lookup(client, **{"line-4-sku": "MUG"}).status_code == 403


# --- dashboard ------------------------------------------------------------------------------------------


def test_the_sales_widget_counts_orders_by_what_they_wait_for(
    company, admin_client, warehouse, customer, mug, teapot, django_assert_num_queries
):
    draft(company, warehouse, customer, (mug, "1"))
    draft(company, warehouse, customer, (mug, "1"))
    confirmed(company, warehouse, customer, (mug, "1"))
    company.allow_backorders = True
    company.save()
    confirmed(company, warehouse, customer, (teapot, "6"))
    cancelled = draft(company, warehouse, customer, (mug, "1"))
    sales_order_cancel(actor=system_actor(company), order_id=cancelled.pk)
    other = company_build(country="BR")
    other_warehouse = warehouse_build(other, code="SP")
    order_build(
        other,
        warehouse=other_warehouse,
        lines=[(stocked_product(other, warehouse=other_warehouse), "1")],
        confirm=False,
    )
    # session, user, membership, three counts
    with django_assert_num_queries(6):
        html = html_of(admin_client.get("/dashboard/widgets/sales-orders/"))
    assert re.findall(r'<p class="stat"><a href="([^"]+)">([^<]+)</a></p>', html) == [
        ("/sales/orders/?status=draft", "2"),
        ("/sales/orders/?status=confirmed&amp;sort=promised", "2"),
        ("/sales/orders/?status=confirmed&amp;backordered=yes&amp;sort=promised", "1"),
    ]
    assert "orders to confirm" in html and "orders to ship" in html and "orders waiting for stock" in html


@pytest.mark.parametrize(("role", "status"), [(r, 200) for r in CAN_ACT + VIEW_ONLY] + [(r, 403) for r in NO_ACCESS])
def test_the_sales_widget_is_for_who_sees_orders(company, role, status):
    assert client_as(company, role).get("/dashboard/widgets/sales-orders/").status_code == status
