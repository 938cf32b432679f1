"""Parsing of what forms, the API and callers hand to services: ids, decimals, text and dates.
Each function returns the clean value or raises ValidationFailed naming the field."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .errors import ValidationFailed

ID_LIMIT = 2**63


def invalid(field: str, message) -> ValidationFailed:
    """The refusal of one field, to raise."""
    return ValidationFailed(_("Check the highlighted fields."), fields={field: [str(message)]})


def valid_id(value) -> int | None:
    """A database id (a positive 64-bit integer) from an int or its digits, else None."""
    if isinstance(value, bool):
        return None
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if 0 < value < ID_LIMIT else None


def decimal_in(
    value,
    field: str,
    *,
    places: int,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    strict_min: bool = False,
    too_small=None,
    accept_float: bool = False,
) -> Decimal:
    """A number with at most `places` decimals (a decimal comma is read as a point), quantized to
    them, within [minimum, maximum] (above `minimum` with `strict_min`); `too_small` replaces the
    message for a number under the minimum. A float or a bool is refused, as it is never an exact
    amount, unless `accept_float` (inventory's services have always converted them exactly)."""
    try:
        if value is None or (not accept_float and isinstance(value, bool | float)):
            raise TypeError
        number = Decimal(value.strip().replace(",", ".")) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise invalid(field, _("Enter a number.")) from None
    if not number.is_finite():
        raise invalid(field, _("Enter a number."))
    step = Decimal(1).scaleb(-places)
    # Read from the exponent, not by quantizing: quantizing a huge number (1e30) to `places`
    # overflows the decimal context.
    if number and -number.normalize().as_tuple().exponent > places:
        raise invalid(field, _("Use at most %(places)s decimal places.") % {"places": places})
    if minimum is not None and (number < minimum or (strict_min and number == minimum)):
        if too_small is not None:
            raise invalid(field, too_small)
        if strict_min:
            raise invalid(field, _("Enter a number greater than %(minimum)s.") % {"minimum": minimum})
        raise invalid(field, _("Enter a number of at least %(minimum)s.") % {"minimum": minimum})
    if maximum is not None and number > maximum:
        raise invalid(field, _("Enter a number of at most %(maximum)s.") % {"maximum": maximum})
    try:
        return number.quantize(step)
    except InvalidOperation:
        raise invalid(field, _("Enter a number.")) from None


def text_in(
    value, field: str, max_length: int, *, required: bool = False, multiline: bool = False, keep_controls: bool = False
) -> str:
    """A string, stripped; None reads as blank. Control characters are refused (line breaks and
    tabs allowed with `multiline`), unless `keep_controls`: inventory's texts have always let them
    through."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise invalid(field, _("Enter text."))
    allowed = "\n\r\t" if multiline else ""
    if any(
        c == "\x00"
        or (not keep_controls and ((ord(c) < 32 and c not in allowed) or c == "\x7f" or "\ud800" <= c <= "\udfff"))
        for c in value
    ):
        # NUL always: PostgreSQL cannot store it.
        raise invalid(field, _("Remove the control characters from this text."))
    value = value.strip()
    if required and not value:
        raise invalid(field, _("This field is required."))
    if len(value) > max_length:
        raise invalid(field, _("Use at most %(count)s characters.") % {"count": max_length})
    return value


def date_in(value, field: str) -> datetime.date | None:
    """A date from a date, a datetime (its date) or YYYY-MM-DD; blank is None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise invalid(field, _("Enter a date as YYYY-MM-DD.")) from None
