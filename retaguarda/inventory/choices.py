"""Kinds of stock locations, the reasons stock moves, stock level states and cycle count statuses."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LocationKind(models.TextChoices):
    INTERNAL = "internal", _("Internal")
    SUPPLIER = "supplier", _("Supplier")
    CUSTOMER = "customer", _("Customer")
    INVENTORY_LOSS = "inventory_loss", _("Inventory loss")
    SCRAP = "scrap", _("Scrap")
    TRANSIT = "transit", _("Transit")
    PRODUCTION = "production", _("Production")


VIRTUAL_KINDS = tuple(kind for kind in LocationKind.values if kind != LocationKind.INTERNAL)


class MoveReason(models.TextChoices):
    RECEIPT = "receipt", _("Receipt from supplier")
    INITIAL = "initial", _("Initial stock")
    COUNT = "count", _("Count correction")
    DAMAGE = "damage", _("Damage")
    LOSS = "loss", _("Loss or theft")
    FOUND = "found", _("Found")
    TRANSFER = "transfer", _("Transfer between warehouses")
    RELOCATION = "relocation", _("Relocation within a warehouse")
    SHIPMENT = "shipment", _("Shipment to customer")
    RETURN = "return", _("Return from customer")


RECEIPT_REASONS = (MoveReason.RECEIPT, MoveReason.INITIAL)
ADJUSTMENT_REASONS = (MoveReason.COUNT, MoveReason.DAMAGE, MoveReason.LOSS, MoveReason.FOUND)


class LevelState(models.TextChoices):
    """Where a product's stock in a warehouse stands against its limits (worst first)."""

    OUT = "out", _("Out of stock")
    LOW = "low", _("At or below reorder point")
    OVER = "over", _("Above maximum")
    OK = "ok", _("Normal")


ALERT_STATES = (LevelState.OUT, LevelState.LOW, LevelState.OVER)


class CycleCountStatus(models.TextChoices):
    DRAFT = "draft", _("Counting")
    COUNTED = "counted", _("Counted")
    POSTED = "posted", _("Posted")
    CANCELLED = "cancelled", _("Cancelled")
