"""Builders for tests of any area that needs bins with stock, pick lists or shipments."""

from __future__ import annotations

from decimal import Decimal

from retaguarda.catalog.testing import product_build
from retaguarda.core.permissions import system_actor
from retaguarda.inventory.choices import MoveReason
from retaguarda.inventory.models import Location
from retaguarda.inventory.services import location_create, stock_receive

from .models import PickList, Shipment
from .services import (
    parcel_add,
    pick_list_complete,
    pick_list_confirm_all,
    pick_list_create,
    shipment_pack,
    shipment_ship,
)


def bins_build(company, warehouse, codes) -> dict[str, Location]:
    """Bins of `warehouse` by their short code ("A-01" -> the location "MAIN/A-01")."""
    actor = system_actor(company)
    return {code: location_create(actor=actor, warehouse_id=warehouse.pk, code=code) for code in codes}


def stock_put(company, *, product, warehouse, quantity, location=None, unit_cost="1.0000") -> None:
    """`quantity` of `product` received as initial stock into `location` (default: the
    warehouse's stock location)."""
    stock_receive(
        actor=system_actor(company),
        product_id=product.pk,
        warehouse_id=warehouse.pk,
        quantity=str(quantity),
        unit_cost=unit_cost,
        reason=MoveReason.INITIAL,
        location_id=location.pk if location is not None else None,
    )


def binned_product(company, *, warehouse, stock: dict, **product_fields):
    """A product with stock in bins: `stock` maps a Location (or None for the warehouse's stock
    location) to a quantity."""
    product = product_build(company, **product_fields)
    for location, quantity in stock.items():
        stock_put(company, product=product, warehouse=warehouse, quantity=quantity, location=location)
    return product


def pick_list_build(company, *, warehouse, order_ids=None, actor=None) -> PickList:
    return pick_list_create(actor=actor or system_actor(company), warehouse_id=warehouse.pk, order_ids=order_ids)


def shipments_build(company, *, warehouse, order_ids=None, actor=None, pack: bool = False) -> list[Shipment]:
    """Pick every line of a new pick list in full and complete it: the draft shipments (packed
    with one 1 kg parcel each with `pack`)."""
    actor = actor or system_actor(company)
    pick_list = pick_list_build(company, warehouse=warehouse, order_ids=order_ids, actor=actor)
    pick_list_confirm_all(actor=actor, pick_list_id=pick_list.pk)
    shipments = pick_list_complete(actor=actor, pick_list_id=pick_list.pk).created_shipments
    if pack:
        for shipment in shipments:
            parcel_add(actor=actor, shipment_id=shipment.pk, weight=Decimal("1.000"))
            shipment_pack(actor=actor, shipment_id=shipment.pk)
    return shipments


def shipped_build(company, *, warehouse, order_ids=None, actor=None, carrier="Correos") -> list[Shipment]:
    """As shipments_build, then packed and shipped."""
    actor = actor or system_actor(company)
    shipments = shipments_build(company, warehouse=warehouse, order_ids=order_ids, actor=actor, pack=True)
    return [
        shipment_ship(actor=actor, shipment_id=s.pk, carrier=carrier, tracking_number=f"TRK{s.pk}") for s in shipments
    ]
