"""Forms of the fulfilment pages. They check the shape of the input; the services check the
rules, and their field errors are shown on the same form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from retaguarda.common.errors import DomainError
from retaguarda.core.ui.forms import form_add_service_errors

from .choices import Disposition, ReturnReason


class ServiceErrorsMixin:
    """Put a service's field errors on the matching form fields (the rest on top)."""

    def service_field(self, key: str) -> str | None:
        return key if key in self.fields else None

    def add_service_errors(self, exc: DomainError) -> None:
        form_add_service_errors(self, exc, field_for=self.service_field)


def _measure(label, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=0,
        max_digits=8,
        decimal_places=3,
        widget=forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"}),
    )


class PickListCreateForm(ServiceErrorsMixin, forms.Form):
    ALL, CHOSEN = "all", "chosen"

    warehouse = forms.ChoiceField(label=_("Warehouse"))
    scope = forms.ChoiceField(
        label=_("Orders"),
        choices=[(ALL, _("Every order ready to pick")), (CHOSEN, _("Only these orders"))],
        initial=ALL,
        widget=forms.RadioSelect,
    )
    orders = forms.CharField(
        label=_("Order numbers"),
        required=False,
        max_length=5000,
        help_text=_("Separated by spaces or commas, e.g. SO2026-000012 SO2026-000015."),
    )

    assign_to_me = forms.BooleanField(label=_("I will pick it"), required=False, initial=True)

    def __init__(self, *args, warehouses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].choices = [(str(w.pk), f"{w.code} · {w.name}") for w in warehouses]

    def clean(self):
        data = super().clean()
        if data.get("scope") == self.CHOSEN and not (data.get("orders") or "").strip():
            self.add_error("orders", _("Give at least one order number."))
        return data

    def service_field(self, key: str) -> str | None:
        return {"order_ids": "orders", "orders": "orders", "warehouse": "warehouse"}.get(key)

    def service_data(self, user) -> dict:
        data = self.cleaned_data
        return {
            "warehouse_id": data["warehouse"],
            "order_numbers": data["orders"] if data["scope"] == self.CHOSEN else None,
            "assigned_to_id": user.pk if data["assign_to_me"] else None,
        }


class PickForm(ServiceErrorsMixin, forms.Form):
    code = forms.CharField(label=_("Scan the barcode or type the SKU"), max_length=200)
    # Text, not a DecimalField: the service reads "2,5" as well as "2.5" and says what is wrong.
    quantity = forms.CharField(label=_("Quantity"), required=False, max_length=32)


class ParcelForm(ServiceErrorsMixin, forms.Form):
    weight = _measure(_("Weight (kg)"))
    length = _measure(_("Length (cm)"), required=False)
    width = _measure(_("Width (cm)"), required=False)
    height = _measure(_("Height (cm)"), required=False)

    def service_data(self) -> dict:
        return {name: value if value is not None else 0 for name, value in self.cleaned_data.items()}


class ShipForm(ServiceErrorsMixin, forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=100)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100, required=False)


class ReturnRegisterForm(ServiceErrorsMixin, forms.Form):
    """The order's shipped lines, each with the quantity coming back (blank for none)."""

    reason = forms.ChoiceField(label=_("Reason"), choices=ReturnReason.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.line_fields = []
        for line in order.prefetched_lines:
            if line.returnable <= 0:
                continue
            name = f"line_{line.pk}"
            self.fields[name] = forms.DecimalField(
                label=f"{line.product.sku} · {line.description}",
                required=False,
                min_value=0,
                max_digits=15,
                decimal_places=3,
                widget=forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"}),
            )
            self.line_fields.append((line, self[name]))
        self._sent: list[int] = []

    def clean(self):
        data = super().clean()
        if not any(data.get(f"line_{line.pk}") for line, _field in self.line_fields):
            raise forms.ValidationError(_("Enter the quantity coming back of at least one line."))
        return data

    def service_lines(self) -> list[dict]:
        lines = []
        for line, _field in self.line_fields:
            quantity = self.cleaned_data.get(f"line_{line.pk}")
            if quantity:
                lines.append({"line_id": line.pk, "quantity": quantity})
        self._sent = [row["line_id"] for row in lines]
        return lines

    def service_field(self, key: str) -> str | None:
        # "lines.2.quantity" names the third line sent.
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(self._sent):
            return f"line_{self._sent[int(parts[1])]}"
        return key if key in self.fields else None


class ReturnReceiveForm(ServiceErrorsMixin, forms.Form):
    """Back to stock or to scrap for each line, and where restocked goods go."""

    location = forms.ChoiceField(label=_("Back to stock into"), required=False)

    def __init__(self, *args, customer_return, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].choices = [("", _("The warehouse's stock location"))] + [
            (str(loc.pk), loc.code) for loc in locations
        ]
        self.line_fields = []
        for line in customer_return.prefetched_lines:
            name = f"disposition_{line.order_line_id}"
            self.fields[name] = forms.ChoiceField(
                label=f"{line.product.sku} · {line.quantity}",
                choices=Disposition.choices,
                initial=Disposition.RESTOCK,
                widget=forms.RadioSelect,
            )
            self.line_fields.append((line, self[name]))

    def service_field(self, key: str) -> str | None:
        if key.startswith("dispositions."):
            name = "disposition_" + key.split(".", 1)[1]
            return name if name in self.fields else None
        return {"location_id": "location", "location": "location"}.get(key)

    def service_data(self) -> dict:
        return {
            "dispositions": {
                line.order_line_id: self.cleaned_data[f"disposition_{line.order_line_id}"]
                for line, _field in self.line_fields
            },
            "location_id": self.cleaned_data.get("location") or None,
        }
