"""The open items behind payments: which ledger lines each allocation matches and for how much,
what stays open, and how cancelling undoes the matches."""

from decimal import Decimal

import pytest

from retaguarda.billing.choices import InvoiceKind
from retaguarda.collections.models import PaymentAllocation
from retaguarda.collections.services import credit_apply, payment_cancel, payment_register, refund_register
from retaguarda.collections.testing import invoice_of, open_amount
from retaguarda.common.errors import ValidationFailed
from retaguarda.ledger.choices import AccountRole as R
from retaguarda.ledger.models import JournalLine, Reconciliation

from .helpers import state

D = Decimal


def residual(line_id) -> Decimal:
    return JournalLine.objects.get(pk=line_id).residual


def matches_of(allocation) -> list[tuple[int, int, Decimal]]:
    return sorted((r.debit_line_id, r.credit_line_id, r.amount) for r in allocation.reconciliations.all())


def test_each_allocation_matches_the_invoice_with_the_payment(company, admin_actor, customer):
    a = invoice_of(company, customer, "30.00")
    b = invoice_of(company, customer, "45.50")
    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="80.00")

    first, second = PaymentAllocation.objects.order_by("pk")
    assert matches_of(first) == [(a.open_item_id, payment.open_item_id, D("30.00"))]
    assert matches_of(second) == [(b.open_item_id, payment.open_item_id, D("45.50"))]
    assert (residual(a.open_item_id), residual(b.open_item_id), residual(payment.open_item_id)) == (
        D("0.00"),
        D("0.00"),
        D("-4.50"),
    )
    assert Reconciliation.objects.count() == 2


def test_a_supplier_payment_is_the_debit_side_of_its_match(company, admin_actor, supplier):
    bill = invoice_of(company, supplier, "75.00", kind=InvoiceKind.SUPPLIER_BILL)
    assert residual(bill.open_item_id) == D("-75.00")
    payment = payment_register(actor=admin_actor, party_id=supplier.pk, amount="50.00", direction="out")
    assert matches_of(payment.allocations.get()) == [(payment.open_item_id, bill.open_item_id, D("50.00"))]
    assert (residual(bill.open_item_id), residual(payment.open_item_id)) == (D("-25.00"), D("0.00"))
    assert open_amount(company, R.PAYABLE, party=supplier) == D("-25.00")


def test_an_exchange_loss_is_matched_on_the_invoice_side(company, admin_actor, customer):
    invoice = invoice_of(company, customer, "100.00", currency="USD", rate="0.95")
    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="100.00", currency="USD", rate="0.90")
    allocation = payment.allocations.get()
    loss_line = JournalLine.objects.get(entry_id=allocation.exchange_entry_id, position=1)
    assert (loss_line.account.role, loss_line.debit, loss_line.credit, loss_line.party_id) == (
        R.RECEIVABLE,
        D("0.00"),
        D("5.00"),
        customer.pk,
    )
    assert matches_of(allocation) == sorted(
        [(invoice.open_item_id, payment.open_item_id, D("90.00")), (invoice.open_item_id, loss_line.pk, D("5.00"))]
    )
    assert [residual(pk) for pk in (invoice.open_item_id, payment.open_item_id, loss_line.pk)] == [D("0.00")] * 3


def test_credit_apply_and_refund_match_the_payments_credit(company, admin_actor, customer):
    invoice_of(company, customer, "10.00")
    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="50.00")
    assert residual(payment.open_item_id) == D("-40.00")

    later = invoice_of(company, customer, "25.00")
    applied = credit_apply(actor=admin_actor, party_id=customer.pk, invoice_id=later.pk, amount="25.00")
    assert matches_of(applied[0]) == [(later.open_item_id, payment.open_item_id, D("25.00"))]
    assert residual(payment.open_item_id) == D("-15.00")

    refund = refund_register(actor=admin_actor, party_id=customer.pk, amount="15.00")
    allocation = PaymentAllocation.objects.get(refund=refund)
    assert matches_of(allocation) == [(refund.open_item_id, payment.open_item_id, D("15.00"))]
    assert (residual(payment.open_item_id), residual(refund.open_item_id)) == (D("0.00"), D("0.00"))
    assert open_amount(company, R.RECEIVABLE, party=customer) == D("0.00")


def test_cancel_undoes_the_matches_and_closes_the_payment_with_its_reversal(company, admin_actor, customer):
    invoice = invoice_of(company, customer, "60.00")
    payment = payment_register(actor=admin_actor, party_id=customer.pk, amount="100.00")
    allocation = payment.allocations.get()
    matched = {r.pk for r in allocation.reconciliations.all()}

    payment_cancel(actor=admin_actor, payment_id=payment.pk, reason="Entered twice")

    assert not Reconciliation.objects.filter(pk__in=matched).exists()
    assert residual(invoice.open_item_id) == D("60.00")
    payment.refresh_from_db()
    mirror = JournalLine.objects.get(entry_id=payment.reversal_entry_id, position=1)
    # The reversal matches the payment's line in full with its mirror: neither stays open.
    assert list(
        Reconciliation.objects.filter(credit_line_id=payment.open_item_id).values_list("debit_line_id", "amount")
    ) == [(mirror.pk, D("100.00"))]
    assert (residual(payment.open_item_id), residual(mirror.pk)) == (D("0.00"), D("0.00"))
    assert open_amount(company, R.RECEIVABLE, party=customer) == D("60.00")


def test_an_invoice_paid_meanwhile_cannot_be_paid_again(company, admin_actor, customer):
    invoice = invoice_of(company, customer, "100.00")
    payment_register(actor=admin_actor, party_id=customer.pk, amount="100.00", allocations=[(invoice.pk, "100.00")])
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        payment_register(actor=admin_actor, party_id=customer.pk, amount="1.00", allocations=[(invoice.pk, "1.00")])
    assert refused.value.fields == {"allocations.0.amount": [f"Only 0.00 is open on invoice {invoice.number}."]}
    assert state() == before
