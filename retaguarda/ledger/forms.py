"""Forms of the ledger pages: the manual entry (header and a formset of line rows), the
reversal, exchange rates and opening a fiscal year. The services check everything; the forms
only collect what was typed."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from retaguarda.core.choices import Currency

from .services import LineSpec

BLANK_ROWS = 6
MORE_ROWS = 4


class EntryForm(forms.Form):
    journal = forms.ChoiceField(label=_("Journal"))
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)

    def __init__(self, *args, journals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["journal"].choices = [(str(j.pk), str(j)) for j in journals]


class LineForm(forms.Form):
    account = forms.ChoiceField(label=_("Account"), required=False)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    debit = forms.DecimalField(label=_("Debit"), required=False, min_value=0, decimal_places=2, max_digits=14)
    credit = forms.DecimalField(label=_("Credit"), required=False, min_value=0, decimal_places=2, max_digits=14)

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", "—")] + [(str(a.pk), str(a)) for a in accounts]

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not data.get("account") and not data.get("debit") and not data.get("credit")


LineFormSet = forms.formset_factory(LineForm, extra=0)


def line_formset(data=None, *, accounts, initial=None, rows: int = BLANK_ROWS):
    """The entry's rows: `initial` ones (an existing draft's) plus blank rows up to `rows`."""
    initial = list(initial or [])
    initial += [{}] * max(0, rows - len(initial))
    return LineFormSet(data, initial=initial, prefix="line", form_kwargs={"accounts": accounts})


def formset_with_more_rows(data, *, accounts):
    """The posted rows again with MORE_ROWS blank ones added (the "add lines" button)."""
    data = data.copy()
    total = int(data.get("line-TOTAL_FORMS") or 0)
    data["line-TOTAL_FORMS"] = str(min(total + MORE_ROWS, 200))
    return LineFormSet(data, prefix="line", form_kwargs={"accounts": accounts})


def line_specs(formset) -> list[LineSpec]:
    """The non-blank rows as the services' LineSpecs."""
    specs = []
    for form in formset.forms:
        if form.is_blank():
            continue
        data = form.cleaned_data
        specs.append(
            LineSpec(
                account_id=int(data["account"]) if data.get("account") else None,
                debit=data.get("debit") or 0,
                credit=data.get("credit") or 0,
                description=data.get("description") or "",
            )
        )
    return specs


class ReverseForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=150)
    date = forms.DateField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for the original's date, or today if its period is closed."),
    )


class RateForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    date = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    rate = forms.DecimalField(label=_("Rate"), min_value=0, decimal_places=6, max_digits=16)

    def __init__(self, *args, base_currency: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(c, n) for c, n in Currency.choices if c != base_currency]
        self.fields["rate"].help_text = _("Units of %(base)s for one unit of the currency.") % {"base": base_currency}


class FiscalYearOpenForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=1900, max_value=9999)
