"""Forms of the administration pages; the services check everything again."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from retaguarda.core.choices import Area, Role
from retaguarda.core.models import User


def apply_domain_errors(form: forms.Form, exc) -> None:
    """Show a service's ValidationFailed on the form: per field where it names one, else on top."""
    if not exc.fields:
        form.add_error(None, exc.message)
    for name, messages in exc.fields.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


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
