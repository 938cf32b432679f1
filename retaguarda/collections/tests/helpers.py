"""What collections tests share: the state a refused action must leave untouched."""

from retaguarda.billing.models import Invoice
from retaguarda.collections.models import BankStatement, BankStatementLine, Payment, PaymentAllocation
from retaguarda.core.models import AuditLog, OutboxEvent, Sequence
from retaguarda.ledger.models import AccountBalance, JournalEntry, JournalLine, Reconciliation


def state():
    """Everything payments, allocations and statements could change."""
    return (
        sorted(Payment.objects.values_list("pk", "status", "unapplied")),
        PaymentAllocation.objects.count(),
        sorted(PaymentAllocation.objects.values_list("pk", "is_reversed")),
        sorted(Invoice.objects.values_list("pk", "residual", "payment_status", "paid_at")),
        JournalEntry.objects.count(),
        sorted(JournalLine.objects.values_list("pk", "residual")),
        sorted(AccountBalance.objects.exclude(debit=0, credit=0).values_list("pk", "debit", "credit")),
        Reconciliation.objects.count(),
        BankStatement.objects.count(),
        sorted(BankStatementLine.objects.values_list("pk", "status", "payment_id")),
        sorted(Sequence.objects.values_list("series", "year", "last_number")),
        AuditLog.objects.count(),
        OutboxEvent.objects.count(),
    )
