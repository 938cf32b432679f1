"""Warehouses and locations, the stock ledger (moves), balances, allocations, average costs and
cycle counts."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from retaguarda.catalog.models import Product
from retaguarda.common.fields import QuantityField, ScaledDecimalField
from retaguarda.core.models import Company

from .calculations import UNIT_COST_SCALE
from .choices import CycleCountStatus, LocationKind, MoveReason


class Warehouse(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="warehouse_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class Location(models.Model):
    """A place stock can be: a warehouse's stock location and its zones and bins (internal),
    or one of the company's virtual locations on the other side of every move."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    warehouse = models.ForeignKey(Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="locations")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    kind = models.CharField(_("kind"), max_length=16, choices=LocationKind.choices)
    code = models.CharField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="location_unique_code"),
            models.UniqueConstraint(
                fields=["company", "kind"],
                condition=~Q(kind=LocationKind.INTERNAL),
                name="location_one_virtual_per_kind",
            ),
            models.UniqueConstraint(
                fields=["warehouse"], condition=Q(parent__isnull=True), name="location_one_root_per_warehouse"
            ),
            models.CheckConstraint(
                condition=Q(kind=LocationKind.INTERNAL, warehouse__isnull=False)
                | (~Q(kind=LocationKind.INTERNAL) & Q(warehouse__isnull=True, parent__isnull=True)),
                name="location_internal_iff_in_warehouse",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_internal(self) -> bool:
        return self.kind == LocationKind.INTERNAL


class StockMove(models.Model):
    """One movement of a quantity of a product from one location to another: the ledger.

    Moves are only ever added; balances and costs are maintained from them by the services.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField(_("quantity"))
    from_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    to_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    unit_cost = ScaledDecimalField(_("unit cost"), scale=UNIT_COST_SCALE, default=Decimal(0))
    reason = models.CharField(_("reason"), max_length=16, choices=MoveReason.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="stockmove_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="stockmove_unit_cost_not_negative"),
            models.CheckConstraint(
                condition=~Q(from_location=F("to_location")), name="stockmove_between_two_locations"
            ),
        ]
        indexes = [models.Index(fields=["company", "product", "created_at"], name="stockmove_product_idx")]

    def __str__(self) -> str:
        return f"{self.quantity} {self.product_id}: {self.from_location_id} -> {self.to_location_id}"


class StockBalance(models.Model):
    """What is on hand of a product at one internal location: the warehouse's stock location or
    one of its zones and bins.

    Virtual locations keep no balance: they are the other side of the ledger, summed from moves.
    Reservations are per warehouse, on StockLevel.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="balances")
    on_hand = QuantityField(_("on hand"), default=Decimal(0))

    class Meta:
        verbose_name = _("stock balance")
        verbose_name_plural = _("stock balances")
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="stockbalance_unique_product_location"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stockbalance_on_hand_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}: {self.on_hand}"


class StockLevel(models.Model):
    """A product in a warehouse: on hand (the sum of its location balances), allocated to
    documents, and the replenishment limits. Availability is decided here, one row per product
    and warehouse, so a reservation locks one row whatever the bins."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="levels")
    on_hand = QuantityField(_("on hand"), default=Decimal(0))
    allocated = QuantityField(_("allocated"), default=Decimal(0))
    reorder_point = QuantityField(_("reorder point"), null=True, blank=True)
    maximum = QuantityField(_("maximum"), null=True, blank=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="stocklevel_unique_product_warehouse"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stocklevel_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(allocated__gte=0), name="stocklevel_allocated_not_negative"),
            models.CheckConstraint(
                condition=Q(allocated__lte=F("on_hand")), name="stocklevel_allocated_within_on_hand"
            ),
            models.CheckConstraint(condition=Q(reorder_point__gte=0), name="stocklevel_reorder_point_not_negative"),
            models.CheckConstraint(
                condition=Q(maximum__isnull=True) | Q(reorder_point__isnull=True) | Q(maximum__gt=F("reorder_point")),
                name="stocklevel_maximum_above_reorder_point",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id}: {self.on_hand} ({self.allocated})"

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.allocated


class StockCost(models.Model):
    """The moving average unit cost of a product in a warehouse, updated on every receipt."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    average_cost = ScaledDecimalField(_("average cost"), scale=UNIT_COST_SCALE, default=Decimal(0))

    class Meta:
        verbose_name = _("stock cost")
        verbose_name_plural = _("stock costs")
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="stockcost_unique_product_warehouse"),
            models.CheckConstraint(condition=Q(average_cost__gte=0), name="stockcost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id}: {self.average_cost}"


class Allocation(models.Model):
    """Stock of a warehouse reserved for a line of some document (a sales order line)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField(_("quantity"))
    reference_type = models.CharField(_("reference type"), max_length=50)
    reference_id = models.CharField(_("reference id"), max_length=64)
    line_id = models.CharField(_("line id"), max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="allocation_quantity_positive")]
        indexes = [models.Index(fields=["company", "reference_type", "reference_id"], name="allocation_reference_idx")]

    def __str__(self) -> str:
        return f"{self.reference_type}:{self.reference_id}/{self.line_id} {self.quantity}"


class CycleCount(models.Model):
    """A count of part of a warehouse (a location and the zones and bins under it): the stock
    expected at creation, what was counted, and, once approved, the differences posted as moves."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    number = models.CharField(_("number"), max_length=32)
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=12, choices=CycleCountStatus.choices, default=CycleCountStatus.DRAFT
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    counted_at = models.DateTimeField(_("counted"), null=True, blank=True)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("cycle count")
        verbose_name_plural = _("cycle counts")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="cyclecount_unique_number")]
        indexes = [models.Index(fields=["company", "status"], name="cyclecount_status_idx")]

    def __str__(self) -> str:
        return self.number


class CycleCountLine(models.Model):
    """One product at one location of a count: on hand when the count began, and what was found."""

    count = models.ForeignKey(CycleCount, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="+")
    expected = QuantityField(_("expected"), default=Decimal(0))
    counted = QuantityField(_("counted"), null=True, blank=True)
    # counted - expected, kept so that lists and the posting read it without arithmetic in SQL.
    variance = QuantityField(_("variance"), null=True, blank=True)

    class Meta:
        verbose_name = _("cycle count line")
        verbose_name_plural = _("cycle count lines")
        constraints = [
            models.UniqueConstraint(fields=["count", "product", "location"], name="cyclecountline_unique_item"),
            models.CheckConstraint(condition=Q(expected__gte=0), name="cyclecountline_expected_not_negative"),
            models.CheckConstraint(condition=Q(counted__gte=0), name="cyclecountline_counted_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.count_id}: {self.product_id}@{self.location_id}"
