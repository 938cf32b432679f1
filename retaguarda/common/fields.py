"""Exact decimals stored as scaled integers, so SQLite sums and compares them exactly too."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core import validators
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class ScaledDecimalField(models.BigIntegerField):
    """A Decimal with `scale` decimal places kept as an integer count of 10**-scale units.

    Money uses scale 2 (minor units of EUR and BRL), quantities scale 3 (thousandths).
    Values with more places than the scale are refused, never silently rounded.
    """

    description = _("Exact decimal number")

    def __init__(self, *args, scale: int = 2, **kwargs):
        self.scale = scale
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["scale"] = self.scale
        return name, path, args, kwargs

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.scale)

    def to_python(self, value):
        if value is None or isinstance(value, Decimal) and value.is_finite():
            return value
        try:
            result = Decimal(str(value).strip().replace(",", ".")) if isinstance(value, str) else Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            raise ValidationError(_("Enter a number."), code="invalid")
        if not result.is_finite():
            raise ValidationError(_("Enter a number."), code="invalid")
        return result

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, models.Expression):
            return value
        value = self.to_python(value)
        scaled = value.scaleb(self.scale)
        if scaled != scaled.to_integral_value():
            raise ValidationError(
                _("Use at most %(places)s decimal places.") % {"places": self.scale}, code="max_decimal_places"
            )
        return int(scaled)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.scale).quantize(self.quantum)

    def get_db_prep_save(self, value, connection):
        return self.get_prep_value(value)

    def formfield(self, **kwargs):
        from django import forms

        defaults = {
            "form_class": forms.DecimalField,
            "decimal_places": self.scale,
            "max_digits": 18,
        }
        defaults.update(kwargs)
        return models.Field.formfield(self, **defaults)

    @property
    def validators(self):
        # BigIntegerField's range validators compare against the scaled value; keep only ours.
        return [
            v
            for v in super().validators
            if not isinstance(v, validators.MinValueValidator | validators.MaxValueValidator)
        ]


class MoneyField(ScaledDecimalField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("scale", 2)
        super().__init__(*args, **kwargs)


class QuantityField(ScaledDecimalField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("scale", 3)
        super().__init__(*args, **kwargs)


def round_money(value: Decimal, places: int = 2) -> Decimal:
    """The one named rounding point for money: half-up to the currency's minor unit."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
