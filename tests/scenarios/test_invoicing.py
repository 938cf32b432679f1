"""Invoicing scenarios with every ledger balance checked to the cent: a partial shipment
invoiced in two invoices, a return corrected by a credit note (stock value back from cost of
goods), and a year closed with its profit carried into retained earnings."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from retaguarda.billing.choices import PaymentStatus
from retaguarda.billing.models import Invoice, InvoiceLine
from retaguarda.billing.services import credit_note_create, invoice_issue_for_order, invoice_post
from retaguarda.billing.testing import invoice_build
from retaguarda.common.errors import Conflict
from retaguarda.core.choices import Role
from retaguarda.core.testing import actor_build, company_build
from retaguarda.fulfilment import services as fulfilment
from retaguarda.fulfilment.testing import shipped_build
from retaguarda.inventory.services import stock_receive
from retaguarda.inventory.testing import stocked_product, warehouse_build
from retaguarda.ledger.choices import AccountRole
from retaguarda.ledger.models import AccountBalance, FiscalYear, JournalEntry
from retaguarda.ledger.services import accounts_by_role, fiscal_year_close, fiscal_year_ensure
from retaguarda.parties.testing import party_build
from retaguarda.sales.choices import BillingStatus
from retaguarda.sales.models import SalesOrderLine
from retaguarda.sales.services import sales_order_create

D = Decimal


def books(company) -> dict[str, Decimal]:
    """Balance (debit − credit) of every account that has one, by role."""
    roles = {account.pk: role for role, account in accounts_by_role(company.pk).items()}
    result: dict[str, Decimal] = {}
    for row in AccountBalance.objects.filter(company=company):
        if row.debit or row.credit:
            role = roles.get(row.account_id, str(row.account_id))
            result[role] = result.get(role, D(0)) + row.debit - row.credit
    return {role: amount for role, amount in result.items() if amount}


def assert_entries_balanced(company):
    for entry in JournalEntry.objects.filter(company=company).prefetch_related("lines"):
        lines = list(entry.lines.all())
        assert sum(line.debit for line in lines) == sum(line.credit for line in lines) == entry.total


def test_partial_shipment_is_invoiced_twice_and_never_more_than_shipped(db):
    company = company_build(country="ES")
    company.allow_backorders = True
    company.save(update_fields=["allow_backorders"])
    finance = actor_build(company, Role.FINANCE)
    manager = actor_build(company, Role.MANAGER)
    warehouse = warehouse_build(company)
    mug = stocked_product(company, warehouse=warehouse, quantity="4", unit_cost="3.0000", list_price="8.00")
    customer = party_build(company, tax_country="ES")
    # 10 ordered, 4 in stock: 4 reserved, 6 back-ordered.
    order = sales_order_create(
        actor=manager,
        customer_id=customer.pk,
        warehouse_id=warehouse.pk,
        lines=[{"sku": mug.sku, "quantity": "10"}],
        confirm=True,
    )
    shipped_build(company, warehouse=warehouse, order_ids=[order.pk])

    first = invoice_issue_for_order(actor=finance, order_id=order.pk)

    # 4 × 8.00 = 32.00, IVA 21 % 6.72
    assert (first.net_total, first.tax_total, first.payable) == (D("32.00"), D("6.72"), D("38.72"))
    order.refresh_from_db()
    assert order.billing_status == BillingStatus.PARTIALLY_INVOICED
    with pytest.raises(Conflict):
        invoice_issue_for_order(actor=finance, order_id=order.pk)

    # The rest arrives (back-orders are served first), ships, and is invoiced.
    stock_receive(
        actor=manager, product_id=mug.pk, warehouse_id=warehouse.pk, quantity="6", unit_cost="3.5", reason="receipt"
    )
    shipped_build(company, warehouse=warehouse, order_ids=[order.pk])
    second = invoice_issue_for_order(actor=finance, order_id=order.pk)

    assert (second.net_total, second.tax_total, second.payable) == (D("48.00"), D("10.08"), D("58.08"))
    year = first.issue_date.year
    assert (first.number, second.number) == (f"F{year}-000001", f"F{year}-000002")
    order.refresh_from_db()
    assert order.billing_status == BillingStatus.INVOICED
    assert SalesOrderLine.objects.get(order=order).quantity_invoiced == D("10.000")
    # Cost of goods: 4 × 3.00 + 6 × 3.50 = 33.00 (the average after the arrival: (0 + 21) / 6).
    assert books(company) == {
        AccountRole.RECEIVABLE: D("96.80"),
        AccountRole.REVENUE: D("-80.00"),
        AccountRole.TAX_PAYABLE: D("-16.80"),
        AccountRole.COST_OF_GOODS: D("33.00"),
        AccountRole.INVENTORY: D("-33.00"),
    }
    assert_entries_balanced(company)


def test_a_return_is_credited_and_its_cost_comes_back_to_stock(db):
    company = company_build(country="ES")
    finance = actor_build(company, Role.FINANCE)
    picker = actor_build(company, Role.WAREHOUSE)
    warehouse = warehouse_build(company)
    lamp = stocked_product(company, warehouse=warehouse, quantity="10", unit_cost="20.0000", list_price="49.90")
    shade = stocked_product(company, warehouse=warehouse, quantity="10", unit_cost="5.0000", list_price="12.50")
    customer = party_build(company, tax_country="ES")
    order = sales_order_create(
        actor=actor_build(company, Role.SALES),
        customer_id=customer.pk,
        warehouse_id=warehouse.pk,
        lines=[{"sku": lamp.sku, "quantity": "3"}, {"sku": shade.sku, "quantity": "2"}],
        confirm=True,
    )
    shipped_build(company, warehouse=warehouse, order_ids=[order.pk])
    invoice = invoice_issue_for_order(actor=finance, order_id=order.pk)
    # 3 × 49.90 = 149.70 + 2 × 12.50 = 25.00 → 174.70; IVA 21 %: 31.44 + 5.25 = 36.69
    assert (invoice.net_total, invoice.tax_total, invoice.payable) == (D("174.70"), D("36.69"), D("211.39"))

    lamp_line, shade_line = SalesOrderLine.objects.filter(order=order).order_by("position")
    customer_return = fulfilment.return_register(
        actor=picker,
        order_id=order.pk,
        lines=[{"line_id": lamp_line.pk, "quantity": "1"}, {"line_id": shade_line.pk, "quantity": "1"}],
        reason="damaged",
    )
    fulfilment.return_receive(
        actor=picker,
        return_id=customer_return.pk,
        dispositions={lamp_line.pk: "restock", shade_line.pk: "scrap"},
    )
    invoice_lines = {line.order_line_id: line for line in InvoiceLine.objects.filter(invoice=invoice)}
    note = credit_note_create(
        actor=finance,
        invoice_id=invoice.pk,
        lines=[(invoice_lines[lamp_line.pk].pk, "1"), (invoice_lines[shade_line.pk].pk, "1")],
        reason="Returned goods",
    )
    note = invoice_post(actor=finance, invoice_id=note.pk)
    # 49.90 + 12.50 = 62.40; IVA 10.48 + 2.63 = 13.11 → 75.51
    assert (note.net_total, note.tax_total, note.payable) == (D("62.40"), D("13.11"), D("75.51"))
    invoice.refresh_from_db()
    assert (invoice.residual, invoice.payment_status) == (D("135.88"), PaymentStatus.PARTIALLY_PAID)
    assert [line.quantity_invoiced for line in SalesOrderLine.objects.filter(order=order).order_by("position")] == [
        D("2.000"),
        D("1.000"),
    ]
    # Cost of goods: shipped 3 × 20 + 2 × 5 = 70.00; back 20.00 to stock and 5.00 to losses.
    assert books(company) == {
        AccountRole.RECEIVABLE: D("135.88"),
        AccountRole.REVENUE: D("-112.30"),
        AccountRole.TAX_PAYABLE: D("-23.58"),
        AccountRole.COST_OF_GOODS: D("45.00"),
        AccountRole.INVENTORY: D("-50.00"),
        AccountRole.INVENTORY_LOSS: D("5.00"),
    }
    assert_entries_balanced(company)


def test_year_end_closing_carries_the_profit_into_retained_earnings(db):
    company = company_build(country="ES")
    finance = actor_build(company, Role.FINANCE)
    last_year = datetime.date.today().year - 1
    fiscal_year_ensure(company=company, year=last_year)
    invoice_build(company, lines=((D("2"), D("100.00"), "standard"),), issue_date=datetime.date(last_year, 6, 30))
    invoice_build(
        company,
        lines=((D("1"), D("50.00"), "standard"),),
        issue_date=datetime.date(last_year, 7, 1),
        kind="supplier_bill",
    )
    assert books(company) == {
        AccountRole.RECEIVABLE: D("242.00"),
        AccountRole.REVENUE: D("-200.00"),
        AccountRole.TAX_PAYABLE: D("-42.00"),
        AccountRole.PURCHASES: D("50.00"),
        AccountRole.TAX_RECEIVABLE: D("10.50"),
        AccountRole.PAYABLE: D("-60.50"),
    }

    year = FiscalYear.objects.get(company=company, start_date=datetime.date(last_year, 1, 1))
    fiscal_year_close(actor=finance, fiscal_year_id=year.pk)

    assert books(company) == {
        AccountRole.RECEIVABLE: D("242.00"),
        AccountRole.TAX_PAYABLE: D("-42.00"),
        AccountRole.TAX_RECEIVABLE: D("10.50"),
        AccountRole.PAYABLE: D("-60.50"),
        AccountRole.RETAINED_EARNINGS: D("-150.00"),
    }
    year.refresh_from_db()
    assert year.state == "closed"
    assert_entries_balanced(company)
    # A closed year takes no more invoices.
    draft = invoice_build(company, post=False, issue_date=datetime.date(last_year, 12, 31))
    with pytest.raises(Conflict):
        invoice_post(actor=finance, invoice_id=draft.pk)
    assert Invoice.objects.get(pk=draft.pk).number == ""
