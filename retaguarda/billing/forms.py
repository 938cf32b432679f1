"""Forms of the billing pages: the credit note (a quantity per invoice line and a reason) and
the supplier bill (header and a few line rows). They check the shape of the input; the
services check the rules, and their field errors are shown on the same form."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from retaguarda.common.errors import DomainError
from retaguarda.core.ui.forms import form_add_service_errors
from retaguarda.ledger.choices import AccountRole

from .filters import DATE_MAX, DATE_MIN
from .taxdata import tax_categories_for

BILL_LINE_ROWS = 5
BILL_LINE_ROWS_MAX = 50


def _quantity_field(label, *, maximum: Decimal | None = None, initial=None) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=0,
        max_value=maximum,
        max_digits=15,
        decimal_places=3,
        initial=initial,
        widget=forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"}),
    )


def _date_in_range(value):
    if value is not None and not DATE_MIN <= value <= DATE_MAX:
        raise forms.ValidationError(
            _("Enter a date between %(first)s and %(last)s.") % {"first": DATE_MIN, "last": DATE_MAX}
        )
    return value


class CreditNoteForm(forms.Form):
    """One quantity field per line with something left to credit (pre-filled with all of it)."""

    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=200,
        help_text=_("Printed on the credit note, e.g. goods returned, wrong price."),
    )

    def __init__(self, *args, lines, creditable: dict[int, Decimal], **kwargs):
        super().__init__(*args, **kwargs)
        self.line_fields = []
        for line in lines:
            available = creditable.get(line.pk, Decimal(0))
            if available <= 0:
                continue
            name = f"line_{line.pk}"
            self.fields[name] = _quantity_field(line.description, maximum=available, initial=available)
            self.line_fields.append((line, available, self[name]))

    def clean(self):
        data = super().clean()
        if not self.errors and not self.service_lines():
            raise forms.ValidationError(_("Enter a quantity to credit on at least one line."))
        return data

    def service_lines(self) -> list[tuple[int, Decimal]]:
        data = self.cleaned_data
        return [
            (line.pk, data[f"line_{line.pk}"])
            for line, _available, _field in self.line_fields
            if data.get(f"line_{line.pk}")
        ]

    def add_service_errors(self, exc: DomainError) -> None:
        form_add_service_errors(self, exc, field_for=lambda key: "reason" if key == "reason" else None)


class SupplierBillForm(forms.Form):
    supplier = forms.ChoiceField(label=_("Supplier"))
    supplier_reference = forms.CharField(label=_("Supplier's invoice number"), max_length=64)
    issue_date = forms.DateField(
        label=_("Issue date"), widget=forms.DateInput(attrs={"type": "date"}), validators=[_date_in_range]
    )
    due_date = forms.DateField(
        label=_("Due date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[_date_in_range],
        help_text=_("Leave blank to use the supplier's payment term."),
    )

    def __init__(self, *args, suppliers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier"].choices = [("", "—")] + [(str(s.pk), str(s)) for s in suppliers]

    def add_service_errors(self, exc: DomainError) -> None:
        # The service names the supplier by id; its line errors go on top of the form.
        form_add_service_errors(self, exc, field_for=lambda key: "supplier" if key == "supplier_id" else key)


class BillLineForm(forms.Form):
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    quantity = _quantity_field(_("Quantity"))
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        required=False,
        min_value=0,
        max_digits=17,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "0.0001", "inputmode": "decimal"}),
    )
    account_role = forms.ChoiceField(
        label=_("Booked as"),
        choices=[
            (AccountRole.PURCHASES.value, _("Purchases (expense)")),
            (AccountRole.INVENTORY.value, _("Goods kept in stock")),
        ],
        initial=AccountRole.PURCHASES.value,
    )
    tax_category = forms.ChoiceField(label=_("Tax category"))

    def __init__(self, *args, country: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tax_category"].choices = list(tax_categories_for(country))
        self.fields["tax_category"].initial = "standard"

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not (data.get("description") or data.get("quantity") is not None or data.get("unit_price") is not None)

    def service_line(self) -> dict:
        data = self.cleaned_data
        return {
            "description": data.get("description") or "",
            "quantity": data.get("quantity"),
            "unit_price": data.get("unit_price"),
            "account_role": data.get("account_role") or AccountRole.PURCHASES.value,
            "tax_category": data.get("tax_category") or "standard",
        }


BillLineFormSet = forms.formset_factory(
    BillLineForm, extra=BILL_LINE_ROWS, max_num=BILL_LINE_ROWS_MAX, validate_max=True, absolute_max=BILL_LINE_ROWS_MAX
)


def bill_lines_payload(formset) -> list[dict]:
    """The filled rows of a valid line formset, in order (blank rows are skipped)."""
    return [form.service_line() for form in formset.forms if not form.is_blank()]
