"""Sales orders under /api/v1/sales/: the storefront sends its orders here.

`POST /orders` (send an `Idempotency-Key`) creates the order and, unless `confirm` is false,
confirms it with every line's stock reserved: 201 with the order; 409 `insufficient_stock`
(with `details` listing each short line's requested and available quantities),
`customer_blocked` or `duplicate_external_ref`; 422 with per-field errors. Quantities and money
travel as decimal strings ("2.000", "19.90").
"""

import datetime
from decimal import Decimal
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import WithJsonSchema

from retaguarda.common.errors import ValidationFailed
from retaguarda.core.apikit import ERRORS, Pagination
from retaguarda.core.workflow import transitions_available

from . import services
from .selectors import order_get, order_search
from .workflows import ORDER_WORKFLOW

router = Router(tags=["sales"])

Number = Annotated[
    str | int | Decimal,
    WithJsonSchema({"type": ["string", "number"], "examples": ["2", "19.90"], "description": "A decimal number."}),
]
QuantityOut = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": r"^[0-9]+\.[0-9]{3}$", "examples": ["2.000"]})
]
MoneyOut = Annotated[str, WithJsonSchema({"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "examples": ["19.90"]})]


class CustomerIn(Schema):
    """Found by tax id, else by e-mail; created from these details when not found."""

    tax_id: str | None = Field(None, max_length=64)
    tax_country: str | None = Field(None, max_length=2, description="Defaults to the company's country.")
    email: str | None = Field(None, max_length=254)
    name: str | None = Field(None, max_length=200)
    kind: str | None = Field(None, max_length=10, description="person (default) or company")
    phone: str | None = Field(None, max_length=40)
    language: str | None = Field(None, max_length=8)


class AddressIn(Schema):
    name: str | None = Field(None, max_length=200)
    street: str | None = Field(None, max_length=200)
    number: str | None = Field(None, max_length=20)
    complement: str | None = Field(None, max_length=100)
    district: str | None = Field(None, max_length=100)
    city: str | None = Field(None, max_length=100)
    state: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=16)
    country: str | None = Field(None, max_length=2)


class LineIn(Schema):
    sku: str | None = Field(None, max_length=64, description="The product, by SKU (or give product_id).")
    product_id: int | None = None
    quantity: Number
    unit_price: Number | None = Field(None, description="Defaults to the product's list price.")
    discount_percent: Number | None = None
    tax_category: str | None = Field(None, max_length=32, description="Defaults to the product's.")
    description: str | None = Field(None, max_length=200)


class LinePatch(LineIn):
    id: int | None = Field(None, description="An existing line to keep; leave out to add a line.")


class OrderIn(Schema):
    external_ref: str = Field("", max_length=100, description="The shop's own order reference; unique.")
    customer_id: int | None = None
    customer: CustomerIn | None = None
    warehouse: str | None = Field(None, max_length=32, description="Warehouse code; defaults to the first.")
    currency: str | None = Field(None, max_length=3)
    promised_date: datetime.date | None = Field(None, description="Ship by; defaults to today + handling days.")
    ship_to: AddressIn | None = None
    notes: str = Field("", max_length=5000)
    lines: list[LineIn] = Field(..., max_length=500)
    confirm: bool = Field(True, description="Confirm at once, reserving the stock (default).")


class OrderPatch(Schema):
    lines: list[LinePatch] | None = Field(None, max_length=500)
    ship_to: AddressIn | None = None
    notes: str | None = Field(None, max_length=5000)
    promised_date: datetime.date | None = None


class CancelIn(Schema):
    reason: str = Field("", max_length=200)


class CustomerOut(Schema):
    id: int
    name: str
    tax_id: str
    email: str


class LineOut(Schema):
    id: int
    position: int
    sku: str
    description: str
    quantity: QuantityOut
    unit_price: str
    discount_percent: str
    tax_category: str
    amount: MoneyOut
    allocated: QuantityOut
    backordered: QuantityOut
    shipped: QuantityOut
    returned: QuantityOut
    invoiced: QuantityOut


class AllocationOut(Schema):
    line_id: int
    sku: str
    warehouse: str
    quantity: QuantityOut


class OrderOut(Schema):
    id: int
    number: str
    external_ref: str
    channel: str
    status: str
    fulfilment_status: str
    billing_status: str
    backordered: bool
    customer: CustomerOut
    warehouse: str
    currency: str
    ordered_at: datetime.datetime
    promised_date: datetime.date | None
    ship_to: dict[str, str]
    notes: str
    amount_untaxed: MoneyOut
    lines: list[LineOut]
    allocations: list[AllocationOut]
    actions: list[str] = Field(description="What the caller may do now: confirm, cancel, close.")


class OrderSummaryOut(Schema):
    id: int
    number: str
    external_ref: str
    status: str
    fulfilment_status: str
    billing_status: str
    backordered: bool
    customer_id: int
    ordered_at: datetime.datetime
    promised_date: datetime.date | None
    currency: str
    amount_untaxed: MoneyOut


class OrderQuery(Schema):
    external_ref: str | None = None
    status: str | None = None
    fulfilment: str | None = None
    customer: str | None = None
    backordered: str | None = None
    q: str | None = None
    sort: str | None = None


def _order_out(request, order) -> dict:
    lines = order.prefetched_lines
    return {
        "id": order.pk,
        "number": order.number,
        "external_ref": order.external_ref,
        "channel": order.channel,
        "status": order.status,
        "fulfilment_status": order.fulfilment_status,
        "billing_status": order.billing_status,
        "backordered": order.is_backordered,
        "customer": {
            "id": order.customer.pk,
            "name": order.customer.legal_name,
            "tax_id": order.customer.tax_id,
            "email": order.customer.email,
        },
        "warehouse": order.warehouse.code,
        "currency": order.currency,
        "ordered_at": order.ordered_at,
        "promised_date": order.promised_date,
        "ship_to": {key: getattr(order, f"ship_to_{key}") for key in services.SHIP_TO_FIELDS},
        "notes": order.notes,
        "amount_untaxed": str(order.amount_untaxed),
        "lines": [
            {
                "id": line.pk,
                "position": line.position,
                "sku": line.product.sku,
                "description": line.description,
                "quantity": str(line.quantity),
                "unit_price": str(line.unit_price),
                "discount_percent": str(line.discount_percent),
                "tax_category": line.tax_category,
                "amount": str(line.amount),
                "allocated": str(line.quantity_allocated),
                "backordered": str(line.backordered if order.status == "confirmed" else Decimal("0.000")),
                "shipped": str(line.quantity_shipped),
                "returned": str(line.quantity_returned),
                "invoiced": str(line.quantity_invoiced),
            }
            for line in lines
        ],
        "allocations": [
            {
                "line_id": line.pk,
                "sku": line.product.sku,
                "warehouse": order.warehouse.code,
                "quantity": str(line.quantity_allocated),
            }
            for line in lines
            if line.quantity_allocated > 0
        ],
        "actions": [t.action for t in transitions_available(actor=request.actor, obj=order, workflow=ORDER_WORKFLOW)],
    }


def _dump(model) -> dict | None:
    return model.model_dump() if model is not None else None


def _lines(lines) -> list[dict] | None:
    if lines is None:
        return None
    return [{k: v for k, v in line.model_dump().items() if v is not None} for line in lines]


@router.post("/orders", response={201: OrderOut, **ERRORS})
def order_create(request, payload: OrderIn):
    """Create (and by default confirm) an order from the storefront."""
    order = services.sales_order_create(
        actor=request.actor,
        lines=_lines(payload.lines),
        customer_id=payload.customer_id,
        customer=_dump(payload.customer),
        external_ref=payload.external_ref,
        warehouse_code=payload.warehouse or "",
        currency=payload.currency or "",
        promised_date=payload.promised_date,
        ship_to=_dump(payload.ship_to),
        notes=payload.notes,
        channel="api",
        confirm=payload.confirm,
    )
    return Status(201, _order_out(request, order))


@router.get("/orders", response={200: list[OrderSummaryOut], **ERRORS})
@paginate(Pagination)
def order_list(request, query: Query[OrderQuery]):
    """Orders, newest first; `?external_ref=` finds the shop's order."""
    params = {k: v for k, v in query.model_dump().items() if v is not None}
    return [
        {
            "id": o.pk,
            "number": o.number,
            "external_ref": o.external_ref,
            "status": o.status,
            "fulfilment_status": o.fulfilment_status,
            "billing_status": o.billing_status,
            "backordered": o.is_backordered,
            "customer_id": o.customer_id,
            "ordered_at": o.ordered_at,
            "promised_date": o.promised_date,
            "currency": o.currency,
            "amount_untaxed": str(o.amount_untaxed),
        }
        for o in order_search(request.actor, params)
    ]


@router.get("/orders/{order_id}", response={200: OrderOut, **ERRORS})
def order_detail(request, order_id: int):
    return _order_out(request, order_get(request.actor, order_id))


@router.patch("/orders/{order_id}", response={200: OrderOut, **ERRORS})
def order_update(request, order_id: int, payload: OrderPatch):
    """Edit an order; on a confirmed order the reservations follow the new quantities."""
    order = services.sales_order_update(
        actor=request.actor,
        order_id=order_id,
        lines=_lines(payload.lines),
        ship_to=_dump(payload.ship_to),
        notes=payload.notes,
        promised_date=payload.promised_date,
    )
    return _order_out(request, order)


@router.post("/orders/{order_id}/confirm", response={200: OrderOut, **ERRORS})
def order_confirm(request, order_id: int):
    return _order_out(request, services.sales_order_confirm(actor=request.actor, order_id=order_id))


@router.post(
    "/orders/{order_id}/cancel",
    response={200: OrderOut, **ERRORS},
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": CancelIn.model_json_schema()}},
        }
    },
)
def order_cancel(request, order_id: int):
    """Cancel an order that has shipped nothing; its reserved stock becomes available again.
    The body is optional: `{"reason": "..."}`."""
    reason = ""
    if request.content_type == "application/json" and request.body.strip():
        try:
            reason = CancelIn.model_validate_json(request.body).reason
        except ValueError:
            raise ValidationFailed(
                _("The request has invalid fields."), fields={"reason": [_("Send a JSON object with a text reason.")]}
            )
    return _order_out(request, services.sales_order_cancel(actor=request.actor, order_id=order_id, reason=reason))


@router.post("/orders/{order_id}/close", response={200: OrderOut, **ERRORS})
def order_close(request, order_id: int):
    """Nothing more will ship: any reservation left is released."""
    return _order_out(request, services.sales_order_close(actor=request.actor, order_id=order_id))
