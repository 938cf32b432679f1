"""Property: whatever sequence of business operations runs — orders shipped and invoiced,
credit notes, payments (partial, full, over), payments cancelled — no journal entry is
unbalanced, no invoice series has a gap, and the receivable in the ledger agrees with the open
invoices, credit notes and unapplied payments."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retaguarda.billing.models import Invoice, InvoiceLine
from retaguarda.billing.services import credit_note_create, invoice_issue_for_order, invoice_post
from retaguarda.collections.models import Payment
from retaguarda.collections.services import payment_cancel, payment_register
from retaguarda.common.errors import DomainError
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import company_build
from retaguarda.fulfilment.testing import shipped_build
from retaguarda.inventory.testing import stocked_product, warehouse_build
from retaguarda.ledger.choices import AccountRole
from retaguarda.ledger.models import AccountBalance, JournalEntry, JournalLine
from retaguarda.ledger.services import accounts_by_role
from retaguarda.parties.testing import party_build
from retaguarda.sales.testing import order_build

D = Decimal

operations = st.lists(
    st.one_of(
        st.tuples(st.just("order"), st.integers(0, 1), st.integers(1, 3), st.integers(0, 2)),
        st.tuples(st.just("credit"), st.integers(0, 20), st.integers(1, 2)),
        st.tuples(st.just("pay"), st.integers(0, 1), st.integers(1, 40000)),
        st.tuples(st.just("cancel"), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=8,
)


@pytest.fixture
def shop(db):
    company = company_build(country="ES")
    warehouse = warehouse_build(company)
    products = [
        stocked_product(company, warehouse=warehouse, quantity="500", unit_cost="2.5000", list_price=price, **extra)
        for price, extra in (("9.99", {}), ("4.35", {"tax_category": "reduced"}), ("0.35", {}))
    ]
    customers = [party_build(company, tax_country="ES") for _ in range(2)]
    return company, warehouse, products, customers


def run(company, warehouse, products, customers, steps) -> None:
    actor = system_actor(company)
    for step in steps:
        try:
            if step[0] == "order":
                _, customer, quantity, product = step
                order = order_build(
                    company, warehouse=warehouse, lines=[(products[product], quantity)], customer=customers[customer]
                )
                shipped_build(company, warehouse=warehouse, order_ids=[order.pk])
                invoice_issue_for_order(actor=actor, order_id=order.pk)
            elif step[0] == "credit":
                invoices = list(Invoice.objects.filter(company=company, kind="customer_invoice").order_by("pk"))
                if invoices:
                    invoice = invoices[step[1] % len(invoices)]
                    line = InvoiceLine.objects.filter(invoice=invoice).first()
                    note = credit_note_create(
                        actor=actor, invoice_id=invoice.pk, lines=[(line.pk, D(step[2]))], reason="Property test"
                    )
                    invoice_post(actor=actor, invoice_id=note.pk)
            elif step[0] == "pay":
                _, customer, cents = step
                payment_register(actor=actor, party_id=customers[customer].pk, amount=D(cents) / 100, method="transfer")
            elif step[0] == "cancel":
                payments = list(Payment.objects.filter(company=company, status="posted").order_by("pk"))
                if payments:
                    payment_cancel(actor=actor, payment_id=payments[step[1] % len(payments)].pk, reason="Bounced")
        except DomainError:
            pass  # a refused operation writes nothing; the invariants below must hold anyway


def check_invariants(company) -> None:
    for entry in JournalEntry.objects.filter(company=company).annotate(d=Sum("lines__debit"), c=Sum("lines__credit")):
        assert entry.d == entry.c == entry.total, entry.number
    for kind, series in (
        Invoice.objects.filter(company=company).exclude(number="").values_list("kind", "series").distinct()
    ):
        numbers = sorted(
            Invoice.objects.filter(company=company, kind=kind, series=series)
            .exclude(number="")
            .values_list("sequence_number", flat=True)
        )
        assert numbers == list(range(1, len(numbers) + 1)), (kind, series, numbers)
    receivable = accounts_by_role(company.pk)[AccountRole.RECEIVABLE]
    balances = AccountBalance.objects.filter(account=receivable).aggregate(d=Sum("debit"), c=Sum("credit"))
    ledger = (balances["d"] or D(0)) - (balances["c"] or D(0))
    open_items = JournalLine.objects.filter(account=receivable).aggregate(r=Sum("residual"))["r"] or D(0)
    invoices = Invoice.objects.filter(company=company, kind="customer_invoice", status="posted")
    notes = Invoice.objects.filter(company=company, kind="customer_credit_note", status="posted")
    unapplied = Payment.objects.filter(company=company, status="posted", direction="in").aggregate(u=Sum("unapplied"))
    documents = (
        (invoices.aggregate(r=Sum("residual"))["r"] or D(0))
        - (notes.aggregate(r=Sum("residual"))["r"] or D(0))
        - (unapplied["u"] or D(0))
    )
    assert ledger == open_items == documents


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_random_operations_keep_the_books_consistent(shop, steps):
    company, warehouse, products, customers = shop
    run(company, warehouse, products, customers, steps)
    check_invariants(company)
