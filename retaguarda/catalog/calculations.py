"""Pure functions of the catalog: unit conversion and choosing a price tier. No database."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.utils.translation import gettext as _

from retaguarda.common.errors import ValidationFailed

QUANTITY_QUANTUM = Decimal("0.001")


def round_to_step(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """`value` rounded to a whole number of `step`s (1 for pieces, 0.5, 0.001…), as a quantity."""
    if step <= 0:
        raise ValueError("the rounding step must be positive")
    with localcontext() as ctx:
        ctx.prec = 50
        steps = (value / step).to_integral_value(rounding=rounding)
        return (steps * step).quantize(QUANTITY_QUANTUM, rounding=rounding)


def convert(quantity: Decimal, from_uom, to_uom, *, rounding: str = ROUND_HALF_UP) -> Decimal:
    """`quantity` in `from_uom` expressed in `to_uom`, rounded to the target unit's precision.

    Units carry `category`, `factor` (reference units per unit) and `rounding` (step). Units of
    different categories (kilograms and litres) do not convert: that raises ValidationFailed.
    """
    if from_uom.category != to_uom.category:
        raise ValidationFailed(
            _("%(source)s and %(target)s measure different things and cannot be converted.")
            % {"source": from_uom.code, "target": to_uom.code},
            code="uom_category_mismatch",
            fields={"uom": [_("Choose a unit of the same category.")]},
        )
    quantity = Decimal(quantity)
    if from_uom.code == to_uom.code and from_uom.factor == to_uom.factor:
        return quantity
    with localcontext() as ctx:
        ctx.prec = 50
        in_reference = quantity * Decimal(from_uom.factor)
        exact = in_reference / Decimal(to_uom.factor)
    return round_to_step(exact, Decimal(to_uom.rounding), rounding)


def best_tier(tiers: Iterable[tuple[Decimal, Decimal]], quantity: Decimal) -> tuple[Decimal, Decimal] | None:
    """Among (min_quantity, unit_price) tiers, the lowest price whose minimum `quantity` reaches.

    Ties go to the tier with the higher minimum. None when no tier applies.
    """
    best = None
    for min_quantity, unit_price in tiers:
        if min_quantity > quantity:
            continue
        if best is None or (unit_price, -min_quantity) < (best[1], -best[0]):
            best = (min_quantity, unit_price)
    return best
