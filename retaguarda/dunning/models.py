"""Dunning: the procedure of levels a company chases unpaid invoices with, each invoice's
progress through it, promises to pay that pause it, the runs that send letters, the letters
themselves, the blocks on new orders it put on customers, and the company's late-charge rules.

Amounts are scaled integers: a letter's and an invoice's charges are in the invoice's currency.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from retaguarda.billing.models import Invoice
from retaguarda.common.fields import MoneyField, ScaledDecimalField
from retaguarda.core.choices import Currency, Language
from retaguarda.core.models import Company
from retaguarda.ledger.models import JournalEntry
from retaguarda.parties.models import Party

from .choices import ChargeBooking, ChargeRule, EmailStatus, LetterKind, PromiseStatus, RunStatus

User = settings.AUTH_USER_MODEL
PERCENT_SCALE = 4


class LateChargeSettings(models.Model):
    """How a company charges for late payment, and whether the charges are booked. One row per
    company; its row lock also serialises the company's dunning runs."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(_("rule"), max_length=8, choices=ChargeRule.choices)
    # Brazil: a one-off fine on the overdue amount, and interest per month counted by the day.
    fine_percent = ScaledDecimalField(_("fine %"), scale=PERCENT_SCALE, default=Decimal(0))
    monthly_interest_percent = ScaledDecimalField(_("interest % per month"), scale=PERCENT_SCALE, default=Decimal(0))
    # Interest at a fixed rate per year; blank under Spain's rule means the legal late-payment
    # rate of each half-year (collections.calculations.ES_LATE_PAYMENT_RATES).
    annual_interest_percent = ScaledDecimalField(_("interest % per year"), scale=PERCENT_SCALE, null=True, blank=True)
    # Spain: the fixed compensation for collection costs, once per invoice.
    fixed_compensation = MoneyField(_("fixed compensation per invoice"), default=Decimal(0))
    booking = models.CharField(
        _("late charges"), max_length=12, choices=ChargeBooking.choices, default=ChargeBooking.POST
    )
    # The days a letter gives the customer to pay; posted charges fall due then.
    payment_days = models.PositiveSmallIntegerField(_("days to pay after a letter"), default=10)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("late-charge settings")
        verbose_name_plural = _("late-charge settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(fine_percent__gte=0, monthly_interest_percent__gte=0)
                & (Q(annual_interest_percent__isnull=True) | Q(annual_interest_percent__gte=0)),
                name="latechargesettings_rates_not_negative",
            ),
            models.CheckConstraint(condition=Q(fixed_compensation__gte=0), name="latechargesettings_comp_not_negative"),
        ]


