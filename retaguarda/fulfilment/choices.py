"""Fixed choices of fulfilment: the lifecycles of pick lists, shipments and returns, why goods
come back and what happens to them."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PickListStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("status", "Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class PickLineStatus(models.TextChoices):
    PENDING = "pending", _("To pick")
    PICKED = "picked", _("Picked")
    SHORT = "short", _("Short")
    # The order was cancelled or closed before the line was picked: nothing to pick any more.
    DROPPED = "dropped", _("Dropped")


class ShipmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_SHIPMENT_STATUSES = (ShipmentStatus.DRAFT, ShipmentStatus.PACKED)


class ReturnStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


class ReturnReason(models.TextChoices):
    DAMAGED = "damaged", _("Damaged")
    WRONG_ITEM = "wrong_item", _("Wrong item")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    CHANGED_MIND = "changed_mind", _("Changed mind")
    OTHER = "other", _("Other")


class Disposition(models.TextChoices):
    RESTOCK = "restock", _("Back to stock")
    SCRAP = "scrap", _("Scrap")
