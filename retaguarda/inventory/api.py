"""Inventory endpoints under /api/v1/inventory/: what the front office can promise.

Quantities travel as decimal strings with three places ("7.500"), never as floats.
"""

from __future__ import annotations

from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import WithJsonSchema

from retaguarda.common.errors import ValidationFailed
from retaguarda.core.apikit import ERRORS
from retaguarda.core.permissions import require

from .models import Warehouse
from .selectors import ZERO, availability

router = Router(tags=["inventory"])

MAX_SKUS = 100

QuantityOut = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{3}$", "examples": ["7.500"]})
]


class WarehouseAvailabilityOut(Schema):
    code: str
    name: str
    available: QuantityOut


class AvailabilityOut(Schema):
    sku: str
    available: QuantityOut = Field(description="On hand minus allocated, over the company's active warehouses.")
    warehouses: list[WarehouseAvailabilityOut] = Field(description="Only warehouses that hold the SKU, by code.")


class AvailabilityQuery(Schema):
    sku: list[str] = Field([], description=f"Repeat for each SKU: `?sku=A&sku=B` (1 to {MAX_SKUS}).")


def _skus(raw: list[str]) -> list[str]:
    """The SKUs asked for, stripped, without blanks or repeats, in the order given; 1 to MAX_SKUS."""
    skus = list(dict.fromkeys(s.strip() for s in raw if s.strip()))
    if not skus:
        raise ValidationFailed(_("The request has invalid fields."), fields={"sku": [_("Give at least one SKU.")]})
    if len(skus) > MAX_SKUS:
        message = _("Give at most %(max)d SKUs per request.") % {"max": MAX_SKUS}
        raise ValidationFailed(_("The request has invalid fields."), fields={"sku": [message]})
    return skus


@router.get("/availability", response={200: list[AvailabilityOut], **ERRORS})
def availability_get(request, query: Query[AvailabilityQuery]):
    """Available quantity per SKU, in total and per active warehouse; an unknown SKU answers zero."""
    require(request.actor, "inventory.view")
    skus = _skus(query.sku)
    company = request.actor.company
    # PostgreSQL refuses NUL characters in text; no SKU can hold one, so such a SKU has no stock.
    found = availability(company=company, skus=[s for s in skus if "\x00" not in s])
    codes = {code for entry in found.values() for code in entry["warehouses"]}
    names = dict(Warehouse.objects.filter(company=company, code__in=codes).values_list("code", "name")) if codes else {}
    empty = {"total": ZERO, "warehouses": {}}
    result = []
    for s in skus:
        entry = found.get(s, empty)
        result.append(
            {
                "sku": s,
                "available": str(entry["total"]),
                "warehouses": [
                    {"code": code, "name": names.get(code, ""), "available": str(quantity)}
                    for code, quantity in entry["warehouses"].items()
                ],
            }
        )
    return result
