"""Reads of inventory with business meaning: what can be promised, per SKU and warehouse."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F, Sum

from retaguarda.common.fields import QuantityField

from .models import StockBalance

ZERO = Decimal("0.000")


def availability(*, company, skus) -> dict[str, dict]:
    """Available (on hand − allocated) per SKU: {"A": {"total": D, "warehouses": {"MAIN": D}}}.

    One query whatever the number of SKUs and warehouses; SKUs without stock get zero, and only
    active warehouses count.
    """
    skus = list(dict.fromkeys(skus))
    result = {sku: {"total": ZERO, "warehouses": {}} for sku in skus}
    rows = (
        StockBalance.objects.filter(company=company, product__sku__in=skus, location__warehouse__is_active=True)
        .values("product__sku", "location__warehouse__code")
        .annotate(available=Sum(F("on_hand") - F("allocated"), output_field=QuantityField()))
        .order_by("product__sku", "location__warehouse__code")
    )
    for row in rows:
        entry = result[row["product__sku"]]
        entry["warehouses"][row["location__warehouse__code"]] = row["available"]
        entry["total"] += row["available"]
    return result