class DunningProcedure(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("dunning procedure")
        verbose_name_plural = _("dunning procedures")
        ordering = ["company", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="dunningprocedure_unique_name"),
            models.UniqueConstraint(
                fields=["company"], condition=Q(is_default=True), name="dunningprocedure_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DunningLevel(models.Model):
    """A step of a procedure, reached when an invoice is `days_overdue` days past its due date."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    procedure = models.ForeignKey(DunningProcedure, on_delete=models.CASCADE, related_name="levels")
    # 1, 2, 3… in the order of days_overdue (kept so by the services).
    sequence = models.PositiveSmallIntegerField(_("level"))
    days_overdue = models.PositiveSmallIntegerField(_("days overdue"))
    name = models.CharField(_("name"), max_length=100)
    letter = models.CharField(_("letter"), max_length=16, choices=LetterKind.choices)
    # A fixed fee per letter of this level, in the invoices' currency.
    fee = MoneyField(_("fee"), default=Decimal(0))
    charge_interest = models.BooleanField(_("late charges"), default=False)
    block_customer = models.BooleanField(_("block new orders"), default=False)
    handover_legal = models.BooleanField(_("hand over to legal"), default=False)

    class Meta:
        verbose_name = _("dunning level")
        verbose_name_plural = _("dunning levels")
        ordering = ["procedure", "days_overdue"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "days_overdue"], name="dunninglevel_unique_days"),
            models.CheckConstraint(condition=Q(days_overdue__gte=1), name="dunninglevel_days_positive"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="dunninglevel_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class DunningRun(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField(_("as of"))
    status = models.CharField(_("status"), max_length=8, choices=RunStatus.choices)
    letter_count = models.PositiveIntegerField(_("letters"), default=0)
    invoice_count = models.PositiveIntegerField(_("invoices"), default=0)
    blocked_count = models.PositiveIntegerField(_("customers blocked"), default=0)
    unblocked_count = models.PositiveIntegerField(_("customers unblocked"), default=0)
    handover_count = models.PositiveIntegerField(_("handed over to legal"), default=0)
    # Per currency: {"EUR": {"open": "…", "fees": "…", "interest": "…", "due": "…"}}.
    totals = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("dunning run")
        verbose_name_plural = _("dunning runs")
        ordering = ["-as_of", "-pk"]
        indexes = [models.Index(fields=["company", "status", "as_of"], name="dunningrun_status_idx")]

    def __str__(self) -> str:
        return _("Dunning run %(id)s") % {"id": self.pk}


class DunningLetter(models.Model):
    """What one customer was sent (or, in a preview, would be sent) by a run: the overdue
    invoices at the highest level they reached, with this letter's fee and interest."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(DunningRun, on_delete=models.CASCADE, related_name="letters")
    party = models.ForeignKey(Party, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey(
        DunningLevel, verbose_name=_("level"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    level_name = models.CharField(_("level"), max_length=100)
    letter = models.CharField(_("letter"), max_length=16, choices=LetterKind.choices)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    # [{"invoice_id", "number", "issue_date", "due_date", "days_overdue", "residual", "level",
    #   "fine", "compensation", "interest"}], amounts as strings.
    invoices = models.JSONField(default=list)
    open_total = MoneyField(_("overdue amount"), default=Decimal(0))
    # The level's own fee, and the letter's whole fee: that plus the one-off charges (Brazil's
    # fine, Spain's compensation) of its invoices.
    level_fee = MoneyField(_("level fee"), default=Decimal(0))
    fee = MoneyField(_("fee"), default=Decimal(0))
    interest = MoneyField(_("interest"), default=Decimal(0))
    # Fees and interest of earlier letters still unpaid (posted and open, or, when the company
    # keeps charges on letters only, those charged on the invoices listed).
    earlier_charges = MoneyField(_("earlier charges"), default=Decimal(0))
    total_due = MoneyField(_("total due"), default=Decimal(0))
    pay_by = models.DateField(_("pay by"))
    # The level blocked new orders when the letter went out (the letter says so).
    blocks_orders = models.BooleanField(default=False)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    email_to = models.EmailField(_("e-mail"), max_length=254, blank=True)
    email_status = models.CharField(_("e-mail"), max_length=12, choices=EmailStatus.choices)
    email_error = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # The posting of the fee and interest (receivable / late-fee income), when the company books them.
    entry = models.ForeignKey(JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("dunning letter")
        verbose_name_plural = _("dunning letters")
        ordering = ["run", "party__legal_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "party", "currency"], name="dunningletter_unique_customer"),
        ]
        indexes = [models.Index(fields=["company", "party"], name="dunningletter_party_idx")]

    def __str__(self) -> str:
        return f"{self.level_name} · {self.party}"

    @property
    def charges(self) -> Decimal:
        return self.fee + self.interest


class DunningState(models.Model):
    """Where one overdue customer invoice stands: the highest level it reached, what it was
    charged so far, and whether a promise to pay pauses it."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    invoice = models.OneToOneField(Invoice, on_delete=models.CASCADE, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey(DunningLevel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The days-overdue threshold of the level reached (0: none yet); levels only ever go up.
    level_days = models.PositiveSmallIntegerField(default=0)
    level_name = models.CharField(_("level"), max_length=100, blank=True)
    # The first run that saw the invoice overdue (and emitted invoice.overdue).
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True)
    last_run = models.ForeignKey(DunningRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_letter = models.ForeignKey(DunningLetter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    paused_until = models.DateField(_("paused until"), null=True, blank=True)
    # Charged so far, in the invoice's currency; interest up to `interest_until`.
    charged_fine = MoneyField(default=Decimal(0))
    charged_compensation = MoneyField(default=Decimal(0))
    charged_interest = MoneyField(default=Decimal(0))
    interest_until = models.DateField(null=True, blank=True)
    written_off_at = models.DateTimeField(_("written off"), null=True, blank=True)
    write_off_reason = models.CharField(_("reason for the write-off"), max_length=200, blank=True)
    write_off_entry = models.ForeignKey(JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("dunning state")
        verbose_name_plural = _("dunning states")
        indexes = [models.Index(fields=["company", "party"], name="dunningstate_party_idx")]


class PaymentPromise(models.Model):
    """A customer's promise to pay `amount` by `promised_date`, for one invoice or for all their
    overdue invoices: dunning pauses until then. Kept when the open amount fell by `amount`."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    party = models.ForeignKey(Party, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    promised_date = models.DateField(_("promised date"))
    amount = MoneyField(_("amount"))
    # The invoices it covers (the one, or all the customer's open ones in the currency when it
    # was made) and what was open on them then.
    invoice_ids = models.JSONField(default=list)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    open_at_promise = MoneyField(_("open when promised"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=PromiseStatus.choices, default=PromiseStatus.OPEN)
    resolved_at = models.DateField(_("resolved"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("promise to pay")
        verbose_name_plural = _("promises to pay")
        ordering = ["-promised_date", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="paymentpromise_amount_positive")]
        indexes = [models.Index(fields=["company", "status", "party"], name="paymentpromise_open_idx")]

    def __str__(self) -> str:
        return _("Promise to pay %(amount)s by %(date)s") % {"amount": self.amount, "date": self.promised_date}


class CustomerBlock(models.Model):
    """A block on new orders that dunning put on a customer (through Party.blocked_reason), kept
    so that dunning lifts only its own blocks, never one set by hand."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=200)
    run = models.ForeignKey(DunningRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    blocked_at = models.DateTimeField(_("blocked"), auto_now_add=True)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)

    class Meta:
        verbose_name = _("dunning block")
        verbose_name_plural = _("dunning blocks")
        ordering = ["-blocked_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["party"], condition=Q(lifted_at__isnull=True), name="customerblock_one_active"
            ),
        ]
