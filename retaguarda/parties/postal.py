"""Postal codes and states of addresses, checked where the country's format is fixed (pure functions).

A Brazilian CEP and state (UF) end up on NF-e invoices, a Spanish postal code names its
province: catching a typo here saves a rejected invoice or a lost parcel later.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

BR_STATES = frozenset("AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO".split())

_PATTERNS = {
    "BR": re.compile(r"^(\d{5})-?(\d{3})$"),
    "ES": re.compile(r"^(0[1-9]|[1-4]\d|5[0-2])(\d{3})$"),
    "PT": re.compile(r"^(\d{4})-?(\d{3})$"),
}
_GENERIC = re.compile(r"^[A-Z0-9][A-Z0-9 -]{1,15}$")


class AddressInvalid(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def postal_code_normalize(country: str, code: str) -> str:
    """The postal code as written in `country` (BR 01310-100, ES 28013, PT 1000-001); "" stays ""."""
    code = (code or "").strip().upper()
    if not code:
        return ""
    pattern = _PATTERNS.get(country)
    if pattern is None:
        if not _GENERIC.match(code):
            raise AddressInvalid("postal_code", _("Enter a valid postal code."))
        return code
    match = pattern.match(code)
    if match is None:
        examples = {"BR": "01310-100", "ES": "28013", "PT": "1000-001"}
        raise AddressInvalid(
            "postal_code",
            _("Enter a valid postal code, like %(example)s.") % {"example": examples[country]},
        )
    if country == "ES":
        return code
    return f"{match.group(1)}-{match.group(2)}"


def state_normalize(country: str, state: str) -> str:
    """Brazilian states by their two-letter code (SP, RJ…); elsewhere the name as given."""
    state = " ".join((state or "").split())
    if country == "BR" and state:
        code = state.upper()
        if code not in BR_STATES:
            raise AddressInvalid("state", _("Enter the state's two-letter code, like SP or RJ."))
        return code
    return state
