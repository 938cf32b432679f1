"""Payments, credits and refunds through the services: what each posts to the books (bank,
receivable or payable per party, exchange gains and losses) to the cent, what it does to the
invoices, cancellation, and refusals that write nothing."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from retaguarda.billing.choices import InvoiceKind, PaymentStatus
from retaguarda.billing.services import credit_note_create, invoice_post, invoice_settle
from retaguarda.collections.choices import Direction, PaymentKind
from retaguarda.collections.choices import PaymentStatus as Status
from retaguarda.collections.models import Payment, PaymentAllocation
from retaguarda.collections.services import (
    credit_apply,
    payment_cancel,
    payment_register,
    refund_register,
)
from retaguarda.collections.testing import (
    bank_account_build,
    invoice_of,
    ledger_balance,
    open_amount,
    payment_build,
)
from retaguarda.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from retaguarda.core.choices import Role
from retaguarda.core.models import AuditLog, OutboxEvent
from retaguarda.core.testing import actor_build, company_build
from retaguarda.ledger.choices import AccountRole as R
from retaguarda.ledger.choices import JournalKind
from retaguarda.ledger.models import JournalEntry, JournalLine, Reconciliation
from retaguarda.ledger.services import rate_set
from retaguarda.parties.testing import party_build

from .helpers import state

D = Decimal
TODAY = datetime.date.today()


def refreshed(*objects):
    for obj in objects:
        obj.refresh_from_db()
    return objects


def books(company, party=None):
    """(bank, receivable of the party, payable of the party, exchange gains, exchange losses)."""
    return (
        ledger_balance(company, R.BANK),
        ledger_balance(company, R.RECEIVABLE, party=party),
        ledger_balance(company, R.PAYABLE, party=party),
        ledger_balance(company, R.EXCHANGE_GAIN),
        ledger_balance(company, R.EXCHANGE_LOSS),
    )


# --- receiving money ---------------------------------------------------------------------------------


def test_full_payment_settles_the_invoice_and_posts_bank_against_receivable(company, admin_actor, customer):
    invoice = invoice_of(company, customer, "100.00")
    assert books(company, customer) == (D("0.00"), D("100.00"), D("0.00"), D("0.00"), D("0.00"))

    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="100.00", reference="TRF 881")

    refreshed(invoice)
    assert (payment.kind, payment.direction, payment.status) == ("payment", "in", "posted")
    assert (payment.amount, payment.amount_base, payment.unapplied, payment.currency) == (
        D("100.00"),
        D("100.00"),
        D("0.00"),
        "EUR",
    )
    assert payment.number == f"PAY{TODAY.year}-000001"
    assert (invoice.residual, invoice.payment_status, invoice.paid_at) == (D("0.00"), PaymentStatus.PAID, TODAY)
    assert books(company, customer) == (D("100.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"))
    assert open_amount(company, R.RECEIVABLE, party=customer) == D("0.00")
    entry = JournalEntry.objects.get(pk=payment.journal_entry_id)
    assert (entry.journal.kind, entry.total, entry.source_type, entry.source_id) == (
        JournalKind.BANK,
        D("100.00"),
        "collections.payment",
        str(payment.pk),
    )
    lines = list(JournalLine.objects.filter(entry=entry).order_by("position"))
    assert [(line.account.role, line.debit, line.credit, line.party_id, line.residual) for line in lines] == [
        (R.RECEIVABLE, D("0.00"), D("100.00"), customer.pk, D("0.00")),
        (R.BANK, D("100.00"), D("0.00"), None, D("0.00")),
    ]
    allocation = PaymentAllocation.objects.get()
    assert (allocation.invoice_id, allocation.amount, allocation.amount_base, allocation.exchange_entry_id) == (
        invoice.pk,
        D("100.00"),
        D("100.00"),
        None,
    )
    assert [(r.debit_line_id, r.credit_line_id, r.amount) for r in allocation.reconciliations.all()] == [
        (invoice.open_item_id, payment.open_item_id, D("100.00"))
    ]
    assert AuditLog.objects.filter(action="payment.register", object_id=str(payment.pk)).count() == 1
    assert list(
        OutboxEvent.objects.filter(name__in=("payment.registered", "invoice.paid"))
        .values_list("name", flat=True)
        .order_by("pk")
    ) == [
        "invoice.paid",
        "payment.registered",
    ]


def test_partial_then_full_payment(company, admin_actor, customer):
    invoice = invoice_of(company, customer, "250.00")

    first = payment_register(actor=admin_actor, party_id=customer.pk, amount="100.00")
    refreshed(invoice)
    assert (invoice.residual, invoice.payment_status, invoice.paid_at) == (
        D("150.00"),
        PaymentStatus.PARTIALLY_PAID,
        None,
    )
    assert first.unapplied == D("0.00")
    assert books(company, customer) == (D("100.00"), D("150.00"), D("0.00"), D("0.00"), D("0.00"))
    assert open_amount(company, R.RECEIVABLE, party=customer) == D("150.00")

    payment_register(actor=admin_actor, party_id=customer.pk, amount="150.00", date=TODAY)
    refreshed(invoice)
    assert (invoice.residual, invoice.payment_status, invoice.paid_at) == (D("0.00"), PaymentStatus.PAID, TODAY)
    assert books(company, customer) == (D("250.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"))
    assert open_amount(company, R.RECEIVABLE, party=customer) == D("0.00")
    assert Reconciliation.objects.count() == 2


def test_default_allocation_pays_the_oldest_due_first(company, admin_actor, customer):
    later = invoice_of(company, customer, "80.00", issue_date=TODAY - datetime.timedelta(days=5), due_days=30)
    sooner = invoice_of(company, customer, "100.00", issue_date=TODAY - datetime.timedelta(days=40), due_days=30)
    third = invoice_of(company, customer, "60.00", issue_date=TODAY, due_days=60)

    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="150.00")

    refreshed(later, sooner, third)
    assert (sooner.residual, later.residual, third.residual) == (D("0.00"), D("30.00"), D("60.00"))
    assert list(payment.allocations.order_by("pk").values_list("invoice_id", "amount")) == [
        (sooner.pk, D("100.00")),
        (later.pk, D("50.00")),
    ]
    assert books(company, customer) == (D("150.00"), D("90.00"), D("0.00"), D("0.00"), D("0.00"))


def test_explicit_allocations_to_several_invoices_leave_the_rest_as_credit(company, admin_actor, customer):
    a = invoice_of(company, customer, "40.00")
    b = invoice_of(company, customer, "70.00")
    c = invoice_of(company, customer, "90.00")

    payment = payment_register(
        actor=admin_actor,
        party_id=customer.pk,
        amount="100.00",
        allocations=[(c.pk, D("60.00")), (a.pk, "25.50")],
    )

    refreshed(a, b, c)
    assert (a.residual, b.residual, c.residual) == (D("14.50"), D("70.00"), D("30.00"))
    assert payment.unapplied == D("14.50")
    assert books(company, customer) == (D("100.00"), D("100.00"), D("0.00"), D("0.00"), D("0.00"))
    # The unapplied part stays open on the payment's line: the customer's credit.
    assert JournalLine.objects.get(pk=payment.open_item_id).residual == D("-14.50")
    assert open_amount(company, R.RECEIVABLE, party=customer) == D("100.00")


def test_empty_allocations_keep_the_whole_payment_as_credit(company, admin_actor, customer):
    invoice = invoice_of(company, customer, "50.00")
    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="50.00", allocations=[])
    refreshed(invoice)
    assert (invoice.residual, payment.unapplied, payment.allocations.count()) == (D("50.00"), D("50.00"), 0)
    assert books(company, customer) == (D("50.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"))


def test_over_payment_credit_is_applied_to_the_next_invoice(company, admin_actor, customer):
    first = invoice_of(company, customer, "100.00")
    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="130.00")
    refreshed(first)
    assert (first.residual, payment.unapplied) == (D("0.00"), D("30.00"))
    assert books(company, customer) == (D("130.00"), D("-30.00"), D("0.00"), D("0.00"), D("0.00"))
    assert JournalLine.objects.get(pk=payment.open_item_id).residual == D("-30.00")

    second = invoice_of(company, customer, "50.00")
    allocations = credit_apply(actor=admin_actor, party_id=customer.pk, invoice_id=second.pk, amount="30.00")

    refreshed(second, payment)
    assert [(a.payment_id, a.invoice_id, a.amount) for a in allocations] == [(payment.pk, second.pk, D("30.00"))]
    assert (second.residual, second.payment_status, payment.unapplied) == (
        D("20.00"),
        PaymentStatus.PARTIALLY_PAID,
        D("0.00"),
    )
    assert books(company, customer) == (D("130.00"), D("20.00"), D("0.00"), D("0.00"), D("0.00"))
    assert JournalLine.objects.get(pk=payment.open_item_id).residual == D("0.00")
    assert JournalLine.objects.get(pk=second.open_item_id).residual == D("20.00")


def test_credit_apply_refuses_more_than_the_credit_or_the_invoice(company, admin_actor, customer):
    invoice_of(company, customer, "10.00")
    payment_register(actor=admin_actor, party_id=customer.pk, amount="40.00")  # 30.00 credit
    small = invoice_of(company, customer, "20.00")
    big = invoice_of(company, customer, "100.00")
    before = state()
    with pytest.raises(ValidationFailed) as too_much_credit:
        credit_apply(actor=admin_actor, party_id=customer.pk, invoice_id=big.pk, amount="30.01")
    assert too_much_credit.value.fields == {"amount": ["The party's credit is 30.00."]}
    with pytest.raises(ValidationFailed) as too_much_open:
        credit_apply(actor=admin_actor, party_id=customer.pk, invoice_id=small.pk, amount="25.00")
    assert too_much_open.value.fields == {"amount": [f"Only 20.00 is open on invoice {small.number}."]}
    assert state() == before


def test_refund_pays_back_the_customers_credit(company, admin_actor, customer):
    invoice_of(company, customer, "100.00")
    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="130.00")

    refund = refund_register(actor=admin_actor, party_id=customer.pk, amount="30.00", reference="Devolución")

    refreshed(payment)
    assert (refund.kind, refund.direction, refund.amount, refund.unapplied) == (
        PaymentKind.REFUND,
        Direction.OUT,
        D("30.00"),
        D("0.00"),
    )
    assert payment.unapplied == D("0.00")
    assert books(company, customer) == (D("100.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"))
    assert open_amount(company, R.RECEIVABLE, party=customer) == D("0.00")
    lines = JournalLine.objects.filter(entry_id=refund.journal_entry_id).order_by("position")
    assert [(line.account.role, line.debit, line.credit) for line in lines] == [
        (R.RECEIVABLE, D("30.00"), D("0.00")),
        (R.BANK, D("0.00"), D("30.00")),
    ]
    assert list(PaymentAllocation.objects.filter(refund=refund).values_list("payment_id", "amount")) == [
        (payment.pk, D("30.00"))
    ]


def test_refund_of_more_than_the_credit_is_refused(company, admin_actor, customer):
    invoice_of(company, customer, "100.00")
    payment_register(actor=admin_actor, party_id=customer.pk, amount="110.00")
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        refund_register(actor=admin_actor, party_id=customer.pk, amount="10.01")
    assert refused.value.fields == {"amount": ["The party's credit is 10.00."]}
    assert state() == before


def test_credit_note_credit_is_applied_and_refunded(company, admin_actor, customer):
    paid = invoice_of(company, customer, "100.00")
    payment_register(actor=admin_actor, party_id=customer.pk, amount="100.00")
    note = credit_note_create(actor=admin_actor, invoice_id=paid.pk, reason="Returned goods")
    note = invoice_post(actor=admin_actor, invoice_id=note.pk)
    assert (note.kind, note.residual) == (InvoiceKind.CUSTOMER_CREDIT_NOTE, D("100.00"))
    assert books(company, customer) == (D("100.00"), D("-100.00"), D("0.00"), D("0.00"), D("0.00"))

    next_invoice = invoice_of(company, customer, "80.00")
    credit_apply(actor=admin_actor, party_id=customer.pk, invoice_id=next_invoice.pk, amount="80.00")
    refreshed(note, next_invoice)
    assert (next_invoice.residual, next_invoice.payment_status, note.residual) == (
        D("0.00"),
        PaymentStatus.PAID,
        D("20.00"),
    )
    assert books(company, customer) == (D("100.00"), D("-20.00"), D("0.00"), D("0.00"), D("0.00"))

    refund = refund_register(actor=admin_actor, party_id=customer.pk, amount="20.00", credit_note_id=note.pk)
    refreshed(note)
    assert note.residual == D("0.00")
    assert list(PaymentAllocation.objects.filter(refund=refund).values_list("credit_note_id", "amount")) == [
        (note.pk, D("20.00"))
    ]
    assert books(company, customer) == (D("80.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"))
    assert open_amount(company, R.RECEIVABLE, party=customer) == D("0.00")


# --- foreign currency ---------------------------------------------------------------------------------


def test_foreign_invoice_paid_at_a_higher_rate_posts_an_exchange_gain(company, admin_actor, customer):
    invoice = invoice_of(company, customer, "100.00", currency="USD", rate="0.90")
    assert JournalLine.objects.get(pk=invoice.open_item_id).residual == D("90.00")

    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="100.00", currency="USD", rate="0.95")

    refreshed(invoice)
    assert (payment.amount, payment.rate, payment.amount_base, payment.unapplied) == (
        D("100.00"),
        D("0.950000"),
        D("95.00"),
        D("0.00"),
    )
    assert (invoice.residual, invoice.payment_status) == (D("0.00"), PaymentStatus.PAID)
    assert books(company, customer) == (D("95.00"), D("0.00"), D("0.00"), D("-5.00"), D("0.00"))
    assert open_amount(company, R.RECEIVABLE, party=customer) == D("0.00")
    payment_line = JournalLine.objects.get(pk=payment.open_item_id)
    assert (payment_line.credit, payment_line.currency, payment_line.amount_currency) == (
        D("95.00"),
        "USD",
        D("-100.00"),
    )
    allocation = PaymentAllocation.objects.get()
    assert allocation.amount_base == D("90.00")
    exchange = JournalLine.objects.filter(entry_id=allocation.exchange_entry_id).order_by("position")
    assert [(line.account.role, line.debit, line.credit, line.party_id) for line in exchange] == [
        (R.RECEIVABLE, D("5.00"), D("0.00"), customer.pk),
        (R.EXCHANGE_GAIN, D("0.00"), D("5.00"), None),
    ]
    assert sorted(r.amount for r in allocation.reconciliations.all()) == [D("5.00"), D("90.00")]


def test_foreign_invoice_paid_at_a_lower_rate_posts_an_exchange_loss(company, admin_actor, customer):
    invoice = invoice_of(company, customer, "100.00", currency="USD", rate="0.95")
    payment_register(actor=admin_actor, party_id=customer.pk, amount="100.00", currency="USD", rate="0.90")
    refreshed(invoice)
    assert invoice.residual == D("0.00")
    assert books(company, customer) == (D("90.00"), D("0.00"), D("0.00"), D("0.00"), D("5.00"))
    assert open_amount(company, R.RECEIVABLE, party=customer) == D("0.00")


def test_foreign_invoice_paid_in_two_parts_closes_exactly(company, admin_actor, customer):
    invoice = invoice_of(company, customer, "100.00", currency="USD", rate="0.90")
    payment_register(actor=admin_actor, party_id=customer.pk, amount="40.00", currency="USD", rate="0.95")
    refreshed(invoice)
    # 40 of 100 USD booked at 90.00 EUR: 36.00 of the open item; paid 38.00: 2.00 gained.
    assert invoice.residual == D("60.00")
    assert JournalLine.objects.get(pk=invoice.open_item_id).residual == D("54.00")
    assert books(company, customer) == (D("38.00"), D("54.00"), D("0.00"), D("-2.00"), D("0.00"))

    payment_register(actor=admin_actor, party_id=customer.pk, amount="60.00", currency="USD", rate="0.93")
    refreshed(invoice)
    # The rest, 54.00 EUR, paid with 55.80 EUR: 1.80 gained.
    assert invoice.residual == D("0.00")
    assert books(company, customer) == (D("93.80"), D("0.00"), D("0.00"), D("-3.80"), D("0.00"))
    assert open_amount(company, R.RECEIVABLE, party=customer) == D("0.00")


def test_the_rate_defaults_to_the_recorded_rate_of_the_date(company, admin_actor, customer):
    rate_set(actor=admin_actor, company=company, currency="USD", date=TODAY, rate="0.92")
    invoice_of(company, customer, "10.00", currency="USD", rate="0.92")
    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="10.00", currency="USD")
    assert (payment.rate, payment.amount_base) == (D("0.920000"), D("9.20"))
    assert books(company, customer) == (D("9.20"), D("0.00"), D("0.00"), D("0.00"), D("0.00"))


def test_a_foreign_payment_without_a_rate_is_refused(company, admin_actor, customer):
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        payment_register(actor=admin_actor, party_id=customer.pk, amount="10.00", currency="USD")
    assert list(refused.value.fields) == ["rate"]
    assert state() == before


# --- suppliers -----------------------------------------------------------------------------------------


def test_a_supplier_bill_is_paid_out_of_the_bank(company, admin_actor, supplier):
    bill = invoice_of(company, supplier, "300.00", kind=InvoiceKind.SUPPLIER_BILL)
    assert books(company, supplier) == (D("0.00"), D("0.00"), D("-300.00"), D("0.00"), D("0.00"))
    bank = bank_account_build(company)

    payment = payment_register(
        actor=admin_actor, party_id=supplier.pk, amount="300.00", direction="out", bank_account_id=bank.pk
    )

    refreshed(bill)
    assert (payment.direction, payment.bank_account_id, bill.residual, bill.payment_status) == (
        "out",
        bank.pk,
        D("0.00"),
        PaymentStatus.PAID,
    )
    assert books(company, supplier) == (D("-300.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"))
    assert open_amount(company, R.PAYABLE, party=supplier) == D("0.00")
    lines = JournalLine.objects.filter(entry_id=payment.journal_entry_id).order_by("position")
    assert [(line.account.role, line.debit, line.credit) for line in lines] == [
        (R.PAYABLE, D("300.00"), D("0.00")),
        (R.BANK, D("0.00"), D("300.00")),
    ]


def test_cash_payments_post_to_the_cash_account(company, admin_actor, customer):
    invoice_of(company, customer, "12.00")
    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="12.00", method="cash")
    assert payment.journal_entry.journal.kind == JournalKind.CASH
    assert (ledger_balance(company, R.CASH), ledger_balance(company, R.BANK)) == (D("12.00"), D("0.00"))


# --- cancellation --------------------------------------------------------------------------------------


def test_cancel_reopens_the_invoices_and_reverses_the_entry(company, admin_actor, customer):
    a = invoice_of(company, customer, "100.00")
    b = invoice_of(company, customer, "50.00")
    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="170.00")
    assert books(company, customer) == (D("170.00"), D("-20.00"), D("0.00"), D("0.00"), D("0.00"))

    cancelled = payment_cancel(actor=admin_actor, payment_id=payment.pk, reason="Bounced")

    refreshed(a, b)
    assert (cancelled.status, cancelled.unapplied, cancelled.cancel_reason) == (Status.CANCELLED, D("0.00"), "Bounced")
    assert [(x.residual, x.payment_status, x.paid_at) for x in (a, b)] == [
        (D("100.00"), PaymentStatus.NOT_PAID, None),
        (D("50.00"), PaymentStatus.NOT_PAID, None),
    ]
    assert books(company, customer) == (D("0.00"), D("150.00"), D("0.00"), D("0.00"), D("0.00"))
    assert open_amount(company, R.RECEIVABLE, party=customer) == D("150.00")
    assert JournalLine.objects.get(pk=a.open_item_id).residual == D("100.00")
    assert cancelled.reversal_entry.reversal_of_id == payment.journal_entry_id
    assert list(PaymentAllocation.objects.values_list("is_reversed", flat=True)) == [True, True]
    assert OutboxEvent.objects.filter(name="payment.cancelled", object_id=str(payment.pk)).count() == 1

    before = state()
    with pytest.raises(Conflict) as again:
        payment_cancel(actor=admin_actor, payment_id=payment.pk, reason="Twice")
    assert again.value.code == "already_cancelled"
    assert state() == before


def test_cancelling_a_foreign_payment_reverses_its_exchange_difference(company, admin_actor, customer):
    invoice = invoice_of(company, customer, "100.00", currency="USD", rate="0.90")
    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="100.00", currency="USD", rate="0.95")
    payment_cancel(actor=admin_actor, payment_id=payment.pk, reason="Wrong customer")
    refreshed(invoice)
    assert (invoice.residual, invoice.payment_status) == (D("100.00"), PaymentStatus.NOT_PAID)
    assert books(company, customer) == (D("0.00"), D("90.00"), D("0.00"), D("0.00"), D("0.00"))
    assert open_amount(company, R.RECEIVABLE, party=customer) == D("90.00")


def test_a_payment_whose_credit_was_refunded_is_cancelled_after_its_refund(company, admin_actor, customer):
    invoice_of(company, customer, "100.00")
    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="130.00")
    refund = refund_register(actor=admin_actor, party_id=customer.pk, amount="30.00")
    before = state()
    with pytest.raises(Conflict) as refused:
        payment_cancel(actor=admin_actor, payment_id=payment.pk, reason="Bounced")
    assert refused.value.code == "credit_refunded"
    assert state() == before

    payment_cancel(actor=admin_actor, payment_id=refund.pk, reason="Refund returned")
    refreshed(payment)
    assert payment.unapplied == D("30.00")
    assert books(company, customer) == (D("130.00"), D("-30.00"), D("0.00"), D("0.00"), D("0.00"))

    payment_cancel(actor=admin_actor, payment_id=payment.pk, reason="Bounced")
    assert books(company, customer) == (D("0.00"), D("100.00"), D("0.00"), D("0.00"), D("0.00"))
    assert open_amount(company, R.RECEIVABLE, party=customer) == D("100.00")


def test_cancel_needs_a_reason(company, admin_actor, customer):
    payment = payment_build(company, party=customer, amount="5.00")
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        payment_cancel(actor=admin_actor, payment_id=payment.pk, reason="  ")
    assert list(refused.value.fields) == ["reason"]
    assert state() == before


# --- refusals ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, fields",
    [
        ({"amount": "abc"}, ["amount"]),
        ({"amount": "0"}, ["amount"]),
        ({"amount": "-5.00"}, ["amount"]),
        ({"amount": "1.001"}, ["amount"]),
        ({"amount": 1.5}, ["amount"]),
        ({"method": "cheque"}, ["method"]),
        ({"direction": "sideways"}, ["direction"]),
        ({"date": "2026-13-01"}, ["date"]),
        ({"date": "1999-12-31"}, ["date"]),
        ({"reference": "x" * 101}, ["reference"]),
        ({"currency": "XXX"}, ["currency"]),
        ({"rate": "1.5"}, ["rate"]),
        ({"amount": "999999999999.99", "currency": "USD", "rate": "2"}, ["rate"]),
        ({"allocations": "all"}, ["allocations"]),
        ({"allocations": [("abc", "1.00")]}, ["allocations.0.invoice_id"]),
        ({"allocations": [(1, "x")]}, ["allocations.0.amount"]),
    ],
)
def test_invalid_input_is_refused_with_its_fields_and_nothing_written(company, admin_actor, customer, changes, fields):
    invoice_of(company, customer, "100.00")
    arguments = {"actor": admin_actor, "party_id": customer.pk, "amount": "10.00", **changes}
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        payment_register(**arguments)
    assert sorted(refused.value.fields) == fields
    assert state() == before


def test_allocations_beyond_an_invoices_open_amount_are_refused(company, admin_actor, customer):
    invoice = invoice_of(company, customer, "100.00")
    payment_register(actor=admin_actor, party_id=customer.pk, amount="60.00")
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        payment_register(
            actor=admin_actor, party_id=customer.pk, amount="50.00", allocations=[(invoice.pk, D("40.01"))]
        )
    assert refused.value.fields == {"allocations.0.amount": [f"Only 40.00 is open on invoice {invoice.number}."]}
    assert state() == before


def test_allocations_of_more_than_the_payment_or_to_other_documents_are_refused(
    company, admin_actor, customer, other_customer, supplier
):
    mine = invoice_of(company, customer, "100.00")
    theirs = invoice_of(company, other_customer, "100.00")
    dollars = invoice_of(company, customer, "100.00", currency="USD", rate="0.9")
    bill = invoice_of(company, supplier, "100.00", kind=InvoiceKind.SUPPLIER_BILL)
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        payment_register(
            actor=admin_actor,
            party_id=customer.pk,
            amount="17.00",
            allocations=[(mine.pk, "15.00"), (theirs.pk, "1.00"), (dollars.pk, "1.00"), (bill.pk, "1.00")],
        )
    assert refused.value.fields == {
        "allocations.1.invoice_id": [f"Invoice {theirs.number} is of another party."],
        "allocations.2.invoice_id": [f"Invoice {dollars.number} is in USD: the payment must be too."],
        "allocations.3.invoice_id": [f"Invoice {bill.number} is of another party."],
        "allocations": ["The allocations add up to 18.00, more than the payment."],
    }
    with pytest.raises(ValidationFailed) as twice:
        payment_register(
            actor=admin_actor, party_id=customer.pk, amount="20.00", allocations=[(mine.pk, "5"), (mine.pk, "5")]
        )
    assert twice.value.fields == {"allocations.1.invoice_id": ["This invoice is listed twice."]}
    assert state() == before


def test_a_customer_payment_needs_a_customer(company, admin_actor, supplier):
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        payment_register(actor=admin_actor, party_id=supplier.pk, amount="10.00")
    assert refused.value.fields == {"party_id": [f"{supplier} is not a customer."]}
    assert state() == before


def test_ids_of_another_company_are_not_found(company, admin_actor, customer):
    other = company_build(country="ES")
    stranger = party_build(other)
    foreign_invoice = invoice_of(other, stranger, "10.00")
    foreign_bank = bank_account_build(other)
    foreign_payment = payment_build(other, party=stranger, amount="10.00")
    own_invoice = invoice_of(company, customer, "10.00")
    before = state()
    attempts = [
        lambda: payment_register(actor=admin_actor, party_id=stranger.pk, amount="10.00"),
        lambda: payment_register(
            actor=admin_actor, party_id=customer.pk, amount="10.00", allocations=[(foreign_invoice.pk, "1.00")]
        ),
        lambda: payment_register(
            actor=admin_actor, party_id=customer.pk, amount="10.00", bank_account_id=foreign_bank.pk
        ),
        lambda: payment_cancel(actor=admin_actor, payment_id=foreign_payment.pk, reason="Not ours"),
        lambda: credit_apply(actor=admin_actor, party_id=customer.pk, invoice_id=foreign_invoice.pk, amount="1.00"),
        lambda: credit_apply(
            actor=admin_actor,
            party_id=customer.pk,
            invoice_id=own_invoice.pk,
            amount="1.00",
            payment_id=foreign_payment.pk,
        ),
        lambda: refund_register(actor=admin_actor, party_id=stranger.pk, amount="1.00"),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            attempt()
    assert state() == before


@pytest.mark.parametrize("role", [Role.MANAGER, Role.SALES, Role.WAREHOUSE, Role.HR, Role.SUPPORT, Role.LEGAL])
def test_roles_without_collections_change_are_refused(company, customer, role):
    invoice_of(company, customer, "100.00")
    payment = payment_build(company, party=customer, amount="120.00")
    actor = actor_build(company, role)
    before = state()
    attempts = [
        lambda: payment_register(actor=actor, party_id=customer.pk, amount="10.00"),
        lambda: payment_cancel(actor=actor, payment_id=payment.pk, reason="No"),
        lambda: refund_register(actor=actor, party_id=customer.pk, amount="5.00"),
        lambda: credit_apply(actor=actor, party_id=customer.pk, invoice_id=1, amount="5.00"),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    assert state() == before


def test_finance_may_register_payments(company, customer):
    invoice_of(company, customer, "10.00")
    payment = payment_register(actor=actor_build(company, Role.FINANCE), party_id=customer.pk, amount="10.00")
    assert Payment.objects.get().pk == payment.pk


def queries(run) -> int:
    with CaptureQueriesContext(connection) as context:
        run()
    return len(context)


def test_registering_reads_and_writes_a_fixed_number_of_rows(company, admin_actor, customer, django_assert_num_queries):
    payment_build(company, party=customer, amount="1.00")  # the year's counters exist from here on
    # party, roles, sequence, payment, the entry (its checks, period, number, lines, balances),
    # its open item, the payment's update, audit, event and webhooks
    with django_assert_num_queries(20):
        payment_register(actor=admin_actor, party_id=customer.pk, amount="10.00", allocations=[])
    one = [invoice_of(company, customer, "10.00")]
    with_one = queries(lambda: payment_register(actor=admin_actor, party_id=customer.pk, amount="10.00"))
    three = [invoice_of(company, customer, "10.00") for _ in range(3)]
    with_three = queries(lambda: payment_register(actor=admin_actor, party_id=customer.pk, amount="30.00"))
    # Only billing's settlement of each invoice grows with the invoices.
    spare = invoice_of(company, customer, "10.00")
    settle = queries(lambda: invoice_settle(invoice_id=spare.pk, amount=D("10.00"), paid_on=TODAY))
    assert with_three - with_one == 2 * settle
    assert [i.residual for i in refreshed(*one, *three)] == [D("0.00")] * 4
