"""Fixed choices of sales orders: lifecycle, derived progress, and where an order came from."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")
    CLOSED = "closed", _("Closed")


class FulfilmentStatus(models.TextChoices):
    """Derived from the lines' quantities (calculations.fulfilment_status)."""

    NOT_SHIPPED = "not_shipped", _("Not shipped")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")


class BillingStatus(models.TextChoices):
    """Derived from the lines' quantities (calculations.billing_status)."""

    NOT_INVOICED = "not_invoiced", _("Not invoiced")
    PARTIALLY_INVOICED = "partially_invoiced", _("Partially invoiced")
    INVOICED = "invoiced", _("Invoiced")


class Channel(models.TextChoices):
    API = "api", _("Storefront (API)")
    PHONE = "phone", _("Phone or counter")
    IMPORT = "import", _("Import")
