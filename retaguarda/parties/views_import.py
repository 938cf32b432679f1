"""Pages to import customers and suppliers from a CSV or XLSX file and to download them as one."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retaguarda.core.ui.decorators import permission_required
from retaguarda.core.ui.importing import ImportForm, export_response, import_page

from .imports import party_columns, party_export, party_import
from .selectors import CUSTOMER, SUPPLIER


class PartyImportForm(ImportForm):
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


@permission_required("parties.import")
def party_import_view(request):
    return import_page(
        request,
        PartyImportForm,
        run=lambda upload, data: party_import(
            actor=request.actor,
            file=upload,
            name=upload.name,
            role=data["role"] or None,
            update_existing=data["update_existing"],
        ),
        done_message=lambda result, file: (
            _("%(created)s customers or suppliers created and %(updated)s updated from %(file)s.")
            % {"created": result.created, "updated": result.updated, "file": file}
        ),
        done_url="parties:party_import",
        template="parties/import.html",
        export_url="parties:party_export",
        columns=[c.name for c in party_columns()],
        initial={"role": request.GET.get("role", CUSTOMER)},
    )


@permission_required("parties.view")
def party_export_view(request):
    role = request.GET.get("role") or None
    if role not in (CUSTOMER, SUPPLIER):
        role = None
    actor = request.actor
    label = {CUSTOMER: "customers", SUPPLIER: "suppliers"}.get(role, "parties")
    return export_response(
        request, lambda stream, format: party_export(actor=actor, stream=stream, format=format, role=role), label
    )
