"""Fixed choices of payments and bank statements: which way money moves, how it was paid, and
where a payment or a statement line stands."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Direction(models.TextChoices):
    IN = "in", _("Received")
    OUT = "out", _("Paid out")


class PaymentKind(models.TextChoices):
    """A payment settles invoices (a customer's in, a supplier's out); a refund gives a credit
    back (to a customer out, from a supplier in)."""

    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    CARD = "card", _("Card")
    PIX = "pix", _("Pix")
    BOLETO = "boleto", _("Boleto")
    CASH = "cash", _("Cash")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")


class PaymentStatus(models.TextChoices):
    POSTED = "posted", _("Posted")
    CANCELLED = "cancelled", _("Cancelled")


class Side(models.TextChoices):
    """Whose open items: the customers' (what they owe us) or the suppliers' (what we owe)."""

    RECEIVABLE = "receivable", _("Receivables")
    PAYABLE = "payable", _("Payables")


class StatementFormat(models.TextChoices):
    CAMT053 = "camt.053", _("ISO 20022 CAMT.053")
    OFX = "ofx", _("OFX")
    CSV = "csv", _("CSV")


class StatementLineStatus(models.TextChoices):
    UNMATCHED = "unmatched", _("Unmatched")
    MATCHED = "matched", pgettext_lazy("statement line", "Matched")
    IGNORED = "ignored", _("Ignored")
