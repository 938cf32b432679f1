"""Pages to import customers and suppliers from a CSV or XLSX file and to download them as one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retaguarda.common import tabular
from retaguarda.common.errors import Conflict
from retaguarda.core.ui.decorators import permission_required

from .imports import party_columns, party_export, party_import
from .selectors import CUSTOMER, SUPPLIER

MAX_UPLOAD_BYTES = 100 << 20


class PartyImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV or XLSX file"))
    role = forms.ChoiceField(
        label=gettext_lazy("The rows are"),
        choices=[
            (CUSTOMER, gettext_lazy("Customers")),
            (SUPPLIER, gettext_lazy("Suppliers")),
            ("", gettext_lazy("As the is_customer and is_supplier columns say")),
        ],
        required=False,
        initial=CUSTOMER,
    )
    update_existing = forms.BooleanField(
        label=gettext_lazy("Update the customers and suppliers whose tax id exists already"),
        required=False,
        help_text=gettext_lazy("Otherwise a tax id that an active customer or supplier has is an error."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is too large: at most %(size)s MB.") % {"size": MAX_UPLOAD_BYTES >> 20}
            )
        return upload


@permission_required("parties.import")
def party_import_view(request):
    actor = request.actor
    initial = {"role": request.GET.get("role", CUSTOMER)}
    form = (
        PartyImportForm(request.POST, request.FILES) if request.method == "POST" else PartyImportForm(initial=initial)
    )
    result = None
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = party_import(
                    actor=actor,
                    file=upload,
                    name=upload.name,
                    role=form.cleaned_data["role"] or None,
                    update_existing=form.cleaned_data["update_existing"],
                )
            except Conflict as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                if result.ok:
                    messages.success(
                        request,
                        _("%(created)s customers or suppliers created and %(updated)s updated from %(file)s.")
                        % {"created": result.created, "updated": result.updated, "file": upload.name},
                    )
                    return redirect("parties:party_import")
    return render(
        request,
        "parties/import.html",
        {"form": form, "result": result, "columns": [c.name for c in party_columns()]},
        status=status,
    )


@permission_required("parties.view")
def party_export_view(request):
    format = request.GET.get("format", tabular.CSV)
    if format not in tabular.FORMATS:
        format = tabular.CSV
    role = request.GET.get("role") or None
    if role not in (CUSTOMER, SUPPLIER):
        role = None
    actor = request.actor
    label = {CUSTOMER: "customers", SUPPLIER: "suppliers"}.get(role, "parties")
    stem = f"{label}-{actor.company.pk}-{timezone.localdate():%Y%m%d}"
    return tabular.download_response(
        lambda stream: party_export(actor=actor, stream=stream, format=format, role=role), format, stem
    )
