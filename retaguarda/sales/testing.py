"""Builders for tests of any area that needs sales orders."""

from __future__ import annotations

from retaguarda.core.permissions import system_actor
from retaguarda.parties.testing import party_build

from .models import SalesOrder
from .services import sales_order_create


def order_build(company, *, warehouse, lines, customer=None, confirm: bool = True, **fields) -> SalesOrder:
    """An order of `customer` (a new one if None) with `lines` given as (product, quantity) or
    (product, quantity, unit_price) tuples, confirmed by default."""
    customer = customer or party_build(company)
    rows = []
    for line in lines:
        product, quantity, *rest = line
        row = {"product_id": product.pk, "quantity": str(quantity)}
        if rest:
            row["unit_price"] = str(rest[0])
        rows.append(row)
    return sales_order_create(
        actor=fields.pop("actor", None) or system_actor(company),
        customer_id=customer.pk,
        warehouse_id=warehouse.pk,
        lines=rows,
        confirm=confirm,
        **fields,
    )
