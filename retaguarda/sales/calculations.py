"""Pure arithmetic of sales orders: line amounts and the statuses derived from quantities."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from retaguarda.common.fields import round_money

from .choices import BillingStatus, FulfilmentStatus

ZERO = Decimal("0.000")
HUNDRED = Decimal(100)


def line_amount(*, quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """Quantity × price less the discount, rounded once, half-up to the cent."""
    return round_money(quantity * unit_price * (HUNDRED - discount_percent) / HUNDRED)


@dataclass(frozen=True)
class LineQuantities:
    quantity: Decimal
    allocated: Decimal = ZERO
    shipped: Decimal = ZERO
    invoiced: Decimal = ZERO

    @property
    def open(self) -> Decimal:
        """Still to ship."""
        return self.quantity - self.shipped

    @property
    def backordered(self) -> Decimal:
        """Still to ship and not reserved: waiting for stock."""
        return max(self.quantity - self.shipped - self.allocated, ZERO)


def fulfilment_status(lines: Iterable[LineQuantities]) -> str:
    lines = list(lines)
    shipped = sum((line.shipped for line in lines), ZERO)
    if lines and all(line.shipped >= line.quantity for line in lines):
        return FulfilmentStatus.SHIPPED
    return FulfilmentStatus.PARTIALLY_SHIPPED if shipped > 0 else FulfilmentStatus.NOT_SHIPPED


def billing_status(lines: Iterable[LineQuantities]) -> str:
    lines = list(lines)
    invoiced = sum((line.invoiced for line in lines), ZERO)
    if lines and all(line.invoiced >= line.quantity for line in lines):
        return BillingStatus.INVOICED
    return BillingStatus.PARTIALLY_INVOICED if invoiced > 0 else BillingStatus.NOT_INVOICED


def is_backordered(lines: Iterable[LineQuantities]) -> bool:
    return any(line.backordered > 0 for line in lines)
