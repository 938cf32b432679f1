"""Customer invoices from orders: drafting from shipped quantities, issuing (numbers, postings,
open items), credit notes, and the refusals that keep a quantity from being invoiced twice."""

from decimal import Decimal

import pytest

from retaguarda.billing.choices import InvoiceKind, InvoiceStatus, PaymentStatus
from retaguarda.billing.models import Invoice, InvoiceLine
from retaguarda.billing.services import (
    credit_note_create,
    invoice_create_for_order,
    invoice_draft_delete,
    invoice_issue_for_order,
    invoice_post,
    invoice_settle,
)
from retaguarda.common.errors import Conflict, PermissionDenied, ValidationFailed
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import actor_build, company_build
from retaguarda.fulfilment.testing import shipped_build
from retaguarda.inventory.testing import stocked_product, warehouse_build
from retaguarda.ledger.choices import AccountRole
from retaguarda.ledger.models import AccountBalance, JournalEntry, JournalLine
from retaguarda.ledger.services import accounts_by_role
from retaguarda.parties.testing import party_build
from retaguarda.sales.choices import BillingStatus
from retaguarda.sales.models import SalesOrderLine
from retaguarda.sales.testing import order_build

pytestmark = pytest.mark.django_db
D = Decimal


def balance(company, role) -> Decimal:
    account = accounts_by_role(company.pk)[role]
    rows = AccountBalance.objects.filter(account=account)
    return sum((r.debit - r.credit for r in rows), D(0))


@pytest.fixture
def shop():
    company = company_build(country="ES")
    warehouse = warehouse_build(company)
    a = stocked_product(company, warehouse=warehouse, quantity="50", unit_cost="6.0000", list_price="10.00")
    b = stocked_product(
        company, warehouse=warehouse, quantity="50", unit_cost="2.5000", list_price="4.35", tax_category="reduced"
    )
    return company, warehouse, a, b


def test_an_order_shipped_in_full_is_invoiced_and_posted_to_the_cent(shop):
    company, warehouse, a, b = shop
    customer = party_build(company, tax_country="ES")
    order = order_build(company, warehouse=warehouse, lines=[(a, "3"), (b, "7")], customer=customer)
    shipped_build(company, warehouse=warehouse, order_ids=[order.pk])

    invoice = invoice_issue_for_order(actor=system_actor(company), order_id=order.pk)

    # 3 × 10.00 = 30.00 at 21 % = 6.30; 7 × 4.35 = 30.45 at 10 % = 3.045 → 3.05 (half up)
    assert (invoice.net_total, invoice.tax_total, invoice.grand_total, invoice.payable) == (
        D("60.45"),
        D("9.35"),
        D("69.80"),
        D("69.80"),
    )
    year = invoice.issue_date.year
    assert invoice.number == f"F{year}-000001"
    assert invoice.status == InvoiceStatus.POSTED
    assert invoice.residual == D("69.80")
    assert invoice.payment_status == PaymentStatus.NOT_PAID
    assert balance(company, AccountRole.RECEIVABLE) == D("69.80")
    assert balance(company, AccountRole.REVENUE) == D("-60.45")
    assert balance(company, AccountRole.TAX_PAYABLE) == D("-9.35")
    # Shipping posted the cost of goods: 3 × 6.00 + 7 × 2.50 = 35.50
    assert balance(company, AccountRole.COST_OF_GOODS) == D("35.50")
    assert balance(company, AccountRole.INVENTORY) == D("-35.50")
    open_item = JournalLine.objects.get(pk=invoice.open_item_id)
    assert (open_item.debit, open_item.residual, open_item.party_id, open_item.due_date) == (
        D("69.80"),
        D("69.80"),
        customer.pk,
        invoice.due_date,
    )
    lines = SalesOrderLine.objects.filter(order=order).order_by("position")
    assert [line.quantity_invoiced for line in lines] == [D("3.000"), D("7.000")]
    order.refresh_from_db()
    assert order.billing_status == BillingStatus.INVOICED


