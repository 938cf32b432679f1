"""Inventory pages: stock, alerts, moves, the stock forms, warehouses and cycle counts; their
filters, pinned query counts, errors on the forms in the user's language, and role checks."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from retaguarda.core.choices import Area, Role
from retaguarda.core.models import AuditLog
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import client_for, company_build, user_build
from retaguarda.inventory.models import (
    CycleCount,
    CycleCountLine,
    Location,
    StockBalance,
    StockLevel,
    StockMove,
    Warehouse,
)
from retaguarda.inventory.services import (
    AllocationRequest,
    cycle_count_create,
    location_create,
    stock_allocate_lines,
    stock_level_settings_set,
    stock_receive,
)
from retaguarda.inventory.testing import stocked_product, warehouse_build

D = Decimal


@pytest.fixture
def shop(company):
    """MAIN with bin A-01 and NORTH; A (10 at 2.5, 4 reserved, reorder point 6), B (3 at 1.1,
    maximum 2), C (out: 1 received, 1 reserved), D only in NORTH."""
    actor = system_actor(company)
    main = warehouse_build(company, code="MAIN", name="Main")
    north = warehouse_build(company, code="NORTH", name="North")
    bin_ = location_create(actor=actor, warehouse_id=main.pk, code="A-01", name="Aisle A")
    a = stocked_product(company, warehouse=main, quantity="10", unit_cost="2.5", sku="A", name="Apple")
    b = stocked_product(company, warehouse=main, quantity="3", unit_cost="1.1", sku="B", name="Banana")
    c = stocked_product(company, warehouse=main, quantity="1", unit_cost="4", sku="C", name="Cherry")
    d = stocked_product(company, warehouse=north, quantity="7", unit_cost="1", sku="D", name="Date")
    stock_level_settings_set(actor=actor, product_id=a.pk, warehouse_id=main.pk, reorder_point="6", maximum="")
    stock_level_settings_set(actor=actor, product_id=b.pk, warehouse_id=main.pk, reorder_point="", maximum="2")
    stock_allocate_lines(
        actor=actor,
        warehouse=main,
        reference_type="sales.order",
        reference_id="1",
        lines=[
            AllocationRequest(product_id=a.pk, sku="A", quantity=D("4.000"), line_id="1"),
            AllocationRequest(product_id=c.pk, sku="C", quantity=D("1.000"), line_id="2"),
        ],
    )
    return {"main": main, "north": north, "bin": bin_, "a": a, "b": b, "c": c, "d": d}


def rows(response):
    return [
        (
            level.product.sku,
            level.warehouse.code,
            level.on_hand,
            level.allocated,
            level.available_qty,
            level.state,
            level.average_cost,
            level.value,
        )
        for level in response.context["object_list"]
    ]


def skus(response):
    return [level.product.sku for level in response.context["object_list"]]


def stock_state():
    return (
        sorted(StockLevel.objects.values_list("pk", "on_hand", "allocated", "reorder_point", "maximum")),
        sorted(StockBalance.objects.values_list("pk", "on_hand")),
        StockMove.objects.count(),
        Warehouse.objects.count(),
        Location.objects.count(),
        sorted(CycleCount.objects.values_list("pk", "status")),
        sorted(CycleCountLine.objects.values_list("pk", "counted")),
        AuditLog.objects.count(),
    )


# --- stock -------------------------------------------------------------------------------------


def test_stock_list_shows_each_product_in_each_warehouse(shop, admin_client):
    response = admin_client.get(reverse("inventory:stock_list"))
    assert response.status_code == 200
    assert rows(response) == [
        ("A", "MAIN", D("10.000"), D("4.000"), D("6.000"), "low", D("2.5000"), D("25.00")),
        ("B", "MAIN", D("3.000"), D("0.000"), D("3.000"), "over", D("1.1000"), D("3.30")),
        ("C", "MAIN", D("1.000"), D("1.000"), D("0.000"), "out", D("4.0000"), D("4.00")),
        ("D", "NORTH", D("7.000"), D("0.000"), D("7.000"), "ok", D("1.0000"), D("7.00")),
    ]
    html = response.content.decode()
    assert "€25.00" in html and '<span class="badge bad">Out of stock</span>' in html
    assert f'href="{reverse("inventory:stock_product", args=[shop["a"].pk])}"' in html


def test_stock_list_filters(shop, admin_client):
    url = reverse("inventory:stock_list")
    assert skus(admin_client.get(url, {"warehouse": shop["north"].pk})) == ["D"]
    assert skus(admin_client.get(url, {"q": "banana"})) == ["B"]
    assert skus(admin_client.get(url, {"state": "low"})) == ["A"]
    assert skus(admin_client.get(url, {"state": "out"})) == ["C"]
    assert skus(admin_client.get(url, {"state": "over"})) == ["B"]
    assert skus(admin_client.get(url, {"state": "bogus", "warehouse": "x"})) == ["A", "B", "C", "D"]
    assert skus(admin_client.get(url, {"sort": "-available"})) == ["D", "A", "B", "C"]
    # Another company's stock never shows.
    other = company_build()
    stocked_product(other, warehouse=warehouse_build(other), quantity="1", sku="ZZ")
    assert skus(admin_client.get(url, {"q": "ZZ"})) == []


def test_alert_list_is_the_worst_first(shop, admin_client):
    response = admin_client.get(reverse("inventory:alert_list"))
    assert [(sku, state) for sku, *_rest, state, _cost, _value in rows(response)] == [
        ("C", "out"),
        ("A", "low"),
        ("B", "over"),
    ]
    assert skus(admin_client.get(reverse("inventory:alert_list"), {"state": "over"})) == ["B"]


@pytest.mark.parametrize("name", ["inventory:stock_list", "inventory:alert_list"])
def test_level_lists_have_a_pinned_query_count(company, admin_client, django_assert_num_queries, name):
    main = warehouse_build(company, code="MAIN")
    for n in range(3):
        stocked_product(company, warehouse=main, quantity="1", sku=f"P{n:02d}")
    StockLevel.objects.update(reorder_point=D("5"))
    url = reverse(name)
    # session, user, membership, count, page, warehouses (filter), companies menu
    with django_assert_num_queries(7):
        assert admin_client.get(url).status_code == 200
    for n in range(3, 30):
        stocked_product(company, warehouse=main, quantity="1", sku=f"P{n:02d}")
    StockLevel.objects.update(reorder_point=D("5"))
    with django_assert_num_queries(7):
        assert len(admin_client.get(url).context["object_list"]) == 25
    with django_assert_num_queries(5):
        assert admin_client.get(url, HTTP_HX_REQUEST="true").status_code == 200


def test_product_page_shows_levels_locations_and_moves(shop, admin_client):
    a = shop["a"]
    stock_receive(
        actor=system_actor(a.company),
        product_id=a.pk,
        warehouse_id=shop["main"].pk,
        quantity="2",
        unit_cost="2.5",
        location_id=shop["bin"].pk,
        reference="PO-9",
    )
    response = admin_client.get(reverse("inventory:stock_product", args=[a.pk]))
    assert response.status_code == 200
    assert [(lv.warehouse.code, lv.on_hand, lv.available_qty, lv.value) for lv in response.context["levels"]] == [
        ("MAIN", D("12.000"), D("8.000"), D("30.00"))
    ]
    assert [(b.location.code, b.on_hand) for b in response.context["balances"]] == [
        ("MAIN/A-01", D("2.000")),
        ("MAIN/STOCK", D("10.000")),
    ]
    assert [(m.reason, m.quantity, m.reference) for m in response.context["moves"]] == [
        ("receipt", D("2.000"), "PO-9"),
        ("initial", D("10.000"), ""),
    ]
    # The limits form starts from the first warehouse's limits.
    assert response.context["limits_form"].initial == {
        "warehouse": str(shop["main"].pk),
        "reorder_point": D("6.000"),
        "maximum": None,
    }
    html = response.content.decode()
    assert "A · Apple" in html
    assert "<em>Supplier</em>" in html and "<em>inventory_loss</em>" not in html
    assert f'action="{reverse("inventory:stock_limits", args=[a.pk])}"' in html
    assert admin_client.get(reverse("inventory:stock_product", args=[999999])).status_code == 404


def test_limits_form_sets_and_refuses_with_the_error_on_the_field(shop, admin_client):
    url = reverse("inventory:stock_limits", args=[shop["d"].pk])
    response = admin_client.post(url, {"warehouse": shop["north"].pk, "reorder_point": "2", "maximum": "20"})
    assert response.status_code == 302
    level = StockLevel.objects.get(product=shop["d"])
    assert (level.reorder_point, level.maximum) == (D("2.000"), D("20.000"))
    before = stock_state()
    response = admin_client.post(url, {"warehouse": shop["north"].pk, "reorder_point": "5", "maximum": "4"})
    assert response.status_code == 422
    assert response.context["limits_form"].errors == {
        "maximum": ["The maximum must be greater than the reorder point."]
    }
    assert stock_state() == before


def test_level_links_lead_to_the_products_page(shop, admin_client):
    level = StockLevel.objects.get(product=shop["a"])
    response = admin_client.get(reverse("inventory:level_detail", args=[level.pk]))
    assert response["Location"] == reverse("inventory:stock_product", args=[shop["a"].pk])
    other = company_build()
    theirs = stocked_product(other, warehouse=warehouse_build(other), quantity="1")
    their_level = StockLevel.objects.get(product=theirs)
    assert admin_client.get(reverse("inventory:level_detail", args=[their_level.pk])).status_code == 404


# --- moves -------------------------------------------------------------------------------------


def move_rows(response):
    return [
        (m.product.sku, m.reason, m.quantity, m.from_location.code, m.to_location.code)
        for m in response.context["object_list"]
    ]


def test_move_list_filters(shop, admin_client):
    url = reverse("inventory:move_list")
    actor = system_actor(shop["a"].company)
    stock_receive(
        actor=actor,
        product_id=shop["b"].pk,
        warehouse_id=shop["main"].pk,
        quantity="1",
        unit_cost="1",
        location_id=shop["bin"].pk,
        reference="PO-77",
    )
    assert move_rows(admin_client.get(url)) == [
        ("B", "receipt", D("1.000"), "supplier", "MAIN/A-01"),
        ("D", "initial", D("7.000"), "inventory_loss", "NORTH/STOCK"),
        ("C", "initial", D("1.000"), "inventory_loss", "MAIN/STOCK"),
        ("B", "initial", D("3.000"), "inventory_loss", "MAIN/STOCK"),
        ("A", "initial", D("10.000"), "inventory_loss", "MAIN/STOCK"),
    ]
    assert move_rows(admin_client.get(url, {"reason": "receipt"})) == [
        ("B", "receipt", D("1.000"), "supplier", "MAIN/A-01")
    ]
    assert [r[0] for r in move_rows(admin_client.get(url, {"warehouse": shop["north"].pk}))] == ["D"]
    assert [r[0] for r in move_rows(admin_client.get(url, {"location": shop["bin"].pk}))] == ["B"]
    assert [r[0] for r in move_rows(admin_client.get(url, {"sku": "B"}))] == ["B", "B"]
    assert [r[0] for r in move_rows(admin_client.get(url, {"reference": "po-7"}))] == ["B"]
    today = timezone.localdate()
    assert len(move_rows(admin_client.get(url, {"from": today.isoformat(), "to": today.isoformat()}))) == 5
    assert move_rows(admin_client.get(url, {"from": (today + timedelta(days=1)).isoformat()})) == []
    assert len(move_rows(admin_client.get(url, {"from": "not-a-date", "reason": "nope"}))) == 5
    assert [r[0] for r in move_rows(admin_client.get(url, {"sort": "sku"}))] == ["A", "B", "B", "C", "D"]


def test_move_list_query_count_is_pinned(shop, admin_client, django_assert_num_queries):
    url = reverse("inventory:move_list")
    # session, user, membership, count, page (product, locations, actor joined), warehouses,
    # locations (filters), companies menu
    with django_assert_num_queries(8):
        assert admin_client.get(url).status_code == 200
    actor = system_actor(shop["a"].company)
    for n in range(25):
        stock_receive(actor=actor, product_id=shop["a"].pk, warehouse_id=shop["main"].pk, quantity="1", unit_cost=n)
    with django_assert_num_queries(8):
        assert len(admin_client.get(url).context["object_list"]) == 25
    with django_assert_num_queries(5):
        assert admin_client.get(url, HTTP_HX_REQUEST="true").status_code == 200


# --- stock forms -------------------------------------------------------------------------------


def test_receipt_form_receives_into_a_bin(shop, admin_client):
    url = reverse("inventory:receive")
    page = admin_client.get(url, {"sku": "A"})
    assert page.status_code == 200 and page.context["form"].initial["sku"] == "A"
    choices = dict(page.context["form"].fields["location"].choices)
    assert choices["MAIN · Main"] == [
        (str(shop["bin"].pk), "MAIN/A-01 · Aisle A"),
        (str(Location.objects.get(code="MAIN/STOCK").pk), "MAIN/STOCK · Main"),
    ]
    response = admin_client.post(
        url,
        {
            "sku": "A",
            "location": shop["bin"].pk,
            "quantity": "5",
            "unit_cost": "3,1",
            "reason": "receipt",
            "reference": "PO-1",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("inventory:stock_product", args=[shop["a"].pk])
    move = StockMove.objects.get(reason="receipt")
    assert (move.quantity, move.unit_cost, move.to_location.code, move.reference) == (
        D("5.000"),
        D("3.1000"),
        "MAIN/A-01",
        "PO-1",
    )
    assert StockLevel.objects.get(product=shop["a"]).on_hand == D("15.000")


def test_stock_form_errors_are_on_the_form_in_the_users_language(shop, company):
    client = client_for(user_build(company, Role.WAREHOUSE, language="es"))
    before = stock_state()
    response = client.post(
        reverse("inventory:receive"),
        {"sku": "A", "location": shop["bin"].pk, "quantity": "0", "unit_cost": "1", "reason": "receipt"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {"quantity": ["Introduzca una cantidad mayor que cero."]}
    assert "Introduzca una cantidad mayor que cero." in response.content.decode()
    # More than is unreserved: the service's refusal, on the form, in Spanish.
    response = client.post(
        reverse("inventory:adjust"),
        {"sku": "A", "location": Location.objects.get(code="MAIN/STOCK").pk, "quantity": "-7", "reason": "loss"},
    )
    assert response.status_code == 409
    assert response.context["form"].errors == {
        "quantity": ["Existencias insuficientes de A: se solicitan 7.000 y hay 6.000 disponibles."]
    }
    assert stock_state() == before


def test_stock_forms_refuse_an_unknown_sku(shop, admin_client):
    before = stock_state()
    response = admin_client.post(
        reverse("inventory:adjust"),
        {"sku": "NOPE", "location": shop["bin"].pk, "quantity": "1", "reason": "found"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {"sku": ["No product has this SKU."]}
    assert stock_state() == before


def test_relocation_and_transfer_forms(shop, admin_client):
    stock = Location.objects.get(code="MAIN/STOCK")
    response = admin_client.post(
        reverse("inventory:relocate"),
        {"sku": "A", "from_location": stock.pk, "to_location": shop["bin"].pk, "quantity": "3"},
    )
    assert response.status_code == 302
    assert dict(StockBalance.objects.filter(product=shop["a"]).values_list("location__code", "on_hand")) == {
        "MAIN/STOCK": D("7.000"),
        "MAIN/A-01": D("3.000"),
    }
    north_stock = Location.objects.get(code="NORTH/STOCK")
    before = stock_state()
    response = admin_client.post(
        reverse("inventory:relocate"),
        {"sku": "A", "from_location": stock.pk, "to_location": north_stock.pk, "quantity": "1"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {"to_location": ["Choose a location of this warehouse."]}
    assert stock_state() == before
    response = admin_client.post(
        reverse("inventory:transfer"),
        {"sku": "D", "from_warehouse": shop["north"].pk, "to_warehouse": shop["main"].pk, "quantity": "2"},
    )
    assert response.status_code == 302
    assert StockLevel.objects.get(product=shop["d"], warehouse=shop["main"]).on_hand == D("2.000")
    response = admin_client.post(
        reverse("inventory:transfer"),
        {"sku": "D", "from_warehouse": shop["north"].pk, "to_warehouse": shop["north"].pk, "quantity": "2"},
    )
    assert response.context["form"].errors == {"to_warehouse": ["Choose a warehouse other than the source."]}


WRITE_PAGES = [
    ("inventory:receive", {}),
    ("inventory:adjust", {}),
    ("inventory:relocate", {}),
    ("inventory:transfer", {}),
    ("inventory:warehouse_create", {}),
    ("inventory:count_create", {}),
]


@pytest.mark.parametrize("role, areas", [(Role.SALES, ()), (Role.FINANCE, ()), (Role.SUPPORT, ())])
def test_viewers_see_stock_but_cannot_change_it(shop, role_user, role, areas):
    client = client_for(role_user(role, areas))
    assert client.get(reverse("inventory:stock_list")).status_code == 200
    html = client.get(reverse("inventory:stock_product", args=[shop["a"].pk])).content.decode()
    assert "Receive goods" not in html and "stock_limits" not in html
    before = stock_state()
    for name, _kwargs in WRITE_PAGES:
        assert client.get(reverse(name)).status_code == 403
        assert client.post(reverse(name), {"sku": "A", "code": "X", "name": "X", "quantity": "1"}).status_code == 403
    assert (
        client.post(
            reverse("inventory:stock_limits", args=[shop["a"].pk]),
            {"warehouse": shop["main"].pk, "reorder_point": "1", "maximum": ""},
        ).status_code
        == 403
    )
    assert stock_state() == before


@pytest.mark.parametrize("role, areas", [(Role.HR, ()), (Role.LEGAL, ()), (Role.PARTNER, (Area.SALES,))])
def test_roles_without_inventory_see_nothing(shop, role_user, role, areas):
    client = client_for(role_user(role, areas))
    for name in ("stock_list", "alert_list", "move_list", "warehouse_list", "count_list"):
        assert client.get(reverse(f"inventory:{name}")).status_code == 403
    assert client.get(reverse("inventory:stock_product", args=[shop["a"].pk])).status_code == 403


@pytest.mark.parametrize("role, areas", [(Role.WAREHOUSE, ()), (Role.MANAGER, ()), (Role.PARTNER, (Area.WAREHOUSE,))])
def test_the_warehouse_receives_through_the_form(shop, role_user, role, areas):
    client = client_for(role_user(role, areas))
    response = client.post(
        reverse("inventory:receive"),
        {"sku": "B", "location": shop["bin"].pk, "quantity": "1", "unit_cost": "1", "reason": "receipt"},
    )
    assert response.status_code == 302
    assert StockLevel.objects.get(product=shop["b"]).on_hand == D("4.000")


# --- warehouses and locations -------------------------------------------------------------------


def test_warehouses_and_their_locations(shop, admin_client):
    response = admin_client.get(reverse("inventory:warehouse_list"))
    assert [w.code for w in response.context["warehouses"]] == ["MAIN", "NORTH"]
    response = admin_client.post(reverse("inventory:warehouse_create"), {"code": "SOUTH", "name": "South"})
    south = Warehouse.objects.get(code="SOUTH")
    assert response["Location"] == reverse("inventory:warehouse_detail", args=[south.pk])
    before = stock_state()
    response = admin_client.post(reverse("inventory:warehouse_create"), {"code": "SOUTH", "name": "Again"})
    assert response.status_code == 422
    assert response.context["form"].errors == {"code": ["Another warehouse already has this code."]}
    response = admin_client.post(reverse("inventory:warehouse_create"), {"code": "no spaces", "name": "X"})
    assert response.context["form"].errors == {"code": ["Use letters, digits, hyphens and underscores only."]}
    assert stock_state() == before

    main = shop["main"]
    url = reverse("inventory:location_create", args=[main.pk])
    stock = Location.objects.get(code="MAIN/STOCK")
    admin_client.post(url, {"code": "Z", "name": "Zone Z", "parent": stock.pk})
    zone = Location.objects.get(code="MAIN/Z")
    admin_client.post(url, {"code": "Z-1", "name": "", "parent": zone.pk})
    response = admin_client.get(reverse("inventory:warehouse_detail", args=[main.pk]))
    assert [(loc.code, depth) for loc, depth in response.context["tree"]] == [
        ("MAIN/STOCK", 0),
        ("MAIN/A-01", 1),
        ("MAIN/Z", 1),
        ("MAIN/Z-1", 2),
    ]
    before = stock_state()
    response = admin_client.post(url, {"code": "Z", "name": "", "parent": stock.pk})
    assert response.status_code == 422
    assert response.context["form"].errors == {"code": ["Another location already has this code."]}
    # A parent of another warehouse is not among the choices.
    response = admin_client.post(url, {"code": "Q", "parent": Location.objects.get(code="NORTH/STOCK").pk})
    assert response.status_code == 422 and "parent" in response.context["form"].errors
    assert stock_state() == before


def test_warehouse_pages_query_counts(shop, admin_client, django_assert_num_queries):
    # session, user, membership, warehouses, companies menu
    with django_assert_num_queries(5):
        assert admin_client.get(reverse("inventory:warehouse_list")).status_code == 200
    # session, user, membership, warehouse, locations, timeline, companies menu
    with django_assert_num_queries(7):
        assert admin_client.get(reverse("inventory:warehouse_detail", args=[shop["main"].pk])).status_code == 200


# --- cycle counts ------------------------------------------------------------------------------


def test_a_count_from_start_to_posting_through_the_pages(shop, admin_client):
    response = admin_client.post(
        reverse("inventory:count_create"), {"location": shop["bin"].pk, "skus": "", "note": "Aisle A"}
    )
    assert response.status_code == 422  # nothing was ever kept at A-01
    assert response.context["form"].errors == {"location": ["No stock was ever kept at this location."]}
    stock = Location.objects.get(code="MAIN/STOCK")
    response = admin_client.post(reverse("inventory:count_create"), {"location": stock.pk, "skus": "A, B", "note": ""})
    count = CycleCount.objects.get()
    assert response["Location"] == reverse("inventory:count_detail", args=[count.pk])
    page = admin_client.get(response["Location"])
    lines = page.context["lines"]
    assert [(line.location.code, line.product.sku, line.expected) for line in lines] == [
        ("MAIN/STOCK", "A", D("10.000")),
        ("MAIN/STOCK", "B", D("3.000")),
    ]
    a_line, b_line = lines
    # Save and finish with one line missing: refused, the error beside that line.
    response = admin_client.post(
        reverse("inventory:count_record", args=[count.pk]),
        {f"counted_{a_line.pk}": "9", f"counted_{b_line.pk}": "", "then": "complete"},
    )
    assert response.status_code == 422
    assert response.context["record_form"].errors == {
        f"counted_{b_line.pk}": ["Enter the quantity counted, 0 if none was found."]
    }
    assert "1 line is not counted yet." in response.content.decode()
    response = admin_client.post(
        reverse("inventory:count_record", args=[count.pk]),
        {f"counted_{a_line.pk}": "9", f"counted_{b_line.pk}": "-1"},
    )
    assert response.context["record_form"].errors == {f"counted_{b_line.pk}": ["Enter zero or more."]}
    admin_client.post(
        reverse("inventory:count_record", args=[count.pk]),
        {f"counted_{a_line.pk}": "9", f"counted_{b_line.pk}": "3", "then": "complete"},
    )
    count.refresh_from_db()
    assert count.status == "counted"
    # Orders reserved most of A meanwhile: a loss of 1 is refused on the page.
    stock_allocate_lines(
        actor=system_actor(count.company),
        warehouse=shop["main"],
        reference_type="sales.order",
        reference_id="2",
        lines=[AllocationRequest(product_id=shop["a"].pk, sku="A", quantity=D("6.000"), line_id="1")],
    )
    before = stock_state()
    response = admin_client.post(reverse("inventory:count_action", args=[count.pk, "post"]))
    assert response.status_code == 409
    assert "Posting would leave less on hand than is reserved for orders (A)" in response.content.decode()
    assert stock_state() == before
    # Count again, find one more: posted.
    admin_client.post(reverse("inventory:count_action", args=[count.pk, "reopen"]))
    admin_client.post(
        reverse("inventory:count_record", args=[count.pk]),
        {f"counted_{a_line.pk}": "10", f"counted_{b_line.pk}": "4", "then": "complete"},
    )
    response = admin_client.post(reverse("inventory:count_action", args=[count.pk, "post"]))
    assert response.status_code == 302
    count.refresh_from_db()
    assert count.status == "posted"
    assert StockLevel.objects.get(product=shop["b"]).on_hand == D("4.000")
    assert admin_client.post(reverse("inventory:count_action", args=[count.pk, "explode"])).status_code == 404


def test_count_line_add_page(shop, admin_client):
    stock = Location.objects.get(code="MAIN/STOCK")
    count = cycle_count_create(
        actor=system_actor(shop["a"].company),
        warehouse_id=shop["main"].pk,
        location_id=shop["bin"].pk,
        product_ids=[shop["a"].pk],
    )
    page = admin_client.get(reverse("inventory:count_detail", args=[count.pk]))
    assert page.context["add_form"].fields["location"].choices == [(str(shop["bin"].pk), "MAIN/A-01")]
    response = admin_client.post(
        reverse("inventory:count_line_add", args=[count.pk]), {"sku": "D", "location": shop["bin"].pk}
    )
    assert response.status_code == 302
    assert sorted(count.lines.values_list("product__sku", "location__code", "expected")) == [
        ("A", "MAIN/A-01", D("0.000")),
        ("D", "MAIN/A-01", D("0.000")),
    ]
    response = admin_client.post(
        reverse("inventory:count_line_add", args=[count.pk]), {"sku": "D", "location": stock.pk}
    )
    assert response.status_code == 422


def test_count_pages_query_counts(shop, admin_client, django_assert_num_queries):
    actor = system_actor(shop["a"].company)
    for _ in range(3):
        cycle_count_create(actor=actor, warehouse_id=shop["main"].pk)
    # session, user, membership, count, page (with line counts), warehouses, companies menu
    with django_assert_num_queries(7):
        assert admin_client.get(reverse("inventory:count_list")).status_code == 200
    for _ in range(25):
        cycle_count_create(actor=actor, warehouse_id=shop["main"].pk)
    with django_assert_num_queries(7):
        assert len(admin_client.get(reverse("inventory:count_list")).context["object_list"]) == 25
    count = CycleCount.objects.order_by("pk").first()
    # session, user, membership, count, lines, locations (add a line), timeline, companies menu
    with django_assert_num_queries(8):
        assert admin_client.get(reverse("inventory:count_detail", args=[count.pk])).status_code == 200


@pytest.mark.parametrize("role", [Role.SALES, Role.FINANCE])
def test_viewers_cannot_touch_counts(shop, role_user, role):
    count = cycle_count_create(actor=system_actor(shop["a"].company), warehouse_id=shop["main"].pk)
    line = count.lines.first()
    client = client_for(role_user(role))
    page = client.get(reverse("inventory:count_detail", args=[count.pk]))
    assert page.status_code == 200 and page.context["editable"] is False and page.context["actions"] == []
    before = stock_state()
    assert (
        client.post(reverse("inventory:count_record", args=[count.pk]), {f"counted_{line.pk}": "1"}).status_code == 403
    )
    for action in ("complete", "post", "cancel"):
        assert client.post(reverse("inventory:count_action", args=[count.pk, action])).status_code == 403
    assert client.post(reverse("inventory:count_line_add", args=[count.pk]), {"sku": "A"}).status_code == 403
    assert stock_state() == before


def test_another_companys_count_is_not_found(shop, company):
    other = company_build()
    stranger = client_for(user_build(other, Role.ADMINISTRATOR))
    count = cycle_count_create(actor=system_actor(company), warehouse_id=shop["main"].pk)
    before = stock_state()
    assert stranger.get(reverse("inventory:count_detail", args=[count.pk])).status_code == 404
    assert stranger.post(reverse("inventory:count_action", args=[count.pk, "cancel"])).status_code == 404
    assert stranger.post(reverse("inventory:count_record", args=[count.pk]), {}).status_code == 404
    assert stock_state() == before
