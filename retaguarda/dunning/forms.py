"""Forms of the dunning pages. They check the shape of the input; the services check the rules,
and their field errors are shown on the same form."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from retaguarda.common.errors import DomainError
from retaguarda.core.ui.forms import form_add_service_errors

from .choices import ChargeBooking, ChargeRule, LetterKind


class ServiceErrorsMixin:
    """Put a service's field errors on the matching form fields (the rest on top)."""

    def service_field(self, key: str) -> str | None:
        return key if key in self.fields else None

    def add_service_errors(self, exc: DomainError) -> None:
        form_add_service_errors(self, exc, field_for=self.service_field)


class RunForm(ServiceErrorsMixin, forms.Form):
    as_of = forms.DateField(
        label=_("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text=_("Today if empty.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["as_of"].initial = timezone.localdate()


class LevelForm(ServiceErrorsMixin, forms.Form):
    days_overdue = forms.IntegerField(label=_("Days overdue"), min_value=1, max_value=3650)
    name = forms.CharField(label=_("Name"), max_length=100)
    letter = forms.ChoiceField(label=_("Letter"), choices=LetterKind.choices)
    fee = forms.DecimalField(label=_("Fee"), min_value=0, max_digits=11, decimal_places=2, initial=0)
    charge_interest = forms.BooleanField(label=_("Late charges"), required=False)
    block_customer = forms.BooleanField(label=_("Block new orders"), required=False)
    handover_legal = forms.BooleanField(label=_("Hand over to legal"), required=False)


class SettingsForm(ServiceErrorsMixin, forms.Form):
    rule = forms.ChoiceField(label=_("Rule"), choices=ChargeRule.choices)
    fine_percent = forms.DecimalField(label=_("Fine %"), min_value=0, max_value=100, decimal_places=4)
    monthly_interest_percent = forms.DecimalField(
        label=_("Interest % per month"), min_value=0, max_value=100, decimal_places=4
    )
    annual_interest_percent = forms.DecimalField(
        label=_("Interest % per year"),
        min_value=0,
        max_value=100,
        decimal_places=4,
        required=False,
        help_text=_("Under Spain's rule, leave empty for the legal late-payment rate of each half-year."),
    )
    fixed_compensation = forms.DecimalField(
        label=_("Fixed compensation per invoice"), min_value=0, max_digits=11, decimal_places=2
    )
    booking = forms.ChoiceField(label=_("Late charges"), choices=ChargeBooking.choices)
    payment_days = forms.IntegerField(label=_("Days to pay after a letter"), min_value=0, max_value=365)


class PromiseForm(ServiceErrorsMixin, forms.Form):
    invoice = forms.CharField(
        label=_("Invoice"),
        required=False,
        max_length=32,
        help_text=_("Its number; leave empty for all the customer's open invoices."),
    )
    party = forms.IntegerField(widget=forms.HiddenInput, required=False)
    promised_date = forms.DateField(label=_("Promised date"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=11, decimal_places=2)
    note = forms.CharField(label=_("Note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def service_field(self, key: str) -> str | None:
        return {"invoice_id": "invoice", "party_id": "party"}.get(key, key if key in self.fields else None)


class WriteOffForm(ServiceErrorsMixin, forms.Form):
    invoice = forms.CharField(label=_("Invoice"), max_length=32, help_text=_("Its number."))
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def service_field(self, key: str) -> str | None:
        return {"invoice_id": "invoice"}.get(key, key if key in self.fields else None)