def test_nothing_is_invoiced_twice(shop):
    company, warehouse, a, _b = shop
    order = order_build(company, warehouse=warehouse, lines=[(a, "2")])
    shipped_build(company, warehouse=warehouse, order_ids=[order.pk])
    invoice_issue_for_order(actor=system_actor(company), order_id=order.pk)
    entries = JournalEntry.objects.filter(company=company).count()

    with pytest.raises(Conflict) as refused:
        invoice_create_for_order(actor=system_actor(company), order_id=order.pk)

    assert refused.value.code == "nothing_to_invoice"
    assert Invoice.objects.filter(company=company).count() == 1
    assert JournalEntry.objects.filter(company=company).count() == entries


def test_an_unshipped_order_has_nothing_to_invoice_on_the_shipped_basis_but_can_be_billed_as_ordered(shop):
    company, warehouse, a, _b = shop
    order = order_build(company, warehouse=warehouse, lines=[(a, "2")])
    with pytest.raises(Conflict):
        invoice_create_for_order(actor=system_actor(company), order_id=order.pk)
    draft = invoice_create_for_order(actor=system_actor(company), order_id=order.pk, basis="ordered")
    assert draft.status == InvoiceStatus.DRAFT and draft.number == ""
    assert draft.net_total == D("20.00")


def test_a_draft_deleted_gives_its_quantities_back(shop):
    company, warehouse, a, _b = shop
    order = order_build(company, warehouse=warehouse, lines=[(a, "2")])
    shipped_build(company, warehouse=warehouse, order_ids=[order.pk])
    draft = invoice_create_for_order(actor=system_actor(company), order_id=order.pk)
    assert SalesOrderLine.objects.get(order=order).quantity_invoiced == D("2.000")

    invoice_draft_delete(actor=system_actor(company), invoice_id=draft.pk)

    assert SalesOrderLine.objects.get(order=order).quantity_invoiced == D("0.000")
    assert not Invoice.objects.filter(pk=draft.pk).exists()
    again = invoice_create_for_order(actor=system_actor(company), order_id=order.pk)
    assert again.net_total == D("20.00")


