"""Forms of the catalog pages. They check the shape of the input; the services check the rules,
and their field errors are shown on the same form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from retaguarda.common.errors import ValidationFailed
from retaguarda.core.choices import Currency, Language
from retaguarda.core.ui.forms import form_add_service_errors

from .choices import ProductKind
from .selectors import tax_categories_for, units_for
from .services import barcode_clean, ncm_clean


def _slug(language: str) -> str:
    return language.replace("-", "_")


class ServiceErrorsMixin:
    """Put a service's ValidationFailed field errors on the matching form fields."""

    def service_field(self, key: str) -> str | None:
        return key if key in self.fields else None

    def add_service_errors(self, exc: ValidationFailed) -> None:
        form_add_service_errors(self, exc, field_for=self.service_field)


class ProductForm(ServiceErrorsMixin, forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    barcode = forms.CharField(
        label=_("Barcode"), max_length=32, required=False, help_text=_("EAN-13, EAN-8, UPC-A or GTIN-14.")
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=ProductKind.choices, initial=ProductKind.GOODS)
    uom = forms.ChoiceField(label=_("Unit of measure"))
    weight = forms.DecimalField(label=_("Weight (kg)"), required=False, min_value=0, max_digits=15, decimal_places=3)
    tax_category = forms.ChoiceField(label=_("Tax category"))
    list_price = forms.DecimalField(label=_("List price"), min_value=0, max_digits=15, decimal_places=2, initial=0)
    standard_cost = forms.DecimalField(
        label=_("Standard cost"), min_value=0, max_digits=15, decimal_places=2, initial=0
    )
    ncm = forms.CharField(label=_("NCM code"), max_length=16, required=False, help_text=_("Brazil: 8 digits."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, actor, product=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = actor.company
        self.fields["uom"].choices = [(u.code, f"{u.code} · {u.name}") for u in units_for(actor=actor)]
        self.fields["tax_category"].choices = [
            (t.code, t.name) for t in tax_categories_for(actor=actor).order_by("code")
        ]
        if not self.is_bound:
            self.initial.setdefault("uom", "un")
            self.initial.setdefault("tax_category", "standard")
        default_language = self.company.default_language
        language_names = dict(Language.choices)
        self.fields["name"].label = _("Name (%(language)s)") % {"language": language_names.get(default_language)}
        self.fields["description"].label = _("Description (%(language)s)") % {
            "language": language_names.get(default_language)
        }
        self.translation_languages = [code for code in Language.values if code != default_language]
        for code in self.translation_languages:
            self.fields[f"name_{_slug(code)}"] = forms.CharField(
                label=_("Name (%(language)s)") % {"language": language_names[code]}, max_length=200, required=False
            )
            self.fields[f"description_{_slug(code)}"] = forms.CharField(
                label=_("Description (%(language)s)") % {"language": language_names[code]},
                max_length=5000,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        if product is not None and not self.is_bound:
            self.initial.update(
                {
                    "sku": product.sku,
                    "barcode": product.barcode,
                    "name": product.name,
                    "description": product.description,
                    "kind": product.kind,
                    "uom": product.uom.code,
                    "weight": product.weight,
                    "tax_category": product.tax_category.code,
                    "list_price": product.list_price,
                    "standard_cost": product.standard_cost,
                    "ncm": product.ncm,
                    "is_active": product.is_active,
                }
            )
            for t in product.translations.all():
                self.initial[f"name_{_slug(t.language)}"] = t.name
                self.initial[f"description_{_slug(t.language)}"] = t.description

    # The services' own rules, run here too so one submit shows every error at once.
    def clean_sku(self):
        sku = self.cleaned_data["sku"].strip()
        if any(ch.isspace() for ch in sku):
            raise forms.ValidationError(_("A SKU has no spaces."))
        return sku

    def clean_barcode(self):
        barcode = self.cleaned_data["barcode"].strip()
        try:
            return barcode_clean(barcode) if barcode else ""
        except ValueError as exc:
            raise forms.ValidationError(str(exc))

    def clean_ncm(self):
        ncm = self.cleaned_data["ncm"].strip()
        try:
            return ncm_clean(ncm) if ncm else ""
        except ValueError as exc:
            raise forms.ValidationError(str(exc))

    def main_fields(self):
        return [self[name] for name in self.fields if not name.startswith(("name_", "description_"))]

    def translation_fields(self):
        return [self[name] for name in self.fields if name.startswith(("name_", "description_"))]

    def service_data(self) -> dict:
        data = self.cleaned_data
        values = {
            key: data[key]
            for key in (
                "sku",
                "barcode",
                "name",
                "description",
                "kind",
                "uom",
                "weight",
                "tax_category",
                "list_price",
                "standard_cost",
                "ncm",
                "is_active",
            )
        }
        values["translations"] = {
            code: {
                "name": data.get(f"name_{_slug(code)}", ""),
                "description": data.get(f"description_{_slug(code)}", ""),
            }
            for code in self.translation_languages
        }
        return values

    def service_field(self, key: str) -> str | None:
        if key.startswith("translations."):
            parts = key.split(".")
            if len(parts) == 3:
                name = f"{parts[2]}_{_slug(parts[1])}"
                return name if name in self.fields else None
            return None
        return super().service_field(key)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(**kwargs)


class PriceListForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=DateInput())
    valid_to = forms.DateField(label=_("Valid to"), required=False, widget=DateInput())

    def __init__(self, *args, actor, price_list=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("currency", actor.company.base_currency)
            if price_list is not None:
                self.initial.update(
                    {
                        "name": price_list.name,
                        "currency": price_list.currency,
                        "is_active": price_list.is_active,
                        "valid_from": price_list.valid_from,
                        "valid_to": price_list.valid_to,
                    }
                )


class PriceListItemForm(ServiceErrorsMixin, forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    min_quantity = forms.DecimalField(label=_("From quantity"), min_value=0, max_digits=15, decimal_places=3, initial=0)
    unit_price = forms.DecimalField(label=_("Unit price"), min_value=0, max_digits=15, decimal_places=2)

    def service_field(self, key: str) -> str | None:
        return "sku" if key == "product" else super().service_field(key)
