"""Money in and out: the company's bank accounts, payments received from customers and paid to
suppliers (with their allocations to invoices), and imported bank statements whose lines are
matched to payments.

Amounts of payments and allocations are in the payment's currency; `rate` converts them to the
company's currency, in which the ledger's open items are kept."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from retaguarda.billing.models import Invoice
from retaguarda.common.fields import MoneyField, ScaledDecimalField
from retaguarda.core.choices import Currency
from retaguarda.core.models import Company
from retaguarda.ledger.models import Account, Journal, JournalEntry, JournalLine, Reconciliation
from retaguarda.parties.models import Party

from .choices import (
    Direction,
    PaymentKind,
    PaymentMethod,
    PaymentStatus,
    Side,
    StatementFormat,
    StatementLineStatus,
)

User = settings.AUTH_USER_MODEL
RATE_SCALE = 6


class BankAccount(models.Model):
    """An account at a bank (or the till): where payments land, which ledger account and
    journal they post to, and whose statements are imported."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    # Compact form: capitals and digits, no spaces; blank for a till.
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    account = models.ForeignKey(Account, verbose_name=_("ledger account"), on_delete=models.PROTECT, related_name="+")
    journal = models.ForeignKey(Journal, verbose_name=_("journal"), on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")
        ordering = ["company", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="bankaccount_unique_name"),
            models.UniqueConstraint(fields=["company", "iban"], condition=~Q(iban=""), name="bankaccount_unique_iban"),
        ]

    def __str__(self) -> str:
        return self.name


class Payment(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    number = models.CharField(_("number"), max_length=32)
    party = models.ForeignKey(Party, verbose_name=_("party"), on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=PaymentKind.choices, default=PaymentKind.PAYMENT)
    status = models.CharField(_("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.POSTED)
    date = models.DateField(_("date"))
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    # Units of the company's currency for one unit of `currency`.
    rate = ScaledDecimalField(_("exchange rate"), scale=RATE_SCALE, default=Decimal(1))
    amount_base = MoneyField(_("amount in company currency"))
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    bank_account = models.ForeignKey(
        BankAccount, verbose_name=_("bank account"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    journal_entry = models.ForeignKey(JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The payment's line on the receivable (or payable) account: what is not allocated yet
    # stays open there as the party's credit.
    open_item = models.ForeignKey(JournalLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # What is not allocated to invoices yet, in `currency`: the party's credit.
    unapplied = MoneyField(_("not allocated"), default=Decimal(0))
    statement_line = models.ForeignKey(
        "BankStatementLine",
        verbose_name=_("statement line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)
    reversal_entry = models.ForeignKey(JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-date", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="payment_unique_number"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(unapplied__gte=0, unapplied__lte=F("amount")), name="payment_unapplied_within_amount"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="payment_rate_positive"),
        ]
        indexes = [
            models.Index(fields=["company", "party", "date"], name="payment_party_idx"),
            models.Index(fields=["company", "status", "date"], name="payment_status_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def side(self) -> str:
        """A customer's payment or a refund to a customer works on receivables; the rest on
        payables."""
        customer = (self.kind == PaymentKind.PAYMENT) == (self.direction == Direction.IN)
        return Side.RECEIVABLE if customer else Side.PAYABLE

    @property
    def allocated(self) -> Decimal:
        return self.amount - self.unapplied

    def can_cancel(self) -> bool:
        return self.status == PaymentStatus.POSTED


class PaymentAllocation(models.Model):
    """One amount matched between what gives money or credit (a payment, or a credit note) and
    what takes it (an invoice or bill, or a refund paying the credit back).

    Amounts are in the documents' currency; `amount_base` is what was reconciled in the
    company's currency, and an exchange difference (foreign currency paid at another rate)
    was posted in `exchange_entry`."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations")
    credit_note = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    refund = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="refund_allocations"
    )
    date = models.DateField(_("date"))
    amount = MoneyField(_("amount"))
    amount_base = MoneyField(_("amount in company currency"))
    reconciliations = models.ManyToManyField(Reconciliation, related_name="+", blank=True)
    exchange_entry = models.ForeignKey(JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Undone when its payment (or refund) is cancelled; kept for the history.
    is_reversed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="paymentallocation_amount_positive"),
            models.CheckConstraint(
                condition=(Q(payment__isnull=False) & Q(credit_note__isnull=True))
                | (Q(payment__isnull=True) & Q(credit_note__isnull=False)),
                name="paymentallocation_one_source",
            ),
            models.CheckConstraint(
                condition=(Q(invoice__isnull=False) & Q(refund__isnull=True))
                | (Q(invoice__isnull=True) & Q(refund__isnull=False)),
                name="paymentallocation_one_target",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "invoice"], name="paymentallocation_invoice_idx"),
        ]


class BankStatement(models.Model):
    """An imported statement file of a bank account: one per statement id, never twice."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    bank_account = models.ForeignKey(
        BankAccount, verbose_name=_("bank account"), on_delete=models.PROTECT, related_name="statements"
    )
    statement_id = models.CharField(_("statement"), max_length=100)
    format = models.CharField(_("format"), max_length=10, choices=StatementFormat.choices)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    start_date = models.DateField(_("from"), null=True, blank=True)
    end_date = models.DateField(_("to"), null=True, blank=True)
    opening_balance = MoneyField(_("opening balance"), null=True, blank=True)
    closing_balance = MoneyField(_("closing balance"), null=True, blank=True)
    filename = models.CharField(_("file"), max_length=255, blank=True)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    skipped_count = models.PositiveIntegerField(_("lines already imported"), default=0)
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)
    imported_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-imported_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["bank_account", "statement_id"], name="bankstatement_unique_id"),
        ]

    def __str__(self) -> str:
        return self.statement_id


class BankStatementLine(models.Model):
    """One booking of a statement: money in (amount > 0) or out (< 0), to be matched to a
    payment, or ignored (bank fees booked elsewhere, transfers between own accounts)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="lines")
    # A copy of the statement's, so a booking already seen on another statement is recognised.
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(_("position"))
    booking_date = models.DateField(_("booked"))
    value_date = models.DateField(_("value date"), null=True, blank=True)
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    counterparty_name = models.CharField(_("counterparty"), max_length=200, blank=True)
    # A valid IBAN in compact form, or blank.
    counterparty_account = models.CharField(_("counterparty account"), max_length=34, blank=True)
    reference = models.CharField(_("reference"), max_length=500, blank=True)
    # The bank's own id of the booking, stable across re-imports of overlapping files.
    bank_reference = models.CharField(_("bank reference"), max_length=255)
    # What the file said, as strings, for the reader to check.
    raw = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=StatementLineStatus.choices, default=StatementLineStatus.UNMATCHED
    )
    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The matching's suggestion: {"party_id", "confidence", "reasons", "allocations": [...]}.
    proposal = models.JSONField(default=dict, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["statement", "position"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "position"], name="bankstatementline_unique_position"),
            models.UniqueConstraint(
                fields=["bank_account", "bank_reference"], name="bankstatementline_unique_bank_reference"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "status", "booking_date"], name="bankstatementline_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}/{self.position}"

    @property
    def direction(self) -> str:
        return Direction.IN if self.amount > 0 else Direction.OUT
