"""Forms of the order pages: the order's header and its dynamic rows of lines, parsed from the
POST and handed to the services, which check everything and name each bad field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from retaguarda.common.errors import DomainError
from retaguarda.core.choices import Country

from .services import SHIP_TO_FIELDS, SHIP_TO_LENGTHS

# Rows are named line-<key>-<field>; a key is the row's number on the page, not its position,
# so removing a row in the browser does not rename the others.
ROW_KEY = re.compile(r"^[0-9]{1,6}$")
ROW_FIELDS = ("id", "sku", "quantity", "unit_price", "discount_percent")
# The services' names for a line's fields, mapped to the row's inputs.
ROW_FIELD_FOR = {"product_id": "sku", "description": "sku", "tax_category": "sku", "id": "sku"}
LINE_ERROR = re.compile(r"^lines\.([0-9]+)\.([a-z_]+)$")


def text_clean(value) -> str:
    """Typed text without NUL characters (no database stores them) and surrounding spaces."""
    return (value or "").replace("\x00", "").strip()


def _text_input(max_length: int, **attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"maxlength": max_length, **attrs})


class OrderForm(forms.Form):
    """The order's header. Fields are plain text: the services parse and check them, so one
    refusal names the header's and the lines' bad fields together."""

    customer = forms.CharField(required=False, widget=forms.HiddenInput)
    warehouse = forms.CharField(label=_("Warehouse"), required=False, widget=forms.Select)
    promised_date = forms.CharField(
        label=_("Ship by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for today plus the company's handling time, counted when the order is confirmed."),
    )
    ship_to_name = forms.CharField(label=_("Recipient"), required=False)
    ship_to_street = forms.CharField(label=_("Street"), required=False)
    ship_to_number = forms.CharField(label=_("Number"), required=False)
    ship_to_complement = forms.CharField(label=_("Complement"), required=False)
    ship_to_district = forms.CharField(label=_("District"), required=False)
    ship_to_city = forms.CharField(label=_("City"), required=False)
    ship_to_state = forms.CharField(label=_("State or province"), required=False)
    ship_to_postal_code = forms.CharField(label=_("Postal code"), required=False)
    ship_to_country = forms.CharField(label=_("Country"), required=False, widget=forms.Select)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, warehouses=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for key in SHIP_TO_FIELDS:
            if key != "country":
                self.fields[f"ship_to_{key}"].widget = _text_input(SHIP_TO_LENGTHS[key])
        self.fields["ship_to_country"].widget.choices = [("", "—"), *Country.choices]
        if editing:
            # An order keeps its customer and warehouse: its reservations are in that warehouse.
            del self.fields["customer"]
            del self.fields["warehouse"]
        else:
            self.fields["warehouse"].widget.choices = [(str(w.pk), str(w)) for w in warehouses or ()]

    def ship_to_fields(self):
        return [self[f"ship_to_{key}"] for key in SHIP_TO_FIELDS]

    def ship_to(self) -> dict:
        return {key: self.cleaned_data.get(f"ship_to_{key}", "") for key in SHIP_TO_FIELDS}


def ship_to_initial(address, party=None) -> dict:
    """The ship-to fields from a party's address (all blank but the recipient when None)."""
    initial = {f"ship_to_{key}": "" for key in SHIP_TO_FIELDS}
    if party is not None:
        initial["ship_to_name"] = party.legal_name
    if address is not None:
        for key in SHIP_TO_FIELDS:
            if key != "name":
                initial[f"ship_to_{key}"] = getattr(address, key)
    return initial


def plain(value: Decimal | None, places: int = 0) -> str:
    """A decimal as typed in an input: 3.000 -> "3", 19.9000 -> "19.90" (with places=2)."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    if places and "." not in text:
        text += "." + "0" * places
    elif places:
        whole, decimals = text.split(".")
        text = f"{whole}.{decimals.ljust(places, '0')}"
    return text


@dataclass
class LineRow:
    """One row of lines on the order form: what was typed, what was found, what was wrong."""

    key: str
    id: str = ""
    sku: str = ""
    quantity: str = ""
    unit_price: str = ""
    discount_percent: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    product: object = None
    available: Decimal | None = None
    warehouse_code: str = ""
    shipped: Decimal = Decimal(0)

    @property
    def is_blank(self) -> bool:
        return not (self.id or self.sku or self.quantity or self.unit_price or self.discount_percent)

    @property
    def is_existing(self) -> bool:
        return bool(self.id)

    @property
    def list_price_text(self) -> str:
        return plain(self.product.list_price, 2) if self.product is not None else ""

    def error(self, name: str, message) -> None:
        self.errors.setdefault(name, []).append(str(message))


def rows_from_post(data) -> list[LineRow]:
    """The rows of the form in page order, blank ones left out."""
    rows, seen = [], set()
    for key in data.getlist("line"):
        if not ROW_KEY.match(key) or key in seen:
            continue
        seen.add(key)
        values = {name: text_clean(data.get(f"line-{key}-{name}")) for name in ROW_FIELDS}
        row = LineRow(key=key, **values)
        if not row.is_blank:
            rows.append(row)
    return rows


def rows_from_lines(lines) -> list[LineRow]:
    """The rows for editing an order's lines."""
    return [
        LineRow(
            key=str(index),
            id=str(line.pk),
            sku=line.product.sku,
            quantity=plain(line.quantity),
            unit_price=plain(line.unit_price, 2),
            discount_percent=plain(line.discount_percent) if line.discount_percent else "",
            product=line.product,
            shipped=line.quantity_shipped,
        )
        for index, line in enumerate(lines)
    ]


def rows_payload(rows: list[LineRow], products: dict) -> list[dict]:
    """The rows as the services' `lines`: the product found for what was typed (a SKU or a
    barcode), else the typed text as the SKU for the service to refuse."""
    payload = []
    for row in rows:
        line = {"quantity": row.quantity, "unit_price": row.unit_price, "discount_percent": row.discount_percent}
        product = products.get(row.sku)
        if product is not None:
            line["product_id"] = product.pk
        else:
            line["sku"] = row.sku
        if row.id:
            line["id"] = row.id
        payload.append(line)
    return payload


def rows_add_service_errors(form: forms.Form, rows: list[LineRow], exc: DomainError) -> list[str]:
    """Put a service's refusal where it belongs: `lines.2.quantity` on the third row's quantity,
    header fields on the form; returns the errors about the lines as a whole."""
    general: list[str] = []
    placed = False
    for key, messages in (exc.fields or {}).items():
        match = LINE_ERROR.match(key)
        if match and int(match.group(1)) < len(rows):
            name = ROW_FIELD_FOR.get(match.group(2), match.group(2))
            for message in messages:
                rows[int(match.group(1))].error(name, message)
            placed = True
            continue
        if key == "lines" or key.startswith("lines."):
            general.extend(str(m) for m in messages)
            placed = True
            continue
        name = {"customer_id": "customer", "customer": "customer"}.get(key, key.replace("ship_to.", "ship_to_"))
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)
    return general


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 200, "placeholder": _("Why the order is cancelled")}),
    )


class BlockForm(forms.Form):
    reason = forms.CharField(
        label=_("Blocked for new orders because"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 200}),
        help_text=_("Leave empty to accept new orders from this customer."),
    )