def test_a_posted_invoice_is_never_deleted_nor_posted_twice(shop):
    company, warehouse, a, _b = shop
    order = order_build(company, warehouse=warehouse, lines=[(a, "1")])
    shipped_build(company, warehouse=warehouse, order_ids=[order.pk])
    invoice = invoice_issue_for_order(actor=system_actor(company), order_id=order.pk)
    with pytest.raises(Conflict):
        invoice_draft_delete(actor=system_actor(company), invoice_id=invoice.pk)
    with pytest.raises(Conflict):
        invoice_post(actor=system_actor(company), invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.POSTED
    assert JournalEntry.objects.filter(source_type="billing.invoice", source_id=str(invoice.pk)).count() == 1


def test_numbers_are_gap_free_per_series_and_a_failed_posting_gives_its_number_back(shop):
    company, warehouse, a, _b = shop
    actor = system_actor(company)
    orders = [order_build(company, warehouse=warehouse, lines=[(a, "1")]) for _ in range(3)]
    shipped_build(company, warehouse=warehouse, order_ids=[o.pk for o in orders])
    first = invoice_issue_for_order(actor=actor, order_id=orders[0].pk)
    draft = invoice_create_for_order(actor=actor, order_id=orders[1].pk)
    # A posting that fails (its period is closed) rolls back with its number.
    from retaguarda.ledger.models import Period

    Period.objects.filter(company=company, start_date__lte=draft.issue_date, end_date__gte=draft.issue_date).update(
        state="closed"
    )
    with pytest.raises(Conflict):
        invoice_post(actor=actor, invoice_id=draft.pk)
    Period.objects.filter(company=company).update(state="open")
    second = invoice_post(actor=actor, invoice_id=draft.pk)
    third = invoice_issue_for_order(actor=actor, order_id=orders[2].pk)
    year = first.issue_date.year
    assert [first.number, second.number, third.number] == [f"F{year}-000001", f"F{year}-000002", f"F{year}-000003"]


def test_a_credit_note_after_a_return_corrects_the_invoice_and_settles_it(shop):
    company, warehouse, a, b = shop
    actor = system_actor(company)
    order = order_build(company, warehouse=warehouse, lines=[(a, "3"), (b, "7")])
    shipped_build(company, warehouse=warehouse, order_ids=[order.pk])
    invoice = invoice_issue_for_order(actor=actor, order_id=order.pk)
    line_a = InvoiceLine.objects.get(invoice=invoice, position=1)

    note = credit_note_create(actor=actor, invoice_id=invoice.pk, lines=[(line_a.pk, D("1"))], reason="Damaged")
    assert note.kind == InvoiceKind.CUSTOMER_CREDIT_NOTE and note.status == InvoiceStatus.DRAFT
    # 1 × 10.00 + 21 % = 12.10
    assert (note.net_total, note.tax_total, note.payable) == (D("10.00"), D("2.10"), D("12.10"))
    assert SalesOrderLine.objects.get(order=order, position=1).quantity_invoiced == D("2.000")

    note = invoice_post(actor=actor, invoice_id=note.pk)

    year = note.issue_date.year
    assert note.number == f"R{year}-000001"
    assert note.corrected_invoice_id == invoice.pk
    invoice.refresh_from_db()
    note.refresh_from_db()
    assert invoice.residual == D("57.70")
    assert invoice.payment_status == PaymentStatus.PARTIALLY_PAID
    assert note.residual == D("0.00") and note.payment_status == PaymentStatus.PAID
    assert balance(company, AccountRole.RECEIVABLE) == D("57.70")
    assert balance(company, AccountRole.REVENUE) == D("-50.45")
    assert balance(company, AccountRole.TAX_PAYABLE) == D("-7.25")
    assert JournalLine.objects.get(pk=invoice.open_item_id).residual == D("57.70")
    assert JournalLine.objects.get(pk=note.open_item_id).residual == D("0.00")


def test_a_credit_note_cannot_credit_more_than_was_invoiced(shop):
    company, warehouse, a, _b = shop
    actor = system_actor(company)
    order = order_build(company, warehouse=warehouse, lines=[(a, "2")])
    shipped_build(company, warehouse=warehouse, order_ids=[order.pk])
    invoice = invoice_issue_for_order(actor=actor, order_id=order.pk)
    line = InvoiceLine.objects.get(invoice=invoice)
    credit_note_create(actor=actor, invoice_id=invoice.pk, lines=[(line.pk, D("2"))], reason="Returned")
    notes = Invoice.objects.filter(kind=InvoiceKind.CUSTOMER_CREDIT_NOTE).count()

    with pytest.raises(Conflict):
        credit_note_create(actor=actor, invoice_id=invoice.pk, reason="Again")
    with pytest.raises(ValidationFailed):
        credit_note_create(actor=actor, invoice_id=invoice.pk, lines=[(line.pk, D("1"))], reason="Again")

    assert Invoice.objects.filter(kind=InvoiceKind.CUSTOMER_CREDIT_NOTE).count() == notes


def test_settling_more_than_is_open_is_refused_and_paying_in_full_closes_the_order(shop):
    company, warehouse, a, _b = shop
    actor = system_actor(company)
    order = order_build(company, warehouse=warehouse, lines=[(a, "1")])
    shipped_build(company, warehouse=warehouse, order_ids=[order.pk])
    invoice = invoice_issue_for_order(actor=actor, order_id=order.pk)
    with pytest.raises(Conflict):
        invoice_settle(invoice_id=invoice.pk, amount=D("12.11"), paid_on=invoice.issue_date)
    invoice.refresh_from_db()
    assert invoice.residual == D("12.10")

    invoice_settle(invoice_id=invoice.pk, amount=D("12.10"), paid_on=invoice.issue_date)

    invoice.refresh_from_db()
    order.refresh_from_db()
    assert invoice.payment_status == PaymentStatus.PAID and invoice.paid_at == invoice.issue_date
    assert order.status == "closed"


@pytest.mark.parametrize("role", ["sales", "warehouse", "hr"])
def test_only_finance_issues_invoices(shop, role):
    company, warehouse, a, _b = shop
    order = order_build(company, warehouse=warehouse, lines=[(a, "1")])
    shipped_build(company, warehouse=warehouse, order_ids=[order.pk])
    with pytest.raises(PermissionDenied):
        invoice_issue_for_order(actor=actor_build(company, role), order_id=order.pk)
    assert not Invoice.objects.filter(company=company).exists()
    assert SalesOrderLine.objects.get(order=order).quantity_invoiced == D("0.000")
