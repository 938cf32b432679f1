"""Fulfilment endpoints under /api/v1/fulfilment/: pick lists, picks, parcels, shipments, returns.

A warehouse system or a scanner app drives the floor through these: create a pick list, confirm
each line with the scanned code (less than asked is a short pick), complete it into draft
shipments, add parcels, pack and ship. Quantities and measures travel as decimal strings with
three places ("2.000"); a sales order line is named `line_id` everywhere.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from pydantic import WithJsonSchema

from retaguarda.core.apikit import ERRORS
from retaguarda.core.workflow import transitions_available

from . import services
from .documents import delivery_note_pdf
from .selectors import pick_list_get, pick_progress, return_get, shipment_get
from .workflows import PICK_LIST_WORKFLOW, RETURN_WORKFLOW, SHIPMENT_WORKFLOW

router = Router(tags=["fulfilment"])

Number = Annotated[
    str | int | Decimal,
    WithJsonSchema({"type": ["string", "number"], "examples": ["2", "1.250"], "description": "A decimal number."}),
]
QuantityOut = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": r"^[0-9]+\.[0-9]{3}$", "examples": ["2.000"]})
]


# --- schemas ------------------------------------------------------------------------------------


class PickListIn(Schema):
    warehouse_id: int | None = None
    warehouse: str | None = Field(None, max_length=32, description="Warehouse code (or give warehouse_id).")
    order_ids: list[int] | None = Field(
        None, max_length=500, description="Only these orders; leave out for every order ready to pick."
    )
    assigned_to_id: int | None = Field(None, description="The user who picks it (a member of the company).")


class PickConfirmIn(Schema):
    code: str = Field(..., max_length=200, description="The scanned barcode or the typed SKU.")
    quantity: Number | None = Field(
        None, description="What was taken from the bin; the line's quantity when left out. Less is a short pick."
    )


class ParcelIn(Schema):
    weight_kg: Number = Field(description="Above zero, at most three decimals.")
    length_cm: Number = "0"
    width_cm: Number = "0"
    height_cm: Number = "0"


class ShipIn(Schema):
    carrier: str = Field(..., max_length=100)
    tracking_number: str = Field("", max_length=100)


class ReturnLineIn(Schema):
    line_id: int = Field(description="The sales order line coming back.")
    quantity: Number


class ReturnIn(Schema):
    order_id: int
    lines: list[ReturnLineIn] = Field(..., max_length=500)
    reason: str = Field(..., max_length=20, description="damaged, wrong_item, not_as_described, changed_mind, other")
    note: str = Field("", max_length=2000)


class ReceiveIn(Schema):
    dispositions: dict[str, str] = Field(
        description='Per sales order line id of the return: "restock" or "scrap", e.g. {"12": "restock"}.'
    )
    location_id: int | None = Field(
        None, description="Where restocked goods go; the warehouse's stock location by default."
    )


class PickLineOut(Schema):
    id: int
    sequence: int
    order_id: int
    order_number: str
    line_id: int
    sku: str
    description: str
    location: str
    quantity: QuantityOut
    quantity_picked: QuantityOut
    status: str
    picked_at: datetime.datetime | None


class ShipmentRefOut(Schema):
    id: int
    number: str
    order_number: str
    status: str


class ProgressOut(Schema):
    total: int
    done: int
    pending: int
    short: int


class PickListOut(Schema):
    id: int
    number: str
    warehouse: str
    status: str
    assigned_to: str | None
    created_at: datetime.datetime
    done_at: datetime.datetime | None
    progress: ProgressOut
    lines: list[PickLineOut]
    shipments: list[ShipmentRefOut]
    actions: list[str] = Field(description="What the caller may do now: complete, cancel.")


class ShipmentLineOut(Schema):
    id: int
    line_id: int
    sku: str
    description: str
    location: str
    quantity: QuantityOut


class ParcelOut(Schema):
    id: int
    weight_kg: QuantityOut
    length_cm: QuantityOut
    width_cm: QuantityOut
    height_cm: QuantityOut


class ShipmentOut(Schema):
    id: int
    number: str
    order_id: int
    order_number: str
    warehouse: str
    pick_list_id: int | None
    status: str
    carrier: str
    tracking_number: str
    created_at: datetime.datetime
    packed_at: datetime.datetime | None
    shipped_at: datetime.datetime | None
    lines: list[ShipmentLineOut]
    parcels: list[ParcelOut]
    actions: list[str] = Field(description="What the caller may do now: pack, reopen, ship, cancel.")


class ReturnLineOut(Schema):
    id: int
    line_id: int
    sku: str
    quantity: QuantityOut
    disposition: str


class ReturnOut(Schema):
    id: int
    number: str
    order_id: int
    order_number: str
    status: str
    reason: str
    note: str
    location: str | None
    created_at: datetime.datetime
    received_at: datetime.datetime | None
    lines: list[ReturnLineOut]
    actions: list[str] = Field(description="What the caller may do now: receive, cancel.")


# --- output -------------------------------------------------------------------------------------


def _actions(request, obj, workflow) -> list[str]:
    return list(dict.fromkeys(t.action for t in transitions_available(actor=request.actor, obj=obj, workflow=workflow)))


def _pick_line_out(line) -> dict:
    return {
        "id": line.pk,
        "sequence": line.sort_key,
        "order_id": line.order_id,
        "order_number": line.order.number,
        "line_id": line.order_line_id,
        "sku": line.product.sku,
        "description": line.order_line.description,
        "location": line.location.code,
        "quantity": str(line.quantity),
        "quantity_picked": str(line.quantity_picked),
        "status": line.status,
        "picked_at": line.picked_at,
    }


def _pick_list_out(request, pick_list_id) -> dict:
    pick_list = pick_list_get(request.actor, pick_list_id)
    lines = pick_list.prefetched_lines
    progress = pick_progress(lines)
    return {
        "id": pick_list.pk,
        "number": pick_list.number,
        "warehouse": pick_list.warehouse.code,
        "status": pick_list.status,
        "assigned_to": pick_list.assigned_to.username if pick_list.assigned_to else None,
        "created_at": pick_list.created_at,
        "done_at": pick_list.done_at,
        "progress": {k: progress[k] for k in ("total", "done", "pending", "short")},
        "lines": [_pick_line_out(line) for line in lines],
        "shipments": [
            {"id": s.pk, "number": s.number, "order_number": s.order.number, "status": s.status}
            for s in pick_list.prefetched_shipments
        ],
        "actions": _actions(request, pick_list, PICK_LIST_WORKFLOW),
    }


def _shipment_out(request, shipment_id) -> dict:
    shipment = shipment_get(request.actor, shipment_id)
    return {
        "id": shipment.pk,
        "number": shipment.number,
        "order_id": shipment.order_id,
        "order_number": shipment.order.number,
        "warehouse": shipment.warehouse.code,
        "pick_list_id": shipment.pick_list_id,
        "status": shipment.status,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "created_at": shipment.created_at,
        "packed_at": shipment.packed_at,
        "shipped_at": shipment.shipped_at,
        "lines": [
            {
                "id": line.pk,
                "line_id": line.order_line_id,
                "sku": line.product.sku,
                "description": line.order_line.description,
                "location": line.location.code,
                "quantity": str(line.quantity),
            }
            for line in shipment.prefetched_lines
        ],
        "parcels": [
            {
                "id": p.pk,
                "weight_kg": str(p.weight),
                "length_cm": str(p.length),
                "width_cm": str(p.width),
                "height_cm": str(p.height),
            }
            for p in shipment.prefetched_parcels
        ],
        "actions": _actions(request, shipment, SHIPMENT_WORKFLOW),
    }


def _return_out(request, return_id) -> dict:
    customer_return = return_get(request.actor, return_id)
    return {
        "id": customer_return.pk,
        "number": customer_return.number,
        "order_id": customer_return.order_id,
        "order_number": customer_return.order.number,
        "status": customer_return.status,
        "reason": customer_return.reason,
        "note": customer_return.note,
        "location": customer_return.location.code if customer_return.location else None,
        "created_at": customer_return.created_at,
        "received_at": customer_return.received_at,
        "lines": [
            {
                "id": line.pk,
                "line_id": line.order_line_id,
                "sku": line.product.sku,
                "quantity": str(line.quantity),
                "disposition": line.disposition,
            }
            for line in customer_return.prefetched_lines
        ],
        "actions": _actions(request, customer_return, RETURN_WORKFLOW),
    }


# --- pick lists ---------------------------------------------------------------------------------


@router.post("/pick-lists", response={201: PickListOut, **ERRORS})
def pick_list_create(request, payload: PickListIn):
    """Batch what confirmed orders have reserved and not yet on a pick list, with a bin per
    line; 409 `nothing_to_pick` when there is nothing."""
    pick_list = services.pick_list_create(
        actor=request.actor,
        warehouse_id=payload.warehouse_id,
        warehouse_code=payload.warehouse or "",
        order_ids=payload.order_ids,
        assigned_to_id=payload.assigned_to_id,
    )
    return Status(201, _pick_list_out(request, pick_list.pk))


@router.get("/pick-lists/{pick_list_id}", response={200: PickListOut, **ERRORS})
def pick_list_detail(request, pick_list_id: int):
    return _pick_list_out(request, pick_list_id)


@router.post("/pick-lines/{line_id}/confirm", response={200: PickLineOut, **ERRORS})
def pick_line_confirm(request, line_id: int, payload: PickConfirmIn):
    """Confirm a line with the scanned code; 422 when the code is another product's."""
    line = services.pick_line_confirm(
        actor=request.actor, line_id=line_id, code=payload.code, quantity=payload.quantity
    )
    return _pick_line_out(line)


