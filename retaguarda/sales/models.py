"""Sales orders and their lines: what the customer asked for, what is reserved, shipped and
invoiced. Progress statuses are derived from the lines' quantities and stored for listing."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from retaguarda.catalog.models import Product
from retaguarda.common.fields import MoneyField, QuantityField, ScaledDecimalField
from retaguarda.core.choices import Country, Currency
from retaguarda.core.models import Company
from retaguarda.inventory.models import Warehouse
from retaguarda.parties.models import Party

from .calculations import LineQuantities
from .choices import BillingStatus, Channel, FulfilmentStatus, OrderStatus

UNIT_PRICE_SCALE = 4
User = settings.AUTH_USER_MODEL


class SalesOrder(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    number = models.CharField(_("number"), max_length=32)
    external_ref = models.CharField(_("shop reference"), max_length=100, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    customer = models.ForeignKey(Party, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    status = models.CharField(_("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    fulfilment_status = models.CharField(
        _("fulfilment"), max_length=20, choices=FulfilmentStatus.choices, default=FulfilmentStatus.NOT_SHIPPED
    )
    billing_status = models.CharField(
        _("billing"), max_length=20, choices=BillingStatus.choices, default=BillingStatus.NOT_INVOICED
    )
    is_backordered = models.BooleanField(_("back-ordered"), default=False)
    ordered_at = models.DateTimeField(_("ordered"), default=timezone.now)
    promised_date = models.DateField(_("ship by"), null=True, blank=True)
    ship_to_name = models.CharField(_("recipient"), max_length=200, blank=True)
    ship_to_street = models.CharField(_("street"), max_length=200, blank=True)
    ship_to_number = models.CharField(_("number"), max_length=20, blank=True)
    ship_to_complement = models.CharField(_("complement"), max_length=100, blank=True)
    ship_to_district = models.CharField(_("district"), max_length=100, blank=True)
    ship_to_city = models.CharField(_("city"), max_length=100, blank=True)
    ship_to_state = models.CharField(_("state or province"), max_length=100, blank=True)
    ship_to_postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    ship_to_country = models.CharField(_("country"), max_length=2, choices=Country.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    amount_untaxed = MoneyField(_("amount before tax"), default=Decimal(0))
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        ordering = ["-ordered_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="salesorder_unique_number"),
            models.UniqueConstraint(
                fields=["company", "external_ref"], condition=~Q(external_ref=""), name="salesorder_unique_external_ref"
            ),
            models.CheckConstraint(condition=Q(amount_untaxed__gte=0), name="salesorder_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["company", "status", "ordered_at"], name="salesorder_status_idx"),
            models.Index(fields=["company", "customer"], name="salesorder_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def reference_type(self) -> str:
        """How inventory's allocations and moves name this order."""
        return "sales.order"


class SalesOrderLine(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=200)
    quantity = QuantityField(_("quantity"))
    unit_price = ScaledDecimalField(_("unit price"), scale=UNIT_PRICE_SCALE)
    discount_percent = ScaledDecimalField(_("discount %"), scale=2, default=Decimal(0))
    tax_category = models.CharField(_("tax category"), max_length=32)
    amount = MoneyField(_("amount"))
    quantity_allocated = QuantityField(_("reserved"), default=Decimal(0))
    quantity_shipped = QuantityField(_("shipped"), default=Decimal(0))
    quantity_returned = QuantityField(_("returned"), default=Decimal(0))
    quantity_invoiced = QuantityField(_("invoiced"), default=Decimal(0))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="salesorderline_unique_position"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="salesorderline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="salesorderline_price_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="salesorderline_discount_range"
            ),
            models.CheckConstraint(
                condition=Q(quantity_allocated__gte=0, quantity_shipped__gte=0, quantity_returned__gte=0),
                name="salesorderline_quantities_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=F("quantity_allocated") + F("quantity_shipped")),
                name="salesorderline_reserved_and_shipped_within_ordered",
            ),
            models.CheckConstraint(
                condition=Q(quantity_returned__lte=F("quantity_shipped")),
                name="salesorderline_returned_within_shipped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.position}"

    @property
    def quantities(self) -> LineQuantities:
        return LineQuantities(
            quantity=self.quantity,
            allocated=self.quantity_allocated,
            shipped=self.quantity_shipped,
            invoiced=self.quantity_invoiced,
        )

    @property
    def backordered(self) -> Decimal:
        return self.quantities.backordered

    @property
    def to_ship(self) -> Decimal:
        return self.quantity - self.quantity_shipped
