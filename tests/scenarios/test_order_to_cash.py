"""OTC-1's flow for a few orders, as bench/otc.py runs it: order, confirmation, pick-pack-ship,
invoice, payment. Every ledger balance is checked to the cent, and the number of queries of each
step is pinned — the same whatever the number of lines of the order."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from retaguarda.billing.choices import PaymentStatus
from retaguarda.billing.models import Invoice
from retaguarda.billing.services import invoice_issue_for_order
from retaguarda.catalog.testing import product_build
from retaguarda.collections.services import payment_register
from retaguarda.core.choices import Role
from retaguarda.core.testing import actor_build, company_build
from retaguarda.fulfilment.services import (
    parcel_add,
    pick_list_complete,
    pick_list_confirm_all,
    pick_list_create,
    shipment_pack,
    shipment_ship,
)
from retaguarda.inventory.services import stock_receive
from retaguarda.inventory.testing import warehouse_build
from retaguarda.ledger.choices import AccountRole
from retaguarda.ledger.models import AccountBalance, JournalEntry, JournalLine
from retaguarda.ledger.services import accounts_by_role
from retaguarda.parties.models import PaymentTerm
from retaguarda.parties.testing import party_build
from retaguarda.sales.services import sales_order_confirm, sales_order_create

pytestmark = pytest.mark.django_db
D = Decimal

# Queries per step, pinned: a change here is a change of OTC-1's cost (see bench/otc.py).
STEP_QUERIES = {"create": 9, "confirm": 13, "ship": 76, "invoice": 37, "pay": 44}


@pytest.fixture
def shop():
    company = company_build(country="ES")
    admin = actor_build(company, Role.ADMINISTRATOR)
    warehouse = warehouse_build(company, code="MAIN")
    products = []
    for i in range(30):
        product = product_build(company, sku=f"P{i:03d}", list_price=D(10 + i % 91), tax_category="reduced")
        stock_receive(
            actor=admin,
            product_id=product.pk,
            warehouse_id=warehouse.pk,
            quantity="1000",
            unit_cost=str(D(10 + i % 91) * D("0.6")),
            reason="initial",
        )
        products.append(product)
    immediate = PaymentTerm.objects.create(company=company, name="Immediate", days=0)
    customers = [party_build(company, kind="person", tax_country="ES", payment_term_id=immediate.pk) for _ in range(3)]
    return company, admin, warehouse, products, customers


def order_to_cash(actor, warehouse, customer, lines, counts: dict) -> Invoice:
    def step(name, call):
        with CaptureQueriesContext(connection) as captured:
            result = call()
        counts[name] = len(captured.captured_queries)
        return result

    order = step(
        "create",
        lambda: sales_order_create(
            actor=actor,
            customer_id=customer.pk,
            warehouse_id=warehouse.pk,
            lines=[{"sku": p.sku, "quantity": str(q)} for p, q in lines],
            channel="api",
            confirm=False,
        ),
    )
    step("confirm", lambda: sales_order_confirm(actor=actor, order_id=order.pk))

    def ship():
        pick_list = pick_list_create(actor=actor, warehouse_id=warehouse.pk, order_ids=[order.pk])
        pick_list_confirm_all(actor=actor, pick_list_id=pick_list.pk)
        (shipment,) = pick_list_complete(actor=actor, pick_list_id=pick_list.pk).created_shipments
        parcel_add(actor=actor, shipment_id=shipment.pk, weight=D("1.000"))
        shipment_pack(actor=actor, shipment_id=shipment.pk)
        shipment_ship(actor=actor, shipment_id=shipment.pk, carrier="Correos", tracking_number="T1")

    step("ship", ship)
    invoice = step("invoice", lambda: invoice_issue_for_order(actor=actor, order_id=order.pk))
    step(
        "pay",
        lambda: payment_register(
            actor=actor,
            party_id=customer.pk,
            amount=invoice.payable,
            date=timezone.localdate(),
            method="transfer",
            reference=invoice.number,
            allocations=[(invoice.pk, invoice.payable)],
        ),
    )
    return invoice


def books(company) -> dict:
    roles = {account.pk: role for role, account in accounts_by_role(company.pk).items()}
    result: dict = {}
    for row in AccountBalance.objects.filter(company=company):
        if row.debit or row.credit:
            role = roles[row.account_id]
            debit, credit = result.get(role, (D(0), D(0)))
            result[role] = (debit + row.debit, credit + row.credit)
    return result


def test_three_orders_from_order_to_cash_to_the_cent(shop):
    company, admin, warehouse, products, customers = shop
    counts: dict = {}
    invoices = []
    for i in range(3):
        lines = [(products[(7 * i) % 30], 1 + i % 5), (products[(7 * i + 1) % 30], 2), (products[(7 * i + 2) % 30], 1)]
        invoices.append(order_to_cash(admin, warehouse, customers[i], lines, counts))

    # Order 0: P000 × 1 at 10, P001 × 2 at 11, P002 × 1 at 12 → 44.00, 10 % tax per line 1.00 + 2.20 + 1.20
    # Order 1: P007 × 2 at 17, P008 × 2 at 18, P009 × 1 at 19 → 89.00, tax 3.40 + 3.60 + 1.90
    # Order 2: P014 × 3 at 24, P015 × 2 at 25, P016 × 1 at 26 → 148.00, tax 7.20 + 5.00 + 2.60
    assert [(i.net_total, i.tax_total, i.grand_total) for i in invoices] == [
        (D("44.00"), D("4.40"), D("48.40")),
        (D("89.00"), D("8.90"), D("97.90")),
        (D("148.00"), D("14.80"), D("162.80")),
    ]
    assert all(
        i.payment_status == PaymentStatus.PAID for i in Invoice.objects.filter(company=company, kind="customer_invoice")
    )
    # Cost of goods at 60 % of the price: 26.40 + 53.40 + 88.80 = 168.60
    assert books(company) == {
        AccountRole.RECEIVABLE: (D("309.10"), D("309.10")),
        AccountRole.BANK: (D("309.10"), D("0.00")),
        AccountRole.REVENUE: (D("0.00"), D("281.00")),
        AccountRole.TAX_PAYABLE: (D("0.00"), D("28.10")),
        AccountRole.COST_OF_GOODS: (D("168.60"), D("0.00")),
        AccountRole.INVENTORY: (D("0.00"), D("168.60")),
    }
    assert (
        not JournalLine.objects.filter(company=company, account=accounts_by_role(company.pk)[AccountRole.RECEIVABLE])
        .exclude(residual=0)
        .exists()
    )
    for entry in JournalEntry.objects.filter(company=company).prefetch_related("lines"):
        lines = list(entry.lines.all())
        assert sum(line.debit for line in lines) == sum(line.credit for line in lines)
    assert counts == STEP_QUERIES


@pytest.mark.parametrize("line_count", [1, 10])
def test_the_queries_of_each_step_do_not_grow_with_the_lines(shop, line_count):
    company, admin, warehouse, products, customers = shop
    counts: dict = {}
    # A first order warms what is created once per company (balances of the period, counters).
    order_to_cash(admin, warehouse, customers[0], [(products[0], 1)], {})
    order_to_cash(admin, warehouse, customers[1], [(p, 1) for p in products[1 : 1 + line_count]], counts)
    assert counts == STEP_QUERIES
