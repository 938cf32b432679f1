"""Forms of the administration pages; the services check everything again."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from retaguarda.common.taxids import EU_VAT_PREFIX, tax_id_format
from retaguarda.core.choices import Area, Language, Role
from retaguarda.core.models import User
from retaguarda.core.services import BR_STATES, HANDLING_DAYS_MAX, fiscal_regimes_for


class WebhookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.CharField(
        label=_("Events"),
        max_length=2000,
        initial="*",
        help_text=_("Event names separated by spaces, such as order.confirmed or order.*; * for all events."),
    )

    def clean_events(self):
        return self.cleaned_data["events"].replace(",", " ").split()


class WebhookEditForm(WebhookForm):
    is_active = forms.BooleanField(label=_("Active"), required=False)


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What the token is for, such as the shop's integration.")
    )


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    areas = forms.MultipleChoiceField(
        label=_("Partner areas"),
        choices=Area.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only for partners: the areas the partner works in."),
    )
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    def clean(self):
        data = super().clean()
        role, areas = data.get("role"), data.get("areas") or []
        if role and role != Role.PARTNER and areas:
            self.add_error("areas", _("Areas apply to partners only."))
        if role == Role.PARTNER and not areas:
            self.add_error("areas", _("Choose at least one area for a partner."))
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2:
            if password1 != password2:
                self.add_error("password2", _("The two passwords differ."))
            else:
                candidate = User(
                    username=data.get("username", ""),
                    email=data.get("email", ""),
                    first_name=data.get("first_name", ""),
                    last_name=data.get("last_name", ""),
                )
                try:
                    validate_password(password1, candidate)
                except forms.ValidationError as exc:
                    self.add_error("password1", exc)
        return data


REGIME_LABELS = {
    "simples_nacional": _("Simples Nacional"),
    "regime_normal": _("Regime Normal (lucro presumido or real)"),
    "general": _("General VAT regime"),
    "recargo_equivalencia": _("Equivalence surcharge (recargo de equivalencia)"),
    "simplificado": _("Simplified VAT regime"),
    "standard": _("Standard"),
}
ROUNDING_CHOICES = (("line", _("Per invoice line")), ("document", _("Once per invoice")))


class CompanySettingsForm(forms.Form):
    """The company's names, tax id, language, fiscal settings and sales policy; the country
    decides the fiscal choices.

    Brazil asks for the state (UF), other countries for an optional province.
    """

    legal_name = forms.CharField(label=_("Legal name"), max_length=200)
    trade_name = forms.CharField(label=_("Trade name"), max_length=200, required=False)
    tax_id = forms.CharField(label=_("Tax id"), max_length=64)
    default_language = forms.ChoiceField(label=_("Default language"), choices=Language.choices)
    regime = forms.ChoiceField(label=_("Tax regime"))
    state = forms.ChoiceField(label=_("State"), choices=[(uf, uf) for uf in BR_STATES])
    province = forms.CharField(label=_("Province"), max_length=100, required=False)
    rounding = forms.ChoiceField(
        label=_("Tax rounding"),
        choices=ROUNDING_CHOICES,
        initial="line",
        help_text=_("Where invoice tax is rounded to cents."),
    )
    allow_backorders = forms.BooleanField(
        label=_("Allow back-orders"),
        required=False,
        help_text=_("Confirm orders even when stock is short; the missing quantity waits for the next arrival."),
    )
    # The range is the service's to check, so its message is the one shown.
    handling_days = forms.IntegerField(
        label=_("Handling time (days)"),
        widget=forms.NumberInput(attrs={"min": 0, "max": HANDLING_DAYS_MAX, "step": 1}),
        help_text=_("Days from confirming an order to shipping it: the ship-by date of orders that give none."),
    )

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.country = company.country
        self.fields["regime"].choices = [(code, REGIME_LABELS[code]) for code in fiscal_regimes_for(company.country)]
        help_key = "EU" if company.country in EU_VAT_PREFIX else company.country
        self.fields["tax_id"].help_text = COMPANY_TAX_ID_HELP.get(help_key, "")
        del self.fields["province" if company.country == "BR" else "state"]

    @staticmethod
    def initial_for(company) -> dict:
        fiscal = company.fiscal_settings or {}
        return {
            "legal_name": company.legal_name,
            "trade_name": company.trade_name,
            "tax_id": tax_id_format(company.country, company.tax_id),
            "default_language": company.default_language,
            "regime": fiscal.get("regime", ""),
            "state": fiscal.get("state", ""),
            "province": fiscal.get("province", ""),
            "rounding": fiscal.get("rounding") if fiscal.get("rounding") in dict(ROUNDING_CHOICES) else "line",
            "allow_backorders": company.allow_backorders,
            "handling_days": company.handling_days,
        }

    def service_arguments(self) -> dict:
        """The cleaned data as company_update's arguments."""
        data = self.cleaned_data
        fiscal = {"regime": data["regime"], "rounding": data["rounding"]}
        fiscal["state" if self.country == "BR" else "province"] = data.get("state") or data.get("province", "")
        return {
            "legal_name": data["legal_name"],
            "trade_name": data["trade_name"],
            "tax_id": data["tax_id"],
            "default_language": data["default_language"],
            "fiscal_settings": fiscal,
            "allow_backorders": data["allow_backorders"],
            "handling_days": data["handling_days"],
        }


COMPANY_TAX_ID_HELP = {
    "BR": _("The company's CNPJ."),
    "ES": _("The company's CIF, or the NIF of an autónomo."),
    "EU": _("The VAT number, with or without its country prefix."),
}