@router.post("/pick-lists/{pick_list_id}/confirm-all", response={200: PickListOut, **ERRORS})
def pick_list_confirm_all(request, pick_list_id: int):
    """Every pending line picked in full."""
    services.pick_list_confirm_all(actor=request.actor, pick_list_id=pick_list_id)
    return _pick_list_out(request, pick_list_id)


@router.post("/pick-lists/{pick_list_id}/complete", response={200: PickListOut, **ERRORS})
def pick_list_complete(request, pick_list_id: int):
    """Done: one draft shipment per order with what was picked; 409 `lines_pending` otherwise."""
    services.pick_list_complete(actor=request.actor, pick_list_id=pick_list_id)
    return _pick_list_out(request, pick_list_id)


# --- shipments ----------------------------------------------------------------------------------


@router.get("/shipments/{shipment_id}", response={200: ShipmentOut, **ERRORS})
def shipment_detail(request, shipment_id: int):
    return _shipment_out(request, shipment_id)


@router.post("/shipments/{shipment_id}/parcels", response={201: ShipmentOut, **ERRORS})
def parcel_add(request, shipment_id: int, payload: ParcelIn):
    services.parcel_add(
        actor=request.actor,
        shipment_id=shipment_id,
        weight=payload.weight_kg,
        length=payload.length_cm,
        width=payload.width_cm,
        height=payload.height_cm,
    )
    return Status(201, _shipment_out(request, shipment_id))


