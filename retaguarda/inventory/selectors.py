"""Reads of inventory with business meaning: what can be promised, per SKU and warehouse."""

from __future__ import annotations

from decimal import Decimal

from .models import StockLevel

ZERO = Decimal("0.000")


def availability(*, company, skus) -> dict[str, dict]:
    """Available (on hand − allocated) per SKU: {"A": {"total": D, "warehouses": {"MAIN": D}}}.

    One query whatever the number of SKUs and warehouses; SKUs without stock get zero, and only
    active warehouses count.
    """
    skus = list(dict.fromkeys(skus))
    result = {sku: {"total": ZERO, "warehouses": {}} for sku in skus}
    rows = (
        StockLevel.objects.filter(company=company, product__sku__in=skus, warehouse__is_active=True)
        .values_list("product__sku", "warehouse__code", "on_hand", "allocated")
        .order_by("product__sku", "warehouse__code")
    )
    for sku, warehouse, on_hand, allocated in rows:
        entry = result[sku]
        entry["warehouses"][warehouse] = on_hand - allocated
        entry["total"] += on_hand - allocated
    return result
