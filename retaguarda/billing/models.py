"""Billing: taxes and the rules that choose them, and the fiscal documents (customer invoices,
credit notes, supplier bills) with their lines and tax summaries, plus Spain's invoice register.

Issued documents are never deleted: a posted invoice is corrected by a credit note. Amounts are
in the document's currency as scaled integers; `rate` converts them to the company's currency."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from retaguarda.catalog.models import Product
from retaguarda.common.fields import MoneyField, QuantityField, ScaledDecimalField
from retaguarda.core.choices import Currency, Language
from retaguarda.core.models import Company
from retaguarda.ledger.models import Account, JournalEntry, JournalLine
from retaguarda.parties.models import Party
from retaguarda.sales.models import SalesOrder, SalesOrderLine

from .choices import InvoiceKind, InvoiceStatus, PaymentStatus, VerifactuKind

User = settings.AUTH_USER_MODEL
UNIT_PRICE_SCALE = 4
TAX_RATE_SCALE = 4
RATE_SCALE = 6


class Tax(models.Model):
    """One tax as a bookkeeper configures it (mirrors billing.taxes.TaxDef)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    family = models.CharField(_("family"), max_length=12)
    rate = ScaledDecimalField(_("rate %"), scale=TAX_RATE_SCALE)
    price_included = models.BooleanField(_("included in the price"), default=False)
    withheld = models.BooleanField(_("withholding"), default=False)
    category = models.CharField(_("EN 16931 category"), max_length=2, default="S")
    legal_mention = models.CharField(_("legal mention"), max_length=300, blank=True)
    situation = models.CharField(_("tax situation code"), max_length=4, blank=True)
    sales_account = models.ForeignKey(
        Account, verbose_name=_("account on sales"), on_delete=models.PROTECT, related_name="+"
    )
    purchase_account = models.ForeignKey(
        Account, verbose_name=_("account on purchases"), on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tax")
        verbose_name_plural = _("taxes")
        ordering = ["company", "family", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="tax_unique_code"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=1000000), name="tax_rate_range"),
        ]

    def __str__(self) -> str:
        return self.name


