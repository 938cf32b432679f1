"""Forms of the inventory pages. They check the shape of the input and turn SKUs and location
choices into ids; the services check the rules, and their errors land on the same form."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retaguarda.catalog.models import Product
from retaguarda.common.errors import DomainError
from retaguarda.core.ui.forms import form_add_service_errors

from .choices import ADJUSTMENT_REASONS, RECEIPT_REASONS, MoveReason
from .selectors import locations_for, warehouses_for


def _quantity_input(**attrs):
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", **attrs})


class ServiceErrorsMixin:
    """Put a service's field errors on the form; `service_fields` renames the service's keys."""

    service_fields: dict[str, str] = {}

    def add_service_errors(self, exc: DomainError) -> None:
        form_add_service_errors(self, exc, field_for=lambda key: self.service_fields.get(key, key))


class LocationChoicesMixin:
    """Choice fields listing the active internal locations, grouped by warehouse (one query)."""

    def set_location_choices(self, actor, *names: str, warehouse=None) -> None:
        rows = locations_for(actor=actor, warehouse=warehouse).filter(is_active=True, warehouse__is_active=True)
        groups: dict[str, list] = {}
        self.location_warehouse: dict[str, int] = {}
        for location in rows:
            label = f"{location.code} · {location.name}" if location.name else location.code
            groups.setdefault(str(location.warehouse), []).append((str(location.pk), label))
            self.location_warehouse[str(location.pk)] = location.warehouse_id
        choices = [("", "—"), *groups.items()]
        for name in names:
            self.fields[name].choices = choices

    def warehouse_of(self, name: str) -> int | None:
        return self.location_warehouse.get(self.cleaned_data.get(name) or "")


class ProductBySkuMixin:
    """A `sku` field resolved to the company's product in clean_sku."""

    def clean_sku(self):
        sku = self.cleaned_data["sku"].strip()
        product = Product.objects.filter(company=self.actor.company, sku=sku).first()
        if product is None:
            raise forms.ValidationError(_("No product has this SKU."))
        self.product = product
        return sku


class WarehouseForm(ServiceErrorsMixin, forms.Form):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=32, help_text=gettext_lazy("For example MAIN."))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)


class LocationForm(ServiceErrorsMixin, forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"), max_length=32, help_text=gettext_lazy("A zone (A) or a bin (A-01-02).")
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, required=False)
    parent = forms.ChoiceField(label=gettext_lazy("Inside"))

    def __init__(self, *args, tree, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [
            (str(location.pk), "\u2003" * depth + location.code) for location, depth in tree
        ]


class StockFormBase(ServiceErrorsMixin, LocationChoicesMixin, ProductBySkuMixin, forms.Form):
    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor


class ReceiptForm(StockFormBase):
    sku = forms.CharField(label=gettext_lazy("SKU"), max_length=64)
    location = forms.ChoiceField(label=gettext_lazy("Into"))
    quantity = forms.CharField(label=gettext_lazy("Quantity"), max_length=32, widget=_quantity_input())
    unit_cost = forms.CharField(label=gettext_lazy("Unit cost"), max_length=32, widget=_quantity_input())
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"), choices=[(r.value, r.label) for r in RECEIPT_REASONS], initial=MoveReason.RECEIPT
    )
    reference = forms.CharField(
        label=gettext_lazy("Reference"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Delivery note, invoice…"),
    )
    service_fields = {"warehouse": "location"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_location_choices(self.actor, "location")

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "product_id": self.product.pk,
            "warehouse_id": self.warehouse_of("location"),
            "location_id": int(data["location"]),
            "quantity": data["quantity"],
            "unit_cost": data["unit_cost"],
            "reason": data["reason"],
            "reference": data["reference"],
        }


class AdjustmentForm(StockFormBase):
    sku = forms.CharField(label=gettext_lazy("SKU"), max_length=64)
    location = forms.ChoiceField(label=gettext_lazy("Location"))
    quantity = forms.CharField(
        label=gettext_lazy("Change"),
        max_length=32,
        widget=_quantity_input(),
        help_text=gettext_lazy("Positive for goods found, negative for goods lost or damaged."),
    )
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=[(r.value, r.label) for r in ADJUSTMENT_REASONS])
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)
    reference = forms.CharField(label=gettext_lazy("Reference"), max_length=100, required=False)
    service_fields = {"warehouse": "location"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_location_choices(self.actor, "location")

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "product_id": self.product.pk,
            "warehouse_id": self.warehouse_of("location"),
            "location_id": int(data["location"]),
            "quantity": data["quantity"],
            "reason": data["reason"],
            "note": data["note"],
            "reference": data["reference"],
        }


class RelocationForm(StockFormBase):
    sku = forms.CharField(label=gettext_lazy("SKU"), max_length=64)
    from_location = forms.ChoiceField(label=gettext_lazy("From"))
    to_location = forms.ChoiceField(label=gettext_lazy("To"))
    quantity = forms.CharField(label=gettext_lazy("Quantity"), max_length=32, widget=_quantity_input())
    service_fields = {"warehouse": "from_location"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_location_choices(self.actor, "from_location", "to_location")

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "product_id": self.product.pk,
            "warehouse_id": self.warehouse_of("from_location"),
            "from_location_id": int(data["from_location"]),
            "to_location_id": int(data["to_location"]),
            "quantity": data["quantity"],
        }


