"""Pick lists (what to take from which bin), shipments with their parcels, and customer returns.

Quantities are scaled integers (QuantityField): what a pick list or shipment holds of an order
line is summed in SQL, exactly on SQLite too.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from retaguarda.catalog.models import Product
from retaguarda.common.fields import QuantityField
from retaguarda.core.models import Company
from retaguarda.inventory.models import Location, Warehouse
from retaguarda.sales.models import SalesOrder, SalesOrderLine

from .choices import (
    Disposition,
    PickLineStatus,
    PickListStatus,
    ReturnReason,
    ReturnStatus,
    ShipmentStatus,
)

User = settings.AUTH_USER_MODEL


class PickList(models.Model):
    """A batch of reserved order lines of one warehouse to take off the shelves, in walking
    order (by bin code, then SKU)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    number = models.CharField(_("number"), max_length=32)
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=PickListStatus.choices, default=PickListStatus.OPEN)
    assigned_to = models.ForeignKey(
        User, verbose_name=_("picker"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("pick list")
        verbose_name_plural = _("pick lists")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="picklist_unique_number")]
        indexes = [models.Index(fields=["company", "status", "warehouse"], name="picklist_status_idx")]

    def __str__(self) -> str:
        return self.number


class PickListLine(models.Model):
    """Take `quantity` of an order line's product from `location` (the suggested bin)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    pick_list = models.ForeignKey(PickList, on_delete=models.CASCADE, related_name="lines")
    order = models.ForeignKey(SalesOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="+")
    order_line = models.ForeignKey(SalesOrderLine, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, verbose_name=_("bin"), on_delete=models.PROTECT, related_name="+")
    # Walking order through the warehouse: 1, 2, 3… by bin code, then SKU.
    sort_key = models.PositiveIntegerField(_("sequence"))
    quantity = QuantityField(_("quantity"))
    quantity_picked = QuantityField(_("picked"), default=Decimal(0))
    status = models.CharField(
        _("status"), max_length=10, choices=PickLineStatus.choices, default=PickLineStatus.PENDING
    )
    picked_at = models.DateTimeField(_("picked"), null=True, blank=True)
    picked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("pick list line")
        verbose_name_plural = _("pick list lines")
        ordering = ["pick_list", "sort_key"]
        constraints = [
            models.UniqueConstraint(fields=["pick_list", "sort_key"], name="picklistline_unique_sort_key"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="picklistline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_picked__gte=0, quantity_picked__lte=F("quantity")),
                name="picklistline_picked_within_quantity",
            ),
        ]
        indexes = [models.Index(fields=["order_line", "status"], name="picklistline_order_line_idx")]

    def __str__(self) -> str:
        return f"{self.pick_list_id}/{self.sort_key}"

    @property
    def quantity_plain(self) -> str:
        """The quantity as an input's value: "4", "2.5" (no grouping, no trailing zeros)."""
        return format(self.quantity.normalize(), "f")

    @property
    def missing(self) -> Decimal:
        """What the bin did not have (a short pick)."""
        return self.quantity - self.quantity_picked if self.status == PickLineStatus.SHORT else Decimal("0.000")


class Shipment(models.Model):
    """What leaves the warehouse for one order: picked quantities by line and bin, in parcels."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    number = models.CharField(_("number"), max_length=32)
    order = models.ForeignKey(SalesOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+")
    pick_list = models.ForeignKey(
        PickList, verbose_name=_("pick list"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=12, choices=ShipmentStatus.choices, default=ShipmentStatus.DRAFT)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    packed_at = models.DateTimeField(_("packed"), null=True, blank=True)
    packed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    shipped_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="shipment_unique_number")]
        indexes = [models.Index(fields=["company", "status"], name="shipment_status_idx")]

    def __str__(self) -> str:
        return self.number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(SalesOrderLine, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, verbose_name=_("bin"), on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField(_("quantity"))

    class Meta:
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        ordering = ["shipment", "pk"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="shipmentline_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.shipment_id}: {self.quantity} × {self.product_id}"


class Parcel(models.Model):
    """A box of a shipment: weight in kilograms, dimensions in centimetres (three decimals)."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="parcels")
    weight = QuantityField(_("weight (kg)"))
    length = QuantityField(_("length (cm)"), default=Decimal(0))
    width = QuantityField(_("width (cm)"), default=Decimal(0))
    height = QuantityField(_("height (cm)"), default=Decimal(0))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        ordering = ["shipment", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="parcel_weight_positive"),
            models.CheckConstraint(
                condition=Q(length__gte=0, width__gte=0, height__gte=0), name="parcel_dimensions_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id}: {self.weight} kg"


class CustomerReturn(models.Model):
    """Goods of shipped order lines coming back: registered when announced, received when they
    arrive (each line back to stock or to scrap)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    number = models.CharField(_("number"), max_length=32)
    order = models.ForeignKey(SalesOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=ReturnStatus.choices, default=ReturnStatus.REGISTERED)
    reason = models.CharField(_("reason"), max_length=20, choices=ReturnReason.choices)
    note = models.TextField(_("note"), blank=True)
    location = models.ForeignKey(
        Location, verbose_name=_("received into"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    received_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("customer return")
        verbose_name_plural = _("customer returns")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="customerreturn_unique_number")]
        indexes = [models.Index(fields=["company", "status"], name="customerreturn_status_idx")]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    customer_return = models.ForeignKey(CustomerReturn, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(SalesOrderLine, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField(_("quantity"))
    disposition = models.CharField(_("disposition"), max_length=10, choices=Disposition.choices, blank=True)

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["customer_return", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="returnline_quantity_positive"),
            models.UniqueConstraint(fields=["customer_return", "order_line"], name="returnline_unique_order_line"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_return_id}: {self.quantity} × {self.product_id}"


__all__ = [
    "CustomerReturn",
    "Parcel",
    "PickList",
    "PickListLine",
    "ReturnLine",
    "Shipment",
    "ShipmentLine",
]
