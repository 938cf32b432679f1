"""Navigation by area and the dashboard's widgets, per role; the home page's query count."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from retaguarda.catalog.services import product_archive
from retaguarda.catalog.testing import product_build
from retaguarda.core.choices import Area, Role
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import client_for, company_build
from retaguarda.parties.services import party_archive
from retaguarda.parties.testing import party_build
from retaguarda.web.dashboard import registry

DEVIATIONS = ["Deviations"]
ORDERS = ["Orders"]
FULFILMENT = ["Pick lists", "Shipments", "Returns"]
STOCK = ["Stock", "Stock moves", "Replenishment", "Cycle counts", "Warehouses"]
PARTIES = ["Customers", "Suppliers"]
CATALOG = ["Products", "Price lists"]
ADMINISTRATION = ["Company", "Users", "Audit log", "Webhooks", "Background jobs", "API tokens"]
TOKENS = ["API tokens"]  # every member manages their own API tokens, partners too
OPERATIONS = DEVIATIONS + ORDERS + FULFILMENT + STOCK
BILLING = ["Invoices", "Taxes", "Electronic invoicing"]
ACCOUNTING = ["Reports", "Journal entries", "Chart of accounts", "Periods", "Exchange rates"]
COLLECTIONS = ["Payments", "Bank reconciliation", "Bank accounts", "Aging"]
DUNNING = ["Dunning"]
MONEY = BILLING + ACCOUNTING + COLLECTIONS + DUNNING

# (role, partner areas) -> the menu, written out from the product rules rather than derived
# from the permission table, so a wrong table entry fails here.
NAVIGATION_BY_ROLE = [
    (Role.ADMINISTRATOR, (), OPERATIONS + MONEY + PARTIES + CATALOG + ADMINISTRATION),
    (Role.MANAGER, (), OPERATIONS + MONEY + PARTIES + CATALOG + ["Audit log", "API tokens"]),
    (Role.SALES, (), OPERATIONS + BILLING + PARTIES + CATALOG + TOKENS),
    (Role.FINANCE, (), DEVIATIONS + ORDERS + STOCK + MONEY + PARTIES + CATALOG + TOKENS),
    (Role.SUPPORT, (), OPERATIONS + PARTIES + CATALOG + TOKENS),
    (Role.LEGAL, (), DEVIATIONS + DUNNING + PARTIES + CATALOG + TOKENS),
    (Role.WAREHOUSE, (), OPERATIONS + CATALOG + TOKENS),
    (Role.HR, (), DEVIATIONS + TOKENS),
    (Role.PARTNER, (Area.ACCOUNTING,), BILLING + ACCOUNTING + COLLECTIONS + PARTIES + TOKENS),
    (Role.PARTNER, (Area.WAREHOUSE,), FULFILMENT + STOCK + CATALOG + TOKENS),
    (Role.PARTNER, (), TOKENS),
]

ALL_WIDGETS = [
    "getting-started",
    "parties",
    "products",
    "recent-activity",
    "deviations",
    "billing",
    "fulfilment",
    "sales-orders",
]
STAFF_WORK = ["deviations", "fulfilment", "sales-orders"]
WIDGETS_BY_ROLE = [
    (Role.ADMINISTRATOR, (), ALL_WIDGETS),
    (Role.MANAGER, (), ALL_WIDGETS),
    (Role.SALES, (), ["getting-started", "parties", "products", "deviations", "billing", "fulfilment", "sales-orders"]),
    (Role.FINANCE, (), ["getting-started", "parties", "products", "deviations", "billing", "sales-orders"]),
    (Role.SUPPORT, (), ["getting-started", "parties", "products", *STAFF_WORK]),
    (Role.LEGAL, (), ["getting-started", "parties", "products", "deviations"]),
    (Role.WAREHOUSE, (), ["getting-started", "products", *STAFF_WORK]),
    (Role.HR, (), ["getting-started", "deviations"]),
    (Role.PARTNER, (Area.ACCOUNTING,), ["getting-started", "parties", "billing"]),
    (Role.PARTNER, (Area.WAREHOUSE,), ["getting-started", "products", "fulfilment"]),
    (Role.PARTNER, (), ["getting-started"]),
]


def nav_labels(html: str) -> list[str]:
    nav = re.search(r'<nav id="mainnav".*?</nav>', html, re.S)
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav.group(0)) if nav else []


@pytest.mark.parametrize("role, areas, expected", NAVIGATION_BY_ROLE)
def test_navigation_shows_only_what_the_role_may_use(role_user, role, areas, expected):
    response = client_for(role_user(role, areas)).get("/")
    assert response.status_code == 200
    assert nav_labels(response.content.decode()) == expected


def test_navigation_groups_links_by_area(admin_client):
    groups = admin_client.get("/").context["navigation"]
    assert [(area, [link.label for link in links]) for area, links in groups] == [
        ("Operations", DEVIATIONS),
        ("Sales", ORDERS),
        ("Warehouse and logistics", FULFILMENT + STOCK),
        ("Billing", BILLING),
        ("Accounting", ACCOUNTING),
        ("Payments and collections", COLLECTIONS + DUNNING),
        ("Customers and suppliers", PARTIES),
        ("Catalog", CATALOG),
        ("Administration", ADMINISTRATION),
    ]


def test_hr_sees_no_customers_or_products_and_cannot_open_them(role_user):
    client = client_for(role_user(Role.HR))
    html = client.get("/").content.decode()
    assert "Customers" not in html and "Products" not in html
    assert client.get("/parties/customers/").status_code == 403
    assert client.get("/catalog/products/").status_code == 403


def test_the_current_area_is_marked(admin_client, company):
    product = product_build(company)
    html = admin_client.get(f"/catalog/products/{product.pk}/").content.decode()
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', html) == ["/catalog/products/"]


def test_anonymous_pages_have_no_navigation(db):
    html = Client().get("/login/").content.decode()
    assert nav_labels(html) == []
    assert "menu-toggle" not in html


def test_the_phone_menu_is_an_alpine_toggle(admin_client):
    html = admin_client.get("/").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'x-data="{ open: false }"' in html
    assert '@click="open = !open"' in html
    assert ":class=\"{ 'is-open': open }\"" in html


# Dashboard


def test_widgets_are_registered_at_startup():
    assert list(registry) == ALL_WIDGETS


@pytest.mark.parametrize("role, areas, expected", WIDGETS_BY_ROLE)
def test_home_shows_the_widgets_the_role_may_see(role_user, role, areas, expected):
    response = client_for(role_user(role, areas)).get("/")
    assert [w.code for w in response.context["widgets"]] == expected
    html = response.content.decode()
    assert re.findall(r'hx-get="/dashboard/widgets/([\w-]+)/" hx-trigger="load"', html) == expected


@pytest.mark.parametrize("role, areas, visible", WIDGETS_BY_ROLE)
def test_each_widget_fragment_checks_permission(role_user, role, areas, visible):
    client = client_for(role_user(role, areas))
    statuses = {code: client.get(f"/dashboard/widgets/{code}/").status_code for code in ALL_WIDGETS}
    assert statuses == {code: 200 if code in visible else 403 for code in ALL_WIDGETS}


def test_widget_fragments_need_login(db):
    response = Client().get("/dashboard/widgets/parties/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/dashboard/widgets/parties/"
    htmx = Client().get("/dashboard/widgets/parties/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200
    assert htmx["HX-Redirect"] == "/login/?next=/"


def test_unknown_widget_is_404(admin_client):
    assert admin_client.get("/dashboard/widgets/no-such-widget/").status_code == 404


def test_widget_fragment_is_a_fragment(admin_client):
    html = admin_client.get("/dashboard/widgets/getting-started/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html
    assert '<ol class="steps">' in html


@pytest.fixture
def busy_company(company):
    """3 active customers, 1 archived, 1 customer-and-supplier, 1 supplier; 2 active products, 1
    archived; and another company with a customer and a product that must never be counted."""
    actor = system_actor(company)
    for _ in range(3):
        party_build(company)
    archived = party_build(company)
    party_archive(actor=actor, party_id=archived.pk)
    party_build(company, is_customer=True, is_supplier=True)
    party_build(company, is_customer=False, is_supplier=True)
    product_build(company, list_price=Decimal("12.50"))
    product_build(company)
    old = product_build(company)
    product_archive(actor=actor, product_id=old.pk)
    other = company_build(country="BR")
    party_build(other)
    product_build(other)
    return company


def stat_numbers(html: str) -> list[str]:
    return re.findall(r'<p class="stat"><a href="([^"]+)">([^<]+)</a></p>', html)


def test_parties_widget_counts_active_customers_and_suppliers(busy_company, admin_client):
    html = admin_client.get("/dashboard/widgets/parties/").content.decode()
    assert stat_numbers(html) == [("/parties/customers/", "4"), ("/parties/suppliers/", "2")]


def test_products_widget_counts_active_products(busy_company, admin_client):
    html = admin_client.get("/dashboard/widgets/products/").content.decode()
    assert stat_numbers(html) == [("/catalog/products/?active=1", "2")]


def test_getting_started_lists_only_permitted_steps(role_user):
    warehouse = client_for(role_user(Role.WAREHOUSE)).get("/dashboard/widgets/getting-started/")
    assert [s["url"] for s in warehouse.context["steps"]] == ["/profile/", "/catalog/products/", "/admin/tokens/"]
    sales = client_for(role_user(Role.SALES)).get("/dashboard/widgets/getting-started/")
    assert [s["url"] for s in sales.context["steps"]] == [
        "/profile/",
        "/parties/new/",
        "/parties/customers/",
        "/catalog/products/new/",
        "/catalog/products/",
        "/admin/tokens/",
    ]


def test_recent_activity_shows_this_companys_audit_rows_only(busy_company, admin_client):
    response = admin_client.get("/dashboard/widgets/recent-activity/")
    records = response.context["records"]
    assert len(records) == 8
    assert {r.company_id for r in records} == {busy_company.pk}
    assert [r.at for r in records] == sorted((r.at for r in records), reverse=True)


# Query counts: the home page renders empty cards, each widget one fragment with a fixed cost.


def test_home_query_count(admin_client, django_assert_num_queries):
    admin_client.get("/")
    # session, user, membership (actor), companies for the switcher
    with django_assert_num_queries(4):
        assert admin_client.get("/").status_code == 200


@pytest.mark.parametrize(
    "code, queries",
    [("getting-started", 3), ("parties", 4), ("products", 4), ("recent-activity", 4)],
)
def test_widget_query_counts_do_not_grow_with_data(
    busy_company, admin_client, django_assert_num_queries, code, queries
):
    # session, user, membership, then the widget's own single read
    with django_assert_num_queries(queries):
        assert admin_client.get(f"/dashboard/widgets/{code}/").status_code == 200
