"""Forms of the electronic invoicing pages: uploading the A1 certificate and cancelling an NF-e.
They check the shape of the input; the services check the rules, and their field errors are
shown on the same form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from retaguarda.common.errors import DomainError
from retaguarda.core.ui.forms import form_add_service_errors

from .certificates import CERTIFICATE_MAX_BYTES
from .nfe import CANCEL_REASON_MAX, CANCEL_REASON_MIN


class ServiceErrorsMixin:
    def add_service_errors(self, exc: DomainError) -> None:
        """The refusal's message on top (it says why), its field errors on their fields."""
        # Some services give a field one message rather than a list of them.
        fields = {key: [value] if isinstance(value, str) else value for key, value in (exc.fields or {}).items()}
        form_add_service_errors(self, DomainError(exc.message, code=exc.code, fields=fields))
        if exc.message not in self.non_field_errors() and not any(exc.message in m for m in fields.values()):
            self.add_error(None, exc.message)


class CertificateUploadForm(ServiceErrorsMixin, forms.Form):
    file = forms.FileField(
        label=_("Certificate file"),
        help_text=_("The company's A1 e-CNPJ certificate (.pfx or .p12)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pfx,.p12,application/x-pkcs12"}),
    )
    password = forms.CharField(
        label=_("Password"), max_length=128, strip=False, widget=forms.PasswordInput(render_value=False)
    )

    def pfx(self) -> bytes:
        """The file's bytes, read up to one byte past the limit (the service refuses larger)."""
        return self.cleaned_data["file"].read(CERTIFICATE_MAX_BYTES + 1)


class NFeCancelForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        min_length=CANCEL_REASON_MIN,
        max_length=CANCEL_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent to the authority with the cancellation: from 15 to 255 characters."),
    )
