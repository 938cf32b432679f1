"""Pure stock arithmetic: the moving average cost and its one rounding point."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

UNIT_COST_SCALE = 4
QUANTITY_SCALE = 3


def round_unit_cost(value: Decimal) -> Decimal:
    """The named rounding point of unit costs: half-up to 4 decimal places."""
    return value.quantize(Decimal(1).scaleb(-UNIT_COST_SCALE), rounding=ROUND_HALF_UP)


def moving_average_cost(*, on_hand: Decimal, average_cost: Decimal, received: Decimal, unit_cost: Decimal) -> Decimal:
    """The average unit cost after receiving `received` units at `unit_cost`.

    Computed exactly and rounded once. With nothing (or less than nothing) on hand before,
    the old average carries no weight and the receipt's cost becomes the average.
    """
    if on_hand <= 0:
        return round_unit_cost(unit_cost)
    total = on_hand * average_cost + received * unit_cost
    return round_unit_cost(total / (on_hand + received))
