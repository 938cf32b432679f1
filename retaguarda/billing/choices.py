"""Fixed choices of billing: kinds of fiscal documents, their lifecycle and payment progress."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class InvoiceKind(models.TextChoices):
    CUSTOMER_INVOICE = "customer_invoice", _("Invoice")
    CUSTOMER_CREDIT_NOTE = "customer_credit_note", _("Credit note")
    SUPPLIER_BILL = "supplier_bill", _("Supplier bill")
    SUPPLIER_CREDIT_NOTE = "supplier_credit_note", _("Supplier credit note")


CUSTOMER_KINDS = frozenset({InvoiceKind.CUSTOMER_INVOICE, InvoiceKind.CUSTOMER_CREDIT_NOTE})
CREDIT_KINDS = frozenset({InvoiceKind.CUSTOMER_CREDIT_NOTE, InvoiceKind.SUPPLIER_CREDIT_NOTE})


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    POSTED = "posted", _("Posted")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentStatus(models.TextChoices):
    """Derived from the open amount (calculations.payment_status)."""

    NOT_PAID = "not_paid", _("Not paid")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")


class InvoicingBasis(models.TextChoices):
    """What a customer invoice of an order bills: what has left the warehouse, or what was ordered."""

    SHIPPED = "shipped", _("Shipped quantities")
    ORDERED = "ordered", _("Ordered quantities")


class VerifactuKind(models.TextChoices):
    ISSUE = "alta", pgettext_lazy("register record", "Issue")
    CANCELLATION = "anulacion", _("Cancellation")