class TaxRule(models.Model):
    """Which taxes apply to a product tax category sold to a customer fiscal position ("*" for
    any). The most specific rule wins, then the highest priority."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    tax_category = models.CharField(_("product tax category"), max_length=32)
    fiscal_position = models.CharField(_("customer fiscal position"), max_length=32)
    tax_codes = models.JSONField(_("taxes"), default=list)
    cfop = models.CharField(_("CFOP"), max_length=4, blank=True)
    priority = models.SmallIntegerField(_("priority"), default=0)

    class Meta:
        verbose_name = _("tax rule")
        verbose_name_plural = _("tax rules")
        ordering = ["company", "tax_category", "fiscal_position"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "tax_category", "fiscal_position", "priority"], name="taxrule_unique"
            ),
        ]


class Invoice(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=24, choices=InvoiceKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    payment_status = models.CharField(
        _("payment"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.NOT_PAID
    )
    party = models.ForeignKey(Party, verbose_name=_("party"), on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(
        SalesOrder, verbose_name=_("order"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    corrected_invoice = models.ForeignKey(
        "self", verbose_name=_("corrects"), null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    correction_reason = models.CharField(_("reason for the correction"), max_length=200, blank=True)
    # Given at posting, gap-free per series and year: "F2026-000123" (Spain), "1-000000045" (NF-e).
    series = models.CharField(_("series"), max_length=10)
    number = models.CharField(_("number"), max_length=32, blank=True)
    sequence_number = models.PositiveBigIntegerField(_("number in series"), null=True, blank=True)
    supplier_reference = models.CharField(_("supplier's number"), max_length=64, blank=True)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    rate = ScaledDecimalField(_("exchange rate"), scale=RATE_SCALE, default=Decimal(1))
    fiscal_position = models.CharField(_("fiscal position"), max_length=32)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    # The buyer (or supplier) as they were when the document was issued: name, tax id, address.
    party_snapshot = models.JSONField(default=dict, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    legal_mentions = models.JSONField(default=list, blank=True)
    net_total = MoneyField(_("amount before tax"), default=Decimal(0))
    tax_total = MoneyField(_("tax"), default=Decimal(0))
    withheld_total = MoneyField(_("withheld"), default=Decimal(0))
    grand_total = MoneyField(_("total"), default=Decimal(0))
    payable = MoneyField(_("amount due"), default=Decimal(0))
    # What is still to be paid (or refunded, for credit notes), in the document's currency.
    residual = MoneyField(_("open amount"), default=Decimal(0))
    paid_at = models.DateField(_("paid on"), null=True, blank=True)
    journal_entry = models.ForeignKey(JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The receivable (or payable) open item of the posting, which payments are matched against.
    open_item = models.ForeignKey(JournalLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    posted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "kind", "series", "number"], condition=~Q(number=""), name="invoice_unique_number"
            ),
            models.UniqueConstraint(
                fields=["company", "party", "supplier_reference"],
                condition=~Q(supplier_reference=""),
                name="invoice_unique_supplier_reference",
            ),
            models.CheckConstraint(condition=Q(net_total__gte=0, payable__gte=0), name="invoice_totals_not_negative"),
            models.CheckConstraint(condition=Q(residual__gte=0), name="invoice_residual_not_negative"),
        ]
        indexes = [
            models.Index(fields=["company", "kind", "status", "issue_date"], name="invoice_status_idx"),
            models.Index(fields=["company", "party", "payment_status"], name="invoice_party_idx"),
            models.Index(fields=["company", "payment_status", "due_date"], name="invoice_open_idx"),
        ]

    def __str__(self) -> str:
        return self.number or _("Draft %(id)s") % {"id": self.pk}

    @property
    def is_customer(self) -> bool:
        return self.kind in (InvoiceKind.CUSTOMER_INVOICE, InvoiceKind.CUSTOMER_CREDIT_NOTE)

    @property
    def is_credit(self) -> bool:
        return self.kind in (InvoiceKind.CUSTOMER_CREDIT_NOTE, InvoiceKind.SUPPLIER_CREDIT_NOTE)


class InvoiceLine(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order_line = models.ForeignKey(
        SalesOrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    corrected_line = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    description = models.CharField(_("description"), max_length=200)
    quantity = QuantityField(_("quantity"))
    unit_code = models.CharField(_("unit"), max_length=8, default="C62")
    unit_price = ScaledDecimalField(_("unit price"), scale=UNIT_PRICE_SCALE)
    discount_percent = ScaledDecimalField(_("discount %"), scale=2, default=Decimal(0))
    tax_category = models.CharField(_("tax category"), max_length=32)
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+")
    net_amount = MoneyField(_("amount before tax"))
    tax_amount = MoneyField(_("tax"), default=Decimal(0))
    # The taxes of the line as the engine computed them: [{"code", "rate", "base", "amount", ...}]
    taxes = models.JSONField(default=list, blank=True)
    cfop = models.CharField(_("CFOP"), max_length=4, blank=True)
    ncm = models.CharField(_("NCM code"), max_length=8, blank=True)
    barcode = models.CharField(_("barcode"), max_length=14, blank=True)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoiceline_unique_position"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="invoiceline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="invoiceline_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.position}"


class InvoiceTax(models.Model):
    """A document's tax summed per tax: what is printed in the tax box and what is posted."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="tax_lines")
    tax = models.ForeignKey(Tax, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=20)
    family = models.CharField(max_length=12)
    rate = ScaledDecimalField(scale=TAX_RATE_SCALE)
    base = MoneyField()
    amount = MoneyField()
    withheld = models.BooleanField(default=False)
    included = models.BooleanField(default=False)
    category = models.CharField(max_length=2, default="S")

    class Meta:
        ordering = ["invoice", "family", "rate"]
        constraints = [models.UniqueConstraint(fields=["invoice", "tax"], name="invoicetax_unique")]


class VerifactuRecord(models.Model):
    """Spain's invoice register: one record per issued invoice and per cancellation, each carrying
    the SHA-256 fingerprint of the previous one, so the chain proves nothing was removed."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="register_records")
    position = models.PositiveBigIntegerField()  # 1, 2, 3 … per company
    kind = models.CharField(max_length=10, choices=VerifactuKind.choices)
    issuer_tax_id = models.CharField(max_length=20)
    number = models.CharField(max_length=60)
    issue_date = models.DateField()
    invoice_type = models.CharField(max_length=2)
    tax_total = MoneyField()
    total = MoneyField()
    generated_at = models.DateTimeField()
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["company", "position"]
        constraints = [models.UniqueConstraint(fields=["company", "position"], name="verifactu_unique_position")]
