"""Forms of the collections pages: a payment's header, its allocations to open invoices (one
checkbox and one amount per invoice), cancellation, bank accounts, statement upload and the
aging page's date. Fields are mostly plain text: the services parse and check them, so one
refusal names every bad field."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from retaguarda.core.choices import Currency

from .choices import Direction, PaymentMethod, Side
from .statements import MAX_FILE_BYTES

# Only the integers a database id can be; anything else is left out of the allocations.
MAX_ID = 2**63 - 1


def text_clean(value) -> str:
    """Typed text without NUL characters (no database stores them) and surrounding spaces."""
    return (value or "").replace("\x00", "").strip()


class PaymentForm(forms.Form):
    party = forms.CharField(widget=forms.HiddenInput)
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices, initial=Direction.IN)
    date = forms.CharField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.CharField(label=_("Amount"), widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12}))
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    rate = forms.CharField(
        label=_("Exchange rate"),
        required=False,
        help_text=_("Leave blank for the rate recorded for the date."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
    )
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices, initial=PaymentMethod.TRANSFER)
    bank_account = forms.ChoiceField(label=_("Bank account"), required=False)
    reference = forms.CharField(label=_("Reference"), required=False, max_length=100)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=200)

    def __init__(self, *args, bank_accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank_account"].choices = [("", _("The chart's bank or cash account"))] + [
            (str(b.pk), f"{b.name} ({b.currency})") for b in bank_accounts
        ]

    def clean(self):
        data = super().clean()
        for name in ("amount", "rate", "reference", "notes", "date"):
            if name in data:
                data[name] = text_clean(data[name])
        return data


@dataclass
class AllocationRow:
    """An open invoice on the page: whether it is ticked and the amount typed for it."""

    invoice: object
    checked: bool = False
    amount: str = ""
    error: str = ""


def allocation_rows(invoices, data=None, *, default_all: bool = False) -> list[AllocationRow]:
    """Rows for the open invoices, from the POST (`invoice` ticks, `amount-<id>` amounts) or,
    without data, every invoice at its open amount (ticked when `default_all`)."""
    rows = []
    ticked = set(data.getlist("invoice")) if data is not None else set()
    for invoice in invoices:
        if data is None:
            rows.append(AllocationRow(invoice, checked=default_all, amount=f"{invoice.residual}"))
        else:
            rows.append(
                AllocationRow(
                    invoice,
                    checked=str(invoice.pk) in ticked,
                    amount=text_clean(data.get(f"amount-{invoice.pk}")),
                )
            )
    return rows


def allocations_from(rows: list[AllocationRow]) -> list[tuple[int, str]]:
    """The ticked rows as (invoice id, amount typed) for the services to check."""
    return [(row.invoice.pk, row.amount) for row in rows if row.checked]


def rows_add_service_errors(rows: list[AllocationRow], fields: dict) -> list[str]:
    """Put `allocations.<n>.…` errors on the n-th ticked row; return the other messages."""
    ticked = [row for row in rows if row.checked]
    rest = []
    for key, messages in fields.items():
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == "allocations" and parts[1].isdigit() and int(parts[1]) < len(ticked):
            ticked[int(parts[1])].error = " ".join(str(m) for m in messages)
        elif key.startswith("allocations"):
            rest.extend(str(m) for m in messages)
    return rest


def decimal_or_none(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "."))
    except (InvalidOperation, AttributeError):
        return None
    return value if value.is_finite() else None


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=150, widget=forms.TextInput(attrs={"size": 40}))


class BankAccountForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    iban = forms.CharField(label=_("IBAN"), required=False, max_length=50)
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)


class StatementUploadForm(forms.Form):
    file = forms.FileField(label=_("Statement file"), help_text=_("CAMT.053 (XML), OFX or CSV as the bank exports it."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is too large: at most %(size)s MB.") % {"size": MAX_FILE_BYTES // (1024 * 1024)}
            )
        return upload


class AgingForm(forms.Form):
    as_of = forms.DateField(label=_("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    side = forms.ChoiceField(label=_("Open items"), choices=Side.choices, required=False)


class PartySearchForm(forms.Form):
    q = forms.CharField(label=_("Find the customer or supplier"), required=False, max_length=100)