@router.delete("/shipments/{shipment_id}/parcels/{parcel_id}", response={200: ShipmentOut, **ERRORS})
def parcel_remove(request, shipment_id: int, parcel_id: int):
    services.parcel_remove(actor=request.actor, shipment_id=shipment_id, parcel_id=parcel_id)
    return _shipment_out(request, shipment_id)


@router.post("/shipments/{shipment_id}/pack", response={200: ShipmentOut, **ERRORS})
def shipment_pack(request, shipment_id: int):
    """Boxed: needs at least one parcel (409 `no_parcels`)."""
    services.shipment_pack(actor=request.actor, shipment_id=shipment_id)
    return _shipment_out(request, shipment_id)


@router.post("/shipments/{shipment_id}/ship", response={200: ShipmentOut, **ERRORS})
def shipment_ship(request, shipment_id: int, payload: ShipIn):
    """The goods leave: stock posted from each bin, the order's lines shipped (`order.shipped`)."""
    services.shipment_ship(
        actor=request.actor,
        shipment_id=shipment_id,
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
    )
    return _shipment_out(request, shipment_id)


@router.get(
    "/shipments/{shipment_id}/delivery-note.pdf",
    response=ERRORS,
    openapi_extra={
        "responses": {
            "200": {
                "description": "The delivery note, in the customer's language.",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def shipment_delivery_note(request, shipment_id: int):
    name, pdf = delivery_note_pdf(actor=request.actor, shipment_id=shipment_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


# --- returns ------------------------------------------------------------------------------------


@router.post("/returns", response={201: ReturnOut, **ERRORS})
def return_register(request, payload: ReturnIn):
    """Announce goods coming back, within what was shipped and not yet returned."""
    customer_return = services.return_register(
        actor=request.actor,
        order_id=payload.order_id,
        lines=[line.model_dump() for line in payload.lines],
        reason=payload.reason,
        note=payload.note,
    )
    return Status(201, _return_out(request, customer_return.pk))


@router.get("/returns/{return_id}", response={200: ReturnOut, **ERRORS})
def return_detail(request, return_id: int):
    return _return_out(request, return_id)


@router.post("/returns/{return_id}/receive", response={200: ReturnOut, **ERRORS})
def return_receive(request, return_id: int, payload: ReceiveIn):
    """The goods arrived: each line back to stock or to scrap."""
    services.return_receive(
        actor=request.actor,
        return_id=return_id,
        dispositions=payload.dispositions,
        location_id=payload.location_id,
    )
    return _return_out(request, return_id)
