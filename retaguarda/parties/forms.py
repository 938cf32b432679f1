"""Forms of the parties pages: they parse and pre-check input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from retaguarda.common.errors import DomainError
from retaguarda.common.taxids import TaxIdInvalid, tax_id_validate
from retaguarda.core.choices import Country, Language
from retaguarda.core.ui.forms import form_add_service_errors

from .choices import AddressKind, PartyKind
from .models import Address, Contact, Party, PaymentTerm
from .services import CREDIT_LIMIT_MAX


def apply_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the form; the services name the payment term by its id."""
    form_add_service_errors(form, exc, field_for=lambda key: "payment_term" if key == "payment_term_id" else key)


class PartyForm(forms.ModelForm):
    payment_term = forms.ModelChoiceField(
        queryset=PaymentTerm.objects.none(), required=False, label=_("Payment terms"), empty_label=_("None")
    )
    credit_limit = forms.DecimalField(
        label=_("Credit limit"),
        min_value=0,
        max_value=CREDIT_LIMIT_MAX,
        decimal_places=2,
        max_digits=15,
        initial=0,
    )

    class Meta:
        model = Party
        fields = [
            "legal_name",
            "trade_name",
            "kind",
            "is_customer",
            "is_supplier",
            "tax_country",
            "tax_id",
            "email",
            "phone",
            "language",
            "payment_term",
            "credit_limit",
            "notes",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 4}),
            "kind": forms.RadioSelect,
        }
        help_texts = {
            "tax_id": _("Brazil: CPF for persons, CNPJ for companies. Spain: DNI or NIE, CIF. EU: VAT number."),
        }

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["payment_term"].queryset = PaymentTerm.objects.filter(company=actor.company).order_by(
            "days", "name"
        )
        self.fields["kind"].choices = PartyKind.choices
        self.fields["tax_country"].choices = Country.choices
        self.fields["language"].choices = Language.choices
        if not self.instance.pk:
            self.fields["tax_country"].initial = actor.company.country
            self.fields["language"].initial = actor.company.default_language
        else:
            self.initial["tax_id"] = self.instance.tax_id_display
        self.fields["credit_limit"].help_text = _("In %(currency)s.") % {"currency": actor.company.base_currency}

    def kind_fields(self):
        return [self["kind"]]

    def role_fields(self):
        return [self["is_customer"], self["is_supplier"]]

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("is_customer") or cleaned.get("is_supplier")):
            self.add_error("is_customer", _("A party is a customer, a supplier or both."))
        number = (cleaned.get("tax_id") or "").strip()
        if number and cleaned.get("tax_country") and cleaned.get("kind"):
            try:
                tax_id = tax_id_validate(country=cleaned["tax_country"], number=number, kind=cleaned["kind"])
            except TaxIdInvalid as exc:
                self.add_error("tax_id", exc.message)
            else:
                cleaned["tax_id"] = tax_id.number
        return cleaned

    def _post_clean(self):
        # The service validates the model and its constraints; the form only parses the input.
        pass

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name != "payment_term"}
        term = self.cleaned_data.get("payment_term")
        data["payment_term_id"] = term.pk if term else None
        return data


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "role", "email", "phone"]

    def _post_clean(self):
        pass


class AddressForm(forms.ModelForm):
    class Meta:
        model = Address
        fields = [
            "kind",
            "street",
            "number",
            "complement",
            "district",
            "city",
            "state",
            "postal_code",
            "country",
            "is_default",
        ]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = AddressKind.choices
        self.fields["country"].choices = Country.choices
        if not self.instance.pk:
            self.fields["country"].initial = actor.company.country

    def _post_clean(self):
        pass


class PaymentTermForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    days = forms.IntegerField(label=_("Days"), min_value=0, max_value=3650)
