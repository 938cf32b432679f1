"""The customer page's "Orders" section: the latest orders, the new-order link, and the block on
new orders, each for the roles that may see or change them."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog, OutboxEvent
from retaguarda.core.permissions import system_actor
from retaguarda.core.selectors import actor_for
from retaguarda.core.testing import client_for, company_build, user_build
from retaguarda.inventory.testing import stocked_product, warehouse_build
from retaguarda.parties import sections
from retaguarda.parties.models import Party
from retaguarda.parties.services import party_archive
from retaguarda.parties.testing import party_build
from retaguarda.sales.sections import ORDERS_SECTION, party_orders_context
from retaguarda.sales.services import sales_order_cancel
from retaguarda.sales.testing import order_build

D = Decimal


@pytest.fixture
def warehouse(company):
    return warehouse_build(company, code="MAIN", name="Main")


@pytest.fixture
def mug(company, warehouse):
    return stocked_product(company, warehouse=warehouse, quantity="100", sku="MUG-BLUE", list_price=D("9.90"))


@pytest.fixture
def customer(company):
    return party_build(company, legal_name="Loja Azul SL")


def page(client, party) -> str:
    response = client.get(reverse("parties:party_detail", args=[party.pk]))
    assert response.status_code == 200
    return response.content.decode()


def section_html(html: str) -> str | None:
    match = re.search(r'<section class="card" id="section-orders">.*?</section>', html, re.S)
    return match.group(0) if match else None


def client_as(company, role):
    return client_for(user_build(company, role))


def block_state(party) -> tuple:
    return (
        Party.objects.get(pk=party.pk).blocked_reason,
        AuditLog.objects.count(),
        OutboxEvent.objects.count(),
    )


def test_the_section_is_registered_at_startup():
    assert sections.SECTIONS["orders"] is ORDERS_SECTION
    assert (ORDERS_SECTION.permission, ORDERS_SECTION.order) == ("sales.view", 40)


def test_the_section_shows_the_latest_orders_with_status_and_amount(company, admin_client, warehouse, mug, customer):
    first = order_build(company, warehouse=warehouse, customer=customer, lines=[(mug, "2")], external_ref="SHOP-9")
    second = order_build(company, warehouse=warehouse, customer=customer, lines=[(mug, "1", "5.00")], confirm=False)
    sales_order_cancel(actor=system_actor(company), order_id=second.pk, reason="Duplicate")
    order_build(company, warehouse=warehouse, lines=[(mug, "7")])  # another customer's
    html = section_html(page(admin_client, customer))
    rows = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>")[1], re.S)
    ]
    assert [row.split(" ")[0] for row in rows] == [second.number, first.number]
    assert rows[0].endswith("Cancelled €5.00")
    assert rows[1].endswith("Confirmed Not shipped Not invoiced €19.80")
    assert "SHOP-9" in rows[1]
    assert f'href="/sales/orders/{first.pk}/"' in html
    assert f'href="/sales/orders/new/?customer={customer.pk}">New order for this customer</a>' in html
    assert f'href="/sales/orders/?customer={customer.pk}"' in html


def test_only_the_ten_latest_orders_are_read(company, warehouse, mug, customer):
    orders = [
        order_build(company, warehouse=warehouse, customer=customer, lines=[(mug, "1")], confirm=False)
        for _ in range(11)
    ]
    context = party_orders_context(actor_for(user_build(company, Role.SALES), company.pk), customer)
    assert [o.pk for o in context["orders"]] == [o.pk for o in reversed(orders[1:])]
    assert context["has_more"] is True


def test_a_customer_without_orders(company, admin_client, customer):
    html = section_html(page(admin_client, customer))
    assert "No orders yet." in html


def test_the_section_reads_a_fixed_number_of_rows(
    company, admin_client, warehouse, mug, customer, django_assert_num_queries
):
    order_build(company, warehouse=warehouse, customer=customer, lines=[(mug, "1")])
    page(admin_client, customer)
    # session, user, membership, party, contacts, addresses, the section's orders, history,
    # companies for the switcher (9), and the other areas' sections: payments (5), dunning (3)
    with django_assert_num_queries(17):
        html = page(admin_client, customer)
    assert len(re.findall(r'<a href="/sales/orders/\d+/">', section_html(html))) == 1
    for _ in range(12):
        order_build(company, warehouse=warehouse, customer=customer, lines=[(mug, "1")])
    with django_assert_num_queries(17):
        html = page(admin_client, customer)
    assert len(re.findall(r'<a href="/sales/orders/\d+/">', section_html(html))) == 10


@pytest.mark.parametrize(
    ("role", "sees", "can_order", "can_block"),
    [
        (Role.ADMINISTRATOR, True, True, True),
        (Role.MANAGER, True, True, True),
        (Role.SALES, True, True, True),
        (Role.FINANCE, True, False, True),
        (Role.SUPPORT, True, False, False),
        (Role.LEGAL, False, False, False),
    ],
)
def test_what_each_role_sees(company, customer, role, sees, can_order, can_block):
    html = section_html(page(client_as(company, role), customer))
    assert (html is not None) is sees
    if html is not None:
        assert ("New order for this customer" in html) is can_order
        assert (f'action="/sales/customers/{customer.pk}/block/"' in html) is can_block


def test_suppliers_have_no_orders_section(company, admin_client):
    supplier = party_build(company, is_customer=False, is_supplier=True)
    assert section_html(page(admin_client, supplier)) is None


def test_an_archived_customer_gets_no_new_order_link(company, admin_client, customer):
    party_archive(actor=system_actor(company), party_id=customer.pk)
    html = section_html(page(admin_client, customer))
    assert "New order for this customer" not in html


# --- the block on new orders -----------------------------------------------------------------------------


def block_url(party) -> str:
    return reverse("sales:customer_block", args=[party.pk])


@pytest.mark.parametrize("role", [Role.SALES, Role.FINANCE, Role.MANAGER, Role.ADMINISTRATOR])
def test_blocking_and_unblocking_a_customer(company, customer, role):
    client = client_as(company, role)
    response = client.post(block_url(customer), {"reason": "  Unpaid invoices  "})
    assert (response.status_code, response.url) == (302, f"/parties/{customer.pk}/#section-orders")
    customer.refresh_from_db()
    assert customer.blocked_reason == "Unpaid invoices"
    audit = AuditLog.objects.filter(action="party.block").get()
    assert (audit.object_id, audit.before, audit.after) == (
        str(customer.pk),
        {"blocked_reason": ""},
        {"blocked_reason": "Unpaid invoices"},
    )
    html = page(client, customer)
    assert "Loja Azul SL cannot place new orders now." in html
    section = section_html(html)
    assert "Blocked for new orders: Unpaid invoices" in section
    assert 'name="reason" value="Unpaid invoices"' in section

    response = client.post(block_url(customer), {"reason": ""})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.blocked_reason == ""
    assert AuditLog.objects.filter(action="party.unblock").count() == 1
    html = page(client, customer)
    assert "Loja Azul SL may place new orders." in html
    assert "Blocked for new orders:" not in section_html(html)


def test_a_refused_reason_is_shown_and_changes_nothing(company, admin_client, customer):
    before = block_state(customer)
    response = admin_client.post(block_url(customer), {"reason": "x" * 201}, follow=True)
    assert response.status_code == 200
    assert block_state(customer) == before
    assert '<li class="msg-error">Use at most 200 characters.</li>' in response.content.decode()


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.WAREHOUSE, Role.LEGAL, Role.HR])
def test_blocking_is_refused_without_parties_change(company, customer, role):
    client = client_as(company, role)
    before = block_state(customer)
    assert client.post(block_url(customer), {"reason": "Unpaid invoices"}).status_code == 403
    assert block_state(customer) == before


def test_blocking_is_post_only_and_scoped_to_the_company(company, admin_client, customer):
    foreign = party_build(company_build(country="BR"))
    before = (block_state(customer), Party.objects.get(pk=foreign.pk).blocked_reason)
    assert admin_client.get(block_url(customer)).status_code == 405
    assert admin_client.post(block_url(foreign), {"reason": "Nope"}).status_code == 404
    assert (block_state(customer), Party.objects.get(pk=foreign.pk).blocked_reason) == before