class TransferForm(StockFormBase):
    sku = forms.CharField(label=gettext_lazy("SKU"), max_length=64)
    from_warehouse = forms.ChoiceField(label=gettext_lazy("From warehouse"))
    to_warehouse = forms.ChoiceField(label=gettext_lazy("To warehouse"))
    quantity = forms.CharField(label=gettext_lazy("Quantity"), max_length=32, widget=_quantity_input())
    reference = forms.CharField(label=gettext_lazy("Reference"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(str(w.pk), str(w)) for w in warehouses_for(actor=self.actor).filter(is_active=True)]
        self.fields["from_warehouse"].choices = choices
        self.fields["to_warehouse"].choices = choices

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "product_id": self.product.pk,
            "from_warehouse_id": int(data["from_warehouse"]),
            "to_warehouse_id": int(data["to_warehouse"]),
            "quantity": data["quantity"],
            "reference": data["reference"],
        }


class LimitsForm(ServiceErrorsMixin, forms.Form):
    warehouse = forms.ChoiceField(label=gettext_lazy("Warehouse"))
    reorder_point = forms.CharField(
        label=gettext_lazy("Reorder point"),
        max_length=32,
        required=False,
        widget=_quantity_input(),
        help_text=gettext_lazy("Warn when the quantity available falls to this. Blank: no warning."),
    )
    maximum = forms.CharField(
        label=gettext_lazy("Maximum"),
        max_length=32,
        required=False,
        widget=_quantity_input(),
        help_text=gettext_lazy("Warn when more than this is on hand. Blank: no maximum."),
    )

    def __init__(self, *args, warehouses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].choices = [(str(w.pk), str(w)) for w in warehouses]


def skus_split(raw: str) -> list[str]:
    return [sku for sku in re.split(r"[\s,;]+", raw or "") if sku]


class CountCreateForm(ServiceErrorsMixin, LocationChoicesMixin, forms.Form):
    location = forms.ChoiceField(
        label=gettext_lazy("Count"), help_text=gettext_lazy("The location and every zone and bin inside it.")
    )
    skus = forms.CharField(
        label=gettext_lazy("Only these SKUs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Separated by spaces or commas. Blank: every product kept there."),
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)
    service_fields = {"warehouse": "location", "products": "skus"}

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.set_location_choices(actor, "location")

    def clean_skus(self):
        skus = skus_split(self.cleaned_data["skus"])
        found = dict(Product.objects.filter(company=self.actor.company, sku__in=skus).values_list("sku", "pk"))
        unknown = [sku for sku in skus if sku not in found]
        if unknown:
            raise forms.ValidationError(_("No product has these SKUs: %(skus)s.") % {"skus": ", ".join(unknown)})
        self.product_ids = [found[sku] for sku in skus] or None
        return " ".join(skus)

    def service_data(self) -> dict:
        return {
            "warehouse_id": self.warehouse_of("location"),
            "location_id": int(self.cleaned_data["location"]),
            "product_ids": self.product_ids,
            "note": self.cleaned_data["note"],
        }


class CountLineAddForm(ServiceErrorsMixin, ProductBySkuMixin, forms.Form):
    sku = forms.CharField(label=gettext_lazy("SKU"), max_length=64)
    location = forms.ChoiceField(label=gettext_lazy("Location"))

    def __init__(self, *args, actor, tree, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["location"].choices = [(str(loc.pk), "\u2003" * depth + loc.code) for loc, depth in tree]


def count_field(line_id) -> str:
    return f"counted_{line_id}"


class CountRecordForm(forms.Form):
    """One counted quantity per line of a count, named counted_<line id>."""

    @classmethod
    def as_saved(cls, lines) -> CountRecordForm:
        """Bound to what is saved, so that a refusal's line errors can be shown on it."""
        data = {count_field(line.pk): "" if line.counted is None else str(line.counted) for line in lines}
        form = cls(data, lines=lines)
        form.is_valid()
        return form

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        for line in lines:
            label = f"{line.location.code} · {line.product.sku}"
            self.fields[count_field(line.pk)] = forms.CharField(
                label=label, max_length=32, required=False, widget=_quantity_input(size=8, **{"aria-label": label})
            )
            if not self.is_bound and line.counted is not None:
                self.initial[count_field(line.pk)] = line.counted

    def quantities(self) -> dict[str, str]:
        return {name.removeprefix("counted_"): value for name, value in self.cleaned_data.items()}

    def add_service_errors(self, exc: DomainError) -> None:
        def field_for(key: str):
            parts = key.split(".")
            return count_field(parts[1]) if len(parts) == 3 and parts[0] == "lines" else None

        form_add_service_errors(self, exc, field_for=field_for)
