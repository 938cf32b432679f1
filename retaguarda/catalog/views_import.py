"""Pages to import products from a CSV or XLSX file and to download them as one."""

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

from .imports import product_columns, product_export, product_import

MAX_UPLOAD_BYTES = 100 << 20


class ProductImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV or XLSX file"))
    update_existing = forms.BooleanField(
        label=gettext_lazy("Update the products whose SKU exists already"),
        required=False,
        help_text=gettext_lazy("Otherwise a SKU that exists already is an error."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is too large: at most %(size)s MB.") % {"size": MAX_UPLOAD_BYTES >> 20}
            )
        return upload


@permission_required("catalog.import")
def product_import_view(request):
    actor = request.actor
    form = ProductImportForm(request.POST, request.FILES) if request.method == "POST" else ProductImportForm()
    result = None
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = product_import(
                    actor=actor,
                    file=upload,
                    name=upload.name,
                    update_existing=form.cleaned_data["update_existing"],
                )
            except Conflict as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                if result.ok:
                    messages.success(
                        request,
                        _("%(created)s products created and %(updated)s updated from %(file)s.")
                        % {"created": result.created, "updated": result.updated, "file": upload.name},
                    )
                    return redirect("catalog:product_import")
    return render(
        request,
        "catalog/import.html",
        {"form": form, "result": result, "columns": [c.name for c in product_columns()]},
        status=status,
    )


@permission_required("catalog.view")
def product_export_view(request):
    format = request.GET.get("format", tabular.CSV)
    if format not in tabular.FORMATS:
        format = tabular.CSV
    actor = request.actor
    stem = f"products-{actor.company.pk}-{timezone.localdate():%Y%m%d}"
    return tabular.download_response(
        lambda stream: product_export(actor=actor, stream=stream, format=format), format, stem
    )
