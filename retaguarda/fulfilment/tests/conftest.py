"""A small warehouse floor for fulfilment tests, and a snapshot of everything fulfilment can
change (to assert that a refusal changed nothing)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import timezone

from retaguarda.core.models import AuditLog, Deviation, OutboxEvent
from retaguarda.fulfilment.models import (
    CustomerReturn,
    Parcel,
    PickList,
    PickListLine,
    ReturnLine,
    Shipment,
    ShipmentLine,
)
from retaguarda.fulfilment.testing import binned_product, bins_build
from retaguarda.inventory.models import Allocation, Location, StockBalance, StockLevel, StockMove
from retaguarda.inventory.testing import warehouse_build
from retaguarda.sales.models import SalesOrder, SalesOrderLine

YEAR = timezone.localdate().year
MUG_BARCODE = "4006381333931"


@dataclass
class Floor:
    company: object
    warehouse: object
    bins: dict
    root: object
    mug: object
    tea: object


@pytest.fixture
def floor(company) -> Floor:
    """Warehouse MAIN with bins A-01, A-02 and B-01. MUG (with a barcode): 4 at A-01 and 6 at
    B-01. TEA: 5 at A-02 and 3 at the warehouse's stock location MAIN/STOCK."""
    warehouse = warehouse_build(company, code="MAIN", name="Main warehouse")
    bins = bins_build(company, warehouse, ["A-01", "A-02", "B-01"])
    mug = binned_product(
        company,
        warehouse=warehouse,
        stock={bins["A-01"]: 4, bins["B-01"]: 6},
        sku="MUG",
        name="Blue mug",
        barcode=MUG_BARCODE,
    )
    tea = binned_product(company, warehouse=warehouse, stock={bins["A-02"]: 5, None: 3}, sku="TEA", name="Green tea")
    root = Location.objects.get(warehouse=warehouse, parent__isnull=True)
    return Floor(company=company, warehouse=warehouse, bins=bins, root=root, mug=mug, tea=tea)


def level(product) -> tuple:
    """(on hand, allocated) of the product's stock level."""
    row = StockLevel.objects.get(product=product)
    return (str(row.on_hand), str(row.allocated))


def bins_of(product) -> dict[str, str]:
    """On hand per location code."""
    rows = StockBalance.objects.filter(product=product).values_list("location__code", "on_hand")
    return {code: str(on_hand) for code, on_hand in rows}


def order_line_figures(line) -> tuple:
    """(reserved, shipped, returned) of a sales order line, fresh from the database."""
    line.refresh_from_db()
    return (str(line.quantity_allocated), str(line.quantity_shipped), str(line.quantity_returned))


def everything(company) -> dict:
    """Every row fulfilment, its hooks in sales and inventory could touch, as plain values."""

    def rows(model, *fields, **filters):
        return sorted(tuple(str(v) for v in row) for row in model.objects.filter(**filters).values_list(*fields))

    return {
        "pick_lists": rows(PickList, "pk", "status", company=company),
        "pick_lines": rows(PickListLine, "pk", "status", "quantity", "quantity_picked", company=company),
        "shipments": rows(Shipment, "pk", "status", "carrier", "tracking_number", company=company),
        "shipment_lines": rows(ShipmentLine, "pk", "quantity", shipment__company=company),
        "parcels": rows(Parcel, "pk", "weight", shipment__company=company),
        "returns": rows(CustomerReturn, "pk", "status", company=company),
        "return_lines": rows(ReturnLine, "pk", "quantity", "disposition", customer_return__company=company),
        "orders": rows(SalesOrder, "pk", "status", "fulfilment_status", "is_backordered", company=company),
        "order_lines": rows(
            SalesOrderLine, "pk", "quantity_allocated", "quantity_shipped", "quantity_returned", company=company
        ),
        "levels": rows(StockLevel, "pk", "on_hand", "allocated", company=company),
        "balances": rows(StockBalance, "pk", "on_hand", company=company),
        "allocations": rows(Allocation, "pk", "quantity", company=company),
        "moves": rows(StockMove, "pk", company=company),
        "audit": rows(AuditLog, "pk", company=company),
        "events": rows(OutboxEvent, "pk", company=company),
        "deviations": rows(Deviation, "pk", "status", company=company),
    }
