"""Builders for tests of any area that needs warehouses and stock."""

from __future__ import annotations

import itertools
from decimal import Decimal

from retaguarda.catalog.testing import product_build
from retaguarda.core.permissions import system_actor

from .choices import MoveReason
from .models import Warehouse
from .services import stock_receive, warehouse_create

_counter = itertools.count(1)


def warehouse_build(company, *, code: str | None = None, name: str | None = None) -> Warehouse:
    n = next(_counter)
    return warehouse_create(actor=system_actor(company), code=code or f"WH{n}", name=name or f"Warehouse {n}")


def stocked_product(company, *, warehouse: Warehouse, quantity="10", unit_cost="1.0000", **product_fields):
    """A product with `quantity` units received as initial stock into `warehouse`."""
    product = product_build(company, **product_fields)
    if Decimal(quantity) > 0:
        stock_receive(
            actor=system_actor(company),
            product_id=product.pk,
            warehouse_id=warehouse.pk,
            quantity=quantity,
            unit_cost=unit_cost,
            reason=MoveReason.INITIAL,
        )
    return product
