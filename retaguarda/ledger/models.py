"""The books: chart of accounts, fiscal years and periods, journals, journal entries and their
lines, balances kept per account and period as entries post, reconciliations of open items, and
exchange rates. Amounts are in the company's base currency, as scaled integers."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from retaguarda.common.fields import MoneyField, ScaledDecimalField
from retaguarda.core.choices import Currency
from retaguarda.core.models import Company

from .choices import AccountKind, AccountRole, EntryState, JournalKind, PeriodState

User = settings.AUTH_USER_MODEL
RATE_SCALE = 6


class Account(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=AccountKind.choices)
    role = models.CharField(_("role"), max_length=24, choices=AccountRole.choices, blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Lines of reconcilable accounts (receivables, payables, advances) are open items: they keep
    # a residual until payments are matched against them.
    reconcilable = models.BooleanField(_("open items"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["company", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="account_unique_code"),
            models.UniqueConstraint(fields=["company", "role"], condition=~Q(role=""), name="account_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class FiscalYear(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=20)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    state = models.CharField(_("state"), max_length=8, choices=PeriodState.choices, default=PeriodState.OPEN)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("fiscal year")
        verbose_name_plural = _("fiscal years")
        ordering = ["company", "start_date"]
        constraints = [
            models.UniqueConstraint(fields=["company", "start_date"], name="fiscalyear_unique_start"),
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="fiscalyear_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.name


class Period(models.Model):
    """A month of a fiscal year. Entries are dated inside exactly one period."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.CASCADE, related_name="periods")
    code = models.CharField(_("code"), max_length=10)  # "2026-03"
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    state = models.CharField(_("state"), max_length=8, choices=PeriodState.choices, default=PeriodState.OPEN)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("period")
        verbose_name_plural = _("periods")
        ordering = ["company", "start_date"]
        constraints = [
            models.UniqueConstraint(fields=["company", "start_date"], name="period_unique_start"),
            models.UniqueConstraint(fields=["company", "code"], name="period_unique_code"),
        ]

    def __str__(self) -> str:
        return self.code


class Journal(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("code"), max_length=10)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=JournalKind.choices)

    class Meta:
        verbose_name = _("journal")
        verbose_name_plural = _("journals")
        ordering = ["company", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="journal_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class JournalEntry(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    journal = models.ForeignKey(Journal, verbose_name=_("journal"), on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey(Period, verbose_name=_("period"), on_delete=models.PROTECT, related_name="+")
    # Gap-free per journal and fiscal year, given at posting; drafts have none.
    number = models.CharField(_("number"), max_length=32, blank=True)
    date = models.DateField(_("date"))
    state = models.CharField(_("state"), max_length=8, choices=EntryState.choices, default=EntryState.DRAFT)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # The operational document that posted it ("billing.invoice", 42), empty for manual entries.
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    reversal_of = models.OneToOneField(
        "self", verbose_name=_("reverses"), null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    total = MoneyField(_("total"), default=Decimal(0))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    posted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["company", "date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "journal", "number"], condition=~Q(number=""), name="journalentry_unique_number"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "date"], name="journalentry_date_idx"),
            models.Index(fields=["company", "source_type", "source_id"], name="journalentry_source_idx"),
        ]

    def __str__(self) -> str:
        return self.number or _("Draft entry %(id)s") % {"id": self.pk}


class JournalLine(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+")
    # Copies of the entry's, so reports filter lines without a join.
    date = models.DateField(_("date"))
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    posted = models.BooleanField(default=False)
    party = models.ForeignKey(
        "parties.Party", verbose_name=_("party"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    debit = MoneyField(_("debit"), default=Decimal(0))
    credit = MoneyField(_("credit"), default=Decimal(0))
    # Foreign-currency documents keep the amount in their currency (signed: + debit, - credit).
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, blank=True)
    amount_currency = MoneyField(_("amount in currency"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    # Open items: what is still unmatched, signed like the line (debit positive). Zero once
    # fully reconciled; always zero on accounts that are not reconcilable.
    residual = MoneyField(_("open amount"), default=Decimal(0))

    class Meta:
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        ordering = ["entry", "position"]
        constraints = [
            models.CheckConstraint(condition=Q(debit__gte=0, credit__gte=0), name="journalline_amounts_not_negative"),
            models.CheckConstraint(condition=Q(debit=0) | Q(credit=0), name="journalline_debit_or_credit"),
        ]
        indexes = [
            models.Index(fields=["account", "date", "entry"], name="journalline_account_date_idx"),
            models.Index(
                fields=["company", "account", "party"], condition=~Q(residual=0), name="journalline_open_items_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}/{self.position}"

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


class AccountBalance(models.Model):
    """Posted debits and credits of an account in a period, kept as entries post so that reports
    read at most accounts × periods rows, never the lines."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="+")
    debit = MoneyField(default=Decimal(0))
    credit = MoneyField(default=Decimal(0))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "period"], name="accountbalance_unique")]
        indexes = [models.Index(fields=["company", "period"], name="accountbalance_period_idx")]


class Reconciliation(models.Model):
    """Amounts matched between a debit open item and a credit open item of the same account
    (an invoice's receivable and a payment's, say). A line may be matched in several pieces."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    debit_line = models.ForeignKey(JournalLine, on_delete=models.PROTECT, related_name="matched_credits")
    credit_line = models.ForeignKey(JournalLine, on_delete=models.PROTECT, related_name="matched_debits")
    amount = MoneyField(_("amount"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="reconciliation_amount_positive")]


class ExchangeRate(models.Model):
    """Units of the company's base currency for one unit of `currency`, from `date` on."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    date = models.DateField(_("date"))
    rate = ScaledDecimalField(_("rate"), scale=RATE_SCALE)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["company", "currency", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["company", "currency", "date"], name="exchangerate_unique_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchangerate_positive"),
        ]
